"""PyBaMM peer models on identical inputs (cross-check tests and the benchmark; pybamm is a test dependency).

:func:`pybamm_full_cell` builds PyBaMM's full-cell DFN (graphite | separator | one-population
cathode, optional SEI) from the same full :class:`~layerlab.electrochem.cell.HalfCell`.

:func:`pybamm_half_cell` builds PyBaMM's DFN half cell (``working electrode: positive``) from the
same :class:`~layerlab.electrochem.cell.HalfCell` our model runs: one particle phase for a single
population, PyBaMM's two particle phases ("Primary" = L, "Secondary" = S) with depth-dependent
volume fractions otherwise.  Electrode area is 1 m2, so PyBaMM currents in A equal A/m2.

:func:`pybamm_native` runs PyBaMM on a PyBaMM set's own values (native functions) for the
cross-checks of sets imported by name (:mod:`layerlab.electrochem.pybamm_crosscheck`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layerlab.electrochem.cell import HalfCell
from layerlab.electrochem.electrolyte import evaluate
from layerlab.electrochem.parameters import CounterParams, ElectrolyteParams, FunctionForm


def _ocp(cell: HalfCell, electrode: str = "positive"):
    f = getattr(cell.params, electrode).ocp

    def U(sto):
        import pybamm
        ops = type("ops", (), {"tanh": staticmethod(pybamm.tanh), "exp": staticmethod(pybamm.exp)})
        return evaluate(f, sto, ops)
    return U


def _electrolyte(ele: ElectrolyteParams) -> dict[str, Any]:
    """PyBaMM's electrolyte entries: a form becomes a function of (c_e, T) built with pybamm ops
    (T is PyBaMM's temperature, the cell temperature in these isothermal runs); a constant stays one."""
    import pybamm

    def entry(prop: float | FunctionForm) -> Any:
        if isinstance(prop, FunctionForm):
            return lambda c_e, T: evaluate(prop, c_e, pybamm, T)
        return prop
    return {"Initial concentration in electrolyte [mol.m-3]": ele.initial_concentration_mol_m3,
            "Electrolyte conductivity [S.m-1]": entry(ele.conductivity),
            "Electrolyte diffusivity [m2.s-1]": entry(ele.diffusivity),
            "Cation transference number": entry(ele.transference_number),
            "Thermodynamic factor": entry(ele.thermodynamic_factor)}


LI_FOIL_THICKNESS_M = 700e-6


def _lithium_foil(cp: CounterParams) -> dict[str, Any]:
    """PyBaMM's lithium-metal counter electrode entries (half cell) from layerlab's ``counter``."""
    k_li = cp.exchange_current_coefficient

    def j0_li(c_e, c_Li, T):
        return k_li * c_Li ** 0.7 * c_e ** 0.3
    return {"Negative electrode thickness [m]": LI_FOIL_THICKNESS_M,
            "Negative electrode conductivity [S.m-1]": 1.0776e7,
            "Lithium metal partial molar volume [m3.mol-1]": 1.0 / cp.lithium_concentration_mol_m3,
            "Exchange-current density for lithium metal electrode [A.m-2]": j0_li,
            "Negative electrode charge transfer coefficient": cp.charge_transfer_coefficient,
            "Negative electrode OCP [V]": 0.0, "Negative electrode OCP entropic change [V.K-1]": 0.0,
            "Negative electrode double-layer capacity [F.m-2]": 0.2}


def pybamm_native(values: Any, cell: HalfCell, radial_points: int = 20, x_points: int = 20, v_min_V: float = 2.5,
                  v_max_V: float = 4.4) -> tuple[Any, Any, dict]:
    """PyBaMM's DFN on a PyBaMM set's own ``ParameterValues`` (its native functions), per m2 of
    electrode: a half cell (``working electrode: positive``, layerlab's lithium foil) when ``cell``
    has no anode, else the full cell.  ``cell`` is the same set imported by
    :func:`layerlab.electrochem.pybamm_import.cell_from_values`."""
    import pybamm
    full = cell.anode is not None
    model = pybamm.lithium_ion.DFN({} if full else {"working electrode": "positive"})
    out = values.copy()
    T = cell.params.temperature_K
    out.update({"Electrode height [m]": 1.0, "Electrode width [m]": 1.0,
                "Number of electrodes connected in parallel to make a cell": 1.0,
                "Initial temperature [K]": T, "Ambient temperature [K]": T,
                "Lower voltage cut-off [V]": v_min_V, "Upper voltage cut-off [V]": v_max_V,
                "Open-circuit voltage at 0% SOC [V]": v_min_V, "Open-circuit voltage at 100% SOC [V]": v_max_V,
                "Current function [A]": 1.0}, check_already_exists=False)
    if not full:
        out.update(_lithium_foil(cell.params.counter), check_already_exists=False)
    var_pts = {"x_n": x_points, "x_s": x_points, "x_p": x_points, "r_n": radial_points, "r_p": radial_points}
    return model, out, var_pts


def _piecewise(cell: HalfCell, values: list[float]):
    """A PyBaMM function of x that is ``values[i]`` in layer i (CC first).

    PyBaMM's half-cell x starts at the far side of the lithium foil: the separator begins at
    the foil thickness ("Negative electrode thickness").
    """
    L_sep = LI_FOIL_THICKNESS_M + cell.params.separator.thickness_m
    H = cell.cathode.thickness_m
    tops = [float(t) for t in np.cumsum([lay.thickness_m for lay in cell.cathode.layers])]  # layer tops (z)

    def f(x, *_):
        z = L_sep + H - x
        out = 0 * x
        lower = 0.0
        for i, (top, v) in enumerate(zip(tops, values)):
            if v != 0:
                inside = (z >= lower) if i == len(tops) - 1 else (z < top)
                if i > 0 and i < len(tops) - 1:
                    inside = (z >= lower) * (z < top)
                elif i > 0:
                    inside = z >= lower
                out = out + float(v) * inside
            lower = top
        return out
    return f


def _cell_values(temperature_K: float, v_min_V: float, v_max_V: float) -> dict:
    """PyBaMM entries common to the half- and full-cell set-ups: unit area (per m2 quantities),
    isothermal, cut-offs, and a 1 A current function scaled by the experiment."""
    return {
        "Electrode height [m]": 1.0, "Electrode width [m]": 1.0,
        "Reference temperature [K]": temperature_K, "Ambient temperature [K]": temperature_K,
        "Initial temperature [K]": temperature_K,
        "Lower voltage cut-off [V]": v_min_V, "Upper voltage cut-off [V]": v_max_V,
        "Open-circuit voltage at 0% SOC [V]": v_min_V, "Open-circuit voltage at 100% SOC [V]": v_max_V,
        "Nominal cell capacity [A.h]": 1.0, "Current function [A]": 1.0,
    }


def pybamm_half_cell(cell: HalfCell, radial_points: int = 20, x_points: int = 20,
                     v_min_V: float = 2.5, v_max_V: float = 4.4) -> tuple[Any, Any, dict]:
    """PyBaMM DFN half-cell model, parameter values and mesh sizes for ``cell``."""
    import pybamm
    p, cath = cell.params, cell.cathode
    pops = cath.populations
    layers = cath.layers
    require_uniform = len(layers) == 1
    options: dict[str, Any] = {"working electrode": "positive"}
    if len(pops) == 2:
        options["particle phases"] = ("1", "2")
    model = pybamm.lithium_ion.DFN(options)
    pos, ele, cp = p.positive, p.electrolyte, p.counter
    eps = layers[0].porosity
    if not all(abs(lay.porosity - eps) < 1e-15 for lay in layers):
        raise ValueError("the PyBaMM peer supports one porosity for all layers")
    cmax = pos.max_concentration_mol_m3
    k_pos = pos.exchange_current_coefficient

    def j0_pos(c_e, c_s_surf, c_s_max, T):
        return k_pos * c_e ** 0.5 * c_s_surf ** 0.5 * (c_s_max - c_s_surf) ** 0.5

    b_e = pos.bruggeman_electrolyte if layers[0].tortuosity is None else \
        1 + np.log(layers[0].tortuosity) / -np.log(eps)
    values = {
        **_lithium_foil(cp),
        "Separator thickness [m]": p.separator.thickness_m, "Separator porosity": p.separator.porosity,
        "Separator Bruggeman coefficient (electrolyte)": p.separator.bruggeman,
        "Positive electrode thickness [m]": cath.thickness_m, "Positive electrode porosity": eps,
        "Positive electrode conductivity [S.m-1]": pos.electronic_conductivity_S_m,
        "Positive electrode Bruggeman coefficient (electrolyte)": b_e,
        "Positive electrode Bruggeman coefficient (electrode)": pos.bruggeman_electrode,
        **_electrolyte(ele),
        **_cell_values(p.temperature_K, v_min_V, v_max_V),
    }
    phase_prefix = {"L": "", "S": ""} if len(pops) == 1 else {"L": "Primary: ", "S": "Secondary: "}
    for pop in pops:
        pre = phase_prefix[pop]
        fracs = [lay.active_fraction.get(pop, 0.0) for lay in layers]
        frac = fracs[0] if require_uniform else _piecewise(cell, fracs)
        values.update({
            f"{pre}Maximum concentration in positive electrode [mol.m-3]": cmax,
            f"{pre}Positive particle diffusivity [m2.s-1]": pos.diffusivity_m2_s,
            f"{pre}Positive electrode OCP [V]": _ocp(cell),
            f"{pre}Positive electrode active material volume fraction": frac,
            f"{pre}Positive particle radius [m]": cath.radius_m[pop],
            f"{pre}Positive electrode charge transfer coefficient": pos.charge_transfer_coefficient,
            f"{pre}Positive electrode exchange-current density [A.m-2]": j0_pos,
            f"{pre}Initial concentration in positive electrode [mol.m-3]": pos.initial_stoichiometry * cmax,
            f"{pre}Positive electrode OCP entropic change [V.K-1]": 0.0,
            f"{pre}Positive electrode double-layer capacity [F.m-2]": 0.2,
            f"{pre}Positive electrode density [kg.m-3]": 3262.0,
        })
    base = pybamm.ParameterValues("Xu2019")
    base.update(values, check_already_exists=False)
    var_pts = {"x_n": x_points, "x_s": x_points, "x_p": x_points, "r_n": radial_points, "r_p": radial_points}
    if len(pops) == 2:
        var_pts.update({"r_p_prim": radial_points, "r_p_sec": radial_points})
    return model, base, var_pts


PYBAMM_SEI = {"none": "none", "solvent-diffusion limited": "solvent-diffusion limited",
              "reaction limited": "reaction limited", "ec reaction limited": "ec reaction limited"}


def pybamm_full_cell(cell: HalfCell, radial_points: int = 20, x_points: int = 20, v_min_V: float = 2.5,
                     v_max_V: float = 4.4, sei: str = "none") -> tuple[Any, Any, dict]:
    """PyBaMM full-cell DFN model, parameter values and mesh sizes for a full ``cell`` (anode set).

    Starts from PyBaMM's Chen2020 set and replaces every value the layerlab model uses; single
    cathode layer and population only.  Electrode area 1 m2 (currents in A = A/m2).
    """
    import pybamm
    p, cath, an = cell.params, cell.cathode, cell.anode
    if an is None or len(cath.layers) != 1 or len(cath.populations) != 1:
        raise ValueError("the PyBaMM full-cell peer needs an anode and one cathode layer and population")
    lay, pop = cath.layers[0], cath.populations[0]
    pos, neg, ele = p.positive, p.negative, p.electrolyte
    k_pos, k_neg = pos.exchange_current_coefficient, neg.exchange_current_coefficient
    options: dict[str, Any] = {}
    if sei != "none":
        options = {"SEI": PYBAMM_SEI[sei], "SEI film resistance": "distributed"}
    model = pybamm.lithium_ion.DFN(options)

    def j0_pos(c_e, c_s_surf, c_s_max, T):
        return k_pos * c_e ** 0.5 * c_s_surf ** 0.5 * (c_s_max - c_s_surf) ** 0.5

    def j0_neg(c_e, c_s_surf, c_s_max, T):
        return k_neg * c_e ** 0.5 * c_s_surf ** 0.5 * (c_s_max - c_s_surf) ** 0.5

    def b(eps: float, tau: float | None, default: float) -> float:
        return default if tau is None else 1 + np.log(tau) / -np.log(eps)

    values = pybamm.ParameterValues("Chen2020")
    values.update({
        "Negative electrode thickness [m]": an.thickness_m, "Negative electrode porosity": an.porosity,
        "Negative electrode active material volume fraction": an.active_fraction,
        "Negative particle radius [m]": an.radius_m,
        "Maximum concentration in negative electrode [mol.m-3]": neg.max_concentration_mol_m3,
        "Negative particle diffusivity [m2.s-1]": neg.diffusivity_m2_s,
        "Negative electrode OCP [V]": _ocp(cell, "negative"),
        "Negative electrode exchange-current density [A.m-2]": j0_neg,
        "Negative electrode charge transfer coefficient": neg.charge_transfer_coefficient,
        "Negative electrode conductivity [S.m-1]": neg.electronic_conductivity_S_m,
        "Negative electrode Bruggeman coefficient (electrolyte)": b(an.porosity, an.tortuosity,
                                                                    neg.bruggeman_electrolyte),
        "Negative electrode Bruggeman coefficient (electrode)": neg.bruggeman_electrode,
        "Initial concentration in negative electrode [mol.m-3]":
            neg.initial_stoichiometry * neg.max_concentration_mol_m3,
        "Separator thickness [m]": p.separator.thickness_m, "Separator porosity": p.separator.porosity,
        "Separator Bruggeman coefficient (electrolyte)": p.separator.bruggeman,
        "Positive electrode thickness [m]": cath.thickness_m, "Positive electrode porosity": lay.porosity,
        "Positive electrode active material volume fraction": lay.active_fraction[pop],
        "Positive particle radius [m]": cath.radius_m[pop],
        "Maximum concentration in positive electrode [mol.m-3]": pos.max_concentration_mol_m3,
        "Positive particle diffusivity [m2.s-1]": pos.diffusivity_m2_s,
        "Positive electrode OCP [V]": _ocp(cell, "positive"),
        "Positive electrode exchange-current density [A.m-2]": j0_pos,
        "Positive electrode charge transfer coefficient": pos.charge_transfer_coefficient,
        "Positive electrode conductivity [S.m-1]": pos.electronic_conductivity_S_m,
        "Positive electrode Bruggeman coefficient (electrolyte)": b(lay.porosity, lay.tortuosity,
                                                                    pos.bruggeman_electrolyte),
        "Positive electrode Bruggeman coefficient (electrode)": pos.bruggeman_electrode,
        "Initial concentration in positive electrode [mol.m-3]":
            pos.initial_stoichiometry * pos.max_concentration_mol_m3,
        **_electrolyte(ele),
        **_cell_values(p.temperature_K, v_min_V, v_max_V),
        "Contact resistance [Ohm]": pos.contact_resistance_ohm_m2,
    }, check_already_exists=False)
    if sei != "none" and p.sei is not None:
        sp = p.sei
        values.update({
            "Initial SEI thickness [m]": sp.initial_thickness_m,
            "SEI partial molar volume [m3.mol-1]": sp.partial_molar_volume_m3_mol,
            "Ratio of lithium moles to SEI moles": sp.lithium_per_sei, "SEI resistivity [Ohm.m]": sp.resistivity_ohm_m,
            "SEI solvent diffusivity [m2.s-1]": sp.solvent_diffusivity_m2_s,
            "Bulk solvent concentration [mol.m-3]": sp.solvent_concentration_mol_m3,
            "EC diffusivity [m2.s-1]": sp.ec_diffusivity_m2_s,
            "EC initial concentration in electrolyte [mol.m-3]": sp.ec_concentration_mol_m3,
            "SEI kinetic rate constant [m.s-1]": sp.kinetic_rate_constant_m_s,
            "SEI reaction exchange current density [A.m-2]": sp.exchange_current_A_m2,
            "SEI open-circuit potential [V]": sp.open_circuit_potential_V,
            "SEI growth transfer coefficient": sp.charge_transfer_coefficient,
        }, check_already_exists=False)
    var_pts = {"x_n": x_points, "x_s": x_points, "x_p": x_points, "r_n": radial_points, "r_p": radial_points}
    return model, values, var_pts
