"""A small campaign end to end: run, report, partial rerun (Snakemake in a temporary work dir)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
import yaml

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
pytestmark = pytest.mark.slow


def _tiny_config(repo: Path, results: Path) -> dict:
    cfg = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    cfg["materials"] = str(repo / "config" / "parameters" / "materials.yaml")
    cfg["results_dir"] = str(results)
    cfg["sweeps"] = {"rate_fig2fg": {"architecture": ["L-Dry-S", "S-Dry-L"], "loading_mg_cm2": [22.0],
                                     "porosity": [0.55], "ls_ratio": [0.5]}}
    cfg["geometry"] = {"sweeps2d": [], "sweeps3d": [], "seeds": [0]}
    cfg["wetting"] = {"sweeps": []}
    cfg["transport"] = {"sweeps": []}
    cfg["impedance"] = {"sweeps": []}
    cfg["fullcell"] = {"sweeps": []}
    cfg["calibration"] = {"enabled": False}
    cfg.pop("resolved", None)
    ec = cfg["electrochem"]
    ec["sweeps"] = ["rate_fig2fg"]
    ec["parameters"] = str(repo / "config" / "parameters" / "dfn_nmc83.yaml")
    ec["protocol"]["c_rates"] = [0.5, 1.0]
    ec["discretisation"] = {"cells_separator": 4, "cells_cathode": 8, "radial_volumes": 5}
    return cfg


def _smk(repo: Path, workdir: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "UCX_TLS": "self,sm,tcp",
           "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "HOME": str(workdir)}
    return subprocess.run([SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(workdir),
                           "--configfile", str(cfg), "--cores", "2", *args],
                          capture_output=True, text=True, timeout=900, env=env)


def test_small_campaign_runs_reports_and_reruns_only_what_is_missing(repo_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(_tiny_config(repo_root, results)))
    run = _smk(repo_root, tmp_path, cfg_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    rate = xr.open_dataset(results / "datasets" / "rate_capability.nc", engine="h5netcdf")
    cap = rate["discharge_capacity"]
    assert set(cap.dims) >= {"architecture", "loading", "porosity", "ls_ratio", "c_rate"}
    assert cap.attrs["units"] == "mAh g-1" or "mAh" in cap.attrs["units"]
    assert float(cap.sel(architecture="L-Dry-S", c_rate=0.5).squeeze()) > float(
        cap.sel(architecture="L-Dry-S", c_rate=1.0).squeeze()) > 0
    assert rate.attrs["missing_runs"] == "" and rate.attrs["git_commit"]
    csv = (results / "comparison.csv").read_text()
    assert "2f" in csv and "not run" in csv          # wetting rows listed though not run

    report = tmp_path / "report.html"
    rep = _smk(repo_root, tmp_path, cfg_path, "--report", str(report))
    assert rep.returncode == 0, rep.stdout[-3000:] + rep.stderr[-3000:]
    assert report.stat().st_size > 10_000

    # a lost figure: the rerun plans exactly that one job
    (results / "figures" / "fig2f.png").unlink()
    dry = _smk(repo_root, tmp_path, cfg_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "figure" in dry.stdout and "dfn" not in dry.stdout.split("Job stats:")[-1].split("Reasons")[0]
