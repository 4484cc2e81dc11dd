"""Microstructure-resolved half cell: the weak forms on a two-phase mesh (dolfinx multi-domain).

Unknowns (P1 each, one function space per unknown): electrolyte concentration ``c_e`` (mol/m3)
and potential ``phi_e`` (V) on the electrolyte submesh (pores + separator), particle
stoichiometry ``s = c_s / c_max`` and potential ``phi_s`` (V) on the solid submesh.  All
integrals are taken over the parent mesh with entity maps (NOTES.md, "Two domains coupled at an
interface"); at the particle surface ``"+"`` is always the electrolyte cell.

Equations (SI; ``j`` = anodic reaction current density on the particle surface, A/m2; the same
material functions and parameters as the DFN of :mod:`layerlab.electrochem`)::

    pores:      eps dc_e/dt + div N_e = 0,  N_e = -B D(c_e) grad c_e + t+ i_e / F
                div i_e = 0,  i_e = -B kappa(c_e) (grad phi_e - 2 RT/F (1 - t+) TDF grad ln c_e)
                (eps = B = 1 in the pores; eps, B = eps / tau of the separator in its cells)
    particles:  c_max ds/dt - div(D_s c_max grad s) = 0,  div i_s = 0,  i_s = -sigma grad phi_s
    surface:    N_e.n_e = -j/F, i_e.n_e = -j, (D_s c_max grad s).n_s = -j/F, i_s.n_s = j,
                j = j0 (exp((1-a) f eta) - exp(-a f eta)),  eta = phi_s - phi_e - U(s),
                j0 = k sqrt(c_e) c_max sqrt(s (1 - s))
    top:        Li metal, Butler-Volmer with eta_Li = -phi_e (phi_Li = 0): N_e.n = -I_Li/F, i_e.n = -I_Li
    collector:  ``collector="equipotential"`` (default): one conductor at the terminal voltage V,
                i_s.n = G (phi_s - V) on the particle facets with int = I_app A_box (galvanostatic,
                discharge > 0; G a contact conductance sigma / h_mean, so G (phi_s - V) is about
                the drop across one cell, -> 0 with h; :mod:`layerlab.resolved.collector`); ``"uniform"``:
                i_s.n = I_app A_box / A_contact, the voltage the mean of phi_s over the facets
                (separate particle clusters on the collector then share the current by contact area).
    binder:     with conducting pores (:mod:`layerlab.resolved.domains`, the 2D runs) phi_s also
                lives in the electrode pores, div(-sigma_b grad phi_s) = 0 there (sigma_b: the
                effective conductivity of the carbon-binder network per pore volume), and the
                collector condition applies on the whole collector line.

The equations hold in 2D and 3D (2D: per metre of depth, so per m2 of current collector).

The blocks of ``c_e`` and ``s`` are multiplied by F so that every residual is in amperes.
Lithium (electrolyte + particles) changes exactly by the time integral of the foil current / F
(implicit Euler with these forms; the test function 1 lies in every space).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from layerlab.electrochem.electrolyte import evaluate, ocp_range_V, transport, ufl_ops
from layerlab.electrochem.parameters import FARADAY, ParameterSet
from layerlab.fe import MPI, PETSc, fem, ufl
from layerlab.geometry import tags as T
from layerlab.resolved.domains import BINDER, Phases

E, P, S = T.ELECTROLYTE, T.PARTICLES, T.SEPARATOR
CC, TOP, IFC = T.CURRENT_COLLECTOR, T.TOP, T.INTERFACE
log = logging.getLogger("layerlab.resolved")
FIELDS = ("ce", "phie", "s", "phis")     # unknowns in block order (field-split names)
COLLECTORS = ("equipotential", "uniform")


@dataclass(frozen=True)
class SolverSettings:
    """Newton and linear-solver settings.

    linear : ``"mumps"`` (direct LU, default), ``"gmres-asm"`` (GMRES with additive Schwarz /
        ILU(1) blocks) or ``"gmres-fieldsplit"`` (GMRES, multiplicative field split with GAMG per
        unknown; measured 10-40x slower than MUMPS on the 3D benchmark, kept for experiments)
    jacobian_lag : 0: adaptive reuse (modified Newton): the factorised Jacobian is kept across
        Newton iterations and time steps and rebuilt only when a solve needed more than
        ``rebuild_its`` iterations, when the step length differs from the one it was built with by
        more than ``rebuild_dt_ratio``, or when a solve with it fails (then retried with a fresh
        one); within a solve it is also rebuilt at once when the residual norm contracts by less
        than ``refresh_ratio`` in an undamped iteration, or grows in a damped one (a residual form
        of the rate test of the simplified Newton method, Hairer & Wanner, "Solving Ordinary
        Differential Equations II", 2nd ed., Springer 1996, Sec. IV.8; ``None``: never);
        1: full Newton; N > 1: rebuild every N Newton iterations, counted across steps
    predictor : start Newton from the linear extrapolation in time of the last two accepted
        states (same current only)
    """

    newton_rtol: float = 1e-11
    newton_atol_rel: float = 1e-9
    newton_max_it: int = 12
    linear: str = "mumps"
    jacobian_lag: int = 0
    rebuild_its: int = 14        # 12 until 2026-12-08: a kept Jacobian after a 1.5x step growth takes 13-14
                                 # its, which blocked the next growth (Runner: easy step), so the ramp from
                                 # dt 1 s grew every other step (README, resolved 3D "Cost")
    rebuild_dt_ratio: float = 1.6
    stale_max_it: int = 20
    refresh_ratio: float | None = 0.5   # jacobian_lag 0: rebuild within a solve when |F_k| > this |F_k-1|
    predictor: bool = True
    mumps_blr_tol: float = 0.0   # > 0: MUMPS block low-rank factorisation with this dropping tolerance
    linear_rtol: float = 1e-8    # Krylov tolerance of the iterative linear solvers
    petsc_options: tuple[tuple[str, str | int | float], ...] = ()   # extra SNES/KSP/PC options


def assemble_residual(x: "PETSc.Vec", b: "PETSc.Vec", u: list, forms: list, blocks: tuple) -> None:
    """``fem.petsc.assemble_residual`` at ``x`` into ``b`` without Dirichlet conditions (this model has
    none): the same vector without its lifting step, which packs the coefficients of all 16 Jacobian
    blocks for a correction that is zero without them (30 % of the 3D preview's discharge CPU)."""
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    fem.petsc.assign(x, u)
    b.setAttr("_blocks", blocks)
    x.setAttr("_blocks", blocks)
    with b.localForm() as local:
        local.set(0.0)
    fem.petsc.assemble_vector(b, forms)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)


class ResolvedModel:
    """Forms, state and one implicit-Euler step of the resolved half cell.

    Parameters
    ----------
    phases : mesh phases from :func:`layerlab.resolved.domains.build_phases`
    params : the DFN parameter set (same OCP, kinetics, electrolyte, Li foil, separator)
    settings : solver settings
    """

    def __init__(self, phases: Phases, params: ParameterSet, settings: SolverSettings | None = None,
                 separator_tortuosity: float | None = None, prefix: str = "resolved",
                 binder_conductivity_S_m: float | None = None, collector: str = "equipotential") -> None:
        if collector not in COLLECTORS:
            raise ValueError(f"unknown collector condition {collector!r}")
        self.ph, self.p = phases, params
        self.collector = collector
        self.settings = settings or SolverSettings()
        self.comm = phases.msh.comm
        msh = phases.msh
        sep = params.separator
        self.sep_tau = separator_tortuosity or sep.porosity ** (1 - sep.bruggeman)
        self.Ve = fem.functionspace(phases.electrolyte, ("Lagrange", 1))
        self.Vphie = fem.functionspace(phases.electrolyte, ("Lagrange", 1))
        self.Vs = fem.functionspace(phases.solid, ("Lagrange", 1))
        self.Vphis = fem.functionspace(phases.conductor, ("Lagrange", 1))
        if phases.binder and not (binder_conductivity_S_m and binder_conductivity_S_m > 0):
            raise ValueError("conducting pores need binder_conductivity_S_m > 0")
        self.binder_conductivity_S_m = binder_conductivity_S_m if phases.binder else None
        self.u = [fem.Function(V, name=n) for V, n in ((self.Ve, "c_e"), (self.Vphie, "phi_e"),
                                                       (self.Vs, "stoichiometry"), (self.Vphis, "phi_s"))]
        self.u_n = [fem.Function(f.function_space) for f in self.u]
        self._history: tuple[list[np.ndarray], float, float] | None = None   # level n-1, its dt, current
        self._last_current = 0.0
        self._rebuild, self._build_jacobian, self._jacobian_dt, self.jacobian_builds = True, False, 0.0, 0
        self.jacobian_refreshes = 0        # rebuilds within a solve by the rate test (jacobian_lag 0)
        self._norms: list[float] = []      # residual norms of the current Newton solve
        self._damped = False               # the last Newton update was scaled to the trust limits
        self.dt = fem.Constant(msh, PETSc.ScalarType(1.0))
        self.I_cc = fem.Constant(msh, PETSc.ScalarType(0.0))     # A/m2 of particle contact
        self._measures()
        self.box_area_m2 = self._scalar_parent(self.one * self.ds_all(CC))
        self.contact_area_m2 = self._scalar_parent(self.one * self.ds(CC))
        self.h_mean_m = self._mean_cell_size()
        self.contact_conductance_S_m2 = params.positive.electronic_conductivity_S_m / self.h_mean_m
        self._forms(prefix)
        self.set_rest_state(params.positive.initial_stoichiometry)
        self.ocp_min_V = ocp_range_V(params.positive.ocp)[0]
        self.residual_floor_A = self._residual_floor()

    # ---- set-up -----------------------------------------------------------------------------
    def _residual_floor(self) -> float:
        """Round-off level of the potential residuals, A: 10 eps sigma_max U sqrt(N) h^(d-2).

        Conduction matrix entries scale as sigma h^(d-2): h-independent in 2D, where the
        round-off of potentials of ~4 V (not the current) bounds the attainable residual.  The
        equipotential collector's contact rows (entries G h^(d-1)) add their round-off over the contact
        dofs (without the factor 10: one row per dof, bounded directly).
        """
        d = self.ph.msh.topology.dim
        h = self.h_mean_m
        ele = self.p.electrolyte
        kappa0 = float(transport(ele, np.array(ele.initial_concentration_mol_m3), self.p.temperature_K)[0])
        sigma = max(self.p.positive.electronic_conductivity_S_m, self.binder_conductivity_S_m or 0.0, kappa0)
        n = sum(f.function_space.dofmap.index_map.size_global for f in self.u)
        floor = 10 * np.finfo(float).eps * sigma * 5.0 * np.sqrt(n) * h ** (d - 2)
        if self.collector == "equipotential":     # the contact rows, G h^(d-1) each, on the contact dofs
            G = self.contact_conductance_S_m2
            floor += np.finfo(float).eps * G * 5.0 * np.sqrt(self._n_contact_dofs) * h ** (d - 1)
        return floor

    def _mean_cell_size(self) -> float:
        """(volume / cells)^(1/d) of the whole mesh, m."""
        msh = self.ph.msh
        d = msh.topology.dim
        n_cells = msh.topology.index_map(d).size_global
        return (self._scalar_parent(self.one * ufl.dx(domain=msh)) / n_cells) ** (1.0 / d)

    def _measures(self) -> None:
        ph, msh = self.ph, self.ph.msh
        self.dx = ufl.Measure("dx", domain=msh, subdomain_data=[(k, v) for k, v in ph.cells.items()])
        # fixed quadrature degrees: UFL's estimate for exp/tanh/sqrt of P1 fields is needlessly high
        q2 = {"quadrature_degree": 2}
        self.dS = ufl.Measure("dS", domain=msh, subdomain_data=[(IFC, ph.interface.ravel().astype(np.int32))],
                              metadata=q2)
        self.ds = ufl.Measure("ds", domain=msh, subdomain_data=[(CC, ph.collector.ravel().astype(np.int32)),
                                                               (TOP, ph.top.ravel().astype(np.int32))], metadata=q2)
        self.ds_all = ufl.Measure("ds", domain=msh,
                                  subdomain_data=[(CC, ph.collector_all.ravel().astype(np.int32))])
        self.one = fem.Constant(msh, PETSc.ScalarType(1.0))

    def _scalar_parent(self, expr) -> float:
        return self.comm.allreduce(fem.assemble_scalar(fem.form(expr, entity_maps=self.ph.entity_maps)),
                                   op=MPI.SUM)

    def _forms(self, prefix: str) -> None:
        p, msh = self.p, self.ph.msh
        ops = ufl_ops()
        F = FARADAY
        f_T = 1.0 / p.thermal_voltage_V
        pos, ele, cp = p.positive, p.electrolyte, p.counter
        ce, phie, s, phis = self.u
        ce_n, _, s_n, _ = self.u_n
        W = ufl.MixedFunctionSpace(self.Ve, self.Vphie, self.Vs, self.Vphis)
        v, w, q, r = ufl.TestFunctions(W)
        dx, dS, ds, dt = self.dx, self.dS, self.ds, self.dt
        # storage terms with the vertex rule (mass lumping: no over/undershoot of c_e and s at
        # steep fronts; the lithium balance stays exact).  Distinct quadrature degrees keep FFCx
        # from merging these integrals with the flux integrals (see electrochem.dfn).
        dxv = ufl.Measure("dx", domain=msh, subdomain_data=self.dx.subdomain_data(),
                          metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
        dx = ufl.Measure("dx", domain=msh, subdomain_data=self.dx.subdomain_data(),
                         metadata={"quadrature_degree": 2})
        c0 = ele.initial_concentration_mol_m3
        self.c0 = c0
        eps_sep, B_sep = p.separator.porosity, p.separator.porosity / self.sep_tau
        cmax = pos.max_concentration_mol_m3

        # electrolyte (pores: eps = B = 1; separator: homogenised)
        c_safe = ufl.max_value(ce, 1e-3 * c0)
        kappa, De, tp, tdf = transport(ele, c_safe, p.temperature_K, ops)   # t+, TDF: constants or forms
        RT_F = p.thermal_voltage_V
        i_e = -kappa * (ufl.grad(phie) - 2.0 * RT_F * (1 - tp) * tdf * ufl.grad(ce) / c_safe)
        N_e = -De * ufl.grad(ce) + tp * i_e / F

        # particle surface ("+" electrolyte, "-" particle)
        sp = ufl.min_value(ufl.max_value(s("-"), 1e-9), 1.0 - 1e-9)
        cep = ufl.max_value(ce("+"), 1e-3 * c0)
        j0 = pos.exchange_current_coefficient * ufl.sqrt(cep) * cmax * ufl.sqrt(sp * (1.0 - sp))
        alpha = pos.charge_transfer_coefficient
        eta = phis("-") - phie("+") - evaluate(pos.ocp, sp, ops)
        j = j0 * (ufl.exp((1 - alpha) * f_T * eta) - ufl.exp(-alpha * f_T * eta))
        self.j = j

        # lithium foil at the top
        j0_li = cp.exchange_current_coefficient * cp.lithium_concentration_mol_m3 ** 0.7 * c_safe ** 0.3
        a_li = cp.charge_transfer_coefficient
        I_li = j0_li * (ufl.exp((1 - a_li) * f_T * (-phie)) - ufl.exp(-a_li * f_T * (-phie)))
        self.I_li = I_li

        R_ce = (F * (ce - ce_n) / dt * v * dxv(E) + F * eps_sep * (ce - ce_n) / dt * v * dxv(S)
                - F * ufl.inner(N_e, ufl.grad(v)) * dx(E) - F * B_sep * ufl.inner(N_e, ufl.grad(v)) * dx(S)
                - j * v("+") * dS(IFC) - I_li * v * ds(TOP))
        R_phie = (-ufl.inner(i_e, ufl.grad(w)) * dx(E) - B_sep * ufl.inner(i_e, ufl.grad(w)) * dx(S)
                  - j * w("+") * dS(IFC) - I_li * w * ds(TOP))
        R_s = (F * cmax * (s - s_n) / dt * q * dxv(P)
               + F * pos.diffusivity_m2_s * cmax * ufl.inner(ufl.grad(s), ufl.grad(q)) * dx(P)
               + j * q("-") * dS(IFC))
        sigma = pos.electronic_conductivity_S_m
        i_cc = self.I_cc                      # uniform; equipotential: its local part (collector.py)
        if self.collector == "equipotential":
            i_cc = self.I_cc + self.contact_conductance_S_m2 * phis
        R_phis = (sigma * ufl.inner(ufl.grad(phis), ufl.grad(r)) * dx(P) + j * r("-") * dS(IFC)
                  + i_cc * r * ds(CC))
        if self.ph.binder:
            R_phis += self.binder_conductivity_S_m * ufl.inner(ufl.grad(phis), ufl.grad(r)) * dx(BINDER)
        self.residual = ufl.extract_blocks(R_ce + R_phie + R_s + R_phis)

        st = self.settings
        opts = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_divergence_tolerance": -1,
                "snes_rtol": st.newton_rtol, "snes_atol": 1e-300, "snes_stol": 0.0,
                "snes_max_it": st.newton_max_it, "snes_error_if_not_converged": False}
        if st.jacobian_lag > 1:
            opts.update({"snes_lag_jacobian": st.jacobian_lag, "snes_lag_jacobian_persists": True,
                         "snes_max_it": max(st.newton_max_it, 4 * st.jacobian_lag)})
        if st.linear == "mumps":
            opts.update({"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"})
            if st.mumps_blr_tol > 0:
                opts.update({"mat_mumps_icntl_35": 2, "mat_mumps_cntl_7": st.mumps_blr_tol})
        elif st.linear == "gmres-asm":
            opts.update({"ksp_type": "gmres", "ksp_rtol": 1e-10, "ksp_max_it": 500, "pc_type": "asm",
                         "sub_pc_type": "ilu", "sub_pc_factor_levels": 1})
        elif st.linear == "gmres-fieldsplit":
            opts.update({"ksp_type": "gmres", "ksp_rtol": st.linear_rtol, "ksp_gmres_restart": 200,
                         "ksp_max_it": 1000, "pc_type": "fieldsplit", "pc_fieldsplit_type": "multiplicative"})
            for name in FIELDS:
                opts.update({f"fieldsplit_{name}_ksp_type": "preonly", f"fieldsplit_{name}_pc_type": "gamg",
                             f"fieldsplit_{name}_pc_gamg_aggressive_coarsening": 0})
        else:
            raise ValueError(f"unknown linear solver {st.linear!r}")
        opts.update(dict(st.petsc_options))
        self._prefix = f"{prefix}_{id(self)}_"
        equipotential = self.collector == "equipotential"
        if equipotential:   # the linear solver of A sits inside the rank-one correction (collector.py)
            opts = {(k if k.startswith("snes_") else "inner_" + k): v for k, v in opts.items()}
        # the options stay in the database under this model's prefix: field-split and multigrid
        # sub-solvers read theirs when the preconditioner is first set up, after construction
        db = PETSc.Options()
        for key, value in opts.items():
            db[self._prefix + key] = value
        self.problem = fem.petsc.NonlinearProblem(self.residual, self.u, petsc_options_prefix=self._prefix,
                                                  kind="mpi", entity_maps=self.ph.entity_maps)
        self.problem.solver.setFromOptions()
        self.linear_ksp = self.problem.solver.getKSP()     # the KSP of the Jacobian's sparse part
        if equipotential:
            self.linear_ksp = PETSc.KSP().create(self.comm)
            self.linear_ksp.setOptionsPrefix(self._prefix + "inner_")
            self.linear_ksp.setFromOptions()
        if st.jacobian_lag == 0:   # adaptive reuse: assemble only when asked (self._build_jacobian)
            ctx = {"u": self.u, "jacobian": self.problem.J, "preconditioner": None, "bcs": []}

            def norms(snes, it: int, norm: float) -> None:
                if it == 0:
                    self._norms.clear()
                self._norms.append(norm)

            def jacobian(snes, x, J, P) -> None:
                n = self._norms
                slow = (st.refresh_ratio is not None and len(n) >= 2
                        and n[-1] > (1.0 if self._damped else st.refresh_ratio) * n[-2])
                if not self._build_jacobian and slow:
                    # a kept Jacobian far from this state: the chord iteration contracts too slowly
                    # (or cycles: issue 13's paper-width first step, |F| alternating at 4 % of |F_0|)
                    self._build_jacobian = True
                    self._jacobian_dt = float(self.dt.value)
                    self.jacobian_refreshes += 1
                    log.debug("Jacobian rebuilt within the solve at |F| %.3g (was %.3g)", n[-1], n[-2])
                if self._build_jacobian:
                    fem.petsc.assemble_jacobian(snes, x, J, P, **ctx)
                    self._build_jacobian = False
                    self.jacobian_builds += 1

            self.problem.solver.setJacobian(jacobian, self.problem.A, None)
            self.problem.solver.setMonitor(norms)
        sizes = [f.function_space.dofmap.index_map.size_local for f in self.u]
        offsets = np.cumsum([0] + sizes)
        if st.linear == "gmres-fieldsplit":   # owned rows of the monolithic matrix: field by field
            start = self.problem.A.getOwnershipRange()[0]
            self._split_is = [PETSc.IS().createStride(sizes[i], start + offsets[i], 1, comm=self.comm)
                              for i in range(4)]
            self.linear_ksp.getPC().setFieldSplitIS(*zip(FIELDS, self._split_is))
        blocks = self.problem.b.getAttr("_blocks")

        def residual(snes, x, F) -> None:
            assemble_residual(x, F, self.u, self.problem.F, blocks)

        if equipotential:
            from layerlab.resolved import collector as cc
            contact = fem.form(ufl.TestFunction(self.Vphis) * ds(CC), entity_maps=self.ph.entity_maps)
            v = cc.contact_vector(self.problem.b, contact, self.Vphis, int(offsets[3]))
            self._n_contact_dofs = self.comm.allreduce(int(np.count_nonzero(v.getArray())), op=MPI.SUM)
            self._contact = cc.attach(self.problem.solver, self.linear_ksp, v,
                                      -self.contact_conductance_S_m2 / self.contact_area_m2, residual,
                                      self.problem.b)
        else:
            self.problem.solver.setFunction(residual, self.problem.b)
        limits = (0.2 * c0, 0.05, 0.05, 0.05)     # c_e (mol/m3), phi_e (V), s, phi_s (V)

        def damp(x, y, *args) -> None:
            """Scale the Newton update so that no unknown moves more than its trust limit."""
            a = y.getArray()
            ratio = max(np.abs(a[offsets[i]:offsets[i + 1]]).max(initial=0.0) / limits[i] for i in range(4))
            ratio = self.comm.allreduce(ratio, op=MPI.MAX)
            self._damped = ratio > 1.0
            if ratio > 1.0:
                a /= ratio

        self.problem.solver.setLineSearchPreCheck(damp)
        em = self.ph.entity_maps
        self._f = {
            "voltage": fem.form(phis * ds(CC), entity_maps=em),
            "foil": fem.form(I_li * ds(TOP), entity_maps=em),
            "reaction": fem.form(j * dS(IFC), entity_maps=em),
            "li_e": fem.form(ce * dx(E) + eps_sep * ce * dx(S), entity_maps=em),
            "li_s": fem.form(cmax * s * dx(P), entity_maps=em),
            "vol_s": fem.form(self.one * dx(P), entity_maps=em),
            "area": fem.form(self.one * dS(IFC), entity_maps=em),
        }
        # nodal integrals for depth profiles (binned by dof depth)
        ve, vs, vr = ufl.TestFunction(self.Ve), ufl.TestFunction(self.Vs), ufl.TestFunction(self.Vphis)
        vp = ufl.TestFunction(self.Vphie)
        self._vec = {
            "ce": fem.form(ce * ve * dx(E) + eps_sep * ce * ve * dx(S), entity_maps=em),
            "ve": fem.form(ve * dx(E) + eps_sep * ve * dx(S), entity_maps=em),
            "phie": fem.form(phie * vp * dx(E) + eps_sep * phie * vp * dx(S), entity_maps=em),
            "vphie": fem.form(vp * dx(E) + eps_sep * vp * dx(S), entity_maps=em),
            "s": fem.form(s * vs * dx(P), entity_maps=em),
            "vs": fem.form(vs * dx(P), entity_maps=em),
            "j": fem.form(j * vr("-") * dS(IFC), entity_maps=em),
        }

    # ---- state ------------------------------------------------------------------------------
    def set_rest_state(self, sto: float) -> None:
        """Uniform electrolyte at c_e0, particles at stoichiometry ``sto``, at equilibrium."""
        U0 = float(evaluate(self.p.positive.ocp, np.array(sto)))
        for f, val in zip(self.u, (self.c0, 0.0, sto, U0)):
            f.x.array[:] = val
        self.commit()
        self._history = None

    def commit(self) -> None:
        """Accept the current state as the old time level (after a step of ``self.dt``)."""
        self._history = ([fn.x.array.copy() for fn in self.u_n], float(self.dt.value), self._last_current)
        for f, fn in zip(self.u, self.u_n):
            fn.x.array[:] = f.x.array

    def state(self) -> list[np.ndarray]:
        return [f.x.array.copy() for f in self.u]

    def restore(self, saved: list[np.ndarray]) -> None:
        for f, a in zip(self.u, saved):
            f.x.array[:] = a

    def _predict(self, dt: float, current_A_m2: float) -> None:
        """Initial Newton guess: the old level, or its linear extrapolation from the level before."""
        h = self._history
        use = (self.settings.predictor and h is not None and h[2] == current_A_m2 and h[1] > 0
               and dt <= 2.0 * h[1])
        for i, (f, fn) in enumerate(zip(self.u, self.u_n)):
            f.x.array[:] = fn.x.array
            if use:
                f.x.array[:] += (dt / h[1]) * (fn.x.array - h[0][i])

    def _newton(self) -> tuple[bool, int]:
        snes = self.problem.solver
        try:
            self.problem.solve()
        except Exception:  # PETSc error from NaN/Inf in assembly
            return False, max(snes.getIterationNumber(), 1)
        ok = snes.getConvergedReason() > 0 and all(np.all(np.isfinite(f.x.array)) for f in self.u)
        return ok, snes.getIterationNumber()

    def solve(self, dt: float, current_A_m2: float) -> tuple[bool, int]:
        """One implicit-Euler step from the old level; returns (converged, Newton iterations)."""
        st = self.settings
        self.dt.value = dt
        self.I_cc.value = current_A_m2 * self.box_area_m2 / self.contact_area_m2
        snes = self.problem.solver
        ref = max(abs(current_A_m2), 1.0) * self.box_area_m2
        snes.setTolerances(atol=max(st.newton_atol_rel * ref, self.residual_floor_A))
        self._predict(dt, current_A_m2)
        self._last_current = current_A_m2
        if st.jacobian_lag != 0:
            return self._newton()
        ratio = dt / self._jacobian_dt if self._jacobian_dt else math.inf
        fresh = self._rebuild or not (1.0 / st.rebuild_dt_ratio <= ratio <= st.rebuild_dt_ratio)
        its = 0
        if not fresh:
            snes.setTolerances(max_it=st.stale_max_it)
            ok, its = self._newton()
            log.debug("dt %.4g s: %s in %d its with the kept Jacobian (dt ratio %.3g)", dt,
                      "converged" if ok else "failed", its, ratio)
            if ok:
                self._rebuild = its > st.rebuild_its
                return ok, its
            self._predict(dt, current_A_m2)
        self._build_jacobian = True                     # build once at this state, then keep it
        snes.setTolerances(max_it=max(st.newton_max_it, 2 * st.stale_max_it))
        self._jacobian_dt = dt
        ok, its2 = self._newton()
        log.debug("dt %.4g s: %s in %d its with a fresh Jacobian", dt, "converged" if ok else "failed", its2)
        self._rebuild = not ok or its2 > st.rebuild_its
        return ok, its + its2

    # ---- scalars (per m2 of current collector) ---------------------------------------------------
    def _scalar(self, key: str) -> float:
        return self.comm.allreduce(fem.assemble_scalar(self._f[key]), op=MPI.SUM)

    def voltage(self) -> float:
        """Cell voltage (phi_Li = 0), V: the collector's potential (equipotential; the mean phi_s over
        the particle contacts less the contact drop I_cc / G), or the mean phi_s over them (uniform)."""
        mean = self._scalar("voltage") / self.contact_area_m2
        if self.collector == "equipotential":
            return mean - float(self.I_cc.value) / self.contact_conductance_S_m2
        return mean

    def foil_current(self) -> float:
        """Current density through the lithium foil (discharge > 0), A/m2 of current collector."""
        return self._scalar("foil") / self.box_area_m2

    def reaction_current(self) -> float:
        """Total reaction current on the particle surfaces (anodic > 0), A/m2 of current collector."""
        return self._scalar("reaction") / self.box_area_m2

    def lithium(self) -> tuple[float, float]:
        """Lithium in the electrolyte and in the particles, mol/m2 of current collector."""
        return self._scalar("li_e") / self.box_area_m2, self._scalar("li_s") / self.box_area_m2

    def particle_volume_m3_m2(self) -> float:
        return self._scalar("vol_s") / self.box_area_m2

    def surface_area_m2_m2(self) -> float:
        return self._scalar("area") / self.box_area_m2

    def mean_stoichiometry(self) -> float:
        return self._scalar("li_s") / (self.p.positive.max_concentration_mol_m3 * self._scalar("vol_s"))

    # ---- depth profiles ---------------------------------------------------------------------------
    def _binned(self, key: str, V: "fem.FunctionSpace", edges_m: np.ndarray) -> np.ndarray:
        b = fem.assemble_vector(self._vec[key])
        b.scatter_reverse(__import__("dolfinx").la.InsertMode.add)
        n = V.dofmap.index_map.size_local
        z = V.tabulate_dof_coordinates()[:n, self.ph.gdim - 1]
        # a dof within round-off of a bin edge (a vertex on the line) counts half in each bin, so
        # the profile does not depend on the last bit of its coordinate
        tol = 1e-9 * (edges_m[-1] - edges_m[0])
        nb = len(edges_m) - 1
        lo = np.clip(np.searchsorted(edges_m, z - tol, side="right") - 1, 0, nb - 1)
        hi = np.clip(np.searchsorted(edges_m, z + tol, side="right") - 1, 0, nb - 1)
        w = b.array[:n]
        loc = (np.bincount(lo, weights=0.5 * w, minlength=nb) + np.bincount(hi, weights=0.5 * w, minlength=nb))
        return self.comm.allreduce(loc, op=MPI.SUM)

    def profiles(self, edges_m: np.ndarray) -> dict[str, np.ndarray]:
        """Depth-binned profiles (bins ``edges_m`` of z from the current collector).

        c_e : mean electrolyte concentration in the bin (mol/m3, NaN where no electrolyte)
        phi_e : mean electrolyte potential in the bin (V vs the Li foil, NaN where no electrolyte)
        stoichiometry : mean particle stoichiometry (NaN where no particle)
        reaction : reaction current per electrode volume (anodic > 0), A/m3
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            ce = self._binned("ce", self.Ve, edges_m) / self._binned("ve", self.Ve, edges_m)
            phie = self._binned("phie", self.Vphie, edges_m) / self._binned("vphie", self.Vphie, edges_m)
            st = self._binned("s", self.Vs, edges_m) / self._binned("vs", self.Vs, edges_m)
        rx = self._binned("j", self.Vphis, edges_m) / (np.diff(edges_m) * self.box_area_m2)
        return {"c_e": ce, "phi_e": phie, "stoichiometry": st, "reaction": rx}
