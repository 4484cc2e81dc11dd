"""Breakthrough in a regular array of cylinders: piston-like filling of the pore space.

With the front starting ``d0`` below the inlet, the electrolyte reaches the outlet after filling
the reservoir gap, the array (porosity x height) and the outlet buffer:
``t = (y0 - y_top + porosity (y_top - y_bottom) + y_bottom) / U``.  Runs the whole case pipeline
(geometry-stage files -> netCDF) and checks the written metrics and the final air map.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import xarray as xr

from layerlab.fe import MPI
from layerlab.wetting.case import run_case
from layerlab.wetting.testgeom import write_cylinder_case

UM = 1e-6


@pytest.mark.slow
def test_cylinder_array_breakthrough_time(mpi_tmp_path) -> None:
    width, height, yb, yt, radius = 10 * UM, 30 * UM, 6 * UM, 24 * UM, 2.2 * UM
    mesh, packing = write_cylinder_case(mpi_tmp_path / "geom", width, height, yb, yt, radius, 1, 3, 0.7 * UM)
    section = {"end_time_s": 0.23, "record_interval_s": 1e-3, "checkpoint_interval_s": 0.05,
               "snapshot_times_s": [0.05], "interface_width_m": 0.5 * UM, "contact_angle_deg": 25.0}
    out = mpi_tmp_path / "runs" / "case.nc"
    metrics = run_case(section, "L-S_load29.6_por0.55_ls0.5_seed0", mesh, packing, out)
    porosity = 1 - 3 * np.pi * radius**2 / (width * (yt - yb))
    y0 = height - 2 * UM
    expected = ((y0 - yt) + porosity * (yt - yb) + yb) / 1e-4
    assert abs(metrics["breakthrough_time"] / expected - 1) < 0.10, (metrics["breakthrough_time"], expected)
    if MPI.COMM_WORLD.rank == 0:
        ds = xr.open_dataset(out, engine="h5netcdf")
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs and "long_name" in var.attrs, name
        assert float(ds.breakthrough_time) == pytest.approx(metrics["breakthrough_time"])
        assert ds.phi_final.attrs["geometry_case"] == "L-S_load29.6_por0.55_ls0.5_seed0"
        # electrolyte enters at exactly U x width (mass balance of the inlet condition)
        t, area = ds.time.values, ds.electrolyte_area.values
        sel = (t > 0.02) & (t < 0.12)
        rate = np.polyfit(t[sel], area[sel], 1)[0]
        assert rate == pytest.approx(1e-4 * width, rel=1e-4)
        assert ds.depth.size == 20 and np.all(np.isfinite(ds.air_fraction_profile.values))
        assert out.with_suffix(".phi.bp").is_dir() and out.with_suffix(".snapshots.bp").is_dir()
        assert not out.with_suffix(".ckpt").exists()
        # final phase raster: NaN on the cylinders (solid), 0/1 elsewhere, tied to the packing file
        air = ds.air_map.values
        assert air.shape == (120, 40) and ds.map_x.attrs["units"] == "m"     # 0.25 um default spacing
        assert np.isclose(ds.map_x.values[1] - ds.map_x.values[0], 0.25 * UM)
        solid = np.isnan(air)
        assert abs(solid.mean() / (3 * np.pi * radius**2 / (width * height)) - 1) < 0.03
        assert set(np.unique(air[~solid])) <= {0.0, 1.0}
        gx, gy = np.meshgrid(ds.map_x.values, ds.map_y.values)
        assert np.all(solid[np.hypot(gx - width / 2, gy - (yb + 3 * UM)) < radius - 0.3 * UM])
        assert np.all(air[gy > yt + 1 * UM] == 0.0)                         # wet above the array
        assert ds.air_map.attrs["packing_sha256"] == hashlib.sha256(packing.read_bytes()).hexdigest()
        assert ds.air_map.attrs["case"] == ds.attrs["case"] == "L-S_load29.6_por0.55_ls0.5_seed0"
