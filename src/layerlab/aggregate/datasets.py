"""The campaign's datasets: which per-run files feed which ``results/datasets/<name>.nc``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import xarray as xr

from layerlab.aggregate.reducers import step_profiles, wetting_summary
from layerlab.cases import cases_of
from layerlab.errors import InputError


@dataclass(frozen=True)
class DatasetSpec:
    """One campaign dataset.

    Parameters
    ----------
    stage : run folder under ``results/runs/``
    section : config section whose ``sweeps`` list the cases
    seeded : whether the cases carry packing seeds (geometry-based stages)
    variables : data variables kept (None: all)
    reduce : per-run reduction applied before combining (e.g. onto common time/depth grids)
    """

    stage: str
    section: str
    seeded: bool
    variables: tuple[str, ...] | None = None
    reduce: Callable[[xr.Dataset], xr.Dataset] | None = None


DATASETS: dict[str, DatasetSpec] = {
    "wetting": DatasetSpec("wetting", "wetting", True,
                           ("breakthrough_time", "trapped_air_fraction", "air_fraction_profile",
                            "saturation", "outlet_electrolyte_fraction", "time_to_steady_state"),
                           wetting_summary),
    "transport": DatasetSpec("transport", "transport", True),
    "rate_capability": DatasetSpec("dfn", "electrochem", False, ("discharge_capacity",)),
    "profiles": DatasetSpec("dfn", "electrochem", False,
                            ("electrolyte_concentration", "electrolyte_potential"), step_profiles),
}


def dataset_cases(config: Mapping[str, Any], name: str) -> list[str]:
    """Case names that feed dataset ``name`` in this config."""
    if name not in DATASETS:
        raise InputError("dataset", f"unknown dataset {name!r}", ", ".join(DATASETS))
    spec = DATASETS[name]
    seeds = config["geometry"]["seeds"] if spec.seeded else None
    return [c.name for c in cases_of(config, config[spec.section]["sweeps"], seeds)]


def run_dir(config: Mapping[str, Any], name: str) -> Path:
    """Folder of the per-run files of dataset ``name``."""
    return Path(config["results_dir"]) / "runs" / DATASETS[name].stage
