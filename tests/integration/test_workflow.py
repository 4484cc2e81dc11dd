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


def test_resolved3d_runs_write_vtx_fields(repo_root: Path, tmp_path: Path) -> None:
    """The campaign's resolved 3D run declares its VTX folder (fields/resolved3d/<case>) and passes it
    to ``resolve3d --vtx``; the comparison's target pulls it in."""
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["resolved"]["campaign3d"]["enabled"] = True
    cfg["results_dir"] = str(tmp_path / "results")
    path = tmp_path / "c3d.yaml"
    path.write_text(yaml.safe_dump(cfg))
    case = "L-Dry-S_load29.6_por0.55_ls0.5_seed0"
    fields = tmp_path / "results" / "fields" / "resolved3d" / case
    res = _snakemake(repo_root, str(tmp_path / "results" / "tables" / "resolved3d_vs_dfn.csv"), "--dry-run",
                     "--printshellcmds", "--cores", "1", "--configfile", str(path))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert f"--vtx {fields}" in out, out[-3000:]


def test_electrochem_rules_make_the_transport_runs_they_read(repo_root: Path, tmp_path: Path) -> None:
    """paper.yaml (tortuosity from the transport stage): a full-cell and an impedance porosity (0.4)
    outside the transport sweep puts the reference packing's transport run (Mix, 22 mg/cm2, 0.4,
    L share 1 / 0) into the DAG ahead of the runs that read it."""
    cfg = yaml.safe_load((repo_root / "config" / "paper.yaml").read_text())
    cfg["sweeps"]["fullcell_fig5h"]["porosity"] = [0.4]
    cfg["sweeps"]["impedance_figS10"]["porosity"] = [0.4]
    cfg["results_dir"] = str(tmp_path / "results")
    path = tmp_path / "paper04.yaml"
    path.write_text(yaml.safe_dump(cfg))
    targets = [str(tmp_path / "results" / "runs" / stage / f"L-Dry-S_load{load}_por0.4_ls0.5.nc")
               for stage, load in (("fullcell", "24.6"), ("impedance", "29.6"))]
    res = _snakemake(repo_root, *targets, "--dry-run", "--cores", "1", "--configfile", str(path))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    for ls in ("1", "0"):
        assert f"runs/transport/Mix_load22_por0.4_ls{ls}_seed0.nc" in out, out[-3000:]


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


def _calendered_wetting(cfg: dict) -> None:
    """A wetting sweep with a porosity (0.45) that the 2D geometry set does not mesh."""
    cfg["sweeps"]["fig1d_calendered"] = {**cfg["sweeps"]["fig1d"], "porosity": [0.55, 0.45]}
    cfg["wetting"]["sweeps"] = [*cfg["wetting"]["sweeps"], "fig1d_calendered"]


@pytest.mark.parametrize("mutate, named", [
    (lambda c: c["sweeps"]["fig5f_lite"].update(porosity=[]), ["sweeps.fig5f_lite.porosity", "non-empty"]),
    (_calendered_wetting, ["wetting.sweeps[2]", "sweeps.fig1d_calendered.porosity[1]", "geometry.sweeps2d"]),
], ids=["empty-sweep", "porosity-not-in-geometry-set"])
def test_bad_sweep_fails_at_dag_build_naming_field(repo_root: Path, tmp_path: Path, mutate, named) -> None:
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    mutate(cfg)
    cfg["results_dir"] = str(tmp_path / "results")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    res = _snakemake(repo_root, "--dry-run", "--cores", "1", "--configfile", str(bad))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    for text in named:
        assert text in out, (text, out[-3000:])
    assert not (tmp_path / "results").exists()
