"""Progress log of a wetting run: simulated time, step size, saturation and wall time, once per
``log_interval_wall_s`` of wall-clock time (the check in :func:`layerlab.wetting.run.simulate`)."""

from __future__ import annotations

import logging
import math
import re
import types

import numpy as np
import pytest

from layerlab.fe import MPI
from layerlab.wetting import run as run_mod
from layerlab.wetting.params import WettingParams
from layerlab.wetting.run import Schedule, simulate
from layerlab.wetting.testgeom import channel_problem

END_S = 3e-3
PARAMS = WettingParams(dt_initial_s=2e-5, refactor_every=4, end_time_s=END_S)
LINE = re.compile(r"t = (\S+) s  dt = (\S+) s  step (\d+)  saturation (\S+)  factorisations \d+  wall (\S+) s")


def _run(caplog, interval_s: float) -> tuple[list[tuple], dict[str, np.ndarray], list[float], list[float]]:
    """Run the channel problem to ``END_S``; return the progress records' arguments
    (t, dt, step, saturation, factorisations, wall), the history, and the solver's time and step
    size before each step (index = step number)."""
    solver, probe = channel_problem(MPI.COMM_SELF, PARAMS, front_y=10.2)   # the front enters the probe band
    times, dts = [solver.time_s], [solver.dt_s]
    real_step = solver.step

    def step() -> float:
        taken = real_step()
        times.append(solver.time_s)
        dts.append(solver.dt_s)
        return taken

    solver.step = step
    schedule = Schedule(end_time_s=END_S, record_interval_s=5e-4, log_interval_wall_s=interval_s)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="layerlab.wetting"):
        hist = simulate(solver, probe, schedule).as_arrays()
    recs = [r for r in caplog.records if r.name == "layerlab.wetting" and LINE.fullmatch(r.getMessage())]
    assert len(times) - 1 == solver.step_count > 20
    return [r.args for r in recs], hist, times, dts


def _check_contents(args: list[tuple], hist: dict[str, np.ndarray], times: list[float], dts: list[float]) -> None:
    """Each record states the solver's t and dt at that step, the latest recorded saturation and a
    growing wall time."""
    for t, dt, step, sat, _, wall in args:
        assert t == times[step] and dt == dts[step] and dt > 0
        last = np.nonzero(hist["t"] <= t)[0][-1]               # the newest record at that time
        assert sat == hist["saturation"][last] and 0.0 <= sat <= 1.0
        assert math.isfinite(wall) and wall >= 0.0
    assert np.all(np.diff([a[0] for a in args]) > 0) and np.all(np.diff([a[5] for a in args]) > 0)
    assert args[-1][3] > args[0][3] > 0.0                      # saturation rises as the front enters


def test_progress_cadence_with_a_fake_clock(caplog, monkeypatch) -> None:
    """A clock that advances 1 s per reading (one reading per loop pass, after one at the start)
    and a 3 s interval: a record at passes 0, 3, 6, ... stating wall times 1, 4, 7, ... s."""
    clock = iter(range(10**6))
    monkeypatch.setattr(run_mod, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    args, hist, times, dts = _run(caplog, interval_s=3.0)
    passes = len(times)                                      # one pass per step plus the final one
    assert len(args) == math.ceil(passes / 3)
    assert [a[2] for a in args] == list(range(0, passes, 3))
    assert [a[5] for a in args] == [1.0 + 3 * j for j in range(len(args))]
    _check_contents(args, hist, times, dts)


def test_progress_cadence_with_the_real_clock(caplog) -> None:
    """Interval 0: every pass logs; a finite interval: records at least that far apart, no more of
    them than the run's wall time allows, the message formatted with every quantity; infinite: only
    the first pass."""
    args, hist, times, dts = _run(caplog, interval_s=0.0)
    assert [a[2] for a in args] == list(range(len(times)))
    _check_contents(args, hist, times, dts)

    interval = 0.02
    args, hist, times, dts = _run(caplog, interval_s=interval)
    walls = np.array([a[5] for a in args])
    assert len(args) >= 2 and args[0][2] == 0
    assert np.all(np.diff(walls) >= interval)
    assert len(args) <= 1 + walls[-1] / interval
    _check_contents(args, hist, times, dts)
    msg = next(r for r in caplog.records if LINE.fullmatch(r.getMessage())).getMessage()
    t, dt, step, sat, wall = LINE.fullmatch(msg).groups()
    assert float(t) == pytest.approx(args[0][0]) and float(dt) == pytest.approx(args[0][1], rel=1e-2)
    assert float(sat) == pytest.approx(args[0][3], abs=1e-4) and float(wall) == pytest.approx(args[0][5], abs=0.05)

    args, *_ = _run(caplog, interval_s=math.inf)
    assert [a[2] for a in args] == [0]
