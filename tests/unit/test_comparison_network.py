"""The calibration's set "network" beside the plain design: comparison columns and figure lines."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import yaml

from layerlab.aggregate.comparison import (build_rows, calibration_capacities, capacity_dataset, load_targets,
                                           rate_rows, rows_to_csv)

# made-up network capacities: at 22 mg/cm2, 55 % the order the paper states (L-Dry-S > Mix > S-Dry-L)
NET = {("L-Dry-S_load22_por0.55_ls0.5", 1.0): 140.0, ("Mix-Dry-Mix_load22_por0.55_ls0.5", 1.0): 100.0,
       ("S-Dry-L_load22_por0.55_ls0.5", 1.0): 80.0, ("L-Dry-S_load22_por0.55_ls0.5", 2.0): 90.0}


def test_capacity_dataset_places_each_value_and_leaves_the_rest_unrun() -> None:
    ds = capacity_dataset(NET)
    da = ds["discharge_capacity"]
    assert float(da.sel(architecture="Mix-Dry-Mix", loading=22.0, porosity=0.55, ls_ratio=0.5, c_rate=1.0)) == 100.0
    assert np.isnan(float(da.sel(architecture="Mix-Dry-Mix", loading=22.0, porosity=0.55, ls_ratio=0.5, c_rate=2.0)))
    assert int(np.isfinite(da.values).sum()) == len(NET)


def test_network_columns_beside_the_plain_model() -> None:
    targets = load_targets()
    plain = {k: 150.0 - 30.0 * ("L-Dry-S" in k[0]) for k in NET}             # the plain design: reversed
    rows = build_rows({"rate_capability": capacity_dataset(plain)}, targets)
    text = rows_to_csv(rows, {"network": rate_rows(capacity_dataset(NET), targets)})
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == len(rows) and {"network_model", "network_holds"} <= set(table[0])
    order = next(r for r in table if r["figure"] == "2f" and r["kind"] == "ordering")
    assert (order["holds"], order["network_holds"]) == ("no", "yes")
    value = next(r for r in table if r["figure"] == "2f" and r["case"].startswith("Mix-Dry-Mix")
                 and r["quantity"].endswith("1C"))
    assert value["model"].startswith("150") and value["network_model"].startswith("100")
    assert all(r["network_model"] == "" for r in table if r["figure"] in ("1d", "5f"))   # not a rate row
    assert rows_to_csv(rows) == rows_to_csv(rows, {})          # without a variant: the table as before


def test_calibration_summary_gives_the_network_capacities() -> None:
    summary = {"sets": [{"name": "baseline", "capacities_mAh_g": {}},
                        {"name": "network", "capacities_mAh_g": {"L-Dry-S_load22_por0.55_ls0.5": {"1": 140.0,
                                                                                                  "2": 90.0}}}]}
    assert calibration_capacities(summary, "network") == {("L-Dry-S_load22_por0.55_ls0.5", 1.0): 140.0,
                                                          ("L-Dry-S_load22_por0.55_ls0.5", 2.0): 90.0}
    assert calibration_capacities(summary, "nmc83") is None


def test_compare_command_reads_the_network_set_and_names_bad_input(tmp_path, capsys) -> None:
    from layerlab.cli import main
    rate = tmp_path / "rate_capability.nc"
    capacity_dataset({k: 120.0 for k in NET}).to_netcdf(rate, engine="h5netcdf")
    cal = tmp_path / "residuals.json"
    by_case = {case: {f"{c:g}": v} for (case, c), v in NET.items() if c == 1.0}
    uniform = {case: {r: 100.0 for r in v} for case, v in by_case.items()}       # every design equal: ties
    cal.write_text(json.dumps({"sets": [{"name": "network", "capacities_mAh_g": by_case},
                                        {"name": "electronic", "capacities_mAh_g": uniform}]}))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(yaml.safe_load(open("config/config.yaml"))))
    out = tmp_path / "comparison.csv"
    assert main(["compare", "--config", str(cfg), "--datasets", str(rate), "--out", str(out),
                 "--calibration", str(cal)]) == 0
    order = next(r for r in csv.DictReader(out.open()) if r["figure"] == "2f" and r["kind"] == "ordering")
    assert order["network_holds"] == "yes" and order["holds"] == "no"
    assert order["electronic_holds"] == "no" and order["electronic_model"].count("100 mAh/g") == 3
    cal.write_text(json.dumps({"sets": [{"name": "baseline"}]}))
    out2 = tmp_path / "c2.csv"
    assert main(["compare", "--config", str(cfg), "--datasets", str(rate), "--out", str(out2),
                 "--calibration", str(cal)]) == 2
    assert "calibration" in capsys.readouterr().err and not out2.exists()


def test_rate_figures_draw_the_network_set_dashed_beside_the_plain_design() -> None:
    from layerlab.figures.catalog import FIGURES
    plain = {k: 120.0 for k in NET}
    drawn = {s.name: s for s in FIGURES}["fig2f"].draw(
        {"rate_capability": capacity_dataset(plain), "rate_capability_network": capacity_dataset(NET)}, load_targets())
    lines = {ln.get_label(): ln for ln in drawn.axes[0].get_lines()}
    assert list(lines["L-Dry-S (network)"].get_ydata()) == [140.0, 90.0]           # 1C, 2C
    assert lines["L-Dry-S (network)"].get_linestyle() == "--"
    assert list(lines["L-Dry-S (model)"].get_ydata()) == [120.0, 120.0]
    alone = {s.name: s for s in FIGURES}["fig2f"].draw({"rate_capability": capacity_dataset(plain)}, load_targets())
    assert not any("(network)" in ln.get_label() for ln in alone.axes[0].get_lines())
