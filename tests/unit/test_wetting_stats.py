"""Wetting results over packing seeds: mean, spread, significance of an ordering, and the comparison
rows and tables built from them (synthetic datasets with known answers)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr


def test_seed_statistics_and_ordering_significance() -> None:
    """Mean and sample spread over seeds; an ordering is significant when it holds in every seed or
    the means differ by more than twice the spread."""
    import xarray as xr
    from layerlab.aggregate.wetting_stats import ordering_verdict, seed_note, seed_stats
    vals = np.array([[1.0, 1.2, 1.1], [1.3, 1.1, 1.5], [3.0, 3.1, 2.9]])     # (architecture, seed)
    da = xr.DataArray(vals[:, None, :], dims=("architecture", "loading", "seed"),
                      coords={"architecture": ["A", "B", "C"], "loading": [29.6], "seed": [0, 1, 2]})
    stats = {a: seed_stats(da, architecture=a, loading=29.6) for a in "ABC"}
    assert stats["A"].mean == pytest.approx(1.1) and stats["A"].spread == pytest.approx(0.1)
    assert stats["A"].n == 3 and stats["A"].seeds == (0, 1, 2)
    ok, why = ordering_verdict(stats, ["A", "B", "C"])
    # A < B fails in seed 1 and the gap 0.2 < 2 x 0.2; B < C holds in all seeds
    assert not ok and "A < B: not significant" in why and "B < C: significant (in all 3 seeds)" in why
    da2 = da.where(~((da.architecture == "B") & (da.seed == 1)))          # seed 1 of B did not run
    s2 = {a: seed_stats(da2, architecture=a, loading=29.6) for a in "ABC"}
    assert s2["B"].n == 2 and s2["B"].mean == pytest.approx(1.4)
    assert ordering_verdict(s2, ["A", "B", "C"])[0]                       # A < B in seeds 0 and 2
    one = {a: seed_stats(da.isel(seed=[0]), architecture=a, loading=29.6) for a in "ABC"}
    assert not ordering_verdict(one, ["A", "B", "C"])[0]                  # one seed: nothing known
    mixed = {"A": one["A"], "C": stats["C"]}
    assert not ordering_verdict(mixed, ["A", "C"])[0]                     # one of the two has one seed
    assert "model order A < B < C NOT significant" in seed_note(stats)
    assert seed_stats(da, architecture="Z").n == 0


def _wet(bt: dict[str, list[float]], air: dict[str, list[float]]) -> xr.Dataset:
    """A wetting dataset of the Fig. 1d designs over three seeds."""
    archs = list(bt)
    shape = (len(archs), 1, 1, 1, 3)
    dims = ("architecture", "loading", "porosity", "ls_ratio", "seed")
    coords = {"architecture": archs, "loading": [29.6], "porosity": [0.55], "ls_ratio": [0.5], "seed": [0, 1, 2]}
    return xr.Dataset({"breakthrough_time": (dims, np.array([bt[a] for a in archs]).reshape(shape)),
                       "trapped_air_fraction": (dims, np.array([air[a] for a in archs]).reshape(shape))},
                      coords=coords)


def test_comparison_rows_say_whether_the_wetting_orderings_are_significant() -> None:
    from layerlab.aggregate.comparison import load_targets, wetting_rows
    from layerlab.aggregate.wetting_stats import seed_table
    wet = _wet({"L-S": [0.70, 0.72, 0.71], "Mix": [0.75, 0.74, 0.80], "S-L": [0.79, 0.81, 0.78]},
               {"L-S": [0.01, 0.005, 0.0], "Mix": [0.06, 0.02, 0.09], "S-L": [0.09, 0.001, 0.05]})
    rows = {(r.figure, r.kind): r for r in wetting_rows(load_targets(), wet)}
    bt = rows[("1d", "ordering")]
    assert bt.holds == "yes"                                   # means: L-S 0.71 < Mix 0.763 < S-L 0.793
    assert "L-S 0.71 +- 0.01 s (3 seeds)" in bt.note
    # L-S < Mix in every seed; Mix < S-L not in seed 2 (0.80 > 0.78) and the gap 0.03 < 2 x 0.032
    assert "model order L-S < Mix < S-L NOT significant" in bt.note and "L-S < Mix: significant" in bt.note
    air = rows[("1e", "ordering")]
    assert air.holds == "yes" and "L-S 0.5 +- 0.5 %" in air.note
    table = seed_table(wet)
    assert "| Fig. 1d breakthrough | L-S < Mix < S-L: holds (means) | L-S < Mix < S-L | not significant" in table
    assert "| L-S 29.6 mg/cm2 | 0.71 +- 0.01 (3 seeds) | 0.7, 0.72, 0.71 |" in table
