"""Two-phase 3D mesh of a small packing (gmsh route; the CLI test runs the default level-set route):
named groups, phase volumes against an independent Monte Carlo estimate, and read-back in dolfinx serially and on 2 ranks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from layerlab.design import ElectrodeDesign
from layerlab.errors import InputError
from layerlab.fe import MPI, dolfinx, fem, ufl
from layerlab.geometry import tags
from layerlab.geometry.mesh3d import Mesh3DOptions, build_mesh3d, sphere_images
from layerlab.geometry.packing3d import Packing3DOptions, pack3d, solid_indicator
from layerlab.geometry.readmesh import read_msh

SEPARATOR_UM = 3.0


def small_packing() -> dict:
    design = ElectrodeDesign("L-Dry-S", 4.0, 0.55, 0.5)
    opt = Packing3DOptions(lateral_um=15.0, separator_um=SEPARATOR_UM)
    return pack3d(design, opt, seed=2, case="mesh-test").to_dict()


def mesh_on_rank0(comm: MPI.Comm, folder) -> tuple[dict, dict, str]:
    """Packing and mesh built on rank 0 (as the CLI does), summary broadcast."""
    path = str(folder / "mesh3d.msh")
    p = s = None
    if comm.rank == 0:
        p = small_packing()
        s = build_mesh3d(p, Mesh3DOptions(route="gmsh", h_um=1.5, h_min_um=0.3), path)
    p, s = comm.bcast((p, s), root=0)
    return p, s, path


def phase_volumes(data) -> dict[str, float]:
    msh = data.mesh
    dx = ufl.Measure("dx", domain=msh, subdomain_data=data.cell_tags)
    one = fem.Constant(msh, 1.0)
    return {name: msh.comm.allreduce(fem.assemble_scalar(fem.form(one * dx(tag))), op=MPI.SUM)
            for name, tag in (("electrolyte", tags.ELECTROLYTE), ("particles", tags.PARTICLES),
                              ("separator", tags.SEPARATOR))}


def global_cells(data) -> int:
    imap = data.mesh.topology.index_map(3)
    return imap.size_global


@pytest.fixture(scope="module")
def serial_mesh(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("mesh3d")
    return mesh_on_rank0(MPI.COMM_SELF, folder)


def test_groups_volumes_and_interface(serial_mesh) -> None:
    p, s, path = serial_mesh
    data = read_msh(path, 3, required=tags.NAMES_3D, comm=MPI.COMM_SELF)
    Lx, Ly, H = p["box_m"]
    sep = SEPARATOR_UM * 1e-6
    vols = phase_volumes(data)
    # the mesh tiles the domain exactly
    assert sum(vols.values()) == pytest.approx(Lx * Ly * (H + sep), rel=1e-9)
    assert vols["separator"] == pytest.approx(Lx * Ly * sep, rel=1e-9)
    # the phases agree with an independent Monte Carlo estimate of the sphere union (periodic images)
    rng = np.random.default_rng(0)
    n = 400_000
    frac = solid_indicator(p, rng.random((n, 3)) * [Lx, Ly, H]).mean()
    err = 3 * np.sqrt(frac * (1 - frac) / n)
    assert s["volume_particles_m3"] == pytest.approx(frac * Lx * Ly * H, abs=err * Lx * Ly * H)
    assert vols["particles"] == pytest.approx(frac * Lx * Ly * H, rel=0.05)   # straight-sided tets
    assert vols["electrolyte"] == pytest.approx((1 - frac) * Lx * Ly * H, rel=0.05)
    assert global_cells(data) == s["n_tets_electrolyte"] + s["n_tets_particles"] + s["n_tets_separator"]
    # the interface is interior and its area is that of the union's surface inside the box
    msh, ft = data.mesh, data.facet_tags
    msh.topology.create_connectivity(2, 3)
    f2c = msh.topology.connectivity(2, 3)
    iface = ft.find(tags.INTERFACE)
    assert len(iface) > 0 and all(len(f2c.links(f)) == 2 for f in iface)
    phase = data.cell_tags.values[np.argsort(data.cell_tags.indices)]
    for f in iface[:200]:
        assert sorted(phase[f2c.links(f)]) in ([tags.ELECTROLYTE, tags.PARTICLES], [tags.PARTICLES, tags.SEPARATOR])
    cc = ft.find(tags.CURRENT_COLLECTOR)
    x = msh.geometry.x
    f2v = dolfinx.mesh.entities_to_geometry(msh, 2, cc)
    assert np.allclose(x[f2v][..., 2], 0.0)
    # isolated pieces are reported as listed volumes (box-cut sphere images may be isolated)
    assert s["isolated_particle_volume_m3"] <= s["volume_particles_m3"]
    assert s["n_spheres_with_images"] >= len(p["sphere_radius_m"])


def test_sphere_images_cover_the_cut_faces() -> None:
    p = {"box_m": [10e-6, 10e-6, 10e-6], "periodic": True, "sphere_x_m": [0.5e-6], "sphere_y_m": [9.8e-6],
         "sphere_z_m": [5e-6], "sphere_radius_m": [1e-6]}
    c, r = sphere_images(p)
    assert len(r) == 4          # itself, x + L, y - L, and the corner image
    assert sphere_images({**p, "periodic": False})[1].size == 1


def test_bad_mesh_options_name_the_field() -> None:
    with pytest.raises(InputError) as err:
        Mesh3DOptions.from_config({"geometry": {"mesh3d": {"h_um": -1}}})
    assert err.value.field == "geometry.mesh3d.h_um"
    with pytest.raises(InputError) as err:
        Mesh3DOptions.from_config({"geometry": {"mesh3d": {"refine": 2}}})
    assert err.value.field == "geometry.mesh3d.refine"
    with pytest.raises(InputError) as err:
        Mesh3DOptions.from_config({"geometry": {"mesh3d": {"route": "voxel"}}})
    assert err.value.field == "geometry.mesh3d.route"
    with pytest.raises(InputError) as err:
        Mesh3DOptions.from_config({"geometry": {"mesh3d": {"element_order": 2}}})   # levelset: straight only
    assert err.value.field == "geometry.mesh3d.element_order"
    with pytest.raises(InputError) as err:
        Mesh3DOptions.from_config({"geometry": {"mesh3d": {"volume_correction": "offset"}}})
    assert err.value.field == "geometry.mesh3d.volume_correction"
    assert Mesh3DOptions.from_config({"geometry": {"mesh3d": {"volume_correction": "isovalue"}}}).volume_correction \
        == "isovalue"


@pytest.mark.mpi
def test_mesh_reads_back_on_all_ranks(mpi_tmp_path) -> None:
    comm = MPI.COMM_WORLD
    p, s, path = mesh_on_rank0(comm, mpi_tmp_path)
    comm.Barrier()
    data = read_msh(path, 3, required=tags.NAMES_3D, comm=comm)
    assert global_cells(data) == s["n_tets_electrolyte"] + s["n_tets_particles"] + s["n_tets_separator"]
    vols = phase_volumes(data)
    for name in ("electrolyte", "particles", "separator"):
        assert vols[name] == pytest.approx(s[f"mesh_volume_{name}_m3"], rel=1e-9)
    json.dumps(s)  # the summary is JSON-serialisable


def test_cli_pack3d_then_mesh3d_write_atomically(tmp_path, repo_root) -> None:
    from layerlab.cli import main
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"materials: {repo_root / 'config/parameters/materials.yaml'}\n"
                   "sweeps: {s: {architecture: [Mix], loading_mg_cm2: [3], porosity: [0.5], ls_ratio: [0.5]}}\n"
                   "geometry: {packing3d: {lateral_um: 12}, mesh3d: {h_um: 1.5, h_min_um: 0.3}}\n")
    case = "Mix_load3_por0.5_ls0.5_seed0"
    folder = tmp_path / "geometry" / case
    assert main(["pack3d", "--config", str(cfg), "--case", case, "--out", str(folder / "packing3d.json")]) == 0
    assert main(["mesh3d", "--config", str(cfg), "--packing", str(folder / "packing3d.json"),
                 "--out", str(folder / "mesh3d.msh")]) == 0
    assert sorted(f.name for f in folder.iterdir()) == ["mesh3d.json", "mesh3d.msh", "packing3d.json"]
    summary = json.loads((folder / "mesh3d.json").read_text())
    assert summary["case"] == case and summary["n_tets_particles"] > 0
    # no separator: the separator groups are absent, every other group is there
    required = {k: v for k, v in tags.NAMES_3D.items() if k not in ("separator", "electrode_separator")}
    data = read_msh(folder / "mesh3d.msh", 3, required=required, comm=MPI.COMM_SELF)
    assert global_cells(data) == summary["n_tets_electrolyte"] + summary["n_tets_particles"]


def test_two_overlapping_spheres_match_the_analytic_union(tmp_path) -> None:
    """Union of two equal spheres at distance d: V = 2 (4/3 pi r^3) - pi (4r + d)(2r - d)^2 / 12 and
    area 2 (4 pi r^2 - 2 pi r h) with cap height h = r - d / 2; the mesh converges to V."""
    r, d = 2e-6, 3e-6
    p = {"box_m": [10e-6, 10e-6, 10e-6], "periodic": False, "separator_thickness_m": 0.0,
         "sphere_x_m": [3.5e-6, 6.5e-6], "sphere_y_m": [5e-6, 5e-6], "sphere_z_m": [5e-6, 5e-6],
         "sphere_radius_m": [r, r]}
    s = build_mesh3d(p, Mesh3DOptions(route="gmsh", h_um=1.0, h_min_um=0.2), tmp_path / "two.msh")
    volume = 2 * 4 / 3 * np.pi * r ** 3 - np.pi * (4 * r + d) * (2 * r - d) ** 2 / 12
    area = 2 * (4 * np.pi * r ** 2 - 2 * np.pi * r * (r - d / 2))
    assert s["volume_particles_m3"] == pytest.approx(volume, rel=1e-6)
    assert s["interface_area_m2"] == pytest.approx(area, rel=1e-6)
    assert s["volume_electrolyte_m3"] == pytest.approx(1e-15 - volume, rel=1e-6)
    assert s["mesh_volume_particles_m3"] == pytest.approx(volume, rel=0.03)
    fine = build_mesh3d(p, Mesh3DOptions(route="gmsh", h_um=0.5, h_min_um=0.1))
    assert abs(fine["mesh_volume_particles_m3"] - volume) < 0.5 * abs(s["mesh_volume_particles_m3"] - volume)
    # floating in the box: one particle volume, with no path to z = 0
    assert s["n_volumes_particles"] == 1 and len(s["isolated_particle_volumes"]) == 1
    data = read_msh(tmp_path / "two.msh", 3, comm=MPI.COMM_SELF)
    vols = phase_volumes(data)
    assert vols["particles"] == pytest.approx(s["mesh_volume_particles_m3"], rel=1e-9)
