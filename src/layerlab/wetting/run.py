"""The time loop of a run: records, snapshots, checkpoints, steady-state stop and progress log."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from layerlab.wetting.metrics import (Probe, breakthrough_determined, breakthrough_time, breakthrough_variants,
                                      steady_time)
from layerlab.wetting.solver import WettingSolver

log = logging.getLogger("layerlab.wetting")

SERIES = ("electrolyte_volume", "air_volume", "saturation", "trapped_air_fraction", "outlet_fraction",
          "outlet_fraction_raw", "outlet_flux_fraction", "outlet_flux_fraction_raw")


@dataclass
class Schedule:
    """When to record metrics, write snapshots and checkpoints (simulated seconds)."""

    end_time_s: float
    record_interval_s: float
    checkpoint_interval_s: float = math.inf
    snapshot_times_s: tuple[float, ...] = ()
    log_interval_wall_s: float = 10.0
    steady_tol: float = 1e-3
    steady_window_s: float = math.inf     # stop once saturation moved < steady_tol over this window
    breakthrough_tol_s: float = 1e-4      # ... and the 1 % breakthrough time is pinned to this


@dataclass
class History:
    """Recorded time series (``t`` in s, the rest as :meth:`Probe.values`) and loop bookkeeping."""

    series: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ("t", "dt", *SERIES)})
    next_record_s: float = 0.0
    next_checkpoint_s: float = 0.0
    snapshots_done: int = 0
    steps: int = 0
    stopped_steady: bool = False

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=float) for k, v in self.series.items()}


def simulate(solver: WettingSolver, probe: Probe, schedule: Schedule,
             checkpoint_dir: str | Path | None = None,
             on_snapshot: Callable[[float], None] | None = None,
             stop_after_steps: int | None = None) -> History:
    """Advance ``solver`` to ``schedule.end_time_s``, resuming from ``checkpoint_dir`` if it holds
    a checkpoint; ``stop_after_steps`` ends the loop early (to emulate a killed job in tests)."""
    hist = History()
    if checkpoint_dir is not None:
        extra = solver.load_checkpoint(checkpoint_dir)
        if extra is not None:
            hist = extra["history"]
            log.info("resumed from checkpoint at t = %.6g s (step %d)", solver.time_s, solver.step_count)
    phi_map = solver._phi_map
    u_map = np.asarray(solver.forms.spaces["u"][1]).ravel()
    wall0 = time.perf_counter()
    last_log = -math.inf
    steps_here = 0
    while True:
        probe.phi.x.array[:] = solver.forms.w_old.x.array[phi_map]
        if probe.u is not None:
            probe.u.x.array[:] = solver.forms.w_old.x.array[u_map]
        t = solver.time_s
        if t >= hist.next_record_s - 1e-12 * schedule.end_time_s:
            vals = probe.values()
            hist.series["t"].append(t)
            hist.series["dt"].append(solver.dt_s)
            for k in SERIES:
                hist.series.setdefault(k, []).append(vals[k])
            hist.next_record_s = (math.floor(t / schedule.record_interval_s + 1e-9) + 1) * schedule.record_interval_s
            if _is_steady(hist, schedule):
                hist.stopped_steady = True
        while hist.snapshots_done < len(schedule.snapshot_times_s) and t >= schedule.snapshot_times_s[hist.snapshots_done]:
            if on_snapshot is not None:
                on_snapshot(t)
            hist.snapshots_done += 1
        now = time.perf_counter()
        if now - last_log >= schedule.log_interval_wall_s:
            sat = hist.series["saturation"][-1] if hist.series["saturation"] else float("nan")
            log.info("t = %.5g s  dt = %.3g s  step %d  saturation %.4f  factorisations %d  wall %.1f s",
                     t, solver.dt_s, solver.step_count, sat, solver.n_factorisations, now - wall0)
            last_log = now
        if t >= schedule.end_time_s * (1 - 1e-12) or hist.stopped_steady:
            break
        if stop_after_steps is not None and steps_here >= stop_after_steps:
            return hist
        if checkpoint_dir is not None and t >= hist.next_checkpoint_s:
            hist.next_checkpoint_s = t + schedule.checkpoint_interval_s
            hist.steps = solver.step_count
            solver.save_checkpoint(checkpoint_dir, {"history": hist})
        solver.step()
        steps_here += 1
    hist.steps = solver.step_count
    return hist


def _is_steady(hist: History, schedule: Schedule) -> bool:
    """The stopping rule: the metrics of :func:`run_metrics` are determined.  The 1 % breakthrough
    time can no longer move by more than ``breakthrough_tol_s`` (:func:`breakthrough_determined`:
    the clipped outlet fraction is at most 1), and saturation (so the trapped air) moved less than
    ``steady_tol`` over the last ``steady_window_s``."""
    t = np.asarray(hist.series["t"])
    if not math.isfinite(schedule.steady_window_s) or t.size < 2 or t[-1] < schedule.steady_window_s:
        return False
    if not breakthrough_determined(t, hist.series["outlet_fraction"], schedule.breakthrough_tol_s):
        return False
    s = np.asarray(hist.series["saturation"])
    window = t >= t[-1] - schedule.steady_window_s
    return bool(np.ptp(s[window]) < schedule.steady_tol)


def run_metrics(hist: History, steady_tol: float) -> dict[str, float]:
    """Scalar metrics of a run (see :func:`breakthrough_time` and :func:`steady_time`)."""
    a = hist.as_arrays()
    t_steady = steady_time(a["t"], a["saturation"], steady_tol)
    return {"breakthrough_time": breakthrough_time(a["t"], a["outlet_fraction"]),
            "steady_state_time": t_steady,
            "trapped_air_fraction_final": float(a["trapped_air_fraction"][-1]),
            "saturation_final": float(a["saturation"][-1]),
            **{f"breakthrough_time/{k}": v for k, v in breakthrough_variants(a["t"], a).items()}}
