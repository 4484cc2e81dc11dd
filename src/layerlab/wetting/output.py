"""The netCDF layout of a wetting run (CF ``units`` and ``long_name`` on every variable)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from layerlab.cfnames import DISTANCE, FILLING_TIME
from layerlab.wetting.metrics import Probe
from layerlab.wetting.params import LENGTH_SCALE_M, WettingParams


def to_dataset(hist, metrics: dict[str, float], depth_m: np.ndarray, air_profile: np.ndarray,
               vertex_xy_m: np.ndarray, phi_vertex: np.ndarray, params: WettingParams, case: str,
               probe: Probe) -> xr.Dataset:
    """Time series (over ``filling_time``), scalars, the final air profile (over
    ``distance_from_collector``) and the final phase field at the vertices."""
    a = hist.as_arrays()
    area = LENGTH_SCALE_M**2
    ds = xr.Dataset(coords={
        FILLING_TIME: (FILLING_TIME, a["t"], {"units": "s", "long_name": "simulated time since the start of filling"}),
        DISTANCE: (DISTANCE, depth_m, {"units": "m", "long_name": "distance above the current collector (bottom of "
                                                                 "the electrode), centre of the averaging bin"}),
        "vertex": ("vertex", np.arange(phi_vertex.size), {"units": "1", "long_name": "mesh vertex index (sorted by x, y)"}),
    })
    ts = {
        "outlet_electrolyte_fraction": (a["outlet_fraction"], "1", "electrolyte volume fraction on the outlet edge"),
        "outlet_electrolyte_fraction_raw": (a["outlet_fraction_raw"], "1",
                                            "electrolyte fraction on the outlet edge, unclipped phase field"),
        "outlet_electrolyte_flux_fraction": (a["outlet_flux_fraction"], "1",
                                             "electrolyte share of the volume flux through the outlet"),
        "outlet_electrolyte_flux_fraction_raw": (a["outlet_flux_fraction_raw"], "1",
                                                 "electrolyte share of the outlet volume flux, unclipped phase field"),
        "saturation": (a["saturation"], "1", "electrolyte saturation of the electrode pore space"),
        "trapped_air_fraction": (a["trapped_air_fraction"], "1",
                                 "air behind the lowest electrolyte point, per electrode pore area"),
        "electrolyte_mass": (a["electrolyte_volume"] * area * params.density_electrolyte_kg_m3, "kg m-1",
                             "electrolyte mass per unit depth"),
        "air_mass": (a["air_volume"] * area * params.density_air_kg_m3, "kg m-1", "air mass per unit depth"),
        "electrolyte_area": (a["electrolyte_volume"] * area, "m2", "electrolyte area (volume per unit depth)"),
        "air_area": (a["air_volume"] * area, "m2", "air area (volume per unit depth)"),
        "time_step": (a["dt"], "s", "time step in use"),
    }
    for name, (v, units, long_name) in ts.items():
        if len(v) == a["t"].size:         # (a run resumed from an older checkpoint lacks the newer series)
            ds[name] = (FILLING_TIME, v, {"units": units, "long_name": long_name})
    ds["air_fraction_profile"] = (DISTANCE, air_profile,
                                  {"units": "1", "long_name": "air fraction of the pore area at the end"})
    ds["vertex_x"] = ("vertex", vertex_xy_m[:, 0], {"units": "m", "long_name": "vertex x"})
    ds["vertex_y"] = ("vertex", vertex_xy_m[:, 1], {"units": "m", "long_name": "vertex y (up, from the outlet)"})
    ds["phi_final"] = ("vertex", phi_vertex, {"units": "1", "long_name": "phase field at the end (+1 electrolyte, -1 air)",
                                               "geometry_case": case})
    ds["breakthrough_time"] = ((), metrics["breakthrough_time"], {
        "units": "s", "long_name": "first time the outlet electrolyte fraction reaches 1 % of its run maximum"})
    variants = [k.split("/", 1)[1] for k in metrics if k.startswith("breakthrough_time/")]
    ds = ds.assign_coords(breakthrough_definition=("breakthrough_definition", np.array(variants, dtype=str), {
        "units": "1", "long_name": "outlet signal (edge-averaged area or volume flux; clipped or raw phase field)"
                                   " / level (1 % of the run maximum or of the final value)"}))
    ds["breakthrough_time_by_definition"] = ("breakthrough_definition",
                                             np.array([metrics[f"breakthrough_time/{k}"] for k in variants]), {
        "units": "s", "long_name": "1 % outlet breakthrough time under each definition of the outlet fraction"})
    ds["steady_state_time"] = ((), metrics["steady_state_time"], {
        "units": "s", "long_name": "earliest time after which saturation stays within steady_tol of its final value"})
    ds["trapped_air_fraction_final"] = ((), metrics["trapped_air_fraction_final"], {
        "units": "1", "long_name": "trapped-air fraction of the electrode pore area at the end"})
    ds["saturation_final"] = ((), metrics["saturation_final"], {"units": "1", "long_name": "electrode saturation at the end"})
    ds.attrs.update({"title": "wetting run: electrolyte filling of a 2D electrode section (layerlab.wetting)",
                     "case": case, "geometry_case": case, "stopped_steady": int(hist.stopped_steady),
                     "electrode_pore_area_m2": probe.electrode_area * area,
                     **{f"param_{k}": v for k, v in params.to_dict().items()}})
    return ds


def add_air_map(ds: xr.Dataset, map_x_m: np.ndarray, map_y_m: np.ndarray, air: np.ndarray, case: str,
                packing_sha256: str) -> xr.Dataset:
    """Add the final phase state as a raster ``air_map(map_y, map_x)`` (1 air, 0 electrolyte, NaN
    solid or outside the pore space) with the packing's sha256 and the case name as attributes."""
    ds = ds.assign_coords(
        map_x=("map_x", map_x_m, {"units": "m", "long_name": "x of the air-map grid cell centres"}),
        map_y=("map_y", map_y_m, {"units": "m", "long_name": "y of the air-map grid cell centres (up, from the outlet)"}))
    ds["air_map"] = (("map_y", "map_x"), air, {
        "units": "1",
        "long_name": "final phase: 1 air (phi < 0), 0 electrolyte (phi >= 0), NaN solid or outside the pore space",
        "threshold": "phi < 0 is air; phi = +1 electrolyte, phi = -1 air",
        "spacing_x_m": _spacing(map_x_m), "spacing_y_m": _spacing(map_y_m),
        "packing_sha256": packing_sha256, "case": case})
    ds.attrs["packing_sha256"] = packing_sha256
    return ds


def _spacing(centres: np.ndarray) -> float:
    return float(centres[1] - centres[0]) if centres.size > 1 else 2.0 * float(centres[0])


def add_snapshots(ds: xr.Dataset, snapshots: list[tuple[float, np.ndarray]]) -> xr.Dataset:
    """Add the phase field at the snapshot times (``wetting.snapshot_times_s``) and at the end, on
    the air map's grid, as ``electrolyte_fraction_snapshot(snapshot_time, map_y, map_x)``:
    ``(phi + 1) / 2`` clipped to [0, 1] (1 electrolyte, 0 air), NaN in particles.  A run resumed
    from a checkpoint holds the snapshots taken after the resume (the VTX file holds them all).  Snapshots
    at the same simulated time (one step past two snapshot times, or the last step) are one state: kept
    once, so that ``snapshot_time`` is strictly increasing (a CF coordinate)."""
    assert "map_x" in ds.coords, "add_air_map first (the snapshots share its grid)"
    snapshots = [s for s, after in zip(snapshots, snapshots[1:] + [None]) if after is None or after[0] > s[0]]
    times = np.array([t for t, _ in snapshots], dtype=float)
    frac = np.array([np.clip((phi + 1.0) / 2.0, 0.0, 1.0) for _, phi in snapshots], dtype=np.float32)
    ds = ds.assign_coords(snapshot_time=("snapshot_time", times, {
        "units": "s", "long_name": "simulated time of the snapshot since the start of filling (last: end of run)"}))
    ds["electrolyte_fraction_snapshot"] = (("snapshot_time", "map_y", "map_x"), frac, {
        "units": "1", "long_name": "electrolyte fraction (phi + 1) / 2 on the air-map grid, NaN in particles"})
    return ds
