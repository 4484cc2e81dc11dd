"""The DFN residual as a list of physical terms (the second extension point, after the input
transforms of :mod:`layerlab.electrochem.mechanisms`).

One term is one piece of physics.  It declares the unknowns it owns (blocks of the
:class:`~layerlab.electrochem.layout.UnknownLayout`) and contributes, in three passes over all
terms (as PyBaMM's submodels: fundamental, then coupled variables, then equations):

1. ``variables(ctx)``: its primary variables from its unknowns (``c_e``, ``phi_s``, ...) into
   ``ctx.variables``;
2. ``reactions(ctx)``: its interfacial currents, registered as *sources*: volumetric currents
   into the electrolyte per electrode (``ctx.volume_sources``), currents into the electrolyte
   through a boundary (``ctx.boundary_currents``), the current at the cathode collector
   (``ctx.collector_current``) and the cell's counter-electrode current (``ctx.cell_current``);
3. ``residual(ctx)``: its weak-form residual (UFL, tested with ``ctx.v[...]`` of its own blocks),
   ``inventory(ctx)``: its cyclable lithium (a UFL integral, mol/m2) and ``functionals(ctx)``:
   extra scalar outputs (e.g. the SEI current).

:func:`terms_for` chooses the terms from the configuration (cell + SEI model); ``DFNModel(...,
extra_terms=[...])`` appends more.  A new term touches its own module (the term), its parameter
dataclass (or the ``positive``/``negative`` sections it reads) and its test.

Units: SI; ``j`` = anodic reaction current per particle surface (A/m2); volumetric sources in A/m3
(positive: current from the solid into the electrolyte).  Residual rows of particle unknowns are
scaled by ``A_REF`` (a typical specific area) to keep them comparable with the transport rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from layerlab.electrochem import sei as sei_mod
from layerlab.electrochem.electrolyte import evaluate, transport
from layerlab.electrochem.layout import (GRAPHITE, LIMIT_LN_CE, LIMIT_POTENTIAL_V, UNLIMITED, BlockSpec,
                                         UnknownLayout, particle_block, scalar_block)
from layerlab.electrochem.parameters import FARADAY
from layerlab.fe import ufl

if TYPE_CHECKING:
    from layerlab.electrochem.cell import HalfCell
    from layerlab.electrochem.dfn import DFNModel

LEFT, RIGHT = 1, 2          # facet tags: Li foil / anode collector (x = 0), cathode collector (x = L)
A_REF = 3.0 * 0.3 / 5e-6    # row scaling of particle equations, 1/m (a typical specific area)


@dataclass
class FormContext:
    """What the terms share while the residual is built: the model (cell, coefficients, controls
    ``I_app``, ``V_set``, ``robin``, BDF constants), the unknowns, measures and the coupling
    variables and sources the terms register."""

    model: "DFNModel"
    u: Any
    u_n: Any
    u_nn: Any
    v: Any
    ops: Any
    dxv: Any                 # vertex rule (nodal lumping): storage, reactions
    dxm: Any                 # 2-point Gauss: fluxes
    ds: Any                  # facets tagged LEFT / RIGHT
    variables: dict[str, Any] = field(default_factory=dict)
    volume_sources: dict[str, list] = field(default_factory=lambda: {"cathode": [], "anode": []})
    boundary_currents: list[tuple[int, Any]] = field(default_factory=list)
    collector_current: Any = None
    cell_current: Any = None

    @property
    def layout(self) -> UnknownLayout:
        return self.model.layout

    @property
    def f_T(self) -> float:
        """F / RT, 1/V."""
        return 1.0 / self.model.cell.params.thermal_voltage_V

    def ddt(self, i: int) -> Any:
        """BDF time derivative of component ``i``."""
        a, dt = self.model.a, self.model.dt
        return (a[0] * self.u[i] + a[1] * self.u_n[i] + a[2] * self.u_nn[i]) / dt

    def source(self, electrode: str | None = None) -> Any:
        """Sum of the volumetric sources of one electrode (all electrodes: None), A/m3."""
        keys = [electrode] if electrode else list(self.volume_sources)
        total = 0
        for k in keys:
            for s in self.volume_sources[k]:
                total = total + s
        return total


class Term:
    """A physical term of the DFN (base class: owns nothing, contributes nothing)."""

    name = "term"

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return []

    def variables(self, ctx: FormContext) -> None:
        pass

    def reactions(self, ctx: FormContext) -> None:
        pass

    def residual(self, ctx: FormContext) -> Any:
        return 0

    def inventory(self, ctx: FormContext) -> Any:
        """Cyclable lithium (UFL integral, mol/m2), or None."""
        return None

    def functionals(self, ctx: FormContext) -> dict[str, Any]:
        """Named scalar outputs (UFL integrals)."""
        return {}


# ---- shared particle kinetics --------------------------------------------------------------------
def particle_surface(ctx: FormContext, base: int, k0: Any, c_max: float) -> tuple[list, Any, Any]:
    """Radial unknowns, surface stoichiometry and exchange current density of a particle.

    The surface stoichiometry is a logistic variable: 0 < s_surf < 1 always, and
    sqrt(s (1 - s)) = exp(-psi/2) / (1 + exp(-psi)) resolves saturation to any depth.  ``k0`` is
    the coefficient of ``j0 = k0 sqrt(c_e) c_max sqrt(s (1 - s))`` or a function ``j0(c_e, c_s_surf,
    c_s_max, T)`` (a translated PyBaMM function), given ``c_max - c_s_surf`` from psi directly."""
    N = ctx.layout.radial_volumes
    u = ctx.u
    s = [u[base + k] for k in range(N)]
    psi = u[base + N]
    s_surf = 1.0 / (1.0 + ufl.exp(-psi))
    if callable(k0):
        empty = c_max * ufl.exp(-psi) / (1.0 + ufl.exp(-psi))      # c_max (1 - s_surf), no cancellation
        j0 = k0({"c_e": ctx.variables["c_e"], "c_s_surf": c_max * s_surf, "c_s_max": c_max,
                 "T": ctx.model.cell.params.temperature_K}, complements={("c_s_max", "c_s_surf"): empty})
        return s, s_surf, j0
    j0 = k0 * ctx.ops.sqrt(ctx.variables["c_e"]) * c_max * ufl.exp(-0.5 * psi) / (1.0 + ufl.exp(-psi))
    return s, s_surf, j0


def butler_volmer(ctx: FormContext, j0: Any, eta: Any, alpha: float) -> Any:
    return j0 * (ctx.ops.exp((1 - alpha) * ctx.f_T * eta) - ctx.ops.exp(-alpha * ctx.f_T * eta))


def particle_residual(ctx: FormContext, base: int, s: list, s_surf: Any, j: Any, R: float, c_max: float,
                      D: Any) -> tuple[Any, Any]:
    """Radial finite-volume residual of one particle (N shells + the surface flux condition) and
    its mean stoichiometry.  ``D`` (m2/s) is a constant or a function ``D(sto, T)`` (a translated
    PyBaMM function), then taken at the mean stoichiometry of the two sides of each interface."""
    F, v, N = FARADAY, ctx.v, ctx.layout.radial_volumes
    dr = R / N
    r = np.arange(N + 1) * dr
    vol = (r[1:] ** 3 - r[:-1] ** 3) / (3 * R ** 2)      # shell volume / surface area
    area = (r / R) ** 2                                     # interface area / surface area
    T = ctx.model.cell.params.temperature_K

    def D_at(a: Any, b: Any) -> Any:
        return D({"sto": 0.5 * (a + b), "T": T}) if callable(D) else D
    # flux (mol/m2 of particle surface per s) through interface k
    flux = [0] + [-D_at(s[k], s[k - 1]) * c_max * area[k] * (s[k] - s[k - 1]) / dr for k in range(1, N)] + [j / F]
    out = 0
    for k in range(N):
        res = F * (c_max * vol[k] * ctx.ddt(base + k) + flux[k + 1] - flux[k])
        out += A_REF * res * v[base + k] * ctx.dxv
    out += A_REF * ((s_surf - s[N - 1]) * F * D_at(s_surf, s[N - 1]) * c_max * 2.0 / dr + j) * v[base + N] * ctx.dxv
    return out, sum(vol[k] * s[k] for k in range(N)) * 3.0 / R


# ---- the terms -------------------------------------------------------------------------------------
class Electrolyte(Term):
    """Salt conservation and charge conservation in the electrolyte (concentrated solution theory)::

        eps dc_e/dt + d/dx(-D_eff dc_e/dx + t+ i_e / F) = S / F
        d i_e/dx = S,   i_e = -kappa_eff (dphi_e/dx - 2 RT/F (1 - t+) TDF dln c_e/dx)

    with ``S`` the sum of all volumetric sources and the boundary currents of the other terms.
    Unknowns ``ln(c_e / c_e0)`` (positive c_e by construction) and ``phi_e``."""

    name = "electrolyte"

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return [scalar_block("ln_c_e", LIMIT_LN_CE, differential=True), scalar_block("phi_e", LIMIT_POTENTIAL_V)]

    def variables(self, ctx: FormContext) -> None:
        ce0 = ctx.model.cell.params.electrolyte.initial_concentration_mol_m3
        i = ctx.layout.ln_c_e
        ctx.variables["c_e"] = ce0 * ufl.exp(ctx.u[i])
        ctx.variables["phi_e"] = ctx.u[ctx.layout.phi_e]

    def residual(self, ctx: FormContext) -> Any:
        m, p = ctx.model, ctx.model.cell.params
        F, RT = FARADAY, p.thermal_voltage_V * FARADAY
        ice, ie = ctx.layout.ln_c_e, ctx.layout.phi_e
        v, dxv, dxm = ctx.v, ctx.dxv, ctx.dxm
        ce0 = p.electrolyte.initial_concentration_mol_m3
        ce, phie = ctx.variables["c_e"], ctx.variables["phi_e"]
        ce_n, ce_nn = ce0 * ufl.exp(ctx.u_n[ice]), ce0 * ufl.exp(ctx.u_nn[ice])
        ddt_ce = (m.a[0] * ce + m.a[1] * ce_n + m.a[2] * ce_nn) / m.dt
        # t+ and the thermodynamic factor: constants or UFL expressions of c_e.  The flux stays in
        # conservative form (div N_e with N_e = -De B grad c + t+ i_e / F, PyBaMM's "full" diffusion),
        # so the lithium balance is exact whatever t+(c_e) is.
        kappa, De, tp, tdf = transport(p.electrolyte, ce, p.temperature_K, ctx.ops)
        i_e = -kappa * m.B_e * (phie.dx(0) - 2.0 * RT / F * (1 - tp) * tdf * ctx.u[ice].dx(0))
        N_e = -De * m.B_e * ce.dx(0) + tp * i_e / F
        src = ctx.source()
        R_e = (F * m.eps_e * ddt_ce * v[ice] - src * v[ice]) * dxv - F * N_e * v[ice].dx(0) * dxm
        R_phie = -i_e * v[ie].dx(0) * dxm - src * v[ie] * dxv
        for tag, current in ctx.boundary_currents:
            R_e -= current * v[ice] * ctx.ds(tag)
            R_phie -= current * v[ie] * ctx.ds(tag)
        return R_e + R_phie

    def inventory(self, ctx: FormContext) -> Any:
        return ctx.model.eps_e * ctx.variables["c_e"] * ctx.dxv


class SolidConduction(Term):
    """Ohm's law in the cathode solid, ``d i_s/dx = -S_cathode``, ``i_s = -sigma_eff dphi_s/dx``
    (``sigma_eff`` per layer: ``LayerSpec.electronic_conductivity_S_m`` or ``sigma (1-eps)^b_s``),
    the collector current ``ctx.collector_current`` (default the applied current) at ``x = L``.
    ``phi_s`` is extended into the separator (and anode) with zero source and zero end flux."""

    name = "solid conduction"

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return [scalar_block("phi_s", LIMIT_POTENTIAL_V)]

    def variables(self, ctx: FormContext) -> None:
        ctx.variables["phi_s"] = ctx.u[ctx.layout.phi_s]
        ctx.collector_current = ctx.model.I_app

    def residual(self, ctx: FormContext) -> Any:
        isl, v = ctx.layout.phi_s, ctx.v
        i_s = -ctx.model.sigma_eff * ctx.variables["phi_s"].dx(0)
        return (-i_s * v[isl].dx(0) * ctx.dxm + ctx.collector_current * v[isl] * ctx.ds(RIGHT)
                + ctx.source("cathode") * v[isl] * ctx.dxv)


class CathodePopulation(Term):
    """One cathode particle population: Butler-Volmer kinetics at ``phi_s - phi_e - U(c_surf)``
    (masked where the population is absent), Fickian diffusion in N radial control volumes,
    a volumetric source ``3 eps_p / R j`` into the electrolyte."""

    def __init__(self, population: str) -> None:
        self.population = population
        self.name = f"particles {population}"

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return [particle_block(self.population, radial_volumes)]

    def reactions(self, ctx: FormContext) -> None:
        m, pos, pop = ctx.model, ctx.model.cell.params.positive, self.population
        base = ctx.layout.particle(pop).start
        s, s_surf, j0 = particle_surface(ctx, base, pos.exchange_current_coefficient, pos.max_concentration_mol_m3)
        eta = ctx.variables["phi_s"] - ctx.variables["phi_e"] - evaluate(pos.ocp, s_surf, ctx.ops)
        j = m.mask[pop] * butler_volmer(ctx, j0, eta, pos.charge_transfer_coefficient)
        ctx.volume_sources["cathode"].append(3.0 * m.eps_p[pop] / m.cell.cathode.radius_m[pop] * j)
        self._state = (base, s, s_surf, j)
        ctx.variables[f"reaction_current:{pop}"] = j
        ctx.variables[f"surface_stoichiometry:{pop}"] = s_surf

    def residual(self, ctx: FormContext) -> Any:
        pos = ctx.model.cell.params.positive
        base, s, s_surf, j = self._state
        res, self._s_avg = particle_residual(ctx, base, s, s_surf, j, ctx.model.cell.cathode.radius_m[self.population],
                                             pos.max_concentration_mol_m3, pos.diffusivity_m2_s)
        return res

    def inventory(self, ctx: FormContext) -> Any:
        pos = ctx.model.cell.params.positive
        return ctx.model.eps_p[self.population] * pos.max_concentration_mol_m3 * self._s_avg * ctx.dxv


class LithiumFoil(Term):
    """Lithium metal counter electrode at ``x = 0`` (half cell): Butler-Volmer current
    ``I_Li = j0_Li (...)`` at ``eta_Li = -phi_e(0)`` into the electrolyte; it is the cell current."""

    name = "lithium foil"

    def reactions(self, ctx: FormContext) -> None:
        cp = ctx.model.cell.params.counter
        j0 = cp.exchange_current_coefficient * cp.lithium_concentration_mol_m3 ** 0.7 * ctx.variables["c_e"] ** 0.3
        current = butler_volmer(ctx, j0, -ctx.variables["phi_e"], cp.charge_transfer_coefficient)
        ctx.boundary_currents.append((LEFT, current))
        ctx.cell_current = current * ctx.ds(LEFT)


class GraphiteAnode(Term):
    """Porous graphite anode (full cell): its solid potential ``phi_s,n`` (grounded at ``x = 0``,
    extended with zero source over separator and cathode) and its particle population.  The
    interfacial current into the electrolyte is ``a_n j_tot``: ``j_tot = j_n`` unless another
    term (SEI) sets ``ctx.variables['anode_total_current']`` and ``'anode_film_drop_V'``."""

    name = "graphite anode"

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return [scalar_block("phi_s_anode", LIMIT_POTENTIAL_V), particle_block(GRAPHITE, radial_volumes)]

    def variables(self, ctx: FormContext) -> None:
        ctx.variables["phi_s_anode"] = ctx.u[ctx.layout.index("phi_s_anode")]
        an = ctx.model.cell.anode
        ctx.variables["specific_area:graphite"] = 3.0 * ctx.model.eps_n / an.radius_m

    def reactions(self, ctx: FormContext) -> None:
        m, neg = ctx.model, ctx.model.cell.params.negative
        base = ctx.layout.particle(GRAPHITE).start
        s, s_surf, j0 = particle_surface(ctx, base, neg.exchange_current_coefficient, neg.max_concentration_mol_m3)
        eta = ctx.variables["phi_s_anode"] - ctx.variables["phi_e"] - evaluate(neg.ocp, s_surf, ctx.ops)
        if "anode_film_drop_V" in ctx.variables:
            eta = eta - ctx.variables["anode_film_drop_V"]
        j = m.mask_n * butler_volmer(ctx, j0, eta, neg.charge_transfer_coefficient)
        ctx.variables["reaction_current:graphite"] = j
        ctx.variables["surface_stoichiometry:graphite"] = s_surf
        src = ctx.variables["specific_area:graphite"] * ctx.variables.get("anode_total_current", j)
        ctx.volume_sources["anode"].append(src)
        ctx.cell_current = src * ctx.dxv
        self._state = (base, s, s_surf, j, src)

    def residual(self, ctx: FormContext) -> Any:
        m, neg = ctx.model, ctx.model.cell.params.negative
        i_n, v = ctx.layout.index("phi_s_anode"), ctx.v
        base, s, s_surf, j, src = self._state
        i_sn = -m.sigma_n_eff * ctx.variables["phi_s_anode"].dx(0)
        res = -i_sn * v[i_n].dx(0) * ctx.dxm + src * v[i_n] * ctx.dxv
        res_p, self._s_avg = particle_residual(ctx, base, s, s_surf, j, m.cell.anode.radius_m,
                                               neg.max_concentration_mol_m3, neg.diffusivity_m2_s)
        return res + res_p

    def inventory(self, ctx: FormContext) -> Any:
        neg = ctx.model.cell.params.negative
        return ctx.model.eps_n * neg.max_concentration_mol_m3 * self._s_avg * ctx.dxv


class SEIGrowth(Term):
    """SEI side reaction on the graphite (:mod:`layerlab.electrochem.sei`): film thickness
    ``L / L0`` (differential) and total anode current ``j_tot = j_n + j_sei`` (algebraic); the film
    drop ``j_tot rho L`` enters both overpotentials.  Lithium in the film is not cyclable: it is
    reported by the ``sei_lithium`` functional, not in the inventory."""

    name = "SEI growth"

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def blocks(self, radial_volumes: int) -> list[BlockSpec]:
        return [scalar_block("sei_thickness", UNLIMITED, differential=True), scalar_block("j_tot_anode", UNLIMITED)]

    def variables(self, ctx: FormContext) -> None:
        sp = ctx.model.cell.params.sei
        L_sei = sp.initial_thickness_m * ctx.u[ctx.layout.index("sei_thickness")]
        j_tot = ctx.u[ctx.layout.index("j_tot_anode")]
        ctx.variables["sei_thickness_m"] = L_sei
        ctx.variables["anode_total_current"] = j_tot
        ctx.variables["anode_film_drop_V"] = j_tot * sp.resistivity_ohm_m * L_sei

    def reactions(self, ctx: FormContext) -> None:
        sp, var = ctx.model.cell.params.sei, ctx.variables
        eta = var["phi_s_anode"] - var["phi_e"] - sp.open_circuit_potential_V - var["anode_film_drop_V"]
        self.j_sei = ctx.model.mask_n * sei_mod.sei_current(self.model_name, sp, var["sei_thickness_m"], eta,
                                                            ctx.f_T, ctx.ops)
        var["sei_current"] = self.j_sei

    def residual(self, ctx: FormContext) -> Any:
        sp, lay, v = ctx.model.cell.params.sei, ctx.layout, ctx.v
        i_sei, i_jtot = lay.index("sei_thickness"), lay.index("j_tot_anode")
        g = sei_mod.growth_coefficient_m3_C(sp)
        j_tot, j = ctx.variables["anode_total_current"], ctx.variables["reaction_current:graphite"]
        res = A_REF * (sp.initial_thickness_m / g * ctx.ddt(i_sei) + self.j_sei) * v[i_sei] * ctx.dxv
        return res + A_REF * (j_tot - j - self.j_sei) * v[i_jtot] * ctx.dxv

    def functionals(self, ctx: FormContext) -> dict[str, Any]:
        sp, a_n = ctx.model.cell.params.sei, ctx.variables["specific_area:graphite"]
        film = sei_mod.lithium_in_film_mol_m2(sp, ctx.variables["sei_thickness_m"])
        return {"sei_current": a_n * self.j_sei * ctx.dxv,
                "sei_lithium": ctx.model.mask_n * a_n * film * ctx.dxv}


class ContactResistance(Term):
    """Contact resistance ``R_c`` at the cathode collector: terminal ``V = phi_s(L) - I R_c``
    (``DFNModel.voltage``); in CV mode (``robin`` = 1) the collector current is
    ``(phi_s(L) - V_set) / R_c`` (a Robin condition), so CV holds the terminal voltage."""

    name = "contact resistance"

    def __init__(self, resistance_ohm_m2: float) -> None:
        self.resistance_ohm_m2 = resistance_ohm_m2

    def variables(self, ctx: FormContext) -> None:
        m = ctx.model
        ctx.collector_current = m.I_app + m.robin * ((ctx.variables["phi_s"] - m.V_set) / self.resistance_ohm_m2
                                                     - m.I_app)


def terms_for(cell: "HalfCell", sei: str = "none") -> list[Term]:
    """The terms a configuration needs: electrolyte, solid conduction, one term per cathode
    population, the counter electrode (Li foil, or graphite anode with optional SEI growth), and
    the contact resistance when ``positive.contact_resistance_ohm_m2 > 0``."""
    terms: list[Term] = [Electrolyte(), SolidConduction()]
    terms += [CathodePopulation(pop) for pop in cell.cathode.populations]
    if cell.anode is None:
        terms.append(LithiumFoil())
    else:
        terms.append(GraphiteAnode())
        if sei != "none":
            terms.append(SEIGrowth(sei))
    R_c = cell.params.positive.contact_resistance_ohm_m2
    if R_c > 0:
        terms.append(ContactResistance(R_c))
    return terms


def layout_for(terms: Sequence[Term], radial_volumes: int) -> UnknownLayout:
    """The unknown layout: the terms' blocks in term order."""
    return UnknownLayout([b for t in terms for b in t.blocks(radial_volumes)], radial_volumes)


def assemble_terms(ctx: FormContext, terms: Sequence[Term]) -> tuple[Any, Any, dict[str, Any]]:
    """Run the three passes: (residual, lithium inventory, functionals) as UFL forms."""
    for t in terms:
        t.variables(ctx)
    for t in terms:
        t.reactions(ctx)
    residual = 0
    inventory = 0
    functionals: dict[str, Any] = {}
    for t in terms:
        residual = residual + t.residual(ctx)
    for t in terms:
        inv = t.inventory(ctx)
        if inv is not None:
            inventory = inventory + inv
        functionals.update(t.functionals(ctx))
    return residual, inventory, functionals

