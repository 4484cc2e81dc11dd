"""The falsification table's electronic resistance: the series law of the design's layers at the
network stage's conductivities (read as the DFN mechanism reads them)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from layerlab.config import validate_config
from layerlab.network.falsify import rows


def test_resistance_is_the_series_of_the_layers(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    sig = {1.0: 0.02, 0.0: 0.005, 0.5: 0.008}          # at r_c = 1e-4 (0.05 at r_c = 0 for all)
    for por in (0.55, 0.25):
        for ls, s in sig.items():
            z = np.array([0.05, s]) * (2.0 if por == 0.25 else 1.0)
            ds = xr.Dataset({"electronic_conductivity_electrode": (("r_c", "direction"), np.column_stack([z, z, z]))},
                            coords={"r_c": [0.0, 1e-4], "direction": ["x", "y", "z"]})
            ds.to_netcdf(tmp_path / f"Mix_load22_por{por:g}_ls{ls:g}_seed0.nc", engine="h5netcdf")
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["mechanisms"]["electronic"] = {"model": "stage", "runs_dir": str(tmp_path), "seeds": [0]}
    cfg = validate_config(copy.deepcopy(cfg))
    table = {(r["architecture"], r["loading_mg_cm2"], r["porosity"]): r for r in rows(cfg, [1e-4])}
    assert len(table) == 12
    ld = table[("L-Dry-S", 22.0, 0.55)]
    t = ld["thickness_um"] * 1e-6
    assert ld["electronic_resistance_ohm_cm2"] == pytest.approx((t / 2 / 0.02 + t / 2 / 0.005) * 1e4, rel=1e-3)
    mix = table[("Mix-Dry-Mix", 22.0, 0.55)]
    assert mix["electronic_resistance_ohm_cm2"] == pytest.approx(t / 0.008 * 1e4, rel=1e-3)
    # a series of layers does not depend on their order: L-Dry-S and S-Dry-L imply the same resistance
    for load in (22.0, 29.6):
        for por in (0.55, 0.25):
            assert table[("L-Dry-S", load, por)]["electronic_resistance_ohm_cm2"] == \
                table[("S-Dry-L", load, por)]["electronic_resistance_ohm_cm2"]
    assert table[("L-Dry-S", 22.0, 0.25)]["electronic_resistance_ohm_cm2"] < ld["electronic_resistance_ohm_cm2"]


def test_impedance_columns_are_bounded_by_the_transmission_line() -> None:
    """The impedance the mechanism adds (L-Dry-S, 22 mg/cm2, 55 %, layer conductivities of the network
    stage at r_c = 4e-4) against the same cell at 0.18 S/m: at high frequency the double layers short
    the interfaces and the solid and electrolyte rails act in parallel, so the intercept rises by less
    than the electrode's electronic resistance R_e (de Levie: R_e R_i / (R_e + R_i) < R_e); by 1 Hz the
    current has to pass the interfaces and more of the solid rail shows (a wider arc), yet still less than
    R_e in series (part of the current leaves the solid near the collector)."""
    from layerlab.cases import Case
    from layerlab.electrochem.cell import cathode_from_design
    from layerlab.network.falsify import impedance_shift
    cfg = validate_config(yaml.safe_load(open("config/config.yaml")))
    cath = cathode_from_design(Case("L-Dry-S", 22.0, 0.55, 0.5).design(cfg))
    sigma = {lay.name: (3.446e-3 if lay.name == "L" else 1.344e-3) for lay in cath.layers}
    r_e = sum(lay.thickness_m / sigma[lay.name] for lay in cath.layers) * 1e4
    out = impedance_shift(cfg, cath, sigma)
    assert 0 < out["d_re_z_hf_ohm_cm2"] < out["d_re_z_1Hz_ohm_cm2"] < r_e, (out, r_e)
    assert out["arc_added_ohm_cm2"] > 0
    same = impedance_shift(cfg, cath, {k: 0.18 for k in sigma})
    assert abs(same["d_re_z_hf_ohm_cm2"]) < 1e-9 and abs(same["d_re_z_1Hz_ohm_cm2"]) < 1e-9


@pytest.mark.parametrize("bad, field", [
    ({"r_c_ohm_m2": [-1e-4]}, "mechanism_check.r_c_ohm_m2[0]"),
    ({"r_c_ohm_m2": [float("nan")]}, "mechanism_check.r_c_ohm_m2[0]"),
    ({"r_c_ohm_m2": [4e-4, float("inf")]}, "mechanism_check.r_c_ohm_m2[1]"),
    ({"radial_volumes": 0}, "mechanism_check.radial_volumes"),
])
def test_mechanism_check_bad_input_writes_nothing(bad, field, tmp_path, capsys) -> None:
    """A negative or non-finite r_c (or no radial volume) stops the command with exit 2 and one line
    naming the field, before any network run is read; nothing is written."""
    from layerlab.cli import main
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["mechanism_check"].update(bad)
    cfg["mechanisms"]["electronic"] = {"model": "stage", "runs_dir": str(tmp_path / "no_runs_here")}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    out.mkdir()
    rc = main(["mechanism_check", "--config", str(path), "--out", str(out / "table.csv")])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("layerlab mechanism_check: error: ")]
    assert rc == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"layerlab mechanism_check: error: {field}"), lines[0]
    assert list(out.iterdir()) == []
