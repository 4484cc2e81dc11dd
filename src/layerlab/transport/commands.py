"""CLI command ``transport``: tortuosity / effective conductivity of one case's 3D packing."""

from __future__ import annotations

import argparse
import math
import logging
from pathlib import Path

from layerlab.cli import Command
from layerlab.errors import require
from layerlab.settings import add_settings_arguments, job_config

log = logging.getLogger("layerlab.transport")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. Mix_load22_por0.45_ls0.5_seed0")
    p.add_argument("--packing", required=True, help="results/geometry/<case>/packing3d.json")
    p.add_argument("--mesh", help="results/geometry/<case>/mesh3d.msh (needed by --route mesh)")
    p.add_argument("--route", choices=("voxel", "mesh"), help="mesh route (default: transport.route)")
    p.add_argument("--voxel-um", type=float, help="voxel size, um (default: transport.voxel_size_um)")
    p.add_argument("--out", required=True, help="output netCDF, results/runs/transport/<case>.nc")


def _run(args: argparse.Namespace) -> int:
    from layerlab.cases import parse_case
    from layerlab.io import read_json_input
    from layerlab.transport.packing import read_packing

    # --- every input check before any work -------------------------------------------------------
    config = job_config(args, "transport")
    case = parse_case(args.case)
    cfg = config["transport"]
    route = args.route or cfg["route"]
    voxel_um = args.voxel_um if args.voxel_um is not None else cfg["voxel_size_um"]
    require(math.isfinite(voxel_um) and voxel_um > 0, "transport.voxel_size_um", f"got {voxel_um!r}", "> 0 um, finite")
    require(str(args.out).endswith(".nc"), "out", f"got {args.out!r}", "a path ending in .nc")
    packing = read_packing(args.packing)
    raw_case = read_json_input(args.packing, "packing", "packing3d.json").get("case")
    require(raw_case in (None, case.name), "packing.case", f"packing is of {raw_case!r}, not {case.name!r}",
            "the packing of this case")
    if route == "mesh":
        require(args.mesh is not None, "mesh", "--route mesh needs --mesh", "results/geometry/<case>/mesh3d.msh")
        require(Path(args.mesh).is_file(), "mesh", f"file {args.mesh!r} does not exist", "a gmsh .msh file")

    from layerlab.fe import MPI
    from layerlab.io import write_netcdf
    from layerlab.transport.study import to_dataset, voxel_study
    from layerlab.transport.tetmesh import mesh_study

    comm = MPI.COMM_WORLD
    if comm.rank > 0:  # one log, from rank 0 (results are reduced over all ranks)
        logging.getLogger("layerlab").setLevel(logging.WARNING)
    directions = tuple(cfg["directions"])
    if route == "voxel":
        study = voxel_study(comm, packing, voxel_um * 1e-6, directions, cfg["solver_rtol"])
    else:
        study = mesh_study(comm, args.mesh, packing, directions, cfg["solver_rtol"])
    ds = to_dataset(study, case=case.name)
    ds.attrs["mpi_ranks"] = comm.size
    if comm.rank == 0:
        write_netcdf(ds, args.out, config, case=case.name, packing=str(args.packing))
        log.info("wrote %s", args.out)
    comm.Barrier()
    return 0


COMMANDS = {
    "transport": Command("effective transport (tortuosity, MacMullin, solid conductivity) of a 3D packing",
                         _add_arguments, _run),
}
