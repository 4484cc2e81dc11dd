"""The DFN half cell with the Landesfeind & Gasteiger (2019) EC:EMC 3:7 electrolyte (conductivity,
diffusivity, transference number and thermodynamic factor all functions of c_e): PyBaMM agreement
and lithium conservation.

Same cells and set-ups as test_dfn_pybamm.py (Chen2020 single layer) and test_dfn_conservation.py
(two-population bilayer), whose helpers are reused, with the electrolyte section replaced.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from layerlab.electrochem.cell import HalfCell
from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.integrator import Integrator
from layerlab.electrochem.parameters import FARADAY, LANDESFEIND_SET, load_parameters
from layerlab.electrochem.protocols import RateTest, run_rate_test
from test_dfn_conservation import COARSE, _bilayer_cell  # noqa: E402 (sibling test module)


def _with_landesfeind(cell: HalfCell) -> HalfCell:
    ele = load_parameters(LANDESFEIND_SET).electrolyte
    assert not isinstance(ele.transference_number, float)       # really concentration dependent
    return dataclasses.replace(cell, params=cell.params.replace("electrolyte", **vars(ele)))


@pytest.mark.parametrize("c_rate", [1.0, 2.0])
def test_landesfeind_single_layer_matches_pybamm(c_rate: float) -> None:
    """Voltage RMS difference < 5 mV and capacity within 0.5 % of PyBaMM given the same four functions."""
    pytest.importorskip("pybamm")
    from test_dfn_pybamm import ONE_C_A_M2, _ours, _pybamm_discharge, _single
    cell = _with_landesfeind(_single())
    I = c_rate * ONE_C_A_M2
    tp, Vp, Qp = _pybamm_discharge(cell, I)
    t, V, Q = _ours(cell, I)
    grid = np.linspace(0.0, min(t[-1], tp[-1]), 400)[1:]
    rms_mV = 1e3 * float(np.sqrt(np.mean((np.interp(grid, t, V) - np.interp(grid, tp, Vp)) ** 2)))
    print(f"{c_rate} C: RMS {rms_mV:.3f} mV, capacity {Q:.1f} vs PyBaMM {Qp:.1f} C/m2 ({Q / Qp - 1:+.2e})")
    assert rms_mV < 5.0, f"voltage RMS difference {rms_mV:.2f} mV at {c_rate} C"
    assert abs(Q / Qp - 1) < 5e-3, f"capacity {Q:.1f} vs PyBaMM {Qp:.1f} C/m2 at {c_rate} C"


def test_lithium_conserved_with_concentration_dependent_transference() -> None:
    """Electrolyte + particles + charge through the foil / F constant to 1e-8 over CC-CV charge,
    1C discharge and rest, with t+(c_e) and TDF(c_e) (conservative flux form)."""
    model = DFNModel(_with_landesfeind(_bilayer_cell()), COARSE)
    model.set_initial_state(0.8)
    it = Integrator(model, record_profiles=False)
    m0 = model.lithium_inventory()
    res = run_rate_test(it, RateTest(c_rates=(1.0,), charge_c_rate=1.0, cv_end_c_rate=0.2,
                                     v_min_V=3.5, v_max_V=4.2, rest_s=600.0))
    for tr in res.traces:
        for m, q in zip(tr.inventory_mol_m2, tr.charge_C_m2):
            assert abs(m - m0 - q / FARADAY) / m0 < 1e-8
    assert res.discharge_capacity_C_m2[0] > 0.3 * res.charge_capacity_C_m2[0] > 0
