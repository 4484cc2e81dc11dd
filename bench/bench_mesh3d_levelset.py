"""Benchmark of the level-set mesh route on real packings of the paper's architectures (prints JSON).

For each architecture (L-Dry-S, S-Dry-L, Mix), porosity (0.55, 0.25) and seed (0, 1): pack3d at
``--lateral-um`` and ``--loading``, then the level-set mesh at ``--h-um`` / ``--h-min-um``; reports
the mesh time, cell counts, the particle-volume error against the packing's quasi-Monte-Carlo
solid fraction, the smallest cell quality and the interface area.

Run: ``python bench/bench_mesh3d_levelset.py [--loading 8] [--lateral-um 22.6] [--h-um 1 --h-min-um 0.5]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from layerlab.design import ElectrodeDesign
from layerlab.geometry.levelset3d import mesh_packing
from layerlab.geometry.packing3d import Packing3DOptions, pack3d


def one_case(arch: str, porosity: float, seed: int, args: argparse.Namespace) -> dict:
    design = ElectrodeDesign(arch, args.loading, porosity, 0.5)
    t0 = time.perf_counter()
    p = pack3d(design, Packing3DOptions(lateral_um=args.lateral_um, separator_um=args.separator_um), seed=seed,
               case=f"{arch}_por{porosity}_seed{seed}").to_dict()
    t1 = time.perf_counter()
    m = mesh_packing(p, args.h_um * 1e-6, args.h_min_um * 1e-6)
    t2 = time.perf_counter()
    i = m.info
    return {"architecture": arch, "porosity": porosity, "seed": seed, "thickness_um": design.thickness_m * 1e6,
            "n_spheres": p["n_spheres"], "pack_seconds": t1 - t0, "mesh_seconds": t2 - t1,
            "n_cells": int(len(m.cells)), "n_nodes": i["n_nodes"],
            "volume_particles_rel_error": i["volume_particles_rel_error"],
            "volume_electrolyte_rel_error": i["volume_electrolyte_rel_error"],
            "min_mean_ratio": i["min_mean_ratio"], "interface_area_m2": i["interface_area_m2"],
            "particle_components": i["n_particle_components"],
            "isolated_particle_components": i["isolated_particle_components"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loading", type=float, default=8.0, help="mg/cm2")
    ap.add_argument("--lateral-um", type=float, default=22.6)
    ap.add_argument("--separator-um", type=float, default=5.0)
    ap.add_argument("--h-um", type=float, default=1.0)
    ap.add_argument("--h-min-um", type=float, default=0.5)
    ap.add_argument("--archs", nargs="+", default=["L-Dry-S", "S-Dry-L", "Mix"])
    ap.add_argument("--porosities", nargs="+", type=float, default=[0.55, 0.25])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = ap.parse_args()
    rows = []
    for arch in args.archs:
        for por in args.porosities:
            for seed in args.seeds:
                rows.append(one_case(arch, por, seed, args))
                print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"machine": platform.node(), "args": vars(args), "cases": rows}, indent=1))


if __name__ == "__main__":
    main()
