"""After a finished campaign, each config change plans exactly the jobs that read it (issue 14).

A mini campaign (2 DFN cases, 1 impedance case, 1 wetting case with its 2D geometry and the two
2D resolved runs, the datasets, figures and comparison) is marked finished with ``--touch
--forceall`` (every job's outputs and metadata recorded, no physics run).  Each edit is then
planned with ``snakemake -n``; the planned jobs must be exactly the ones that read what changed
(through their settings, :mod:`layerlab.settings`) and the ones downstream of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from layerlab.figures.catalog import FIGURES

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

DFN = {("dfn", "results/runs/dfn/L-Dry-S_load22_por0.55_ls0.5.nc"),
       ("dfn", "results/runs/dfn/S-Dry-L_load22_por0.55_ls0.5.nc")}
IMPEDANCE = {("impedance", "results/runs/impedance/L-Dry-S_load29.6_por0.55_ls0.5.nc")}
WET_CASE = "L-S_load29.6_por0.55_ls0.5_seed0"


def _datasets(*names: str) -> set[tuple[str, str]]:
    return {("aggregate", f"results/datasets/{n}.nc") for n in names}


COMPARE = {("compare", "results/comparison.csv")}


def _mini_config(repo: Path, work: Path) -> dict:
    cfg = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    design = {"loading_mg_cm2": [29.6], "porosity": [0.55], "ls_ratio": [0.5]}
    cfg["sweeps"] = {
        "rate": {**design, "architecture": ["L-Dry-S", "S-Dry-L"], "loading_mg_cm2": [22.0]},
        "imp": {**design, "architecture": ["L-Dry-S"]},
        "wet": {**design, "architecture": ["L-S"]},
    }
    cfg["results_dir"] = "results"
    cfg["geometry"].update(sweeps2d=["wet"], sweeps3d=[])
    cfg["wetting"]["sweeps"] = ["wet"]
    cfg["transport"]["sweeps"] = []
    cfg["network"]["sweeps"] = []
    cfg["electrochem"]["sweeps"] = ["rate"]
    cfg["electrochem"]["parameters"] = "params.yaml"     # a copy the test edits (resolved keeps the original)
    cfg["impedance"]["sweeps"] = ["imp"]
    cfg["fullcell"]["sweeps"] = []
    cfg["calibration"] = {"enabled": False}
    cfg["resolved"]["sweeps2d"] = ["wet"]
    cfg["resolved"]["campaign3d"]["enabled"] = False
    return cfg


def _run(repo: Path, work: Path, *args: str) -> str:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(work), "MPLBACKEND": "Agg",
           "PYTHONPATH": str(repo / "src")}
    res = subprocess.run([SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(work), "--cores", "1",
                          *args], capture_output=True, text=True, timeout=300, env=env, cwd=work)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    return out


def _planned_outputs(repo: Path, work: Path, *configfiles: str) -> dict[tuple[str, str], list[str]]:
    """(rule, first output) -> all outputs of every job a dry run plans."""
    out = _run(repo, work, "-n", "--configfile", *configfiles)
    jobs, rule = {}, None
    for line in out.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[-1].rstrip(":")
        elif line.startswith("    output: ") and rule:
            files = [f.strip() for f in line.split(":", 1)[1].split(",")]
            jobs[(rule, files[0])] = files
    return jobs


def _planned(repo: Path, work: Path, *configfiles: str) -> set[tuple[str, str]]:
    return set(_planned_outputs(repo, work, *configfiles))


def _without_figures(jobs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    figures = {j for j in jobs if j[0] == "figure"}
    # every figure reads all datasets: a changed dataset redraws all of them
    assert len(figures) in (0, len(FIGURES)), figures
    return jobs - figures


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini campaign, finished (outputs + Snakemake metadata), nothing left to do."""
    repo = Path(__file__).resolve().parents[2]
    work = tmp_path_factory.mktemp("reruns")
    (work / "params.yaml").write_text((repo / "config" / "parameters" / "dfn_nmc83.yaml").read_text())
    (work / "mini.yaml").write_text(yaml.safe_dump(_mini_config(repo, work)))
    for outputs in _planned_outputs(repo, work, "mini.yaml").values():
        for out in outputs:
            (work / out).parent.mkdir(parents=True, exist_ok=True)
            (work / out).touch()
    _run(repo, work, "--configfile", "mini.yaml", "--touch", "--forceall")
    assert "Nothing to be done" in _run(repo, work, "-n", "--configfile", "mini.yaml")
    return work


def _edited(work: Path, name: str, edit) -> str:
    cfg = yaml.safe_load((work / "mini.yaml").read_text())
    edit(cfg)
    (work / name).write_text(yaml.safe_dump(cfg))
    return name


def test_protocol_rate_reruns_the_dfn_runs_only(repo_root: Path, campaign: Path) -> None:
    """c_rates: the DFN rate tests and their datasets; not the impedance (taken at rest)."""
    cfg = _edited(campaign, "rates.yaml", lambda c: c["electrochem"]["protocol"].update(c_rates=[0.2, 1.0]))
    assert _without_figures(_planned(repo_root, campaign, cfg)) == \
        DFN | _datasets("rate_capability", "profiles") | COMPARE


def test_parameter_file_value_reruns_its_readers(repo_root: Path, campaign: Path) -> None:
    """The solid diffusivity in electrochem.parameters: every DFN-based run (rate test and
    impedance), not the 2D resolved runs (their resolved.parameters is another file)."""
    path = campaign / "params.yaml"
    original = path.read_text()
    params = yaml.safe_load(original)
    params["positive"]["diffusivity_m2_s"]["value"] *= 2.0
    try:
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        planned = _planned(repo_root, campaign, "mini.yaml")
    finally:
        path.write_text(original)
    assert _without_figures(planned) == DFN | IMPEDANCE | _datasets("rate_capability", "profiles", "impedance") | COMPARE


def test_partial_override_file(repo_root: Path, campaign: Path) -> None:
    """--configfile mini.yaml over.yaml with one discretisation value: the DFN-based runs only."""
    (campaign / "over.yaml").write_text("electrochem:\n  discretisation:\n    cells_cathode: 10\n")
    assert _without_figures(_planned(repo_root, campaign, "mini.yaml", "over.yaml")) == \
        DFN | IMPEDANCE | _datasets("rate_capability", "profiles", "impedance") | COMPARE


def test_wetting_value_reruns_wetting_and_what_reads_its_air_map(repo_root: Path, campaign: Path) -> None:
    """contact angle: the wetting run and its snapshot picture, the 2D resolved run with its air map
    (not the fully wet one), the air-loss table; no geometry."""
    cfg = _edited(campaign, "wet.yaml", lambda c: c["wetting"].update(contact_angle_deg=30.0))
    assert _without_figures(_planned(repo_root, campaign, cfg)) == {
        ("wet", f"results/runs/wetting/{WET_CASE}.nc"),
        ("wetting_figure", f"results/figures/wetting/{WET_CASE}.png"),
        ("resolved2d", f"results/runs/resolved2d/{WET_CASE}.air.nc"),
        ("air_loss", "results/tables/air_loss.csv"),
    } | _datasets("wetting") | COMPARE


def test_resource_setting_reruns_nothing(repo_root: Path, campaign: Path) -> None:
    """wetting.tasks (MPI ranks) changes no result: nothing to do."""
    cfg = _edited(campaign, "tasks.yaml", lambda c: c["wetting"].update(tasks=2))
    assert _planned(repo_root, campaign, cfg) == set()
