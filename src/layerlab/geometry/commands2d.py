"""CLI commands of the 2D geometry stage: ``pack2d`` (disk packing) and ``mesh2d`` (gmsh mesh)."""

from __future__ import annotations

import argparse

from layerlab.cli import Command
from layerlab.errors import InputError, SolverError
from layerlab.settings import add_settings_arguments, job_config


def _pack2d_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name with a seed, e.g. L-Dry-S_load29.6_por0.55_ls0.5_seed0")
    p.add_argument("--out", required=True, help="output packing2d.json")


def _pack2d_run(args: argparse.Namespace) -> int:
    from layerlab.cases import parse_case
    from layerlab.geometry.packing2d import Packing2DOptions, pack2d
    from layerlab.io import write_json_atomic

    config = job_config(args, "pack2d")
    case = parse_case(args.case)
    if case.seed is None:
        raise InputError("case", f"{args.case!r} has no seed", "a 2D case name ending in _seed<N>")
    options = Packing2DOptions.from_config(config.get("geometry", {}).get("packing2d"))
    design = case.design(config)
    packing = pack2d(design, options, case.seed, case=case.name)
    write_json_atomic(args.out, packing)
    return 0


def err_fields(err: InputError) -> tuple[str, str, str]:
    """The constructor arguments of an InputError (to send it to other ranks)."""
    return err.field, err.problem, err.allowed


def _mesh2d_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--packing", required=True, help="packing2d.json from pack2d")
    p.add_argument("--out", required=True, help="output mesh2d.msh (mesh2d.json is written beside it)")


def _mesh2d_run(args: argparse.Namespace) -> int:
    from layerlab.geometry.mesh2d import Mesh2DOptions, write_mesh2d

    config = job_config(args, "mesh2d")
    options = Mesh2DOptions.from_config(config.get("geometry", {}).get("mesh2d"))
    from layerlab.fe import MPI   # the mesh is generated on rank 0 only, also under mpiexec
    comm = MPI.COMM_WORLD
    error: BaseException | None = None
    if comm.rank == 0:
        try:
            write_mesh2d(args.packing, args.out, options)
        except Exception as err:  # noqa: BLE001 - reported on every rank below
            error = err
    failure = comm.bcast(None if error is None else
                         (err_fields(error) if isinstance(error, InputError) else repr(error)), root=0)
    if isinstance(failure, tuple):
        raise InputError(*failure)
    if failure is not None:   # gmsh (or the mesh check) failed: one line, exit 3
        raise SolverError(f"gmsh failed meshing {args.packing}: {failure}") from error
    return 0


COMMANDS = {
    "pack2d": Command("pack a 2D disk microstructure of one case (packing2d.json)", _pack2d_arguments,
                      _pack2d_run),
    "mesh2d": Command("mesh the pore space of a 2D packing with gmsh (mesh2d.msh + mesh2d.json)",
                      _mesh2d_arguments, _mesh2d_run),
}
