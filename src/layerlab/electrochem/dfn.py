"""Doyle-Fuller-Newman cell in dolfinx/PETSc: half cell (Li metal | separator | layered cathode, the
default) or full cell (porous graphite anode | separator | layered cathode, ``cell.anode`` set).

Discretisation
--------------
* ``x`` (Li foil or anode current collector at 0, cathode current collector at ``L``): P1 finite
  elements on a 1D mesh whose nodes fall on every layer boundary; cellwise (DG0) porosity, transport efficiency, conductivity and
  active fraction per population.
* All unknowns live in ONE blocked P1 space, its components per node named by the
  :class:`~layerlab.electrochem.layout.UnknownLayout` (``model.layout``):
  ``ln(c_e / c_e0)``, ``phi_e``, ``phi_s``, and for each population: N radial control volumes of
  stoichiometry plus the logit of the surface stoichiometry (so 0 < c_e and 0 < c_surf < c_max hold
  by construction; the approach to saturation that ends a discharge is resolved).  The radial finite-volume coupling is algebraic
  within a node, so the whole DFN is one nonlinear problem for Newton (SNES with MUMPS LU; on one rank
  an LU of the Jacobian's structural nonzeros only, :mod:`.sparse_jacobian`, and by default the chord
  Newton of :mod:`.newton` that reuses that Jacobian across iterations and steps) with a banded Jacobian; particles of two populations coexist at the same depth.  Particle, reaction
  and storage terms use the vertex quadrature rule (nodal lumping): each node carries its own
  particles, and the discrete lithium inventory is conserved exactly (to solver tolerance).
  Particles of a population absent around a node are masked (no reaction: they stay put).
* ``phi_s`` is extended into the separator with a zero-source Laplace equation and a zero-flux
  end: it takes the value at the separator/cathode boundary and draws no current there.
* Full cell: extra components after the cathode populations: ``phi_s`` of the anode (grounded,
  ``phi_s,n(0) = 0``, extended over separator and cathode like ``phi_s``), the graphite particle
  (N radial volumes + surface logit), and with SEI growth (:mod:`layerlab.electrochem.sei`) the film
  thickness ``L_sei / L_sei,0`` and the total anode interfacial current ``j_tot`` (algebraic: the
  film drop ``j_tot R_film`` enters the intercalation overpotential).  No flux of anything at
  either current collector.
* Contact resistance ``R_c`` (``positive.contact_resistance_ohm_m2``): terminal voltage
  ``V = phi_s(L) - I R_c``; in CV mode (R_c > 0) the collector current is ``(phi_s(L) - V) / R_c``
  (a Robin condition), so CV holds the terminal voltage.
* Time: variable-step BDF2 (BDF1 on the first step of each protocol step), see
  :mod:`layerlab.electrochem.integrator`.
* The residual is the sum of physical terms (:mod:`layerlab.electrochem.terms`: electrolyte,
  solid conduction, one per particle population, Li foil or graphite anode, SEI growth, contact
  resistance), chosen by :func:`~layerlab.electrochem.terms.terms_for` from the configuration;
  the terms' blocks, in order, make the layout.

Equations (SI, ``j`` = anodic reaction current per particle surface, A/m2)::

    eps dc_e/dt + d/dx(-D_eff dc_e/dx + t+ i_e / F) = sum_p a_p j_p / F
    d i_e/dx = sum_p a_p j_p,   i_e = -kappa_eff (dphi_e/dx - 2 RT/F (1 - t+) TDF dln c_e/dx)
    d i_s/dx = -sum_p a_p j_p,  i_s = -sigma_eff dphi_s/dx
    j_p = j0 (exp((1-alpha) F eta / RT) - exp(-alpha F eta / RT)),  eta = phi_s - phi_e - U(c_surf)
    Li foil (x = 0): i_e = I_Li = j0_Li (...)(eta_Li = -phi_e(0));  CC: i_s(L) = I;  CV: phi_s(L) = V
    Graphite (full cell): d i_s,n/dx = -a_n j_tot, j_tot = j_n + j_sei,
                          eta_n = phi_s,n - phi_e - U_n(c_surf) - j_tot R_film
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from layerlab.electrochem.cell import HalfCell
from layerlab.electrochem.electrolyte import evaluate, ocp_range_V, ufl_ops
from layerlab.electrochem.layout import GRAPHITE
from layerlab.electrochem import sei as sei_mod
from layerlab.electrochem.newton import ChordNewton
from layerlab.electrochem.sparse_jacobian import SparseJacobian
from layerlab.electrochem.terms import LEFT, RIGHT, FormContext, Term, assemble_terms, layout_for, terms_for
from layerlab.errors import SolverError, require
from layerlab.fe import MPI, PETSc, fem, mesh, ufl

LOGIT_MAX = 200.0
"""Bound of the surface logits in Newton iterates: s(1 - s) = e^-200 is far below round-off already."""
SATURATED_LOGIT = float(np.log(999.0))
"""A surface logit above this is a stoichiometry above 0.999 (below minus it: under 0.001)."""
ROUNDOFF_ATOL_FACTOR = 10.0
ROUNDOFF_RTOL = 1e-8
"""A Newton solve stalled at most ``max(ROUNDOFF_ATOL_FACTOR x atol, ROUNDOFF_RTOL x |F_0|)`` above zero
counts as converged (the floor of a surface saturated to round-off, DFNModel._at_roundoff)."""

log = logging.getLogger("layerlab.electrochem")


def stalled_at_roundoff(history, atol: float) -> bool:
    """Residual norms ``history`` (one per iteration) ended at the round-off floor:
    ``|F| <= max(ROUNDOFF_ATOL_FACTOR x atol, ROUNDOFF_RTOL x |F_0|)`` and the last three
    iterations did not halve it (see ``DFNModel._at_roundoff``)."""
    h = np.asarray(history)
    return bool(h.size >= 4 and h[-1] <= max(ROUNDOFF_ATOL_FACTOR * atol, ROUNDOFF_RTOL * h[0])
                and h[-1] >= 0.5 * h[-4])



@dataclass(frozen=True)
class Discretisation:
    """Mesh, radial and solver resolution (defaults: PyBaMM-like, 20 points per region and in r)."""

    cells_separator: int = 10
    cells_cathode: int = 30
    cells_anode: int = 20
    radial_volumes: int = 12
    min_cells_per_layer: int = 3
    time_rtol: float = 2e-3
    time_atol: float = 2e-4
    dt_initial_s: float = 1.0
    dt_max_s: float = 600.0
    newton_rtol: float = 1e-8       # |F| <= max(newton_atol, newton_rtol |F_0|) (1e-10 until 2026-12-08: 1e-8
    # takes 14 % fewer iterations on the rate test; lithium conserved to 1e-11 there, the tests' 1e-8 holds)
    newton_atol: float = 1e-10
    newton_max_it: int = 15
    max_halvings: int = 8
    newton: str = "chord"

    # newton: "chord" (one rank, the default: the Jacobian split K + (a0/dt) M reused across
    # iterations and steps, the same stopping test as snes; electrochem/newton.py) or "snes"
    # (PETSc Newton, Jacobian assembled every 2nd iteration: the reference, and what runs on
    # several ranks whatever this says)

    def __post_init__(self) -> None:
        for f in ("cells_separator", "cells_cathode", "cells_anode", "radial_volumes", "min_cells_per_layer"):
            require(getattr(self, f) >= 1, f"electrochem.discretisation.{f}", f"got {getattr(self, f)}", ">= 1")
        require(self.newton in ("chord", "snes"), "electrochem.discretisation.newton",
                f"got {self.newton!r}", "'chord' or 'snes'")
        for f in ("time_rtol", "time_atol", "dt_initial_s", "dt_max_s"):
            require(getattr(self, f) > 0, f"electrochem.discretisation.{f}", f"got {getattr(self, f)}", "> 0")

    def refined(self, factor: int = 2, radial_factor: float | None = None) -> "Discretisation":
        """Mesh cells x ``factor``, radial volumes x ``radial_factor`` (default ``factor``),
        time tolerances / ``factor**2``."""
        import dataclasses
        rf = factor if radial_factor is None else radial_factor
        return dataclasses.replace(self, cells_separator=self.cells_separator * factor,
                                   cells_cathode=self.cells_cathode * factor,
                                   cells_anode=self.cells_anode * factor,
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


class SolverFailure(SolverError):
    """The nonlinear solve failed even after the allowed step halvings."""


def _node_coordinates(cell: HalfCell, disc: Discretisation) -> np.ndarray:
    """Mesh nodes (x from the Li foil / anode collector), with a node on every layer boundary."""
    La = cell.anode_thickness_m
    L_sep = cell.params.separator.thickness_m
    H = cell.cathode.thickness_m
    nodes = [np.linspace(0.0, La, disc.cells_anode + 1)[:-1]] if La > 0 else []
    nodes.append(np.linspace(La, La + L_sep, disc.cells_separator + 1))
    x0 = La + L_sep
    for lay in reversed(cell.cathode.layers):          # separator side first
        n = max(disc.min_cells_per_layer, int(round(disc.cells_cathode * lay.thickness_m / H)))
        nodes.append(np.linspace(x0, x0 + lay.thickness_m, n + 1)[1:])
        x0 += lay.thickness_m
    return np.concatenate(nodes)


class DFNModel:
    """The discretised DFN cell (half cell, or full cell when ``cell.anode`` is set).

    Parameters
    ----------
    cell : parameters, cathode layers (and anode)
    disc : resolution and solver settings
    comm : MPI communicator over which the 1D mesh is distributed
    sei : SEI growth model on the graphite (full cell only; one of ``sei.SEI_MODELS``)
    extra_terms : physical terms appended to those the configuration chooses
        (:func:`~layerlab.electrochem.terms.terms_for`); each instance belongs to one model
    """

    def __init__(self, cell: HalfCell, disc: Discretisation | None = None,
                 comm: MPI.Comm = MPI.COMM_WORLD, sei: str = "none", extra_terms: Sequence[Term] = ()) -> None:
        self.cell = cell
        self.disc = disc or Discretisation()
        self.comm = comm
        self.pops = cell.cathode.populations
        self.N = self.disc.radial_volumes
        self.full = cell.anode is not None
        sei_mod.check_sei_model(sei, cell.params.sei)
        require(sei == "none" or self.full, "fullcell.sei.model", f"got {sei!r} for a half cell",
                "'none' (SEI grows on the graphite of a full cell)")
        self.sei = sei
        self.terms = terms_for(cell, sei) + list(extra_terms)
        self.layout = layout_for(self.terms, self.N)
        self.ncomp = self.layout.size
        self._build_mesh()
        self._build_coefficients()
        self._build_forms()
        self._build_solvers()
        self.set_initial_state(cell.params.positive.initial_stoichiometry)
        self.ocp_min_V = ocp_range_V(cell.params.positive.ocp)[0]
        if self.full:       # a full cell ends a discharge on saturation whatever its voltage
            self.ocp_min_V = np.inf

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
        La = self.cell.anode_thickness_m
        L_sep = p.separator.thickness_m
        in_cathode = mid > La + L_sep
        in_anode = mid < La
        # layer index of each cathode cell (layers listed from the current collector up)
        bounds = np.cumsum([0.0] + [lay.thickness_m for lay in cath.layers])
        idx = np.clip(np.searchsorted(bounds, z) - 1, 0, len(cath.layers) - 1)
        b_e = p.positive.bruggeman_electrolyte

        cell_dofs = Q.dofmap.list[:ncell, 0]
        self._cell_values: dict[int, np.ndarray] = {}

        def cellwise(sep_value: float, layer_value, anode_value: float | None = None) -> fem.Function:
            f = fem.Function(Q)
            vals = np.array([layer_value(cath.layers[i]) for i in idx])
            cell_vals = np.where(in_cathode, vals, sep_value)
            if anode_value is not None:
                cell_vals = np.where(in_anode, anode_value, cell_vals)
            f.x.array[cell_dofs] = cell_vals
            self._cell_values[id(f)] = cell_vals
            return f

        sep_tau = self.cell.separator_tortuosity or p.separator.porosity ** (1 - p.separator.bruggeman)
        an, neg = self.cell.anode, p.negative
        eps_n = an.porosity if an is not None else None
        B_n = None
        if an is not None:
            B_n = eps_n / (an.tortuosity if an.tortuosity is not None else eps_n ** (1 - neg.bruggeman_electrolyte))
        self.eps_e = cellwise(p.separator.porosity, lambda lay: lay.porosity, eps_n)
        self.B_e = cellwise(p.separator.porosity / sep_tau,
                            lambda lay: lay.porosity / (lay.tortuosity if lay.tortuosity is not None
                                                        else lay.porosity ** (1 - b_e)), B_n)
        sigma = p.positive.electronic_conductivity_S_m
        b_s = p.positive.bruggeman_electrode
        # separator: an arbitrary positive conductivity (phi_s is extended with zero flux)
        self.sigma_eff = cellwise(sigma, lambda lay: (lay.electronic_conductivity_S_m
                                                      if lay.electronic_conductivity_S_m is not None
                                                      else sigma * (1 - lay.porosity) ** b_s))
        self.eps_p = {pop: cellwise(0.0, lambda lay, pop=pop: lay.active_fraction.get(pop, 0.0),
                                    0.0 if an is not None else None)
                      for pop in self.pops}
        # nodal mask: population present in a cell next to the node
        V1 = fem.functionspace(msh, ("Lagrange", 1))

        def nodal_mask(f: fem.Function) -> fem.Function:
            m = fem.Function(V1)
            vals = self._cell_values[id(f)]
            cells = np.flatnonzero(vals > 0).astype(np.int32)
            dofs = np.unique(V1.dofmap.list[cells].ravel())
            m.x.array[dofs] = 1.0
            m.x.scatter_forward()
            return m

        self.mask = {pop: nodal_mask(self.eps_p[pop]) for pop in self.pops}
        if an is not None:
            self.eps_n = cellwise(0.0, lambda lay: 0.0, an.active_fraction)
            self.sigma_n_eff = cellwise(neg.electronic_conductivity_S_m, lambda lay: neg.electronic_conductivity_S_m,
                                        neg.electronic_conductivity_S_m * (1 - an.porosity) ** neg.bruggeman_electrode)
            self.mask_n = nodal_mask(self.eps_n)

    def _build_forms(self) -> None:
        """The residual, its Jacobian and the scalar outputs from the terms (:mod:`.terms`)."""
        msh = self.mesh
        self.V = fem.functionspace(msh, ("Lagrange", 1, (self.ncomp,)))
        self.u, self.u_n, self.u_nn = fem.Function(self.V), fem.Function(self.V), fem.Function(self.V)
        # controls: applied current, CV set point, Robin switch (CV with contact resistance), BDF
        self.I_app = fem.Constant(msh, PETSc.ScalarType(0.0))
        self.V_set = fem.Constant(msh, PETSc.ScalarType(4.0))
        self.robin = fem.Constant(msh, PETSc.ScalarType(0.0))
        self.dt = fem.Constant(msh, PETSc.ScalarType(1.0))
        self.a = [fem.Constant(msh, PETSc.ScalarType(c)) for c in (1.0, -1.0, 0.0)]
        self.R_c = self.cell.params.positive.contact_resistance_ohm_m2
        self.ce0 = self.cell.params.electrolyte.initial_concentration_mol_m3
        # Flux terms: 2-point Gauss.  (Measured: with a 1-point rule here, FFCx merged these integrals
        # with the vertex-rule ones in the residual but not in the Jacobian; Newton then converged
        # only linearly.  Distinct degrees keep the two rules apart.)
        ctx = FormContext(model=self, u=self.u, u_n=self.u_n, u_nn=self.u_nn, v=ufl.TestFunction(self.V),
                          ops=ufl_ops(),
                          dxv=ufl.dx(metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}),
                          dxm=ufl.dx(metadata={"quadrature_degree": 2}),
                          ds=ufl.Measure("ds", domain=msh, subdomain_data=self.facet_tags))
        self.residual, inventory, functionals = assemble_terms(ctx, self.terms)
        self.jacobian = ufl.derivative(self.residual, self.u)
        var = ctx.variables
        self.j = {pop: var[f"reaction_current:{pop}"] for pop in self.pops}
        self.sto_surf = {pop: var[f"surface_stoichiometry:{pop}"] for pop in self.pops}
        self._voltage_form = fem.form(var["phi_s"] * ctx.ds(RIGHT))
        self._current_form = fem.form(ctx.cell_current)
        self._inventory_form = fem.form(inventory)
        self._functional_forms = {k: fem.form(f) for k, f in functionals.items()}

    def _build_solvers(self) -> None:
        d = self.disc
        opts = {"snes_type": "newtonls", "snes_linesearch_type": "basic",
                "snes_rtol": d.newton_rtol, "snes_atol": d.newton_atol, "snes_stol": 1e-14,
                "snes_max_it": d.newton_max_it, "ksp_type": "preonly", "pc_type": "lu",
                "pc_factor_mat_solver_type": "mumps" if self.comm.size > 1 else "petsc", "snes_divergence_tolerance": 1e12,
                "pc_factor_mat_ordering_type": "natural", "snes_lag_jacobian": 2,
                # a surface saturated to round-off (logit > ~37) leaves its logit column ~0: shift that
                # pivot instead of failing the LU (no effect on any other factorisation)
                "pc_factor_shift_type": "nonzero"}
        isl = self.layout.phi_s
        V2, _ = self.V.sub(isl).collapse()
        dofs = fem.locate_dofs_topological((self.V.sub(isl), V2), 0, self.right_facets)
        vset = fem.Function(V2)
        self._vset_fn = vset
        bc = fem.dirichletbc(vset, dofs, self.V.sub(isl))
        ground = []
        if self.full:       # anode collector grounded: phi_s,n(0) = 0
            i_phisn = self.layout.index("phi_s_anode")
            Vn, _ = self.V.sub(i_phisn).collapse()
            left = self.facet_tags.find(LEFT)
            gdofs = fem.locate_dofs_topological((self.V.sub(i_phisn), Vn), 0, left)
            self._ground_fn = fem.Function(Vn)
            ground = [fem.dirichletbc(self._ground_fn, gdofs, self.V.sub(i_phisn))]
        cv_bcs = ground + ([bc] if self.R_c == 0 else [])
        self.problems = {}
        self._sparse_jacobians: dict[str, SparseJacobian] = {}
        self._chord: dict[str, ChordNewton] = {}
        limits = self.layout.newton_limits()
        logits = np.array([b[-1] for b in self.layout.particles], dtype=int)

        def damp(x, y, *args) -> None:
            """Clip the Newton update of every unknown to its limit (a trust region per unknown), and
            keep surface logits within +-LOGIT_MAX (exp(-logit) must not overflow)."""
            a = y.getArray().reshape(-1, self.ncomp)
            np.clip(a, -limits, limits, out=a)
            xa = x.getArray(readonly=True).reshape(-1, self.ncomp)[:, logits]
            a[:, logits] = np.clip(a[:, logits], xa - LOGIT_MAX, xa + LOGIT_MAX)

        for mode, bcs in (("current", ground), ("voltage", cv_bcs)):
            prob = fem.petsc.NonlinearProblem(
                self.residual, self.u, bcs=bcs, J=self.jacobian,
                petsc_options_prefix=f"dfn_{mode}_{id(self)}_", petsc_options=opts,
                kind="baij" if self.comm.size == 1 else None)
            prob.solver.setLineSearchPreCheck(damp)
            prob.solver.setConvergenceHistory(length=256, reset=True)   # read by _at_roundoff
            if self.comm.size == 1:      # LU of the structural nonzeros only (sparse_jacobian.py)
                sj = SparseJacobian(prob.A, prob.J, self.u, bcs, [self.I_app, self.V_set, self.robin, self.dt, *self.a])
                prob.solver.setJacobian(sj.snes_callback, sj.mat, sj.mat)
                self._sparse_jacobians[mode] = sj
                if not bcs:              # no Dirichlet lifting to apply: assemble F alone
                    prob.solver.setFunction(self._residual_callback(prob.F), prob.b)
                if d.newton == "chord":
                    ndof = self.u.x.array.size // self.ncomp
                    logit_dofs = (np.arange(ndof)[:, None] * self.ncomp + logits[None, :]).ravel()
                    self._chord[mode] = ChordNewton(prob.F, self.u, prob.b, sj, bcs, limits, self.dt,
                                                    d.newton_rtol, d.newton_atol, d.newton_max_it,
                                                    logit_dofs, LOGIT_MAX, stalled_at_roundoff)
            self.problems[mode] = prob

    def _residual_callback(self, form):
        """``SNES.setFunction`` callback without boundary conditions, one rank: ``u`` from the
        iterate, the residual assembled (dolfinx's callback also applies the lifting of Dirichlet
        conditions, which costs a coefficient packing per call even without any)."""
        u = self.u

        def residual(snes: PETSc.SNES, x: PETSc.Vec, b: PETSc.Vec) -> None:
            u.x.array[:] = x.getArray(readonly=True)
            with b.localForm() as loc:
                loc.set(0.0)
            fem.petsc.assemble_vector(b, form)
        return residual

    # ---- state -------------------------------------------------------------------------------
    def set_initial_state(self, sto: float, anode_sto: float | None = None) -> None:
        """Rest state: uniform electrolyte and cathode stoichiometry ``sto`` (full cell: graphite
        at ``anode_sto``, default ``negative.initial_stoichiometry``; phi_s,n = 0, phi_e = -U_n)."""
        U0 = float(evaluate(self.cell.params.positive.ocp, np.array(sto)))
        lay = self.layout
        arr = self.u.x.array.reshape(-1, self.ncomp)
        arr[:, lay.ln_c_e] = 0.0
        arr[:, lay.phi_e] = 0.0
        arr[:, lay.phi_s] = U0
        for pop in self.pops:
            b = lay.particle(pop)
            arr[:, b.start:b[-1]] = sto
            arr[:, b[-1]] = np.log(sto / (1.0 - sto))
        if self.full:
            sn = self.cell.params.negative.initial_stoichiometry if anode_sto is None else anode_sto
            require(0 < sn < 1, "negative.initial_stoichiometry", f"got {sn!r}", "(0, 1)")
            Un = float(evaluate(self.cell.params.negative.ocp, np.array(sn)))
            arr[:, lay.phi_e] = -Un
            arr[:, lay.phi_s] = U0 - Un
            arr[:, lay.index("phi_s_anode")] = 0.0
            b = lay.particle(GRAPHITE)
            arr[:, b.start:b[-1]] = sn
            arr[:, b[-1]] = np.log(sn / (1.0 - sn))
            if self.sei != "none":
                arr[:, lay.index("sei_thickness")] = 1.0
                arr[:, lay.index("j_tot_anode")] = 0.0
        self.u_n.x.array[:] = self.u.x.array
        self.u_nn.x.array[:] = self.u.x.array

    def relax_surface_guess(self) -> None:
        """Set the surface logits to their rest values (surface = outer control volume).

        Only an initial guess for the algebraic unknowns at a change of protocol step: after a
        discharge into saturation the logits are huge and Newton needs many clipped steps."""
        arr = self.u.x.array.reshape(-1, self.ncomp)
        for b in self.layout.particles:
            s = np.clip(arr[:, b[-2]], 1e-6, 1 - 1e-6)
            arr[:, b[-1]] = np.log(s / (1 - s))

    def _scalar(self, form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def voltage(self) -> float:
        """Terminal voltage phi_s(L) - I R_c - phi_Li (half cell) or - phi_s,n(0) = 0 (full cell), V."""
        V = self._scalar(self._voltage_form)
        return V - self.R_c * self.current() if self.R_c > 0 else V

    def current(self) -> float:
        """Cell current density (discharge positive), A/m2: through the lithium foil (half cell) or
        the total anode interfacial current (full cell; SEI current included)."""
        return self._scalar(self._current_form)

    def lithium_inventory(self) -> float:
        """Cyclable lithium in the electrolyte and all particles (both electrodes), mol/m2."""
        return self._scalar(self._inventory_form)

    def sei_current(self) -> float:
        """SEI side-reaction current per electrode area (negative: lithium consumed), A/m2."""
        return self._scalar(self._functional_forms["sei_current"]) if self.sei != "none" else 0.0

    def sei_lithium(self) -> float:
        """Lithium bound in SEI grown since the start, mol/m2 of electrode."""
        return self._scalar(self._functional_forms["sei_lithium"]) if self.sei != "none" else 0.0

    def saturated(self) -> bool:
        """All reacting cathode surfaces saturated (> 0.999), or all graphite surfaces empty (< 0.001)."""
        u, inf = self.u.x.array, float("inf")
        logits = [u[self._present_dofs(p, surface=True)] for p in self.pops]
        low = min((float(x.min()) for x in logits if x.size), default=inf)      # smallest cathode surface logit
        sat = self.comm.allreduce(low, op=MPI.MIN) > SATURATED_LOGIT
        if self.full:
            x = u[self._present_dofs(GRAPHITE, surface=True)]
            high = float(x.max()) if x.size else -inf
            sat = sat or self.comm.allreduce(high, op=MPI.MAX) < -SATURATED_LOGIT
        return bool(sat)

    def _present_dofs(self, pop: str, surface: bool) -> np.ndarray:
        """Indices into ``u`` of population ``pop``'s surface logit (``surface``) or radial control
        volumes at the owned nodes where it is present (the masks are fixed at construction: cached)."""
        cache = self.__dict__.setdefault("_present_dof_index", {})
        if (pop, surface) not in cache:
            nloc = self.V.dofmap.index_map.size_local
            mask = self.mask_n if pop == GRAPHITE else self.mask[pop]
            b = self.layout.particle(pop)
            comps = np.array([b[-1]]) if surface else np.arange(b.start, b[-1])
            nodes = np.flatnonzero(mask.x.array[:nloc] > 0)
            cache[(pop, surface)] = (nodes[:, None] * self.ncomp + comps[None, :]).ravel()
        return cache[(pop, surface)]

    def stoichiometry_excess(self) -> float:
        """Largest excursion of a radial control-volume stoichiometry outside [0, 1] (0 if none),
        over the nodes where its population is present, all ranks.

        The surface stoichiometry is a logistic function of its unknown, always inside (0, 1); the
        control volumes are not bounded.  A BDF2 step can overshoot 1 next to a surface that has just
        saturated (BDF2 is not monotone), and from such a state the discrete problem has no
        solution: diffusion would carry lithium out through a surface whose exchange current is
        zero (the Newton residual stalls at the overshoot's size).  The integrator rejects such steps.
        """
        pops = [*self.pops, GRAPHITE] if self.full else list(self.pops)
        s = self.u.x.array[np.concatenate([self._present_dofs(p, surface=False) for p in pops])]
        worst = max(float(s.max()) - 1.0, -float(s.min()), 0.0) if s.size else 0.0
        return self.comm.allreduce(worst, op=MPI.MAX)

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
            self.V_set.value = value
            self.robin.value = 1.0
            self.I_app.value = 0.0
        else:
            self.robin.value = 0.0
            self.I_app.value = value
        if mode in self._chord:
            ch, gamma = self._chord[mode], float(self.a[0].value) / float(self.dt.value)
            guess = self.u.x.array.copy()
            reason = ch.solve(gamma)
            if reason <= 0 and robust:     # as below: full Newton, 4x the iterations
                self.u.x.array[:] = guess
                ch.max_it *= 4
                try:
                    reason = ch.solve(gamma, full=True)
                finally:
                    ch.max_it //= 4
            if reason > 0 or not robust:
                return reason
            # the chord's divergence test gave up: the reference SNES path (line search, no such test)
            self.u.x.array[:] = guess
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
        if reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT and self._at_roundoff(prob.solver):
            reason = PETSc.SNES.ConvergedReason.CONVERGED_FNORM_ABS
        if reason > 0 and not np.all(np.isfinite(self.u.x.array)):
            return -101
        return reason

    def _at_roundoff(self, snes: PETSc.SNES) -> bool:
        """Newton stalled at the round-off floor: ``|F| <= max(ROUNDOFF_ATOL_FACTOR x atol,
        ROUNDOFF_RTOL x |F_0|)`` and the last three iterations did not halve it.  A surface saturated to round-off (s_surf = 1.0 in double,
        the outer volume 1 - 1e-16) cannot balance its flux row below ``K eps`` (~1e-10 here), just
        at the absolute tolerance; during a charge from such a state (overpotential ~1.7 V against an
        exchange current ~e^-33) the floor of its node's charge rows was 7e-9 for |F_0| ~ 0.3-4.
        That is a converged solve, not a failure."""
        return stalled_at_roundoff(snes.getConvergenceHistory()[0], snes.getTolerances()[1])

    def close(self) -> None:
        """Destroy the PETSc objects now (MPICH allows 2048 communicators per process and every
        model holds several until destroyed: a calibration builds hundreds of models)."""
        for prob in self.problems.values():
            for obj in (prob.solver, prob.A, prob.b, prob.x):
                obj.destroy()
        for sj in self._sparse_jacobians.values():
            sj.destroy()
        for ch in self._chord.values():
            ch.destroy()
        self.problems, self._sparse_jacobians, self._chord = {}, {}, {}

    def newton_iterations(self, mode: str) -> int:
        if mode in self._chord:
            return self._chord[mode].iterations
        return self.problems[mode].solver.getIterationNumber()

    def jacobian_evaluations(self) -> int:
        """Jacobian refreshes by the chord solver so far (0 on the SNES path)."""
        return sum(ch.jacobians for ch in self._chord.values())

    # ---- profiles ------------------------------------------------------------------------------
    def nodal_profiles(self) -> dict[str, np.ndarray]:
        """Depth profiles gathered on every rank, sorted by depth z (from the current collector)."""
        lay = self.layout
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
               "c_e": self.ce0 * np.exp(allv[order, lay.ln_c_e]), "phi_e": allv[order, lay.phi_e],
               "phi_s": allv[order, lay.phi_s]}
        for pop in self.pops:
            b = lay.particle(pop)
            out[f"sto_surf_{pop}"] = 1.0 / (1.0 + np.exp(-allv[order, b[-1]]))
            out[f"sto_avg_{pop}"] = allv[order, b.start:b[-1]] @ self._shell_weights()
            out[f"j_{pop}"] = alle[f"j_{pop}"][order]
            out[f"present_{pop}"] = np.concatenate(self.comm.allgather(
                self.mask[pop].x.array[:nloc]))[order] > 0
        if self.full:
            b = lay.particle(GRAPHITE)
            out["phi_s_anode"] = allv[order, lay.index("phi_s_anode")]
            out["sto_surf_graphite"] = 1.0 / (1.0 + np.exp(-allv[order, b[-1]]))
            out["sto_avg_graphite"] = allv[order, b.start:b[-1]] @ self._shell_weights()
            out["present_graphite"] = np.concatenate(self.comm.allgather(self.mask_n.x.array[:nloc]))[order] > 0
            if self.sei != "none":
                out["sei_thickness"] = allv[order, lay.index("sei_thickness")] * self.cell.params.sei.initial_thickness_m
        return out

    def _shell_weights(self) -> np.ndarray:
        r = np.arange(self.N + 1) / self.N
        return r[1:] ** 3 - r[:-1] ** 3

    def differential_mask(self) -> np.ndarray:
        """Boolean per component: True for the time-differentiated unknowns (error control)."""
        return self.layout.differential_mask()
