"""``python -m layerlab transport``: netCDF per case; bad input gives exit code 2 and no file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layerlab.cli import main
from layerlab.transport.packing import SlabLayer
from layerlab.transport.synthetic import overlapping_spheres, packing_to_dict

CASE = "L-Dry-S_load22_por0.45_ls0.5_seed0"


@pytest.fixture
def packing_file(tmp_path: Path) -> Path:
    packing = overlapping_spheres((10e-6, 10e-6, 12e-6), 0.45, {"L": 3e-6, "S": 1.5e-6}, {"L": 0.5, "S": 0.5},
                                  seed=2, layers=(SlabLayer("L", 0.0, 6e-6), SlabLayer("S", 6e-6, 12e-6)))
    data = packing_to_dict(packing)
    data["case"] = CASE
    path = tmp_path / "packing3d.json"
    path.write_text(json.dumps(data))
    return path


def _args(repo_root: Path, packing: Path, out: Path, case: str = CASE) -> list[str]:
    return ["transport", "--config", str(repo_root / "config" / "config.yaml"), "--case", case,
            "--packing", str(packing), "--voxel-um", "1.0", "--out", str(out)]


def test_writes_cf_netcdf_per_layer_and_direction(repo_root: Path, packing_file: Path, tmp_path: Path) -> None:
    import xarray as xr

    out = tmp_path / "runs" / f"{CASE}.nc"
    assert main(_args(repo_root, packing_file, out)) == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert list(ds["layer"].values) == ["L", "S"]
        assert list(ds["direction"].values) == ["x", "y", "z"]
        for name, var in ds.data_vars.items():
            assert var.attrs["units"] == "1" and var.attrs["long_name"], name
        assert ds.attrs["Conventions"].startswith("CF")
        tau, eps = ds["tortuosity_factor"].values, ds["pore_fraction"].values
        assert tau.shape == (2, 3) and np.all(np.isfinite(tau))
        assert np.all(tau >= (3 - eps[:, None]) / 2)                    # Hashin-Shtrikman
        assert np.allclose(ds["macmullin_number"].values, tau / eps[:, None])
        assert np.allclose(ds["solid_conductivity_ratio"].values * ds["solid_macmullin_number"].values, 1.0)
        # layers split the electrode: their pore volumes add up to the electrode's
        thick = ds["layer_z_top_m"].values - ds["layer_z_bottom_m"].values
        assert float((eps * thick).sum() / thick.sum()) == pytest.approx(float(ds["pore_fraction_electrode"]), rel=1e-12)


@pytest.mark.parametrize("problem", ["missing_key", "other_case", "bad_voxel"])
def test_bad_input_exits_2_and_writes_nothing(repo_root: Path, packing_file: Path, tmp_path: Path,
                                              problem: str) -> None:
    out = tmp_path / "out.nc"
    args = _args(repo_root, packing_file, out)
    if problem == "missing_key":
        data = json.loads(packing_file.read_text())
        del data["sphere_radius_m"]
        packing_file.write_text(json.dumps(data))
    elif problem == "other_case":
        args[args.index("--case") + 1] = "S-Dry-L_load22_por0.45_ls0.5_seed0"
    else:
        args[args.index("--voxel-um") + 1] = "-1"
    assert main(args) == 2
    assert not out.exists()
    assert not list(tmp_path.glob(".out.nc*"))
