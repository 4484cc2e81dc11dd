"""2D disk packings: per-layer area fractions, gaps, reproducibility and input errors.

Area fractions and gaps are recomputed here from the written disk arrays with formulas and loops
independent of the packing module (circular-segment areas, brute-force pair distances).
"""

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
from layerlab.errors import InputError
from layerlab.geometry.packing2d import Packing2DOptions, PackingError, pack2d
from layerlab.io import write_json_atomic
from layerlab.units import UM_TO_M

REPO = Path(__file__).resolve().parents[2]

DESIGNS = [  # (architecture, loading mg/cm2, porosity, L:S, options)
    ("L-Dry-S", 8.0, 0.55, 0.5, {}),
    ("S-Dry-L", 10.0, 0.55, 0.5, {}),
    ("Mix", 8.0, 0.55, 0.5, {}),
    ("L-S", 10.0, 0.55, 0.5, {}),                    # intermixed band (narrower than an L disk)
    ("L-Dry-S", 10.0, 0.55, "3:7", {}),
    ("L-Dry-S", 29.6, 0.45, 0.5, {"size_spread": 0.1}),
    # 25 % porosity: solid fraction 0.75 with 0.5 um gaps is beyond any 2D disk packing (see
    # test_unpackable_25_percent_solid); the active phase (0.67) with 0.2 um gaps packs.
    ("L-Dry-S", 29.6, 0.25, 0.5, {"particle_phase": "active", "min_gap_um": 0.2}),
]


def _segment_area_below(y_line: float, yc: float, r: float) -> float:
    """Area of a disk (centre height yc, radius r) below the line y = y_line."""
    h = y_line - yc
    if h <= -r:
        return 0.0
    if h >= r:
        return math.pi * r * r
    cap = r * r * math.acos(abs(h) / r) - abs(h) * math.sqrt(r * r - h * h)   # the smaller cap
    return cap if h < 0 else math.pi * r * r - cap


def _layer_fractions(p: dict) -> list[float]:
    W = p["width_m"]
    out = []
    for layer in p["layers"]:
        a, b = layer["y_bottom_m"], layer["y_top_m"]
        area = sum(_segment_area_below(b, y, r) - _segment_area_below(a, y, r)
                   for y, r in zip(p["disk_y_m"], p["disk_radius_m"]))
        out.append(area / (W * (b - a)))
    return out


def _smallest_gaps(p: dict) -> tuple[float, float]:
    """(smallest disk-disk gap, smallest disk-wall/electrode-line gap), brute force."""
    x, y, r = (np.asarray(p[k]) for k in ("disk_x_m", "disk_y_m", "disk_radius_m"))
    dd = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) - r[:, None] - r[None, :]
    np.fill_diagonal(dd, np.inf)
    y0, y1 = p["electrode_y_range_m"]
    wall = min((x - r).min(), (p["width_m"] - x - r).min(), (y - r - y0).min(), (y1 - y - r).min())
    return float(dd.min()), float(wall)


@pytest.fixture(scope="module")
def packings() -> dict:
    out = {}
    for arch, load, por, ls, opts in DESIGNS:
        design = ElectrodeDesign(arch, load, por, ls)
        out[(arch, load, por, str(ls), str(opts))] = (design, Packing2DOptions(**opts),
                                                      pack2d(design, Packing2DOptions(**opts), seed=3))
    return out


@pytest.mark.parametrize("key", [(a, lo, p, str(ls), str(o)) for a, lo, p, ls, o in DESIGNS], ids=str)
def test_layer_area_fraction_within_one_percent(packings: dict, key: tuple) -> None:
    design, options, p = packings[key]
    fractions = _layer_fractions(p)
    assert len(fractions) == len(design.layers)
    for layer, got, rec in zip(design.layers, fractions, p["layers"]):
        target = layer.solid_fraction if options.particle_phase == "solid" else layer.active_fraction
        assert got == pytest.approx(target, abs=0.01), layer.name
        assert rec["achieved_area_fraction"] == pytest.approx(got, abs=1e-9)
        assert rec["target_area_fraction"] == pytest.approx(target, abs=1e-12)
    # the electrode spans the design thickness above the outlet region
    y0, y1 = p["electrode_y_range_m"]
    assert y0 == pytest.approx(options.outlet_um * UM_TO_M)
    assert y1 - y0 == pytest.approx(design.thickness_m, rel=1e-12)
    assert p["domain_height_m"] == pytest.approx(y1 + options.reservoir_um * UM_TO_M, rel=1e-12)


@pytest.mark.parametrize("key", [(a, lo, p, str(ls), str(o)) for a, lo, p, ls, o in DESIGNS], ids=str)
def test_minimum_gap_and_populations(packings: dict, key: tuple) -> None:
    design, options, p = packings[key]
    disk_gap, wall_gap = _smallest_gaps(p)
    gap = options.min_gap_um * UM_TO_M
    assert disk_gap >= gap * (1 - 1e-9)
    assert wall_gap >= gap * (1 - 1e-9)
    assert p["smallest_gap_m"] == pytest.approx(min(disk_gap, wall_gap), rel=1e-9)
    # radii: the population's size within the spread and the exact-area adjustment
    m = design.materials
    limit = (1 + 2 * options.size_spread) * (1 + options.max_radius_adjust)
    for pop, r in zip(p["disk_population"], p["disk_radius_m"]):
        assert 1 / limit <= r / m.radius_m(pop) <= limit
    # single-population layers hold only their population (disks wholly inside their slab)
    for k, layer in enumerate(design.layers):
        pops = {pp for pp, lk in zip(p["disk_population"], p["disk_layer"]) if lk == k}
        if layer.name in ("L", "S"):
            assert pops == {layer.name}
        if layer.name in ("mix", "band") and 0 < design.ls_ratio < 1:
            assert pops == {"L", "S"}


def test_same_seed_identical_bytes_other_seed_differs(tmp_path: Path) -> None:
    design = ElectrodeDesign("L-S", 10.0, 0.55, 0.5)
    opts = Packing2DOptions()
    for name, seed in (("a", 3), ("b", 3), ("c", 6)):
        write_json_atomic(tmp_path / f"{name}.json", pack2d(design, opts, seed, case="x"))
    a, b, c = ((tmp_path / f"{n}.json").read_bytes() for n in "abc")
    assert a == b
    assert a != c
    assert json.loads(a)["disk_x_m"] != json.loads(c)["disk_x_m"]


def test_unpackable_25_percent_solid() -> None:
    """Solid fraction 0.75 with 0.5 um gaps: the disks grown by half a gap would need a packing
    fraction of 0.83 (L) / 0.93 (S), beyond what disks can reach in a 50 um column."""
    with pytest.raises(InputError) as err:
        pack2d(ElectrodeDesign("L-Dry-S", 29.6, 0.25, 0.5), Packing2DOptions(), seed=0)
    assert err.value.field == "design.porosity"
    assert "max_effective_fraction" in str(err.value)


def test_relaxation_failure_is_reported() -> None:
    """Too few sweeps for a dense target: a clear PackingError (an InputError), no result."""
    opts = Packing2DOptions(max_iterations=100, particle_phase="active", min_gap_um=0.2)
    with pytest.raises(PackingError) as err:
        pack2d(ElectrodeDesign("L-Dry-S", 29.6, 0.25, 0.5), opts, seed=0)
    assert err.value.field == "design.porosity"
    assert "did not converge" in str(err.value)


@pytest.mark.parametrize("section, field", [
    ({"bogus": 1}, "geometry.packing2d.bogus"),
    ({"min_gap_um": -0.1}, "geometry.packing2d.min_gap_um"),
    ({"min_gap_um": "wide"}, "geometry.packing2d.min_gap_um"),
    ({"particle_phase": "carbon"}, "geometry.packing2d.particle_phase"),
    ({"size_spread": 0.9}, "geometry.packing2d.size_spread"),
    ({"max_iterations": 2.5}, "geometry.packing2d.max_iterations"),
    ({"width_um": 0}, "geometry.packing2d.width_um"),
])
def test_bad_options_name_the_field(section: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        Packing2DOptions.from_config(section)
    assert err.value.field == field


def test_disk_wider_than_domain() -> None:
    with pytest.raises(InputError) as err:
        pack2d(ElectrodeDesign("Mix", 8.0, 0.55, 0.5), Packing2DOptions(width_um=10.0), seed=0)
    assert err.value.field == "geometry.packing2d.width_um"


def _cli(tmp_path: Path, case: str, packing2d: dict) -> tuple[subprocess.CompletedProcess, Path]:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["geometry"]["packing2d"] = packing2d
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "geometry" / case / "packing2d.json"
    proc = subprocess.run([sys.executable, "-m", "layerlab", "pack2d", "--config", str(cfg_file), "--case", case,
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    return proc, out


@pytest.mark.parametrize("case, options, field", [
    ("L-Dry-S_load29.6_por0.25_ls0.5_seed0", {}, "design.porosity"),
    ("L-Dry-S_load8_por0.55_ls0.5_seed0", {"min_gap": 0.5}, "geometry.packing2d.min_gap"),
    ("L-Dry-S_load8_por0.55_ls0.5", {}, "case"),
])
def test_cli_input_error_writes_nothing(tmp_path: Path, case: str, options: dict, field: str) -> None:
    proc, out = _cli(tmp_path, case, options)
    assert proc.returncode == 2, proc.stderr
    assert f"error: {field}" in proc.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_cli_writes_packing(tmp_path: Path) -> None:
    proc, out = _cli(tmp_path, "Mix_load8_por0.55_ls0.5_seed2", {})
    assert proc.returncode == 0, proc.stderr
    p = json.loads(out.read_text())
    assert p["case"] == "Mix_load8_por0.55_ls0.5_seed2" and p["seed"] == 2
    for key in ("design", "width_m", "outlet_height_m", "reservoir_height_m", "domain_height_m",
                "electrode_y_range_m", "min_gap_m", "disk_x_m", "disk_y_m", "disk_radius_m",
                "disk_population", "layers", "smallest_gap_m"):
        assert key in p
    assert [f.name for f in out.parent.iterdir()] == ["packing2d.json"]   # no temporary left behind
