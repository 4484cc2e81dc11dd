"""Dimension and variable names shared by the per-run files and the campaign datasets.

CF reserves ``time`` (read as calendar time: units ``<unit> since <epoch>``) and ``depth`` (read as
geophysical depth below the sea surface), so no file uses them: positions through the thickness are
``distance_from_collector``; a wetting run's series run over ``filling_time``; a protocol run (DFN,
resolved cell), whose time stamp repeats where one protocol step ends and the next begins, runs over
the ``sample`` index with ``protocol_time`` a data variable (a CF coordinate must be strictly monotonic);
so do a resolved run's profiles (``profile_sample``, ``profile_time``) and 2D maps (``map_sample``,
``map_time``), taken at a step's end and again at the next one's start.
"""

from __future__ import annotations

DISTANCE = "distance_from_collector"
DISTANCE_ATTRS = {"long_name": "distance from the current collector through the thickness", "units": "m"}
FILLING_TIME = "filling_time"
SAMPLE = "sample"
PROTOCOL_TIME = "protocol_time"
PROFILE_SAMPLE = "profile_sample"
MAP_SAMPLE = "map_sample"
PROTOCOL_TIME_ATTRS = {"units": "s", "long_name": "time since the start of the run (repeated where one "
                                                  "protocol step ends and the next begins)"}


def upgrade_legacy(ds: "xarray.Dataset") -> "xarray.Dataset":  # noqa: F821
    """A per-run dataset written before these names (dims ``time`` / ``depth``; a resolved run's
    ``profile_time`` / ``map_time`` dims) in today's layout; a current one unchanged.  The readers of
    run files call it, so that runs of a campaign written earlier need no rerun."""
    if "depth" in ds.dims:
        ds = ds.rename({"depth": DISTANCE})
    if "time" in ds.dims:
        ds = _to_samples(ds, "time", SAMPLE, PROTOCOL_TIME) if "segment" in ds else ds.rename({"time": FILLING_TIME})
    for dim, sample in (("profile_time", PROFILE_SAMPLE), ("map_time", MAP_SAMPLE)):
        if dim in ds.dims:
            ds = _to_samples(ds, dim, sample, dim)
    return ds


def _to_samples(ds: "xarray.Dataset", dim: str, sample: str, name: str) -> "xarray.Dataset":  # noqa: F821
    """Dimension ``dim`` (a time coordinate) -> index ``sample``, its values the data variable ``name``."""
    ds = ds.swap_dims({dim: sample}).reset_coords(dim)
    return ds.rename_vars({dim: name}) if name != dim else ds
