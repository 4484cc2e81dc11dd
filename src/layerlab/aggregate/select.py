"""Selecting one case (or one curve) from a campaign dataset, tolerant of what was not run."""

from __future__ import annotations

import xarray as xr

DEFAULT_SELECTION = {"cell": "half"}   # half-cell results unless the caller asks for the full cell


def select(da: xr.DataArray, **coords: object) -> xr.DataArray | None:
    """``da.sel(**coords)`` over the dims ``da`` has (half cell by default), averaged over seeds;
    None when a requested value is absent."""
    coords = {**DEFAULT_SELECTION, **coords}
    try:
        sub = da.sel({k: v for k, v in coords.items() if k in da.dims})
    except KeyError:
        return None
    return sub.mean("seed") if "seed" in sub.dims else sub


def select_scalar(da: xr.DataArray, **coords: object) -> float:
    """One value of ``da`` at ``coords`` (averaged over seeds); NaN when absent or not unique."""
    sub = select(da, **coords)
    if sub is None:
        return float("nan")
    sub = drop_unrun(sub)
    if sub.size != 1:
        return float("nan")
    return float(sub.values.reshape(-1)[0])


def drop_unrun(da: xr.DataArray, keep: tuple[str, ...] = ()) -> xr.DataArray:
    """Drop the all-NaN entries of every dimension except ``keep`` (combinations not run: e.g. the
    half-cell porosities on the full-cell slice of a stacked dataset)."""
    for dim in da.dims:
        if dim not in keep and da.sizes[dim] > 1:
            da = da.dropna(dim, how="all")
    return da
