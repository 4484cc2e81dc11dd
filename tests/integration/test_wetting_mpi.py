"""The same wetting problem on all ranks and on one rank gives the same metrics within 1e-6."""

from __future__ import annotations

import math

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


def _cylinder_case_metrics(comm: MPI.Comm) -> dict[str, float]:
    """A complete small case set up as ``run_case`` does (inlet reservoir, a 1 x 2 cylinder array
    6 x 10 um, 3 um outlet buffer, slip sides) run past breakthrough: its scalar metrics and step count."""
    from layerlab.geometry import tags
    from layerlab.wetting.metrics import ElectrodeBand, Probe
    from layerlab.wetting.run import run_metrics
    from layerlab.wetting.solver import Boundaries, WettingSolver
    from layerlab.wetting.testgeom import cylinder_array
    width, height, yb, yt = 6.0, 16.0, 3.0, 13.0
    params = WettingParams(interface_width_m=0.5e-6, contact_angle_deg=25.0, end_time_s=0.125)
    msh, ft, _ = cylinder_array(width, height, yb, yt, 1.5, 1, 2, 0.7, comm=comm)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT),
                     walls=(tags.PARTICLE_WALL,))
    y0, w = height - params.initial_front_below_inlet_m / 1e-6, math.sqrt(2.0) * params.eps_hat
    solver = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - y0) / w))
    probe = Probe(solver.field("phi", "old"), solver.ds, (tags.OUTLET,), ElectrodeBand(yb, yt), n_bins=5)
    schedule = Schedule(end_time_s=params.end_time_s, record_interval_s=1e-3)
    hist = simulate(solver, probe, schedule)
    return {**run_metrics(hist, schedule.steady_tol), "steps": float(solver.step_count)}


@pytest.mark.mpi
def test_cylinder_case_metrics_match_one_rank() -> None:
    """Breakthrough time, steady-state time, final trapped-air fraction and saturation of a whole
    case through breakthrough: every rank runs it alone (COMM_SELF), then all ranks together."""
    world = MPI.COMM_WORLD
    serial = _cylinder_case_metrics(MPI.COMM_SELF)
    parallel = _cylinder_case_metrics(world)
    assert parallel["steps"] == serial["steps"]
    assert 0.05 < serial["breakthrough_time"] < 0.15 and serial["saturation_final"] > 0.99
    assert math.isfinite(serial["steady_state_time"]) and math.isfinite(parallel["steady_state_time"])
    for key in ("breakthrough_time", "steady_state_time", "saturation_final"):
        assert parallel[key] == pytest.approx(serial[key], rel=1e-6, abs=0.0), key
    # a small number (~3e-4): relative 1e-6 of it, and round-off of the O(1) integrals it comes from
    assert parallel["trapped_air_fraction_final"] == pytest.approx(serial["trapped_air_fraction_final"],
                                                                   rel=1e-6, abs=1e-12)
    assert serial["trapped_air_fraction_final"] > 0.0


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
