"""The Snakemake workflow: the default campaign's DAG builds, lint is clean, bad config fails early."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _snakemake(repo_root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *args], cwd=repo_root, capture_output=True, text=True, timeout=300)


def test_default_campaign_dry_run(repo_root: Path) -> None:
    """The full default campaign DAG builds (every rule's inputs resolvable)."""
    res = _snakemake(repo_root, "--dry-run", "--cores", "2", "--quiet", "rules")
    assert res.returncode == 0, res.stdout + res.stderr


def test_paper_campaign_dry_run(repo_root: Path) -> None:
    res = _snakemake(repo_root, "--dry-run", "--cores", "2", "--quiet", "rules",
                     "--configfile", "config/paper.yaml")
    assert res.returncode == 0, res.stdout + res.stderr


def test_lint_has_no_warnings(repo_root: Path) -> None:
    res = _snakemake(repo_root, "--lint")
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Lints for" not in out, out


def test_bad_config_fails_at_dag_build_naming_field(repo_root: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["sweeps"]["fig1d"]["architecture"] = ["L-S", "Q-Dry-Z"]
    cfg["results_dir"] = str(tmp_path / "results")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    res = _snakemake(repo_root, "--dry-run", "--cores", "1", "--configfile", str(bad))
    assert res.returncode != 0
    assert "sweeps.fig1d.architecture[1]" in res.stdout + res.stderr
    assert not (tmp_path / "results").exists()
