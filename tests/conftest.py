"""Shared pytest set-up: MPI-marked tests run only under mpiexec (make test-mpi); the CF 1.10 check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("UCX_TLS", "self,sm,tcp")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def mpi_tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder shared by all ranks (created on rank 0, broadcast)."""
    from layerlab.fe import MPI
    comm = MPI.COMM_WORLD
    path = str(tmp_path_factory.mktemp("mpi")) if comm.rank == 0 else None
    return Path(comm.bcast(path, root=0))


def cf_findings(path: str | os.PathLike, report: Path) -> dict[str, list[str]]:
    """The IOOS compliance-checker's CF 1.10 findings for ``path`` (its JSON report written to
    ``report``): the failed checks' messages by priority (high = error, medium = warning).  CF 1.2's
    strictly monotonic coordinates are checked here too: compliance-checker 6.1 skips that check in a
    file with a string coordinate (it raises on subtracting strings and reports nothing)."""
    import numpy as np
    import xarray as xr
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    ComplianceChecker.run_checker(str(path), ["cf:1.10"], 0, "normal", output_filename=str(report),
                                  output_format="json")
    result = json.loads(report.read_text())["cf:1.10"]
    out: dict[str, list[str]] = {}
    for level in ("high_priorities", "medium_priorities"):
        out[level] = [f"{c['name']}: {m}" for c in result.get(level, []) if c["value"][0] < c["value"][1]
                      for m in (c["msgs"] or ["(no message)"])]
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        out["high_priorities"] += [f"coordinate {name} is not strictly monotonic" for name in ds.dims
                                   if name in ds.coords and ds[name].dtype.kind in "fiu" and ds[name].size > 1
                                   and not (np.all(np.diff(ds[name].values) > 0)
                                            or np.all(np.diff(ds[name].values) < 0))]
    return out


@pytest.fixture
def cf_check(tmp_path: Path):
    """``cf_check(path)``: the CF 1.10 errors and warnings (:func:`cf_findings`) of a netCDF file, one
    list (empty: CF-clean)."""
    pytest.importorskip("compliance_checker")

    def check(path: str | os.PathLike) -> list[str]:
        found = cf_findings(path, tmp_path / f"{Path(path).stem}.cf.json")
        return [f"error: {m}" for m in found["high_priorities"]] + [f"warning: {m}" for m in found["medium_priorities"]]
    return check
