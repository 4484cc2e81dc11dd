"""Equilibrium contact angle of a sessile drop on a wetting wall (wall-energy condition).

A half-disc drop (90 deg) on the bottom wall relaxes to the static angle; the angle is recovered
from the drop area A and contact half-width b of the 2D circular cap,
``A / b^2 = (theta - sin theta cos theta) / sin^2 theta``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from layerlab.fe import MPI, fem, ufl
from layerlab.geometry import tags
from layerlab.wetting import testgeom
from layerlab.wetting.metrics import gather_vertex_values
from layerlab.wetting.params import WettingParams
from layerlab.wetting.solver import Boundaries, WettingSolver


def cap_angle_deg(area: float, half_width: float) -> float:
    """Contact angle of a 2D circular cap from its area and contact half-width."""
    ratio = area / half_width**2
    return float(np.degrees(brentq(lambda t: (t - np.sin(t) * np.cos(t)) / np.sin(t) ** 2 - ratio, 1e-3, np.pi - 1e-3)))


def test_cap_angle_formula() -> None:
    r, t = 3.0, np.radians(50.0)
    assert cap_angle_deg(r**2 * (t - np.sin(t) * np.cos(t)), r * np.sin(t)) == pytest.approx(50.0, abs=1e-8)


@pytest.mark.parametrize("theta_deg", [60.0, 120.0])
def test_sessile_drop_equilibrium_angle(theta_deg: float, record_property) -> None:
    width, height, r0 = 16.0, 8.0, 4.0
    msh, ft = testgeom.rectangle(width, height, 32, 16, bottom_tag=tags.PARTICLE_WALL, diagonal="right")
    bnd = Boundaries(ft, slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT), slip_y=(tags.INLET,),
                     walls=(tags.PARTICLE_WALL,), pin_pressure_at=(0.0, height))
    p = WettingParams(interface_width_m=0.5e-6, mobility_nondim=1e-4, dt_initial_s=1e-4, refactor_every=10,
                      contact_angle_deg=theta_deg)
    w = np.sqrt(2) * p.eps_hat
    s = WettingSolver(msh, bnd, p, lambda x: np.tanh((r0 - np.hypot(x[0] - width / 2, x[1])) / w))
    while s.time_s < 0.05 - 1e-12:
        s.step()
    phi = s.field("phi")
    dx = ufl.dx(domain=msh, metadata={"quadrature_degree": 4})
    area = msh.comm.allreduce(fem.assemble_scalar(fem.form(ufl.conditional(ufl.gt(phi, 0), 1.0, 0.0) * dx)), op=MPI.SUM)
    xy, v = gather_vertex_values(phi)
    angle = None
    if msh.comm.rank == 0:
        on = np.isclose(xy[:, 1], 0.0)
        xs, vs = xy[on, 0], v[on]
        wet = np.nonzero(vs > 0)[0]
        i0, i1 = wet[0], wet[-1]
        x_left = xs[i0 - 1] - vs[i0 - 1] * (xs[i0] - xs[i0 - 1]) / (vs[i0] - vs[i0 - 1])
        x_right = xs[i1] - vs[i1] * (xs[i1 + 1] - xs[i1]) / (vs[i1 + 1] - vs[i1])
        angle = cap_angle_deg(area, (x_right - x_left) / 2)
    angle = msh.comm.bcast(angle, root=0)
    record_property("angle_error_deg", angle - theta_deg)
    assert abs(angle - theta_deg) < 3.0, angle
