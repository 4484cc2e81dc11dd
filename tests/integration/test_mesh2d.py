"""2D pore-space meshes: named groups, read-back in dolfinx (1 and 2 ranks), area, throat resolution."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from layerlab.design import ElectrodeDesign
from layerlab.geometry import tags
from layerlab.geometry.packing2d import Packing2DOptions, pack2d
from layerlab.io import write_json_atomic

REPO = Path(__file__).resolve().parents[2]
DESIGN = ("L-S", 8.0, 0.55, 0.5)        # small, with an intermixed band
SEED = 1
# inscribed polygons lose at most this share of each disk's area (24 segments per circle
# requested; 20 allowed for rounding of the segment count): 1 - sin(t)/t with t = 2 pi / 20
POLYGON_LOSS = 1.0 - math.sin(2 * math.pi / 20) / (2 * math.pi / 20)


def _make(folder: Path) -> tuple[dict, dict, Path]:
    from layerlab.geometry.mesh2d import Mesh2DOptions, write_mesh2d
    packing = pack2d(ElectrodeDesign(*DESIGN), Packing2DOptions(), SEED, case="test")
    write_json_atomic(folder / "packing2d.json", packing)
    info = write_mesh2d(folder / "packing2d.json", folder / "mesh2d.msh", Mesh2DOptions())
    return packing, info, folder / "mesh2d.msh"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    return _make(tmp_path_factory.mktemp("mesh2d"))


def _pore_area_bounds(packing: dict) -> tuple[float, float]:
    r = np.asarray(packing["disk_radius_m"])
    exact = packing["width_m"] * packing["domain_height_m"] - float(np.sum(math.pi * r ** 2))
    return exact, exact + POLYGON_LOSS * float(np.sum(math.pi * r ** 2))


def test_groups_and_json(built: tuple[dict, dict, Path]) -> None:
    import gmsh
    packing, info, msh = built
    assert json.loads(msh.with_suffix(".json").read_text())["n_triangles"] == info["n_triangles"]
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.open(str(msh))
        groups = {gmsh.model.getPhysicalName(d, t): (d, t) for d, t in gmsh.model.getPhysicalGroups()}
        n_particle_curves = len(gmsh.model.getEntitiesForPhysicalGroup(1, tags.PARTICLE_WALL))
        n_tri = len(gmsh.model.mesh.getElementsByType(2)[0])
    finally:
        gmsh.finalize()
    assert groups == tags.NAMES_2D
    assert n_particle_curves == len(packing["disk_x_m"])        # one circle per disk, none cut
    assert n_tri == info["n_triangles"]
    gaps = np.asarray(packing["disk_x_m"]) - np.asarray(packing["disk_radius_m"])
    assert info["min_throat_m"] <= gaps.min() + 1e-15
    assert info["min_throat_m"] >= packing["min_gap_m"] * (1 - 1e-9)


def test_reads_back_serial_with_exact_boundary_lengths(built: tuple[dict, dict, Path]) -> None:
    from layerlab.fe import MPI, fem, ufl
    from layerlab.geometry.readmesh import read_msh
    packing, info, msh = built
    data = read_msh(msh, 2, required=tags.NAMES_2D, comm=MPI.COMM_SELF)
    m = data.mesh
    assert m.topology.index_map(2).size_global == info["n_triangles"]
    one = fem.Constant(m, 1.0)
    ds = ufl.Measure("ds", domain=m, subdomain_data=data.facet_tags)

    def integral(form: ufl.Form) -> float:
        return fem.assemble_scalar(fem.form(form))

    W, H = packing["width_m"], packing["domain_height_m"]
    assert integral(one * ds(tags.INLET)) == pytest.approx(W, rel=1e-12)
    assert integral(one * ds(tags.OUTLET)) == pytest.approx(W, rel=1e-12)
    assert integral(one * ds(tags.SIDE_LEFT)) == pytest.approx(H, rel=1e-12)
    assert integral(one * ds(tags.SIDE_RIGHT)) == pytest.approx(H, rel=1e-12)
    perimeter = 2 * math.pi * float(np.sum(packing["disk_radius_m"]))
    assert perimeter * (1 - POLYGON_LOSS) <= integral(one * ds(tags.PARTICLE_WALL)) <= perimeter
    lo, hi = _pore_area_bounds(packing)
    area = integral(one * ufl.dx(domain=m))
    assert lo <= area <= hi


def test_every_throat_resolved(built: tuple[dict, dict, Path]) -> None:
    """Across each gap narrower than n * h_max (disk-disk, disk-side wall), the triangles the
    gap's centre line crosses are no larger than width / (n - 1)."""
    import gmsh
    from matplotlib.tri import Triangulation
    packing, info, msh = built
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.open(str(msh))
        node_tags, xyz, _ = gmsh.model.mesh.getNodes()
        tri_nodes = gmsh.model.mesh.getElementsByType(2)[1]
    finally:
        gmsh.finalize()
    order = np.empty(int(node_tags.max()) + 1, dtype=int)
    order[node_tags.astype(int)] = np.arange(len(node_tags))
    pts = xyz.reshape(-1, 3)[:, :2] * 1e6        # um: matplotlib's trifinder dislikes tiny coordinates
    tri = order[tri_nodes.astype(int)].reshape(-1, 3)
    edges = np.linalg.norm(pts[tri] - pts[np.roll(tri, 1, axis=1)], axis=2).max(axis=1)  # longest edge
    finder = Triangulation(pts[:, 0], pts[:, 1], tri).get_trifinder()

    n = info["cells_across_throat"]
    cutoff = n * info["h_max_m"] * 1e6
    x, y, r = (np.asarray(packing[k]) * 1e6 for k in ("disk_x_m", "disk_y_m", "disk_radius_m"))
    W = packing["width_m"] * 1e6
    throats = []  # (width, start point, end point)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = np.array([x[j] - x[i], y[j] - y[i]])
            w = np.linalg.norm(d) - r[i] - r[j]
            if w < cutoff:
                u = d / np.linalg.norm(d)
                throats.append((w, np.array([x[i], y[i]]) + r[i] * u, np.array([x[j], y[j]]) - r[j] * u))
        if x[i] - r[i] < cutoff:
            throats.append((x[i] - r[i], np.array([0.0, y[i]]), np.array([x[i] - r[i], y[i]])))
        if W - x[i] - r[i] < cutoff:
            throats.append((W - x[i] - r[i], np.array([x[i] + r[i], y[i]]), np.array([W, y[i]])))
    assert len(throats) > 10
    ratios = []
    for w, p0, p1 in throats:
        # a gap whose centre line crosses a third disk is no throat
        t = np.clip(((np.column_stack([x, y]) - p0) @ (p1 - p0)) / max((p1 - p0) @ (p1 - p0), 1e-30), 0, 1)
        closest = p0 + t[:, None] * (p1 - p0)
        if np.any(np.hypot(x - closest[:, 0], y - closest[:, 1]) < r * (1 - 1e-9)):
            continue
        s = np.linspace(0.1, 0.9, 9)[:, None]
        cells = finder(*(p0 + s * (p1 - p0)).T)
        cells = cells[cells >= 0]
        assert len(cells) > 0, (w, p0, p1)
        ratios.append(w / edges[cells].max())
    assert len(ratios) > 10
    assert min(ratios) >= n - 1, f"worst throat has {min(ratios):.2f} cells across"


def test_mesh_is_reproducible(built: tuple[dict, dict, Path], tmp_path: Path) -> None:
    _, _, msh = built
    _, _, again = _make(tmp_path)
    assert again.read_bytes() == msh.read_bytes()


@pytest.mark.mpi
def test_reads_back_on_all_ranks(mpi_tmp_path: Path) -> None:
    """Built on rank 0, read on every rank: global cell count and pore area match serial values."""
    from layerlab.fe import MPI, fem, ufl
    from layerlab.geometry.readmesh import read_msh
    comm = MPI.COMM_WORLD
    result = None
    if comm.rank == 0:
        try:
            result = _make(mpi_tmp_path)[:2]
        except Exception as err:  # keep the other ranks from waiting forever
            result = err
    result = comm.bcast(result, root=0)
    if isinstance(result, Exception):
        raise result
    packing, info = result
    data = read_msh(mpi_tmp_path / "mesh2d.msh", 2, required=tags.NAMES_2D)
    m = data.mesh
    assert m.topology.index_map(2).size_global == info["n_triangles"]
    local = fem.assemble_scalar(fem.form(fem.Constant(m, 1.0) * ufl.dx(domain=m)))
    area = comm.allreduce(local, op=MPI.SUM)
    lo, hi = _pore_area_bounds(packing)
    assert lo <= area <= hi
    ds = ufl.Measure("ds", domain=m, subdomain_data=data.facet_tags)
    inlet = comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(m, 1.0) * ds(tags.INLET))), op=MPI.SUM)
    assert inlet == pytest.approx(packing["width_m"], rel=1e-12)


def _cli(tmp_path: Path, mesh2d: dict) -> tuple[subprocess.CompletedProcess, Path]:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["geometry"]["mesh2d"] = mesh2d
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    packing = pack2d(ElectrodeDesign(*DESIGN), Packing2DOptions(), SEED, case="test")
    write_json_atomic(tmp_path / "packing2d.json", packing)
    out = tmp_path / "out" / "mesh2d.msh"
    proc = subprocess.run([sys.executable, "-m", "layerlab", "mesh2d", "--config", str(cfg_file), "--packing",
                           str(tmp_path / "packing2d.json"), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    return proc, out


@pytest.mark.parametrize("mesh2d, field", [
    ({"h_min_um": 0.5}, "geometry.mesh2d.h_min_um"),      # cannot put 4 cells across a 0.5 um throat
    ({"cells_across": 4}, "geometry.mesh2d.cells_across"),
    ({"h_max_um": -1.0}, "geometry.mesh2d.h_max_um"),
])
def test_cli_input_error_writes_nothing(tmp_path: Path, mesh2d: dict, field: str) -> None:
    proc, out = _cli(tmp_path, mesh2d)
    assert proc.returncode == 2, proc.stderr
    assert f"error: {field}" in proc.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())
