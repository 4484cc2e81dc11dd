"""DFN at a very low layer electronic conductivity (~1e-3 S/m, the network mechanism's S layer at
r_c = 4e-4 ohm m2): the 0.1C discharge reaches its end without a Newton failure.

Cause of the former failure (t = 34350 s of this discharge, SNES stalls at any step size): one layer
saturates while another still reacts; a BDF2 step (not monotone) was accepted with a radial
control-volume stoichiometry above 1 next to a saturated surface, and from such a state the discrete
problem has no solution (lithium would diffuse out through a surface whose exchange current is
zero).  The integrator now rejects steps that leave [0, 1] (``Integrator._try``).  Second cause (a
uniform 1.5e-3 S/m, Mix-Dry-Mix; failed at t = 30292 s with SNES reason -3 after the first fix): surfaces
saturated to round-off (logit > ~37) leave the logit column of the Jacobian ~0, the unpivoted LU
fails, and with a shifted pivot Newton stalls at |F| ~ K eps ~ 1e-10, the absolute tolerance; the DFN
now shifts such pivots and accepts a stall at <= 10 x atol (``DFNModel._at_roundoff``)."""

from __future__ import annotations

import pytest

from layerlab.cases import parse_case
from layerlab.electrochem.cell import HalfCell, cathode_from_design
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.integrator import STOICHIOMETRY_SLACK, Integrator
from layerlab.electrochem.mechanisms import with_layer_conductivity
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.electrochem.protocols import cc

# network stage, 55 %, r_c = 4e-4 ohm m2: per layer (L-Dry-S), and the mixed reference's value everywhere
CASES = {"L-Dry-S_load22_por0.55_ls0.5": {"L": 3.446e-3, "S": 1.344e-3, "band": 1.5e-3},
         "Mix-Dry-Mix_load22_por0.55_ls0.5": 1.498e-3}


@pytest.mark.parametrize("case", sorted(CASES))
def test_low_conductivity_discharge_reaches_its_end(case: str) -> None:
    """22 mg/cm2, 55 %, campaign resolution, from rest at 4.3 V: the 0.1C discharge ends by
    the cut-off or by saturation of every reacting surface below the OCP range (then the charge left is
    < I x the last step), never by a solver failure; no stoichiometry leaves [0, 1]; lithium is conserved
    to 1e-8 (BDF charge bookkeeping); it delivers > 90 % of the lithium the cathode can take from
    4.3 V to full lithiation (at 0.1C the electronic drop shifts where, not how much, lithium goes in)."""
    params = load_parameters()
    cath = cathode_from_design(parse_case(case).design())
    sigma = CASES[case]
    cath = with_layer_conductivity(cath, sigma if isinstance(sigma, dict) else {lay.name: sigma for lay in cath.layers})
    cell = HalfCell(params, cath)
    model = DFNModel(cell, Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8))
    sto0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    model.set_initial_state(sto0)
    m0 = model.lithium_inventory()
    it = Integrator(model, record_profiles=False)
    tr = it.run(cc(cell, 0.1, v_min_V=2.7))
    assert tr.end_reason in ("voltage cut-off", "saturation (voltage plunge below the OCP range)"), tr.end_reason
    assert model.stoichiometry_excess() <= STOICHIOMETRY_SLACK
    assert abs(model.lithium_inventory() - m0 - it.charge_C_m2 / FARADAY) / m0 < 1e-8
    room = cell.theoretical_capacity_C_m2(sto0, 1.0)
    assert 0.9 * room < it.charge_C_m2 < room, (it.charge_C_m2, room)
    model.close()


def test_charge_after_a_saturation_end() -> None:
    """L-Dry-S, 22 mg/cm2, 55 %: the 0.2C charge that follows a 0.1C discharge ended by saturation of
    every surface (logits ~67) reaches 4.3 V.  It failed at its first step (Newton stalled at
    |F| ~ 1e-8, the round-off floor of the saturated nodes' charge rows, |F_0| ~ 0.3-4) until stalls
    within 1e-8 |F_0| count as converged.  Lithium conserved to 1e-8 over both; the charge moves back
    > 50 % of what the discharge put in (the rest stays in the electronically starved S layer)."""
    params = load_parameters()
    case = "L-Dry-S_load22_por0.55_ls0.5"
    cath = with_layer_conductivity(cathode_from_design(parse_case(case).design()), CASES[case])
    cell = HalfCell(params, cath)
    model = DFNModel(cell, Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8))
    model.set_initial_state(stoichiometry_at_ocp(params.positive.ocp, 4.3))
    m0 = model.lithium_inventory()
    it = Integrator(model, record_profiles=False)
    dis = it.run(cc(cell, 0.1, v_min_V=2.7))
    assert dis.end_reason.startswith("saturation"), dis.end_reason
    q_dis = it.charge_C_m2
    ch = it.run(cc(cell, -0.2, v_max_V=4.3))
    assert ch.end_reason == "voltage cut-off"
    assert abs(model.lithium_inventory() - m0 - it.charge_C_m2 / FARADAY) / m0 < 1e-8
    assert q_dis - it.charge_C_m2 > 0.5 * q_dis
    model.close()
