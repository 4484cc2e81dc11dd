"""Seconds per wetting step vs mesh size and MPI ranks; prints JSON.

Each measurement runs in its own ``mpiexec -n RANKS`` subprocess: a 50 x 146 um pore rectangle
(inlet on top, outlet below, symmetry sides, a flat electrolyte front 2 um under the inlet) with
about CELLS triangles, ``STEPS`` steps at the paper's 1e-4 s, refactorising every
``refactor_every`` steps (the factorisations are included in the average, as in a run).

    python bench/bench_wetting.py [--cells 50000 200000] [--ranks 1 2] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

WIDTH_UM, HEIGHT_UM = 50.0, 146.0


def worker(cells: int, steps: int, refactor_every: int) -> dict:
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
    params = WettingParams(dt_initial_s=1e-4, refactor_every=refactor_every)
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
            "ranks": comm.size, "steps": steps, "refactor_every": refactor_every,
            "factorisations": solver.n_factorisations, "setup_s": round(setup, 3),
            "seconds_per_step": elapsed / steps, "simulated_s": solver.time_s,
            "factorise_s_per_factorisation": solver.timings["factorise_s"] / max(solver.n_factorisations, 1),
            "rhs_and_solve_s_per_step": solver.timings["solve_s"] / steps,
            "load_average_1min": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--refactor-every", type=int, default=10)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        res = worker(args.cells[0], args.steps, args.refactor_every)
        from layerlab.fe import MPI
        if MPI.COMM_WORLD.rank == 0:
            print("RESULT " + json.dumps(res), flush=True)
        return
    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    results = []
    for cells in args.cells:
        for ranks in args.ranks:
            cmd = [mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker", "--cells", str(cells),
                   "--steps", str(args.steps), "--refactor-every", str(args.refactor_every)]
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
            if out.returncode != 0 or not line:
                results.append({"cells": cells, "ranks": ranks, "error": out.stderr[-2000:]})
                continue
            results.append(json.loads(line[0][7:]))
    for r in results:
        base = next((b for b in results if b.get("triangles") == r.get("triangles") and b.get("ranks") == 1), None)
        if base and "seconds_per_step" in r:
            r["parallel_efficiency"] = base["seconds_per_step"] / (r["ranks"] * r["seconds_per_step"])
    print(json.dumps({"benchmark": "wetting_step", "cpu_count": os.cpu_count(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
