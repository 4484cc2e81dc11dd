# Helpers shared by all rules: case lists, paths, the python command.
from layerlab.cases import cases_of

RESULTS = config["results_dir"]
PY = "python -m layerlab"

# Each stage's .smk appends the final outputs it contributes to `rule all`.
TARGETS = []


def all_targets(wildcards):
    return TARGETS


def stage_cases(section, key="sweeps", seeds=True):
    """Case names of the sweeps a config section lists (with the geometry seeds when seeds=True)."""
    seed_list = config["geometry"]["seeds"] if seeds else None
    return [c.name for c in cases_of(config, config[section][key], seed_list)]


wildcard_constraints:
    case=r"[A-Za-z-]+_load[0-9.e+-]+_por[0-9.e+-]+_ls[0-9.e+-]+(_seed\d+)?",
