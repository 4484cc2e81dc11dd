"""The chord Newton path (Jacobian reuse, electrochem/newton.py) against the SNES reference."""

from __future__ import annotations

import dataclasses

from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.integrator import Integrator
from layerlab.electrochem.parameters import FARADAY
from layerlab.electrochem.protocols import RateTest, run_rate_test

from test_dfn_conservation import COARSE, _bilayer_cell


def _cycle(newton: str):
    model = DFNModel(_bilayer_cell(), dataclasses.replace(COARSE, newton=newton))
    model.set_initial_state(0.8)
    it = Integrator(model, record_profiles=False)
    m0 = model.lithium_inventory()
    res = run_rate_test(it, RateTest(c_rates=(1.0,), charge_c_rate=1.0, cv_end_c_rate=0.2,
                                     v_min_V=3.5, v_max_V=4.2, rest_s=600.0))
    drift = (model.lithium_inventory() - m0 - it.charge_C_m2 / FARADAY) / m0
    return res, drift, model.jacobian_evaluations()


def test_chord_newton_conserves_and_matches_snes() -> None:
    """Chord Newton conserves lithium to 1e-8 over CC-CV, discharge and rest, gives the SNES
    reference's charge and discharge capacities to 1e-6, and reuses Jacobians (fewer than steps)."""
    ref, _, _ = _cycle("snes")
    res, drift, jacobians = _cycle("chord")
    assert abs(drift) < 1e-8
    for a, b in zip(res.discharge_capacity_C_m2 + res.charge_capacity_C_m2,
                    ref.discharge_capacity_C_m2 + ref.charge_capacity_C_m2):
        assert abs(a / b - 1) < 1e-6, (a, b)
    steps = sum(tr.steps for tr in res.traces)
    assert 0 < jacobians < steps, (jacobians, steps)
