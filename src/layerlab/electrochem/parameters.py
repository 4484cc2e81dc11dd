"""DFN parameter sets: read and check the YAML files under ``config/parameters/dfn_*.yaml``.

Every leaf is ``{value: ..., source: ...}`` (or ``{form, coefficients, source}`` for a function).
Unknown keys and missing keys raise :class:`~layerlab.errors.InputError` naming the dotted key.

A set may carry the optional sections ``negative`` (porous graphite anode of a full cell) and
``sei`` (SEI growth on the anode); an anode file (``config/parameters/graphite_*.yaml``) holds only
those two and is merged into a cathode set with :meth:`ParameterSet.with_anode`.  Optional keys
(:data:`_OPTIONAL`) take their default when absent (e.g. ``positive.contact_resistance_ohm_m2``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from layerlab.errors import require
from layerlab.io import finite_number, read_yaml_mapping

PARAMETER_DIR = Path(__file__).resolve().parents[3] / "config" / "parameters"
DEFAULT_SET = PARAMETER_DIR / "dfn_nmc83.yaml"
LANDESFEIND_SET = PARAMETER_DIR / "dfn_nmc83_landesfeind2019.yaml"   # the default with Landesfeind2019 electrolyte
CROSSCHECK_SET = PARAMETER_DIR / "dfn_chen2020.yaml"
FULLCELL_CROSSCHECK_SET = PARAMETER_DIR / "dfn_fullcell_chen2020.yaml"
DEFAULT_ANODE = PARAMETER_DIR / "graphite_chen2020.yaml"

FARADAY = 96485.33212      # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)


@dataclass(frozen=True)
class FunctionForm:
    """A named closed-form fit and its coefficients (see :mod:`layerlab.electrochem.electrolyte`)."""

    form: str
    coefficients: tuple[float, ...]


@dataclass(frozen=True)
class ElectrodeParams:
    """What every porous insertion electrode has: particle storage, solid diffusion, kinetics,
    solid conduction and Bruggeman exponents."""

    max_concentration_mol_m3: float
    diffusivity_m2_s: float | FunctionForm                # or D(sto, T) (a translated PyBaMM function)
    ocp: FunctionForm
    exchange_current_coefficient: float | FunctionForm   # j0 = k sqrt(c_e c_s (c_max - c_s)), or j0(c_e, c_s, c_max, T)
    charge_transfer_coefficient: float
    electronic_conductivity_S_m: float
    bruggeman_electrode: float
    bruggeman_electrolyte: float


@dataclass(frozen=True)
class PositiveParams(ElectrodeParams):
    """The layered cathode (its geometry comes from the electrode design)."""

    initial_stoichiometry: float
    discharged_stoichiometry: float
    contact_resistance_ohm_m2: float = 0.0


@dataclass(frozen=True)
class NegativeParams(ElectrodeParams):
    """Porous graphite anode of a full cell (geometry from the N/P ratio or given here)."""

    porosity: float
    active_fraction: float
    particle_radius_m: float
    initial_stoichiometry: float
    max_stoichiometry: float


@dataclass(frozen=True)
class SEIParams:
    """SEI growth on the graphite surface (see :mod:`layerlab.electrochem.sei`)."""

    initial_thickness_m: float
    partial_molar_volume_m3_mol: float
    lithium_per_sei: float
    resistivity_ohm_m: float
    solvent_diffusivity_m2_s: float
    solvent_concentration_mol_m3: float
    ec_diffusivity_m2_s: float
    ec_concentration_mol_m3: float
    kinetic_rate_constant_m_s: float
    exchange_current_A_m2: float
    open_circuit_potential_V: float
    charge_transfer_coefficient: float


@dataclass(frozen=True)
class ElectrolyteParams:
    """Binary electrolyte; t+ and the thermodynamic factor are constants or forms of c_e (and T)."""

    initial_concentration_mol_m3: float
    conductivity: FunctionForm
    diffusivity: FunctionForm
    transference_number: float | FunctionForm
    thermodynamic_factor: float | FunctionForm


@dataclass(frozen=True)
class CounterParams:
    """Lithium-metal counter electrode: j0 = k c_Li^0.7 c_e^0.3 (Xu 2019)."""

    exchange_current_coefficient: float
    lithium_concentration_mol_m3: float
    charge_transfer_coefficient: float


@dataclass(frozen=True)
class SeparatorParams:
    thickness_m: float
    porosity: float
    bruggeman: float


@dataclass(frozen=True)
class ParameterSet:
    """A complete DFN half-cell parameter set (SI)."""

    name: str
    temperature_K: float
    positive: PositiveParams
    electrolyte: ElectrolyteParams
    counter: CounterParams
    separator: SeparatorParams
    negative: NegativeParams | None = None
    sei: SEIParams | None = None

    @property
    def thermal_voltage_V(self) -> float:
        """R T / F, V."""
        return GAS_CONSTANT * self.temperature_K / FARADAY

    def replace(self, section: str, **values: Any) -> "ParameterSet":
        """A copy with some values of one section replaced (keys checked)."""
        sub = getattr(self, section)
        require(sub is not None, f"parameters.{section}", "this parameter set has no such section",
                "a full-cell set (negative, sei) or positive, electrolyte, counter, separator")
        names = {f.name for f in dataclasses.fields(sub)}
        for key in values:
            require(key in names, f"parameters.{section}.{key}", "unknown parameter key",
                    ", ".join(sorted(names)))
        out = dataclasses.replace(self, **{section: dataclasses.replace(sub, **values)})
        _check(out, "parameters")
        return out

    def with_overrides(self, overrides: Mapping[str, Mapping[str, float]] | None) -> "ParameterSet":
        """A copy with ``{section: {key: value}}`` replaced (the config's mechanism switches)."""
        out = self
        for section, values in (overrides or {}).items():
            require(section in _SECTIONS, f"electrochem.parameter_overrides.{section}", "unknown section",
                    ", ".join(_SECTIONS))
            f = f"electrochem.parameter_overrides.{section}"
            require(isinstance(values, Mapping), f, f"got {values!r}", "{key: value}")
            out = out.replace(section, **{k: finite_number(v, f"{f}.{k}") for k, v in values.items()})
        return out

    def with_anode(self, negative: NegativeParams, sei: SEIParams | None) -> "ParameterSet":
        """A copy with a graphite anode (and SEI parameters): the full-cell set."""
        out = dataclasses.replace(self, negative=negative, sei=sei)
        _check(out, "parameters")
        return out


_SECTIONS: dict[str, type] = {"positive": PositiveParams, "electrolyte": ElectrolyteParams,
                              "counter": CounterParams, "separator": SeparatorParams,
                              "negative": NegativeParams, "sei": SEIParams}
_OPTIONAL_SECTIONS = ("negative", "sei")
_OPTIONAL: dict[str, dict[str, float]] = {"positive": {"contact_resistance_ohm_m2": 0.0}}
_FORMS = {"chen2020_nmc": 11, "chen2020_graphite": 12, "nyman2008_conductivity": 3,
          "nyman2008_diffusivity": 3, "landesfeind2019_conductivity": 6, "landesfeind2019_diffusivity": 4,
          "landesfeind2019_transference_number": 9, "landesfeind2019_thermodynamic_factor": 9}
# electrolyte concentrations (mol/m3) over which the transport functions are checked
CHECKED_CONCENTRATIONS_MOL_M3 = (1.0, 4000.0)


def _leaf(node: Any, field: str) -> Any:
    if isinstance(node, Mapping) and "form" in node:
        unknown = set(node) - {"form", "coefficients", "source"}
        require(not unknown, f"{field}.{sorted(unknown)[0] if unknown else ''}", "unknown parameter key",
                "form, coefficients, source")
        form = str(node["form"])
        require(form in _FORMS, f"{field}.form", f"unknown form {form!r}", ", ".join(_FORMS))
        raw = node.get("coefficients", ())
        require(isinstance(raw, (list, tuple)), f"{field}.coefficients", f"got {raw!r}", "a list of numbers")
        coeffs = tuple(finite_number(c, f"{field}.coefficients[{i}]") for i, c in enumerate(raw))
        require(len(coeffs) == _FORMS[form], f"{field}.coefficients",
                f"{len(coeffs)} coefficients", f"{_FORMS[form]} for form {form}")
        require("source" in node, f"{field}.source", "every parameter needs a source", "a citation")
        return FunctionForm(form, coeffs)
    require(isinstance(node, Mapping) and "value" in node, field, "missing 'value'",
            "{value: ..., source: ...}")
    unknown = set(node) - {"value", "source", "units"}
    require(not unknown, f"{field}.{sorted(unknown)[0] if unknown else ''}", "unknown parameter key",
            "value, source, units")
    require("source" in node, f"{field}.source", "every parameter needs a source", "a citation")
    return finite_number(node["value"], f"{field}.value")


def _section(node: Mapping[str, Any], name: str, origin: str) -> Any:
    """One checked section (dataclass) of a parameter file."""
    cls = _SECTIONS[name]
    names = [f.name for f in dataclasses.fields(cls)]
    require(isinstance(node, Mapping), f"{origin}.{name}", "not a mapping", "{key: {value, source}}")
    for key in node:
        require(key in names, f"{origin}.{name}.{key}", "unknown parameter key", ", ".join(names))
    optional = _OPTIONAL.get(name, {})
    for key in names:
        require(key in node or key in optional, f"{origin}.{name}.{key}", "missing", "a value with its source")
    return cls(**{k: _leaf(node[k], f"{origin}.{name}.{k}") for k in names if k in node})


def parameters_from_dict(data: Mapping[str, Any], origin: str = "parameters") -> ParameterSet:
    """Build and check a :class:`ParameterSet` from the parsed YAML mapping."""
    require(isinstance(data, Mapping), origin, f"a {type(data).__name__}, not a mapping", "a YAML mapping")
    top = {"name", "temperature_K", *_SECTIONS}
    for key in data:
        require(key in top, f"{origin}.{key}", "unknown parameter key", ", ".join(sorted(top)))
    for key in top:
        require(key in data or key in _OPTIONAL_SECTIONS, f"{origin}.{key}", "missing", "a value")
    sections: dict[str, Any] = {name: _section(data[name], name, origin)
                                for name in _SECTIONS if name in data}
    ps = ParameterSet(name=str(data["name"]), temperature_K=_leaf(data["temperature_K"], f"{origin}.temperature_K"),
                      **sections)
    _check(ps, origin)
    return ps


def _check(ps: ParameterSet, origin: str) -> None:
    pos, ele, sep = ps.positive, ps.electrolyte, ps.separator
    for sec, obj, keys in (("positive", pos, ("max_concentration_mol_m3", "diffusivity_m2_s",
                                              "exchange_current_coefficient", "electronic_conductivity_S_m")),
                           ("electrolyte", ele, ("initial_concentration_mol_m3",)),
                           ("separator", sep, ("thickness_m",)),
                           ("counter", ps.counter, ("exchange_current_coefficient",
                                                    "lithium_concentration_mol_m3"))):
        for k in keys:
            v = getattr(obj, k)
            require(isinstance(v, FunctionForm) or v > 0, f"{origin}.{sec}.{k}", f"got {v!r}", "> 0")
    require(ps.temperature_K > 0, f"{origin}.temperature_K", f"got {ps.temperature_K}", "> 0")
    require(0 < sep.porosity <= 1, f"{origin}.separator.porosity", f"got {sep.porosity}", "(0, 1]")
    _check_electrolyte(ele, ps.temperature_K, f"{origin}.electrolyte")
    for k in ("initial_stoichiometry", "discharged_stoichiometry"):
        v = getattr(pos, k)
        require(0 < v < 1, f"{origin}.positive.{k}", f"got {v}", "(0, 1)")
    for k in ("charge_transfer_coefficient",):
        for sec, obj in (("positive", pos), ("counter", ps.counter)):
            v = getattr(obj, k)
            require(0 < v < 1, f"{origin}.{sec}.{k}", f"got {v}", "(0, 1)")
    require(pos.contact_resistance_ohm_m2 >= 0, f"{origin}.positive.contact_resistance_ohm_m2",
            f"got {pos.contact_resistance_ohm_m2}", ">= 0 ohm m2")
    if ps.negative is not None:
        _check_negative(ps.negative, f"{origin}.negative")
    if ps.sei is not None:
        _check_sei(ps.sei, f"{origin}.sei")


def _check_electrolyte(ele: ElectrolyteParams, temperature_K: float, f: str) -> None:
    """Each transport property (constant or form) finite and in range over the checked concentrations."""
    from layerlab.electrochem.electrolyte import property_value   # imports this module

    lo, hi = CHECKED_CONCENTRATIONS_MOL_M3
    c = np.geomspace(lo, hi, 400)
    for key, low, high, allowed in (("conductivity", 0.0, np.inf, "> 0"), ("diffusivity", 0.0, np.inf, "> 0"),
                                    ("transference_number", 0.0, 1.0, "[0, 1)"),
                                    ("thermodynamic_factor", 0.0, np.inf, "> 0")):
        prop = getattr(ele, key)
        v = np.broadcast_to(np.asarray(property_value(prop, c, temperature_K), dtype=float), c.shape)
        bad = ~np.isfinite(v) | (v >= high) | ((v < low) if key == "transference_number" else (v <= low))
        if not bad.any():
            continue
        i = int(np.argmax(bad))
        if isinstance(prop, FunctionForm):
            require(False, f"{f}.{key}", f"form {prop.form} gives {v[i]:.4g} at c_e = {c[i]:.4g} mol/m3",
                    f"{allowed} for c_e in [{lo:g}, {hi:g}] mol/m3 at {temperature_K:g} K")
        require(False, f"{f}.{key}", f"got {float(v[i])!r}", allowed)


def _check_negative(neg: NegativeParams, f: str) -> None:
    for k in ("max_concentration_mol_m3", "diffusivity_m2_s", "exchange_current_coefficient",
              "electronic_conductivity_S_m", "particle_radius_m"):
        require(isinstance(getattr(neg, k), FunctionForm) or getattr(neg, k) > 0, f"{f}.{k}", f"got {getattr(neg, k)!r}", "> 0")
    for k in ("porosity", "active_fraction", "initial_stoichiometry", "max_stoichiometry",
              "charge_transfer_coefficient"):
        require(0 < getattr(neg, k) < 1, f"{f}.{k}", f"got {getattr(neg, k)!r}", "(0, 1)")
    require(neg.porosity + neg.active_fraction <= 1, f"{f}.active_fraction",
            f"porosity {neg.porosity:g} + active fraction {neg.active_fraction:g} > 1", "porosity + solids <= 1")
    require(neg.initial_stoichiometry < neg.max_stoichiometry, f"{f}.initial_stoichiometry",
            f"got {neg.initial_stoichiometry!r}", f"< max_stoichiometry ({neg.max_stoichiometry})")


def _check_sei(sei: SEIParams, f: str) -> None:
    for k in ("initial_thickness_m", "partial_molar_volume_m3_mol", "lithium_per_sei"):
        require(getattr(sei, k) > 0, f"{f}.{k}", f"got {getattr(sei, k)!r}", "> 0")
    for k in ("resistivity_ohm_m", "solvent_diffusivity_m2_s", "solvent_concentration_mol_m3",
              "ec_diffusivity_m2_s", "ec_concentration_mol_m3", "kinetic_rate_constant_m_s",
              "exchange_current_A_m2"):
        require(getattr(sei, k) >= 0, f"{f}.{k}", f"got {getattr(sei, k)!r}", ">= 0")
    require(0 < sei.charge_transfer_coefficient < 1, f"{f}.charge_transfer_coefficient",
            f"got {sei.charge_transfer_coefficient!r}", "(0, 1)")


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Read a DFN parameter YAML file (default: ``config/parameters/dfn_nmc83.yaml``)."""
    p = Path(path) if path else DEFAULT_SET
    data = read_yaml_mapping(p, "electrochem.parameters", "a dfn_*.yaml parameter file (a mapping)")
    return parameters_from_dict(data, origin="parameters")


def load_anode(path: str | Path | None = None,
               field: str = "fullcell.anode_parameters") -> tuple[NegativeParams, SEIParams | None]:
    """Read an anode file (sections ``negative`` and optionally ``sei``; default graphite_chen2020.yaml)."""
    p = Path(path) if path else DEFAULT_ANODE
    data = read_yaml_mapping(p, field, "a graphite_*.yaml parameter file (a mapping)")
    require(isinstance(data, Mapping) and "negative" in data, f"{field}.negative", "missing",
            "a 'negative' section")
    allowed = {"name", "negative", "sei"}
    for key in data:
        require(key in allowed, f"{field}.{key}", "unknown parameter key", ", ".join(sorted(allowed)))
    neg = _section(data["negative"], "negative", field)
    _check_negative(neg, f"{field}.negative")
    sei = None
    if "sei" in data:
        sei = _section(data["sei"], "sei", field)
        _check_sei(sei, f"{field}.sei")
    return neg, sei
