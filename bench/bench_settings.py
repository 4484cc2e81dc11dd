"""Benchmark: what the per-job settings (layerlab.settings) cost, beside the code before them.

    .venv/bin/python bench/bench_settings.py [--reference /path/to/other/checkout] [--repeat 3]

* ``dag_build_s``: ``snakemake -n --quiet rules`` of the default campaign (111 jobs): config
  validation, every job's settings JSON and the sha256 of every file they name.  With
  ``--reference``, the same in that checkout (e.g. main, before the settings) in the same run.
* ``job_config_ms``: what one DFN job does before its work: the config from ``--settings`` (parse,
  hash check of the two files, schema of the subset) beside ``load_config`` of config/config.yaml
  (what the commands did before).

Prints JSON (times: minimum over ``--repeat`` runs, wall clock).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def dag_build_s(checkout: Path, repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([SNAKEMAKE, "-n", "--quiet", "rules", "--cores", "2"], cwd=checkout, env=env,
                       check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def job_config_ms(repeat: int) -> dict[str, float]:
    from layerlab.config import load_config
    from layerlab.settings import job_config, job_settings
    case = "L-Dry-S_load29.6_por0.55_ls0.5"
    cfg = load_config(REPO / "config" / "config.yaml")
    text = job_settings(cfg, "dfn", {"case": case})
    out = {}
    for name, fn in (("settings", lambda: job_config(argparse.Namespace(settings=text, case=case), "dfn")),
                     ("load_config", lambda: load_config(REPO / "config" / "config.yaml"))):
        fn()
        best = float("inf")
        for _ in range(max(repeat, 5)):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = 1e3 * best
    out["settings_json_bytes"] = len(text)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", type=Path, help="another checkout to time the DAG build of (e.g. main)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    result = {"dag_build_s": dag_build_s(REPO, args.repeat), "job_config_ms": job_config_ms(args.repeat)}
    if args.reference:
        result["reference"] = str(args.reference)
        result["reference_dag_build_s"] = dag_build_s(args.reference, args.repeat)
        result["dag_build_ratio"] = result["dag_build_s"] / result["reference_dag_build_s"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
