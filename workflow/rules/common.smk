# Helpers shared by all rules: case lists, paths, the python command.
import os

from layerlab.aggregate.datasets import DATASETS, dataset_cases, dataset_run_files, stage_seeds
from layerlab.cases import cases_of
from layerlab.figures.catalog import FIGURES
from layerlab.network.falsify import run_inputs as mechanism_check_inputs
from layerlab.settings import job_files, job_settings

RESULTS = config["results_dir"]
CONDA_ENV = "../../environment.yml"  # for --software-deployment-method conda on clusters (untested here)


def settings(stage):
    """params of a job of `stage`: its settings as JSON (layerlab.settings: the config subset its
    command reads and the sha256 of each file it reads), passed as `--settings {params.settings:q}`.
    A change to them reruns exactly the jobs they belong to (Snakemake's params trigger)."""
    return lambda wildcards: job_settings(config, stage, dict(wildcards))


def setting_files(stage):
    """input of a job of `stage`: the parameter / materials files its command reads."""
    return lambda wildcards: job_files(config, stage, dict(wildcards))


# Each stage's .smk appends the final outputs it contributes to `rule all`.
TARGETS = []


def all_targets(wildcards):
    return TARGETS


def stage_cases(section, key="sweeps", seeds=True):
    """Case names of the sweeps a config section lists (with the geometry seeds when seeds=True);
    none when the section or its list is absent."""
    sweeps = config.get(section, {}).get(key, [])
    seed_list = config["geometry"]["seeds"] if seeds else None
    return [c.name for c in cases_of(config, sweeps, seed_list)] if sweeps else []


def first_seed_cases(cases, seeds):
    """The cases of the first of ``seeds`` (one picture per design)."""
    return [c for c in cases if seeds and c.endswith(f"_seed{seeds[0]}")]


wildcard_constraints:
    case=r"[A-Za-z-]+_load[0-9.e+-]+_por[0-9.e+-]+_ls[0-9.e+-]+(_seed\d+)?",


ACTIVE_DATASETS = [name for name in DATASETS if dataset_cases(config, name)]
FIGURE_CAPTIONS = {spec.name: spec.caption for spec in FIGURES}


def dataset_inputs(wildcards):
    """Per-run files that feed one campaign dataset."""
    return [str(p) for p in dataset_run_files(config, wildcards.dataset)]
