"""Resistance laws of one particle-particle or particle-collector contact and the model parameters.

A contact of conducting radius ``b`` between particles i and j is the series of one *particle side* per
particle and, once per contact, the interfacial resistance per unit area ``r_c`` over the real contact
area, ``r_c / (pi b^2)``.  A particle side is the resistance from the particle's centre plane (the node
potential) to the contact disk, conduction in the NMC (conductivity sigma, radius r):

    R_side = 1 / (4 sigma b)  +  ln(r / b) / (4 pi sigma r)  -  0.1 b / (sigma r^2)

The first term is Holm's constriction resistance of a disk into a half-space (R. Holm, Electric
Contacts, 4th ed., Springer 1967, sec. 4); two sides give Holm's ``1 / (2 sigma b)`` for b << r.  The
logarithm is the spreading through the sphere's narrowing pole region: its coefficient ``1 / (4 pi)``
is the asymptote of the axisymmetric finite-element reference (:mod:`layerlab.network.axisym`) for
b/r -> 0 (matched to 1 % at b/r = 0.02-0.1); the linear term is a correction read off the same
reference over 0.2 <= b/r <= 0.6 (the contact radii of the packings).  The law is checked against the
reference at other radii in tests/verification/test_network_resolved.py (within 2 %).  b/r is clipped to
``MAX_B_OVER_R``.  A collector contact has one particle side (the foil is an ideal conductor) and its own
``r_c`` (``collector_r_c_ohm_m2``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerlab.errors import options_from_mapping, require

FIELD = "network.parameters"
CBD_RULES: tuple[str, ...] = ("none", "neck", "film")
"""Carbon-binder placement: none (left out), neck (bridges at the contacts), film (uniform coat)."""


@dataclass(frozen=True)
class NetworkParameters:
    """Physical parameters of the electronic network (``config["network"]`` or CLI flags).

    Parameters
    ----------
    sigma_bulk_S_m : electronic conductivity of the NMC particles, S/m
    r_c_ohm_m2 : interfacial resistance per unit real contact area (film, NMC/carbon-binder), ohm m2
    collector_r_c_ohm_m2 : the same at the collector contacts (None: ``r_c_ohm_m2``)
    cbd_rule : carbon-binder placement, one of :data:`CBD_RULES`
    bridge_cap : largest bridge (neck) radius as a fraction of the smaller particle radius
    """

    sigma_bulk_S_m: float = 0.1
    r_c_ohm_m2: float = 0.0
    collector_r_c_ohm_m2: float | None = None
    cbd_rule: str = "neck"
    bridge_cap: float = 0.9

    def __post_init__(self) -> None:
        f = FIELD
        for name in ("sigma_bulk_S_m", "r_c_ohm_m2", "collector_r_c_ohm_m2", "bridge_cap"):
            v = getattr(self, name)
            if v is None and name == "collector_r_c_ohm_m2":
                continue
            require(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
                    f"{f}.{name}", f"got {v!r}", "a finite number")
        require(self.sigma_bulk_S_m > 0, f"{f}.sigma_bulk_S_m", f"got {self.sigma_bulk_S_m!r}", "> 0 S/m")
        require(self.r_c_ohm_m2 >= 0, f"{f}.r_c_ohm_m2", f"got {self.r_c_ohm_m2!r}", ">= 0 ohm m2")
        if self.collector_r_c_ohm_m2 is not None:
            require(self.collector_r_c_ohm_m2 >= 0, f"{f}.collector_r_c_ohm_m2",
                    f"got {self.collector_r_c_ohm_m2!r}", ">= 0 ohm m2 (or null: r_c_ohm_m2)")
        require(self.cbd_rule in CBD_RULES, f"{f}.cbd_rule", f"got {self.cbd_rule!r}", ", ".join(CBD_RULES))
        require(0.0 < self.bridge_cap < 1.0, f"{f}.bridge_cap", f"got {self.bridge_cap!r}", "in (0, 1)")

    @property
    def collector_r_c(self) -> float:
        return self.r_c_ohm_m2 if self.collector_r_c_ohm_m2 is None else float(self.collector_r_c_ohm_m2)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> "NetworkParameters":
        """Parameters from ``config["network"]["parameters"]`` (unknown keys are an InputError)."""
        return options_from_mapping(cls, section, FIELD)


MAX_B_OVER_R = 0.9
"""Largest contact radius over particle radius the side law is used at (reference-checked to 0.7)."""

SPREADING_COEFF = 1.0 / (4.0 * math.pi)
LINEAR_COEFF = 0.1


def side_ohm(b_m: np.ndarray, r_m: np.ndarray, sigma: float) -> np.ndarray:
    """Resistance of one particle side of a contact of radius ``b_m`` (centre plane to contact disk)."""
    r = np.asarray(r_m, dtype=float)
    e = np.clip(np.asarray(b_m, dtype=float) / r, 1e-12, MAX_B_OVER_R)
    return (1.0 / (4.0 * e) + SPREADING_COEFF * np.log(1.0 / e) - LINEAR_COEFF * e) / (sigma * r)


def interface_ohm(b_m: np.ndarray, r_c: float) -> np.ndarray:
    """Interfacial resistance ``r_c / (pi b^2)`` of a contact of radius ``b_m``."""
    return r_c / (math.pi * np.asarray(b_m) ** 2)
