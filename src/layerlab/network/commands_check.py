"""CLI command ``mechanism_check``: the network mechanism's falsification table (:mod:`layerlab.network.falsify`).

    python -m layerlab mechanism_check --settings JSON --out results/tables/mechanism_check.csv

Reads the network runs of the reference packings (``mechanisms.stage_inputs``, declared by the rule);
bad input (an r_c that is negative or not finite, an output that is not .csv) stops before any work.
"""

from __future__ import annotations

import argparse
import math

from layerlab.cli import Command
from layerlab.errors import require
from layerlab.settings import add_settings_arguments, job_config


def _add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--out", required=True, help="output CSV, results/tables/mechanism_check.csv")


def _run(args: argparse.Namespace) -> int:
    from layerlab.io import check_output_path, write_text_atomic
    from layerlab.network.falsify import rows, to_csv
    config = job_config(args, "mechanism_check")
    sec = config.get("mechanism_check") or {}
    r_c = sec.get("r_c_ohm_m2") or []
    require(len(r_c) > 0, "mechanism_check.r_c_ohm_m2", "empty", "at least one r_c >= 0, ohm m2")
    for i, v in enumerate(r_c):
        require(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, f"mechanism_check.r_c_ohm_m2[{i}]",
                f"got {v!r}", "a finite r_c >= 0, ohm m2")
    require(str(args.out).endswith(".csv"), "out", f"got {args.out!r}", "a path ending in .csv")
    check_output_path(args.out, "out")
    table = rows(config, [float(v) for v in r_c], impedance=bool(sec.get("impedance", True)),
                 radial_volumes=sec.get("radial_volumes"))
    write_text_atomic(args.out, to_csv(table))
    return 0


COMMANDS = {
    "mechanism_check": Command("falsification table of the network mechanism (CSV out)", _add_arguments, _run),
}
