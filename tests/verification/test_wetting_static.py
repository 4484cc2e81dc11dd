"""Static capillary checks of the Cahn-Hilliard / Stokes scheme against analytic answers.

Closed boxes (symmetry walls, pressure pinned at a corner): Laplace pressure of a drop, the
spurious-current capillary number, exact conservation of each phase, and the survival of a small
trapped bubble.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.fe import MPI, fem, ufl
from layerlab.geometry import tags
from layerlab.wetting import testgeom
from layerlab.wetting.params import WettingParams
from layerlab.wetting.solver import Boundaries, WettingSolver


def _closed_box(width: float, height: float, n: int, params: WettingParams, phi0) -> WettingSolver:
    msh, ft = testgeom.rectangle(width, height, n, int(round(n * height / width)), diagonal="right")
    bnd = Boundaries(ft, slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT), slip_y=(tags.INLET, tags.OUTLET),
                     pin_pressure_at=(0.0, 0.0))
    return WettingSolver(msh, bnd, params, phi0)


def _integral(msh, expr) -> float:
    dx = ufl.dx(domain=msh, metadata={"quadrature_degree": 4})
    return msh.comm.allreduce(fem.assemble_scalar(fem.form(expr * dx)), op=MPI.SUM)


def test_static_drop_laplace_pressure_spurious_currents_and_mass(record_property) -> None:
    """2D drop of radius ~4 um: p_in - p_out = sigma / R within 2 %, spurious Ca << 1e-5, and the
    area of each phase conserved to 1e-8 relative."""
    side, r0 = 16.0, 4.0
    p = WettingParams(interface_width_m=0.5e-6, mobility_nondim=1e-3, dt_initial_s=1e-4, refactor_every=10)
    w = np.sqrt(2) * p.eps_hat
    s = _closed_box(side, side, 32, p, lambda x: np.tanh((r0 - np.hypot(x[0] - side / 2, x[1] - side / 2)) / w))
    msh = s.msh
    phi = s.field("phi", "old")
    liquid0, air0 = _integral(msh, (1 + phi) / 2), _integral(msh, (1 - phi) / 2)
    for _ in range(100):
        s.step()
    phi, pr, u = s.field("phi"), s.field("p"), s.field("u")
    liquid1, air1 = _integral(msh, (1 + phi) / 2), _integral(msh, (1 - phi) / 2)
    record_property("liquid_area_relative_change", abs(liquid1 - liquid0) / liquid0)
    record_property("air_area_relative_change", abs(air1 - air0) / air0)
    assert abs(liquid1 - liquid0) / liquid0 < 1e-8
    assert abs(air1 - air0) / air0 < 1e-8

    radius = np.sqrt(_integral(msh, ufl.conditional(ufl.gt(phi, 0.0), 1.0, 0.0)) / np.pi)
    x = ufl.SpatialCoordinate(msh)
    r = ufl.sqrt((x[0] - side / 2) ** 2 + (x[1] - side / 2) ** 2)
    inside = ufl.conditional(ufl.lt(r, radius - 3 * p.eps_hat), 1.0, 0.0)
    outside = ufl.conditional(ufl.gt(r, radius + 3 * p.eps_hat), 1.0, 0.0)
    dp = _integral(msh, pr * inside) / _integral(msh, inside) - _integral(msh, pr * outside) / _integral(msh, outside)
    laplace = p.sigma_hat / radius
    record_property("laplace_relative_error", dp / laplace - 1.0)
    assert abs(dp / laplace - 1.0) < 0.02, (dp, laplace)

    u_max = msh.comm.allreduce(float(np.max(np.abs(u.x.array))), op=MPI.MAX)
    ca_spurious = u_max * p.capillary_number      # eta_l |u| / sigma
    record_property("spurious_capillary_number", ca_spurious)
    assert ca_spurious < 3e-6, ca_spurious


@pytest.mark.slow
def test_small_trapped_bubble_keeps_its_area(record_property) -> None:
    """A 4 um (diameter) air bubble 4 um below an air layer, at the default mobility, keeps
    >= 95 % of its area over 0.1 s (the area of phi < 0 below the layer)."""
    width, height, radius = 8.0, 10.0, 2.0
    p = WettingParams(interface_width_m=0.5e-6, mobility_nondim=1e-6, dt_initial_s=1e-4, refactor_every=10)
    w = np.sqrt(2) * p.eps_hat
    s = _closed_box(width, height, 16, p, lambda x: np.minimum(
        np.tanh((np.hypot(x[0] - width / 2, x[1] - 3.0) - radius) / w), np.tanh((9.0 - x[1]) / w)))
    x = ufl.SpatialCoordinate(s.msh)

    def bubble_area() -> float:
        phi = s.field("phi", "old")
        return _integral(s.msh, ufl.conditional(ufl.lt(phi, 0.0), 1.0, 0.0) * ufl.conditional(ufl.lt(x[1], 6.0), 1.0, 0.0))

    a0 = bubble_area()
    while s.time_s < 0.1 - 1e-12:
        s.step()
    kept = bubble_area() / a0
    record_property("bubble_area_kept", kept)
    assert kept >= 0.95
