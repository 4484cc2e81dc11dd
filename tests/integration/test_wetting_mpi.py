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


def _sampled_linear_field(comm: MPI.Comm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A P1 field ``x - 2.9 + 0.1 y`` on a 6 x 4 rectangle, sampled on a grid that also covers
    ``6 < x < 8`` (outside the mesh)."""
    from layerlab.fe import fem
    from layerlab.wetting import testgeom
    from layerlab.wetting.airmap import grid_centres, sample_on_grid
    msh, _ = testgeom.rectangle(6.0, 4.0, 12, 8, comm=comm)
    f = fem.Function(fem.functionspace(msh, ("Lagrange", 1)))
    f.interpolate(lambda x: x[0] - 2.9 + 0.1 * x[1])
    xs, ys = grid_centres(8.0, 0.25), grid_centres(4.0, 0.25)
    return xs, ys, sample_on_grid(f, xs, ys)


@pytest.mark.mpi
def test_air_map_sampling_exact_and_partition_independent() -> None:
    """Point evaluation reproduces a P1 field exactly inside the mesh, NaN outside it, and the
    raster gathered from all ranks equals the one-rank raster; the air threshold is phi < 0."""
    from layerlab.wetting.airmap import air_map
    world = MPI.COMM_WORLD
    xs, ys, parallel = _sampled_linear_field(world)
    serial = _sampled_linear_field(MPI.COMM_SELF)[2] if world.rank == 0 else None
    if world.rank == 0:
        assert parallel.shape == (ys.size, xs.size) == (16, 32)
        gx, gy = np.meshgrid(xs, ys)
        inside = gx < 6.0
        np.testing.assert_allclose(parallel[inside], (gx - 2.9 + 0.1 * gy)[inside], rtol=0, atol=1e-12)
        assert np.all(np.isnan(parallel[~inside]))
        np.testing.assert_allclose(parallel, serial, rtol=0, atol=1e-12)     # NaN positions equal too
        air = air_map(parallel)
        assert np.all(air[inside & (gx - 2.9 + 0.1 * gy < 0)] == 1.0)
        assert np.all(air[inside & (gx - 2.9 + 0.1 * gy > 0)] == 0.0)
        assert np.all(np.isnan(air[~inside]))
