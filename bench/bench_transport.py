"""Benchmark: one effective-transport solve (pore phase, through-plane) on a voxel mesh of ~1 M unknowns.

Runs itself under ``mpiexec -n 1`` and ``-n 2`` (or ``--ranks``) and prints JSON with the timings of each
and the parallel efficiency ``t_1 / (n t_n)``.  The packing is a Boolean model of 11.3/4.5 um spheres
(1:1 by volume) at porosity 0.45, generated here, so the benchmark needs no campaign outputs.

    .venv/bin/python bench/bench_transport.py                 # ~1 M unknowns, 1 and 2 ranks
    .venv/bin/python bench/bench_transport.py --box-um 30     # smaller
    .venv/bin/python bench/bench_transport.py --porosity-sweep  # tau vs porosity, Bruggeman exponent
    .venv/bin/python bench/bench_transport.py --porosity-sweep --box-scale 0.4 --voxel-um 1 --porosities 0.45 0.35
                                                              # smoke test (seconds)

The porosity sweep (serial) gives the pore tortuosity factor (directions x and z, ``--seeds``) of
overlapping-sphere (Boolean-model) packings at porosity 0.55 ... 0.25 (``--porosities``) for

* S-only: r = 2.25 um in a 27 um box (6 diameters, 12 radii);
* L-only, computed directly: r = 5.65 um in a 68 um box (``--l-box-um``; 6 diameters, 12 radii, the
  same box/r as S-only) at the same voxel size, so with 2.5x the voxels per radius (11.3 vs 4.5 at
  0.5 um): 136^3 = 2.5 M voxels, ~0.6-1.4 M pore unknowns per solve (the size of the timing
  benchmark's solve), 8 solves: the dominant cost of the sweep (of the order of 10-15 min on one
  core; ``--l-box-um 45``, 8 radii, is ~3x cheaper).  A Boolean model is scale invariant: L-only at
  S-only's r/h and box/r is S-only scaled (same statistics), so an L - S difference here is the
  voxel resolution of S (r/h = 4.5) and the sampling of one realisation per seed, not particle size;
* mixed 1:1 by volume (r = 5.65 and 2.25 um) in a 40 um box;

and fits tau = eps^-alpha per set (least squares in log space through tau(1) = 1; Bruggeman:
D_eff = eps^(1 + alpha) D).  ``--box-scale`` scales every box (smoke tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from mpirun import report, run_ranks


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


def porosity_sweep(voxel_um: float, seeds: list[int], directions: tuple[str, ...],
                   porosities: tuple[float, ...] = (0.55, 0.45, 0.35, 0.25), l_box_um: float = 68.0,
                   box_scale: float = 1.0) -> dict:
    """Pore tau vs porosity for S-only, L-only (computed directly) and mixed overlapping-sphere packings."""
    import numpy as np

    from layerlab.fe import MPI
    from layerlab.transport.effective import Region, owned_cell_volumes, phase_transport
    from layerlab.transport.synthetic import overlapping_spheres
    from layerlab.transport.voxel import box_mesh, grid_shape, owned_cell_voxels, phase_cells, rasterize

    comm = MPI.COMM_WORLD

    def pore_transport(packing) -> dict:
        """The voxel route of ``voxel_study`` for the pore phase of the whole box only (no solid solves)."""
        grid = rasterize(packing, grid_shape(packing.box_m, voxel_um * 1e-6))
        msh = box_mesh(comm, grid)
        cells = phase_cells(msh, grid, "pore", (0, grid.shape[2]), voxels=owned_cell_voxels(msh, grid))
        return phase_transport(msh, cells, Region((0.0, 0.0, 0.0), packing.box_m), directions,
                               volumes=owned_cell_volumes(msh))

    sets = {  # name: (radii, volume shares, box edge in um)
        "S-only": ({"S": 2.25e-6}, {"S": 1.0}, 27.0),
        "L-only": ({"L": 5.65e-6}, {"L": 1.0}, l_box_um),
        "mixed 1:1": ({"L": 5.65e-6, "S": 2.25e-6}, {"L": 0.5, "S": 0.5}, 40.0),
    }
    out: dict = {}
    for name, (radii, shares, box_um) in sets.items():
        box_um = box_um * box_scale
        rows = []
        t_set = time.perf_counter()
        for porosity in porosities:
            for seed in seeds:
                t0 = time.perf_counter()
                packing = overlapping_spheres((box_um * 1e-6,) * 3, porosity, radii, shares, seed=seed)
                res = pore_transport(packing)
                rows.append({"target_porosity": porosity, "seed": seed,
                             "porosity": round(next(iter(res.values())).phase_fraction, 4),
                             "tau": {d: round(r.tortuosity_factor, 4) for d, r in res.items()},
                             "isolated_pore_fraction": max(r.isolated_fraction for r in res.values()),
                             "unknowns": max(r.n_dofs for r in res.values()),
                             "seconds": round(time.perf_counter() - t0, 1)})
                print(name, rows[-1], file=sys.stderr, flush=True)
        eps = np.array([r["porosity"] for r in rows for _ in r["tau"]])
        tau = np.array([t for r in rows for t in r["tau"].values()])
        alpha = float(-(np.log(tau) * np.log(eps)).sum() / (np.log(eps) ** 2).sum())   # least squares, log space
        r_max = max(radii.values())
        table = []      # mean over seeds and directions per target porosity
        for porosity in porosities:
            sel = [r for r in rows if r["target_porosity"] == porosity]
            taus = [t for r in sel for t in r["tau"].values()]
            table.append({"porosity": round(float(np.mean([r["porosity"] for r in sel])), 4),
                          "tau": round(float(np.mean(taus)), 4), "tau_min": min(taus), "tau_max": max(taus)})
        out[name] = {"radii_um": {k: v * 1e6 for k, v in radii.items()}, "box_um": box_um,
                     "box_over_largest_radius": round(box_um * 1e-6 / r_max, 2),
                     "voxels_per_radius": {k: round(v * 1e6 / voxel_um, 2) for k, v in radii.items()},
                     "tau_vs_porosity": table, "rows": rows,
                     "alpha_tau_eq_eps_pow_minus_alpha": round(alpha, 3), "bruggeman_exponent": round(1.0 + alpha, 3),
                     "seconds": round(time.perf_counter() - t_set, 1)}
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
    parser.add_argument("--porosities", type=float, nargs="+", default=[0.55, 0.45, 0.35, 0.25],
                        help="porosity sweep: target porosities")
    parser.add_argument("--l-box-um", type=float, default=68.0,
                        help="porosity sweep: box edge of the L-only packings, um (68: 6 L diameters)")
    parser.add_argument("--box-scale", type=float, default=1.0, help="porosity sweep: scale every box (smoke tests)")
    args = parser.parse_args()
    if args.porosity_sweep:
        out = porosity_sweep(args.voxel_um, args.seeds, ("x", "z"), tuple(args.porosities), args.l_box_um,
                             args.box_scale)
        summary = {name: {"bruggeman_exponent": res["bruggeman_exponent"],
                          "tau_vs_porosity": [[row["porosity"], row["tau"]] for row in res["tau_vs_porosity"]]}
                   for name, res in out.items()}
        print(json.dumps({"benchmark": "transport_tau_vs_porosity", "voxel_um": args.voxel_um,
                          "directions": ["x", "z"], "seeds": args.seeds, "summary": summary, **out}, indent=1))
        return 0
    if args.worker:
        report(worker(args.box_um, args.voxel_um, args.seed))
        return 0
    runs = run_ranks(__file__, args.ranks, ["--box-um", str(args.box_um), "--voxel-um", str(args.voxel_um),
                                            "--seed", str(args.seed)])
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
