"""A killed wetting run resumes from its last checkpoint and ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.fe import MPI
from layerlab.wetting.params import WettingParams
from layerlab.wetting.run import Schedule, simulate
from layerlab.wetting.solver import WettingDiverged
from layerlab.wetting.testgeom import channel_problem

PARAMS = WettingParams(dt_initial_s=2e-5, refactor_every=4, end_time_s=1.2e-2)
SCHEDULE = Schedule(end_time_s=1.2e-2, record_interval_s=1e-3, checkpoint_interval_s=2e-3)


def test_killed_run_resumes_to_the_same_result(tmp_path) -> None:
    comm = MPI.COMM_SELF
    solver, probe = channel_problem(comm, PARAMS)
    reference = simulate(solver, probe, SCHEDULE).as_arrays()
    ref_phi = solver.field("phi", "old").x.array.copy()

    ckpt = tmp_path / "ckpt"
    solver, probe = channel_problem(comm, PARAMS)
    partial = simulate(solver, probe, SCHEDULE, checkpoint_dir=ckpt, stop_after_steps=60)   # "killed"
    assert partial.series["t"][-1] < SCHEDULE.end_time_s and list(ckpt.glob("*.npz"))
    solver, probe = channel_problem(comm, PARAMS)                                         # new job
    resumed = simulate(solver, probe, SCHEDULE, checkpoint_dir=ckpt)
    assert solver.step_count > 60
    got = resumed.as_arrays()
    assert got["t"].shape == reference["t"].shape
    for key, ref in reference.items():
        np.testing.assert_allclose(got[key], ref, rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(solver.field("phi", "old").x.array, ref_phi, rtol=0, atol=1e-10)


def test_failed_step_is_retried_with_half_the_step() -> None:
    solver, _ = channel_problem(MPI.COMM_SELF, PARAMS)
    real_solve = solver._solve
    calls = {"n": 0}

    def flaky() -> None:          # the first solve "diverges" (NaN), later ones are genuine
        real_solve()
        calls["n"] += 1
        if calls["n"] == 1:
            solver.forms.w_new.x.array[0] = np.nan

    solver._solve = flaky
    dt0 = solver.dt_s
    taken = solver.step()
    assert taken == pytest.approx(dt0 / 2) and solver.step_count == 1
    assert np.all(np.isfinite(solver.forms.w_old.x.array))


def test_persistent_failure_stops_with_message_and_keeps_checkpoint(tmp_path) -> None:
    params = PARAMS.with_(dphi_target=1e-12, max_retries=2)      # every step "changes too much"
    solver, probe = channel_problem(MPI.COMM_SELF, params)
    with pytest.raises(WettingDiverged, match="last checkpoint is kept"):
        simulate(solver, probe, SCHEDULE, checkpoint_dir=tmp_path / "ckpt")
    assert list((tmp_path / "ckpt").glob("*.npz"))
    restarted, _ = channel_problem(MPI.COMM_SELF, params)
    assert restarted.load_checkpoint(tmp_path / "ckpt") is not None and restarted.time_s == 0.0
