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

