"""CLI: ``python -m layerlab calibrate --settings JSON --out-params P.yaml --out-report R.csv``.

Options, targets and every mechanism set's DFN input (wetting runs, transport runs...) are checked
before any DFN run; on bad input nothing is written.  Outputs (atomic): the calibrated parameter
file, the residual table (CSV: set, target, paper, model, residual, orderings) and a JSON summary
beside the table (``R.json``).  The work is :mod:`layerlab.electrochem.calibration`'s.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from layerlab.cli import Command

log = logging.getLogger("layerlab.electrochem")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    from layerlab.settings import add_settings_arguments
    add_settings_arguments(p)
    p.add_argument("--out-params", required=True, help="calibrated DFN parameter file (YAML)")
    p.add_argument("--out-report", required=True, help="residual table (CSV)")
    p.add_argument("--out-summary", default=None, help="JSON summary (default: the report path with .json)")


def _run(args: argparse.Namespace) -> int:
    from layerlab.electrochem.calibration import calibrate, check_variants, options_from_config, write_outputs
    from layerlab.errors import require
    from layerlab.fe import MPI
    from layerlab.settings import job_config
    require(MPI.COMM_WORLD.size == 1, "calibrate", f"started on {MPI.COMM_WORLD.size} MPI ranks",
            "one process (the DFN runs are serial, one after the other)")
    cfg = job_config(args, "calibrate")
    opts = options_from_config(cfg)
    check_variants(cfg, opts)
    cal = calibrate(cfg, opts)
    summary_path = Path(args.out_summary) if args.out_summary else Path(args.out_report).with_suffix(".json")
    write_outputs(cfg, cal, opts, args.out_params, args.out_report, summary_path)
    log.info("calibration: %s", cal.verdict)
    return 0


COMMANDS = {
    "calibrate": Command(help="fit a few DFN parameters per mechanism set to the paper's visible capacities",
                         add_arguments=_add_arguments, run=_run),
}
