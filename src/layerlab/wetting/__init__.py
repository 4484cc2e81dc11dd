"""Electrolyte wetting: coupled Cahn-Hilliard / Stokes two-phase flow through 2D pore meshes.

Modules: :mod:`params` (physical and numerical parameters, nondimensionalisation), :mod:`model`
(the coupled linear forms), :mod:`assembly` (incremental matrix updates), :mod:`solver` (steps, LU reuse, adaptive steps, retries, checkpoints),
:mod:`run` (time loop: records, snapshots, checkpoints, steady stop, progress log), :mod:`metrics`
(integrals and run metrics), :mod:`airmap` (the final phase state as a raster), :mod:`output`
(netCDF layout), :mod:`case` (one geometry case from
the geometry stage's files to outputs), :mod:`testgeom` (small tagged meshes for verification and
benchmarks) and :mod:`commands` (``python -m layerlab wet``).
"""
