"""Benchmark of the level-set mesh route on real packings of the paper's architectures (prints JSON).

For each architecture (L-Dry-S, S-Dry-L, Mix), design (``--designs LOADING:POROSITY``, default
8 mg/cm2 at 55 % and 25 %) and seed (0, 1): pack3d at ``--lateral-um`` (walled with ``--walls``, as
the resolved campaign packs), then the level-set mesh at ``--h-um`` and each ``--h-min-um``; reports
the mesh time (wall and CPU), cell counts, the resolved model's unknowns, the particle and electrolyte
volume errors against the packing's quasi-Monte-Carlo solid fraction, the smallest cell quality and the
interface area against the union's (:func:`union_interface_area_m2`), for each ``--volume-correction``.

Run: ``python bench/bench_mesh3d_levelset.py [--designs 8:0.55 8:0.25] [--lateral-um 22.6] [--h-um 1 --h-min-um 0.5]``
The resolved campaign's preview settings (README, "Resolved 3D half cells")::

    python bench/bench_mesh3d_levelset.py --designs 29.6:0.55 22:0.25 --walls --separator-um 25 \
        --h-um 3 --h-min-um 3 --volume-correction none isovalue --archs L-Dry-S S-Dry-L Mix-Dry-Mix
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from layerlab.design import ElectrodeDesign
from layerlab.errors import InputError
from layerlab.geometry import tags as T
from layerlab.geometry.levelset3d import mesh_packing, union_interface_area_m2
from layerlab.geometry.packing3d import Packing3DOptions, pack3d


def one_mesh(packing: dict, h_min_um: float, correction: str, args: argparse.Namespace, area_m2: float) -> dict:
    """The level-set mesh of ``packing`` at ``args.h_um`` / ``h_min_um`` with a volume ``correction``: its
    size, cost, volume errors and interface area against the union's (``area_m2``)."""
    t0, c0 = time.perf_counter(), time.process_time()
    m = mesh_packing(packing, args.h_um * 1e-6, min(h_min_um, args.h_um) * 1e-6, volume_correction=correction)
    t1, c1 = time.perf_counter(), time.process_time()
    i = m.info
    solid = m.cell_tags == T.PARTICLES
    fluid = (m.cell_tags == T.ELECTROLYTE) | (m.cell_tags == T.SEPARATOR)
    # unknowns of the resolved model (P1 c, phi in each phase: interface nodes count twice)
    unknowns = 2 * (len(np.unique(m.cells[solid])) + len(np.unique(m.cells[fluid])))
    return {"h_um": args.h_um, "h_min_um": h_min_um, "volume_correction": correction,
            "isovalue_offset_um": i["isovalue_offset_m"] * 1e6, "isovalue_iterations": i["isovalue_iterations"],
            "mesh_seconds": round(t1 - t0, 2),
            "mesh_cpu_seconds": round(c1 - c0, 2), "n_cells": int(len(m.cells)), "n_nodes": i["n_nodes"],
            "unknowns_p1_two_fields_per_phase": int(unknowns),
            "interface_area_over_union": i["interface_area_m2"] / area_m2,
            "contacts_extra": len(i["contacts_extra"]), "neck_collars": i["n_neck_collars"],
            "necks_refined": i["n_necks_refined"],
            "volume_particles_rel_error": i["volume_particles_rel_error"],
            "volume_electrolyte_rel_error": i["volume_electrolyte_rel_error"],
            "qmc_volume_particles_rel_stderr": i["qmc_volume_particles_stderr_m3"] / i["qmc_volume_particles_m3"],
            "neck_collar_volume_rel": i["neck_collar_volume_m3"] / i["qmc_volume_particles_m3"],
            "min_mean_ratio": i["min_mean_ratio"], "interface_area_m2": i["interface_area_m2"],
            "particle_components": i["n_particle_components"],
            "isolated_particle_components": i["isolated_particle_components"],
            "contacts_lost": len(i["contacts_lost"]), "load_avg_1min": round(os.getloadavg()[0], 2)}


def one_case(arch: str, loading: float, porosity: float, seed: int, args: argparse.Namespace) -> dict:
    design = ElectrodeDesign(arch, loading, porosity, 0.5)
    row = {"architecture": arch, "loading_mg_cm2": loading, "porosity": porosity, "seed": seed,
           "thickness_um": design.thickness_m * 1e6}
    t0 = time.perf_counter()
    try:
        p = pack3d(design, Packing3DOptions(lateral_um=args.lateral_um, separator_um=args.separator_um,
                                            periodic=not args.walls), seed=seed,
                   case=f"{arch}_load{loading:g}_por{porosity}_seed{seed}").to_dict()
    except InputError as e:      # the packer's own limit: recorded, the other cases go on
        return {**row, "pack_error": str(e)}
    t1 = time.perf_counter()
    area = union_interface_area_m2(p)
    return {**row, "n_spheres": p["n_spheres"], "pack_seconds": round(t1 - t0, 2), "union_area_m2": area,
            "meshes": [one_mesh(p, h_min, vc, args, area) for h_min in args.h_min_um
                       for vc in args.volume_correction]}


def _design(text: str) -> tuple[float, float]:
    loading, porosity = text.split(":")
    return float(loading), float(porosity)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", nargs="+", type=_design, default=[(8.0, 0.55), (8.0, 0.25)],
                    help="LOADING:POROSITY (mg/cm2 : fraction)")
    ap.add_argument("--lateral-um", type=float, default=22.6)
    ap.add_argument("--separator-um", type=float, default=5.0)
    ap.add_argument("--walls", action="store_true", help="walled packings (default periodic)")
    ap.add_argument("--h-um", type=float, default=1.0)
    ap.add_argument("--h-min-um", type=float, nargs="+", default=[0.5], help="surface refinement, one mesh each")
    ap.add_argument("--volume-correction", nargs="+", default=["none"], choices=("none", "isovalue"),
                    help="geometry.mesh3d.volume_correction values, one mesh each")
    ap.add_argument("--archs", nargs="+", default=["L-Dry-S", "S-Dry-L", "Mix"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = ap.parse_args()
    rows = []
    for arch in args.archs:
        for loading, por in args.designs:
            for seed in args.seeds:
                rows.append(one_case(arch, loading, por, seed, args))
                print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"machine": platform.node(), "args": vars(args), "cases": rows}, indent=1))


if __name__ == "__main__":
    main()
