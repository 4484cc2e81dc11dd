"""Seconds per wetting step vs mesh size and MPI ranks; prints JSON.

Each measurement runs in its own ``mpiexec -n RANKS`` subprocess: a 50 x 146 um pore rectangle
(inlet on top, outlet below, symmetry sides, a flat electrolyte front 2 um under the inlet) with
about CELLS triangles, ``STEPS`` steps of a front-moving run with the campaign's step control
(``dt_max_s`` 1e-3 s from the first step, ``dphi_target`` 0.5, ``refactor_every`` 20, the matrix
refrozen once phi drifted by 0.2): the matrix updates, factorisations and solves are averaged as in
a run.  Each ``--solvers`` entry (``wetting.linear_solver``) runs on the same case, side by side;
reported: seconds per step, matrix updates, LU factorisations and GMRES iterations per step, the
ratio to the first solver, and the parallel efficiency against one rank.

    python bench/bench_wetting.py [--cells 50000 200000] [--ranks 1 2] [--steps 30] [--solvers lu krylov split]

``split`` is the decoupled scheme of :mod:`layerlab.wetting.split` (Dong & Shen, J. Comput. Phys. 231
(2012) 5788) on the same case at the fixed step ``--split-dt`` (default 1e-8 s, below its stability
limit): its seconds per step sit beside the coupled scheme's, and ``simulated_s_per_wall_s`` compares
the two at the step each can take.  ``--split-stability`` instead runs the split scheme on the 10 x 15 um
channel of the verification test (h = 0.5 um, 60 deg walls) at a ladder of fixed steps, up to
``--steps`` steps each, and reports at which step each diverged (|phi| > phi_bound).

    python bench/bench_wetting.py --split-stability [--split-dts 1e-4 1e-5 1e-6 1e-7 3e-8 1e-8] [--steps 300]

``--case CASE`` runs one campaign case of ``--config`` (default ``config/config.yaml``) twice, at
the same time on two cores (so both see the same load), through the ``wet`` command: with the
config as it is ("new") and with ``--reference KEY=VALUE ...`` applied to its ``wetting`` section
("reference", default: the settings before 2026-12-08, :data:`REFERENCE`).
The mesh is taken from the config's results folder when present, else made by Snakemake in the
scratch folder (rules ``pack2d``, ``mesh2d`` only).  Prints each run's CPU seconds (``wait4``
rusage of its process), steps, factorisations, simulated end time and metrics, the CPU ratio
reference / new and each metric's difference.

    python bench/bench_wetting.py --case L-S_load29.6_por0.55_ls0.5_seed0 [--reference steady_window_s=0.05]

``--stage CONFIG`` instead times the wetting stage of a campaign config: a copy of CONFIG with
``results_dir`` set to a scratch folder (the stage commands read the config file, so
``--config results_dir=...`` would not reach them), the 2D geometry of its cases copied from the
config's own results folder when present, and ``snakemake --cores N --allowed-rules wet`` on the
wetting outputs; prints the wall time and each case's metrics and solver counts.

    python bench/bench_wetting.py --stage config/config.yaml [--cores 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from mpirun import report, run_worker

WIDTH_UM, HEIGHT_UM = 50.0, 146.0


def split_worker(cells: int, steps: int, dt_s: float) -> dict:
    """The split scheme on the bench rectangle at the fixed step ``dt_s``."""
    from layerlab.fe import MPI
    from layerlab.geometry import tags
    from layerlab.wetting import testgeom
    from layerlab.wetting.params import WettingParams
    from layerlab.wetting.solver import Boundaries, WettingDiverged
    from layerlab.wetting.split import SplitSolver
    import numpy as np

    comm = MPI.COMM_WORLD
    nx = max(2, round(math.sqrt(cells / 4 / (HEIGHT_UM / WIDTH_UM))))
    ny = max(2, round(cells / 4 / nx))
    t0 = time.perf_counter()
    msh, ft = testgeom.rectangle(WIDTH_UM, HEIGHT_UM, nx, ny, comm=comm)
    params = WettingParams()
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT))
    y0, w = HEIGHT_UM - 2.0, math.sqrt(2) * params.eps_hat
    solver = SplitSolver(msh, bnd, params, dt_s, lambda x: np.tanh((x[1] - y0) / w))
    setup = time.perf_counter() - t0
    comm.Barrier()
    t0 = time.perf_counter()
    diverged = None
    try:
        for _ in range(steps):
            solver.step()
    except WettingDiverged as err:
        diverged = str(err)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    done = max(solver.step_count, 1)
    return {"triangles": comm.allreduce(msh.topology.index_map(2).size_local, op=MPI.SUM),
            "ranks": comm.size, "linear_solver": "split", "dt_s": dt_s, "steps": solver.step_count,
            "diverged": diverged, "factorisations": solver.n_factorisations, "setup_s": round(setup, 3),
            "seconds_per_step": elapsed / done, "simulated_s": solver.time_s,
            "simulated_s_per_wall_s": solver.time_s / elapsed,
            "factorisations_per_step": (solver.n_factorisations - 1) / done,   # the once-factorised CH matrix aside
            "factorise_s_per_factorisation": (solver.ch_problem.factorise_s + solver.flow_problem.factorise_s)
            / max(solver.n_factorisations, 1),
            "load_average_1min": os.getloadavg()[0]}


def split_stability(dts: list[float], steps: int) -> dict:
    """The split scheme on the channel of ``tests/verification/test_wetting_channel.py`` at h = 0.5 um."""
    from layerlab.geometry import tags
    from layerlab.wetting import testgeom
    from layerlab.wetting.params import WettingParams
    from layerlab.wetting.solver import Boundaries, WettingDiverged
    from layerlab.wetting.split import SplitSolver
    import numpy as np

    width, length, y0 = 10.0, 15.0, 10.0
    msh, ft = testgeom.rectangle(width, length, 20, 30, left_tag=tags.PARTICLE_WALL, right_tag=tags.PARTICLE_WALL)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), walls=(tags.PARTICLE_WALL,))
    params = WettingParams(interface_width_m=0.5e-6, mobility_nondim=1e-6, contact_angle_deg=60.0)
    w = math.sqrt(2) * params.eps_hat
    rows = []
    for dt in dts:
        solver = SplitSolver(msh, bnd, params, dt, lambda x: np.tanh((x[1] - y0) / w))
        try:
            for _ in range(steps):
                solver.step()
            rows.append({"dt_s": dt, "stable_steps": solver.step_count, "diverged": False,
                         "max_abs_phi": float(np.abs(solver.phi()).max())})
        except WettingDiverged:
            rows.append({"dt_s": dt, "stable_steps": solver.step_count - 1, "diverged": True})
    return {"benchmark": "wetting_split_stability", "h_um": width / 20, "capillary_number": params.capillary_number,
            "steps_tried": steps, "results": rows}


def worker(cells: int, steps: int, refactor_every: int, solver_kind: str) -> dict:
    from layerlab.fe import MPI
    from layerlab.geometry import tags
    from layerlab.wetting import testgeom
    from layerlab.wetting.params import WettingParams
    from layerlab.wetting.solver import Boundaries, WettingSolver
    import numpy as np

    comm = MPI.COMM_WORLD
    nx = max(2, round(math.sqrt(cells / 4 / (HEIGHT_UM / WIDTH_UM))))
    ny = max(2, round(cells / 4 / nx))
    t0 = time.perf_counter()
    msh, ft = testgeom.rectangle(WIDTH_UM, HEIGHT_UM, nx, ny, comm=comm)
    params = WettingParams(dt_initial_s=1e-3, dt_max_s=1e-3, dphi_target=0.5, refactor_every=refactor_every,
                           linear_solver=solver_kind)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT))
    y0, w = HEIGHT_UM - 2.0, math.sqrt(2) * params.eps_hat
    solver = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - y0) / w))
    setup = time.perf_counter() - t0
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        solver.step()
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    n_cells = comm.allreduce(msh.topology.index_map(2).size_local, op=MPI.SUM)
    W = solver.forms.W.dofmap.index_map
    return {"triangles": n_cells, "unknowns": W.size_global * solver.forms.W.dofmap.index_map_bs,
            "ranks": comm.size, "linear_solver": solver_kind, "steps": steps, "refactor_every": refactor_every,
            "factorisations": solver.n_factorisations, "setup_s": round(setup, 3),
            "seconds_per_step": elapsed / steps, "simulated_s": solver.time_s,
            "simulated_s_per_wall_s": solver.time_s / elapsed,
            "matrix_updates_per_step": solver.n_matrix_updates / steps,
            "factorisations_per_step": solver.n_factorisations / steps,
            "krylov_iterations_per_step": solver.krylov_iterations / steps,
            "factorise_s_per_factorisation": solver.timings["factorise_s"] / max(solver.n_factorisations, 1),
            "assemble_s_per_factorisation": solver.timings.get("assemble_s", 0.0) / max(solver.n_factorisations, 1),
            "rhs_and_solve_s_per_step": solver.timings["solve_s"] / steps,
            "load_average_1min": os.getloadavg()[0]}


def stage(config_path: str, cores: int) -> dict:
    """Run the wetting stage of ``config_path`` in a scratch results folder; return timings and metrics."""
    import shutil
    import tempfile

    import numpy as np
    import xarray as xr
    import yaml

    from layerlab.cases import cases_of
    from layerlab.config import load_config

    repo = Path(__file__).resolve().parents[1]
    cfg = load_config(config_path)
    raw = yaml.safe_load(Path(config_path).read_text())
    cases = [c.name for c in cases_of(cfg, cfg["wetting"]["sweeps"], cfg["geometry"]["seeds"])]
    scratch = Path(tempfile.mkdtemp(prefix="bench_wetting_"))
    raw["results_dir"] = str(scratch)
    cfg_copy = scratch / "config.yaml"
    cfg_copy.write_text(yaml.safe_dump(raw))
    source = Path(cfg["results_dir"])
    source = source if source.is_absolute() else repo / source
    for case in cases:
        if (source / "geometry" / case / "mesh2d.msh").exists():
            shutil.copytree(source / "geometry" / case, scratch / "geometry" / case)
    targets = [str(scratch / "runs" / "wetting" / f"{c}.nc") for c in cases]
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"}
    cmd = [str(Path(bindir) / "snakemake"), "--cores", str(cores), "--configfile", str(cfg_copy),
           "--allowed-rules", "wet", "--rerun-triggers", "mtime", "--", *targets]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    runs = {}
    for case, nc in zip(cases, targets):
        if Path(nc).exists():
            ds = xr.open_dataset(nc, engine="h5netcdf")
            runs[case] = {k: (float(ds[k]) if np.isfinite(float(ds[k])) else None)     # JSON has no NaN
                          for k in ("breakthrough_time", "trapped_air_fraction_final", "saturation_final",
                                    "steady_state_time")}
    return {"benchmark": "wetting_stage", "config": config_path, "cores": cores, "cases": len(cases),
            "returncode": out.returncode, "wall_s": round(wall, 1), "scratch": str(scratch),
            "load_average_1min": os.getloadavg()[0], "runs": runs,
            **({"error": out.stderr[-2000:]} if out.returncode else {})}


REFERENCE = ("steady_window_s=0.05", "breakthrough_tol_s=1.0e+6", "keep_freed_memory=false")
"""The default campaign's wetting settings before 2026-12-08: the stopping rule's window 0.05 s with
no breakthrough condition (an infinite tolerance leaves only the old one, an outlet fraction of
0.05), glibc handing MUMPS's workspace back after each factorisation."""
LOG_LINE = re.compile(r"(\d+) steps, (\d+) factorisations")


def _case_geometry(cfg: dict, case: str, cfg_file: Path, scratch: Path, repo: Path) -> Path:
    """The case's geometry folder: the config's results folder if it holds the mesh, else made in
    ``scratch`` by Snakemake (rules pack2d and mesh2d only)."""
    import shutil
    source = Path(cfg["results_dir"])
    source = (source if source.is_absolute() else repo / source) / "geometry" / case
    dest = scratch / "geometry" / case
    if (source / "mesh2d.msh").exists():
        shutil.copytree(source, dest)
        return dest
    bindir = Path(sys.executable).parent
    cmd = [str(bindir / "snakemake"), "--cores", "1", "--configfile", str(cfg_file), "--allowed-rules",
           "pack2d", "mesh2d", "--", str(dest / "mesh2d.msh")]
    out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True,
                         env={**os.environ, "PATH": str(bindir) + os.pathsep + os.environ.get("PATH", "")})
    if out.returncode:
        raise SystemExit(f"snakemake could not make the mesh of {case}:\n{out.stderr[-2000:]}")
    return dest


def case_pair(config_path: str, case: str, reference: list[str]) -> dict:
    """One campaign case with the config (``new``) and with ``reference`` applied, run at once."""
    import tempfile

    import numpy as np
    import xarray as xr
    import yaml

    repo = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load(Path(config_path).read_text())
    scratch = Path(tempfile.mkdtemp(prefix="bench_wetting_case_"))
    source_results = raw.get("results_dir", "results")
    raw["results_dir"] = str(scratch)
    configs = {"new": raw, "reference": json.loads(json.dumps(raw))}
    for item in reference:
        key, value = item.split("=", 1)
        configs["reference"]["wetting"][key] = yaml.safe_load(value)
    files = {}
    for name, data in configs.items():
        files[name] = scratch / f"config_{name}.yaml"
        files[name].write_text(yaml.safe_dump(data))
    geom = _case_geometry({"results_dir": source_results}, case, files["new"], scratch, repo)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    procs = {}
    t0 = time.perf_counter()
    for name in configs:
        (scratch / name).mkdir()
        cmd = [sys.executable, "-m", "layerlab", "--log", str(scratch / name / "wet.log"), "wet",
               "--config", str(files[name]), "--case", case, "--mesh", str(geom / "mesh2d.msh"),
               "--packing", str(geom / "packing2d.json"), "--out", str(scratch / name / f"{case}.nc")]
        with open(scratch / name / "stderr.txt", "w") as err:
            procs[name] = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=err)
    runs = {}
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        name = next((n for n, p in procs.items() if p.pid == pid), None)
        if name is None:
            continue
        proc = procs.pop(name)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log = (scratch / name / "wet.log").read_text() if (scratch / name / "wet.log").exists() else ""
        counts = LOG_LINE.findall(log)
        run = {"returncode": proc.returncode, "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
               "wall_s": round(time.perf_counter() - t0, 1),
               "steps": int(counts[-1][0]) if counts else None,
               "factorisations": int(counts[-1][1]) if counts else None}
        nc = scratch / name / f"{case}.nc"
        if proc.returncode == 0 and nc.exists():
            with xr.open_dataset(nc, engine="h5netcdf") as ds:
                run["end_time_s"] = float(ds["filling_time"][-1])
                run["metrics"] = {k: float(ds[k]) for k in ("breakthrough_time", "trapped_air_fraction_final",
                                                            "saturation_final", "steady_state_time")}
                run["metrics"].update({f"breakthrough_time/{d}": float(v) for d, v in zip(
                    ds["breakthrough_definition"].values, ds["breakthrough_time_by_definition"].values)})
        else:
            run["error"] = (scratch / name / "stderr.txt").read_text()[-2000:]
        runs[name] = run
    out = {"benchmark": "wetting_case_pair", "case": case, "config": config_path, "reference_settings": reference,
           "load_average_1min": os.getloadavg()[0], "scratch": str(scratch), "runs": runs}
    new, ref = runs["new"], runs["reference"]
    if "metrics" in new and "metrics" in ref:
        out["cpu_ratio_reference_over_new"] = round(ref["cpu_s"] / new["cpu_s"], 3)
        out["metric_difference_new_minus_reference"] = {
            k: (new["metrics"][k] - ref["metrics"][k]) if np.isfinite(new["metrics"][k] - ref["metrics"][k]) else None
            for k in ref["metrics"]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--refactor-every", type=int, default=20)
    ap.add_argument("--solvers", nargs="+", default=["lu", "split"],
                    help="wetting.linear_solver values of the coupled scheme, and/or split, to compare")
    ap.add_argument("--split-dt", type=float, default=1e-8, help="fixed step of the split scheme (s)")
    ap.add_argument("--split-stability", action="store_true", help="the split scheme's stable step on the channel")
    ap.add_argument("--split-dts", type=float, nargs="+", default=[1e-4, 1e-5, 1e-6, 1e-7, 3e-8, 1e-8])
    ap.add_argument("--stage", metavar="CONFIG", help="time the wetting stage of this campaign config instead")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores for --stage")
    ap.add_argument("--case", help="run this campaign case with the config and with --reference, side by side")
    ap.add_argument("--config", default="config/config.yaml", help="campaign config for --case")
    ap.add_argument("--reference", nargs="*", default=list(REFERENCE), metavar="KEY=VALUE",
                    help="wetting settings of the reference run of --case")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(case_pair(args.config, args.case, args.reference), indent=1))
        return
    if args.stage:
        print(json.dumps(stage(args.stage, args.cores), indent=1))
        return
    if args.split_stability:
        print(json.dumps(split_stability(args.split_dts, args.steps), indent=1))
        return
    if args.worker:
        if args.solvers[0] == "split":
            report(split_worker(args.cells[0], args.steps, args.split_dt))
        else:
            report(worker(args.cells[0], args.steps, args.refactor_every, args.solvers[0]))
        return
    results = []
    for cells in args.cells:
        for ranks in args.ranks:
            for kind in args.solvers:
                run, error = run_worker(__file__, ranks, ["--cells", str(cells), "--steps", str(args.steps),
                                                          "--refactor-every", str(args.refactor_every),
                                                          "--split-dt", str(args.split_dt), "--solvers", kind])
                results.append(run if run is not None else
                               {"cells": cells, "ranks": ranks, "linear_solver": kind, "error": error})
    for r in results:
        if "seconds_per_step" not in r:
            continue
        same = [b for b in results if b.get("triangles") == r["triangles"] and "seconds_per_step" in b]
        base = next((b for b in same if b["ranks"] == 1 and b["linear_solver"] == r["linear_solver"]), None)
        if base:
            r["parallel_efficiency"] = base["seconds_per_step"] / (r["ranks"] * r["seconds_per_step"])
        ref = next((b for b in same if b["ranks"] == r["ranks"] and b["linear_solver"] == args.solvers[0]), None)
        if ref:
            r[f"time_ratio_to_{args.solvers[0]}"] = r["seconds_per_step"] / ref["seconds_per_step"]
            r[f"simulated_time_rate_ratio_to_{args.solvers[0]}"] = (r["simulated_s_per_wall_s"]
                                                                   / ref["simulated_s_per_wall_s"])
    print(json.dumps({"benchmark": "wetting_step", "cpu_count": os.cpu_count(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
