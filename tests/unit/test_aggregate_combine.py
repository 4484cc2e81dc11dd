"""Combining per-run files: dims named by parameters, NaN + listing for missing runs, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from layerlab.aggregate.combine import combine_runs
from layerlab.cases import Case
from layerlab.io import write_netcdf


def _run_file(path, capacity: float, n_time: int = 4) -> None:
    ds = xr.Dataset(
        {"discharge_capacity": ("c_rate", np.array([capacity, capacity / 2]),
                                {"units": "mAh g-1", "long_name": "discharge capacity"}),
         "voltage": ("time", np.linspace(4.2, 3.0, n_time), {"units": "V", "long_name": "cell voltage"})},
        coords={"c_rate": ("c_rate", [0.1, 1.0], {"units": "h-1", "long_name": "C-rate"}),
                "time": ("time", np.arange(n_time, dtype=float), {"units": "s", "long_name": "time"})})
    write_netcdf(ds, path)


def test_combine_by_case_coordinates_and_list_missing(tmp_path) -> None:
    cases = [Case(a, 22.0, p, 0.5) for a in ("L-Dry-S", "S-Dry-L") for p in (0.55, 0.25)]
    for i, c in enumerate(cases[:-1]):
        _run_file(tmp_path / f"{c.name}.nc", 100.0 + i)
    ds = combine_runs(tmp_path, [c.name for c in cases])
    assert set(ds["discharge_capacity"].dims) == {"architecture", "loading", "porosity", "ls_ratio", "c_rate"}
    got = ds["discharge_capacity"].sel(architecture="S-Dry-L", porosity=0.55, loading=22.0, ls_ratio=0.5)
    np.testing.assert_allclose(got.values, [102.0, 51.0])
    missing = ds["discharge_capacity"].sel(architecture="S-Dry-L", porosity=0.25).values
    assert np.isnan(missing).all()
    assert ds.attrs["missing_runs"] == cases[-1].name
    assert ds.attrs["runs_found"] == 3 and ds.attrs["runs_expected"] == 4
    assert ds["porosity"].attrs["units"] == "1"
    out = tmp_path / "combined.nc"
    write_netcdf(ds, out)
    back = xr.open_dataset(out, engine="h5netcdf")
    xr.testing.assert_identical(back["discharge_capacity"], ds["discharge_capacity"])
    assert back.attrs["Conventions"].startswith("CF")


def test_seed_dimension_supports_mean(tmp_path) -> None:
    cases = [Case("Mix", 22.0, 0.45, 0.5, seed) for seed in (0, 1, 2)]
    for i, c in enumerate(cases):
        _run_file(tmp_path / f"{c.name}.nc", 90.0 + 3 * i)
    ds = combine_runs(tmp_path, [c.name for c in cases])
    assert ds.sizes["seed"] == 3
    mean = ds["discharge_capacity"].mean("seed").sel(c_rate=0.1).squeeze()
    assert float(mean) == pytest.approx(93.0)
    assert ds.attrs["missing_runs"] == ""
