"""CLI: the calibration, whole or one mechanism set per job.

``python -m layerlab calibrate --settings JSON --out-params P.yaml --out-report R.csv`` fits every
set of ``calibration.sets`` in this process; with ``--sets-from A.json B.json ...`` it fits nothing
and merges the per-set files that ``python -m layerlab calibrate-set --settings JSON --set NAME --out
NAME.json`` wrote (the workflow runs one ``calibrate-set`` job per set, in parallel, and reruns only
the set whose settings changed).

Options, targets and every mechanism set's DFN input (wetting runs, transport runs...) are checked
before any DFN run; on bad input nothing is written.  Outputs (atomic): the calibrated parameter
file, the residual table (CSV: set, target, paper, model, residual, orderings) and a JSON summary
beside the table (``R.json``); a per-set file is one entry of that summary's ``sets``.  The work is
:mod:`layerlab.electrochem.calibration`'s.
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
    p.add_argument("--sets-from", nargs="+", default=None, metavar="SET_JSON",
                   help="per-set files of calibrate-set, one per configured set: merge them instead of fitting")
    p.add_argument("--out-params", required=True, help="calibrated DFN parameter file (YAML)")
    p.add_argument("--out-report", required=True, help="residual table (CSV)")
    p.add_argument("--out-summary", default=None, help="JSON summary (default: the report path with .json)")


def _add_set_arguments(p: argparse.ArgumentParser) -> None:
    from layerlab.settings import add_settings_arguments
    add_settings_arguments(p)
    p.add_argument("--set", dest="mset", required=True, help="name of the mechanism set (calibration.sets)")
    p.add_argument("--out", required=True, help="the set's fit (JSON)")


def _serial() -> None:
    from layerlab.errors import require
    from layerlab.fe import MPI
    require(MPI.COMM_WORLD.size == 1, "calibrate", f"started on {MPI.COMM_WORLD.size} MPI ranks",
            "one process (the DFN runs are serial, one after the other)")


def _read_sets(paths: list[str], opts) -> list:
    """The per-set fits, one per configured set, in the configured order (InputError otherwise)."""
    import json
    from layerlab.electrochem.calibration import set_result_from_entry
    from layerlab.errors import InputError, require
    by_name = {}
    for path in paths:
        try:
            entry = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise InputError(path, f"unreadable ({err})", "a per-set calibration file (calibrate-set)") from err
        res = set_result_from_entry(entry, opts, path)
        require(res.mset.name not in by_name, path, f"set {res.mset.name!r} given twice", "one file per set")
        by_name[res.mset.name] = res
    missing = [m.name for m in opts.sets if m.name not in by_name]
    require(not missing, "--sets-from", f"no file for set(s) {', '.join(missing)}", "one file per configured set")
    return [by_name[m.name] for m in opts.sets]


def _run(args: argparse.Namespace) -> int:
    from layerlab.electrochem.calibration import (calibrate, check_variants, options_from_config, verdict,
                                                  write_outputs)
    from layerlab.settings import job_config
    _serial()
    cfg = job_config(args, "calibrate")
    opts = options_from_config(cfg)
    check_variants(cfg, opts)
    cal = verdict(opts, _read_sets(args.sets_from, opts)) if args.sets_from else calibrate(cfg, opts)
    summary_path = Path(args.out_summary) if args.out_summary else Path(args.out_report).with_suffix(".json")
    write_outputs(cfg, cal, opts, args.out_params, args.out_report, summary_path)
    log.info("calibration: %s", cal.verdict)
    return 0


def _run_set(args: argparse.Namespace) -> int:
    from layerlab.electrochem.calibration import calibrate_set, check_variants, options_from_config, set_entry
    from layerlab.io import write_json_atomic
    from layerlab.settings import job_config
    _serial()
    cfg = job_config(args, "calibrate_set")       # the subset holds this one set
    opts = options_from_config(cfg)
    check_variants(cfg, opts)
    res = calibrate_set(cfg, opts, opts.sets[0])
    write_json_atomic(args.out, set_entry(res))
    return 0


COMMANDS = {
    "calibrate": Command(help="fit a few DFN parameters per mechanism set to the paper's visible capacities "
                              "(or merge the per-set fits of calibrate-set)",
                         add_arguments=_add_arguments, run=_run),
    "calibrate-set": Command(help="fit one mechanism set of calibration.sets (a per-set job of the workflow)",
                             add_arguments=_add_set_arguments, run=_run_set),
}
