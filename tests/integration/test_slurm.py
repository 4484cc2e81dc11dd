"""A slice of a workflow through ``snakemake --profile profiles/slurm`` on a real local SLURM cluster.

The cluster (munge + slurmctld + slurmd, one node with this machine's cores) is set up by
``slurm_cluster.LocalSlurmCluster`` for this module and torn down after it. Each entry of
``SLICES`` names a Snakefile, the targets to build and a check of the outputs. The default slice is
a test-only workflow (tests/integration/data/slurm_smoke): a 2-rank MPI job (an MPI world check
and a distributed dolfinx Poisson solve), a serial job depending on it, and a job that fails on
purpose (its failure must reach Snakemake through squeue without stopping the others). To run the
campaign instead, append ``campaign_slice(name, targets, check)`` to ``SLICES`` (targets and check
take the temporary results folder; its MPI jobs must have 2 tasks at most on a 2-core machine).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from slurm_cluster import ForeignSlurmConfig, LocalSlurmCluster, ensure_slurm

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
PROFILE = REPO / "profiles" / "slurm"
LAUNCHER = "srun --mpi=pmi2"  # what the profile must put in front of MPI rules on this cluster


@dataclass(frozen=True)
class Slice:
    """A part of a workflow to run through SLURM.

    Attributes
    ----------
    name
        Test id.
    snakefile
        The Snakefile to run.
    targets
        Targets (paths or rule names) given the temporary results folder.
    check
        Asserts on the outputs given the results folder (raises AssertionError).
    workdir
        Snakemake's working directory; None: a temporary folder (keeps .snakemake out of the repo).
    failing_rules
        Rules among the targets that must fail (the run then exits non-zero, and every other
        target must still be built: the profile sets keep-going).
    """

    name: str
    snakefile: Path
    targets: Callable[[Path], list[str]]
    check: Callable[[Path], None]
    workdir: Path | None = None
    failing_rules: tuple[str, ...] = ()
    config_overrides: dict | None = None


def check_smoke(results: Path) -> None:
    """The MPI job ran as one 2-rank world placed by srun, and solved Poisson to round-off."""
    smoke = json.loads((results / "slurm_smoke" / "mpi_smoke.json").read_text())
    assert smoke["world_size"] == 2, smoke
    ranks = smoke["ranks"]
    assert [r["rank"] for r in ranks] == [0, 1]
    # srun placed the ranks (SLURM_PROCID = MPI rank) within one job step of one job
    assert [r["slurm_procid"] for r in ranks] == ["0", "1"], ranks
    assert len({r["slurm_job_id"] for r in ranks}) == 1 and ranks[0]["slurm_job_id"], ranks
    assert all(r["slurm_step_id"] is not None for r in ranks), ranks
    # the mesh really was distributed, and the P2 solution of a quadratic is exact
    assert all(r["owned_cells"] > 0 for r in ranks) and smoke["total_cells"] == 2 * 16 * 16
    assert smoke["l2_error"] < 1e-10, smoke["l2_error"]
    serial = json.loads((results / "slurm_smoke" / "serial_check.json").read_text())
    # the failing job wrote its log but no output
    assert "failing on purpose" in (results / "logs" / "slurm_smoke" / "fails.log").read_text()
    assert not (results / "slurm_smoke" / "never.txt").exists()
    assert serial["mpi_world_size"] == 2
    # the serial rule ran as its own SLURM job, inside an srun step (the jobstep plugin's srun -n1)
    assert serial["slurm_job_id"] and serial["slurm_job_id"] != serial["mpi_job_id"], serial
    assert serial["slurm_step_id"] is not None, serial


def campaign_slice(name: str, targets: Callable[[Path], list[str]],
                   check: Callable[[Path], None], config_overrides: dict | None = None) -> Slice:
    """A slice of the real campaign (repo Snakefile, run from the repo root, results in tmp).

    ``config_overrides`` replace top-level sections of config/config.yaml (a small slice).
    """
    return Slice(name=name, snakefile=REPO / "Snakefile", targets=targets, check=check,
                 workdir=REPO, config_overrides=config_overrides)


SLICE_SWEEP = {"architecture": ["Mix"], "loading_mg_cm2": [6.0], "porosity": [0.55], "ls_ratio": [0.5]}
CAMPAIGN_SLICE_CONFIG = {
    "sweeps": {"slurm_slice": SLICE_SWEEP},
    "geometry": {"sweeps2d": [], "sweeps3d": ["slurm_slice"], "seeds": [0],
                 "packing3d": {"lateral_um": 16.0}},
    "wetting": {"sweeps": []},
    "impedance": {"sweeps": []},
    "fullcell": {"sweeps": []},
    "resolved": {"sweeps2d": []},
    "network": {"sweeps": []},
    "calibration": {"enabled": False},
    "transport": {"sweeps": ["slurm_slice"], "voxel_size_um": 1.0, "directions": ["z"]},
    "electrochem": {"sweeps": ["slurm_slice"], "protocol": {"c_rates": [1.0]},
                    "discretisation": {"cells_separator": 4, "cells_cathode": 6, "radial_volumes": 4}},
}


def check_campaign(results: Path) -> None:
    """The 2-rank transport job and the DFN job gave physical datasets."""
    import xarray as xr

    tr = xr.open_dataset(results / "datasets" / "transport.nc", engine="h5netcdf")
    tau = tr["tortuosity_factor_electrode"].sel(direction="z").values
    assert np.isfinite(tau).all() and (tau >= 1.0).all(), tau
    # the measured pore fraction of each packing is its case's porosity (coordinate) within 2 % absolute
    assert float(np.nanmax(np.abs(tr["pore_fraction_electrode"] - tr["porosity"]))) < 0.02
    rate = xr.open_dataset(results / "datasets" / "rate_capability.nc", engine="h5netcdf")
    cap = rate["discharge_capacity"].values
    assert np.isfinite(cap).all() and (cap > 100).all() and (cap < 280).all(), cap
    assert rate.attrs["missing_runs"] == "" and tr.attrs["missing_runs"] == ""


# To run part of the campaign, append e.g.
#   campaign_slice("wetting", lambda r: [str(r / "datasets" / "wetting.nc")], check_wetting)
SLICES = [
    Slice(
        name="smoke",
        snakefile=DATA / "slurm_smoke" / "Snakefile",
        targets=lambda results: [str(results / "slurm_smoke" / "serial_check.json"),
                                 str(results / "slurm_smoke" / "never.txt")],
        check=check_smoke,
        failing_rules=("fails",),
    ),
    campaign_slice("campaign", lambda r: [str(r / "datasets" / "transport.nc"),
                                          str(r / "datasets" / "rate_capability.nc")],
                   check_campaign, CAMPAIGN_SLICE_CONFIG),
]


def _ensure_plugin() -> None:
    """Install the SLURM executor plugin into this interpreter's environment when missing."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                        "snakemake-executor-plugin-slurm"], check=True, timeout=600)


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running single-node SLURM cluster; stopped and its state removed after the module."""
    reason = ensure_slurm()
    if reason is not None:
        pytest.skip(reason)
    _ensure_plugin()
    cluster = LocalSlurmCluster()
    try:
        cluster.start()
    except ForeignSlurmConfig as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


def campaign_config(tmp: Path, overrides: dict | None = None) -> Path:
    """config/config.yaml with its results in ``tmp``, absolute parameter paths and ``overrides``."""
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for key, value in (overrides or {}).items():
        cfg[key] = {**cfg[key], **value} if isinstance(cfg.get(key), dict) and key != "sweeps" else value
    if overrides and "sweeps" in overrides:
        cfg["sweeps"] = {**cfg["sweeps"], **overrides["sweeps"]}
    cfg["results_dir"] = str(tmp / "results")
    if not Path(cfg["materials"]).is_absolute():
        cfg["materials"] = str(REPO / cfg["materials"])
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_snakemake(cluster: LocalSlurmCluster, sl: Slice, tmp: Path, timeout_s: float = 240):
    """Run the slice through ``--profile profiles/slurm`` (nothing else overridden).

    Returns the finished process and its wall time in seconds.
    """
    config = campaign_config(tmp, sl.config_overrides)
    workdir = sl.workdir or tmp
    env = cluster.env()
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "snakemake", *sl.targets(tmp / "results"), "--profile",
           str(PROFILE), "--snakefile", str(sl.snakefile), "--directory", str(workdir),
           "--configfile", str(config)]
    start = time.perf_counter()
    # cwd = workdir: Snakemake also looks for a workflow profile (profiles/default) there
    proc = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True,
                          timeout=timeout_s)
    return proc, time.perf_counter() - start


def _job_logs(results: Path, workdir: Path) -> str:
    parts = []
    for folder in (results / "logs", workdir / ".snakemake" / "slurm_logs"):
        for f in sorted(folder.rglob("*.log")) if folder.exists() else []:
            parts.append(f"--- {f}\n{f.read_text(errors='replace')[-2000:]}")
    return "\n".join(parts)


def mpi_rules(rule_files: list[Path]) -> set[str]:
    """Names of the rules whose block declares an ``mpi`` resource (text scan of .smk files)."""
    names = set()
    for path in rule_files:
        blocks = re.split(r"^rule\s+", path.read_text(), flags=re.M)[1:]
        for block in blocks:
            name, _, body = block.partition(":")
            body = re.split(r"^\S", body, maxsplit=1, flags=re.M)[0]  # up to the next top-level line
            if re.search(r"^\s+mpi\s*=", body, flags=re.M):
                names.add(name.strip())
    return names


def test_profile_launches_every_mpi_rule_with_pmi2():
    """Each MPI rule of the campaign and of the smoke workflow gets srun --mpi=pmi2 from the profile.

    Without a set-resources entry a rule would keep its local ``mpiexec`` under SLURM.
    """
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue" and profile["slurm-no-account"] is True
    rule_files = [*sorted((REPO / "workflow" / "rules").glob("*.smk")),
                  *(s.snakefile for s in SLICES)]
    needed = mpi_rules(rule_files)
    assert "mpi_smoke" in needed  # the scan itself works
    launchers = {rule: res.get("mpi") for rule, res in profile["set-resources"].items()}
    missing = {rule for rule in needed if launchers.get(rule) != LAUNCHER}
    assert not missing, f"MPI rules without `mpi: {LAUNCHER}` in profiles/slurm: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("sl", SLICES, ids=lambda s: s.name)
def test_slice_runs_through_slurm(slurm_cluster: LocalSlurmCluster, sl: Slice, tmp_path: Path):
    """The slice completes through the SLURM executor and its outputs pass the slice's check.

    Rules listed as failing must be reported failed through the status command (squeue), with
    their SLURM logs kept, and must not stop the other jobs.
    """
    def job_states() -> list[tuple[int, str]]:
        lines = slurm_cluster.run(["squeue", "--states=all", "-h", "-o", "%i %T"]).stdout.split("\n")
        return [(int(a), b) for a, b in (ln.split() for ln in lines if ln.strip())]

    earlier = max((job for job, _ in job_states()), default=0)   # jobs of slices run before this one
    proc, wall_s = run_snakemake(slurm_cluster, sl, tmp_path)
    results = tmp_path / "results"
    out = proc.stdout + proc.stderr
    failed = set(re.findall(r"^Error in rule (\S+):", out, flags=re.M))
    assert failed == set(sl.failing_rules) and (proc.returncode != 0) == bool(sl.failing_rules), (
        f"snakemake rc {proc.returncode}, failed rules {failed} ({wall_s:.0f} s):\n{out[-6000:]}\n"
        f"{_job_logs(results, sl.workdir or tmp_path)}\n{slurm_cluster.logs()}")
    for rule in sl.failing_rules:
        kept = list((sl.workdir or tmp_path).glob(f".snakemake/slurm_logs/rule_{rule}/*.log"))
        assert kept, f"the SLURM log of failed rule {rule} was not kept"
    assert f"{LAUNCHER} -n 2" in out, "the profile's MPI launcher was not used"
    sl.check(results)
    # the jobs went through this cluster: squeue (MinJobAge 600 s) still lists them as completed
    jobs = [(job, state) for job, state in job_states() if job > earlier]
    completed = [j for j in jobs if j[1] == "COMPLETED"]
    failed_jobs = [j for j in jobs if j[1] == "FAILED"]
    assert len(completed) >= 2 and len(failed_jobs) == len(sl.failing_rules), jobs
    print(json.dumps({"slice": sl.name, "snakemake_wall_s": round(wall_s, 1),
                      "slurm_jobs_completed": len(completed)}))

