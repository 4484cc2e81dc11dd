"""Benchmark: one effective-transport solve (pore phase, through-plane) on a voxel mesh of ~1 M unknowns.

Runs itself under ``mpiexec -n 1`` and ``-n 2`` (or ``--ranks``) and prints JSON with the timings of each
and the parallel efficiency ``t_1 / (n t_n)``.  The packing is a Boolean model of 11.3/4.5 um spheres
(1:1 by volume) at porosity 0.45, generated here, so the benchmark needs no campaign outputs.

    .venv/bin/python bench/bench_transport.py                 # ~1 M unknowns, 1 and 2 ranks
    .venv/bin/python bench/bench_transport.py --box-um 30     # smaller
    .venv/bin/python bench/bench_transport.py --porosity-sweep  # tau vs porosity, Bruggeman exponent

The porosity sweep (serial) gives the pore tortuosity factor of S-only (r = 2.25 um), mixed (1:1 by volume
with r = 5.65 um) and, by scale invariance of a Boolean model (same r/h and box/r), L-only packings at
porosity 0.55 ... 0.25, and fits tau = eps^-alpha (Bruggeman: D_eff = eps^(1 + alpha) D).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def worker(box_um: float, voxel_um: float, seed: int) -> dict:
    """One timed run on COMM_WORLD; returns timings (max over ranks) and the result."""
    from layerlab.fe import MPI
    from layerlab.transport.effective import Region, owned_cell_volumes, phase_transport
    from layerlab.transport.synthetic import overlapping_spheres
    from layerlab.transport.voxel import box_mesh, grid_shape, owned_cell_voxels, phase_cells, rasterize

    comm = MPI.COMM_WORLD
    box = (box_um * 1e-6,) * 3
    t = {}
    comm.Barrier()
    t0 = time.perf_counter()
    packing = overlapping_spheres(box, 0.45, {"L": 5.65e-6, "S": 2.25e-6}, {"L": 0.5, "S": 0.5}, seed=seed)
    grid = rasterize(packing, grid_shape(box, voxel_um * 1e-6))
    t["rasterize"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    msh = box_mesh(comm, grid)
    t["box_mesh"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cells = phase_cells(msh, grid, "pore", (0, grid.shape[2]), voxels=owned_cell_voxels(msh, grid))
    volumes = owned_cell_volumes(msh)
    t["phase_cells"] = time.perf_counter() - t0
    comm.Barrier()
    t0 = time.perf_counter()
    res = phase_transport(msh, cells, Region((0.0, 0.0, 0.0), box), ("z",), volumes=volumes)["z"]
    comm.Barrier()
    t["transport_solve"] = time.perf_counter() - t0   # clusters + submesh + assembly + GAMG set-up + CG
    for key, value in res.timings_s.items():
        t[key] = value
    t["clusters"] = t["transport_solve"] - sum(res.timings_s.values())
    t = {k: comm.allreduce(v, op=MPI.MAX) for k, v in t.items()}
    t["total"] = sum(t[k] for k in ("rasterize", "box_mesh", "phase_cells", "transport_solve"))
    return {"ranks": comm.size, "grid": list(grid.shape), "voxels": int(grid.solid.size),
            "unknowns": res.n_dofs, "cg_iterations": res.iterations, "porosity": res.phase_fraction,
            "tortuosity_factor_z": res.tortuosity_factor, "isolated_pore_fraction": res.isolated_fraction,
            "seconds": {k: round(v, 3) for k, v in t.items()}}


def porosity_sweep(voxel_um: float, seeds: list[int], directions: tuple[str, ...]) -> dict:
    """Pore tau vs porosity for S-only (= L-only scaled) and mixed overlapping-sphere packings."""
    import numpy as np

    from layerlab.fe import MPI
    from layerlab.transport.study import voxel_study
    from layerlab.transport.synthetic import overlapping_spheres

    sets = {  # name: (radii, volume shares, box edge in um)
        "S-only (= L-only scaled)": ({"S": 2.25e-6}, {"S": 1.0}, 27.0),
        "mixed 1:1": ({"L": 5.65e-6, "S": 2.25e-6}, {"L": 0.5, "S": 0.5}, 40.0),
    }
    out: dict = {}
    for name, (radii, shares, box_um) in sets.items():
        rows = []
        for porosity in (0.55, 0.45, 0.35, 0.25):
            for seed in seeds:
                t0 = time.perf_counter()
                packing = overlapping_spheres((box_um * 1e-6,) * 3, porosity, radii, shares, seed=seed)
                study = voxel_study(MPI.COMM_WORLD, packing, voxel_um * 1e-6, directions)
                res = study.results[("electrode", "pore")]
                rows.append({"target_porosity": porosity, "seed": seed,
                             "porosity": round(next(iter(res.values())).phase_fraction, 4),
                             "tau": {d: round(r.tortuosity_factor, 4) for d, r in res.items()},
                             "isolated_pore_fraction": max(r.isolated_fraction for r in res.values()),
                             "seconds": round(time.perf_counter() - t0, 1)})
                print(name, rows[-1], file=sys.stderr, flush=True)
        eps = np.array([r["porosity"] for r in rows for _ in r["tau"]])
        tau = np.array([t for r in rows for t in r["tau"].values()])
        alpha = float(-(np.log(tau) * np.log(eps)).sum() / (np.log(eps) ** 2).sum())   # least squares, log space
        out[name] = {"box_um": box_um, "rows": rows, "alpha_tau_eq_eps_pow_minus_alpha": round(alpha, 3),
                     "bruggeman_exponent": round(1.0 + alpha, 3)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--box-um", type=float, default=61.0, help="cube edge, um (61 um at 0.5 um: ~1 M unknowns)")
    parser.add_argument("--voxel-um", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--porosity-sweep", action="store_true", help="tau vs porosity instead of the timing")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    if args.porosity_sweep:
        out = porosity_sweep(args.voxel_um, args.seeds, ("x", "z"))
        print(json.dumps({"benchmark": "transport_tau_vs_porosity", "voxel_um": args.voxel_um, **out}, indent=1))
        return 0
    if args.worker:
        out = worker(args.box_um, args.voxel_um, args.seed)
        from layerlab.fe import MPI
        if MPI.COMM_WORLD.rank == 0:
            print("BENCH " + json.dumps(out), flush=True)
        return 0
    mpiexec = Path(sys.executable).with_name("mpiexec")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UCX_TLS": os.environ.get("UCX_TLS", "self,sm,tcp")}
    runs = []
    for n in args.ranks:
        cmd = [str(mpiexec), "-n", str(n), sys.executable, __file__, "--worker", "--box-um", str(args.box_um),
               "--voxel-um", str(args.voxel_um), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")]
        if proc.returncode != 0 or not lines:
            print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
            return 1
        runs.append(json.loads(lines[-1][6:]))
    base = runs[0]
    for r in runs:
        for key in ("transport_solve", "total"):
            r[f"parallel_efficiency_{key}"] = round(
                base["seconds"][key] * base["ranks"] / (r["seconds"][key] * r["ranks"]), 3)
    print(json.dumps({"benchmark": "transport_voxel_pore_z", "box_um": args.box_um, "voxel_um": args.voxel_um,
                      "nproc_machine": os.cpu_count(), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
