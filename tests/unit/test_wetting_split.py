"""The decoupled scheme of :mod:`layerlab.wetting.split`: first-order convergence to the coupled scheme
in dt, exact phase conservation, its stability limit (stable at 1e-8 s, diverging at 1e-6 s on a
0.5 um mesh at Ca ~ 1e-5), and 1 vs 2 ranks."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.fe import MPI, fem, ufl
from layerlab.geometry import tags
from layerlab.wetting import testgeom
from layerlab.wetting.params import WettingParams
from layerlab.wetting.solver import Boundaries, WettingDiverged, WettingSolver
from layerlab.wetting.split import SplitSolver

PARAMS = WettingParams(interface_width_m=0.5e-6, mobility_nondim=1e-6, contact_angle_deg=60.0)


def _channel(comm: MPI.Comm, dt_s: float, coupled: bool = False) -> SplitSolver | WettingSolver:
    """The 10 x 15 um wetting-wall channel of the verification test at h = 0.5 um, front at y = 10 um
    (``coupled``: the coupled scheme at the same fixed step, its matrix refrozen every step)."""
    msh, ft = testgeom.rectangle(10.0, 15.0, 20, 30, left_tag=tags.PARTICLE_WALL, right_tag=tags.PARTICLE_WALL,
                                 comm=comm)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), walls=(tags.PARTICLE_WALL,))
    w = np.sqrt(2) * PARAMS.eps_hat
    phi0 = lambda x: np.tanh((x[1] - 10.0) / w)  # noqa: E731
    if coupled:
        fixed = PARAMS.with_(dt_min_s=dt_s / 4, dt_initial_s=dt_s, dt_max_s=dt_s, refactor_every=1, phi_update_tol=0.0)
        return WettingSolver(msh, bnd, fixed, phi0)
    return SplitSolver(msh, bnd, PARAMS, dt_s, phi0, stokes_refreeze_tol=0.0)


def test_split_converges_to_the_coupled_scheme_at_first_order() -> None:
    """Meniscus formation on the channel to t = 2e-7 s (|u| up to ~3500 U): the split - coupled difference
    in phi and u halves with dt (measured ratios 1.85-1.9) and is below 10 % of the change of phi / of |u|."""
    diffs = []
    for dt in (2e-8, 1e-8):
        c, s = _channel(MPI.COMM_SELF, dt, coupled=True), _channel(MPI.COMM_SELF, dt)
        phi0 = c.field("phi", "old").x.array.copy()
        for _ in range(round(2e-7 / dt)):
            c.step()
            s.step()
        assert c.dt_s == dt
        phi_c, u_c = c.field("phi", "old").x.array, c.field("u", "old").x.array
        diffs.append((np.abs(phi_c - s.field("phi").x.array).max() / np.abs(phi_c - phi0).max(),
                      np.abs(u_c - s.field("u").x.array).max() / np.abs(u_c).max()))
    (phi_coarse, u_coarse), (phi_fine, u_fine) = diffs
    assert 1.6 < phi_coarse / phi_fine < 2.4 and 1.6 < u_coarse / u_fine < 2.4, diffs
    assert phi_fine < 0.1 and u_fine < 0.1, diffs


def _phase_integrals(s: SplitSolver) -> tuple[float, float]:
    phi = fem.Function(s.phi_f.function_space)
    phi.x.array[:] = s.phi()
    dx = ufl.dx(domain=s.msh)
    return tuple(s.comm.allreduce(fem.assemble_scalar(fem.form(e * dx)), op=MPI.SUM)
                 for e in ((1 + phi) / 2, phi * phi))


def test_closed_box_conserves_each_phase_at_a_stable_step() -> None:
    """A drop in a closed box, 100 steps of 1e-8 s: each phase's area unchanged to 1e-10 relative."""
    side, r0 = 16.0, 4.0
    msh, ft = testgeom.rectangle(side, side, 32, 32, diagonal="right", comm=MPI.COMM_SELF)
    bnd = Boundaries(ft, slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT), slip_y=(tags.INLET, tags.OUTLET),
                     pin_pressure_at=(0.0, 0.0))
    w = np.sqrt(2) * PARAMS.eps_hat
    s = SplitSolver(msh, bnd, PARAMS, 1e-8, lambda x: np.tanh((r0 - np.hypot(x[0] - side / 2, x[1] - side / 2)) / w))
    liquid0, _ = _phase_integrals(s)
    for _ in range(100):
        s.step()
    liquid1, _ = _phase_integrals(s)
    assert abs(liquid1 - liquid0) / liquid0 < 1e-10, (liquid0, liquid1)
    assert np.abs(s.phi()).max() < 1.05


def test_explicit_capillary_coupling_limits_the_step() -> None:
    """Stable for 200 steps of 1e-8 s; diverges within 10 steps of 1e-6 s (the coupled scheme takes 1e-4 s)."""
    stable = _channel(MPI.COMM_SELF, 1e-8)
    for _ in range(200):
        stable.step()
    assert np.abs(stable.phi()).max() < 1.05
    unstable = _channel(MPI.COMM_SELF, 1e-6)
    with pytest.raises(WettingDiverged):
        for _ in range(10):
            unstable.step()


@pytest.mark.mpi
def test_split_parallel_matches_serial() -> None:
    """50 steps of 1e-8 s on the channel: the phase integrals on all ranks match one rank to 1e-10."""
    def run(comm: MPI.Comm) -> tuple[float, float]:
        s = _channel(comm, 1e-8)
        for _ in range(50):
            s.step()
        return _phase_integrals(s)

    world = MPI.COMM_WORLD
    parallel = run(world)
    serial = world.bcast(run(MPI.COMM_SELF) if world.rank == 0 else None, root=0)
    np.testing.assert_allclose(parallel, serial, rtol=1e-10)
