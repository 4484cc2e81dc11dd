"""The coupled linear Cahn-Hilliard / Stokes scheme (nondimensional, one linear system per step).

Unknowns ``(u, p, phi, mu)`` in Taylor-Hood P2/P1 plus P1/P1.  With ``phi_f`` the lagged
("frozen") phase field that the matrix sees and ``phi_n`` the previous step::

    Re rho(phi_f) (u - u_n)/dt - div(2 eta(phi_f) D(u)) + grad p = mu grad(phi_f)
    div u = 0
    (phi - phi_n)/dt + u . grad(phi_f) = div(M grad mu)
    mu = lambda [-lap phi + (f(phi_*) + S (phi - phi_*)) / eps^2]     (bulk, Shen-Yang stabilised)
    lambda grad(phi).n = -g'(phi_*) - S_w (phi - phi_*)               (particle walls)

``phi_* = phi_n + r (phi_n - phi_{n-1})`` is the extrapolated phase field (``r = dt_n / dt_{n-1}``,
``r = 0`` on a first step).  With ``phi_* = phi_n`` the stabilisation ``S (phi - phi_n)`` adds a
chemical potential ~ ``lambda S U dt |grad phi| / eps^2`` to a moving interface: at
``U = 1e-4 m/s`` and ``dt = 1e-4 s`` this was a pressure jump of ~2.8 kPa across a flat front,
comparable to the capillary pressure.  Extrapolation makes that term O(dt^2).

``f`` is the truncated double-well derivative (``phi^3 - phi`` inside [-1, 1], linear with slope 2
outside), ``g(phi) = -sigma cos(theta) (3 phi - phi^3) / 4`` the wall energy (contact angle theta in
the electrolyte, ``phi = +1``).  Density and viscosity use the phase field clipped to [-1, 1].  The
same ``phi_f`` in the capillary force and the advection makes the coupling energy-neutral; with
``phi_f = phi_n`` this is the stable scheme of NOTES.md, and keeping ``phi_f`` fixed for K steps lets
the LU factors be reused.  Testing the transport equation with 1 shows that ``int phi`` changes only
through boundary fluxes (P1 ``phi`` lies in the pressure space, so ``int u . grad phi_f = 0`` in a
closed box).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from layerlab.fe import basix, fem, mesh as dmesh, ufl
from layerlab.wetting.params import WettingParams


def clip(phi: "ufl.core.expr.Expr") -> "ufl.core.expr.Expr":
    """``phi`` clipped to [-1, 1] (UFL)."""
    return ufl.max_value(-1.0, ufl.min_value(1.0, phi))


def double_well_derivative(phi: "ufl.core.expr.Expr") -> "ufl.core.expr.Expr":
    """Truncated ``f(phi) = F'(phi)``: ``phi^3 - phi`` on [-1, 1], ``2 (phi -+ 1)`` outside."""
    return ufl.conditional(ufl.gt(phi, 1.0), 2.0 * (phi - 1.0),
                           ufl.conditional(ufl.lt(phi, -1.0), 2.0 * (phi + 1.0), phi**3 - phi))


@dataclass
class Forms:
    """The compiled forms of one step.

    ``a`` (depends on ``phi_f`` and ``dt``) and ``L`` are the whole step.  The matrix of ``a`` is also
    ``a_rest + a_mass / dt`` with ``a_rest`` and ``a_mass`` as below; ``delta_rest`` / ``delta_mass``
    are those two parts evaluated at ``phi_f_next`` minus at ``phi_f`` on the cells of subdomain 1
    (compiled once, instantiated per update by :mod:`layerlab.wetting.assembly`).
    """

    W: fem.FunctionSpace
    a: fem.Form
    L: fem.Form
    a_rest: fem.Form           # the terms not divided by dt (viscous, coupling, constraints, CH)
    a_mass: fem.Form           # dt * (the terms divided by dt): Re rho(phi_f) u.v + phi w
    delta_rest: fem.CompiledForm
    delta_mass: fem.CompiledForm
    w_new: fem.Function        # the solution of the current step (mixed)
    w_old: fem.Function        # previous step (mixed)
    phi_f: fem.Function        # frozen phase field seen by the matrix (P1, collapsed space)
    phi_f_next: fem.Function   # the frozen field an incremental update moves to
    phi_prev: fem.Function     # phase field of step n-1 (P1), for the extrapolation
    dt: fem.Constant
    extrap: fem.Constant       # r = dt_n / dt_{n-1}, 0 when no previous step
    spaces: dict = field(default_factory=dict)   # name -> (collapsed space, dof map into W)


def mixed_space(msh: dmesh.Mesh) -> fem.FunctionSpace:
    """``(u, p, phi, mu)``: P2 vector, P1, P1, P1."""
    cell = msh.basix_cell()
    v_el = basix.ufl.element("Lagrange", cell, 2, shape=(msh.geometry.dim,))
    s_el = basix.ufl.element("Lagrange", cell, 1)
    return fem.functionspace(msh, basix.ufl.mixed_element([v_el, s_el, s_el, s_el]))


def _mix(phi_f: "ufl.Coefficient", air_over_electrolyte: float) -> "ufl.core.expr.Expr":
    """A property that is 1 in the electrolyte and ``air_over_electrolyte`` in air (clipped phase field)."""
    c_f = clip(phi_f)
    return (1.0 + c_f) / 2.0 + air_over_electrolyte * (1.0 - c_f) / 2.0


def _phase_terms(W: fem.FunctionSpace, params: WettingParams, phi_f: "ufl.Coefficient",
                 dx: ufl.Measure) -> tuple["ufl.Form", "ufl.Form"]:
    """The matrix terms that depend on the frozen field: (not divided by dt, divided by dt)."""
    u, _, _, mu = ufl.TrialFunctions(W)
    v, _, w, _ = ufl.TestFunctions(W)
    eta, rho = _mix(phi_f, params.viscosity_ratio), _mix(phi_f, params.density_ratio)
    rest = (2.0 * eta * ufl.inner(ufl.sym(ufl.grad(u)), ufl.sym(ufl.grad(v))) * dx
            - mu * ufl.inner(ufl.grad(phi_f), v) * dx + ufl.inner(u, ufl.grad(phi_f)) * w * dx)
    mass = params.reynolds_number * rho * ufl.inner(u, v) * dx
    return rest, mass


def build_forms(msh: dmesh.Mesh, ds: ufl.Measure, wall_ids: tuple[int, ...], params: WettingParams,
                dt_hat: float) -> Forms:
    """Compile the forms of one step on ``msh``; ``ds`` carries the facet tags, ``wall_ids`` the
    particle-wall tags (no-slip, wetting)."""
    W = mixed_space(msh)
    spaces = {name: W.sub(i).collapse() for i, name in enumerate(("u", "p", "phi", "mu"))}
    w_new, w_old = fem.Function(W, name="state"), fem.Function(W, name="state_old")
    V_phi = spaces["phi"][0]
    phi_f = fem.Function(V_phi, name="phi_frozen")
    phi_f_next = fem.Function(V_phi, name="phi_frozen_next")
    phi_prev = fem.Function(V_phi, name="phi_prev")
    extrap = fem.Constant(msh, 0.0)
    u, p, phi, mu = ufl.TrialFunctions(W)
    v, q, w, z = ufl.TestFunctions(W)
    u_n, _, phi_n, _ = ufl.split(w_old)

    dt = fem.Constant(msh, float(dt_hat))
    lam, eps, S = params.lambda_hat, params.eps_hat, params.stabilisation
    mob = params.mobility_nondim
    cos_t = math.cos(math.radians(params.contact_angle_deg))
    sw = 0.75 * params.sigma_hat * abs(cos_t)           # half the Lipschitz constant of g'
    dx = ufl.dx(domain=msh)

    rest_f, mass_f = _phase_terms(W, params, phi_f, dx)
    fixed = (- p * ufl.div(v) * dx - q * ufl.div(u) * dx
             + mob * ufl.inner(ufl.grad(mu), ufl.grad(w)) * dx
             + mu * z * dx - lam * ufl.inner(ufl.grad(phi), ufl.grad(z)) * dx
             - lam * S / eps**2 * phi * z * dx)
    phi_mass = phi * w * dx
    a = rest_f + fixed + (1.0 / dt) * (mass_f + phi_mass)
    rho = _mix(phi_f, params.density_ratio)
    phi_s = phi_n + extrap * (phi_n - phi_prev)
    L = (params.reynolds_number * rho / dt * ufl.inner(u_n, v) * dx + phi_n / dt * w * dx
         + lam / eps**2 * (double_well_derivative(phi_s) - S * phi_s) * z * dx)
    if wall_ids:
        c_s = clip(phi_s)
        g_prime = -0.75 * params.sigma_hat * cos_t * (1.0 - c_s**2)
        wall = -sw * phi * z * ds(wall_ids)
        a += wall
        fixed += wall
        L += (g_prime - sw * phi_s) * z * ds(wall_ids)
    dx1 = ufl.dx(domain=msh, subdomain_id=1)
    rest_next, mass_next = _phase_terms(W, params, phi_f_next, dx1)
    rest_now, mass_now = _phase_terms(W, params, phi_f, dx1)
    return Forms(W=W, a=fem.form(a), L=fem.form(L), a_rest=fem.form(rest_f + fixed),
                 a_mass=fem.form(mass_f + phi_mass),
                 delta_rest=fem.compile_form(msh.comm, rest_next - rest_now),
                 delta_mass=fem.compile_form(msh.comm, mass_next - mass_now),
                 w_new=w_new, w_old=w_old, phi_f=phi_f, phi_f_next=phi_f_next,
                 phi_prev=phi_prev, dt=dt, extrap=extrap, spaces=spaces)
