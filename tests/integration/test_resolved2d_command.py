"""``resolve2d`` end to end on a tiny synthetic packing: dataset, trapped air, refusal of a foreign map."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import yaml

from layerlab.cfnames import MAP_SAMPLE
from layerlab.errors import InputError
from layerlab.resolved.airmap import disk_air_map, sha256_of


CASE = "S-L_load29.6_por0.55_ls0.5_seed0"
PACKING = {"case": CASE, "width_m": 12e-6, "electrode_y_range_m": [2e-6, 14e-6], "domain_height_m": 16e-6,
           "disk_x_m": [3.5e-6, 8.5e-6, 4.0e-6, 9.0e-6], "disk_y_m": [5.0e-6, 5.5e-6, 10.5e-6, 11.0e-6],
           "disk_radius_m": [2.2e-6, 2.4e-6, 2.0e-6, 2.2e-6]}


def _setup(tmp_path, repo_root):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["resolved"] = {"v_min_V": 3.5, "v_max_V": 4.3, "dt_max_s": 300.0, "dv_max_V": 0.03, "profile_bins": 6,
                       "parameters": str(repo_root / "config" / "parameters" / "dfn_nmc83.yaml"),
                       "section2d": {"discharge_c_rate": 1.0, "mesh_size_um": 0.8, "mesh_size_min_um": 0.25,
                                     "map_pixel_um": 0.5, "maps": 3}}
    cfg["materials"] = str(repo_root / "config" / "parameters" / "materials.yaml")
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    packing = tmp_path / "packing2d.json"
    packing.write_text(json.dumps(PACKING))
    return cfg_path, packing


def _args(cfg, packing, out, air=None):
    return argparse.Namespace(config=str(cfg), case=CASE, packing=str(packing), out=str(out),
                              air_map=str(air) if air else None, vtx=None)


def test_resolve2d_with_air_map(tmp_path, repo_root, cf_check) -> None:
    import xarray as xr

    from layerlab.resolved.commands2d import COMMANDS
    cfg, packing = _setup(tmp_path, repo_root)
    air = tmp_path / "wet.nc"
    disk_air_map(PACKING, sha256_of(packing), 0.25e-6, {1: 0.3e-6}, CASE).to_netcdf(air, engine="h5netcdf")
    out = tmp_path / "run.nc"
    assert COMMANDS["resolve2d"].run(_args(cfg, packing, out, air)) == 0
    assert cf_check(out) == []                # CF 1.10: no error, no warning
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name in ds.data_vars:
            assert "units" in ds[name].attrs and "long_name" in ds[name].attrs
        assert ds.attrs["dimension"] == 2 and "tortuosity" in ds.attrs["caveat"]
        assert ds.attrs["dry_disks"] == 1 and ds.attrs["case"] == CASE
        assert ds.attrs["packing_sha256"] == sha256_of(packing)
        assert abs(ds.attrs["lithium_balance_error_rel"]) < 1e-8
        assert ds["c_e_map"].dims == (MAP_SAMPLE, "map_y", "map_x") and ds.sizes[MAP_SAMPLE] >= 3
        assert np.all(np.isfinite(ds["c_e"].values))
        # one of four disks dry: at most about 3/4 of the theoretical capacity
        assert 0.3 < ds.attrs["discharge_capacity_fraction_of_theoretical"] < 1 - 0.9 * ds.attrs["dry_disk_volume_fraction"]


def test_foreign_air_map_is_refused_before_any_work(tmp_path, repo_root) -> None:
    from layerlab.resolved.commands2d import COMMANDS
    cfg, packing = _setup(tmp_path, repo_root)
    other = dict(PACKING, disk_x_m=[3.6e-6, 8.5e-6, 4.0e-6, 9.0e-6])
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other))
    air = tmp_path / "wet.nc"
    disk_air_map(other, sha256_of(other_path), 0.25e-6, {}, CASE).to_netcdf(air, engine="h5netcdf")
    out = tmp_path / "run.nc"
    with pytest.raises(InputError, match="air_map"):
        COMMANDS["resolve2d"].run(_args(cfg, packing, out, air))
    assert not out.exists() and not list(tmp_path.glob("*run*"))
    with pytest.raises(InputError, match="packing"):
        COMMANDS["resolve2d"].run(_args(cfg, tmp_path / "missing.json", out))
    packing.write_text(json.dumps(dict(PACKING, case="L-S_load29.6_por0.55_ls0.5_seed0")))
    with pytest.raises(InputError, match="packing"):
        COMMANDS["resolve2d"].run(_args(cfg, packing, out))
    assert not out.exists()
