"""CLI: ``python -m layerlab calibrate --settings JSON --out-params P.yaml --out-report R.csv``.

Options, targets and every mechanism set's DFN input (wetting runs, transport runs...) are checked
before any DFN run; on bad input nothing is written.  Outputs (atomic): the calibrated parameter
file, the residual table (CSV: set, target, paper, model, residual, orderings) and a JSON summary
beside the table (``R.json``).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
from pathlib import Path

from layerlab.cli import Command

log = logging.getLogger("layerlab.electrochem")

COLUMNS = ("set", "mechanisms", "fitted", "n_fitted", "selected", "kind", "target", "paper", "model",
           "residual", "holds")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    from layerlab.settings import add_settings_arguments
    add_settings_arguments(p)
    p.add_argument("--out-params", required=True, help="calibrated DFN parameter file (YAML)")
    p.add_argument("--out-report", required=True, help="residual table (CSV)")
    p.add_argument("--out-summary", default=None, help="JSON summary (default: the report path with .json)")


def check_inputs(cfg, opts) -> None:
    """Build every set's DFN input for every target case once (bad input fails here, before work)."""
    from layerlab.electrochem.calibrate import load_targets, variant_config
    from layerlab.electrochem.commands import prepare_case
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    for mset in opts.sets:
        start = {p.key: p.from_x(0.0) for p in mset.fit}
        vcfg = variant_config(cfg, mset, start, opts.discretisation)
        for case in sorted({t.case for t in targets}):
            prepare_case(vcfg, case)


def _run(args: argparse.Namespace) -> int:
    from layerlab.electrochem.calibrate import (calibrate, calibrated_parameters_yaml, options_from_config,
                                                report_rows, summary)
    from layerlab.errors import require
    from layerlab.fe import MPI
    from layerlab.io import write_json_atomic, write_text_atomic
    require(MPI.COMM_WORLD.size == 1, "calibrate", f"started on {MPI.COMM_WORLD.size} MPI ranks",
            "one process (the DFN runs are serial, one after the other)")
    from layerlab.settings import job_config
    cfg = job_config(args, "calibrate")
    opts = options_from_config(cfg)
    check_inputs(cfg, opts)
    cal = calibrate(cfg, opts)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(report_rows(cal))
    params_text = calibrated_parameters_yaml(cfg, cal, opts)
    summary_path = Path(args.out_summary) if args.out_summary else Path(args.out_report).with_suffix(".json")
    write_text_atomic(args.out_params, params_text)
    write_text_atomic(args.out_report, buf.getvalue())
    write_json_atomic(summary_path, summary(cal, opts))
    log.info("calibration: %s", cal.verdict)
    return 0


COMMANDS = {
    "calibrate": Command(help="fit a few DFN parameters per mechanism set to the paper's visible capacities",
                         add_arguments=_add_arguments, run=_run),
}
