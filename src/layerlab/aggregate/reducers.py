"""Per-run reductions applied before combining runs whose time grids differ.

A DFN run records states on its own adaptive time grid; combining such runs directly would give an
outer join of every time stamp.  :func:`step_profiles` samples each charge and discharge step at a
fixed number of fractions of the step's duration and on a common grid of distance from the current
collector; :func:`rate_curves` resamples each step's voltage at points of equal charge (Fig. S9).

Dimension names avoid CF's reserved ``time`` / ``depth`` (compliance-checker then demands a
calendar epoch and a geophysical depth), as the per-run files do (:mod:`layerlab.cfnames`):
``step_fraction``, ``filling_time``, ``distance_from_collector``.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from layerlab.cfnames import DISTANCE, DISTANCE_ATTRS, FILLING_TIME, PROTOCOL_TIME

DEPTH_GRID_M = np.linspace(0.0, 250e-6, 101)   # common grid (2.5 um); NaN beyond a run's domain
TIME_FRACTIONS = np.linspace(0.0, 1.0, 11)
CURVE_POINTS = 51                                # points of equal charge per voltage-capacity curve
PROCESSES = ["charge", "discharge"]
_STEP_RE = re.compile(r"^(discharge|charge(?:_[0-9.]+C)?_before)_([0-9.]+)C$")
"""A CC step's label: ``discharge_1C``, or the charge before it, ``charge_<rate>C_before_1C`` (the
protocols' labels: symmetric charge at 1C, or the fixed charge rate) or ``charge_before_1C`` (older runs)."""


def _steps(ds: xr.Dataset) -> dict[tuple[str, float], int]:
    """(process, C-rate) -> segment index of each CC charge and discharge step of a rate test."""
    steps = {}
    for index, label in enumerate(str(ds["segment"].attrs["flag_meanings"]).split()):
        m = _STEP_RE.match(label)
        if m:
            steps[("discharge" if m[1] == "discharge" else "charge", float(m[2]))] = index
    return steps


def _step_coords(c_rates: list[float]) -> dict:
    return {"process": ("process", PROCESSES, {"long_name": "protocol step (CC charge or CC discharge)",
                                                "units": "1"}),
            "c_rate": ("c_rate", c_rates, {"long_name": "C-rate of the step", "units": "h-1"})}


def step_profiles(ds: xr.Dataset, variables: tuple[str, ...] = ("electrolyte_concentration",
                                                                 "electrolyte_potential")) -> xr.Dataset:
    """Profiles through the thickness during each charge and discharge step of a rate test.

    Returns variables with dims (``process``, ``c_rate``, ``step_fraction``, ``distance_from_collector``),
    ``step_fraction`` being the fraction of the step's duration (0 = start, 1 = end).
    """
    steps = _steps(ds)
    c_rates = sorted({c for _, c in steps})
    processes = PROCESSES
    out = {}
    for var in variables:
        data = np.full((2, len(c_rates), TIME_FRACTIONS.size, DEPTH_GRID_M.size), np.nan)
        for (process, c_rate), index in steps.items():
            mask = ds["segment"].values == index
            if mask.sum() < 2:
                continue
            t = ds[PROTOCOL_TIME].values[mask]
            values = ds[var].values[mask]                      # (sample, distance)
            times = t[0] + TIME_FRACTIONS * (t[-1] - t[0])
            at_t = np.array([[np.interp(tt, t, values[:, j]) for j in range(values.shape[1])]
                             for tt in times])                # (fraction, distance)
            depth = ds[DISTANCE].values
            inside = DEPTH_GRID_M <= depth[-1] * (1 + 1e-12)
            for k, row in enumerate(at_t):
                data[processes.index(process), c_rates.index(c_rate), k, inside] = np.interp(
                    DEPTH_GRID_M[inside], depth, row)
        out[var] = (("process", "c_rate", "step_fraction", DISTANCE), data, dict(ds[var].attrs))
    return xr.Dataset(out, coords={
        **_step_coords(c_rates),
        "step_fraction": ("step_fraction", TIME_FRACTIONS, {"long_name": "time as a fraction of the step duration",
                                                            "units": "1"}),
        DISTANCE: (DISTANCE, DEPTH_GRID_M, DISTANCE_ATTRS),
    })


def rate_curves(ds: xr.Dataset) -> xr.Dataset:
    """The capacities per C-rate and, per CC step, voltage against capacity (Fig. S9 of Chen et al.
    2024) at ``CURVE_POINTS`` points of equal charge from the step's start to its end.

    Returns ``discharge_capacity`` (``c_rate``), ``curve_capacity`` and ``curve_voltage``
    (``process``, ``c_rate``, ``curve_point``); NaN where a step did not run.  A record without
    ``segment`` / ``capacity`` series gives the capacities only."""
    if "segment" not in ds or "capacity" not in ds:
        return ds[["discharge_capacity"]]
    c_rates = [float(c) for c in ds["c_rate"].values]
    shape = (len(PROCESSES), len(c_rates), CURVE_POINTS)
    cap, volt = np.full(shape, np.nan), np.full(shape, np.nan)
    for (process, c_rate), index in _steps(ds).items():
        mask = ds["segment"].values == index
        if mask.sum() < 2 or c_rate not in c_rates:
            continue
        q = ds["capacity"].values[mask]
        grid = np.linspace(0.0, q[-1], CURVE_POINTS)
        i, j = PROCESSES.index(process), c_rates.index(c_rate)
        cap[i, j], volt[i, j] = grid, np.interp(grid, q, ds["voltage"].values[mask])
    unit = ds["capacity"].attrs["units"]
    return xr.Dataset({
        "discharge_capacity": ds["discharge_capacity"],
        "curve_capacity": (("process", "c_rate", "curve_point"), cap,
                           {"units": unit, "long_name": "capacity passed in the CC step, at points of equal charge"}),
        "curve_voltage": (("process", "c_rate", "curve_point"), volt,
                          {"units": "V", "long_name": "cell voltage at curve_capacity (Fig. S9 curves)"}),
    }, coords=_step_coords(c_rates))


WETTING_TIME_GRID_S = np.linspace(0.0, 2.0, 201)   # common time grid (10 ms); NaN after a run ends


def wetting_summary(ds: xr.Dataset) -> xr.Dataset:
    """A wetting run on common grids: the scalars, ``saturation`` over ``filling_time``, the air profile
    over ``distance_from_collector``."""
    t = ds[FILLING_TIME].values
    sat = np.interp(WETTING_TIME_GRID_S, t, ds["saturation"].values, right=np.nan)
    outlet = np.interp(WETTING_TIME_GRID_S, t, ds["outlet_electrolyte_fraction"].values, right=np.nan)
    depth = ds[DISTANCE].values
    inside = (DEPTH_GRID_M >= depth[0]) & (DEPTH_GRID_M <= depth[-1])
    profile = np.full(DEPTH_GRID_M.size, np.nan)
    profile[inside] = np.interp(DEPTH_GRID_M[inside], depth, ds["air_fraction_profile"].values)
    time_attrs = {"long_name": "time since the start of filling", "units": "s"}
    t_dim = FILLING_TIME
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
        "saturation": ((t_dim,), sat, dict(ds["saturation"].attrs)),
        "outlet_electrolyte_fraction": ((t_dim,), outlet, dict(ds["outlet_electrolyte_fraction"].attrs)),
        "air_fraction_profile": ((DISTANCE,), profile, dict(ds["air_fraction_profile"].attrs)),
    }, coords={t_dim: (t_dim, WETTING_TIME_GRID_S, time_attrs), DISTANCE: (DISTANCE, DEPTH_GRID_M, DISTANCE_ATTRS)})
    if extra:
        out = out.assign_coords(breakthrough_definition=("breakthrough_definition", definitions, {
            "units": "1", "long_name": "outlet signal (area or flux; clipped or raw) / level (of the maximum or final value)"}))
        out = out.assign(extra)
    return out
