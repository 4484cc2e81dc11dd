"""CLI: ``python -m layerlab aggregate --settings JSON --dataset NAME --out results/datasets/NAME.nc``."""

from __future__ import annotations

import argparse
import logging

from layerlab.cli import Command
from layerlab.settings import add_settings_arguments, job_config


def _add(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--dataset", required=True, help="dataset name (wetting, transport, rate_capability, ...)")
    p.add_argument("--out", required=True, help="output netCDF path")


def _run(args: argparse.Namespace) -> int:
    from layerlab.aggregate.datasets import build_dataset, dataset_cases
    from layerlab.io import write_netcdf

    config = job_config(args, "aggregate")
    cases = dataset_cases(config, args.dataset)
    ds = build_dataset(config, args.dataset)
    write_netcdf(ds, args.out, config, dataset=args.dataset)
    logging.getLogger("layerlab.aggregate").info(
        "%s: %d of %d runs combined -> %s", args.dataset, ds.attrs["runs_found"], len(cases), args.out)
    return 0


COMMANDS = {"aggregate": Command("combine per-run files into one campaign dataset", _add, _run)}
