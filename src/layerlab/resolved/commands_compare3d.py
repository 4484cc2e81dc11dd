"""CLI command ``resolve3d-compare``: resolved 3D runs beside the DFN on the same designs."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from layerlab.cli import Command
from layerlab.errors import require

log = logging.getLogger("layerlab.resolved")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resolved", nargs="+", required=True, help="resolve3d runs (with --packing) of the cases")
    p.add_argument("--dfn", nargs="+", required=True, help="DFN rate-test runs of the same designs, same order")
    p.add_argument("--table", required=True, help="output CSV (resolved and DFN columns side by side)")
    p.add_argument("--dataset", required=True, help="output campaign netCDF (case x model)")
    p.add_argument("--figures", required=True, help="output folder: one PNG per case")


def _run(args: argparse.Namespace) -> int:
    from layerlab.cases import parse_case

    require(len(args.resolved) == len(args.dfn), "dfn", f"{len(args.dfn)} DFN runs for {len(args.resolved)} "
            "resolved runs", "one DFN run per resolved run, same order")
    for r, d in zip(args.resolved, args.dfn):
        require(Path(r).is_file() and Path(d).is_file(), "resolved", f"{r} or {d} does not exist", "existing runs")
        rc, dc = parse_case(Path(r).stem), parse_case(Path(d).stem)
        require(rc.with_seed(None).name == dc.with_seed(None).name, "dfn", f"{Path(d).name} is not the design of "
                f"{Path(r).name}", "the DFN run of the same design")
    require(str(args.table).endswith(".csv") and str(args.dataset).endswith(".nc"), "table",
            f"got {args.table!r}, {args.dataset!r}", "a .csv table and a .nc dataset")

    import os
    import shutil

    from layerlab.io import write_netcdf, write_text_atomic
    from layerlab.resolved.compare3d import compare, figure, table_csv

    ds = compare(args.resolved, args.dfn)
    folder = Path(args.figures)
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for r, d in zip(args.resolved, args.dfn):
        figure(r, d, str(tmp / f"{Path(r).stem}.png"))
    write_netcdf(ds, args.dataset, None, sources=" ".join(map(str, args.resolved + args.dfn)))
    write_text_atomic(args.table, table_csv(ds))
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    log.info("wrote %s, %s and %d figures", args.table, args.dataset, len(args.resolved))
    return 0


COMMANDS = {
    "resolve3d-compare": Command("resolved 3D half cells beside the DFN (table, campaign dataset, figures)",
                                 _add_arguments, _run),
}
