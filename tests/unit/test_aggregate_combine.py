"""Combining per-run files: dims named by parameters, NaN + listing for missing runs, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from layerlab.aggregate.combine import combine_runs
from layerlab.cases import Case
from layerlab.cfnames import DISTANCE, FILLING_TIME, PROTOCOL_TIME, PROTOCOL_TIME_ATTRS, SAMPLE
from layerlab.io import write_netcdf


def _run_file(path, capacity: float, n_time: int = 4) -> None:
    ds = xr.Dataset(
        {"discharge_capacity": ("c_rate", np.array([capacity, capacity / 2]),
                                {"units": "mA h g-1", "long_name": "discharge capacity"}),
         "voltage": (SAMPLE, np.linspace(4.2, 3.0, n_time), {"units": "V", "long_name": "cell voltage"}),
         PROTOCOL_TIME: (SAMPLE, np.arange(n_time, dtype=float), PROTOCOL_TIME_ATTRS)},
        coords={"c_rate": ("c_rate", [0.1, 1.0], {"units": "h-1", "long_name": "C-rate"})})
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


def _rate_record() -> xr.Dataset:
    """A synthetic rate-test record: c_e(t, x) = 1000 + t * x, the time stamp repeated where a step
    ends and the next begins (as the DFN records it)."""
    t = np.concatenate([np.linspace(0.0, 10.0, 11), np.linspace(10.0, 20.0, 10), np.linspace(20.0, 30.0, 10)])
    seg = np.repeat([0, 1, 2], [11, 10, 10])
    depth = np.linspace(0.0, 100e-6, 9)
    ce = 1000.0 + t[:, None] * depth[None, :] * 1e6
    return xr.Dataset({"electrolyte_concentration": ((SAMPLE, DISTANCE), ce, {"units": "mol m-3", "long_name": "c"}),
                       "electrolyte_potential": ((SAMPLE, DISTANCE), 0 * ce, {"units": "V", "long_name": "p"}),
                       "segment": (SAMPLE, seg, {"flag_meanings": "charge_before_1C CV_before_1C discharge_1C"}),
                       PROTOCOL_TIME: (SAMPLE, t)}, coords={DISTANCE: depth})


def test_step_profiles_sample_each_step_on_common_grids() -> None:
    """The reduction samples the synthetic record exactly."""
    from layerlab.aggregate.reducers import DEPTH_GRID_M, step_profiles

    out = step_profiles(_rate_record())
    end = out["electrolyte_concentration"].sel(process="discharge", c_rate=1.0, step_fraction=1.0)
    inside = DEPTH_GRID_M <= 100e-6
    np.testing.assert_allclose(end.values[inside], 1000.0 + 30.0 * DEPTH_GRID_M[inside] * 1e6)
    assert np.isnan(end.values[~inside]).all()
    start = out["electrolyte_concentration"].sel(process="charge", c_rate=1.0, step_fraction=0.0)
    np.testing.assert_allclose(start.values[inside], 1000.0)


def test_runs_written_before_the_cf_names_read_as_today(tmp_path) -> None:
    """Runs written with dims ``time`` / ``depth`` (before :mod:`layerlab.cfnames`) read in today's layout:
    a rate test through ``combine_runs`` reduces as today's does; a wetting run's time is ``filling_time``; a
    resolved run's ``profile_time`` dim becomes ``profile_sample``."""
    from layerlab.aggregate.reducers import step_profiles
    from layerlab.cfnames import PROFILE_SAMPLE, upgrade_legacy

    new = _rate_record()
    old_dims = {SAMPLE: "time", DISTANCE: "depth"}
    old = xr.Dataset({k: (tuple(old_dims[d] for d in v.dims), v.values, v.attrs) for k, v in new.data_vars.items()
                      if k != PROTOCOL_TIME},
                     coords={"time": ("time", new[PROTOCOL_TIME].values, {"units": "s", "standard_name": "time"}),
                             "depth": new[DISTANCE].values})
    case = Case("L-Dry-S", 22.0, 0.55, 0.5)
    old.to_netcdf(tmp_path / f"{case.name}.nc", engine="h5netcdf")
    got = combine_runs(tmp_path, [case.name], reduce=step_profiles)
    assert got.attrs["runs_found"] == 1
    case_dims = {"architecture": 0, "loading": 0, "porosity": 0, "ls_ratio": 0}
    xr.testing.assert_allclose(got["electrolyte_concentration"].isel(case_dims, drop=True),
                               step_profiles(new)["electrolyte_concentration"])
    wet = upgrade_legacy(xr.Dataset({"saturation": ("time", [0.0, 0.5])}, coords={"time": [0.0, 1.0]}))
    assert wet["saturation"].dims == (FILLING_TIME,) and list(wet[FILLING_TIME].values) == [0.0, 1.0]
    res = upgrade_legacy(xr.Dataset({"c_e": (("profile_time", "depth"), np.ones((2, 3)))},
                                    coords={"profile_time": [5.0, 5.0], "depth": [1.0, 2.0, 3.0]}))
    assert res["c_e"].dims == (PROFILE_SAMPLE, DISTANCE) and list(res["profile_time"].values) == [5.0, 5.0]
    assert upgrade_legacy(new) is new


def test_wetting_summary_puts_runs_on_common_grids() -> None:
    from layerlab.aggregate.reducers import WETTING_TIME_GRID_S, wetting_summary

    t = np.linspace(0.0, 0.5, 26)
    depth = np.linspace(2e-6, 98e-6, 7)
    a = {"units": "1", "long_name": "x"}
    ds = xr.Dataset({"saturation": (FILLING_TIME, 2 * t, a), "outlet_electrolyte_fraction": (FILLING_TIME, t, a),
                     "air_fraction_profile": (DISTANCE, depth * 1e4, a),
                     "breakthrough_time": ((), 0.4, a), "trapped_air_fraction_final": ((), 0.01, a),
                     "steady_state_time": ((), 0.45, a)}, coords={FILLING_TIME: t, DISTANCE: depth})
    out = wetting_summary(ds)
    assert float(out["trapped_air_fraction"]) == 0.01 and float(out["breakthrough_time"]) == 0.4
    sat = out["saturation"].values
    before = WETTING_TIME_GRID_S <= 0.5
    np.testing.assert_allclose(sat[before], 2 * WETTING_TIME_GRID_S[before], atol=1e-12)
    assert np.isnan(sat[~before]).all()
    prof = out["air_fraction_profile"].dropna(DISTANCE)
    np.testing.assert_allclose(prof.values, prof[DISTANCE].values * 1e4)


@pytest.mark.parametrize("charge_label", ["charge_1C_before_1C", "charge_0.2C_before_1C", "charge_before_1C"])
def test_rate_curves_resample_each_step_at_equal_charge(charge_label) -> None:
    """Fig. S9 curves: V(q) = 4.2 - 0.004 q on the discharge, 3.6 + 0.003 q on the charge, recorded on
    uneven time steps; the resampled curve is exact, ends at the step's capacity, and a C-rate whose
    step did not run is NaN.  The charge step is found under each protocol's label (symmetric: the
    charge at the discharge's rate; fixed: at ``charge_c_rate``; runs before the rate was named)."""
    from layerlab.aggregate.reducers import CURVE_POINTS, rate_curves

    q_dis = np.array([0.0, 1.0, 5.0, 40.0, 120.0, 150.0])
    q_chg = np.array([0.0, 30.0, 100.0, 190.0])
    seg = np.repeat([0, 1, 2], [q_chg.size, 2, q_dis.size])
    cap = np.concatenate([q_chg, [190.0, 195.0], q_dis])
    volt = np.concatenate([3.6 + 0.003 * q_chg, [4.3, 4.3], 4.2 - 0.004 * q_dis])
    a = {"units": "mA h g-1", "long_name": "x"}
    ds = xr.Dataset({"capacity": (SAMPLE, cap, a), "voltage": (SAMPLE, volt, {"units": "V", "long_name": "v"}),
                     "segment": (SAMPLE, seg, {"flag_meanings": f"{charge_label} CV_before_1C discharge_1C"}),
                     "discharge_capacity": ("c_rate", [150.0, np.nan], a),
                     PROTOCOL_TIME: (SAMPLE, np.arange(seg.size, dtype=float))}, coords={"c_rate": [1.0, 2.0]})
    out = rate_curves(ds)
    dis = out.sel(process="discharge", c_rate=1.0)
    assert dis["curve_capacity"].size == CURVE_POINTS and float(dis["curve_capacity"][-1]) == 150.0
    np.testing.assert_allclose(dis["curve_voltage"], 4.2 - 0.004 * dis["curve_capacity"], atol=1e-12)
    chg = out.sel(process="charge", c_rate=1.0)
    np.testing.assert_allclose(chg["curve_voltage"], 3.6 + 0.003 * chg["curve_capacity"], atol=1e-12)
    assert float(chg["curve_capacity"][-1]) == 190.0
    assert out["curve_voltage"].sel(c_rate=2.0).isnull().all()
    assert out["curve_capacity"].attrs["units"] == "mA h g-1"


def test_half_and_full_cells_stack_along_cell(tmp_path) -> None:
    """rate_capability combines the half-cell (dfn) and full-cell runs along a ``cell`` dimension;
    a missing full-cell run is NaN there and named with its stage."""
    from layerlab.aggregate.datasets import build_dataset, dataset_run_files
    from layerlab.aggregate.select import select_scalar

    config = {"results_dir": str(tmp_path), "geometry": {"seeds": [0]}, "band_width_um": 10.0,
              "sweeps": {"half": {"architecture": ["L-Dry-S", "S-Dry-L"], "loading_mg_cm2": [24.6],
                                  "porosity": [0.45], "ls_ratio": [0.5]},
                         "full": {"architecture": ["L-Dry-S"], "loading_mg_cm2": [24.6],
                                  "porosity": [0.45], "ls_ratio": [0.5, 0.0]}},
              "electrochem": {"sweeps": ["half"]}, "fullcell": {"sweeps": ["full"]}}
    files = dataset_run_files(config, "rate_capability")
    assert len(files) == 4
    _run_file(tmp_path / "runs" / "dfn" / "L-Dry-S_load24.6_por0.45_ls0.5.nc", 180.0)
    _run_file(tmp_path / "runs" / "dfn" / "S-Dry-L_load24.6_por0.45_ls0.5.nc", 170.0)
    _run_file(tmp_path / "runs" / "fullcell" / "L-Dry-S_load24.6_por0.45_ls0.5.nc", 160.0)
    ds = build_dataset(config, "rate_capability")
    assert list(ds["cell"].values) == ["full", "half"]
    da = ds["discharge_capacity"]
    assert select_scalar(da, architecture="L-Dry-S", ls_ratio=0.5, c_rate=0.1) == 180.0   # half by default
    assert select_scalar(da, cell="full", architecture="L-Dry-S", ls_ratio=0.5, c_rate=0.1) == 160.0
    assert np.isnan(select_scalar(da, cell="full", architecture="S-Dry-L", ls_ratio=0.5, c_rate=0.1))
    assert ds.attrs["missing_runs"] == f"fullcell/{files[-1].stem}"
    assert ds.attrs["runs_found"] == 3 and ds.attrs["runs_expected"] == 4
