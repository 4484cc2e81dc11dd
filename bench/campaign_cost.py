"""Where a finished campaign spent its time: CPU and wall seconds per rule, from the benchmark files
Snakemake wrote (``benchmark:`` of each rule, ``results/benchmarks/``), and the campaign's wall
time from its log.

    .venv/bin/python bench/campaign_cost.py [--results results] [--log .snakemake/log/<run>.log]

Prints JSON: ``rules`` (per rule: ``jobs``, ``cpu_s`` and ``wall_s`` summed over its jobs,
``max_wall_s``), ``total_cpu_s``, ``total_wall_of_jobs_s``, ``cpu_bound_s`` (total CPU / cores:
the campaign's wall time if every core were busy all along), ``campaign_wall_s`` (first job start
to last job end in the Snakemake log, when given) and ``cores``.

A rule's benchmark path names its rule by its folder under ``benchmarks/`` (``dfn/<case>.tsv``,
``calibration/<set>.tsv``, ``geometry/<case>/pack3d.tsv``, ...): the grouping key is that folder,
or the file stem for the one-file rules and the geometry stages.  Snakemake's ``cpu_time`` is the
CPU of the job's process tree (user + system), so it does not depend on what else loaded the cores,
unlike ``s`` (wall).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
from datetime import datetime
from pathlib import Path


GEOMETRY_STAGES = ("pack2d", "mesh2d", "pack3d", "mesh3d", "resolve3d")


def rule_of(path: Path, root: Path) -> str:
    """The grouping key of a benchmark file (see the module docstring)."""
    parts = path.relative_to(root).parts
    if path.stem in GEOMETRY_STAGES:                  # geometry/<case>/pack3d.tsv, resolved3d/<case>/mesh3d.tsv
        return f"{parts[0]}/{path.stem}"
    return parts[0] if len(parts) > 1 else path.stem


def read_benchmark(path: Path) -> tuple[float, float]:
    """(wall s, cpu s) of a Snakemake benchmark file (the last repeat)."""
    with path.open() as f:
        row = list(csv.DictReader(f, delimiter="\t"))[-1]
    return float(row["s"]), float(row.get("cpu_time") or 0.0)


def log_wall_s(log: Path) -> float | None:
    """Seconds from the first to the last ``[date]`` stamp of a Snakemake log."""
    stamps = [datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
              for m in re.finditer(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]", log.read_text(), re.M)]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="results", help="the campaign's results folder")
    ap.add_argument("--log", default=None, help="the Snakemake log of the run (.snakemake/log/...)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    root = Path(args.results) / "benchmarks"
    rules: dict[str, dict[str, float]] = {}
    for path in sorted(root.rglob("*.tsv")):
        wall, cpu = read_benchmark(path)
        r = rules.setdefault(rule_of(path, root), {"jobs": 0, "cpu_s": 0.0, "wall_s": 0.0, "max_wall_s": 0.0})
        r["jobs"] += 1
        r["cpu_s"] += cpu
        r["wall_s"] += wall
        r["max_wall_s"] = max(r["max_wall_s"], wall)
    rules = dict(sorted(rules.items(), key=lambda kv: -kv[1]["cpu_s"]))
    for r in rules.values():
        for k in ("cpu_s", "wall_s", "max_wall_s"):
            r[k] = round(r[k], 1)
    total_cpu = sum(r["cpu_s"] for r in rules.values())
    out = {"rules": rules, "total_cpu_s": round(total_cpu, 1),
           "total_wall_of_jobs_s": round(sum(r["wall_s"] for r in rules.values()), 1),
           "cores": args.cores, "cpu_bound_s": round(total_cpu / args.cores, 1),
           "campaign_wall_s": log_wall_s(Path(args.log)) if args.log else None}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
