"""Electrode designs: architecture, loading, porosity and L:S ratio -> thickness and layers.

Coordinates: ``z`` runs through the thickness from the current collector (``z = 0``) to the
separator (``z = thickness_m``).  Layers are listed bottom (current collector) first.

Architectures (Chen et al. 2024):

* ``L-Dry-S`` / ``S-Dry-L``: two layers with a sharp boundary (first coat dried).
* ``Mix-Dry-Mix``: two coats of the same L+S mixture: one uniform layer.
* ``L-S`` / ``S-L``: as above without intermediate drying: an intermixed band of width
  ``band_width_m`` (half L, half S by active volume) replaces the sharp boundary.  The band
  takes equal thickness from both layers, so the L and S masses are those of the dried variant.
* ``Mix``: uniform mixture (geometrically the same as ``Mix-Dry-Mix``).

``ls_ratio`` is the L share: of the thickness for layered designs, of the active-material mass
for mixtures.  ``ls_ratio = 1`` and ``0`` are the single-size references (L:S = 1:0 and 0:1).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence


from layerlab.errors import InputError, require, require_in_range
from layerlab.units import UM_TO_M, loading_to_kg_m2

ARCHITECTURES: tuple[str, ...] = ("L-Dry-S", "S-Dry-L", "Mix-Dry-Mix", "L-S", "S-L", "Mix")
"""Architecture names exactly as in the paper."""

LAYER_ORDER: dict[str, tuple[str, str] | None] = {
    "L-Dry-S": ("L", "S"), "S-Dry-L": ("S", "L"), "L-S": ("L", "S"), "S-L": ("S", "L"),
    "Mix-Dry-Mix": None, "Mix": None,
}
"""Bottom and top population of the layered architectures; None for mixtures."""

INTERMIXED: frozenset[str] = frozenset({"L-S", "S-L"})
"""Layered architectures coated without intermediate drying (intermixed band at the boundary)."""

POROSITY_RANGE: tuple[float, float] = (0.1, 0.9)
"""Open interval of accepted target porosities."""

DEFAULT_MATERIALS_FILE = Path(__file__).resolve().parents[2] / "config" / "parameters" / "materials.yaml"


@dataclass(frozen=True)
class Materials:
    """Densities, composition and particle sizes of the composite electrode (SI)."""

    density_active_kg_m3: float
    density_carbon_kg_m3: float
    density_binder_kg_m3: float
    mass_fraction_active: float
    mass_fraction_carbon: float
    mass_fraction_binder: float
    diameter_L_m: float
    diameter_S_m: float
    specific_capacity_1C_A_kg: float

    def __post_init__(self) -> None:
        for f in ("density_active_kg_m3", "density_carbon_kg_m3", "density_binder_kg_m3",
                  "diameter_L_m", "diameter_S_m", "specific_capacity_1C_A_kg"):
            v = getattr(self, f)
            require(v > 0, f"materials.{f}", f"got {v!r}", "> 0")
        fractions = (self.mass_fraction_active, self.mass_fraction_carbon, self.mass_fraction_binder)
        require(all(w >= 0 for w in fractions) and abs(sum(fractions) - 1.0) < 1e-9,
                "materials.composition_mass_fraction", f"got {fractions}",
                "non-negative mass fractions summing to 1")
        require(self.mass_fraction_active > 0, "materials.mass_fraction_active",
                f"got {self.mass_fraction_active}", "> 0")

    @property
    def specific_volume_m3_kg(self) -> float:
        """Solid volume per kg of coating (active + carbon + binder), m3/kg."""
        return (self.mass_fraction_active / self.density_active_kg_m3
                + self.mass_fraction_carbon / self.density_carbon_kg_m3
                + self.mass_fraction_binder / self.density_binder_kg_m3)

    @property
    def active_share_of_solid_volume(self) -> float:
        """Fraction of the solid volume that is active material (the rest is carbon + binder)."""
        return (self.mass_fraction_active / self.density_active_kg_m3) / self.specific_volume_m3_kg

    def radius_m(self, population: str) -> float:
        """Particle radius of population ``"L"`` or ``"S"``."""
        if population == "L":
            return 0.5 * self.diameter_L_m
        if population == "S":
            return 0.5 * self.diameter_S_m
        raise InputError("population", f"got {population!r}", "'L' or 'S'")


@functools.lru_cache(maxsize=8)
def load_materials(path: str | Path | None = None) -> Materials:
    """Read :class:`Materials` from a parameter YAML file (default: config/parameters/materials.yaml).

    InputError (naming ``materials.<key>``) when the file does not parse, a section or value is
    missing, or a value is not a finite number."""
    from layerlab.io import finite_number, input_path, read_yaml_mapping

    data = read_yaml_mapping(input_path(path or DEFAULT_MATERIALS_FILE), "materials",
                             "a materials YAML file (config/parameters/materials.yaml)")

    def num(*keys: str) -> float:
        node: Any = data
        for i, k in enumerate(keys):
            if not isinstance(node, Mapping) or k not in node:
                raise InputError("materials." + ".".join(keys[:i + 1]), "missing",
                                 "the sections of config/parameters/materials.yaml")
            node = node[k]
        return finite_number(node, "materials." + ".".join(keys))

    am = ("active_material",)
    comp = ("composition_mass_fraction", "value")
    return Materials(
        density_active_kg_m3=num(*am, "density_kg_m3", "value"),
        density_carbon_kg_m3=num("carbon_black", "density_kg_m3", "value"),
        density_binder_kg_m3=num("binder", "density_kg_m3", "value"),
        mass_fraction_active=num(*comp, "active"),
        mass_fraction_carbon=num(*comp, "carbon"),
        mass_fraction_binder=num(*comp, "binder"),
        diameter_L_m=num(*am, "particle_diameter_L_m", "value"),
        diameter_S_m=num(*am, "particle_diameter_S_m", "value"),
        specific_capacity_1C_A_kg=num(*am, "specific_capacity_1C_A_kg", "value"),
    )


@dataclass(frozen=True)
class Layer:
    """A slab of the electrode with uniform composition.

    Volume fractions refer to the layer volume: ``porosity + active_fraction_L +
    active_fraction_S + inactive_fraction = 1``.
    """

    name: str                 # "L", "S", "mix" or "band"
    z_bottom_m: float
    z_top_m: float
    porosity: float
    active_fraction_L: float
    active_fraction_S: float
    inactive_fraction: float  # carbon black + binder

    @property
    def thickness_m(self) -> float:
        return self.z_top_m - self.z_bottom_m

    @property
    def solid_fraction(self) -> float:
        """Volume fraction of all solids (active + carbon + binder)."""
        return 1.0 - self.porosity

    @property
    def active_fraction(self) -> float:
        return self.active_fraction_L + self.active_fraction_S

    @property
    def L_share_of_active(self) -> float:
        """Fraction of this layer's active volume that is L particles."""
        return self.active_fraction_L / self.active_fraction if self.active_fraction > 0 else 0.0


def ls_share(ratio: float | str | Sequence[float], field: str = "design.ls_ratio") -> float:
    """L share from a float in [0, 1], a pair ``[L, S]`` or a string ``"L:S"``.

    A pair must have non-negative parts that sum to a positive number.
    """
    if isinstance(ratio, str):
        parts = ratio.split(":")
        try:
            ratio = [float(p) for p in parts] if len(parts) == 2 else float(ratio)
        except ValueError:
            raise InputError(field, f"got {ratio!r}", "a number in [0, 1] or 'L:S' such as '3:7'") from None
    if isinstance(ratio, (list, tuple)):
        require(len(ratio) == 2, field, f"got {ratio!r}", "a pair [L, S]")
        l_part, s_part = (float(x) for x in ratio)
        require(l_part >= 0 and s_part >= 0 and l_part + s_part > 0, field,
                f"got L:S = {l_part:g}:{s_part:g}", "non-negative parts that sum to a positive number")
        return l_part / (l_part + s_part)
    value = float(ratio)
    require_in_range(value, field, 0.0, 1.0)
    return value


@dataclass(frozen=True)
class ElectrodeDesign:
    """One electrode: architecture, areal loading, porosity and L:S ratio.

    Parameters
    ----------
    architecture : one of :data:`ARCHITECTURES`
    loading_mg_cm2 : areal coating mass (active + carbon + binder), mg/cm2
    porosity : target porosity, in the open interval :data:`POROSITY_RANGE`
    ls_ratio : L share (see module docstring), in [0, 1]
    band_width_m : width of the intermixed band of ``L-S`` / ``S-L`` (ignored otherwise)
    materials : densities and composition
    """

    architecture: str
    loading_mg_cm2: float
    porosity: float
    ls_ratio: float = 0.5
    band_width_m: float = 10e-6
    materials: Materials = dataclasses.field(default_factory=load_materials)

    def __post_init__(self) -> None:
        require(self.architecture in ARCHITECTURES, "design.architecture",
                f"unknown architecture {self.architecture!r}", ", ".join(ARCHITECTURES))
        require(self.loading_mg_cm2 > 0, "design.loading_mg_cm2", f"got {self.loading_mg_cm2!r}", "> 0")
        require_in_range(self.porosity, "design.porosity", *POROSITY_RANGE, low_open=True, high_open=True)
        object.__setattr__(self, "ls_ratio", ls_share(self.ls_ratio))
        require(self.band_width_m >= 0, "design.band_width_m", f"got {self.band_width_m!r}", ">= 0")
        if self._has_band:
            limit = 2.0 * min(self.ls_ratio, 1.0 - self.ls_ratio) * self.thickness_m
            require(self.band_width_m <= limit, "design.band_width_m",
                    f"band of {self.band_width_m / UM_TO_M:.3g} um is wider than twice the thinner layer",
                    f"[0, {limit / UM_TO_M:.3g}] um for this design")

    # -- bulk quantities -------------------------------------------------------------------------
    @property
    def loading_kg_m2(self) -> float:
        return loading_to_kg_m2(self.loading_mg_cm2)

    @property
    def solid_thickness_m(self) -> float:
        """Thickness the solids would have at zero porosity, m."""
        return self.loading_kg_m2 * self.materials.specific_volume_m3_kg

    @property
    def thickness_m(self) -> float:
        """Coating thickness from the paper's porosity formula, m."""
        return self.solid_thickness_m / (1.0 - self.porosity)

    @property
    def active_mass_kg_m2(self) -> float:
        return self.loading_kg_m2 * self.materials.mass_fraction_active

    @property
    def capacity_1C_A_m2(self) -> float:
        """Current density of a 1C rate (paper's definition, 210 mA/g of active material), A/m2."""
        return self.active_mass_kg_m2 * self.materials.specific_capacity_1C_A_kg

    @property
    def _has_band(self) -> bool:
        return (self.architecture in INTERMIXED and self.band_width_m > 0
                and 0.0 < self.ls_ratio < 1.0)

    # -- layers ---------------------------------------------------------------------------------
    def _layer(self, name: str, z0: float, z1: float, L_share: float) -> Layer:
        solid = 1.0 - self.porosity
        active = solid * self.materials.active_share_of_solid_volume
        return Layer(name=name, z_bottom_m=z0, z_top_m=z1, porosity=self.porosity,
                     active_fraction_L=active * L_share, active_fraction_S=active * (1.0 - L_share),
                     inactive_fraction=solid - active)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Layers from the current collector up (empty layers are omitted)."""
        H = self.thickness_m
        order = LAYER_ORDER[self.architecture]
        if order is None:
            return (self._layer("mix", 0.0, H, self.ls_ratio),)
        bottom, top = order
        bottom_share = self.ls_ratio if bottom == "L" else 1.0 - self.ls_ratio
        if bottom_share <= 0.0:
            return (self._layer(top, 0.0, H, 1.0 if top == "L" else 0.0),)
        if bottom_share >= 1.0:
            return (self._layer(bottom, 0.0, H, 1.0 if bottom == "L" else 0.0),)
        z_boundary = bottom_share * H
        half_band = 0.5 * self.band_width_m if self._has_band else 0.0
        layers = [self._layer(bottom, 0.0, z_boundary - half_band, 1.0 if bottom == "L" else 0.0)]
        if half_band > 0:
            layers.append(self._layer("band", z_boundary - half_band, z_boundary + half_band, 0.5))
        layers.append(self._layer(top, z_boundary + half_band, H, 1.0 if top == "L" else 0.0))
        return tuple(layers)

    # -- process --------------------------------------------------------------------------------
    def calendered(self, porosity: float) -> "ElectrodeDesign":
        """The same electrode calendered (or expanded) to ``porosity``: solid volume conserved."""
        return dataclasses.replace(self, porosity=porosity)

    def summary(self) -> dict[str, object]:
        """A JSON-friendly description (SI) of the design and its layers."""
        return {
            "architecture": self.architecture, "loading_mg_cm2": self.loading_mg_cm2,
            "porosity": self.porosity, "ls_ratio": self.ls_ratio, "band_width_m": self.band_width_m,
            "thickness_m": self.thickness_m, "active_mass_kg_m2": self.active_mass_kg_m2,
            "capacity_1C_A_m2": self.capacity_1C_A_m2,
            "layers": [dataclasses.asdict(layer) for layer in self.layers],
        }


def porosity_from_thickness(loading_mg_cm2: float, thickness_m: float,
                            materials: Materials | None = None) -> float:
    """The paper's porosity formula: ``1 - (sum_i w_i m / rho_i) / (S H)``."""
    require(thickness_m > 0, "thickness_m", f"got {thickness_m!r}", "> 0")
    m = materials or load_materials()
    return 1.0 - loading_to_kg_m2(loading_mg_cm2) * m.specific_volume_m3_kg / thickness_m
