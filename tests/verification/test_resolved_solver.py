"""Solver variants of the resolved model reach the same implicit-Euler solution.

The same sequence of steps (growing, constant, then shrinking step lengths, as the step control
produces them) is taken with full Newton (the reference), with the default adaptive reuse of the
factorised Jacobian plus the extrapolating predictor, and with GMRES + field-split GAMG.  Every
variant converges the same nonlinear residual to the same tolerance, so the voltages and the
lithium inventories must agree to that tolerance; the adaptive variant must also factorise far
fewer Jacobians than it takes Newton iterations (what makes it fast).
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel, SolverSettings

STEPS_S = (5.0, 7.5, 11.25, 16.9, 25.3, 25.3, 25.3, 25.3, 38.0, 38.0, 19.0, 12.0)


def _run(settings: SolverSettings) -> tuple[np.ndarray, np.ndarray, ResolvedModel, int]:
    data = sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6), (5e-6, 5e-6, 8.0e-6, 2.0e-6)],
                           separator_m=5e-6, h_m=2.2e-6, comm=MPI.COMM_SELF)
    params = load_parameters().replace("separator", thickness_m=5e-6)
    m = ResolvedModel(build_phases(data), params, settings)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m.set_rest_state(s0)
    I = 1.0 * (0.95 - s0) * params.positive.max_concentration_mol_m3 * m.particle_volume_m3_m2() * FARADAY / 3600
    volts, lithium, its = [], [], 0
    for dt in STEPS_S:
        ok, n = m.solve(dt, I)
        assert ok
        its += n
        m.commit()
        volts.append(m.voltage())
        lithium.append(sum(m.lithium()))
    return np.array(volts), np.array(lithium), m, its


@pytest.fixture(scope="module")
def reference():
    return _run(SolverSettings(jacobian_lag=1, predictor=False))


def test_adaptive_jacobian_reuse_matches_full_newton(reference) -> None:
    v_ref, li_ref, _, its_ref = reference
    v, li, m, its = _run(SolverSettings())
    assert m.settings.jacobian_lag == 0 and m.settings.predictor          # the default
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-7)
    np.testing.assert_allclose(li, li_ref, rtol=1e-9)
    assert np.ptp(v) > 0.05                                              # the voltage did move
    assert m.jacobian_builds < len(STEPS_S)                              # kept across steps
    assert m.jacobian_builds < its_ref // 3                              # full Newton: one per iteration


def test_fieldsplit_gamg_matches_full_newton(reference) -> None:
    v_ref, li_ref, _, _ = reference
    v, li, _, _ = _run(SolverSettings(jacobian_lag=1, predictor=False, linear="gmres-fieldsplit"))
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-7)
    np.testing.assert_allclose(li, li_ref, rtol=1e-9)


@pytest.mark.parametrize("spheres", [[(5e-6, 5e-6, 3.0e-6, 3.5e-6)],
                                     [(5e-6, 5e-6, 3.0e-6, 3.5e-6), (1.2e-6, 1.2e-6, 1.2e-6, 1.6e-6)]],
                         ids=["one-particle", "collector-island"])
def test_stalled_chord_iteration_rebuilds_the_jacobian(spheres) -> None:
    """Issue 13's paper-width first step: from rest the adaptive reuse builds the Jacobian at the rest
    state (overpotential zero) and keeps it; where the step's overpotentials make the kinetics more than
    twice as steep, that chord iteration does not contract and cycles between two residuals (the
    paper-width case at 1C: |F| alternating at 4 % of |F_0| for 40 iterations, at any step length).
    A 5 s step at 20C from rest does the same on one particle (and beside a small second particle on
    the collector): without the in-solve rebuild it fails, with it it converges to full Newton's state."""
    data = sphere_box_mesh(10e-6, 10e-6, spheres, separator_m=3e-6, h_m=1.5e-6, comm=MPI.COMM_SELF)
    params = load_parameters().replace("separator", thickness_m=3e-6)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    results = {}
    for name, settings in (("chord", SolverSettings(refresh_ratio=None)), ("default", SolverSettings()),
                           ("newton", SolverSettings(jacobian_lag=1, newton_max_it=40))):
        m = ResolvedModel(build_phases(data), params, settings)
        m.set_rest_state(s0)
        I_20C = 20 * 210.0 * 5000.0 * m.particle_volume_m3_m2()
        ok, _ = m.solve(5.0, I_20C)
        results[name] = ok, m.voltage(), sum(m.lithium()), m.jacobian_refreshes
    assert not results["chord"][0]                               # the stall, reproduced
    assert results["newton"][0] and results["default"][0]
    assert results["default"][3] >= 1                            # rebuilt within the solve
    assert results["default"][1] == pytest.approx(results["newton"][1], abs=1e-7)
    assert results["default"][2] == pytest.approx(results["newton"][2], rel=1e-9)
    assert results["newton"][1] < 4.15                            # far from the 4.3 V rest: the step is hard


def test_adaptive_reuse_capacity_equals_full_newton() -> None:
    """A whole 1C discharge to the cut-off (the Runner's steps and cut-off search): the adaptive reuse
    (resolved.jacobian_lag 0, with the in-solve refresh) delivers full Newton's capacity to 1e-6 with
    far fewer factorisations."""
    from layerlab.resolved.solver import Runner, StepControl

    data = sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6), (5e-6, 5e-6, 8.0e-6, 2.0e-6)],
                           separator_m=5e-6, h_m=2.2e-6, comm=MPI.COMM_SELF)
    params = load_parameters().replace("separator", thickness_m=5e-6)
    out = {}
    for name, settings in (("adaptive", SolverSettings()),
                           ("full", SolverSettings(jacobian_lag=1, predictor=False))):
        m = ResolvedModel(build_phases(data), params, settings)
        m.set_rest_state(stoichiometry_at_ocp(params.positive.ocp, 4.3))
        one_c = 210.0 * 5000.0 * m.particle_volume_m3_m2()
        # fixed steps (no growth), so both take the same step sequence: the capacities differ by the
        # solver tolerance only (with growth the sequences differ and so does the time discretisation)
        control = StepControl(dt_initial_s=60.0, dt_max_s=60.0, dv_max_V=0.05, growth=1.0)
        tr = Runner(m, control).run_cc(one_c, v_min_V=3.5)
        assert tr.end_reason == "voltage cut-off"
        out[name] = tr.capacity_C_m2, tr.linear_solves, m.jacobian_builds, one_c * 3600.0
    assert out["adaptive"][0] == pytest.approx(out["full"][0], rel=1e-6)
    assert out["full"][0] > 0.3 * out["full"][3]                  # a real discharge: > 0.3 of the nominal
    assert out["adaptive"][2] < out["full"][1] / 3                # factorisations vs full Newton's (one per it)


def test_residual_without_lifting_is_dolfinx_residual() -> None:
    """The model's residual (no Dirichlet conditions, so no lifting step) is dolfinx's
    ``assemble_residual`` bit for bit, at a state away from rest (uniform collector: no rank-one term)."""
    from layerlab.fe import fem

    data = sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6)], separator_m=5e-6, h_m=2.2e-6,
                           comm=MPI.COMM_SELF)
    m = ResolvedModel(build_phases(data), load_parameters().replace("separator", thickness_m=5e-6),
                      collector="uniform")
    m.set_rest_state(0.4)
    rng = np.random.default_rng(0)
    for f in m.u:
        f.x.array[:] *= 1.0 + 0.01 * rng.random(f.x.array.size)
    m.dt.value, m.I_cc.value = 10.0, 30.0
    p = m.problem
    fem.petsc.assign(m.u, p.x)
    ours, theirs = p.b.duplicate(), p.b.duplicate()
    p.solver.computeFunction(p.x, ours)
    fem.petsc.assemble_residual(None, p.x, theirs, m.u, p.F, p.J, [], p.b.getAttr("_blocks"))
    assert np.abs(theirs.getArray()).max() > 0
    np.testing.assert_array_equal(ours.getArray(), theirs.getArray())
