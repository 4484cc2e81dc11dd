"""A decoupled (split) Cahn-Hilliard / Stokes step, kept to measure why the campaign does not use it.

The pattern of Dong & Shen, J. Comput. Phys. 231 (2012) 5788-5804 ("A time-stepping scheme
involving constant coefficient matrices for phase-field simulations of two-phase incompressible
flows with large density ratios"): each step solves the Cahn-Hilliard pair ``(phi, mu)`` and then
the flow ``(u, p)`` separately, and the Cahn-Hilliard matrix is constant::

    (phi - phi_n)/dt + u_n . grad(phi_n) = div(M grad mu)                   (explicit convection)
    mu = lambda [-lap phi + (f(phi_n) + S (phi - phi_n)) / eps^2]           (Shen-Yang stabilised)
    lambda grad(phi).n = -g'(phi_n) - S_w (phi - phi_n)                     (particle walls)
    Re rho(phi_f) (u - u_n)/dt - div(2 eta(phi_f) D(u)) + grad p = mu grad(phi),  div u = 0

with ``f``, ``g``, ``S``, ``S_w`` as in :mod:`layerlab.wetting.model`.  The Cahn-Hilliard matrix
depends on ``dt`` only and is factorised once; the Stokes matrix sees density and viscosity of a
lagged field ``phi_f`` and is refactorised only once ``phi`` has moved from it by more than
``stokes_refreeze_tol`` somewhere.  (Dong & Shen also make the flow matrix constant by moving the
viscosity contrast to the right-hand side; at the electrolyte/air viscosity ratio of ~170 and
Re ~ 4e-4 that explicit part is a fixed-point iteration contracting by only ~0.994 per step.)

Measured (``bench/bench_wetting.py --split-stability``): the explicit capillary coupling (the
velocity of step n moves the interface of step n+1 that sets the force) bounds the step by the
viscous capillary time ``~ eta h / sigma`` (Galusinski & Vigneaux, J. Comput. Phys. 227 (2008)
6140): at Ca ~ 1e-5 and h = 0.5 um the scheme is stable at dt = 3e-8 s and diverges within ten
steps at 1e-7 s, while the coupled scheme (:mod:`layerlab.wetting.model`) runs at 1e-4 to 1e-3 s.
Damping the explicit coupling by a constant extra mobility on the chemical-potential increment,
``div(K grad(mu - mu_n))`` (conservative, and the Cahn-Hilliard matrix stays constant), made 1e-4 s
steps stable only for K ~ 10-100 (the Stokes response l^2 / eta, not O(dt)): on the channel of
``tests/verification/test_wetting_channel.py`` (h = 0.5 um) the front then ran 10 % fast and the
inlet-outlet pressure drop lost 98-99.8 % of its capillary part (the term smooths mu, the force
``mu grad(phi)`` with it), so it is not kept.  A semi-implicit surface tension in the Stokes matrix
(Hysing, Int. J. Numer. Meth. Fluids 51 (2006) 659: ``c dt lambda |grad phi|^2 grad(u) P : grad(v) P``,
``P`` the tangential projector; O(dt), but the matrix follows ``phi``) moved the limit to ~1e-7 s at
c = 1; with c = 100 1e-5 and 1e-4 s were stable and the front within 1.3 / 2 %, but the channel's
pressure drop was off by -103 % / -430 % (the interface viscosity it adds dominates), not kept either.
The scheme converges to the coupled one at first order in dt where it is stable
(``tests/unit/test_wetting_split.py``).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from layerlab.fe import MPI, PETSc, basix, fem, mesh as dmesh, ufl
from layerlab.wetting.model import _mix, clip, double_well_derivative
from layerlab.wetting.params import WettingParams
from layerlab.wetting.solver import Boundaries, WettingDiverged, dirichlet_bcs


def _lu(comm, A: PETSc.Mat) -> PETSc.KSP:
    ksp = PETSc.KSP().create(comm)
    ksp.setType("preonly")
    ksp.getPC().setType("lu")
    ksp.getPC().setFactorSolverType("mumps")
    ksp.setOperators(A)
    return ksp


class _Linear:
    """A linear problem ``a(x, y) = L(y)`` with Dirichlet ``bcs`` and a MUMPS LU solver whose matrix
    is reassembled and refactorised only on :meth:`refactorise`."""

    def __init__(self, a: "ufl.Form", L: "ufl.Form", bcs: list[fem.DirichletBC], x: fem.Function) -> None:
        self.a, self.L, self.bcs, self.x = fem.form(a), fem.form(L), bcs, x
        self.A = fem.petsc.create_matrix(self.a)
        self.b = fem.petsc.create_vector(x.function_space)
        self.ksp = _lu(x.function_space.mesh.comm, self.A)
        self.n_factorisations = 0
        self.factorise_s = 0.0

    def refactorise(self) -> None:
        t0 = time.perf_counter()
        self.A.zeroEntries()
        fem.petsc.assemble_matrix(self.A, self.a, bcs=self.bcs)
        self.A.assemble()
        self.ksp.setOperators(self.A)
        self.ksp.setUp()
        self.n_factorisations += 1
        self.factorise_s += time.perf_counter() - t0

    def solve(self) -> None:
        with self.b.localForm() as loc:
            loc.set(0.0)
        fem.petsc.assemble_vector(self.b, self.L)
        fem.petsc.apply_lifting(self.b, [self.a], bcs=[self.bcs])
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem.petsc.set_bc(self.b, self.bcs)
        self.ksp.solve(self.b, self.x.x.petsc_vec)
        self.x.x.scatter_forward()


class SplitSolver:
    """The split scheme above at a fixed step ``dt_s`` on a mesh in micrometres (nondimensional)."""

    def __init__(self, msh: dmesh.Mesh, bnd: Boundaries, params: WettingParams, dt_s: float,
                 phi0: Callable[[np.ndarray], np.ndarray], stokes_refreeze_tol: float = 0.05) -> None:
        self.msh, self.params, self.tol = msh, params, float(stokes_refreeze_tol)
        self.comm = msh.comm
        cell, p = msh.basix_cell(), params
        p1 = basix.ufl.element("Lagrange", cell, 1)
        V_flow = fem.functionspace(msh, basix.ufl.mixed_element(
            [basix.ufl.element("Lagrange", cell, 2, shape=(msh.geometry.dim,)), p1]))
        V_ch = fem.functionspace(msh, basix.ufl.mixed_element([p1, p1]))
        self.flow, self.flow_n = fem.Function(V_flow), fem.Function(V_flow)
        self.ch, self.ch_n = fem.Function(V_ch), fem.Function(V_ch)
        V_phi, phi_map = V_ch.sub(0).collapse()
        self._phi_map = np.asarray(phi_map).ravel()
        self.phi_f = fem.Function(V_phi)
        init = fem.Function(V_phi)
        init.interpolate(phi0)
        self.ch_n.x.array[self._phi_map] = init.x.array
        self.ch.x.array[:] = self.ch_n.x.array
        self.dt_hat = dt_s / p.time_scale_s
        self.t_hat, self.step_count = 0.0, 0
        ds = ufl.Measure("ds", domain=msh, subdomain_data=bnd.facet_tags)
        dx = ufl.dx(domain=msh)
        lam, eps, S, dt = p.lambda_hat, p.eps_hat, p.stabilisation, self.dt_hat
        cos_t = math.cos(math.radians(p.contact_angle_deg))
        sw = 0.75 * p.sigma_hat * abs(cos_t)

        phi, mu = ufl.TrialFunctions(V_ch)
        w, z = ufl.TestFunctions(V_ch)
        u_n, _ = ufl.split(self.flow_n)
        phi_n, _ = ufl.split(self.ch_n)
        a_ch = (phi * w / dt + p.mobility_nondim * ufl.inner(ufl.grad(mu), ufl.grad(w)) + mu * z
                - lam * ufl.inner(ufl.grad(phi), ufl.grad(z)) - lam * S / eps**2 * phi * z) * dx
        L_ch = (phi_n / dt * w - ufl.inner(u_n, ufl.grad(phi_n)) * w
                + lam / eps**2 * (double_well_derivative(phi_n) - S * phi_n) * z) * dx
        if bnd.walls:
            a_ch += -sw * phi * z * ds(bnd.walls)
            L_ch += (-0.75 * p.sigma_hat * cos_t * (1.0 - clip(phi_n) ** 2) - sw * phi_n) * z * ds(bnd.walls)
        self.ch_problem = _Linear(a_ch, L_ch, dirichlet_bcs(bnd, None, None, V_ch.sub(0), p.u_in_hat), self.ch)
        self.ch_problem.refactorise()        # once: the matrix depends on dt only

        u, pr = ufl.TrialFunctions(V_flow)
        v, q = ufl.TestFunctions(V_flow)
        phi_new, mu_new = ufl.split(self.ch)
        eta, rho = _mix(self.phi_f, p.viscosity_ratio), _mix(self.phi_f, p.density_ratio)
        a_flow = (p.reynolds_number * rho / dt * ufl.inner(u, v)
                  + 2.0 * eta * ufl.inner(ufl.sym(ufl.grad(u)), ufl.sym(ufl.grad(v)))
                  - pr * ufl.div(v) - q * ufl.div(u)) * dx
        L_flow = (p.reynolds_number * rho / dt * ufl.inner(u_n, v) + mu_new * ufl.inner(ufl.grad(phi_new), v)) * dx
        self.flow_problem = _Linear(a_flow, L_flow,
                                    dirichlet_bcs(bnd, V_flow.sub(0), V_flow.sub(1), None, p.u_in_hat), self.flow)
        self._frozen = False

    @property
    def n_factorisations(self) -> int:
        return self.ch_problem.n_factorisations + self.flow_problem.n_factorisations

    @property
    def time_s(self) -> float:
        return self.t_hat * self.params.time_scale_s

    def field(self, name: str) -> fem.Function:
        """A copy of ``u``, ``p``, ``phi`` or ``mu`` (current step) in its collapsed space."""
        src, i = {"u": (self.flow_n, 0), "p": (self.flow_n, 1), "phi": (self.ch_n, 0), "mu": (self.ch_n, 1)}[name]
        V, dofs = src.function_space.sub(i).collapse()
        f = fem.Function(V, name=name)
        f.x.array[:] = src.x.array[np.asarray(dofs)]
        return f

    def phi(self) -> np.ndarray:
        """The current phase field (P1 values incl. ghosts)."""
        return self.ch_n.x.array[self._phi_map]

    def step(self) -> None:
        """One step; raises :class:`WettingDiverged` once ``|phi|`` leaves ``[-phi_bound, phi_bound]``."""
        self.ch_problem.solve()
        phi_new = self.ch.x.array[self._phi_map]
        drift = np.max(np.abs(phi_new - self.phi_f.x.array), initial=0.0)
        if not self._frozen or self.comm.allreduce(drift, op=MPI.MAX) > self.tol:
            self.phi_f.x.array[:] = phi_new
            self.flow_problem.refactorise()
            self._frozen = True
        self.flow_problem.solve()
        self.ch_n.x.array[:] = self.ch.x.array
        self.flow_n.x.array[:] = self.flow.x.array
        self.t_hat += self.dt_hat
        self.step_count += 1
        local = np.max(np.abs(phi_new), initial=0.0) if np.all(np.isfinite(phi_new)) else np.inf
        phi_max = self.comm.allreduce(local, op=MPI.MAX)
        if not phi_max <= self.params.phi_bound:
            raise WettingDiverged(f"split scheme: max |phi| {phi_max:.3g} at step {self.step_count} "
                                  f"(dt {self.dt_hat * self.params.time_scale_s:.3g} s)")

