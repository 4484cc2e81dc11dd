"""Cell geometry for the DFN model: (anode +) separator + layered cathode, from an :class:`ElectrodeDesign`.

The model coordinate ``x`` runs from the lithium foil (half cell) or the anode current collector
(full cell, ``anode`` set) at ``x = 0`` through the separator into the cathode and ends at the
cathode current collector (``x = L``).  The design's depth ``z`` (from the cathode current
collector) is ``z = L - x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from layerlab.design import ElectrodeDesign
from layerlab.electrochem.parameters import ParameterSet
from layerlab.errors import InputError, require

POPULATIONS: tuple[str, ...] = ("L", "S")


@dataclass(frozen=True)
class LayerSpec:
    """One cathode slab: thickness, porosity, active volume fraction per population, transport.

    ``tortuosity`` is the electrolyte tortuosity factor tau (``kappa_eff = kappa eps / tau``);
    ``None`` means Bruggeman, ``tau = eps**(1 - b)``.  ``electronic_conductivity_S_m`` is the
    layer's effective (composite) electronic conductivity sigma_eff in S/m; ``None`` means
    ``sigma (1 - eps)**b_s`` from the parameter set's uniform ``sigma``.
    """

    name: str
    thickness_m: float
    porosity: float
    active_fraction: Mapping[str, float]
    inactive_fraction: float = 0.0
    tortuosity: float | None = None
    electronic_conductivity_S_m: float | None = None

    def __post_init__(self) -> None:
        f = f"cathode.layers.{self.name}"
        require(self.thickness_m > 0, f"{f}.thickness_m", f"got {self.thickness_m!r}", "> 0")
        require(0 < self.porosity < 1, f"{f}.porosity", f"got {self.porosity!r}", "(0, 1)")
        for pop, v in self.active_fraction.items():
            require(pop in POPULATIONS, f"{f}.active_fraction", f"unknown population {pop!r}", "L, S")
            require(v >= 0, f"{f}.active_fraction.{pop}", f"got {v!r}", ">= 0")
        solid = sum(self.active_fraction.values()) + self.inactive_fraction
        require(self.porosity + solid <= 1 + 1e-12, f"{f}.porosity",
                f"porosity {self.porosity:g} + solid fraction {solid:g} > 1", "porosity + solids <= 1")
        if self.tortuosity is not None:
            require(self.tortuosity >= 1, f"{f}.tortuosity", f"got {self.tortuosity!r}", ">= 1")
        if self.electronic_conductivity_S_m is not None:
            s = self.electronic_conductivity_S_m
            require(math.isfinite(s) and s > 0, f"{f}.electronic_conductivity_S_m", f"got {s!r}",
                    "a finite conductivity > 0 S/m")


@dataclass(frozen=True)
class CathodeSpec:
    """Layers from the current collector up, and particle radius per population."""

    layers: tuple[LayerSpec, ...]
    radius_m: Mapping[str, float]
    active_mass_kg_m2: float | None = None
    capacity_1C_A_m2: float | None = None
    name: str = "cathode"

    def __post_init__(self) -> None:
        require(len(self.layers) > 0, "cathode.layers", "no layers", "at least one")
        for pop in self.populations:
            require(self.radius_m.get(pop, 0) > 0, f"cathode.radius_m.{pop}",
                    f"got {self.radius_m.get(pop)!r}", "> 0")

    @property
    def thickness_m(self) -> float:
        return sum(layer.thickness_m for layer in self.layers)

    @property
    def populations(self) -> tuple[str, ...]:
        """Populations present somewhere in the electrode."""
        return tuple(p for p in POPULATIONS if any(lay.active_fraction.get(p, 0) > 0 for lay in self.layers))


def cathode_from_design(design: ElectrodeDesign,
                        tortuosity: Mapping[str, float] | str | Path | None = None) -> CathodeSpec:
    """A :class:`CathodeSpec` from a design; ``tortuosity`` per layer name (dict or netCDF path)."""
    taus = load_tortuosity(tortuosity) if tortuosity is not None else {}
    layers = []
    for lay in design.layers:
        tau = taus.get(lay.name, taus.get("all"))
        layers.append(LayerSpec(name=lay.name, thickness_m=lay.thickness_m, porosity=lay.porosity,
                                active_fraction={"L": lay.active_fraction_L, "S": lay.active_fraction_S},
                                inactive_fraction=lay.inactive_fraction, tortuosity=tau))
    m = design.materials
    return CathodeSpec(layers=tuple(layers), radius_m={"L": m.radius_m("L"), "S": m.radius_m("S")},
                       active_mass_kg_m2=design.active_mass_kg_m2,
                       capacity_1C_A_m2=design.capacity_1C_A_m2, name=design.architecture)


def load_tortuosity(source: Mapping[str, float] | str | Path) -> dict[str, float]:
    """Tortuosity factor per layer name from a dict or a netCDF file.

    A netCDF file must hold a variable ``tortuosity`` with a ``layer`` coordinate (layer names
    ``L``, ``S``, ``mix``, ``band``) or a scalar ``tortuosity`` (used for all layers).
    """
    if isinstance(source, Mapping):
        out = {str(k): float(v) for k, v in source.items()}
    else:
        path = Path(source)
        require(path.is_file(), "electrochem.tortuosity", f"no such file {str(path)!r}", "a netCDF file")
        from layerlab.io import load_netcdf_input
        with load_netcdf_input(path, "electrochem.tortuosity", "a netCDF file with 'tortuosity'") as ds:
            if "tortuosity" not in ds:
                raise InputError("electrochem.tortuosity", f"{path} has no variable 'tortuosity'",
                                 "a netCDF file with 'tortuosity' (per 'layer')")
            tau = ds["tortuosity"]
            if "layer" in tau.dims:
                out = {str(k): float(v) for k, v in zip(tau["layer"].values, tau.values)}
            else:
                out = {"all": float(tau.values)}
    for k, v in out.items():
        require(v >= 1, f"electrochem.tortuosity.{k}", f"got {v!r}", ">= 1")
    return out


@dataclass(frozen=True)
class AnodeSpec:
    """Porous graphite anode: one particle population, uniform through its thickness."""

    thickness_m: float
    porosity: float
    active_fraction: float
    radius_m: float
    tortuosity: float | None = None

    def __post_init__(self) -> None:
        f = "anode"
        require(self.thickness_m > 0, f"{f}.thickness_m", f"got {self.thickness_m!r}", "> 0")
        require(0 < self.porosity < 1, f"{f}.porosity", f"got {self.porosity!r}", "(0, 1)")
        require(0 < self.active_fraction <= 1 - self.porosity, f"{f}.active_fraction",
                f"got {self.active_fraction!r}", f"(0, 1 - porosity = {1 - self.porosity:g}]")
        require(self.radius_m > 0, f"{f}.radius_m", f"got {self.radius_m!r}", "> 0")
        if self.tortuosity is not None:
            require(self.tortuosity >= 1, f"{f}.tortuosity", f"got {self.tortuosity!r}", ">= 1")


def anode_for_np_ratio(params: ParameterSet, cathode_capacity_C_m2: float, np_ratio: float,
                       field_name: str = "fullcell.np_ratio") -> AnodeSpec:
    """Graphite anode sized so that its usable capacity is ``np_ratio`` x the cathode's.

    Usable anode capacity = eps_act c_max F (max_stoichiometry - initial_stoichiometry) x thickness
    (``negative`` section); porosity, active fraction and radius from the same section.
    """
    neg = params.negative
    require(neg is not None, "fullcell.anode_parameters", "the parameter set has no negative section",
            "a graphite anode file (negative section)")
    require(np_ratio > 0, field_name, f"got {np_ratio!r}", "> 0")
    require(cathode_capacity_C_m2 > 0, "fullcell.cathode_capacity", f"got {cathode_capacity_C_m2!r}", "> 0")
    from layerlab.electrochem.parameters import FARADAY
    per_m = neg.active_fraction * neg.max_concentration_mol_m3 * FARADAY * (
        neg.max_stoichiometry - neg.initial_stoichiometry)
    return AnodeSpec(thickness_m=np_ratio * cathode_capacity_C_m2 / per_m, porosity=neg.porosity,
                     active_fraction=neg.active_fraction, radius_m=neg.particle_radius_m)


@dataclass(frozen=True)
class HalfCell:
    """Parameters + cathode (+ anode): everything the DFN model needs besides the discretisation.

    With ``anode`` None (default) the counter electrode is lithium foil (half cell); with an
    :class:`AnodeSpec` (and ``params.negative`` set) it is a porous graphite anode (full cell).
    """

    params: ParameterSet
    cathode: CathodeSpec
    separator_tortuosity: float | None = field(default=None)
    anode: AnodeSpec | None = field(default=None)

    def __post_init__(self) -> None:
        if self.anode is not None:
            require(self.params.negative is not None, "parameters.negative", "a full cell needs the graphite "
                    "parameters", "a parameter set with a negative section (ParameterSet.with_anode)")

    @property
    def is_full_cell(self) -> bool:
        return self.anode is not None

    @property
    def anode_thickness_m(self) -> float:
        return self.anode.thickness_m if self.anode is not None else 0.0

    @property
    def length_m(self) -> float:
        return self.anode_thickness_m + self.params.separator.thickness_m + self.cathode.thickness_m

    def theoretical_capacity_C_m2(self, sto_from: float, sto_to: float) -> float:
        """Charge to move all particles between two stoichiometries, C/m2."""
        from layerlab.electrochem.parameters import FARADAY
        c_max = self.params.positive.max_concentration_mol_m3
        vol = sum(lay.thickness_m * sum(lay.active_fraction.values()) for lay in self.cathode.layers)
        return abs(sto_to - sto_from) * c_max * vol * FARADAY


Cell = HalfCell  # a half cell, or a full cell when ``anode`` is set
