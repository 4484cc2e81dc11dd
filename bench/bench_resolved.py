"""Benchmark: a resolved 3D galvanostatic discharge (1C to 3.5 V) on a column-of-spheres electrode.

Runs itself under ``mpiexec -n 1`` and ``-n 2`` (``--ranks``; the ``mpiexec`` next to the Python
executable, as ``bench_transport.py`` does) and prints one JSON object: each run's mesh size,
unknowns, wall times of mesh generation, set-up and discharge, steps, solves (accepted, rejected and
cut-off search), Newton iterations, Jacobian factorisations, capacity and lithium balance, and the
parallel efficiency ``t_1 / (n t_n)`` of the discharge, of the whole run (mesh + set-up +
discharge) and per solve (the step sequence of an adaptive run can differ slightly between rank
counts).  The issue's figure (~200k unknowns: 198k; target under 10 min per discharge, efficiency at
least 70 % at 2 ranks) is reproduced by::

    .venv/bin/python bench/bench_resolved.py --width-um 40 --height-um 60 --h-um 1.15

(``--h-um 0.9`` gives 368k unknowns).  A quick smoke test: ``--width-um 10 --height-um 10 --h-um 2``.
``--worker`` runs one timed discharge on ``MPI.COMM_WORLD`` and prints ``BENCH <json>`` (rank 0);
the driver launches it, e.g. by hand::

    .venv/bin/mpiexec -n 2 .venv/bin/python bench/bench_resolved.py --worker --width-um 40 --height-um 60 --h-um 1.15

The default solver is MUMPS with adaptive reuse of the factorised Jacobian and the extrapolating
predictor; ``--jacobian-lag 5 --no-predictor`` is the previous default (refactorise every 5 Newton
iterations).  ``--duration-s`` stops early (fixed simulated time, for timing variants side by side).

Linear solvers side by side at h and h/2 (``resolved.linear_solver``; several ``--linear`` and
``--h-um`` values run every combination on every rank count and add ``linear_comparison``: linear
iterations per Newton iteration, their growth from each h to the next, and the discharge time
relative to MUMPS on the same mesh and ranks)::

    .venv/bin/python bench/bench_resolved.py --width-um 10 --height-um 10 --radius-um 4 --h-um 1.1 0.55 \
        --linear mumps gmres-fieldsplit --duration-s 200
"""

from __future__ import annotations

import argparse
import json
import os
import time

from mpirun import report, run_ranks

# the driver imports no layerlab/MPI module: it only launches ``mpiexec`` (an MPI-initialised
# parent would be a singleton MPI process spawning another job)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width-um", type=float, default=20.0)
    ap.add_argument("--height-um", type=float, default=30.0)
    ap.add_argument("--separator-um", type=float, default=10.0)
    ap.add_argument("--radius-um", type=float, default=4.0)
    ap.add_argument("--h-um", type=float, nargs="+", default=[1.2], help="mesh sizes (driver: each in turn)")
    ap.add_argument("--c-rate", type=float, default=1.0)
    ap.add_argument("--v-min", type=float, default=3.5)
    ap.add_argument("--jacobian-lag", type=int, default=None,
                    help="0: adaptive reuse (SolverSettings default), 1: full Newton, N: rebuild every N iterations")
    ap.add_argument("--linear", nargs="+", default=["mumps"], choices=("mumps", "gmres-asm", "gmres-fieldsplit"),
                    help="resolved.linear_solver values (driver: each in turn)")
    ap.add_argument("--rebuild-its", type=int, default=None, help="default: SolverSettings.rebuild_its")
    ap.add_argument("--rebuild-dt-ratio", type=float, default=None, help="default: SolverSettings.rebuild_dt_ratio")
    ap.add_argument("--dt-initial-s", type=float, default=5.0)
    ap.add_argument("--dv-max-v", type=float, default=0.03)
    ap.add_argument("--growth", type=float, default=1.5, help="step growth factor after an easy step")
    ap.add_argument("--no-predictor", action="store_true", help="start Newton from the old level")
    ap.add_argument("--blr-tol", type=float, default=None,
                    help="MUMPS block low-rank tolerance (0: exact LU; default: SolverSettings.mumps_blr_tol)")
    ap.add_argument("--duration-s", type=float, default=1e9, help="stop the discharge after this time, s")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="MPI rank counts to run (driver)")
    ap.add_argument("--worker", action="store_true", help="one timed run on MPI.COMM_WORLD (what the driver launches)")
    return ap


def worker(a: argparse.Namespace) -> dict:
    """One timed discharge on COMM_WORLD; returns the result (the same on every rank)."""
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.parameters import FARADAY, load_parameters
    from layerlab.fe import MPI
    from layerlab.resolved.boxmesh import column_spheres, sphere_box_mesh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel, SolverSettings
    from layerlab.resolved.solver import Runner, StepControl, linear_solver_settings

    defaults = SolverSettings()
    a = argparse.Namespace(**vars(a))
    a.h_um, a.linear = a.h_um[0], a.linear[0]
    for key, field in (("jacobian_lag", "jacobian_lag"), ("rebuild_its", "rebuild_its"),
                       ("rebuild_dt_ratio", "rebuild_dt_ratio"), ("blr_tol", "mumps_blr_tol")):
        if getattr(a, key) is None:
            setattr(a, key, getattr(defaults, field))
    comm = MPI.COMM_WORLD
    um = 1e-6
    t0 = time.perf_counter()
    spheres = column_spheres(a.width_um * um, a.height_um * um, a.radius_um * um, overlap=0.2)
    data = sphere_box_mesh(a.width_um * um, a.height_um * um, spheres, separator_m=a.separator_um * um,
                           h_m=a.h_um * um, comm=comm)
    t_mesh = time.perf_counter() - t0
    params = load_parameters().replace("separator", thickness_m=a.separator_um * um)
    model = ResolvedModel(build_phases(data), params,
                          linear_solver_settings(a.linear, jacobian_lag=a.jacobian_lag,
                                                 predictor=not a.no_predictor, mumps_blr_tol=a.blr_tol,
                                                 rebuild_its=a.rebuild_its, rebuild_dt_ratio=a.rebuild_dt_ratio,
                                                 stale_max_it=max(SolverSettings.stale_max_it, a.rebuild_its + 5)))
    solves = [0]
    step = model.solve

    def counted(dt: float, current: float) -> tuple[bool, int]:
        solves[0] += 1
        return step(dt, current)

    model.solve = counted  # type: ignore[method-assign]
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    model.set_rest_state(s0)
    comm.Barrier()
    t_setup = time.perf_counter() - t0 - t_mesh
    one_c = 210.0 * 5000.0 * model.particle_volume_m3_m2()     # 210 mA/g, 5 g/cm3 (materials.yaml)
    load0 = round(os.getloadavg()[0], 2)
    t1 = time.perf_counter()
    control = StepControl(dt_initial_s=a.dt_initial_s, dt_max_s=300.0, dv_max_V=a.dv_max_v, growth=a.growth)
    tr = Runner(model, control).run_cc(a.c_rate * one_c, v_min_V=a.v_min, duration_s=a.duration_s)
    comm.Barrier()
    t_run = time.perf_counter() - t1
    li0 = tr.li_electrolyte_mol_m2[0] + tr.li_particles_mol_m2[0]
    li1 = tr.li_electrolyte_mol_m2[-1] + tr.li_particles_mol_m2[-1]
    out = {
        "bench": "resolved_discharge", "ranks": comm.size,
        "cells": data.mesh.topology.index_map(3).size_global,
        "unknowns": sum(f.function_space.dofmap.index_map.size_global for f in model.u),
        "spheres": len(spheres), "c_rate": a.c_rate, "jacobian_lag": a.jacobian_lag, "linear": a.linear,
        "mesh_s": round(t_mesh, 2), "setup_s": round(t_setup, 2), "discharge_s": round(t_run, 2),
        "h_um": a.h_um, "steps": len(tr.t_s) - 1, "rejected": tr.rejected, "newton_its": tr.newton_its,
        "newton_its_per_step": round(tr.newton_its / max(len(tr.t_s) - 1, 1), 2),
        "linear_solves": tr.linear_solves, "linear_its": tr.linear_its,
        "linear_its_per_newton_it": round(tr.linear_its_per_solve, 2),
        "solves": solves[0], "jacobian_builds": model.jacobian_builds, "predictor": not a.no_predictor,
        "blr_tol": a.blr_tol,
        "end_reason": tr.end_reason, "capacity_C_m2": tr.capacity_C_m2,
        "capacity_mAh_g": tr.capacity_C_m2 / 3.6 / (5000.0 * model.particle_volume_m3_m2() * 1e3),
        "lithium_balance_error_rel": (li1 - li0 - tr.capacity_C_m2 / FARADAY) / li0,
        "load_avg_1min_start": load0, "load_avg_1min_end": round(os.getloadavg()[0], 2),
    }
    return out


def worker_arguments(a: argparse.Namespace) -> list[str]:
    """The command-line options of ``a`` for a worker (everything but the driver's own)."""
    args = []
    for action in parser()._actions:
        if not action.option_strings or action.dest in ("help", "ranks", "worker"):
            continue
        value = getattr(a, action.dest)
        if value is None:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            args += [action.option_strings[0]] if value else []
        else:
            values = value if isinstance(value, list) else [value]
            args += [action.option_strings[0], *(repr(v) if isinstance(v, float) else str(v) for v in values)]
    return args


def linear_comparison(runs: list[dict]) -> list[dict]:
    """Per solver and rank count: linear iterations per Newton iteration at each h, their growth
    from one h to the next (the issue's bound: at most 1.5x from h to h/2), and the discharge time
    relative to MUMPS on the same mesh and ranks (when MUMPS ran)."""
    out = []
    for lin in dict.fromkeys(r["linear"] for r in runs):
        for n in dict.fromkeys(r["ranks"] for r in runs):
            rs = sorted((r for r in runs if r["linear"] == lin and r["ranks"] == n), key=lambda r: -r["h_um"])
            its = [r["linear_its_per_newton_it"] for r in rs]
            ref = {r["h_um"]: r for r in runs if r["linear"] == "mumps" and r["ranks"] == n}
            out.append({"linear": lin, "ranks": n, "h_um": [r["h_um"] for r in rs],
                        "unknowns": [r["unknowns"] for r in rs], "linear_its_per_newton_it": its,
                        "growth_per_refinement": [round(b / a, 3) for a, b in zip(its, its[1:])],
                        "newton_its_per_step": [r["newton_its_per_step"] for r in rs],
                        "discharge_s": [r["discharge_s"] for r in rs],
                        "time_vs_mumps": [round(r["discharge_s"] / ref[r["h_um"]]["discharge_s"], 2)
                                          if r["h_um"] in ref else None for r in rs],
                        "capacity_rel_diff_vs_mumps": [r["capacity_C_m2"] / ref[r["h_um"]]["capacity_C_m2"] - 1
                                                       if r["h_um"] in ref else None for r in rs]})
    return out


def main() -> int:
    a = parser().parse_args()
    if a.worker:
        report(worker(a))
        return 0
    runs = []
    for h in a.h_um:
        for lin in a.linear:
            runs += run_ranks(__file__, a.ranks, worker_arguments(argparse.Namespace(**{**vars(a), "h_um": [h],
                                                                                        "linear": [lin]})))
    for r in runs:
        r["total_s"] = round(r["mesh_s"] + r["setup_s"] + r["discharge_s"], 2)
    for r in runs:
        base = next(b for b in runs if b["h_um"] == r["h_um"] and b["linear"] == r["linear"])
        scale = base["ranks"] / r["ranks"]
        r["parallel_efficiency_discharge"] = round(scale * base["discharge_s"] / r["discharge_s"], 3)
        r["parallel_efficiency_total"] = round(scale * base["total_s"] / r["total_s"], 3)
        r["parallel_efficiency_per_solve"] = round(
            scale * (base["discharge_s"] / base["solves"]) / (r["discharge_s"] / r["solves"]), 3)
        r["capacity_rel_diff_vs_first"] = r["capacity_C_m2"] / base["capacity_C_m2"] - 1
    print(json.dumps({"benchmark": "resolved_discharge", "width_um": a.width_um, "height_um": a.height_um,
                      "h_um": a.h_um, "c_rate": a.c_rate, "nproc_machine": os.cpu_count(), "runs": runs,
                      "linear_comparison": linear_comparison(runs)},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
