"""``python -m layerlab fullcell``: rate test + cycling end to end; netCDF contents against the physics."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from layerlab.units import MAH_G_TO_C_KG

CASE = "L-Dry-S_load24.6_por0.55_ls0.5"


def _write_config(tmp_path, **fullcell) -> str:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["electrochem"] = {"sweeps": [], "protocol": {"c_rates": [0.5, 2.0], "charge_c_rate": 1.0, "charge": "fixed", "cv": True,
                                                     "cv_end_c_rate": 0.2},
                          "discretisation": {"cells_separator": 4, "cells_cathode": 10,
                                             "radial_volumes": 6}}
    cfg["fullcell"] = {"cycles": 3, "cells_anode": 8, "cycle_c_rate": 1.0, "cycle_charge_c_rate": 1.0,
                       "cycle_cv_end_c_rate": 0.2,
                       "curve_cycles": [1, 3, 50], "sei": {"model": "ec reaction limited"}, **fullcell}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_fullcell_command_writes_rate_test_and_cycling(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    from layerlab.cases import parse_case
    from layerlab.cli import main
    cfg = _write_config(tmp_path)
    out = tmp_path / f"{CASE}.nc"
    assert main(["fullcell", "--config", cfg, "--case", CASE, "--out", str(out)]) == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs and "long_name" in var.attrs, name
        q = ds["discharge_capacity"].values
        assert list(ds["c_rate"].values) == [0.5, 2.0]
        assert 100 < q[1] < q[0] < 275
        # capacity per C-rate = charge passed in that discharge (charge, CV, discharge per C-rate)
        mass = parse_case(CASE).design(yaml.safe_load(open(cfg))).active_mass_kg_m2
        seg, charge = ds["segment"].values, ds["charge"].values
        for k in range(2):
            idx = np.flatnonzero(seg == 3 * k + 2)
            assert (charge[idx[-1]] - charge[idx[0]]) / mass / MAH_G_TO_C_KG == pytest.approx(q[k], rel=1e-12)
        # cycling: SEI eats lithium every cycle, so capacity and inventory fall monotonically
        assert list(ds["cycle"].values) == [1, 2, 3]
        ret = ds["capacity_retention"].values
        loss = ds["lithium_inventory_loss"].values
        assert ret[0] == 1.0 and np.all(np.diff(ret) < 0)
        assert np.all(loss > 0) and np.all(np.diff(loss) > 0)
        assert list(ds["curve_cycle"].values) == [1, 3]            # cycle 50 is beyond the run
        assert np.nanmax(ds["curve_voltage"].values) <= 4.3 + 1e-6
        assert ds["curve_voltage"].values[:, -1] == pytest.approx([2.7, 2.7], abs=1e-5)
        assert float(ds.attrs["anode_thickness_m"]) > 0


def test_fullcell_command_bad_input_writes_nothing(tmp_path) -> None:
    from layerlab.cli import main
    cfg = _write_config(tmp_path, np_ratio=-1.0)
    out = tmp_path / "x.nc"
    assert main(["fullcell", "--config", cfg, "--case", CASE, "--out", str(out)]) == 2
    assert not out.exists()
