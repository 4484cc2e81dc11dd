"""Command line: ``python -m layerlab <command> ...`` (what the Snakemake rules call).

Commands are contributed by stage packages: every module ``layerlab.<stage>.commands*`` (e.g.
``layerlab.geometry.commands2d``) that defines ``COMMANDS = {name: Command(...)}`` is listed here.  Heavy imports
(dolfinx, gmsh) belong inside ``Command.run`` so that ``--help`` and input errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import pkgutil
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from layerlab.errors import InputError, SolverError

STAGE_PACKAGES: tuple[str, ...] = (
    "layerlab.geometry", "layerlab.wetting", "layerlab.transport", "layerlab.electrochem",
    "layerlab.resolved", "layerlab.aggregate", "layerlab.figures", "layerlab.network",
)

OUTPUT_ARGUMENTS: dict[str, bool] = {"out": False, "out_params": False, "out_report": False,
                                     "out_summary": False, "out_dir": True, "vtx": True}
"""Arguments naming outputs (-> whether a folder): each must be creatable, checked before any work."""

EXIT_INPUT_ERROR = 2
"""Exit code of a command stopped by bad input (:class:`~layerlab.errors.InputError`), before any work."""
EXIT_SOLVER_FAILURE = 3
"""Exit code of a command stopped by a failed numerical solve (:class:`~layerlab.errors.SolverError`)."""


@dataclass(frozen=True)
class Command:
    """One CLI command: ``add_arguments(parser)`` then ``run(args) -> exit code``."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def discover_commands() -> dict[str, Command]:
    """All commands of the stage packages that exist."""
    commands: dict[str, Command] = {}
    for pkg in STAGE_PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        for mod in sorted(pkgutil.iter_modules(spec.submodule_search_locations)):
            if mod.name.startswith("commands"):
                module = importlib.import_module(f"{pkg}.{mod.name}")
                for name in module.COMMANDS:
                    if name in commands:
                        raise RuntimeError(f"command {name!r} defined twice ({module.__name__})")
                commands.update(module.COMMANDS)
    return commands


def setup_logging(log_file: str | None = None, level: int = logging.INFO) -> None:
    """Log to stderr (and ``log_file``), prefixed by elapsed wall time and MPI rank when > 1."""
    rank = ""
    if any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")):
        from mpi4py import MPI  # launched under MPI: prefix with the rank; ranks > 0 warn only, to stderr
        if MPI.COMM_WORLD.size > 1:
            rank = f"[{MPI.COMM_WORLD.rank}] "
            if MPI.COMM_WORLD.rank > 0:
                level = max(level, logging.WARNING)
                log_file = None
    fmt = f"%(asctime)s {rank}%(levelname)s %(name)s: %(message)s"
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(level=level, format=fmt, handlers=handlers, force=True)


def check_outputs(args: argparse.Namespace) -> None:
    """Every output argument names a path that can be created (InputError naming the flag)."""
    from layerlab.io import check_output_path
    for name, folder in OUTPUT_ARGUMENTS.items():
        value = getattr(args, name, None)
        if value:
            check_output_path(value, "--" + name.replace("_", "-"), folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one command.

    Input errors exit with code :data:`EXIT_INPUT_ERROR` (2), a failed solve (a
    :class:`~layerlab.errors.SolverError`: the DFN's ``SolverFailure``, the wetting solver's
    divergence) with :data:`EXIT_SOLVER_FAILURE` (3); each prints one
    line ``layerlab <command>: ...`` to stderr (naming the field, or what failed, when and where).
    Commands write their outputs only at the end (atomically), so neither leaves a file behind.
    """
    commands = discover_commands()
    parser = argparse.ArgumentParser(prog="layerlab", description=__doc__.splitlines()[0])
    parser.add_argument("--log", help="also write the log to this file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, cmd in sorted(commands.items()):
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
    args = parser.parse_args(argv)
    setup_logging(args.log)
    log = logging.getLogger("layerlab")
    t0 = time.perf_counter()
    try:
        check_outputs(args)
        rc = commands[args.command].run(args)
    except InputError as err:
        log.error("input error: %s", err)
        print(f"layerlab {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except SolverError as err:
        case = getattr(args, "case", None)
        what = " ".join(str(err).split())          # one line
        where = f" (case {case})" if case else ""
        log.error("solver failure%s after %.1f s: %s", where, time.perf_counter() - t0, what)
        print(f"layerlab {args.command}: solver failure{where}: {what}", file=sys.stderr)
        return EXIT_SOLVER_FAILURE
    log.info("%s finished in %.1f s", args.command, time.perf_counter() - t0)
    return rc
