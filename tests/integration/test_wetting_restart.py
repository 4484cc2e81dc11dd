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


def test_failure_after_a_checkpoint_at_t_positive_keeps_it_intact(tmp_path, caplog) -> None:
    """Solves that diverge (NaN) from t = 5e-3 s on, after checkpoints at t > 0: the step is halved
    ``max_retries`` times (logged), then the run stops with a message; the last checkpoint (t > 0)
    is byte for byte the one written before the failure, loads, and resumes to the uninterrupted result."""
    import hashlib
    import logging

    params = PARAMS.with_(max_retries=3)
    t_fail = 5e-3
    ckpt = tmp_path / "ckpt"
    solver, probe = channel_problem(MPI.COMM_SELF, params)
    real_solve, real_save = solver._solve, solver.save_checkpoint
    saved: list[tuple[float, dict[str, str]]] = []

    def diverging() -> None:
        real_solve()
        if solver.time_s >= t_fail:
            solver.forms.w_new.x.array[0] = np.nan

    def save(folder, extra=None) -> None:
        real_save(folder, extra)
        saved.append((solver.time_s, {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                      for p in sorted(ckpt.glob("*.npz"))}))

    solver._solve, solver.save_checkpoint = diverging, save
    with caplog.at_level(logging.WARNING, logger="layerlab.wetting"):
        with pytest.raises(WettingDiverged) as err:
            simulate(solver, probe, SCHEDULE, checkpoint_dir=ckpt)
    t_stop, dt_stop = solver.time_s, solver.dt_s
    assert t_stop >= t_fail
    t_ckpt, hashes = saved[-1]
    assert len(saved) >= 3 and 0.0 < t_ckpt < t_stop and t_ckpt >= 2 * SCHEDULE.checkpoint_interval_s

    # the step was reduced and retried: max_retries halvings logged, then the message
    retries = [r.getMessage() for r in caplog.records if "retrying with dt" in r.getMessage()]
    assert len(retries) == params.max_retries
    dt_first = dt_stop * 2**params.max_retries                    # the step of the first attempt
    for k, msg in enumerate(retries):
        assert f"with dt = {dt_first / 2**k:.3g} s; retrying with dt = {dt_first / 2**(k + 1):.3g} s" in msg
        assert f"at t = {t_stop:.6g} s" in msg
    text = str(err.value)
    assert f"time step failed {params.max_retries + 1} times at t = {t_stop:.6g} s" in text
    assert f"last dt {dt_stop:.3g} s" in text and "the last checkpoint is kept" in text

    # the checkpoint on disk is the one written at t_ckpt, untouched, and it loads and resumes
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(ckpt.glob("*.npz"))} == hashes
    restarted, probe = channel_problem(MPI.COMM_SELF, params)
    extra = restarted.load_checkpoint(ckpt)
    assert extra is not None and restarted.time_s == t_ckpt and restarted.step_count > 0
    assert extra["history"].series["t"][-1] <= t_ckpt
    assert np.all(np.isfinite(restarted.forms.w_old.x.array))
    resumed = simulate(restarted, probe, SCHEDULE, checkpoint_dir=ckpt).as_arrays()
    reference = simulate(*channel_problem(MPI.COMM_SELF, params), SCHEDULE).as_arrays()
    for key, ref in reference.items():
        np.testing.assert_allclose(resumed[key], ref, rtol=1e-10, atol=1e-12, err_msg=key)
