"""Effective transport (tortuosity) through resolved 3D microstructures.

Modules: :mod:`packing` (read ``packing3d.json``), :mod:`voxel` (phase grid and hexahedral box mesh),
:mod:`effective` (steady diffusion through one phase on a submesh, clusters, tortuosity, MacMullin),
:mod:`tetmesh` (the gmsh two-phase mesh route), :mod:`study` (layers x phases x directions, netCDF dataset),
:mod:`synthetic` (Boolean-model sphere packings for tests and benchmarks), :mod:`commands` (CLI).
"""
