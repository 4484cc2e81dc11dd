"""Full cell with SEI growth: lithium bookkeeping, analytic film growth, contact resistance.

Full cell = PyBaMM's Chen2020 LG M50 geometry (graphite 85.2 um | 12 um | NMC811 75.6 um) at a
coarse resolution; the SEI parameters of config/parameters/graphite_chen2020.yaml.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import FARADAY, FULLCELL_CROSSCHECK_SET, load_anode, load_parameters
from layerlab.electrochem.protocols import RateTest, run_rate_test
from layerlab.electrochem.sei import growth_coefficient_m3_C

COARSE = Discretisation(cells_separator=4, cells_cathode=8, cells_anode=8, radial_volumes=6)
ONE_C_A_M2 = 48.7        # Chen2020: 5 A h over 0.1027 m2


def full_cell(sei_overrides: dict | None = None, **positive) -> HalfCell:
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    _, sei = load_anode()
    params = params.with_anode(params.negative, sei)
    if sei_overrides:
        params = params.replace("sei", **sei_overrides)
    if positive:
        params = params.replace("positive", **positive)
    cath = CathodeSpec(layers=(LayerSpec("L", 75.6e-6, 0.335, {"L": 0.665}),), radius_m={"L": 5.22e-6},
                       capacity_1C_A_m2=ONE_C_A_M2)
    return HalfCell(params, cath, anode=AnodeSpec(85.2e-6, 0.25, 0.75, 5.86e-6))


def _cycle(model: DFNModel) -> tuple[Integrator, list]:
    it = Integrator(model, record_profiles=False)
    res = run_rate_test(it, RateTest(c_rates=(1.0,), charge_c_rate=1.0, cv_end_c_rate=0.2,
                                     v_min_V=3.0, v_max_V=4.1, rest_s=600.0))
    return it, res.traces


def test_full_cell_inventory_conserved_without_sei() -> None:
    """Both electrodes + electrolyte: constant to 1e-8 over CC discharge, CC-CV charge, rest."""
    model = DFNModel(full_cell(), COARSE)
    m0 = model.lithium_inventory()
    it, traces = _cycle(model)
    assert it.charge_C_m2 != 0
    for tr in traces:
        for m in tr.inventory_mol_m2:
            assert abs(m / m0 - 1) < 1e-8


def test_sei_lithium_loss_equals_integrated_sei_current() -> None:
    """With SEI growth the inventory falls by exactly the lithium bound in the film (1e-8), and that
    equals the time integral of the SEI current / F (trapezoid over the recorded steps, 1e-3)."""
    model = DFNModel(full_cell(), COARSE, sei="ec reaction limited")
    m0 = model.lithium_inventory()
    it, traces = _cycle(model)
    lost_total = m0 - model.lithium_inventory()
    assert lost_total > 1e-4 * m0                    # not trivially zero: ~0.1 % per cycle here
    integral = 0.0
    for tr in traces:
        for m, sei in zip(tr.inventory_mol_m2, tr.sei_lithium_mol_m2):
            assert abs((m + sei) / m0 - 1) < 1e-8
        integral += np.trapezoid(tr.sei_current_A_m2, tr.t_s) / FARADAY
    assert abs(-integral / lost_total - 1) < 1e-3


def test_solvent_diffusion_limited_film_grows_as_sqrt_t() -> None:
    """j_sei = -F D c / L, dL/dt = -j_sei V / (z F): L^2 = L0^2 + 2 D c V t / z at any current."""
    D = 1e-18                                       # 4000x the default: visible growth in 10 h
    cell = full_cell({"solvent_diffusivity_m2_s": D})
    model = DFNModel(cell, COARSE, sei="solvent-diffusion limited")
    it = Integrator(model, record_profiles=False)
    t_end = 10 * 3600.0
    it.run(Segment("current", 0.0, t_end, label="rest"))
    sp = cell.params.sei
    rate = 2 * D * sp.solvent_concentration_mol_m3 * FARADAY * growth_coefficient_m3_C(sp)
    L_exact = np.sqrt(sp.initial_thickness_m ** 2 + rate * t_end)
    prof = model.nodal_profiles()
    L = prof["sei_thickness"][prof["present_graphite"]]
    assert L_exact > 10 * sp.initial_thickness_m
    assert np.allclose(L, L_exact, rtol=2e-3)


@pytest.mark.parametrize("full", [False, True])
def test_contact_resistance_shifts_cc_voltage_and_cv_holds_terminal_voltage(full: bool) -> None:
    """CC: V(R_c) = V(0) - I R_c at the same internal state; CV: the terminal voltage is held and
    the collector current obeys (phi_s - V) / R_c."""
    R_c = 2e-3
    if full:
        cells = [full_cell(), full_cell(contact_resistance_ohm_m2=R_c)]
    else:
        from layerlab.electrochem.parameters import CROSSCHECK_SET
        cath = CathodeSpec(layers=(LayerSpec("L", 60e-6, 0.35, {"L": 0.6}),), radius_m={"L": 5.22e-6})
        p = load_parameters(CROSSCHECK_SET)
        cells = [HalfCell(p, cath), HalfCell(p.replace("positive", contact_resistance_ohm_m2=R_c), cath)]
    runs = []
    for cell in cells:
        model = DFNModel(cell, COARSE)
        if full:                                      # start half-way: room to charge
            model.set_initial_state(0.6, anode_sto=0.4)
        it = Integrator(model, record_profiles=False)
        cc = it.run(Segment("current", -30.0, 600.0, label="charge"))
        v_cv = cc.voltage_V[-1] + 0.02
        cv = it.run(Segment("voltage", v_cv, 300.0, label="CV"))
        runs.append((cc, cv, v_cv, model))
    (cc0, cv0, _, _), (cc1, cv1, v_cv, m1) = runs
    assert len(cc0.t_s) == len(cc1.t_s)
    np.testing.assert_allclose(cc1.current_A_m2, cc0.current_A_m2, rtol=1e-8, atol=1e-8)
    assert cc0.current_A_m2[-1] == pytest.approx(-30.0, rel=1e-8)
    np.testing.assert_allclose(np.array(cc1.voltage_V), np.array(cc0.voltage_V) - np.array(cc0.current_A_m2) * R_c,
                               atol=1e-9)
    np.testing.assert_allclose(cv1.voltage_V[1:], v_cv, atol=1e-9)
    phis = m1._scalar(m1._voltage_form)
    assert m1.current() == pytest.approx((phis - v_cv) / R_c, rel=1e-8)
    # with the contact drop the CV step draws less current
    assert abs(cv1.current_A_m2[1]) < abs(cv0.current_A_m2[1])
