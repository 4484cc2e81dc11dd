"""layerlab parameter sets from PyBaMM's ``ParameterValues``: a set by name or a BPX file.

``electrochem.parameters`` takes, besides a ``dfn_*.yaml`` file:

* ``pybamm:<SetName>`` (e.g. ``pybamm:Marquis2019``): ``pybamm.ParameterValues(<SetName>)``;
* a BPX JSON file (``*.json``, Battery Parameter eXchange, github.com/FaradayInstitution/BPX): validated
  against the BPX schema (``bpx`` package), converted by ``ParameterValues.create_from_bpx``.

Scalars are mapped by their PyBaMM names; functions (OCPs, particle diffusivities, exchange
currents, electrolyte conductivity, diffusivity, t+, thermodynamic factor) are translated from
their expression trees by :mod:`layerlab.electrochem.ufl_from_pybamm`, so no coefficient is copied
by hand.  Only the material properties enter the campaign's DFN (the geometry is the design's);
:func:`cell_from_values` builds the set's own cell (its thicknesses, porosities, radii) for
cross-checks.  The lithium-foil counter electrode of a half cell is layerlab's default ``counter``
section (Xu 2019) unless replaced.  PyBaMM (and bpx) are imported here only, lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from layerlab.electrochem.parameters import (DEFAULT_SET, CounterParams, ElectrolyteParams, NegativeParams,
                                             ParameterSet, PositiveParams, SeparatorParams, _check, load_anode,
                                             load_parameters)
from layerlab.electrochem.ufl_from_pybamm import TranslatedFunction, Untranslatable, from_tree, translate
from layerlab.errors import InputError, require

PYBAMM_PREFIX = "pybamm:"
FIELD = "electrochem.parameters"
_PYBAMM_ARGS = {"sto": "Stoichiometry", "T": "Temperature [K]", "c_e": "Electrolyte concentration [mol.m-3]",
                "c_s_surf": "Particle surface concentration [mol.m-3]",
                "c_s_max": "Maximum particle surface concentration [mol.m-3]"}
HALF_CELL_KEYS = ("Positive electrode OCP [V]", "Maximum concentration in positive electrode [mol.m-3]",
                  "Positive particle diffusivity [m2.s-1]", "Positive electrode exchange-current density [A.m-2]",
                  "Positive electrode thickness [m]", "Positive particle radius [m]",
                  "Electrolyte conductivity [S.m-1]", "Separator thickness [m]")


def is_pybamm_source(value: Any) -> bool:
    """True for ``pybamm:<SetName>`` and ``*.json`` (BPX) values of ``electrochem.parameters``."""
    return isinstance(value, (str, Path)) and (str(value).startswith(PYBAMM_PREFIX)
                                                or str(value).lower().endswith(".json"))


def load_parameter_source(value: str | Path | None, field: str = FIELD) -> ParameterSet:
    """The parameter set named by ``electrochem.parameters``: a YAML file, a PyBaMM set or a BPX file."""
    if not is_pybamm_source(value):
        from layerlab.io import input_path
        return load_parameters(input_path(str(value)) if value else None)
    pv, label = values_for(value, field)
    return parameters_from_values(pv, label, field)


def anode_source(value: str, field: str = "fullcell.anode_parameters") -> tuple[NegativeParams, Any]:
    """``fullcell.anode_parameters``: a graphite_*.yaml file (negative + sei sections) or a PyBaMM
    set / BPX file, whose negative electrode is used (no SEI section)."""
    if not is_pybamm_source(value):
        from layerlab.io import input_path
        return load_anode(input_path(str(value)), field)
    pv, label = values_for(value, field)
    return parameters_from_values(pv, label, field, negative=True).negative, None


def values_for(value: str | Path, field: str = FIELD) -> tuple[Any, str]:
    """PyBaMM ``ParameterValues`` and a label for ``pybamm:<SetName>`` or a BPX file."""
    try:
        import pybamm
    except ImportError as err:   # pragma: no cover - pybamm is a test dependency
        raise InputError(field, f"{value}: PyBaMM is not installed", "pip install pybamm") from err
    text = str(value)
    if text.startswith(PYBAMM_PREFIX):
        name = text[len(PYBAMM_PREFIX):]
        known = sorted(pybamm.parameter_sets.keys())
        require(name in known, field, f"unknown PyBaMM parameter set {name!r}", ", ".join(known))
        return pybamm.ParameterValues(name), text
    return _bpx_values(text, field), f"bpx:{Path(text).name}"


def _bpx_values(path: str, field: str) -> Any:
    import pybamm
    from layerlab.io import input_path
    p = input_path(path)
    require(p.is_file(), field, f"no such BPX file {path!r}", "an existing BPX JSON file")
    try:
        import bpx
    except ImportError as err:   # pragma: no cover
        raise InputError(field, f"{path}: reading BPX needs the 'bpx' package", "pip install bpx") from err
    try:
        bpx.parse_bpx_file(str(p))
    except Exception as err:   # pydantic ValidationError / JSON errors: name the first problem
        raise InputError(field, f"{path} fails the BPX schema: {_first_problem(err)}",
                         "a BPX file valid against the BPX schema") from None
    try:
        return pybamm.ParameterValues.create_from_bpx(str(p))
    except (ArithmeticError, KeyError, ValueError) as err:
        raise InputError(field, f"PyBaMM cannot convert {path}: {type(err).__name__} {err}",
                         "a BPX file PyBaMM's create_from_bpx accepts") from None


def _first_problem(err: Exception) -> str:
    """The first schema violation (location and message) of a pydantic error, or the error's first line."""
    errors = err.errors() if hasattr(err, "errors") else []
    if errors:
        loc = " / ".join(str(x) for x in errors[0].get("loc", ()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{loc}: {errors[0].get('msg', '')}{more}"
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


# ---- mapping ---------------------------------------------------------------------------------------
class _Reader:
    """Reads and translates one set's values; errors name the set and the PyBaMM key."""

    def __init__(self, pv: Any, label: str, field: str) -> None:
        self.pv, self.label, self.field = pv, label, field

    def has(self, key: str) -> bool:
        return key in self.pv.keys()

    def number(self, key: str, default: float | None = None) -> float:
        if not self.has(key) and default is not None:
            return default
        require(self.has(key), self.field, f"{self.label} has no {key!r}", "a set with this value")
        v = self.pv[key]
        if callable(v):
            raise InputError(self.field, f"{self.label}: {key!r} is a function; layerlab takes a constant here",
                             "a constant")
        try:
            return float(v.evaluate()) if hasattr(v, "evaluate") else float(v)
        except (TypeError, ValueError) as err:
            raise InputError(self.field, f"{self.label}: {key!r} = {v!r} is not a number", "a number") from err

    def function(self, key: str, args: tuple[str, ...]) -> float | TranslatedFunction:
        """A constant, or the translated function of ``args``."""
        import pybamm
        require(self.has(key), self.field, f"{self.label} has no {key!r}", "a set with this function")
        if not callable(self.pv[key]):
            return self.number(key)
        inputs = {_PYBAMM_ARGS[a]: pybamm.Variable(a) for a in args}
        try:
            expr = self.pv.process_symbol(pybamm.FunctionParameter(key, inputs))
            return translate(expr, args, key)
        except Untranslatable as err:
            raise InputError(self.field, f"{self.label}: cannot translate {err}",
                             "functions built from arithmetic, exp/log/sqrt/tanh/cosh/sinh, min/max and "
                             "linear interpolants") from None


def _diffusivity(f: float | TranslatedFunction, T: float) -> float | TranslatedFunction:
    """A particle diffusivity: a constant, its value at ``T`` when it does not depend on the
    stoichiometry, else the function ``D(sto, T)``."""
    if isinstance(f, TranslatedFunction) and not f.depends_on("sto"):
        return float(f({"sto": 0.5, "T": T}))
    return f


def _ocp(rd: _Reader, electrode: str, T: float) -> TranslatedFunction:
    """U(sto) + (T - T_ref) dU/dT(sto), PyBaMM's OCP at temperature T."""
    U = rd.function(f"{electrode} electrode OCP [V]", ("sto",))
    require(isinstance(U, TranslatedFunction), rd.field, f"{rd.label}: the {electrode.lower()} OCP is a constant",
            "an OCP function of stoichiometry")
    dT = T - rd.number("Reference temperature [K]", T)
    key = f"{electrode} electrode OCP entropic change [V.K-1]"
    if dT == 0 or not rd.has(key):
        return U
    dUdT = rd.function(key, ("sto",))
    entropic = dUdT.tree if isinstance(dUdT, TranslatedFunction) else ("const", float(dUdT))
    return from_tree(("add", U.tree, ("mul", ("const", dT), entropic)), ("sto",), U.source)


def _electrode(rd: _Reader, electrode: str, T: float) -> dict[str, Any]:
    """The fields every ElectrodeParams has, from the PyBaMM keys of ``electrode`` ('Positive'/'Negative')."""
    e, lower = electrode, electrode.lower()
    return dict(
        max_concentration_mol_m3=rd.number(f"Maximum concentration in {lower} electrode [mol.m-3]"),
        diffusivity_m2_s=_diffusivity(rd.function(f"{e} particle diffusivity [m2.s-1]", ("sto", "T")), T),
        ocp=_ocp(rd, e, T),
        exchange_current_coefficient=rd.function(f"{e} electrode exchange-current density [A.m-2]",
                                                 ("c_e", "c_s_surf", "c_s_max", "T")),
        charge_transfer_coefficient=rd.number(f"{e} electrode charge transfer coefficient", 0.5),
        electronic_conductivity_S_m=rd.number(f"{e} electrode conductivity [S.m-1]"),
        bruggeman_electrode=rd.number(f"{e} electrode Bruggeman coefficient (electrode)"),
        bruggeman_electrolyte=rd.number(f"{e} electrode Bruggeman coefficient (electrolyte)"))


def parameters_from_values(pv: Any, label: str, field: str = FIELD, counter: CounterParams | None = None,
                           negative: bool = False) -> ParameterSet:
    """A checked :class:`ParameterSet` from PyBaMM ``ParameterValues`` (with the ``negative``
    section when ``negative``: a full cell); ``counter`` defaults to layerlab's lithium foil."""
    rd = _Reader(pv, label, field)
    missing = [k for k in HALF_CELL_KEYS if not rd.has(k)]
    require(not missing, field, f"{label} lacks what a half cell needs: {(missing or [''])[0]!r}",
            "a set with a positive electrode, electrolyte and separator")
    T = rd.number("Ambient temperature [K]")
    pos = _electrode(rd, "Positive", T)
    cmax = pos["max_concentration_mol_m3"]
    s0 = rd.number("Initial concentration in positive electrode [mol.m-3]") / cmax
    v_low = rd.number("Lower voltage cut-off [V]", 0.0)
    # discharged: the first stoichiometry above the initial one where the OCP reaches the lower cut-off
    grid = np.linspace(s0, 0.999, 2001)
    below = np.asarray(pos["ocp"]({"sto": grid}), dtype=float) <= v_low
    s_dis = float(grid[int(np.argmax(below))] if below.any() else grid[-1])
    positive = PositiveParams(**pos, initial_stoichiometry=s0, discharged_stoichiometry=s_dis)
    ele = ElectrolyteParams(
        initial_concentration_mol_m3=rd.number("Initial concentration in electrolyte [mol.m-3]"),
        conductivity=rd.function("Electrolyte conductivity [S.m-1]", ("c_e", "T")),
        diffusivity=rd.function("Electrolyte diffusivity [m2.s-1]", ("c_e", "T")),
        transference_number=rd.function("Cation transference number", ("c_e", "T")),
        thermodynamic_factor=rd.function("Thermodynamic factor", ("c_e", "T")) if rd.has("Thermodynamic factor")
        else 1.0)
    sep = SeparatorParams(thickness_m=rd.number("Separator thickness [m]"),
                          porosity=rd.number("Separator porosity"),
                          bruggeman=rd.number("Separator Bruggeman coefficient (electrolyte)"))
    anode = None
    if negative:
        require(rd.has("Negative electrode OCP [V]") and callable(pv["Negative electrode OCP [V]"]), field,
                f"{label} has no negative electrode (an OCP function)", "a full-cell set")
        neg = _electrode(rd, "Negative", T)
        sn = rd.number("Initial concentration in negative electrode [mol.m-3]") / neg["max_concentration_mol_m3"]
        s100 = _full_charge_stoichiometry(pv, neg["max_concentration_mol_m3"])
        anode = NegativeParams(**neg, porosity=rd.number("Negative electrode porosity"),
                                  active_fraction=rd.number("Negative electrode active material volume fraction"),
                                  particle_radius_m=rd.number("Negative particle radius [m]"),
                                  initial_stoichiometry=sn,
                                  max_stoichiometry=s100 if s100 is not None and s100 > sn else 0.5 * (1.0 + sn))
    ps = ParameterSet(name=label, temperature_K=T, positive=positive, electrolyte=ele,
                      counter=counter or load_parameters(DEFAULT_SET).counter, separator=sep, negative=anode)
    _check(ps, field)
    _check_functions(ps, field)
    return ps


def _full_charge_stoichiometry(pv: Any, c_max_mol_m3: float) -> float | None:
    """The negative electrode's stoichiometry at 100 % SOC by PyBaMM's electrode state-of-health
    solve (the top of the window the full-cell command sizes the anode with by N/P), or None."""
    try:
        charged = pv.set_initial_state(1.0, inplace=False)
        return float(charged["Initial concentration in negative electrode [mol.m-3]"]) / c_max_mol_m3
    except Exception:   # noqa: BLE001 - PyBaMM's solve failing only loses the N/P window
        return None


def _check_functions(ps: ParameterSet, field: str) -> None:
    """Translated exchange currents (at c_e0) and particle diffusivities finite and > 0 inside the
    stoichiometry range."""
    ce0 = ps.electrolyte.initial_concentration_mol_m3
    for sec in ("positive", "negative"):
        el = getattr(ps, sec)
        if el is None or not callable(el.exchange_current_coefficient):
            continue
        cmax = el.max_concentration_mol_m3
        s = np.linspace(0.01, 0.99, 99)
        j0 = np.asarray(el.exchange_current_coefficient({"c_e": ce0, "c_s_surf": s * cmax, "c_s_max": cmax,
                                                        "T": ps.temperature_K}), dtype=float)
        require(bool(np.all(np.isfinite(j0) & (j0 > 0))), field,
                f"{ps.name}: {sec} exchange current is not finite and > 0 for sto in [0.01, 0.99]", "j0 > 0")
        if callable(el.diffusivity_m2_s):
            D = np.asarray(el.diffusivity_m2_s({"sto": s, "T": ps.temperature_K}), dtype=float)
            require(bool(np.all(np.isfinite(D) & (D > 0))), field,
                    f"{ps.name}: {sec} particle diffusivity is not finite and > 0 for sto in [0.01, 0.99]", "D > 0")


# ---- the set's own cell (cross-checks) --------------------------------------------------------------
def cell_from_values(pv: Any, label: str, full: bool) -> Any:
    """The set's own cell: its positive electrode (one layer, population L) and separator, with
    the lithium foil (``full`` False) or the set's negative electrode (``full`` True)."""
    from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec
    params = parameters_from_values(pv, label, negative=full)
    rd = _Reader(pv, label, FIELD)
    eps = rd.number("Positive electrode porosity")
    act = rd.number("Positive electrode active material volume fraction")
    cath = CathodeSpec(layers=(LayerSpec("L", rd.number("Positive electrode thickness [m]"), eps, {"L": act},
                                         inactive_fraction=0.0),),
                       radius_m={"L": rd.number("Positive particle radius [m]")})
    if not full:
        return HalfCell(params, cath)
    neg = params.negative
    anode = AnodeSpec(rd.number("Negative electrode thickness [m]"), neg.porosity, neg.active_fraction,
                      neg.particle_radius_m)
    return HalfCell(params, cath, anode=anode)
