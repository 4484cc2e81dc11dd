"""The rate-test protocols of ``electrochem.protocol``: CC-CV charge at a fixed rate before each
discharge ("fixed"), charge and discharge at each rate ("symmetric", CV optional), or each discharge
from rest at the OCP of v_max_V ("rest")."""

from __future__ import annotations

import pytest

from layerlab.cases import parse_case
from layerlab.electrochem.cell import HalfCell, cathode_from_design
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator
from layerlab.electrochem.parameters import load_parameters
from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.protocols import RateTest, cc, one_c_A_m2, run_rate_test
from layerlab.errors import InputError

COARSE = Discretisation(cells_separator=4, cells_cathode=10, radial_volumes=6)


@pytest.fixture(scope="module")
def cell() -> HalfCell:
    design = parse_case("L-Dry-S_load22_por0.55_ls0.5").design()
    return HalfCell(load_parameters(), cathode_from_design(design))


def _run(cell: HalfCell, test: RateTest):
    model = DFNModel(cell, COARSE)
    try:
        return run_rate_test(Integrator(model, record_profiles=False), test)
    finally:
        model.close()


def test_symmetric_low_rate_is_coulombic(cell) -> None:
    """0.05C charge / 0.05C discharge, twice, no CV: the charge runs at the discharge's rate, and in
    the second cycle (which starts from the first discharge's end, not from the initial state) the
    discharge returns the charge put in within 1e-4: lithium is conserved to 1e-8 (conservation test)
    and the end-of-discharge state at 0.05C repeats from cycle to cycle (measured 2e-7)."""
    res = _run(cell, RateTest(c_rates=(0.05, 0.05), charge="symmetric", cv=False))
    i_1c = one_c_A_m2(cell)
    charges = [s for s in res.segments if s.label.startswith("charge")]
    assert [s.value for s in charges] == pytest.approx([-0.05 * i_1c] * 2)
    assert not any(s.mode == "voltage" for s in res.segments)              # no CV step
    q_ch, q_dis = res.charge_capacity_C_m2[1], res.discharge_capacity_C_m2[1]
    pos = cell.params.positive
    assert q_dis > 0.5 * cell.theoretical_capacity_C_m2(pos.initial_stoichiometry, pos.discharged_stoichiometry)
    assert abs(q_dis / q_ch - 1) < 1e-4, (q_ch, q_dis)


def test_symmetric_matches_cccv_at_low_rate(cell) -> None:
    """The 0.05C discharge after a 0.05C CC charge (symmetric, no CV) is within 1 % of the one after
    the 0.2C CC-CV charge (CV to 0.05C): both charges end at 4.3 V carrying 0.05C, and differ only by
    the solid gradients left behind (measured 0.5 %).  With a long CV (to 0.002C) after either charge
    both reach the same near-equilibrium state at 4.3 V: within 0.05 %."""
    sym = _run(cell, RateTest(c_rates=(0.05,), charge="symmetric", cv=False))
    cccv = _run(cell, RateTest(c_rates=(0.05,), charge="fixed", charge_c_rate=0.2, cv=True, cv_end_c_rate=0.05))
    q_sym, q_cccv = sym.discharge_capacity_C_m2[0], cccv.discharge_capacity_C_m2[0]
    assert abs(q_sym / q_cccv - 1) < 1e-2, (q_sym, q_cccv)
    sym_cv = _run(cell, RateTest(c_rates=(0.05,), charge="symmetric", cv=True, cv_end_c_rate=0.002))
    cccv_long = _run(cell, RateTest(c_rates=(0.05,), charge="fixed", charge_c_rate=0.2, cv=True,
                                    cv_end_c_rate=0.002))
    assert abs(sym_cv.discharge_capacity_C_m2[0] / cccv_long.discharge_capacity_C_m2[0] - 1) < 5e-4


def test_symmetric_fast_charge_stores_less(cell) -> None:
    """At 1C the symmetric protocol's CC charge stops at 4.3 V with the electrode less charged than
    the 0.2C CC-CV charge leaves it (polarisation), so the 1C discharge delivers less: the modes
    differ where they should."""
    sym = _run(cell, RateTest(c_rates=(1.0,), charge="symmetric", cv=False))
    cccv = _run(cell, RateTest(c_rates=(1.0,), charge="fixed", charge_c_rate=0.2, cv=True))
    assert sym.charge_capacity_C_m2[0] < 0.97 * cccv.charge_capacity_C_m2[0]
    assert sym.discharge_capacity_C_m2[0] < cccv.discharge_capacity_C_m2[0]


def test_rest_mode_discharges_from_the_rest_state_at_v_max(cell) -> None:
    """``charge: rest`` (the resolved 3D runs' DFN counterpart): each discharge starts from rest at the
    OCP of v_max_V, as a fresh model set to that state and discharged does (within the Newton
    tolerance; measured 0 and 2.4e-12), whatever the discharge before it; nothing is charged.  It is
    the limit of a slow CV: at 1C it delivers a little more than after the 0.2C CC-CV charge to 0.05C
    (measured +1.3 %)."""
    s0 = stoichiometry_at_ocp(cell.params.positive.ocp, 4.3)
    rest = _run(cell, RateTest(c_rates=(1.0, 0.5), charge="rest", cv=False))
    assert rest.charge_capacity_C_m2 == [0.0, 0.0]
    assert not any(s.label.startswith("charge") for s in rest.segments)
    for c, q in zip((1.0, 0.5), rest.discharge_capacity_C_m2):
        model = DFNModel(cell, COARSE)
        try:
            model.set_initial_state(s0)
            it = Integrator(model, record_profiles=False)
            it.run(cc(cell, c, v_min_V=2.7))
            assert abs(q / it.charge_C_m2 - 1) < 1e-9, (c, q, it.charge_C_m2)
        finally:
            model.close()
    cccv = _run(cell, RateTest(c_rates=(1.0,), charge="fixed", charge_c_rate=0.2, cv=True))
    q_rest, q_cccv = rest.discharge_capacity_C_m2[0], cccv.discharge_capacity_C_m2[0]
    assert q_cccv < q_rest < 1.02 * q_cccv, (q_rest, q_cccv)


@pytest.mark.parametrize("kwargs, field", [({"cv": True}, "electrochem.protocol.cv")])
def test_rest_mode_bad_input_names_the_field(cell, kwargs, field) -> None:
    with pytest.raises(InputError) as err:
        RateTest(c_rates=(1.0,), charge="rest", **kwargs).validate(cell)
    assert err.value.field == field
