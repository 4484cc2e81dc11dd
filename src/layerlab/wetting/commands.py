"""``python -m layerlab wet``: one wetting case from the geometry stage's 2D mesh."""

from __future__ import annotations

import argparse

from layerlab.cli import Command
from layerlab.settings import add_settings_arguments, job_config


def _add(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name (e.g. L-Dry-S_load29.6_por0.55_ls0.5_seed0)")
    p.add_argument("--mesh", required=True, help="results/geometry/CASE/mesh2d.msh (mesh2d.json beside it)")
    p.add_argument("--packing", required=True, help="results/geometry/CASE/packing2d.json")
    p.add_argument("--out", required=True, help="output netCDF, e.g. results/runs/wetting/CASE.nc")


def _run(args: argparse.Namespace) -> int:
    """Run one case; a diverged time stepping raises ``WettingDiverged`` (a ``SolverError``: the CLI
    exits with code 3, the checkpoint is kept for a resume)."""
    from layerlab.wetting.case import run_case
    cfg = job_config(args, "wet")
    run_case(cfg["wetting"], args.case, args.mesh, args.packing, args.out, cfg)
    return 0


COMMANDS = {"wet": Command("electrolyte wetting of one 2D case (Cahn-Hilliard / Stokes)", _add, _run)}
