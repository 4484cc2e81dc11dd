"""Comparison table: values and orderings read from synthetic datasets; missing data -> 'not run'."""

from __future__ import annotations

import numpy as np
import xarray as xr

from layerlab.aggregate.comparison import build_rows, load_targets, ordering_row, rows_to_csv


def _rate_dataset() -> xr.Dataset:
    archs = ["L-Dry-S", "S-Dry-L", "Mix-Dry-Mix", "L-S"]
    cap = np.full((4, 2, 4, 3, 3), np.nan)
    ds = xr.Dataset({"discharge_capacity": (("architecture", "loading", "porosity", "ls_ratio", "c_rate"), cap,
                                            {"units": "mA h g-1", "long_name": "discharge capacity"})},
                    coords={"architecture": archs, "loading": [22.0, 29.6], "porosity": [0.25, 0.35, 0.45, 0.55],
                            "ls_ratio": [0.3, 0.5, 0.7], "c_rate": [0.2, 0.5, 1.0]})
    # made-up numbers: L-Dry-S > Mix-Dry-Mix > S-Dry-L everywhere, L-S in between
    for i, a in enumerate(archs):
        ds["discharge_capacity"].loc[dict(architecture=a)] = [150.0, 90.0, 120.0, 130.0][i]
    return ds


def test_orderings_and_values_from_dataset() -> None:
    rows = build_rows({"rate_capability": _rate_dataset()}, load_targets())
    by = {(r.figure, r.quantity, r.case): r for r in rows}
    assert by[("2f", "discharge capacity at 1C", "22 mg/cm2, 55 %")].holds == "yes"
    assert by[("4c", "discharge capacity at 1C", "22 mg/cm2, 25 %")].holds == "yes"
    value = by[("2f", "discharge capacity at 1C", "L-Dry-S 22 mg/cm2 porosity 0.55")]
    assert value.paper == "139.5 mAh/g" and value.model.startswith("150")
    assert "+10.5" in value.note
    # data for S3 and wetting were not produced: listed, not dropped
    assert all(r.holds == "not run" for r in rows if r.figure in ("S3", "1d", "5f"))
    assert rows_to_csv(rows).count("\n") == len(rows) + 1


def test_ordering_row_detects_violation() -> None:
    row = ordering_row("x", "q", "c", {"a": 1.0, "b": 2.0}, ["a", "b"])
    assert row.holds == "no"
    assert ordering_row("x", "q", "c", {"a": 1.0, "b": 2.0}, ["a", "b"], descending=False).holds == "yes"


def test_near_equal_values_are_a_tie_not_an_ordering() -> None:
    from layerlab.aggregate.comparison import best_row

    row = ordering_row("x", "q", "c", {"a": 181.30, "b": 181.29}, ["a", "b"])
    assert row.holds == "no" and "tie" in row.note
    assert best_row("x", "q", "c", {"a": 100.0, "b": 99.99, "c": 50.0}, "a").holds == "no"
    assert best_row("x", "q", "c", {"a": 100.0, "b": 90.0, "c": 50.0}, "a").holds == "yes"


def test_full_cell_rows_read_the_full_cell_slice() -> None:
    """Fig. 5h rows select cell="full": the half-cell values (reverse order here) must not leak in."""
    from layerlab.aggregate.comparison import full_cell_rows

    cap = np.empty((2, 2, 4))
    cap[0] = [[150.0, 140.0, 120.0, 90.0], [150.5, 130.0, 100.0, 60.0]]    # full: 1:1 better from 0.5C
    cap[1] = [[150.0, 120.0, 100.0, 80.0], [150.0, 140.0, 130.0, 120.0]]   # half: the reverse
    rate = xr.Dataset({"discharge_capacity": (("cell", "ls_ratio", "c_rate"), cap)},
                      coords={"cell": ["full", "half"], "ls_ratio": [0.5, 0.0], "c_rate": [0.1, 0.5, 1.0, 2.0]})
    rate = rate.expand_dims(architecture=["L-Dry-S"], loading=[24.6])
    retention = xr.DataArray([[1.0, 0.97, 0.95], [1.0, 0.9, 0.8]], dims=("ls_ratio", "cycle"),
                             coords={"ls_ratio": [0.5, 0.0], "cycle": [1, 2, 3]})
    cycling = xr.Dataset({"capacity_retention": retention.expand_dims(architecture=["L-Dry-S"], loading=[24.6])})
    rows = full_cell_rows(rate, cycling)
    assert [r.holds for r in rows] == ["yes", "yes", "yes", "yes", "yes"]
    assert "95 %" in rows[-1].model and "80 %" in rows[-1].model
    assert all(r.holds == "not run" for r in full_cell_rows(None, None))
