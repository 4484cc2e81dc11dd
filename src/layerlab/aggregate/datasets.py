"""The campaign's datasets: which per-run files feed which ``results/datasets/<name>.nc``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import xarray as xr

from layerlab.aggregate.reducers import rate_curves, step_profiles, wetting_summary
from layerlab.cases import cases_of
from layerlab.errors import InputError


@dataclass(frozen=True)
class RunSource:
    """One family of per-run files feeding a dataset.

    Parameters
    ----------
    stage : run folder under ``results/runs/``
    section : config section whose ``sweeps`` list the cases (absent section: no cases)
    seeded : whether the cases carry packing seeds (geometry-based stages; see :func:`stage_seeds`)
    coords : extra scalar coordinates that tell this source apart (e.g. ``cell="half"``)
    """

    stage: str
    section: str
    seeded: bool = False
    coords: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """One campaign dataset.

    Parameters
    ----------
    sources : the run families combined (along their ``coords`` when there are several)
    variables : data variables kept (None: all)
    reduce : per-run reduction applied before combining (e.g. onto common time/depth grids)
    """

    sources: tuple[RunSource, ...]
    variables: tuple[str, ...] | None = None
    reduce: Callable[[xr.Dataset], xr.Dataset] | None = None


HALF_CELL = RunSource("dfn", "electrochem", coords={"cell": "half"})
FULL_CELL = RunSource("fullcell", "fullcell", coords={"cell": "full"})

DATASETS: dict[str, DatasetSpec] = {
    "wetting": DatasetSpec((RunSource("wetting", "wetting", seeded=True),),
                           ("breakthrough_time", "trapped_air_fraction", "air_fraction_profile",
                            "saturation", "outlet_electrolyte_fraction", "time_to_steady_state",
                            "breakthrough_time_by_definition"),
                           wetting_summary),
    "transport": DatasetSpec((RunSource("transport", "transport", seeded=True),)),
    "network": DatasetSpec((RunSource("network", "network", seeded=True),)),
    "rate_capability": DatasetSpec((HALF_CELL, FULL_CELL), ("discharge_capacity", "curve_capacity", "curve_voltage"),
                                   rate_curves),
    "profiles": DatasetSpec((RunSource("dfn", "electrochem"),),
                            ("electrolyte_concentration", "electrolyte_potential"), step_profiles),
    "cycling": DatasetSpec((RunSource("fullcell", "fullcell"),),
                           ("discharge_capacity_cycle", "capacity_retention")),
    "impedance": DatasetSpec((RunSource("impedance", "impedance"),),
                             ("impedance_real", "impedance_imag", "warburg_coefficient",
                              "apparent_diffusivity")),
}


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise InputError("dataset", f"unknown dataset {name!r}", ", ".join(DATASETS))
    return DATASETS[name]


def stage_seeds(config: Mapping[str, Any], section: str) -> list[int]:
    """Packing seeds of a seeded stage: its own ``<section>.seeds`` when set (``wetting.seeds``:
    statistics over packings without multiplying the 3D packings), else ``geometry.seeds``."""
    own = (config.get(section) or {}).get("seeds")
    return list(own) if own is not None else list(config["geometry"]["seeds"])


def source_cases(config: Mapping[str, Any], source: RunSource) -> list[str]:
    """Case names of one run family in this config (none when its section is absent)."""
    sweeps = config.get(source.section, {}).get("sweeps", [])
    if not sweeps:
        return []
    seeds = stage_seeds(config, source.section) if source.seeded else None
    return [c.name for c in cases_of(config, sweeps, seeds)]


def dataset_cases(config: Mapping[str, Any], name: str) -> list[str]:
    """Case names that feed dataset ``name`` in this config (all sources together)."""
    return [case for src in _spec(name).sources for case in source_cases(config, src)]


def dataset_run_files(config: Mapping[str, Any], name: str) -> list[Path]:
    """Per-run files that feed dataset ``name`` in this config."""
    root = Path(config["results_dir"]) / "runs"
    return [root / src.stage / f"{case}.nc"
            for src in _spec(name).sources for case in source_cases(config, src)]


SOURCE_COORDS = {"cell": {"long_name": "cell type: half (Li metal counter electrode) or full (graphite)",
                          "units": "1"}}


def build_dataset(config: Mapping[str, Any], name: str) -> xr.Dataset:
    """Combine every run of dataset ``name``; several sources are stacked along their ``coords``.

    The attributes ``runs_expected``, ``runs_found`` and ``missing_runs`` cover all sources."""
    from layerlab.aggregate.combine import combine_runs

    spec = _spec(name)
    root = Path(config["results_dir"]) / "runs"
    parts: list[xr.Dataset] = []
    expected = found = 0
    missing: list[str] = []
    for src in spec.sources:
        cases = source_cases(config, src)
        if not cases:
            continue
        part = combine_runs(root / src.stage, cases, spec.variables, with_seed=src.seeded, reduce=spec.reduce)
        expected += part.attrs["runs_expected"]
        found += part.attrs["runs_found"]
        missing += [f"{src.stage}/{m}" for m in part.attrs["missing_runs"].split()]
        part.attrs = {}
        if src.coords:
            part = part.expand_dims({k: [v] for k, v in src.coords.items()})
            for k in src.coords:
                part[k].attrs.update(SOURCE_COORDS.get(k, {"long_name": k, "units": "1"}))
        parts.append(part)
    if len(parts) > 1:
        # the sources differ in their own coordinate (e.g. cell), so an outer merge never conflicts
        combined = xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts")
    else:
        combined = parts[0] if parts else xr.Dataset()
    combined.attrs.update(title=f"layerlab campaign dataset {name!r}: {len(spec.sources)} run families combined "
                                "by case parameters", runs_expected=expected, runs_found=found,
                          missing_runs=" ".join(missing))
    return combined
