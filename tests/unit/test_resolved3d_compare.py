"""Metrics of ``resolve3d-compare`` on hand-made datasets with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from layerlab.cfnames import DISTANCE, PROFILE_SAMPLE, PROTOCOL_TIME, SAMPLE
from layerlab.resolved.compare3d import dfn_metrics, resolved_metrics, table_csv


CMAX = 50000.0


def _dfn() -> xr.Dataset:
    """Rate-test dataset: a charge (segment 0), then a 1C discharge whose voltage falls linearly 4.2 -> 3.0 V
    while the capacity rises 0 -> 120 mAh/g; L present in the lower half, S everywhere."""
    n, depth = 13, np.linspace(0.0, 40e-6, 5)
    seg = np.r_[np.zeros(3, int), np.ones(n, int)]
    volt = np.r_[[4.0, 4.1, 4.2], np.linspace(4.2, 3.0, n)]
    cap = np.r_[[0.0, 1.0, 2.0], np.linspace(0.0, 120.0, n)]
    frac = np.r_[np.zeros(3), np.linspace(0.0, 1.0, n)]
    ce = 1000.0 + frac[:, None] * np.array([-300.0, -100.0, 0.0, 100.0, 200.0])[None]   # spread 500 x frac
    mpc = np.empty((len(seg), 2, 5))
    mpc[:, 0] = CMAX * (0.3 + 0.2 * frac[:, None])                    # L: +0.2 at the end
    mpc[:, 0, 3:] = np.nan
    mpc[:, 1] = CMAX * (0.3 + frac[:, None] * np.array([0.1, 0.1, 0.3, 0.3, 0.3]))   # S: top-loaded
    return xr.Dataset(
        {"voltage": (SAMPLE, volt), "capacity": (SAMPLE, cap),
         "segment": (SAMPLE, seg, {"flag_meanings": "charge_before_1C discharge_1C"}),
         PROTOCOL_TIME: (SAMPLE, np.arange(len(seg), dtype=float)),
         "electrolyte_concentration": ((SAMPLE, DISTANCE), ce),
         "mean_particle_concentration": ((SAMPLE, "population", DISTANCE), mpc)},
        coords={DISTANCE: depth, "population": ["L", "S"]})


def test_dfn_metrics_read_at_the_cut_off() -> None:
    m = dfn_metrics(_dfn(), CMAX, v_cut_V=3.55)
    # the capacity where V = 3.55 V: 120 x 0.65 / 1.2
    assert m["capacity_mAh_g"] == pytest.approx(65.0, rel=1e-12)
    # taken over the discharge up to the first point at or below 3.55 V (3.5 V, index 7 of 12): frac 7/12
    assert m["ce_spread_mol_m3"] == pytest.approx(500.0 * 7 / 12, rel=1e-12)
    assert m["utilisation_L"] == pytest.approx(0.2 * 7 / 12, rel=1e-12)
    assert m["utilisation_S"] == pytest.approx(0.22 * 7 / 12, rel=1e-12)
    # depth mean over the populations present: [0.15 0.15 0.25 | 0.3 0.3] x frac; halves at 20 um
    lower, upper = np.mean([0.15, 0.15, 0.25]), np.mean([0.3, 0.3])
    assert m["top_bottom_utilisation"] == pytest.approx(upper / lower, rel=1e-12)


def _resolved() -> xr.Dataset:
    t = np.array([0.0, 100.0, 200.0, 300.0])
    depth = np.array([5e-6, 15e-6, 25e-6, 35e-6])
    ce = np.array([[1000.0] * 4, [900.0, 950.0, 1000.0, 1100.0], [800.0, 900.0, 1050.0, 1200.0],
                   [850.0, 900.0, 1000.0, 1100.0]])
    st = np.array([[0.3, 0.3, 0.3, np.nan]] * 3 + [[0.4, 0.5, 0.6, np.nan]])
    ds = xr.Dataset(
        {"voltage": (SAMPLE, [4.3, 4.0, 3.7, 3.5]), "segment": (SAMPLE, [0, 0, 0, 0]), PROTOCOL_TIME: (SAMPLE, t),
         "segment_label": ("segment_index", ["discharge"]),
         "c_e": ((PROFILE_SAMPLE, DISTANCE), ce), "stoichiometry": ((PROFILE_SAMPLE, DISTANCE), st),
         "profile_time": (PROFILE_SAMPLE, t),
         "particle_population": ("particle", ["L", "L", "S"]),
         "particle_volume": ("particle", [1.0, 3.0, 2.0]),
         "particle_end_stoichiometry": ("particle", [0.5, 0.7, 0.4])},
        coords={DISTANCE: depth, "segment_index": [0]})
    ds.attrs.update({"initial_stoichiometry": 0.3, "discharge_capacity_mAh_g": 150.0})
    return ds


def test_resolved_metrics_and_table() -> None:
    m = resolved_metrics(_resolved())
    assert m["capacity_mAh_g"] == 150.0
    assert m["ce_spread_mol_m3"] == pytest.approx(400.0)
    assert m["utilisation_L"] == pytest.approx((1.0 * 0.2 + 3.0 * 0.4) / 4.0)
    assert m["utilisation_S"] == pytest.approx(0.1)
    # end stoichiometry change by depth [0.1 0.2 0.3]; the middle is 15 um: lower {0.1, 0.2}, upper {0.3}
    assert m["top_bottom_utilisation"] == pytest.approx(0.3 / 0.15)
    ds = xr.Dataset({k: (("case", "model"), np.array([[v, 2 * v]])) for k, v in m.items()},
                    coords={"case": ["c"], "model": ["resolved", "dfn"]})
    head, row = table_csv(ds).splitlines()
    assert head.startswith("case,capacity_mAh_g_resolved,capacity_mAh_g_dfn")
    assert row.split(",")[1:3] == ["150", "300"]
