"""Benchmark: the paper's full rate test (CC-CV charge, then 0.1/0.2/0.5/1/2 C discharges) for one
electrode, layerlab's dolfinx DFN next to PyBaMM's DFN with the IDAKLU solver, same protocol and
inputs, in the same run.  Prints JSON (times in s, capacities in mAh/g, time ratio ours/PyBaMM).

    .venv/bin/python bench/bench_dfn.py [--case L-Dry-S_load29.6_por0.55_ls0.5] [--coarse]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="L-Dry-S_load29.6_por0.55_ls0.5")
    ap.add_argument("--coarse", action="store_true", help="campaign resolution (config.yaml)")
    args = ap.parse_args()

    from layerlab.cases import parse_case
    from layerlab.electrochem.cell import HalfCell, cathode_from_design
    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.electrochem.integrator import Integrator
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.electrochem.protocols import RateTest, run_rate_test
    from layerlab.fe import MPI

    design = parse_case(args.case).design()
    cell = HalfCell(load_parameters(), cathode_from_design(design))
    test = RateTest()
    disc = Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8) if args.coarse else Discretisation()

    # warm-up: JIT-compile the forms once (cached on disk afterwards, as in any campaign run)
    DFNModel(cell, disc, comm=MPI.COMM_SELF)
    t0 = time.perf_counter()
    model = DFNModel(cell, disc, comm=MPI.COMM_SELF)
    it = Integrator(model, record_profiles=False)
    res = run_rate_test(it, test)
    ours_s = time.perf_counter() - t0
    to_mAh_g = 1.0 / design.active_mass_kg_m2 / 3600.0
    ours_q = [q * to_mAh_g for q in res.discharge_capacity_C_m2]
    steps = sum(tr.steps for tr in res.traces)
    newton = sum(tr.newton_its for tr in res.traces)

    import pybamm
    from layerlab.electrochem.peer import pybamm_half_cell
    one_c = design.capacity_1C_A_m2
    steps_pb = []
    for c in test.c_rates:
        steps_pb += [f"Charge at {test.charge_c_rate * one_c:.6g} A until {test.v_max_V} V",
                     f"Hold at {test.v_max_V} V until {test.cv_end_c_rate * one_c:.6g} A",
                     f"Discharge at {c * one_c:.6g} A until {test.v_min_V} V"]
    t0 = time.perf_counter()
    pb_model, values, var_pts = pybamm_half_cell(cell, v_min_V=test.v_min_V - 0.2, v_max_V=test.v_max_V + 0.1)
    sim = pybamm.Simulation(pb_model, parameter_values=values, var_pts=var_pts,
                            experiment=pybamm.Experiment(steps_pb), solver=pybamm.IDAKLUSolver())
    error = ""
    try:
        sol = sim.solve()
        pb_s = time.perf_counter() - t0
        pb_q = []
        for k in range(len(test.c_rates)):
            q = sol.cycles[3 * k + 2]["Discharge capacity [A.h]"].entries
            pb_q.append(float(q[-1] - q[0]) * 3600.0 * to_mAh_g)
        pb_end_V = [float(sol.cycles[3 * k + 2]["Voltage [V]"].entries[-1]) for k in range(len(test.c_rates))]
    except Exception as err:   # report, do not hide
        pb_s = time.perf_counter() - t0
        pb_q, pb_end_V, error = [], [], f"{type(err).__name__}: {err}"
    out = {
        "case": args.case, "discretisation": "coarse" if args.coarse else "default",
        "unknowns": int(model.u.x.array.size), "c_rates": list(test.c_rates),
        "layerlab_s": round(ours_s, 3), "pybamm_idaklu_s": round(pb_s, 3),
        "ratio_layerlab_over_pybamm": round(ours_s / pb_s, 2) if pb_s > 0 else None,
        "layerlab_capacity_mAh_g": [round(q, 2) for q in ours_q],
        "pybamm_capacity_mAh_g": [round(q, 2) for q in pb_q],
        "pybamm_end_voltage_V": [round(v, 3) for v in pb_end_V],
        "capacity_rel_diff": [round(a / b - 1, 4) for a, b in zip(ours_q, pb_q)] if pb_q else None,
        "layerlab_steps": steps, "layerlab_newton_iterations": newton,
        "layerlab_end_reasons": [tr.end_reason for tr in res.traces[2::3]],
        "pybamm_error": error, "numpy": np.__version__, "pybamm": pybamm.__version__,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
