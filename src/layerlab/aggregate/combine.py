"""Combine per-run netCDF files into one dataset with dimensions named by physical parameters.

Each per-run file ``results/runs/<stage>/<case>.nc`` describes one case.  Its case parameters
(architecture, loading, porosity, L share, seed) become length-1 dimensions and the files are
combined by coordinates, so ``ds.sel(architecture="L-Dry-S", porosity=0.25)`` and
``ds.mean("seed")`` work.  A case without a file (missing or failed run) is never dropped
silently: it becomes NaN in the combined grid and is listed in the ``missing_runs`` attribute.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import xarray as xr

from layerlab.cases import Case, parse_case
from layerlab.cfnames import upgrade_legacy
from layerlab.io import load_netcdf_input

log = logging.getLogger("layerlab.aggregate")

CASE_DIMS: dict[str, dict[str, str]] = {
    "architecture": {"long_name": "electrode architecture (Chen et al. 2024)", "units": "1"},
    "loading": {"long_name": "areal loading of the coating", "units": "mg cm-2"},
    "porosity": {"long_name": "electrode porosity", "units": "1"},
    "ls_ratio": {"long_name": "L share (of thickness for layered designs, of active mass for mixtures)",
                 "units": "1"},
    "seed": {"long_name": "packing seed", "units": "1"},
}


def case_coords(case: Case, with_seed: bool) -> dict[str, object]:
    """Coordinate values of one case."""
    coords: dict[str, object] = {"architecture": case.architecture, "loading": case.loading_mg_cm2,
                                 "porosity": case.porosity, "ls_ratio": case.ls_ratio}
    if with_seed:
        coords["seed"] = -1 if case.seed is None else case.seed
    return coords


def _expand(ds: xr.Dataset, case: Case, with_seed: bool) -> xr.Dataset:
    coords = case_coords(case, with_seed)
    ds = ds.drop_vars([k for k in coords if k in ds.variables])
    ds = ds.expand_dims({k: [v] for k, v in coords.items()})
    for k in coords:
        ds[k].attrs.update(CASE_DIMS[k])
    return ds


def combine_runs(run_dir: str | Path, case_names: Sequence[str], variables: Iterable[str] | None = None,
                 with_seed: bool | None = None,
                 reduce: Callable[[xr.Dataset], xr.Dataset] | None = None) -> xr.Dataset:
    """Combine the per-run files of ``case_names`` found in ``run_dir`` by their case coordinates.

    Parameters
    ----------
    run_dir : folder with one ``<case>.nc`` per run
    case_names : every case the campaign asked for (a missing file is listed, not dropped)
    variables : the data variables to keep (all when None)
    with_seed : add a ``seed`` dimension (default: when any case name has a seed)
    reduce : applied to each run before selecting ``variables`` (e.g. onto common grids)

    Returns
    -------
    xarray.Dataset with attributes ``runs_expected``, ``runs_found`` and ``missing_runs``
    (space-separated case names, empty when none is missing).
    """
    run_dir = Path(run_dir)
    cases = [parse_case(n) for n in case_names]
    if with_seed is None:
        with_seed = any(c.seed is not None for c in cases)
    pieces: list[xr.Dataset] = []
    missing: list[str] = []
    for case in cases:
        path = run_dir / f"{case.name}.nc"
        if not path.exists():
            missing.append(case.name)
            log.warning("missing run: %s", path)
            continue
        ds = upgrade_legacy(load_netcdf_input(path, "runs", "a per-run netCDF of the campaign"))
        if reduce is not None:
            ds = reduce(ds)
        if variables is not None:
            ds = ds[[v for v in variables if v in ds]]
        ds.attrs = {}
        pieces.append(_expand(ds, case, with_seed))
    if pieces:
        combined = xr.combine_by_coords(pieces, combine_attrs="override", join="outer")
        assert isinstance(combined, xr.Dataset)
    else:
        combined = xr.Dataset()
    # add the missing cases as NaN points of the grid so that the full sweep is visible
    for name in missing:
        coords = case_coords(parse_case(name), with_seed)
        for dim, value in coords.items():
            if dim in combined.dims and value not in combined[dim].values:
                combined = combined.reindex({dim: np.append(combined[dim].values, value)})
    for dim, attrs in CASE_DIMS.items():
        if dim in combined.coords:
            combined[dim].attrs.update(attrs)
    combined.attrs.update(runs_expected=len(cases), runs_found=len(pieces), missing_runs=" ".join(missing))
    if missing:
        log.warning("%d of %d runs missing in %s", len(missing), len(cases), run_dir)
    return combined
