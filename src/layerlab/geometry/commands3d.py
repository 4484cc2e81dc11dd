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


def _run_mesh3d(args: argparse.Namespace) -> int:
    from pathlib import Path

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
    if MPI.COMM_WORLD.rank == 0:
        with atomic_path(out) as tmp:
            msh_tmp = tmp.with_suffix(".msh")      # gmsh picks the format from the suffix
            try:
                summary = build_mesh3d(packing, options, msh_tmp)
                msh_tmp.replace(tmp)
            except (InputError, SolverError):
                raise
            except Exception as err:  # noqa: BLE001 - gmsh raises bare Exceptions: one line, exit 3
                raise SolverError(f"gmsh failed meshing {args.packing}: {err!r}") from err
            finally:
                msh_tmp.unlink(missing_ok=True)
        summary["case"] = packing["case"]
        write_json_atomic(out.with_suffix(".json"), summary)
        log.info("mesh3d %s: %d + %d tets (electrolyte + particles), %d isolated particle pieces",
                 packing["case"], summary["n_tets_electrolyte"], summary["n_tets_particles"],
                 len(summary["isolated_particle_volumes"]))
    MPI.COMM_WORLD.Barrier()
    return 0


COMMANDS = {
    "pack3d": Command("3D overlapping-sphere packing of one case", _add_pack3d, _run_pack3d),
    "mesh3d": Command("two-phase 3D gmsh mesh of a packing", _add_mesh3d, _run_mesh3d),
}
