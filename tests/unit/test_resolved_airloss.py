"""The trapped-air capacity-loss table pairs wet and air-map runs of the same packing and rate."""

from __future__ import annotations

import pytest
import xarray as xr

from layerlab.errors import InputError
from layerlab.resolved.airloss import loss_rows, to_csv

CASE = "S-L_load29.6_por0.55_ls0.5_seed0"


def _run(path, q, air="none", sha="a", rate=0.5, case=CASE):
    ds = xr.Dataset(attrs={"case": case, "packing_sha256": sha, "discharge_c_rate": rate, "air_map": air,
                           "discharge_capacity_mAh_g": q, "dry_disk_volume_fraction": 0.0,
                           "air_filled_pore_fraction": 0.09, "discharge_end_reason": "voltage cut-off"})
    ds.to_netcdf(path, engine="h5netcdf")
    return path


def test_loss_is_wet_minus_air(tmp_path) -> None:
    w = _run(tmp_path / "w.nc", 180.0)
    a = _run(tmp_path / "a.nc", 171.0, air=f"case {CASE}")
    (row,) = loss_rows([w], [a])
    assert row["architecture"] == "S-L" and row["loss_mAh_g"] == pytest.approx(9.0)
    assert row["loss_percent"] == pytest.approx(5.0)
    assert to_csv([row]).splitlines()[1].startswith(f"{CASE},S-L,0.5,180,171,9,5,")


def test_unpaired_or_mismatched_runs_are_refused(tmp_path) -> None:
    w = _run(tmp_path / "w.nc", 180.0)
    with pytest.raises(InputError, match="different packings"):
        loss_rows([w], [_run(tmp_path / "a1.nc", 171.0, air="x", sha="b")])
    with pytest.raises(InputError, match="C-rates"):
        loss_rows([w], [_run(tmp_path / "a2.nc", 171.0, air="x", rate=1.0)])
    with pytest.raises(InputError, match="no fully wet run"):
        loss_rows([w], [_run(tmp_path / "a3.nc", 171.0, air="x", case="Mix_load29.6_por0.55_ls0.5_seed0")])
    with pytest.raises(InputError, match="used no air map"):
        loss_rows([w], [_run(tmp_path / "a4.nc", 171.0)])
