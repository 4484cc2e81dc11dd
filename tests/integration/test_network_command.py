"""``python -m layerlab network``: netCDF per case; bad input gives exit code 2, one line and no file."""

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
    packing = overlapping_spheres((20e-6, 20e-6, 24e-6), 0.45, {"L": 3e-6, "S": 1.5e-6}, {"L": 0.5, "S": 0.5},
                                  seed=2, layers=(SlabLayer("L", 0.0, 12e-6), SlabLayer("S", 12e-6, 24e-6)))
    data = packing_to_dict(packing)
    data["case"] = CASE
    path = tmp_path / "packing3d.json"
    path.write_text(json.dumps(data))
    return path


def _args(repo_root: Path, packing: Path, out: Path, *extra: str) -> list[str]:
    return ["network", "--config", str(repo_root / "config" / "config.yaml"), "--case", CASE,
            "--packing", str(packing), "--out", str(out), *extra]


def test_writes_cf_netcdf_per_rc_layer_and_direction(repo_root: Path, packing_file: Path, tmp_path: Path) -> None:
    import xarray as xr

    out = tmp_path / "runs" / f"{CASE}.nc"
    assert main(_args(repo_root, packing_file, out, "--r-c", "0", "1e-4", "--cbd-rule", "film")) == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert list(ds["layer"].values) == ["L", "S"]
        assert list(ds["r_c"].values) == [0.0, 1e-4]
        for name, var in ds.data_vars.items():
            assert var.attrs["units"] and var.attrs["long_name"], name
        assert ds.attrs["Conventions"].startswith("CF") and ds.attrs["cbd_rule"] == "film"
        sig = ds["electronic_conductivity"].sel(direction="z").values
        assert np.all(sig > 0) and np.all(sig[1] < sig[0])            # r_c lowers every layer
        # series law of the layers (dissipation partition) and the parts add up to the layer resistance
        t = ds["layer_thickness"].values
        sig_e = ds["electronic_conductivity_electrode"].sel(direction="z").values
        assert np.allclose(t.sum() / sig_e, (t / sig).sum(axis=1), rtol=1e-9)
        res = ds["area_specific_resistance"].drop_sel(part="top").sum("part").values
        assert np.allclose(res, t / sig, rtol=1e-9)
        assert int(ds["n_contacts_electrode"]) == int(ds["n_contacts"].sum())


@pytest.mark.parametrize("problem", ["negative_rc", "nan_rc", "inf_rc", "unknown_rule", "no_collector_contact",
                                     "other_case"])
def test_bad_input_exits_2_one_line_nothing_written(repo_root: Path, packing_file: Path, tmp_path: Path,
                                                     problem: str, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out.nc"
    extra: list[str] = []
    if problem == "negative_rc":
        extra = ["--r-c", "-0.0001"]
    elif problem == "nan_rc":
        extra = ["--r-c", "nan"]
    elif problem == "inf_rc":
        extra = ["--r-c", "1e-4", "inf"]
    elif problem == "unknown_rule":
        extra = ["--cbd-rule", "glue"]
    elif problem == "no_collector_contact":
        data = json.loads(packing_file.read_text())
        data["sphere_z_m"] = [z + 10e-6 for z in data["sphere_z_m"]]   # lift every particle off the foil
        packing_file.write_text(json.dumps(data))
    args = _args(repo_root, packing_file, out, *extra)
    if problem == "other_case":
        args[args.index("--case") + 1] = "S-Dry-L_load22_por0.45_ls0.5_seed0"
    capsys.readouterr()
    assert main(args) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("layerlab network: error:")]
    field = {"negative_rc": "network.r_c_ohm_m2", "nan_rc": "network.r_c_ohm_m2", "inf_rc": "network.r_c_ohm_m2",
             "unknown_rule": "network.parameters.cbd_rule", "no_collector_contact": "packing",
             "other_case": "packing.case"}[problem]
    assert len(err) == 1 and field in err[0], err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.nc*"))
