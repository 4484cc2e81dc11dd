"""DFN solver behaviour: failed solves halve the step then stop with a clear message (also from the
command line: exit code 3, one line, nothing written); a halved step that then converges carries on;
rest holds."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation, SolverFailure
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import CROSSCHECK_SET, load_parameters

DISC = Discretisation(cells_separator=4, cells_cathode=8, radial_volumes=5, max_halvings=3)


def _model(disc: Discretisation = DISC) -> DFNModel:
    cath = CathodeSpec((LayerSpec("L", 60e-6, 0.35, {"L": 0.6}, inactive_fraction=0.05),), {"L": 5e-6})
    return DFNModel(HalfCell(load_parameters(CROSSCHECK_SET), cath), disc)


def test_impossible_step_halves_then_stops_with_clear_message() -> None:
    """A current no electrode can carry (1e6 A/m2, no cut-off): halvings, then SolverFailure."""
    it = Integrator(_model(), record_profiles=False)
    with pytest.raises(SolverFailure, match=r"after 3 step halvings"):
        it.run(Segment("current", 1e6, 10.0, label="impossible"))


def _spy_tries(it: Integrator) -> list[tuple[float, float, int]]:
    """Record (t, dt, SNES reason) of every step attempt of ``it`` (observes, changes nothing)."""
    tries: list[tuple[float, float, int]] = []
    attempt = it._try

    def spy(seg, dt, dt_prev, saved, **kwargs):
        reason = attempt(seg, dt, dt_prev, saved, **kwargs)
        tries.append((it.t_s, dt, reason))
        return reason
    it._try = spy
    return tries


def test_failed_step_halved_then_converges_and_the_run_completes() -> None:
    """400 A/m2 (~12C) from rest with a 30 s first step: Newton fails at 30 s, converges at 15 s; the
    discharge then runs on to its 3.0 V cut-off, the rejection counted in the trace."""
    m = _model(dataclasses.replace(DISC, dt_initial_s=30.0))
    m.set_initial_state(0.5)
    it = Integrator(m, record_profiles=False)
    tries = _spy_tries(it)
    tr = it.run(Segment("current", 400.0, 3600.0, v_min_V=3.0, label="halve once"))
    assert tries[0][:2] == (0.0, 30.0) and tries[0][2] <= 0     # the full first step fails
    assert tries[1][:2] == (0.0, 15.0) and tries[1][2] > 0      # halved: converges
    assert tr.rejected > 0
    assert tr.end_reason == "voltage cut-off"
    assert abs(tr.voltage_V[-1] - 3.0) < 1e-5 and tr.steps > 10


def test_forced_newton_failures_are_halved_away() -> None:
    """The first two Newton solves fail (forced): the step is halved twice (1 -> 0.5 -> 0.25 s), then
    the discharge proceeds and ends at its cut-off."""
    m = _model()
    m.set_initial_state(0.5)
    solve, failures = m.solve, [2]

    def failing_solve(mode, value, robust=False):
        if failures[0] > 0:
            failures[0] -= 1
            return -5
        return solve(mode, value, robust)
    m.solve = failing_solve
    it = Integrator(m, record_profiles=False)
    tries = _spy_tries(it)
    tr = it.run(Segment("current", 300.0, 3600.0, v_min_V=3.3, label="forced"))
    assert [(t, dt) for t, dt, _ in tries[:3]] == [(0.0, 1.0), (0.0, 0.5), (0.0, 0.25)]
    assert [r <= 0 for _, _, r in tries[:3]] == [True, True, False]
    assert tr.rejected >= 2 and tr.t_s[1] <= 0.25
    assert tr.end_reason == "voltage cut-off"


def test_cli_solver_failure_is_one_line_exit_3_nothing_written(tmp_path) -> None:
    """From the command line: a charge no electrode can carry (2e4 C, ~9e5 A/m2, as in the test above)
    ends with exit code 3 and one stderr line naming the failure, its time and protocol step, no
    traceback, and an empty output folder."""
    root = Path(__file__).resolve().parents[2]
    cfg = yaml.safe_load((root / "config" / "config.yaml").read_text())
    cfg["electrochem"]["protocol"].update(charge="fixed", charge_c_rate=2.0e4)
    cfg["electrochem"]["discretisation"] = {"cells_separator": 4, "cells_cathode": 8, "radial_volumes": 5}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    outdir = tmp_path / "out"
    outdir.mkdir()
    env = {**os.environ, "UCX_TLS": os.environ.get("UCX_TLS", "self,sm,tcp"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "layerlab", "dfn", "--config", str(path),
                           "--case", "L-Dry-S_load22_por0.55_ls0.5", "--out", str(outdir / "run.nc")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    from layerlab.cli import EXIT_SOLVER_FAILURE
    assert proc.returncode == EXIT_SOLVER_FAILURE == 3, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("layerlab dfn: solver failure")]
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    for what in ("case L-Dry-S_load22_por0.55_ls0.5", "Newton solve failed", "t = 0 s",
                 "segment 'charge 20000C before 0.1C'", "step halvings", "last dt ="):
        assert what in line, line
    assert list(outdir.iterdir()) == []


def test_rest_keeps_the_equilibrium_state() -> None:
    """At zero current from a uniform state nothing moves: V = U(s0), c_e = c_e0, no reaction."""
    m = _model()
    m.set_initial_state(0.5)
    it = Integrator(m, record_profiles=True)
    tr = it.run(Segment("current", 0.0, 3600.0, label="rest"))
    from layerlab.electrochem.electrolyte import evaluate
    u0 = float(evaluate(m.cell.params.positive.ocp, np.array(0.5)))
    assert abs(tr.voltage_V[-1] - u0) < 1e-9
    prof = tr.profiles[-1]
    assert np.allclose(prof["c_e"], 1000.0, rtol=1e-10)
    assert np.abs(prof["j_L"]).max() < 1e-9
    assert tr.steps < 20          # the error control grows the step on a steady state
