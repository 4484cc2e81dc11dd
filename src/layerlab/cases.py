"""Case names: one point of a sweep, named from its parameters so a user can rerun exactly one.

``L-Dry-S_load29.6_por0.55_ls0.5`` (a design) or ``L-Dry-S_load29.6_por0.55_ls0.5_seed0``
(a design and a random packing).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from layerlab.design import ARCHITECTURES, ElectrodeDesign, load_materials, ls_share
from layerlab.errors import InputError
from layerlab.units import UM_TO_M

_CASE_RE = re.compile(
    r"^(?P<architecture>[A-Za-z-]+?)_load(?P<loading>[0-9.e+-]+)_por(?P<porosity>[0-9.e+-]+)"
    r"_ls(?P<ls>[0-9.e+-]+)(?:_seed(?P<seed>\d+))?$")


def _fmt(x: float) -> str:
    return f"{float(x):g}"


@dataclass(frozen=True)
class Case:
    """Parameters of one case (paper units where the name uses them)."""

    architecture: str
    loading_mg_cm2: float
    porosity: float
    ls_ratio: float
    seed: int | None = None

    @property
    def name(self) -> str:
        base = (f"{self.architecture}_load{_fmt(self.loading_mg_cm2)}_por{_fmt(self.porosity)}"
                f"_ls{_fmt(self.ls_ratio)}")
        return base if self.seed is None else f"{base}_seed{self.seed}"

    def with_seed(self, seed: int | None) -> "Case":
        return Case(self.architecture, self.loading_mg_cm2, self.porosity, self.ls_ratio, seed)

    def design(self, config: Mapping[str, Any] | None = None) -> ElectrodeDesign:
        """The :class:`ElectrodeDesign` of this case (materials and band width from ``config``)."""
        config = config or {}
        materials = load_materials(config.get("materials"))
        band_um = float(config.get("band_width_um", 10.0))
        return ElectrodeDesign(self.architecture, self.loading_mg_cm2, self.porosity, self.ls_ratio,
                               band_width_m=band_um * UM_TO_M, materials=materials)


def parse_case(name: str) -> Case:
    """Parse a case name; raise :class:`InputError` naming the problem."""
    m = _CASE_RE.match(name)
    if not m:
        raise InputError("case", f"cannot parse {name!r}",
                         "<architecture>_load<mg/cm2>_por<fraction>_ls<L share>[_seed<int>]")
    arch = m["architecture"]
    if arch not in ARCHITECTURES:
        raise InputError("case.architecture", f"unknown architecture {arch!r}", ", ".join(ARCHITECTURES))
    seed = int(m["seed"]) if m["seed"] is not None else None
    return Case(arch, float(m["loading"]), float(m["porosity"]), float(m["ls"]), seed)


def sweep_cases(sweep: Mapping[str, Iterable[Any]]) -> list[Case]:
    """All cases of one sweep (a cartesian product of its lists), without seeds."""
    keys = ("architecture", "loading_mg_cm2", "porosity", "ls_ratio")
    values = [list(sweep[k]) for k in keys]
    return [Case(a, float(lo), float(p), ls_share(ls)) for a, lo, p, ls in itertools.product(*values)]


def cases_of(config: Mapping[str, Any], sweep_names: Iterable[str],
             seeds: Iterable[int] | None = None) -> list[Case]:
    """Unique cases of the named sweeps of ``config`` (with each seed when ``seeds`` is given)."""
    out: dict[str, Case] = {}
    for sweep_name in sweep_names:
        if sweep_name not in config["sweeps"]:
            raise InputError(f"sweeps.{sweep_name}", "no such sweep", ", ".join(config["sweeps"]))
        for case in sweep_cases(config["sweeps"][sweep_name]):
            for seed in (list(seeds) if seeds is not None else [None]):
                c = case.with_seed(seed)
                out.setdefault(c.name, c)
    return list(out.values())
