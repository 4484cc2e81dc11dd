"""Atomic writes survive a killed writer; provenance attributes are complete."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from layerlab.io import atomic_path, provenance, write_json_atomic, write_netcdf

WRITER = """
import sys, time
from layerlab.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "w") as f:
        f.write("partial")
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


def test_killed_writer_leaves_no_target(tmp_path) -> None:
    target = tmp_path / "out" / "dataset.nc"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not target.exists()


def test_exception_removes_temporary_and_keeps_old_file(tmp_path) -> None:
    target = tmp_path / "a.json"
    write_json_atomic(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("garbage")
            raise RuntimeError("boom")
    assert target.read_text().strip().startswith("{")
    assert list(tmp_path.iterdir()) == [target]


def test_netcdf_has_provenance_and_requires_units(tmp_path) -> None:
    ds = xr.Dataset({"x": ("t", np.arange(3.0), {"units": "m", "long_name": "position"})})
    write_netcdf(ds, tmp_path / "a.nc", {"k": 1})
    back = xr.open_dataset(tmp_path / "a.nc", engine="h5netcdf")
    for key in ("Conventions", "layerlab_version", "git_commit", "config_hash", "date_created", "history"):
        assert back.attrs[key]
    assert provenance({"k": 1})["config_hash"] == back.attrs["config_hash"]
    assert provenance({"k": 2})["config_hash"] != back.attrs["config_hash"]
    bad = xr.Dataset({"y": ("t", np.arange(3.0))})
    with pytest.raises(ValueError, match="units"):
        write_netcdf(bad, tmp_path / "b.nc")
    assert not (tmp_path / "b.nc").exists()
