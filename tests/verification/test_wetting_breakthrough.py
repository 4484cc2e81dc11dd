"""Breakthrough in a regular array of cylinders: piston-like filling of the pore space.

With the front starting ``d0`` below the inlet, the electrolyte reaches the outlet after filling
the reservoir gap, the array (porosity x height) and the outlet buffer:
``t = (y0 - y_top + porosity (y_top - y_bottom) + y_bottom) / U``.  Runs the whole case pipeline
(geometry-stage files -> netCDF) and checks the written metrics.
"""

from __future__ import annotations

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
