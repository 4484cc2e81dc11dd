"""Small tagged 2D meshes for verification (coordinates in micrometres, tags of
:mod:`layerlab.geometry.tags`), so the solver only sees the geometry stage's tag convention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from layerlab.fe import MPI, dolfinx, mesh as dmesh
from layerlab.geometry import tags

if TYPE_CHECKING:
    from layerlab.wetting.metrics import Probe
    from layerlab.wetting.params import WettingParams
    from layerlab.wetting.solver import WettingSolver


def rectangle(width: float, height: float, nx: int, ny: int, bottom_tag: int = tags.OUTLET,
              top_tag: int = tags.INLET, left_tag: int = tags.SIDE_LEFT, right_tag: int = tags.SIDE_RIGHT,
              comm: MPI.Comm = MPI.COMM_WORLD, diagonal: str = "crossed") -> tuple[dmesh.Mesh, dmesh.MeshTags]:
    """A ``width x height`` rectangle of triangles with its four edges tagged."""
    diag = {"crossed": dmesh.DiagonalType.crossed, "right": dmesh.DiagonalType.right}[diagonal]
    msh = dmesh.create_rectangle(comm, [np.array([0.0, 0.0]), np.array([width, height])], [nx, ny],
                                 dmesh.CellType.triangle, ghost_mode=dmesh.GhostMode.shared_facet,
                                 diagonal=diag)
    fdim = msh.topology.dim - 1
    markers = [(bottom_tag, lambda x: np.isclose(x[1], 0.0)), (top_tag, lambda x: np.isclose(x[1], height)),
               (left_tag, lambda x: np.isclose(x[0], 0.0)), (right_tag, lambda x: np.isclose(x[0], width))]
    idx, val = [], []
    for tag, marker in markers:   # corners: the later marker (sides) wins
        f = dmesh.locate_entities_boundary(msh, fdim, marker)
        idx.append(f)
        val.append(np.full(f.size, tag, dtype=np.int32))
    all_idx = np.concatenate(idx)
    all_val = np.concatenate(val)
    uniq, first = np.unique(all_idx[::-1], return_index=True)
    vals = all_val[::-1][first]
    return msh, dmesh.meshtags(msh, fdim, uniq.astype(np.int32), vals)


def cylinder_array(width: float, height: float, y_bottom: float, y_top: float, radius: float,
                   n_cols: int, n_rows: int, h: float,
                   comm: MPI.Comm = MPI.COMM_WORLD) -> tuple[dmesh.Mesh, dmesh.MeshTags, float]:
    """A channel with a regular ``n_cols x n_rows`` array of disks between ``y_bottom`` and ``y_top``.

    Disks sit at cell centres of the array so that they never touch the sides.  Returns the mesh,
    its facet tags (``INLET`` top, ``OUTLET`` bottom, sides, ``PARTICLE_WALL``) and the porosity of
    the array region.
    """
    import gmsh
    rank0 = comm.rank == 0
    if rank0:
        _cylinder_model(width, height, y_bottom, y_top, radius, n_cols, n_rows, h)
    partitioner = dmesh.create_cell_partitioner(dmesh.GhostMode.shared_facet, 2)
    data = dolfinx.io.gmsh.model_to_mesh(gmsh.model if rank0 else None, comm, 0, gdim=2,
                                         partitioner=partitioner)
    if rank0:
        gmsh.finalize()
    return data.mesh, data.facet_tags, _porosity(width, y_bottom, y_top, radius, n_cols, n_rows)


def _porosity(width: float, y_bottom: float, y_top: float, radius: float, n_cols: int, n_rows: int) -> float:
    return float(1.0 - n_cols * n_rows * np.pi * radius**2 / (width * (y_top - y_bottom)))


def write_cylinder_case(folder: str | Path, width_m: float, height_m: float, y_bottom_m: float,
                        y_top_m: float, radius_m: float, n_cols: int, n_rows: int, h_m: float,
                        comm: MPI.Comm = MPI.COMM_WORLD) -> tuple[Path, Path]:
    """Write ``mesh2d.msh`` (metres), ``mesh2d.json`` and ``packing2d.json`` of a cylinder array in
    ``folder`` as the geometry stage would; returns (mesh path, packing path)."""
    import gmsh
    folder = Path(folder)
    mesh_path, packing_path = folder / tags.MESH2D_FILE, folder / tags.PACKING2D_FILE
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        _cylinder_model(width_m, height_m, y_bottom_m, y_top_m, radius_m, n_cols, n_rows, h_m)
        gmsh.write(str(mesh_path))
        gmsh.finalize()
        dx, dy = width_m / n_cols, (y_top_m - y_bottom_m) / n_rows
        throat = min(dx, dy) - 2 * radius_m
        (folder / "mesh2d.json").write_text(json.dumps({"min_throat_m": throat, "h_max_m": h_m}))
        xs = [(i + 0.5) * dx for i in range(n_cols) for j in range(n_rows)]
        ys = [y_bottom_m + (j + 0.5) * dy for i in range(n_cols) for j in range(n_rows)]
        packing_path.write_text(json.dumps({
            "width_m": width_m, "domain_height_m": height_m, "electrode_y_range_m": [y_bottom_m, y_top_m],
            "disk_x_m": xs, "disk_y_m": ys, "disk_radius_m": [radius_m] * len(xs)}))
    comm.Barrier()
    return mesh_path, packing_path


def _cylinder_model(width: float, height: float, y_bottom: float, y_top: float, radius: float,
                    n_cols: int, n_rows: int, h: float) -> None:
    """Build the tagged gmsh model of :func:`cylinder_array` (gmsh left initialised)."""
    import gmsh
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("cylinders")
    occ = gmsh.model.occ
    box = occ.addRectangle(0, 0, 0, width, height)
    dx, dy = width / n_cols, (y_top - y_bottom) / n_rows
    disks = [(2, occ.addDisk((i + 0.5) * dx, y_bottom + (j + 0.5) * dy, 0, radius, radius))
             for i in range(n_cols) for j in range(n_rows)]
    occ.cut([(2, box)], disks)
    occ.synchronize()
    surf = [s[1] for s in gmsh.model.getEntities(2)]
    gmsh.model.addPhysicalGroup(2, surf, tags.PORE, name="pore")
    groups: dict[int, list[int]] = {t: [] for t in (tags.INLET, tags.OUTLET, tags.SIDE_LEFT,
                                                   tags.SIDE_RIGHT, tags.PARTICLE_WALL)}
    tol = 1e-3 * h
    for _, c in gmsh.model.getEntities(1):
        cx, cy, _ = gmsh.model.occ.getCenterOfMass(1, c)   # straight edges: their midpoints
        if abs(cy - height) < tol:
            groups[tags.INLET].append(c)
        elif abs(cy) < tol:
            groups[tags.OUTLET].append(c)
        elif abs(cx) < tol:
            groups[tags.SIDE_LEFT].append(c)
        elif abs(cx - width) < tol:
            groups[tags.SIDE_RIGHT].append(c)
        else:
            groups[tags.PARTICLE_WALL].append(c)
    names = {v[1]: k for k, v in tags.NAMES_2D.items()}
    for t, cs in groups.items():
        gmsh.model.addPhysicalGroup(1, cs, t, name=names[t])
    gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
    gmsh.option.setNumber("Mesh.CharacteristicLengthMin", h)
    gmsh.model.mesh.generate(2)


def channel_problem(comm: MPI.Comm, params: "WettingParams", width: float = 5.0, length: float = 20.0,
                    nx: int = 6, front_y: float = 16.0) -> tuple["WettingSolver", "Probe"]:
    """A straight channel with wetting no-slip walls, air below ``front_y`` and electrolyte above,
    with a probe whose 'electrode' is the lower half; for restart and MPI tests."""
    from layerlab.wetting.metrics import ElectrodeBand, Probe
    from layerlab.wetting.solver import Boundaries, WettingSolver
    msh, ft = rectangle(width, length, nx, int(round(nx * length / width)), left_tag=tags.PARTICLE_WALL,
                        right_tag=tags.PARTICLE_WALL, comm=comm)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), walls=(tags.PARTICLE_WALL,))
    w = np.sqrt(2.0) * params.eps_hat
    solver = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - front_y) / w))
    probe = Probe(solver.field("phi", "old"), solver.ds, (tags.OUTLET,), ElectrodeBand(2.0, length / 2), n_bins=5)
    return solver, probe
