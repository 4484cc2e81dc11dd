"""Scalar run metrics: the 1 % breakthrough time and the time to steady state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.wetting.metrics import breakthrough_time, steady_time


def test_breakthrough_is_first_crossing_of_one_percent_of_the_maximum() -> None:
    t = np.linspace(0.0, 1.0, 101)
    f = np.clip((t - 0.5) * 2.0, 0.0, None) * 0.8          # ramps from t = 0.5 to 0.8 at t = 1
    # 1 % of max 0.8 = 0.008 -> (t - 0.5) * 1.6 = 0.008 -> t = 0.505
    assert breakthrough_time(t, f) == pytest.approx(0.505, abs=1e-12)


def test_breakthrough_is_nan_when_the_outlet_stays_dry() -> None:
    t = np.linspace(0.0, 1.0, 11)
    assert math.isnan(breakthrough_time(t, np.full(11, 1e-4)))


def test_steady_time() -> None:
    t = np.linspace(0.0, 1.0, 101)
    s = np.minimum(t / 0.4, 1.0)
    assert steady_time(t, s, tol=1e-3) == pytest.approx(0.4, abs=0.011)
    assert math.isnan(steady_time(t, t, tol=1e-3))            # still rising at the end


def test_breakthrough_variants_reference_and_signals() -> None:
    """1 % of the final value vs of the maximum (an overshooting signal), and one entry per signal."""
    from layerlab.wetting.metrics import BREAKTHROUGH_SIGNALS, breakthrough_variants
    t = np.linspace(0.0, 1.0, 101)
    f = np.clip((t - 0.5) * 2.0, 0.0, 1.0)          # reaches 1 at t = 1
    over = np.where(t < 0.9, f, 2.0 * f)            # doubled over the last records
    over[-1] = 1.0                                  # final 1, max 1.96 (at t = 0.99)
    assert breakthrough_time(t, over, reference="final") == pytest.approx(0.505, abs=1e-12)
    assert breakthrough_time(t, over, reference="max") == pytest.approx(0.5 + 0.0196 / 2, abs=1e-12)
    series = {"outlet_fraction": f, "outlet_fraction_raw": over, "outlet_flux_fraction": f}
    got = breakthrough_variants(t, series)
    assert set(got) == {f"{s}/{r}" for s in BREAKTHROUGH_SIGNALS for r in ("max", "final")}
    assert got["area_clipped/max"] == got["area_clipped/final"] == pytest.approx(0.505, abs=1e-12)
    assert got["area_raw/max"] == pytest.approx(0.5 + 0.0196 / 2, abs=1e-12)
    assert math.isnan(got["flux_raw/max"])          # not recorded
    at_rest = f.copy()
    at_rest[0] = np.nan                             # no outflow yet: the flux share is undefined
    assert breakthrough_variants(t, {"outlet_flux_fraction": at_rest})["flux_clipped/max"] == pytest.approx(0.505)
    with pytest.raises(ValueError):
        breakthrough_time(t, f, reference="mean")



def test_breakthrough_determined_brackets_every_continuation() -> None:
    """Whatever the outlet fraction does after a stop (staying <= 1), the breakthrough time of the
    whole run lies within ``tol_s`` of the one at the stop once :func:`breakthrough_determined` holds;
    before that, a continuation exists that moves it by more."""
    from layerlab.wetting.metrics import breakthrough_determined
    t = np.linspace(0.0, 1.0, 501)
    f = np.clip((t - 0.5) * 5.0, 0.0, 1.0) * 0.6            # plateau at 0.6 from t = 0.62 on
    rng = np.random.default_rng(0)
    tol = 1.5e-3          # bracket at a stop: 1 % of 0.15 .. of 1 (t = 0.55), of 0.6 .. of 1 (1.33e-3 s, later)
    verdicts = []
    for stop in (0.55, 0.7, 0.9):
        seen = t <= stop
        ok = breakthrough_determined(t[seen], f[seen], tol_s=tol)
        verdicts.append(ok)
        at_stop = breakthrough_time(t[seen], f[seen])
        later = []
        for _ in range(20):                                   # continuations up to the bound 1
            tail = np.clip(f[~seen] + rng.uniform(0.0, 1.0) * np.clip(t[~seen] - stop, 0.0, None) * 10, 0.0, 1.0)
            later.append(breakthrough_time(t, np.concatenate([f[seen], tail])))
        moved = max(abs(b - at_stop) for b in later)
        if ok:
            assert moved <= tol
        else:
            assert moved > tol             # a continuation to 1 crosses 1 % of 1 later than 1 % of 0.15
    assert verdicts == [False, True, True]
    assert not breakthrough_determined(t, np.zeros_like(t), tol_s=1.0)       # dry outlet: NaN, never determined
    full = np.clip((t - 0.5) * 5.0, 0.0, 1.0)                              # reaches the bound 1
    assert breakthrough_determined(t, full, tol_s=1e-12)


def test_stopping_rule_waits_for_a_determined_breakthrough() -> None:
    """Saturation flat over the window does not stop a run whose outlet fraction could still grow
    enough to move the 1 % breakthrough time (the rule before 2026-12-08 stopped it: max >= 0.05);
    the same flat saturation with a wet outlet does."""
    from layerlab.wetting.run import History, Schedule, _is_steady
    sched = Schedule(end_time_s=1.0, record_interval_s=1e-3, steady_window_s=0.02, steady_tol=1e-3,
                     breakthrough_tol_s=1e-4)
    t = np.arange(0.0, 0.3, 1e-3)
    for outlet, expect in ((np.clip((t - 0.1) * 0.5, 0.0, 0.06), False), (np.clip((t - 0.1) * 20, 0.0, 1.0), True)):
        hist = History()
        hist.series["t"] = list(t)
        hist.series["saturation"] = list(np.minimum(t / 0.2, 1.0))
        hist.series["outlet_fraction"] = list(outlet)
        assert max(outlet) >= 0.05
        assert _is_steady(hist, sched) is expect
