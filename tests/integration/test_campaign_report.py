"""A small campaign end to end: run, report, partial rerun (Snakemake in a temporary work dir)."""

from __future__ import annotations

import os
import signal
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
    cfg["network"] = {"sweeps": []}
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


def _smk_args(repo: Path, workdir: Path, cfg: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "UCX_TLS": "self,sm,tcp",
           "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "HOME": str(workdir),
           **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}  # a worktree's src/ first
    return [SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(cfg), "--cores", "2", *args], env


def _smk(repo: Path, workdir: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess:
    cmd, env = _smk_args(repo, workdir, cfg, *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)


def _planned_jobs(dry_run_stdout: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    table = dry_run_stdout.split("Job stats:")[-1].split("Reasons")[0]
    counts = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("job", "total"):
            counts[parts[0]] = int(parts[1])
    return counts


def _whole(path: Path) -> bool:
    """A netCDF that opens and loads, a PNG with its signature and end chunk, a CSV with a header."""
    if path.suffix == ".nc":
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds.load()
        return True
    if path.suffix == ".png":
        data = path.read_bytes()
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    return path.stat().st_size > 0


def test_small_campaign_runs_reports_and_reruns_only_what_is_missing(repo_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(_tiny_config(repo_root, results)))
    run = _smk(repo_root, tmp_path, cfg_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    rate = xr.open_dataset(results / "datasets" / "rate_capability.nc", engine="h5netcdf")
    cap = rate["discharge_capacity"]
    assert set(cap.dims) >= {"architecture", "loading", "porosity", "ls_ratio", "c_rate"}
    assert cap.attrs["units"] == "mA h g-1"       # UDUNITS spelling (CF 3.1)
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


def test_killed_campaign_leaves_no_partial_output_and_the_rerun_finishes_it(repo_root: Path, tmp_path: Path) -> None:
    """SIGKILL of Snakemake and all its jobs once the first DFN job has finished: every output on disk is
    whole (atomic writes; the killed writers leave only hidden temporaries), and after ``--unlock``
    a rerun plans only the jobs whose outputs are missing, then completes the campaign."""
    results = tmp_path / "results"
    cfg = _tiny_config(repo_root, results)
    cfg["sweeps"]["rate_fig2fg"]["architecture"] = ["L-Dry-S", "S-Dry-L", "Mix-Dry-Mix"]
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    cmd, env = _smk_args(repo_root, tmp_path, cfg_path, "--cores", "1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    dfn_runs = results / "runs" / "dfn"
    try:   # kill as soon as Snakemake has registered the first DFN job as finished
        for line in proc.stdout:
            if line.startswith("Finished jobid") and "(Rule: dfn)" in line:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    made = sorted(dfn_runs.glob("*.nc"))
    assert 1 <= len(made) < 3, made                  # killed in the middle of the DFN runs
    outputs = [p for p in results.rglob("*") if p.is_file() and not p.name.startswith(".")
               and "logs" not in p.parts and "benchmarks" not in p.parts]
    assert all(_whole(p) for p in outputs), outputs
    assert not (results / "datasets").exists() or not any((results / "datasets").glob("*.nc"))
    stamps = {p: p.stat().st_mtime_ns for p in made}

    assert _smk(repo_root, tmp_path, cfg_path, "--unlock").returncode == 0
    dry = _smk(repo_root, tmp_path, cfg_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert _planned_jobs(dry.stdout).get("dfn") == 3 - len(made), dry.stdout[-3000:]
    rerun = _smk(repo_root, tmp_path, cfg_path)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())    # finished runs not redone
    rate = xr.open_dataset(results / "datasets" / "rate_capability.nc", engine="h5netcdf")
    assert rate.attrs["missing_runs"] == ""
    assert int(rate["discharge_capacity"].notnull().sum()) == 3 * 2     # 3 designs x 2 C-rates
