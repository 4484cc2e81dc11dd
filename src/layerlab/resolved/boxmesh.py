"""Small two-phase gmsh meshes with the 3D tag convention of :mod:`layerlab.geometry.tags`.

Used by the tests and the benchmark of the resolved model (the campaign reads the geometry
stage's ``mesh3d.msh`` instead): a box ``[0, W] x [0, W] x [0, H]`` of electrode with spherical
particles (cut by the box, so a particle centred below ``z = r`` touches the current collector
through a disk), or a solid slab below an electrolyte slab, optionally with a separator slab on
top.  The geometry is built in micrometres (OpenCASCADE's tolerances are absolute) and the mesh
is scaled to metres; it is built on rank 0 and distributed with shared-facet ghosts.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from layerlab.fe import MPI, dolfinx
from layerlab.geometry import tags as T

UM = 1e-6


def _gmsh_start():
    import gmsh
    if not gmsh.isInitialized():
        gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.clear()
    gmsh.model.add("resolved")
    return gmsh


def _tag_and_mesh(gmsh, solid: list[int], liquid: list[int], sep: list[int], width: float,
                  top: float, h: float) -> None:
    """Physical groups (cells and facets, tags of :mod:`layerlab.geometry.tags`) and a 3D mesh (um)."""
    gm = gmsh.model
    for vols, tag, name in ((solid, T.PARTICLES, "particles"), (liquid, T.ELECTROLYTE, "electrolyte"),
                            (sep, T.SEPARATOR, "separator")):
        if vols:
            gm.addPhysicalGroup(3, vols, tag, name=name)

    def faces(vols: list[int]) -> set[int]:
        if not vols:
            return set()
        return {abs(t) for _, t in gm.getBoundary([(3, v) for v in vols], oriented=False, combined=False)}

    fs, fl, fsep = faces(solid), faces(liquid), faces(sep)
    tol = 1e-3 * h
    groups: dict[int, list[int]] = {T.CURRENT_COLLECTOR: [], T.TOP: [], T.SIDES: [],
                                    T.ELECTRODE_SEPARATOR: [], T.INTERFACE: []}
    for _, s in gm.getEntities(2):
        x0, y0, z0, x1, y1, z1 = gm.getBoundingBox(2, s)
        if z1 < tol:
            groups[T.CURRENT_COLLECTOR].append(s)
        elif z0 > top - tol:
            groups[T.TOP].append(s)
        elif (x1 - x0 < tol or y1 - y0 < tol) and (min(x1, y1) < tol or max(x0, y0) > width - tol):
            groups[T.SIDES].append(s)
        elif s in fs and s in fl:
            groups[T.INTERFACE].append(s)
        elif s in fsep and (s in fl or s in fs):
            groups[T.ELECTRODE_SEPARATOR].append(s)
    names = {v: k for k, (_, v) in T.NAMES_3D.items()}
    for tag, ents in groups.items():
        if ents:
            gm.addPhysicalGroup(2, ents, tag, name=names[tag])
    gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
    gmsh.option.setNumber("Mesh.CharacteristicLengthMin", 0.3 * h)
    gm.mesh.generate(3)


def _finish(gmsh, comm: MPI.Comm, msh_path: str | None, gdim: int = 3) -> "dolfinx.io.gmsh.MeshData":
    if comm.rank == 0 and msh_path:
        gmsh.option.setNumber("Mesh.ScalingFactor", UM)
        gmsh.write(msh_path)
        gmsh.option.setNumber("Mesh.ScalingFactor", 1.0)
    partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)
    data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=gdim, partitioner=partitioner)
    data.mesh.geometry.x[:] *= UM
    gmsh.clear()
    return data


def sphere_box_mesh(width_m: float, height_m: float, spheres: Sequence[tuple[float, float, float, float]],
                    separator_m: float = 0.0, h_m: float | None = None,
                    comm: MPI.Comm = MPI.COMM_WORLD, msh_path: str | None = None
                    ) -> "dolfinx.io.gmsh.MeshData":
    """Electrode box with spheres ``(x, y, z, r)`` (m) cut by the box, and a separator slab.

    ``msh_path``: also write the gmsh file there (rank 0, coordinates in metres).
    """
    gmsh = _gmsh_start()
    W, H, S = width_m / UM, height_m / UM, separator_m / UM
    h = (h_m or height_m / 6) / UM
    if comm.rank == 0:
        occ = gmsh.model.occ
        box = occ.addBox(0, 0, 0, W, W, H)
        tools = []
        if spheres:
            balls = [(3, occ.addSphere(x / UM, y / UM, z / UM, r / UM)) for x, y, z, r in spheres]
            tools, _ = occ.intersect(balls, [(3, occ.addBox(0, 0, 0, W, W, H))])
        if S > 0:
            tools.append((3, occ.addBox(0, 0, H, W, W, S)))
        _, pieces = occ.fragment([(3, box)], tools)
        occ.synchronize()
        solid_pieces = {t for p in pieces[1:1 + len(tools) - (S > 0)] for _, t in p}
        solid, liquid, sep = [], [], []
        for _, v in gmsh.model.getEntities(3):
            if occ.getCenterOfMass(3, v)[2] > H:
                sep.append(v)
            else:
                (solid if v in solid_pieces else liquid).append(v)
        _tag_and_mesh(gmsh, solid, liquid, sep, W, H + S, h)
    return _finish(gmsh, comm, msh_path)


def slab_mesh(width_m: float, solid_m: float, liquid_m: float, separator_m: float = 0.0,
              h_m: float | None = None, comm: MPI.Comm = MPI.COMM_WORLD) -> "dolfinx.io.gmsh.MeshData":
    """A solid slab ``0 < z < solid_m`` under an electrolyte slab (and a separator slab).

    The interface is the plane ``z = solid_m``: the resolved model then has a 1D solution.
    """
    gmsh = _gmsh_start()
    W, a, b, S = width_m / UM, solid_m / UM, liquid_m / UM, separator_m / UM
    h = (h_m or (solid_m + liquid_m) / 6) / UM
    if comm.rank == 0:
        occ = gmsh.model.occ
        s = occ.addBox(0, 0, 0, W, W, a)
        tools = [(3, occ.addBox(0, 0, a, W, W, b))]
        if S > 0:
            tools.append((3, occ.addBox(0, 0, a + b, W, W, S)))
        occ.fragment([(3, s)], tools)
        occ.synchronize()
        solid, liquid, sep = [], [], []
        for _, v in gmsh.model.getEntities(3):
            cz = occ.getCenterOfMass(3, v)[2]
            (solid if cz < a else liquid if cz < a + b else sep).append(v)
        _tag_and_mesh(gmsh, solid, liquid, sep, W, a + b + S, h)
    return _finish(gmsh, comm, None)


def column_spheres(width_m: float, height_m: float, radius_m: float, overlap: float = 0.25,
                   seed: int = 0) -> list[tuple[float, float, float, float]]:
    """Columns of overlapping spheres standing on the current collector (a connected solid).

    Each column starts with a sphere cut by the current collector and stacks spheres with a
    centre spacing ``2 r (1 - overlap)`` (jittered sideways), so that every sphere reaches the
    current collector through the solid.  Used to build benchmark meshes of a given size.
    """
    rng = np.random.default_rng(seed)
    step = 2 * radius_m * (1 - overlap)
    n_side = max(1, int(width_m / (2.2 * radius_m)))
    pitch = width_m / n_side
    out = []
    for i in range(n_side):
        for k in range(n_side):
            z = 0.7 * radius_m
            while z < height_m - 1.05 * radius_m:
                x = (i + 0.5 + rng.uniform(-0.05, 0.05)) * pitch
                y = (k + 0.5 + rng.uniform(-0.05, 0.05)) * pitch
                out.append((x, y, z, radius_m))
                z += step
    return out
