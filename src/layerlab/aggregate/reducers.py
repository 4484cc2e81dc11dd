"""Per-run reductions applied before combining runs whose time grids differ.

A DFN run records states on its own adaptive time grid; combining such runs directly would give an
outer join of every time stamp.  :func:`step_profiles` samples each charge and discharge step at a
fixed number of fractions of the step's duration and on a common depth grid.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

DEPTH_GRID_M = np.linspace(0.0, 250e-6, 101)   # common depth grid (2.5 um); NaN beyond a run's domain
TIME_FRACTIONS = np.linspace(0.0, 1.0, 11)
_STEP_RE = re.compile(r"^(discharge|charge_before)_([0-9.]+)C$")


def step_profiles(ds: xr.Dataset, variables: tuple[str, ...] = ("electrolyte_concentration",
                                                                 "electrolyte_potential")) -> xr.Dataset:
    """Profiles over ``depth`` during each charge and discharge step of a rate test.

    Returns variables with dims (``process``, ``c_rate``, ``time``, ``depth``), ``time`` being the
    fraction of the step's duration (0 = start, 1 = end).
    """
    labels = str(ds["segment"].attrs["flag_meanings"]).split()
    steps = {}
    for index, label in enumerate(labels):
        m = _STEP_RE.match(label)
        if m:
            process = "discharge" if m[1] == "discharge" else "charge"
            steps[(process, float(m[2]))] = index
    c_rates = sorted({c for _, c in steps})
    processes = ["charge", "discharge"]
    out = {}
    for var in variables:
        data = np.full((2, len(c_rates), TIME_FRACTIONS.size, DEPTH_GRID_M.size), np.nan)
        for (process, c_rate), index in steps.items():
            mask = ds["segment"].values == index
            if mask.sum() < 2:
                continue
            t = ds["time"].values[mask]
            values = ds[var].values[mask]                      # (time, depth)
            times = t[0] + TIME_FRACTIONS * (t[-1] - t[0])
            at_t = np.array([[np.interp(tt, t, values[:, j]) for j in range(values.shape[1])]
                             for tt in times])                # (fraction, depth)
            depth = ds["depth"].values
            inside = DEPTH_GRID_M <= depth[-1] * (1 + 1e-12)
            for k, row in enumerate(at_t):
                data[processes.index(process), c_rates.index(c_rate), k, inside] = np.interp(
                    DEPTH_GRID_M[inside], depth, row)
        out[var] = (("process", "c_rate", "time", "depth"), data, dict(ds[var].attrs))
    return xr.Dataset(out, coords={
        "process": ("process", processes, {"long_name": "protocol step", "units": "1"}),
        "c_rate": ("c_rate", c_rates, {"long_name": "C-rate of the step", "units": "h-1"}),
        "time": ("time", TIME_FRACTIONS, {"long_name": "time as a fraction of the step duration", "units": "1"}),
        "depth": ("depth", DEPTH_GRID_M, {"long_name": "depth from the current collector", "units": "m"}),
    })


WETTING_TIME_GRID_S = np.linspace(0.0, 2.0, 201)   # common time grid (10 ms); NaN after a run ends


def wetting_summary(ds: xr.Dataset) -> xr.Dataset:
    """A wetting run on common grids: the scalars, ``saturation`` over ``time``, the air profile over ``depth``."""
    t = ds["time"].values
    sat = np.interp(WETTING_TIME_GRID_S, t, ds["saturation"].values, right=np.nan)
    outlet = np.interp(WETTING_TIME_GRID_S, t, ds["outlet_electrolyte_fraction"].values, right=np.nan)
    depth = ds["depth"].values
    inside = (DEPTH_GRID_M >= depth[0]) & (DEPTH_GRID_M <= depth[-1])
    profile = np.full(DEPTH_GRID_M.size, np.nan)
    profile[inside] = np.interp(DEPTH_GRID_M[inside], depth, ds["air_fraction_profile"].values)
    time_attrs = {"long_name": "time since the start of filling", "units": "s"}
    extra = {}
    if "outlet_electrolyte_flux_fraction" in ds:        # runs before issue 16 lack the series
        from layerlab.wetting.metrics import breakthrough_variants
        names = {"outlet_fraction": "outlet_electrolyte_fraction", "outlet_fraction_raw": "outlet_electrolyte_fraction_raw",
                 "outlet_flux_fraction": "outlet_electrolyte_flux_fraction",
                 "outlet_flux_fraction_raw": "outlet_electrolyte_flux_fraction_raw"}
        variants = breakthrough_variants(t, {k: ds[v].values for k, v in names.items() if v in ds})
        extra["breakthrough_time_by_definition"] = xr.Variable(
            "breakthrough_definition", np.array(list(variants.values())),
            {"units": "s", "long_name": "1 % outlet breakthrough time under each definition of the outlet fraction"})
        definitions = np.array(list(variants), dtype=str)
    out = xr.Dataset({
        "breakthrough_time": ((), float(ds["breakthrough_time"]), dict(ds["breakthrough_time"].attrs)),
        "trapped_air_fraction": ((), float(ds["trapped_air_fraction_final"]),
                                 dict(ds["trapped_air_fraction_final"].attrs)),
        "time_to_steady_state": ((), float(ds["steady_state_time"]), dict(ds["steady_state_time"].attrs)),
        "saturation": (("time",), sat, dict(ds["saturation"].attrs)),
        "outlet_electrolyte_fraction": (("time",), outlet, dict(ds["outlet_electrolyte_fraction"].attrs)),
        "air_fraction_profile": (("depth",), profile, dict(ds["air_fraction_profile"].attrs)),
    }, coords={"time": ("time", WETTING_TIME_GRID_S, time_attrs),
               "depth": ("depth", DEPTH_GRID_M, {"long_name": "depth from the current collector", "units": "m"})})
    if extra:
        out = out.assign_coords(breakthrough_definition=("breakthrough_definition", definitions, {
            "units": "1", "long_name": "outlet signal (area or flux; clipped or raw) / level (of the maximum or final value)"}))
        out = out.assign(extra)
    return out
