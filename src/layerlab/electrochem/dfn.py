"""Doyle-Fuller-Newman half cell (Li metal | separator | layered cathode) in dolfinx/PETSc.

Discretisation
--------------
* ``x`` (Li foil at 0, current collector at ``L``): P1 finite elements on a 1D mesh whose nodes
  fall on every layer boundary; cellwise (DG0) porosity, transport efficiency, conductivity and
  active fraction per population.
* All unknowns live in ONE blocked P1 space with ``3 + (N + 1) P`` components per node:
  ``ln(c_e / c_e0)``, ``phi_e``, ``phi_s``, and for each population: N radial control volumes of
  stoichiometry plus the logit of the surface stoichiometry (so 0 < c_e and 0 < c_surf < c_max hold
  by construction; the approach to saturation that ends a discharge is resolved).  The radial finite-volume coupling is algebraic
  within a node, so the whole DFN is one nonlinear problem for SNES (Newton, MUMPS LU) with a
  banded Jacobian; particles of two populations coexist at the same depth.  Particle, reaction
  and storage terms use the vertex quadrature rule (nodal lumping): each node carries its own
  particles, and the discrete lithium inventory is conserved exactly (to solver tolerance).
  Particles of a population absent around a node are masked (no reaction: they stay put).
* ``phi_s`` is extended into the separator with a zero-source Laplace equation and a zero-flux
  end: it takes the value at the separator/cathode boundary and draws no current there.
* Time: variable-step BDF2 (BDF1 on the first step of each protocol step), see
  :mod:`layerlab.electrochem.integrator`.

Equations (SI, ``j`` = anodic reaction current per particle surface, A/m2)::

    eps dc_e/dt + d/dx(-D_eff dc_e/dx + t+ i_e / F) = sum_p a_p j_p / F
    d i_e/dx = sum_p a_p j_p,   i_e = -kappa_eff (dphi_e/dx - 2 RT/F (1 - t+) TDF dln c_e/dx)
    d i_s/dx = -sum_p a_p j_p,  i_s = -sigma_eff dphi_s/dx
    j_p = j0 (exp((1-alpha) F eta / RT) - exp(-alpha F eta / RT)),  eta = phi_s - phi_e - U(c_surf)
    Li foil (x = 0): i_e = I_Li = j0_Li (...)(eta_Li = -phi_e(0));  CC: i_s(L) = I;  CV: phi_s(L) = V
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from layerlab.electrochem.cell import HalfCell
from layerlab.electrochem.electrolyte import evaluate, ocp_range_V, ufl_ops
from layerlab.electrochem.parameters import FARADAY
from layerlab.errors import require
from layerlab.fe import MPI, PETSc, fem, mesh, ufl

log = logging.getLogger("layerlab.electrochem")

LEFT, RIGHT = 1, 2


@dataclass(frozen=True)
class Discretisation:
    """Mesh, radial and solver resolution (defaults: PyBaMM-like, 20 points per region and in r)."""

    cells_separator: int = 10
    cells_cathode: int = 30
    radial_volumes: int = 12
    min_cells_per_layer: int = 3
    time_rtol: float = 2e-3
    time_atol: float = 2e-4
    dt_initial_s: float = 1.0
    dt_max_s: float = 600.0
    newton_rtol: float = 1e-10
    newton_atol: float = 1e-10
    newton_max_it: int = 15
    max_halvings: int = 8

    def __post_init__(self) -> None:
        for f in ("cells_separator", "cells_cathode", "radial_volumes", "min_cells_per_layer"):
            require(getattr(self, f) >= 1, f"electrochem.discretisation.{f}", f"got {getattr(self, f)}", ">= 1")
        for f in ("time_rtol", "time_atol", "dt_initial_s", "dt_max_s"):
            require(getattr(self, f) > 0, f"electrochem.discretisation.{f}", f"got {getattr(self, f)}", "> 0")

    def refined(self, factor: int = 2, radial_factor: float | None = None) -> "Discretisation":
        """Mesh cells x ``factor``, radial volumes x ``radial_factor`` (default ``factor``),
        time tolerances / ``factor**2``."""
        import dataclasses
        rf = factor if radial_factor is None else radial_factor
        return dataclasses.replace(self, cells_separator=self.cells_separator * factor,
                                   cells_cathode=self.cells_cathode * factor,
                                   radial_volumes=int(round(self.radial_volumes * rf)),
                                   time_rtol=self.time_rtol / factor ** 2,
                                   time_atol=self.time_atol / factor ** 2)


def _set_lag(snes: PETSc.SNES, lag: int) -> None:
    """Recompute the Jacobian every ``lag`` Newton iterations (petsc4py has no direct setter)."""
    opts = PETSc.Options()
    key = f"{snes.getOptionsPrefix()}snes_lag_jacobian"
    opts[key] = lag
    snes.setFromOptions()
    del opts[key]


class SolverFailure(RuntimeError):
    """The nonlinear solve failed even after the allowed step halvings."""


def _node_coordinates(cell: HalfCell, disc: Discretisation) -> np.ndarray:
    """Mesh nodes (x from the Li foil), with a node on every layer boundary."""
    L_sep = cell.params.separator.thickness_m
    H = cell.cathode.thickness_m
    nodes = [np.linspace(0.0, L_sep, disc.cells_separator + 1)]
    x0 = L_sep
    for lay in reversed(cell.cathode.layers):          # separator side first
        n = max(disc.min_cells_per_layer, int(round(disc.cells_cathode * lay.thickness_m / H)))
        nodes.append(np.linspace(x0, x0 + lay.thickness_m, n + 1)[1:])
        x0 += lay.thickness_m
    return np.concatenate(nodes)


class DFNModel:
    """The discretised DFN half cell: state, residual, and one implicit time step.

    Parameters
    ----------
    cell : parameters and cathode layers
    disc : resolution and solver settings
    comm : MPI communicator over which the 1D mesh is distributed
    """

    def __init__(self, cell: HalfCell, disc: Discretisation | None = None,
                 comm: MPI.Comm = MPI.COMM_WORLD) -> None:
        self.cell = cell
        self.disc = disc or Discretisation()
        self.comm = comm
        self.pops = cell.cathode.populations
        self.N = self.disc.radial_volumes
        self.ncomp = 3 + (self.N + 1) * len(self.pops)
        self._build_mesh()
        self._build_coefficients()
        self._build_forms()
        self._build_solvers()
        self.set_initial_state(cell.params.positive.initial_stoichiometry)
        self.ocp_min_V = ocp_range_V(cell.params.positive.ocp)[0]

    # ---- set-up ----------------------------------------------------------------------------
    def _build_mesh(self) -> None:
        nodes = _node_coordinates(self.cell, self.disc)
        n = len(nodes) - 1
        msh = mesh.create_interval(self.comm, n, [0.0, 1.0],
                                   ghost_mode=mesh.GhostMode.shared_facet)
        xg = msh.geometry.x
        xg[:, 0] = np.interp(xg[:, 0], np.linspace(0.0, 1.0, n + 1), nodes)
        self.mesh = msh
        self.length_m = float(nodes[-1])
        tdim = msh.topology.dim
        msh.topology.create_connectivity(tdim - 1, tdim)
        left = mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], 0.0))
        right = mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], self.length_m))
        facets = np.concatenate([left, right]).astype(np.int32)
        tags = np.concatenate([np.full(len(left), LEFT), np.full(len(right), RIGHT)]).astype(np.int32)
        order = np.argsort(facets)
        self.facet_tags = mesh.meshtags(msh, 0, facets[order], tags[order])
        self.right_facets = right

    def _build_coefficients(self) -> None:
        p, cath = self.cell.params, self.cell.cathode
        msh = self.mesh
        Q = fem.functionspace(msh, ("DG", 0))
        ncell = msh.topology.index_map(1).size_local + msh.topology.index_map(1).num_ghosts
        mid = mesh.compute_midpoints(msh, 1, np.arange(ncell, dtype=np.int32))[:, 0]
        z = self.length_m - mid                     # depth from the current collector
        L_sep = p.separator.thickness_m
        in_cathode = mid > L_sep
        # layer index of each cathode cell (layers listed from the current collector up)
        bounds = np.cumsum([0.0] + [lay.thickness_m for lay in cath.layers])
        idx = np.clip(np.searchsorted(bounds, z) - 1, 0, len(cath.layers) - 1)
        b_e = p.positive.bruggeman_electrolyte

        cell_dofs = Q.dofmap.list[:ncell, 0]
        self._cell_values: dict[int, np.ndarray] = {}

        def cellwise(sep_value: float, layer_value) -> fem.Function:
            f = fem.Function(Q)
            vals = np.array([layer_value(cath.layers[i]) for i in idx])
            cell_vals = np.where(in_cathode, vals, sep_value)
            f.x.array[cell_dofs] = cell_vals
            self._cell_values[id(f)] = cell_vals
            return f

        sep_tau = self.cell.separator_tortuosity or p.separator.porosity ** (1 - p.separator.bruggeman)
        self.eps_e = cellwise(p.separator.porosity, lambda lay: lay.porosity)
        self.B_e = cellwise(p.separator.porosity / sep_tau,
                            lambda lay: lay.porosity / (lay.tortuosity if lay.tortuosity is not None
                                                        else lay.porosity ** (1 - b_e)))
        sigma = p.positive.electronic_conductivity_S_m
        b_s = p.positive.bruggeman_electrode
        # separator: an arbitrary positive conductivity (phi_s is extended with zero flux)
        self.sigma_eff = cellwise(sigma, lambda lay: sigma * (1 - lay.porosity) ** b_s)
        self.eps_p = {pop: cellwise(0.0, lambda lay, pop=pop: lay.active_fraction.get(pop, 0.0))
                      for pop in self.pops}
        # nodal mask: population present in a cell next to the node
        V1 = fem.functionspace(msh, ("Lagrange", 1))
        self.mask = {}
        for pop in self.pops:
            m = fem.Function(V1)
            vals = self._cell_values[id(self.eps_p[pop])]
            cells = np.flatnonzero(vals > 0).astype(np.int32)
            dofs = np.unique(V1.dofmap.list[cells].ravel())
            m.x.array[dofs] = 1.0
            m.x.scatter_forward()
            self.mask[pop] = m

    def _build_forms(self) -> None:
        p = self.cell.params
        msh, N = self.mesh, self.N
        ops = ufl_ops()
        F, RT = FARADAY, p.thermal_voltage_V * FARADAY
        f_T = 1.0 / p.thermal_voltage_V
        self.V = fem.functionspace(msh, ("Lagrange", 1, (self.ncomp,)))
        V = self.V
        self.u, self.u_n, self.u_nn = fem.Function(V), fem.Function(V), fem.Function(V)
        u, un, unn = self.u, self.u_n, self.u_nn
        v = ufl.TestFunction(V)
        self.I_app = fem.Constant(msh, PETSc.ScalarType(0.0))
        self.dt = fem.Constant(msh, PETSc.ScalarType(1.0))
        self.a = [fem.Constant(msh, PETSc.ScalarType(c)) for c in (1.0, -1.0, 0.0)]

        def ddt(i: int):
            return (self.a[0] * u[i] + self.a[1] * un[i] + self.a[2] * unn[i]) / self.dt

        dxv = ufl.dx(metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
        # Flux terms: 2-point Gauss.  (Measured: with a 1-point rule here, FFCx merged these integrals
        # with the vertex-rule ones in the residual but not in the Jacobian; Newton then converged
        # only linearly.  Distinct degrees keep the two rules apart.)
        dxm = ufl.dx(metadata={"quadrature_degree": 2})
        ds = ufl.Measure("ds", domain=msh, subdomain_data=self.facet_tags)

        ce0 = p.electrolyte.initial_concentration_mol_m3
        self.ce0 = ce0
        # u[0] = ln(c_e / c_e0): the concentration stays positive through depletion
        ce = ce0 * ufl.exp(u[0])
        ce_safe = ce
        ce_n, ce_nn = ce0 * ufl.exp(un[0]), ce0 * ufl.exp(unn[0])
        ddt_ce = (self.a[0] * ce + self.a[1] * ce_n + self.a[2] * ce_nn) / self.dt
        phie, phis = u[1], u[2]
        kappa = evaluate(p.electrolyte.conductivity, ce_safe, ops)
        De = evaluate(p.electrolyte.diffusivity, ce_safe, ops)
        tp, tdf = p.electrolyte.transference_number, p.electrolyte.thermodynamic_factor
        i_e = -kappa * self.B_e * (phie.dx(0) - 2.0 * RT / F * (1 - tp) * tdf * u[0].dx(0))
        N_e = -De * self.B_e * ce.dx(0) + tp * i_e / F
        i_s = -self.sigma_eff * phis.dx(0)

        # lithium foil
        cp = p.counter
        j0_li = cp.exchange_current_coefficient * cp.lithium_concentration_mol_m3 ** 0.7 * ce_safe ** 0.3
        eta_li = -phie
        self.I_li_expr = j0_li * (ops.exp((1 - cp.charge_transfer_coefficient) * f_T * eta_li)
                                  - ops.exp(-cp.charge_transfer_coefficient * f_T * eta_li))

        # particles
        pos = p.positive
        cmax, Ds, alpha = pos.max_concentration_mol_m3, pos.diffusivity_m2_s, pos.charge_transfer_coefficient
        a_ref = 3.0 * 0.3 / 5e-6
        src = 0
        R_particles = 0
        self.j, self.sto_surf, self.sto_avg = {}, {}, {}
        inventory = self.eps_e * ce * dxv
        for ip, pop in enumerate(self.pops):
            R = self.cell.cathode.radius_m[pop]
            dr = R / N
            r = np.arange(N + 1) * dr
            vol = (r[1:] ** 3 - r[:-1] ** 3) / (3 * R ** 2)      # shell volume / surface area
            area = (r / R) ** 2                                     # interface area / surface area
            base = 3 + ip * (N + 1)
            s = [u[base + k] for k in range(N)]
            # surface stoichiometry through a logistic variable: 0 < s_surf < 1 always, and
            # sqrt(s (1 - s)) = exp(-psi/2) / (1 + exp(-psi)) resolves saturation to any depth
            psi = u[base + N]
            s_surf = 1.0 / (1.0 + ufl.exp(-psi))
            j0 = (pos.exchange_current_coefficient * ops.sqrt(ce_safe) * cmax
                  * ufl.exp(-0.5 * psi) / (1.0 + ufl.exp(-psi)))
            eta = phis - phie - evaluate(pos.ocp, s_surf, ops)
            j = self.mask[pop] * j0 * (ops.exp((1 - alpha) * f_T * eta) - ops.exp(-alpha * f_T * eta))
            a_p = 3.0 * self.eps_p[pop] / R
            src = src + a_p * j
            # radial finite volumes: flux (mol/m2 of particle surface per s) through interface k
            flux = [0] + [-Ds * cmax * area[k] * (s[k] - s[k - 1]) / dr for k in range(1, N)] + [j / F]
            for k in range(N):
                res = F * (cmax * vol[k] * ddt(base + k) + flux[k + 1] - flux[k])
                R_particles += a_ref * res * v[base + k] * dxv
            R_particles += a_ref * ((s_surf - s[N - 1]) * F * Ds * cmax * 2.0 / dr + j) * v[base + N] * dxv
            s_avg = sum(vol[k] * s[k] for k in range(N)) * 3.0 / R
            inventory += self.eps_p[pop] * cmax * s_avg * dxv
            self.j[pop], self.sto_surf[pop] = j, s_surf
        R_e = (F * self.eps_e * ddt_ce * v[0] - src * v[0]) * dxv - F * N_e * v[0].dx(0) * dxm \
            - self.I_li_expr * v[0] * ds(LEFT)
        R_phie = -i_e * v[1].dx(0) * dxm - self.I_li_expr * v[1] * ds(LEFT) - src * v[1] * dxv
        R_phis = -i_s * v[2].dx(0) * dxm + self.I_app * v[2] * ds(RIGHT) + src * v[2] * dxv
        self.residual = R_e + R_phie + R_phis + R_particles
        self.jacobian = ufl.derivative(self.residual, u)
        self._voltage_form = fem.form(phis * ds(RIGHT))
        self._current_form = fem.form(self.I_li_expr * ds(LEFT))
        self._inventory_form = fem.form(inventory)
        self.V_set = fem.Constant(msh, PETSc.ScalarType(4.0))

    def _build_solvers(self) -> None:
        d = self.disc
        opts = {"snes_type": "newtonls", "snes_linesearch_type": "basic",
                "snes_rtol": d.newton_rtol, "snes_atol": d.newton_atol, "snes_stol": 1e-14,
                "snes_max_it": d.newton_max_it, "ksp_type": "preonly", "pc_type": "lu",
                "pc_factor_mat_solver_type": "mumps" if self.comm.size > 1 else "petsc", "snes_divergence_tolerance": 1e12,
                "pc_factor_mat_ordering_type": "natural", "snes_lag_jacobian": 2}
        V2, _ = self.V.sub(2).collapse()
        dofs = fem.locate_dofs_topological((self.V.sub(2), V2), 0, self.right_facets)
        vset = fem.Function(V2)
        self._vset_fn = vset
        bc = fem.dirichletbc(vset, dofs, self.V.sub(2))
        self.problems = {}
        limits = np.full(self.ncomp, 0.2)          # interior stoichiometry
        limits[0], limits[1], limits[2] = 1.0, 0.3, 0.3   # ln c_e, phi_e, phi_s (V)
        for ip in range(len(self.pops)):
            limits[3 + ip * (self.N + 1) + self.N] = 4.0  # logit of the surface stoichiometry
        def damp(x, y, *args) -> None:
            """Clip the Newton update of every unknown to its limit (a trust region per unknown)."""
            a = y.getArray().reshape(-1, self.ncomp)
            np.clip(a, -limits, limits, out=a)

        for mode, bcs in (("current", []), ("voltage", [bc])):
            prob = fem.petsc.NonlinearProblem(
                self.residual, self.u, bcs=bcs, J=self.jacobian,
                petsc_options_prefix=f"dfn_{mode}_{id(self)}_", petsc_options=opts,
                kind="baij" if self.comm.size == 1 else None)
            prob.solver.setLineSearchPreCheck(damp)
            self.problems[mode] = prob

    # ---- state -------------------------------------------------------------------------------
    def set_initial_state(self, sto: float) -> None:
        """Rest state: uniform electrolyte and particle stoichiometry ``sto``."""
        U0 = float(evaluate(self.cell.params.positive.ocp, np.array(sto)))
        arr = self.u.x.array.reshape(-1, self.ncomp)
        arr[:, 0] = 0.0
        arr[:, 1] = 0.0
        arr[:, 2] = U0
        arr[:, 3:] = sto
        for ip in range(len(self.pops)):
            arr[:, 3 + ip * (self.N + 1) + self.N] = np.log(sto / (1.0 - sto))
        self.u_n.x.array[:] = self.u.x.array
        self.u_nn.x.array[:] = self.u.x.array

    def relax_surface_guess(self) -> None:
        """Set the surface logits to their rest values (surface = outer control volume).

        Only an initial guess for the algebraic unknowns at a change of protocol step: after a
        discharge into saturation the logits are huge and Newton needs many clipped steps."""
        arr = self.u.x.array.reshape(-1, self.ncomp)
        for ip in range(len(self.pops)):
            base = 3 + ip * (self.N + 1)
            s = np.clip(arr[:, base + self.N - 1], 1e-6, 1 - 1e-6)
            arr[:, base + self.N] = np.log(s / (1 - s))

    def _scalar(self, form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def voltage(self) -> float:
        """Cell voltage phi_s(L) - phi_Li, V."""
        return self._scalar(self._voltage_form)

    def current(self) -> float:
        """Current density through the lithium foil (discharge positive), A/m2."""
        return self._scalar(self._current_form)

    def lithium_inventory(self) -> float:
        """Lithium in the electrolyte and all particles, mol/m2."""
        return self._scalar(self._inventory_form)

    # ---- one implicit step ---------------------------------------------------------------------
    def set_bdf(self, dt: float, dt_prev: float | None) -> tuple[float, float, float]:
        """Set the step and the BDF1 (``dt_prev`` None) or variable-step BDF2 coefficients."""
        if dt_prev is None:
            a = (1.0, -1.0, 0.0)
        else:
            w = dt / dt_prev
            a = ((1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w))
        self.dt.value = dt
        for c, val in zip(self.a, a):
            c.value = val
        return a

    def solve(self, mode: str, value: float, robust: bool = False) -> int:
        """Newton solve for the current step; returns SNES's converged reason (> 0: converged).

        ``robust``: on failure retry from the same guess with full Newton and 4x the iterations
        (used on the first step of a protocol step, where the algebraic unknowns jump)."""
        if mode == "voltage":
            self._vset_fn.x.array[:] = value
            self.I_app.value = 0.0
        else:
            self.I_app.value = value
        prob = self.problems[mode]
        guess = self.u.x.array.copy()
        reason = self._snes(prob)
        if reason <= 0 and robust:
            # robust retry from the same guess: full Newton (no Jacobian lag), 4x the iterations
            snes = prob.solver
            rtol, atol, stol, max_it = snes.getTolerances()
            self.u.x.array[:] = guess
            _set_lag(snes, 1)
            snes.setTolerances(max_it=4 * max_it)
            reason = self._snes(prob)
            _set_lag(snes, 2)
            snes.setTolerances(max_it=max_it)
        return reason

    def _snes(self, prob) -> int:
        try:
            prob.solve()
        except Exception as err:  # PETSc errors from NaN/Inf in assembly
            log.debug("solve raised %s", err)
            return -100
        reason = prob.solver.getConvergedReason()
        if reason > 0 and not np.all(np.isfinite(self.u.x.array)):
            return -101
        return reason

    def newton_iterations(self, mode: str) -> int:
        return self.problems[mode].solver.getIterationNumber()

    # ---- profiles ------------------------------------------------------------------------------
    def nodal_profiles(self) -> dict[str, np.ndarray]:
        """Depth profiles gathered on every rank, sorted by depth z (from the current collector)."""
        imap = self.V.dofmap.index_map
        nloc = imap.size_local
        x = self.V.tabulate_dof_coordinates()[:nloc, 0]
        vals = self.u.x.array.reshape(-1, self.ncomp)[:nloc]
        extra = {}
        if not hasattr(self, "_j_interp"):
            V1 = self.mask[self.pops[0]].function_space
            self._j_interp = {pop: (fem.Function(V1), fem.Expression(self.j[pop], V1.element.interpolation_points))
                              for pop in self.pops}
        for pop, (f, expr) in self._j_interp.items():
            f.interpolate(expr)
            extra[f"j_{pop}"] = f.x.array[:nloc].copy()
        allx = np.concatenate(self.comm.allgather(x))
        allv = np.concatenate(self.comm.allgather(vals))
        alle = {k: np.concatenate(self.comm.allgather(a)) for k, a in extra.items()}
        order = np.argsort(-allx)   # depth z = L - x ascending
        out = {"x": allx[order], "z": self.length_m - allx[order],
               "c_e": self.ce0 * np.exp(allv[order, 0]), "phi_e": allv[order, 1], "phi_s": allv[order, 2]}
        for ip, pop in enumerate(self.pops):
            base = 3 + ip * (self.N + 1)
            out[f"sto_surf_{pop}"] = 1.0 / (1.0 + np.exp(-allv[order, base + self.N]))
            out[f"sto_avg_{pop}"] = allv[order, base:base + self.N] @ self._shell_weights()
            out[f"j_{pop}"] = alle[f"j_{pop}"][order]
            out[f"present_{pop}"] = np.concatenate(self.comm.allgather(
                self.mask[pop].x.array[:nloc]))[order] > 0
        return out

    def _shell_weights(self) -> np.ndarray:
        r = np.arange(self.N + 1) / self.N
        return r[1:] ** 3 - r[:-1] ** 3

    def differential_mask(self) -> np.ndarray:
        """Boolean per component: True for the time-differentiated unknowns (error control)."""
        m = np.zeros(self.ncomp, dtype=bool)
        m[0] = True
        for ip in range(len(self.pops)):
            base = 3 + ip * (self.N + 1)
            m[base:base + self.N] = True
        return m
