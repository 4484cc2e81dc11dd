"""Thread counts reach each job from its rule's ``threads`` (Snakemake exports OMP, OpenBLAS, MKL,
... per job), whatever the calling shell exported: what the profiles rely on so that SLURM jobs and
local jobs do not oversubscribe their cores (the Makefile's OMP_NUM_THREADS=1 only covers `make`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SNAKEFILE = """
rule all:
    input: "one.txt", "two.txt"
rule one:
    output: "one.txt"
    threads: 1
    shell: "echo $OMP_NUM_THREADS $OPENBLAS_NUM_THREADS $MKL_NUM_THREADS > {output}"
rule two:
    output: "two.txt"
    threads: 2
    shell: "echo $OMP_NUM_THREADS $OPENBLAS_NUM_THREADS $MKL_NUM_THREADS > {output}"
"""


def test_each_job_gets_its_rule_threads_not_the_callers(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "OMP_NUM_THREADS": "16", "OPENBLAS_NUM_THREADS": "16", "MKL_NUM_THREADS": "16"}
    run = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "--cores", "2"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "one.txt").read_text().split() == ["1", "1", "1"]
    assert (tmp_path / "two.txt").read_text().split() == ["2", "2", "2"]
