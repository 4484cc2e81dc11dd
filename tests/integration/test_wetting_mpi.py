"""The same wetting problem on all ranks and on one rank gives the same metrics within 1e-6."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.fe import MPI
from layerlab.wetting.params import WettingParams
from layerlab.wetting.run import Schedule, simulate
from layerlab.wetting.testgeom import channel_problem

PARAMS = WettingParams(dt_initial_s=2e-5, refactor_every=5, end_time_s=1e-2)
SCHEDULE = Schedule(end_time_s=1e-2, record_interval_s=1e-3)


def _metrics(comm: MPI.Comm) -> dict[str, np.ndarray]:
    solver, probe = channel_problem(comm, PARAMS)
    hist = simulate(solver, probe, SCHEDULE).as_arrays()
    _, profile = probe.profile()
    return {**hist, "profile": profile, "steps": np.array([solver.step_count])}


@pytest.mark.mpi
def test_parallel_matches_serial() -> None:
    world = MPI.COMM_WORLD
    parallel = _metrics(world)
    serial = _metrics(MPI.COMM_SELF) if world.rank == 0 else None
    serial = world.bcast(serial, root=0)
    assert parallel["steps"][0] == serial["steps"][0]
    for key in ("t", "dt", "electrolyte_volume", "air_volume", "saturation", "trapped_air_fraction",
                "outlet_fraction", "profile"):
        np.testing.assert_allclose(parallel[key], serial[key], rtol=1e-6, atol=1e-9, err_msg=key)
