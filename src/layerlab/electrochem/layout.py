"""Layout of the DFN unknown vector: which component of the blocked P1 space holds what.

Every node carries the same ``size`` components, grouped in named blocks allocated in the order
the DFN's terms declare them (:func:`layerlab.electrochem.terms.layout_for`); for the standard
terms:

=====================  ====  ===================================================================
block                  size  unknown
=====================  ====  ===================================================================
``ln_c_e``             1     ln(c_e / c_e0)
``phi_e``              1     electrolyte potential, V
``phi_s``              1     cathode solid potential, V
``particle:<pop>``     N+1   N radial control-volume stoichiometries + logit of the surface one
``phi_s_anode``        1     anode solid potential, V (full cell)
``particle:graphite``  N+1   graphite particle (full cell)
``sei_thickness``      1     L_sei / L_sei,0 (full cell with SEI growth)
``j_tot_anode``        1     total anode interfacial current, A/m2 (full cell with SEI growth)
=====================  ====  ===================================================================

A block also says which of its components are time-differentiated (the integrator's error control
acts on those) and the largest Newton update per component (the damping of :class:`DFNModel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

#: Newton update limits (the per-unknown trust region): V, ln c_e, stoichiometry, surface logit
LIMIT_POTENTIAL_V = 0.3
LIMIT_LN_CE = 1.0
LIMIT_STOICHIOMETRY = 0.2
LIMIT_SURFACE_LOGIT = 4.0
UNLIMITED = 1e6

GRAPHITE = "graphite"


@dataclass(frozen=True)
class BlockSpec:
    """A named block of unknowns: per-component differential flag and Newton update limit."""

    name: str
    differential: tuple[bool, ...]
    newton_limit: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.differential) != len(self.newton_limit) or not self.differential:
            raise ValueError(f"block {self.name!r}: differential and newton_limit must have one entry per component")

    @property
    def size(self) -> int:
        return len(self.differential)


@dataclass(frozen=True)
class Block:
    """A block placed in the layout: components ``start .. start + size - 1`` of every node."""

    spec: BlockSpec
    start: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def size(self) -> int:
        return self.spec.size

    @property
    def stop(self) -> int:
        return self.start + self.size

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def __getitem__(self, k: int) -> int:
        """Component index of the block's k-th unknown (negative k from the end)."""
        if not -self.size <= k < self.size:
            raise IndexError(f"block {self.name!r} has {self.size} components, not {k}")
        return self.start + (k % self.size)


def scalar_block(name: str, limit: float, differential: bool = False) -> BlockSpec:
    return BlockSpec(name, (differential,), (limit,))


def particle_block(name: str, radial_volumes: int) -> BlockSpec:
    """``particle:<name>``: N differential stoichiometries and the algebraic surface logit."""
    n = radial_volumes
    return BlockSpec(f"particle:{name}", (True,) * n + (False,),
                     (LIMIT_STOICHIOMETRY,) * n + (LIMIT_SURFACE_LOGIT,))


class UnknownLayout:
    """Blocks allocated consecutively; look-up by name."""

    def __init__(self, specs: Iterable[BlockSpec], radial_volumes: int) -> None:
        self.radial_volumes = radial_volumes
        self.blocks: dict[str, Block] = {}
        start = 0
        for spec in specs:
            if spec.name in self.blocks:
                raise ValueError(f"block {spec.name!r} declared twice")
            self.blocks[spec.name] = Block(spec, start)
            start += spec.size
        self.size = start

    @classmethod
    def for_cell(cls, populations: Sequence[str], radial_volumes: int, full_cell: bool = False,
                 sei: bool = False) -> "UnknownLayout":
        """The DFN layout: electrolyte, cathode phi_s, cathode particles (+ anode, graphite, SEI)."""
        return cls(standard_blocks(populations, radial_volumes, full_cell, sei), radial_volumes)

    def __getitem__(self, name: str) -> Block:
        try:
            return self.blocks[name]
        except KeyError:
            raise KeyError(f"no block {name!r} in the layout ({', '.join(self.blocks)})") from None

    def __contains__(self, name: str) -> bool:
        return name in self.blocks

    def index(self, name: str) -> int:
        """Component of a one-component block."""
        b = self[name]
        if b.size != 1:
            raise ValueError(f"block {name!r} has {b.size} components")
        return b.start

    # the always-present scalar unknowns
    @property
    def ln_c_e(self) -> int:
        return self.index("ln_c_e")

    @property
    def phi_e(self) -> int:
        return self.index("phi_e")

    @property
    def phi_s(self) -> int:
        return self.index("phi_s")

    def particle(self, name: str) -> Block:
        """Block of a particle population (a cathode population or ``graphite``)."""
        return self[f"particle:{name}"]

    @property
    def particles(self) -> list[Block]:
        """All particle blocks, in layout order."""
        return [b for b in self.blocks.values() if b.name.startswith("particle:")]

    def differential_mask(self) -> np.ndarray:
        """Boolean per component: True for the time-differentiated unknowns."""
        return np.array([d for b in self.blocks.values() for d in b.spec.differential], dtype=bool)

    def newton_limits(self) -> np.ndarray:
        """Largest Newton update per component."""
        return np.array([x for b in self.blocks.values() for x in b.spec.newton_limit])

