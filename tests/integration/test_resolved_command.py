"""``resolve3d`` end to end on a tiny two-phase mesh: netCDF (CF attributes, profiles) and VTX."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import yaml

from layerlab.cfnames import DISTANCE, PROFILE_SAMPLE
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh


def test_resolve3d_writes_dataset_and_vtx(tmp_path, repo_root, cf_check) -> None:
    import xarray as xr

    from layerlab.resolved.commands import COMMANDS
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["resolved"] = {"discharge_c_rate": 1.0, "charge_c_rate": 1.0, "v_min_V": 3.5, "v_max_V": 4.3,
                       "dt_max_s": 300.0, "dv_max_V": 0.03, "profile_bins": 8, "profile_every_s": 600.0}
    cfg["materials"] = str(repo_root / "config" / "parameters" / "materials.yaml")
    cfg["resolved"]["parameters"] = str(repo_root / "config" / "parameters" / "dfn_nmc83.yaml")
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    msh = tmp_path / "mesh3d.msh"
    sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6)], separator_m=5e-6, h_m=2.5e-6,
                    comm=MPI.COMM_SELF, msh_path=str(msh))
    out = tmp_path / "run.nc"
    args = argparse.Namespace(config=str(cfg_path), case="L-Dry-S_load29.6_por0.55_ls0.5_seed0",
                              mesh=str(msh), out=str(out), vtx=str(tmp_path / "fields"), dim=3)
    assert COMMANDS["resolve3d"].run(args) == 0
    assert cf_check(out) == []                # CF 1.10: no error, no warning (profiles repeat a time stamp)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name in ds.data_vars:
            assert "units" in ds[name].attrs and "long_name" in ds[name].attrs
        assert list(ds["segment_label"].values) == ["discharge", "charge"]
        q_dis, q_ch = ds["capacity"].values
        assert q_dis > 0 and q_ch < 0
        assert 0.7 * q_dis < -q_ch < q_dis     # CC charge to 4.3 V (no CV step) ends early by polarisation
        assert abs(ds.attrs["lithium_balance_error_rel"]) < 1e-8
        assert ds.attrs["discharge_end_reason"] == "voltage cut-off"
        assert 50 < ds.attrs["discharge_capacity_mAh_g"] < 275
        # profiles: particle stoichiometry only inside the electrode, c_e everywhere
        st = ds["stoichiometry"].values
        assert np.all(np.isnan(st[:, ds[DISTANCE].values > 10e-6]))
        assert np.all(np.isfinite(ds["c_e"].values))
        assert ds[DISTANCE].attrs["units"] == "m"
        # reaction current integrates (over depth) to minus the applied current during the discharge
        assert ds.sizes[PROFILE_SAMPLE] >= 3
    assert (tmp_path / "fields" / "electrolyte.bp").is_dir()
    assert (tmp_path / "fields" / "particles.bp").is_dir()
    assert not list(tmp_path.glob(".*tmp*"))
