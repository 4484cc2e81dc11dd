"""Cross-check of a PyBaMM set imported by name against PyBaMM's own DFN on that set.

PyBaMM runs the set's native ``ParameterValues`` (its own functions); layerlab runs the same set
through :mod:`layerlab.electrochem.pybamm_import` (translated functions) on the set's own cell.
Half cell: the set's positive electrode and separator against layerlab's lithium foil (the same
foil in both codes), charged to the OCP at the set's upper cut-off, CC discharge to its lower
cut-off; 1C is the capacity between those two OCP states.  Full cell: the set's cell charged to
100 % SOC by PyBaMM's ``set_initial_state(1)``, CC discharge; 1C from the set's nominal capacity.
The voltage RMS is taken over the first 99 % of the shorter discharge: the final plunge to the
cut-off (vertical for LFP) turns a sub-second timing difference into volts at one instant.
Used by ``tests/verification/test_pybamm_sets.py`` and ``bench/bench_pybamm_sets.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from layerlab.electrochem.parameters import FARADAY

RMS_WINDOW = 0.99   # share of the shorter discharge over which the voltage RMS is taken
# layerlab's step error control, 10x tighter than its default (IDAKLU's default rtol is 1e-4): with
# the default 2e-3, Prada2013's full cell (graphite D = 3e-15 m2/s, tau = R^2/D = 2.3 h) is off by
# 30 mV late in the discharge from the time error alone (2e-4: 1.4 mV at the same point)
TIME_RTOL = 2e-4
SETS = ("Marquis2019", "Mohtat2020", "Prada2013")   # cross-checked sets (besides Chen2020)


@dataclass(frozen=True)
class CrossCheck:
    """One discharge in both codes: capacity error (layerlab / PyBaMM - 1) and voltage RMS (mV)."""

    set_name: str
    mode: str
    c_rate: float
    current_A_m2: float
    capacity_pybamm_C_m2: float
    capacity_error: float
    voltage_rms_mV: float
    end_reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepared_values(name: str, full: bool) -> tuple[Any, float, float, float]:
    """The set's ``ParameterValues`` in its charged start state, cut-offs (V) and 1C (A/m2)."""
    import pybamm

    from layerlab.electrochem.pybamm_import import parameters_from_values
    pv = pybamm.ParameterValues(name)
    v_min, v_max = float(pv["Lower voltage cut-off [V]"]), float(pv["Upper voltage cut-off [V]"])
    if full:
        area = pv["Electrode height [m]"] * pv["Electrode width [m]"] * \
            pv["Number of electrodes connected in parallel to make a cell"]
        one_c = float(pv["Nominal cell capacity [A.h]"]) / float(area)
        pv.set_initial_state(1.0)
        return pv, v_min, v_max, one_c
    pos = parameters_from_values(pv, f"pybamm:{name}").positive
    s = np.linspace(1e-3, 0.999, 20001)
    above = np.asarray(pos.ocp({"sto": s}), dtype=float) >= v_max
    s_top = float(s[len(above) - int(np.argmax(above[::-1]))]) if above.any() else float(s[0])
    cmax = pos.max_concentration_mol_m3
    pv.update({"Initial concentration in positive electrode [mol.m-3]": s_top * cmax})
    below = np.asarray(pos.ocp({"sto": s}), dtype=float) <= v_min
    s_low = float(s[int(np.argmax(below & (s > s_top)))]) if (below & (s > s_top)).any() else float(s[-1])
    eps_act = float(pv["Positive electrode active material volume fraction"])
    one_c = (s_low - s_top) * cmax * eps_act * float(pv["Positive electrode thickness [m]"]) * FARADAY / 3600.0
    return pv, v_min, v_max, one_c


def cross_check(name: str, full: bool, c_rate: float, points: int = 20) -> CrossCheck:
    """Discharge the set's cell at ``c_rate`` in PyBaMM (IDAKLU) and layerlab, ``points`` cells per
    region and radial volumes in both."""
    import pybamm

    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.electrochem.integrator import Integrator, Segment
    from layerlab.electrochem.peer import pybamm_native
    from layerlab.electrochem.pybamm_import import cell_from_values

    pv, v_min, v_max, one_c = prepared_values(name, full)
    cell = cell_from_values(pv, f"pybamm:{name}", full)
    current = c_rate * one_c
    t_end = 3.0 * 3600.0 / c_rate
    model, values, var_pts = pybamm_native(pv, cell, points, points, v_min, v_max)
    values["Current function [A]"] = current
    sol = pybamm.Simulation(model, parameter_values=values, var_pts=var_pts,
                            solver=pybamm.IDAKLUSolver()).solve([0, t_end])
    tp, Vp = sol["Time [s]"].entries, sol["Voltage [V]"].entries
    Qp = float(sol["Discharge capacity [A.h]"].entries[-1]) * 3600.0
    disc = Discretisation(cells_separator=points, cells_cathode=points, cells_anode=points, radial_volumes=points,
                          time_rtol=TIME_RTOL, time_atol=0.1 * TIME_RTOL)
    it = Integrator(DFNModel(cell, disc), record_profiles=False)
    tr = it.run(Segment("current", current, t_end, v_min_V=v_min))
    t, V = np.array(tr.t_s), np.array(tr.voltage_V)
    grid = np.linspace(0.0, RMS_WINDOW * min(t[-1], tp[-1]), 400)[1:]
    rms = 1e3 * float(np.sqrt(np.mean((np.interp(grid, t, V) - np.interp(grid, tp, Vp)) ** 2)))
    return CrossCheck(name, "full" if full else "half", c_rate, current, Qp, it.charge_C_m2 / Qp - 1.0, rms,
                      tr.end_reason)
