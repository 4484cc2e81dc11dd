"""Cross-check of the dolfinx DFN half cell against PyBaMM's DFN on identical inputs.

Single population: Chen2020 NMC811 positive electrode (75.6 um, porosity 0.335), Nyman2008
electrolyte, Xu2019 lithium foil and separator; CC discharges from stoichiometry 0.27 to 3.5 V
(inside the OCP range, so the end is set by the physics both codes share rather than by the
singular approach to surface saturation).  Two populations: PyBaMM's two particle phases with
depth-dependent volume fractions (an L-Dry-S-like bilayer).
"""

from __future__ import annotations

import numpy as np
import pytest

pybamm = pytest.importorskip("pybamm")

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec  # noqa: E402
from layerlab.electrochem.dfn import DFNModel, Discretisation  # noqa: E402
from layerlab.electrochem.integrator import Integrator, Segment  # noqa: E402
from layerlab.electrochem.parameters import CROSSCHECK_SET, load_parameters  # noqa: E402
from layerlab.electrochem.peer import pybamm_half_cell  # noqa: E402

V_CUT = 3.5
ONE_C_A_M2 = 50.0   # about 1C for this electrode (same value in both codes)
PYBAMM_DISC = Discretisation(cells_separator=20, cells_cathode=20, radial_volumes=20)


def _single() -> HalfCell:
    cath = CathodeSpec(layers=(LayerSpec("L", 75.6e-6, 0.335, {"L": 0.665}),), radius_m={"L": 5.22e-6})
    return HalfCell(load_parameters(CROSSCHECK_SET), cath)


def _bilayer() -> HalfCell:
    # S on top (separator side), L at the current collector: 40 + 40 um, porosity 0.335
    layers = (LayerSpec("L", 40e-6, 0.335, {"L": 0.6}, inactive_fraction=0.065),
              LayerSpec("S", 40e-6, 0.335, {"S": 0.6}, inactive_fraction=0.065))
    cath = CathodeSpec(layers=layers, radius_m={"L": 5.65e-6, "S": 2.25e-6})
    return HalfCell(load_parameters(CROSSCHECK_SET), cath)


def _pybamm_discharge(cell: HalfCell, current_A_m2: float) -> tuple[np.ndarray, np.ndarray, float]:
    model, values, var_pts = pybamm_half_cell(cell, v_min_V=V_CUT)
    values["Current function [A]"] = current_A_m2
    sim = pybamm.Simulation(model, parameter_values=values, var_pts=var_pts, solver=pybamm.IDAKLUSolver())
    sol = sim.solve([0, 3.0 * 3600 * ONE_C_A_M2 / current_A_m2])
    t = sol["Time [s]"].entries
    return t, sol["Voltage [V]"].entries, float(sol["Discharge capacity [A.h]"].entries[-1]) * 3600.0


def _ours(cell: HalfCell, current_A_m2: float, disc: Discretisation = PYBAMM_DISC):
    model = DFNModel(cell, disc)
    it = Integrator(model, record_profiles=False)
    tr = it.run(Segment("current", current_A_m2, 3.0 * 3600 * ONE_C_A_M2 / current_A_m2, v_min_V=V_CUT))
    assert tr.end_reason == "voltage cut-off"
    return np.array(tr.t_s), np.array(tr.voltage_V), it.charge_C_m2


@pytest.mark.slow
@pytest.mark.parametrize("c_rate", [0.1, 0.5, 1.0, 2.0])
def test_single_population_matches_pybamm(c_rate: float) -> None:
    """Voltage RMS difference < 5 mV over the discharge and capacity within 0.5 %."""
    cell = _single()
    I = c_rate * ONE_C_A_M2
    tp, Vp, Qp = _pybamm_discharge(cell, I)
    t, V, Q = _ours(cell, I)
    grid = np.linspace(0.0, min(t[-1], tp[-1]), 400)[1:]      # t > 0: our t = 0 is the rest state
    diff = np.interp(grid, t, V) - np.interp(grid, tp, Vp)
    rms_mV = 1e3 * float(np.sqrt(np.mean(diff ** 2)))
    assert rms_mV < 5.0, f"voltage RMS difference {rms_mV:.2f} mV at {c_rate} C"
    assert abs(Q / Qp - 1) < 5e-3, f"capacity {Q:.1f} vs PyBaMM {Qp:.1f} C/m2 at {c_rate} C"


@pytest.mark.slow
def test_two_population_bilayer_matches_pybamm_capacity() -> None:
    """Two particle phases with depth-dependent volume fractions: capacity within 1 % at 1C."""
    cell = _bilayer()
    I = ONE_C_A_M2
    _, _, Qp = _pybamm_discharge(cell, I)
    _, _, Q = _ours(cell, I, Discretisation(cells_separator=20, cells_cathode=40, radial_volumes=20))
    assert abs(Q / Qp - 1) < 1e-2, f"capacity {Q:.1f} vs PyBaMM {Qp:.1f} C/m2"
