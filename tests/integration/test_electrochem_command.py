"""``python -m layerlab dfn``: one rate test end to end, netCDF contents checked against the physics."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from layerlab.cfnames import DISTANCE, SAMPLE
from layerlab.units import MAH_G_TO_C_KG


@pytest.mark.slow
def test_dfn_command_writes_consistent_rate_test(tmp_path, cf_check) -> None:
    xr = pytest.importorskip("xarray")
    from layerlab.cases import parse_case
    from layerlab.cli import main
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["electrochem"] = {"sweeps": [], "protocol": {"c_rates": [1.0, 2.0], "charge_c_rate": 1.0, "charge": "fixed", "cv": True,
                                                     "cv_end_c_rate": 0.2},
                          "discretisation": {"cells_separator": 4, "cells_cathode": 12, "radial_volumes": 6}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    case = "S-Dry-L_load22_por0.45_ls0.5"
    out = tmp_path / f"{case}.nc"
    assert main(["dfn", "--config", str(path), "--case", case, "--out", str(out)]) == 0
    assert cf_check(out) == []                # CF 1.10: no error, no warning
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs and "long_name" in var.attrs, name
        assert ds.attrs["Conventions"].startswith("CF")
        q = ds["discharge_capacity"].values
        assert list(ds["c_rate"].values) == [1.0, 2.0]
        assert 100 < q[1] < q[0] < 275            # faster discharge delivers less, below theoretical
        # the capacity per C-rate equals the charge passed in that discharge segment
        design = parse_case(case).design(cfg)
        seg = ds["segment"].values
        charge = ds["charge"].values
        for k, c in enumerate(ds["c_rate"].values):
            idx = np.flatnonzero(seg == 3 * k + 2)    # charge, CV, discharge per C-rate
            dq = charge[idx[-1]] - charge[idx[0]]
            assert dq / design.active_mass_kg_m2 / MAH_G_TO_C_KG == pytest.approx(q[k], rel=1e-12)
        # profiles: distance from the current collector, electrolyte stays positive, S on top
        assert ds[DISTANCE].values[0] == 0.0 and np.all(np.diff(ds[DISTANCE].values) > 0)
        assert float(ds["electrolyte_concentration"].min()) > 0
        s_top = ds["surface_concentration"].sel(population="S").isel({SAMPLE: -1}).values
        l_top = ds["surface_concentration"].sel(population="L").isel({SAMPLE: -1}).values
        z = ds[DISTANCE].values
        H = design.thickness_m
        assert np.all(np.isnan(s_top[z > 0.5 * H + 1e-9][z[z > 0.5 * H + 1e-9] <= H]))   # S-Dry-L: L on top
        assert np.all(np.isfinite(l_top[(z > 0.5 * H + 1e-9) & (z <= H)]))
