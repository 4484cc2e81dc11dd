"""Benchmark: the paper's full rate test (CC-CV charge, then 0.1/0.2/0.5/1/2 C discharges) for one
electrode, layerlab's dolfinx DFN next to PyBaMM's DFN with the IDAKLU solver, same protocol and
inputs, in the same run, timed the same way on both sides.

    .venv/bin/python bench/bench_dfn.py [--case L-Dry-S_load29.6_por0.55_ls0.5] [--resolution matched|default|coarse]

Each side runs the whole rate test twice in this process:

* first run (cold): build the model, compile it (layerlab: FFCx/JIT of the forms, PETSc set-up;
  PyBaMM: model build, discretisation, experiment models, IDAKLU/casadi set-up) and solve;
* second run (warm): the identical rate test again on the already built objects (layerlab: the same
  ``DFNModel`` reset to its initial state, a new ``Integrator``; PyBaMM: ``Simulation.solve()`` again).

``solve_s`` is the warm run; ``setup_s = first_run_s - solve_s`` is what building and compiling cost
(measured the same way on both sides, since PyBaMM compiles lazily inside its first solve).  Note that
layerlab's JIT keeps compiled forms on disk (``$XDG_CACHE_HOME/fenics``), as every campaign run after the
first finds them, while PyBaMM compiles in every process: to count layerlab's compilation, point
``XDG_CACHE_HOME`` at an empty directory.

Prints JSON (times in s: wall clock, with the process CPU time beside it; capacities in mAh/g):

``case``, ``discretisation`` (``matched``, the default: layerlab's cells per region and radial
volumes equal PyBaMM's points, 20 in the separator, 20 in the electrode and 20 in r;
``default``: layerlab's ``Discretisation()``; ``coarse``: the campaign's config.yaml resolution),
``unknowns`` (layerlab DOFs), ``c_rates``;
``layerlab`` / ``pybamm``: ``resolution`` (layerlab cells per region and radial volumes; PyBaMM
points per region and radius: always 20), ``first_run_s``, ``setup_s``,
``solve_s``, ``first_run_cpu_s``, ``solve_cpu_s``, ``capacity_mAh_g`` (warm run),
``warm_run_capacity_change_mAh_g`` (max |warm - first|: the two runs must agree); layerlab also ``model_build_s`` (the ``DFNModel`` constructor alone in the
first run), ``steps``, ``newton_iterations`` (accepted steps), ``newton`` (``--newton``: chord or snes),
``jacobian_refreshes`` (chord: Jacobian splits over both runs), ``end_reasons`` (discharges); PyBaMM also
``end_voltage_V`` (discharges) and ``error`` ("" or the exception that stopped it, with the time up to
it in ``first_run_s``);
``ratio_layerlab_over_pybamm``: ``setup``, ``solve``, ``first_run`` (wall-clock ratios; null when
PyBaMM failed); ``capacity_rel_diff`` (layerlab / PyBaMM - 1 per rate; null when PyBaMM failed);
``numpy_version``, ``pybamm_version``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


PYBAMM_POINTS = {"x_points": 20, "radial_points": 20}
"""PyBaMM's mesh (points per region and per particle radius), whatever ``--coarse`` says."""


class Clock:
    """Wall-clock and process-CPU seconds of a block."""

    def __enter__(self) -> "Clock":
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c


def _times(first: Clock, warm: Clock | None) -> dict:
    out = {"first_run_s": round(first.wall, 3), "first_run_cpu_s": round(first.cpu, 3)}
    if warm is not None:
        out.update(setup_s=round(first.wall - warm.wall, 3), solve_s=round(warm.wall, 3),
                   solve_cpu_s=round(warm.cpu, 3))
    else:
        out.update(setup_s=None, solve_s=None, solve_cpu_s=None)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b is not None and b > 0 else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="L-Dry-S_load29.6_por0.55_ls0.5")
    ap.add_argument("--resolution", choices=("matched", "default", "coarse"), default="matched",
                    help="layerlab's: PyBaMM's points (matched), Discretisation() or the campaign's (coarse)")
    ap.add_argument("--coarse", action="store_true", help="same as --resolution coarse")
    ap.add_argument("--newton", choices=("chord", "snes"), default="chord",
                    help="layerlab's serial Newton: chord (Jacobian reuse, default) or snes (reference)")
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
    resolution = "coarse" if args.coarse else args.resolution
    n = PYBAMM_POINTS["x_points"]
    newton = {"newton": args.newton} if "newton" in Discretisation.__dataclass_fields__ else {}
    disc = {"coarse": Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8, **newton),
            "default": Discretisation(**newton),
            "matched": Discretisation(cells_separator=n, cells_cathode=n,
                                      radial_volumes=PYBAMM_POINTS["radial_points"], **newton)}[resolution]
    to_mAh_g = 1.0 / design.active_mass_kg_m2 / 3600.0

    # -- layerlab: first run (build + JIT + solve), then the same rate test on the reset model -----------
    with Clock() as ll_first:
        with Clock() as ll_build:
            model = DFNModel(cell, disc, comm=MPI.COMM_SELF)
        res_first = run_rate_test(Integrator(model, record_profiles=False), test)
    with Clock() as ll_warm:
        model.set_initial_state(cell.params.positive.initial_stoichiometry)
        res = run_rate_test(Integrator(model, record_profiles=False), test)
    ours_first = [q * to_mAh_g for q in res_first.discharge_capacity_C_m2]
    ours_q = [q * to_mAh_g for q in res.discharge_capacity_C_m2]
    ours = {"resolution": {k: getattr(disc, k) for k in ("cells_separator", "cells_cathode", "radial_volumes")},
            **_times(ll_first, ll_warm), "model_build_s": round(ll_build.wall, 3),
            "capacity_mAh_g": [round(q, 2) for q in ours_q],
            "warm_run_capacity_change_mAh_g": float(f"{max(abs(a - b) for a, b in zip(ours_q, ours_first)):.3g}"),
            "steps": sum(tr.steps for tr in res.traces),
            "newton_iterations": sum(tr.newton_its for tr in res.traces),
            "newton": newton.get("newton", "snes"),
            "jacobian_refreshes": getattr(model, "jacobian_evaluations", lambda: None)(),
            "end_reasons": [tr.end_reason for tr in res.traces[2::3]]}

    # -- PyBaMM IDAKLU: first run (build + discretise + compile + solve), then solve() again -------------
    import pybamm
    from layerlab.electrochem.peer import pybamm_half_cell
    one_c = design.capacity_1C_A_m2
    steps_pb = []
    for c in test.c_rates:
        steps_pb += [f"Charge at {test.charge_c_rate * one_c:.6g} A until {test.v_max_V} V",
                     f"Hold at {test.v_max_V} V until {test.cv_end_c_rate * one_c:.6g} A",
                     f"Discharge at {c * one_c:.6g} A until {test.v_min_V} V"]

    def discharges(sol) -> tuple[list[float], list[float]]:
        q, v = [], []
        for k in range(len(test.c_rates)):
            step = sol.cycles[3 * k + 2]
            dq = step["Discharge capacity [A.h]"].entries
            q.append(float(dq[-1] - dq[0]) * 3600.0 * to_mAh_g)
            v.append(float(step["Voltage [V]"].entries[-1]))
        return q, v

    error, pb_warm, pb_q, pb_end_V, pb_first_q = "", None, [], [], []
    pb_first = Clock()
    try:
        with pb_first:
            pb_model, values, var_pts = pybamm_half_cell(cell, v_min_V=test.v_min_V - 0.2,
                                                         v_max_V=test.v_max_V + 0.1, **PYBAMM_POINTS)
            sim = pybamm.Simulation(pb_model, parameter_values=values, var_pts=var_pts,
                                    experiment=pybamm.Experiment(steps_pb), solver=pybamm.IDAKLUSolver())
            pb_first_q, _ = discharges(sim.solve())
        with Clock() as warm:
            sol = sim.solve()
        pb_warm = warm
        pb_q, pb_end_V = discharges(sol)
    except Exception as err:   # report, do not hide; the ratios are then null
        error = f"{type(err).__name__}: {err}"
        pb_warm, pb_q, pb_end_V = None, [], []
    pb = {"resolution": PYBAMM_POINTS, **_times(pb_first, pb_warm),
          "capacity_mAh_g": [round(q, 2) for q in pb_q],
          "warm_run_capacity_change_mAh_g": (float(f"{max(abs(a - b) for a, b in zip(pb_q, pb_first_q)):.3g}")
                                             if pb_q else None),
          "end_voltage_V": [round(v, 3) for v in pb_end_V], "error": error}

    ok = not error
    out = {
        "case": args.case, "discretisation": resolution,
        "unknowns": int(model.u.x.array.size), "c_rates": list(test.c_rates),
        "layerlab": ours, "pybamm": pb,
        "ratio_layerlab_over_pybamm": {
            k: _ratio(ours[f"{k}_s"], pb[f"{k}_s"]) if ok else None for k in ("setup", "solve", "first_run")},
        "capacity_rel_diff": [round(a / b - 1, 4) for a, b in zip(ours_q, pb_q)] if ok else None,
        "numpy_version": np.__version__, "pybamm_version": pybamm.__version__,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
