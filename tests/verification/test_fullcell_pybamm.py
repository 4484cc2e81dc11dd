"""Cross-check of the dolfinx DFN full cell against PyBaMM's DFN on identical inputs.

PyBaMM's Chen2020 LG M50 set as a whole (config/parameters/dfn_fullcell_chen2020.yaml: graphite
85.2 um | separator 12 um | NMC811 75.6 um, Nyman2008 electrolyte), charged start (stoichiometries
0.9014 / 0.27), CC discharges to 2.5 V; 20 points per region and in r in both codes.  With SEI:
PyBaMM's "ec reaction limited" SEI (Yang 2017) with the same parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

pybamm = pytest.importorskip("pybamm")

from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec  # noqa: E402
from layerlab.electrochem.dfn import DFNModel, Discretisation  # noqa: E402
from layerlab.electrochem.integrator import Integrator, Segment  # noqa: E402
from layerlab.electrochem.parameters import FULLCELL_CROSSCHECK_SET, load_anode, load_parameters  # noqa: E402
from layerlab.electrochem.peer import pybamm_full_cell  # noqa: E402

V_CUT = 2.5
ONE_C_A_M2 = 48.7           # Chen2020: 5 A h over 0.1027 m2
DISC = Discretisation(cells_separator=20, cells_cathode=20, cells_anode=20, radial_volumes=20)


def _cell(sei: bool) -> HalfCell:
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    if sei:
        params = params.with_anode(params.negative, load_anode()[1])
    cath = CathodeSpec(layers=(LayerSpec("L", 75.6e-6, 0.335, {"L": 0.665}),), radius_m={"L": 5.22e-6})
    return HalfCell(params, cath, anode=AnodeSpec(85.2e-6, 0.25, 0.75, 5.86e-6))


def _compare(c_rate: float, sei: str) -> tuple[float, float]:
    cell = _cell(sei != "none")
    I = c_rate * ONE_C_A_M2
    t_end = 1.2 * 3600.0 / c_rate
    model, values, var_pts = pybamm_full_cell(cell, v_min_V=V_CUT, sei=sei)
    values["Current function [A]"] = I
    sol = pybamm.Simulation(model, parameter_values=values, var_pts=var_pts,
                            solver=pybamm.IDAKLUSolver()).solve([0, t_end])
    tp, Vp = sol["Time [s]"].entries, sol["Voltage [V]"].entries
    Qp = float(sol["Discharge capacity [A.h]"].entries[-1]) * 3600.0
    ours = DFNModel(cell, DISC, sei=sei)
    it = Integrator(ours, record_profiles=False)
    tr = it.run(Segment("current", I, t_end, v_min_V=V_CUT))
    assert tr.end_reason == "voltage cut-off"
    t, V = np.array(tr.t_s), np.array(tr.voltage_V)
    grid = np.linspace(0.0, min(t[-1], tp[-1]), 400)[1:]
    rms_mV = 1e3 * float(np.sqrt(np.mean((np.interp(grid, t, V) - np.interp(grid, tp, Vp)) ** 2)))
    return rms_mV, it.charge_C_m2 / Qp - 1


@pytest.mark.slow
@pytest.mark.parametrize("c_rate", [0.1, 0.5, 1.0])
def test_full_cell_matches_pybamm(c_rate: float) -> None:
    """Voltage RMS difference < 5 mV and capacity within 0.5 % (measured: ~2 mV, < 0.02 %)."""
    rms_mV, dq = _compare(c_rate, "none")
    assert rms_mV < 5.0, f"voltage RMS difference {rms_mV:.2f} mV at {c_rate} C"
    assert abs(dq) < 5e-3, f"capacity off by {100 * dq:.3f} % at {c_rate} C"


@pytest.mark.slow
def test_full_cell_with_sei_matches_pybamm() -> None:
    """EC-reaction-limited SEI (it costs ~2 % of the 0.1C capacity here): same tolerances."""
    rms_mV, dq = _compare(0.1, "ec reaction limited")
    assert rms_mV < 5.0 and abs(dq) < 5e-3, (rms_mV, dq)
