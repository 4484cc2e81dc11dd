"""Shared by the bench scripts that time one worker under ``mpiexec -n N`` for several N.

The driver process imports no MPI module: it launches ``<script> --worker ...`` under the
``mpiexec`` next to the Python interpreter (the venv's MPICH), and the worker prints one line
``BENCH <json>`` on rank 0 (:func:`report`), which :func:`run_worker` returns as a dict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

PREFIX = "BENCH "


def report(result: dict[str, Any]) -> None:
    """Print a worker's result on rank 0 (call on every rank)."""
    from layerlab.fe import MPI
    if MPI.COMM_WORLD.rank == 0:
        print(PREFIX + json.dumps(result), flush=True)


def run_worker(script: str, ranks: int, worker_args: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """Run ``script --worker *worker_args`` on ``ranks`` ranks; (its result, or None, and stderr's tail)."""
    mpiexec = Path(sys.executable).with_name("mpiexec")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UCX_TLS": os.environ.get("UCX_TLS", "self,sm,tcp")}
    cmd = [str(mpiexec), "-n", str(ranks), sys.executable, str(Path(script).resolve()), "--worker",
           *worker_args]
    print(f"running {ranks} rank(s): {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(PREFIX)]
    if proc.returncode != 0 or not lines:
        return None, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(lines[-1][len(PREFIX):]), ""


def run_ranks(script: str, ranks: Sequence[int], worker_args: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`run_worker` for each rank count in turn; a failed run stops the bench (exit 1) with its output."""
    runs = []
    for n in ranks:
        run, error = run_worker(script, n, worker_args)
        if run is None:
            print(error, file=sys.stderr)
            raise SystemExit(1)
        runs.append(run)
    return runs
