"""Geometry stage: 2D disk and 3D sphere packings of an electrode design, meshed with gmsh.

Builders are pure functions; files are written under ``results/geometry/<case>/``.
Integer tags of the meshes are in :mod:`layerlab.geometry.tags`.
"""
