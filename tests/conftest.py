"""Shared pytest set-up: MPI-marked tests run only under mpiexec (make test-mpi)."""

from __future__ import annotations

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
