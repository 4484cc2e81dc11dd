"""``python -m layerlab calibrate`` and ``dfn`` with mechanisms: outputs, records and bad input."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from layerlab.cli import main
from layerlab.electrochem.parameters import load_parameters


def _cfg(tmp_path, calibration=None, mechanisms=None) -> str:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["electrochem"]["protocol"].update(c_rates=[1.0], charge="fixed", cv=True, charge_c_rate=1.0,
                                          cv_end_c_rate=0.2)
    cfg["calibration"] = calibration or {}
    if mechanisms is not None:
        cfg["mechanisms"] = mechanisms
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_calibrate_writes_parameters_residuals_and_summary(tmp_path) -> None:
    cal = {"blocks": ["fig2f_22mg_uncalendered"], "ordering_c_rates": [1.0],
           "sets": [{"name": "baseline", "mechanisms": [], "fit": []}],
           "discretisation": {"cells_separator": 3, "cells_cathode": 8, "radial_volumes": 5}}
    out_p, out_r = tmp_path / "p.yaml", tmp_path / "r.csv"
    assert main(["calibrate", "--config", _cfg(tmp_path, cal), "--out-params", str(out_p),
                 "--out-report", str(out_r)]) == 0
    rows = list(csv.DictReader(out_r.open()))
    values = [r for r in rows if r["kind"] == "value"]
    assert [r["target"] for r in values] == ["2f L-Dry-S 22 mg/cm2 por 0.55 1C", "2f Mix-Dry-Mix 22 mg/cm2 por 0.55 1C"]
    for r in values:
        assert float(r["residual"]) == pytest.approx(float(r["model"]) - float(r["paper"]), abs=0.011)
    assert [r["paper"] for r in values] == ["139.5", "100.05"]
    order = [r for r in rows if r["kind"] == "ordering"]
    assert len(order) == 1 and order[0]["paper"] == "L-Dry-S > Mix-Dry-Mix > S-Dry-L"
    summ = json.loads((tmp_path / "r.json").read_text())
    assert summ["sets"][0]["name"] == "baseline" and "explains" in summ["verdict"]
    # nothing fitted, no mechanism: the parameter file is the default set under a new name
    ps = load_parameters(out_p)
    assert ps.positive == load_parameters().positive and ps.name.endswith("calibrated_baseline")


TWO_SETS = {"blocks": ["fig2f_22mg_uncalendered"], "ordering_c_rates": [1.0],
            "sets": [{"name": "baseline", "mechanisms": [], "fit": []},
                     {"name": "electronic", "mechanisms": ["electronic"], "fit": []}],
            "discretisation": {"cells_separator": 3, "cells_cathode": 8, "radial_volumes": 5},
            "campaign_runs": ["electronic"]}


def test_per_set_jobs_merge_to_the_whole_calibration(tmp_path) -> None:
    """The workflow's route (one ``calibrate-set`` per set, then ``calibrate --sets-from``) writes the
    same residual table, parameter file and summary as fitting every set in one process; the set of
    ``campaign_runs`` also ran the electrochem campaign's cases (here the two L-S designs of Fig. 3c/3d)."""
    cfg = _cfg(tmp_path, TWO_SETS, mechanisms={"active": [], "electronic": {"model": "value",
                                                                            "conductivity_S_m": 2e-3}})
    doc = yaml.safe_load(open(cfg))
    doc["electrochem"]["sweeps"] = ["rate_fig3cd"]
    open(cfg, "w").write(yaml.safe_dump(doc))
    whole, merged = tmp_path / "whole", tmp_path / "merged"
    assert main(["calibrate", "--config", cfg, "--out-params", str(whole / "p.yaml"),
                 "--out-report", str(whole / "r.csv")]) == 0
    files = []
    for name in ("electronic", "baseline"):          # any order: the merge keeps the configured one
        files.append(str(tmp_path / "sets" / f"{name}.json"))
        assert main(["calibrate-set", "--config", cfg, "--set", name, "--out", files[-1]]) == 0
        assert json.loads(open(files[-1]).read())["name"] == name
    assert main(["calibrate", "--config", cfg, "--sets-from", *files, "--out-params", str(merged / "p.yaml"),
                 "--out-report", str(merged / "r.csv")]) == 0
    for f in ("p.yaml", "r.csv", "r.json"):
        assert (merged / f).read_text() == (whole / f).read_text(), f
    sets = {s["name"]: s for s in json.loads((whole / "r.json").read_text())["sets"]}
    assert sets["electronic"]["rmse_mAh_g"] != sets["baseline"]["rmse_mAh_g"]    # the sets did differ
    campaign = {"L-S_load22_por0.55_ls0.5", "L-S_load29.6_por0.55_ls0.5"}
    assert campaign <= set(sets["electronic"]["capacities_mAh_g"])
    assert not campaign & set(sets["baseline"]["capacities_mAh_g"])
    assert set(sets["electronic"]["capacities_mAh_g"]["L-S_load22_por0.55_ls0.5"]) == {"1"}


@pytest.mark.parametrize("case", ["unknown set", "missing file", "other settings"])
def test_per_set_bad_input_writes_nothing(tmp_path, capsys, case) -> None:
    cfg = _cfg(tmp_path, TWO_SETS)
    out = tmp_path / "out" / "x.json"
    if case == "unknown set":
        assert main(["calibrate-set", "--config", cfg, "--set", "nope", "--out", str(out)]) == 2
        assert "calibration.sets" in capsys.readouterr().err and not out.exists()
        return
    one = tmp_path / "baseline.json"
    assert main(["calibrate-set", "--config", cfg, "--set", "baseline", "--out", str(one)]) == 0
    files = [str(one)]
    if case == "other settings":    # a file made for set 'electronic' with other fitted parameters
        entry = json.loads(one.read_text()) | {"name": "electronic", "fit": ["positive.diffusivity_m2_s"]}
        files.append(str(tmp_path / "electronic.json"))
        open(files[-1], "w").write(json.dumps(entry))
    capsys.readouterr()
    assert main(["calibrate", "--config", cfg, "--sets-from", *files, "--out-params", str(out),
                 "--out-report", str(tmp_path / "out" / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert ("no file for set(s) electronic" in err) if case == "missing file" else ("other settings" in err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cal, field", [
    ({"parameters": {"positive.diffusivity_m2_s": {"lo": 1e-14, "hi": 1e-14}}}, "calibration.parameters.positive.diffusivity_m2_s.lo"),
    ({"sets": [{"name": "w", "mechanisms": ["wetting"], "fit": []}], "blocks": ["fig2f_22mg_uncalendered"]},
     "mechanisms.wetting.runs_dir"),
])
def test_calibrate_bad_input_writes_nothing(tmp_path, capsys, cal, field) -> None:
    cfg = _cfg(tmp_path, cal, mechanisms={"wetting": {"runs_dir": str(tmp_path / "none")}})
    out_p, out_r = tmp_path / "p.yaml", tmp_path / "r.csv"
    assert main(["calibrate", "--config", cfg, "--out-params", str(out_p), "--out-report", str(out_r)]) == 2
    assert field in capsys.readouterr().err
    assert not out_p.exists() and not out_r.exists() and not (tmp_path / "r.json").exists()


def test_dfn_records_active_mechanisms(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    mech = {"active": ["electronic", "transport"], "electronic": {"conductivity_S_m": 0.003, "source": "test"}}
    cfg = yaml.safe_load(open(_cfg(tmp_path, mechanisms=mech)))
    cfg["electrochem"]["discretisation"] = {"cells_separator": 3, "cells_cathode": 8, "radial_volumes": 5}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run.nc"
    assert main(["dfn", "--config", str(tmp_path / "cfg.yaml"), "--case", "L-Dry-S_load22_por0.55_ls0.5",
                 "--out", str(out)]) == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["mechanisms"] == "electronic, transport"
        assert ds.attrs["mechanism_electronic"].startswith("sigma_s = 0.003 S/m (test)")
        assert "tau = 1.35 eps^(1 - 1.85)" in ds.attrs["mechanism_transport"]
        assert 0 < float(ds["discharge_capacity"].values[0]) < 200
