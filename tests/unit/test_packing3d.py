"""3D overlapping-sphere packings: per-layer solid fraction (independent voxel count), overlap limit,
composition, connectivity, reproducibility and input errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from layerlab.design import ElectrodeDesign
from layerlab.errors import InputError
from layerlab.geometry.packing3d import (Packing3DOptions, pack3d, solid_indicator, write_packing3d)

VOXEL_M = 0.2e-6


def voxel_solid_fraction(p: dict, z0: float, z1: float, h: float = VOXEL_M) -> float:
    """Solid fraction of the slab z0..z1 by rasterising every sphere (and its periodic images)
    onto voxel centres: independent of the packer's own quasi-Monte Carlo estimate."""
    Lx, Ly, _ = p["box_m"]
    nx, ny, nz = round(Lx / h), round(Ly / h), max(1, round((z1 - z0) / h))
    hx, hy, hz = Lx / nx, Ly / ny, (z1 - z0) / nz
    solid = np.zeros((nx, ny, nz), dtype=bool)
    shifts = [-1, 0, 1] if p["periodic"] else [0]
    for x, y, z, r in zip(p["sphere_x_m"], p["sphere_y_m"], p["sphere_z_m"], p["sphere_radius_m"]):
        for sx, sy in itertools.product(shifts, shifts):
            cx, cy = x + sx * Lx, y + sy * Ly
            i = np.arange(max(0, int((cx - r) / hx)), min(nx, int((cx + r) / hx) + 2))
            j = np.arange(max(0, int((cy - r) / hy)), min(ny, int((cy + r) / hy) + 2))
            k = np.arange(max(0, int((z - r - z0) / hz)), min(nz, int((z + r - z0) / hz) + 2))
            if not (len(i) and len(j) and len(k)):
                continue
            X, Y, Z = np.meshgrid((i + 0.5) * hx - cx, (j + 0.5) * hy - cy, z0 + (k + 0.5) * hz - z,
                                  indexing="ij")
            solid[np.ix_(i, j, k)] |= X * X + Y * Y + Z * Z < r * r
    return float(solid.mean())


def pair_table(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force minimum-image distances and radius sums of all pairs."""
    xyz = np.column_stack([p["sphere_x_m"], p["sphere_y_m"], p["sphere_z_m"]])
    r = np.asarray(p["sphere_radius_m"])
    d = xyz[None, :, :] - xyz[:, None, :]
    if p["periodic"]:
        L = np.asarray(p["box_m"][:2])
        d[..., :2] -= L * np.round(d[..., :2] / L)
    return np.linalg.norm(d, axis=-1), r[None, :] + r[:, None]


CASES = [("Mix", 5.0, 0.55, 0.5, {}), ("L-Dry-S", 8.0, 0.55, 0.5, {}), ("L-Dry-S", 8.0, 0.25, 0.5, {}),
         ("S-Dry-L", 8.0, 0.45, 0.5, {"periodic": False, "size_spread": 0.1})]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[2]}-{'walled' if c[4] else 'periodic'}")
def packed(request: pytest.FixtureRequest) -> tuple[ElectrodeDesign, dict]:
    arch, load, por, ls, opts = request.param
    design = ElectrodeDesign(arch, load, por, ls, band_width_m=6e-6)
    return design, pack3d(design, Packing3DOptions(lateral_um=20.0, **opts), seed=1, case="t").to_dict()


def test_layer_solid_fraction_within_1_percent(packed: tuple[ElectrodeDesign, dict]) -> None:
    design, p = packed
    assert [lay["name"] for lay in p["layers"]] == [lay.name for lay in design.layers]
    for row, layer in zip(p["layers"], design.layers):
        assert row["target_solid_fraction"] == pytest.approx(layer.solid_fraction, abs=1e-12)
        measured = voxel_solid_fraction(p, layer.z_bottom_m, layer.z_top_m)
        assert abs(measured - layer.solid_fraction) < 0.01, (row["name"], measured)
        # the packer's own estimate agrees with the voxel count within its stated error (+ voxel error)
        assert abs(row["achieved_solid_fraction"] - measured) < 5 * row["achieved_solid_fraction_stderr"] + 0.003


def test_overlap_limit_box_and_composition(packed: tuple[ElectrodeDesign, dict]) -> None:
    design, p = packed
    opt = Packing3DOptions()
    dist, rsum = pair_table(p)
    rmin = np.minimum.outer(p["sphere_radius_m"], p["sphere_radius_m"])
    np.fill_diagonal(dist, np.inf)
    assert ((rsum - dist) / rmin).max() <= opt.max_overlap + 0.01
    Lx, Ly, H = p["box_m"]
    assert H == pytest.approx(design.thickness_m, rel=1e-12)
    x, z, r = np.asarray(p["sphere_x_m"]), np.asarray(p["sphere_z_m"]), np.asarray(p["sphere_radius_m"])
    assert (x >= 0).all() and (x < Lx).all()
    if not p["periodic"]:   # walls: spheres indent the lateral faces by at most max_overlap * r
        assert (x - r >= -opt.max_overlap * r - 1e-12).all() and (x + r <= Lx + opt.max_overlap * r + 1e-12).all()
    assert (z - r >= -opt.max_overlap * r - 1e-12).all() and (z + r <= H + opt.max_overlap * r + 1e-12).all()
    # per layer, the nominal L share of the sphere volume equals the layer's active L share
    pop = np.asarray(p["sphere_population"])
    lay = np.asarray(p["sphere_layer"])
    for k, layer in enumerate(design.layers):
        v = r ** 3 * (lay == k)
        share = v[pop == "L"].sum() / v.sum()
        assert share == pytest.approx(layer.L_share_of_active, abs=1e-9)
        if p["options"]["size_spread"] == 0:
            radii_L = r[(pop == "L") & (lay == k)] / design.materials.radius_m("L")
            assert radii_L.size == 0 or np.allclose(radii_L, radii_L[0])   # one scale per layer and size


def test_connectivity_matches_brute_force(packed: tuple[ElectrodeDesign, dict]) -> None:
    _, p = packed
    dist, rsum = pair_table(p)
    adj = dist <= rsum
    z, r = np.asarray(p["sphere_z_m"]), np.asarray(p["sphere_radius_m"])
    reached = z - r <= 0.0
    while True:                                   # flood fill from the current collector
        grown = reached | adj[reached].any(axis=0)
        if (grown == reached).all():
            break
        reached = grown
    assert reached.tolist() == p["sphere_connected_to_cc"]
    assert p["n_isolated_spheres"] == int((~reached).sum())


def test_same_seed_same_bytes_other_seed_differs(tmp_path) -> None:
    design = ElectrodeDesign("S-Dry-L", 5.0, 0.45, 0.5)
    opt = Packing3DOptions(lateral_um=15.0, size_spread=0.1)
    paths = [tmp_path / f"{k}.json" for k in "abc"]
    for path, seed in zip(paths, (3, 3, 4)):
        write_packing3d(pack3d(design, opt, seed=seed, case="c"), path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert json.loads(paths[0].read_text())["seed"] == 3


def test_solid_indicator_sees_periodic_images() -> None:
    p = {"box_m": [10e-6, 10e-6, 10e-6], "periodic": True, "sphere_x_m": [0.5e-6], "sphere_y_m": [5e-6],
         "sphere_z_m": [5e-6], "sphere_radius_m": [2e-6]}
    pts = np.array([[9.0e-6, 5e-6, 5e-6], [8.0e-6, 5e-6, 5e-6], [0.5e-6, 5e-6, 6.9e-6], [0.5e-6, 5e-6, 7.1e-6]])
    assert solid_indicator(p, pts).tolist() == [True, False, True, False]
    assert solid_indicator({**p, "periodic": False}, pts).tolist() == [False, False, True, False]


@pytest.mark.parametrize("section, field", [
    ({"bogus": 1}, "geometry.packing3d.bogus"),
    ({"max_overlap": -0.1}, "geometry.packing3d.max_overlap"),
    ({"lateral_um": 0}, "geometry.packing3d.lateral_um"),
    ({"particle_phase": "carbon"}, "geometry.packing3d.particle_phase"),
    ({"samples_per_replicate": 1000}, "geometry.packing3d.samples_per_replicate"),
    ({"periodic": "yes"}, "geometry.packing3d.periodic"),
])
def test_bad_options_name_the_field(section: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        Packing3DOptions.from_config({"geometry": {"packing3d": section}})
    assert err.value.field == field


def test_unreachable_targets_fail_before_work(tmp_path, repo_root) -> None:
    from layerlab.cli import main
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"materials: {repo_root / 'config/parameters/materials.yaml'}\n"
                   "sweeps: {s: {architecture: [Mix], loading_mg_cm2: [5], porosity: [0.15], ls_ratio: [0.5]}}\n"
                   "geometry: {packing3d: {max_overlap: 0.1, lateral_um: 20}}\n")
    out = tmp_path / "p" / "packing3d.json"
    assert main(["pack3d", "--config", str(cfg), "--case", "Mix_load5_por0.15_ls0.5_seed0", "--out", str(out)]) == 2
    assert not out.exists()
    with pytest.raises(InputError) as err:       # a box narrower than a large particle
        pack3d(ElectrodeDesign("Mix", 5.0, 0.5, 0.5), Packing3DOptions(lateral_um=8.0))
    assert err.value.field == "geometry.packing3d.lateral_um"
    with pytest.raises(InputError) as err:
        pack3d(ElectrodeDesign("Mix", 5.0, 0.15, 0.5), Packing3DOptions(max_overlap=0.1))
    assert err.value.field == "design.porosity"


def test_active_phase_targets_the_active_fraction() -> None:
    design = ElectrodeDesign("Mix", 5.0, 0.4, 0.5)
    p = pack3d(design, Packing3DOptions(lateral_um=20.0, particle_phase="active"), seed=0).to_dict()
    (row,) = p["layers"]
    assert row["target_solid_fraction"] == pytest.approx(design.layers[0].active_fraction, abs=1e-12)
    assert abs(voxel_solid_fraction(p, 0.0, p["box_m"][2]) - design.layers[0].active_fraction) < 0.01


def test_load_packing3d_rejects_missing_keys(tmp_path) -> None:
    from layerlab.geometry.packing3d import load_packing3d
    path = tmp_path / "packing3d.json"
    path.write_text(json.dumps({"box_m": [1, 1, 1]}))
    with pytest.raises(InputError) as err:
        load_packing3d(path)
    assert err.value.field == "packing" and "sphere_x_m" in err.value.problem
    with pytest.raises(InputError):
        load_packing3d(tmp_path / "absent.json")
