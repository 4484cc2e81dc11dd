"""CLI commands of the 3D geometry stage: ``pack3d`` and ``mesh3d``."""

from __future__ import annotations

import argparse
import logging

from layerlab.cli import Command
from layerlab.settings import add_settings_arguments, job_config

log = logging.getLogger("layerlab.geometry")


def _add_pack3d(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name with seed, e.g. Mix_load22_por0.45_ls0.5_seed0")
    p.add_argument("--out", required=True, help="output packing3d.json")


def _run_pack3d(args: argparse.Namespace) -> int:
    from layerlab.cases import parse_case
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d, write_packing3d

    config = job_config(args, "pack3d")
    case = parse_case(args.case)
    design = case.design(config)
    options = Packing3DOptions.from_config(config)
    seed = case.seed if case.seed is not None else 0
    packing = pack3d(design, options, seed=seed, case=case.name)
    write_packing3d(packing, args.out)
    d = packing.to_dict()
    log.info("pack3d %s: %d spheres, %d isolated, solid fractions %s", case.name, d["n_spheres"],
             d["n_isolated_spheres"], [round(r["achieved_solid_fraction"], 4) for r in d["layers"]])
    return 0


def _add_mesh3d(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--packing", required=True, help="packing3d.json of the case")
    p.add_argument("--out", required=True, help="output mesh3d.msh (a mesh3d.json summary is written beside it)")
    p.add_argument("--case", help="case name the packing must belong to (checked before any work)")


def check_packing_for_mesh(packing: dict, case: str | None, L_diameter_m: float) -> None:
    """Bad input of ``mesh3d``, before any work: a packing of another case, or a box narrower than
    one L particle (the lateral faces would cut every L particle)."""
    from layerlab.errors import require

    if case is not None:
        require(packing["case"] == case, "packing", f"{packing['case']!r} is a packing of another case",
                f"the packing3d.json of case {case!r}")
    width = min(float(packing["box_m"][0]), float(packing["box_m"][1]))
    require(width >= L_diameter_m * (1 - 1e-9), "geometry.packing3d.lateral_um",
            f"the packing is {width * 1e6:.3g} um wide, narrower than one L particle ({L_diameter_m * 1e6:.3g} um)",
            f">= {L_diameter_m * 1e6:.3g} um")


def _run_mesh3d(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from layerlab.design import load_materials
    from layerlab.errors import InputError, SolverError, require
    from layerlab.fe import MPI
    from layerlab.geometry.mesh3d import Mesh3DOptions, build_mesh3d
    from layerlab.geometry.packing3d import load_packing3d
    from layerlab.io import atomic_path, write_json_atomic

    config = job_config(args, "mesh3d")
    options = Mesh3DOptions.from_config(config)
    packing = load_packing3d(args.packing)
    out = Path(args.out)
    require(out.suffix == ".msh", "out", f"got {str(out)!r}", "a path ending in .msh")
    check_packing_for_mesh(packing, args.case, 2.0 * load_materials(config["materials"]).radius_m("L"))
    if MPI.COMM_WORLD.rank == 0:
        t0 = time.perf_counter()
        with atomic_path(out) as tmp:
            msh_tmp = tmp.with_suffix(".msh")      # gmsh picks the format from the suffix
            try:
                summary = build_mesh3d(packing, options, msh_tmp)
                msh_tmp.replace(tmp)
            except (InputError, SolverError):
                raise
            except Exception as err:  # noqa: BLE001 - gmsh and the mesher's checks: one line, exit 3
                raise SolverError(f"mesh3d {packing['case']} (route {options.route}): {err}") from None
            finally:
                msh_tmp.unlink(missing_ok=True)
        summary["case"] = packing["case"]
        summary["mesh_seconds"] = time.perf_counter() - t0
        write_json_atomic(out.with_suffix(".json"), summary)
        log.info("mesh3d %s (%s): %d + %d tets (electrolyte + particles) in %.1f s", packing["case"],
                 options.route, summary["n_tets_electrolyte"], summary["n_tets_particles"],
                 summary["mesh_seconds"])
    MPI.COMM_WORLD.Barrier()
    return 0


COMMANDS = {
    "pack3d": Command("3D overlapping-sphere packing of one case", _add_pack3d, _run_pack3d),
    "mesh3d": Command("two-phase 3D mesh of a packing (level-set or gmsh route)", _add_mesh3d, _run_mesh3d),
}
