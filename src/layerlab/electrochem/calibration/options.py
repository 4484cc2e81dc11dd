"""Checked calibration options: bounds of the fitted parameters and the mechanism sets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from layerlab import reference
from layerlab.electrochem.mechanisms import check_names
from layerlab.errors import require


MECHANISM_SETTINGS: dict[str, tuple[str, str]] = {
    "mechanisms.electronic.r_c_ohm_m2": ("electronic", "r_c_ohm_m2"),
}
"""Fittable mechanism settings that are not DFN parameters: ``mechanisms.<name>.<setting>`` ->
(mechanism, setting).  ``r_c_ohm_m2`` is the one scale parameter of ``electronic: {model: stage}``
(the network stage's interfacial resistance, issue 12)."""


@dataclass(frozen=True)
class FitParameter:
    """A fitted parameter ``section.key`` within (lo, hi), mapped to x in [-1, 1] in log space."""

    key: str
    lo: float
    hi: float
    start: float | None = None       # None: sqrt(lo hi)

    def to_x(self, value: float) -> float:
        return math.log(value / math.sqrt(self.lo * self.hi)) / math.log(math.sqrt(self.hi / self.lo))

    def from_x(self, x: float) -> float:
        return math.sqrt(self.lo * self.hi) * math.sqrt(self.hi / self.lo) ** float(x)


@dataclass(frozen=True)
class MechanismSet:
    name: str
    mechanisms: tuple[str, ...]
    fit: tuple[FitParameter, ...]


@dataclass(frozen=True)
class Options:
    targets_file: Path
    blocks: tuple[str, ...]
    ls_ratio: float
    sets: tuple[MechanismSet, ...]
    max_evaluations: int
    diff_step: float
    ordering_c_rates: tuple[float, ...]
    explain_rmse_mAh_g: float
    discretisation: dict[str, float]
    rate_blocks: Mapping[str, Any] = field(default_factory=dict)   # paper_targets.yaml rate_blocks
    campaign_runs: tuple[str, ...] = ()          # sets that also run every electrochem campaign case


def options_from_config(config: Mapping[str, Any]) -> Options:
    """Checked calibration options (InputError naming the field, before any work)."""
    from layerlab.io import input_path
    from layerlab.electrochem.parameters import _SECTIONS
    c = dict(config.get("calibration") or {})
    bounds: dict[str, FitParameter] = {}
    for key, b in dict(c.get("parameters") or {}).items():
        f = f"calibration.parameters.{key}"
        section, _, name = key.partition(".")
        require(key in MECHANISM_SETTINGS or (section in _SECTIONS and name in {
            x.name for x in dataclasses.fields(_SECTIONS[section])}), f, "unknown parameter",
            "section.key of the parameter set, e.g. positive.diffusivity_m2_s, or " + ", ".join(MECHANISM_SETTINGS))
        lo, hi = float(b["lo"]), float(b["hi"])
        require(lo > 0, f"{f}.lo", f"got {lo!r}", "> 0 (fitted in log space)")
        require(lo < hi, f"{f}.lo", f"lo {lo!r} >= hi {hi!r}", "lo < hi")
        start = b.get("start")
        require(start is None or lo < start < hi, f"{f}.start", f"got {start!r}", f"({lo:g}, {hi:g})")
        bounds[key] = FitParameter(key, lo, hi, None if start is None else float(start))
    sets = []
    names: set[str] = set()
    for i, s in enumerate(c.get("sets") or []):
        f = f"calibration.sets[{i}]"
        require(s["name"] not in names, f"{f}.name", f"{s['name']!r} used twice", "unique set names")
        names.add(s["name"])
        mechs = check_names(list(s.get("mechanisms") or []), f"{f}.mechanisms")
        fit = []
        for j, key in enumerate(s.get("fit") or []):
            require(key in bounds, f"{f}.fit[{j}]", f"no bounds for {key!r}",
                    ", ".join(bounds) or "calibration.parameters keys")
            require(bounds[key] not in fit, f"{f}.fit[{j}]", f"{key!r} listed twice", "each parameter once")
            owner = MECHANISM_SETTINGS.get(key)
            require(owner is None or owner[0] in mechs, f"{f}.fit[{j}]",
                    f"{key!r} is a setting of mechanism {owner and owner[0]!r}, which this set does not switch on",
                    f"{owner and owner[0]!r} in calibration.sets[{i}].mechanisms")
            fit.append(bounds[key])
        sets.append(MechanismSet(str(s["name"]), mechs, tuple(fit)))
    require(len(sets) > 0, "calibration.sets", "empty", "at least one mechanism set")
    targets_file = input_path(c.get("targets_file", "config/reference/paper_targets.yaml"))
    blocks = reference.rate_blocks(reference.load_targets(targets_file))
    for i, b in enumerate(c.get("blocks") or []):
        require(b in blocks, f"calibration.blocks[{i}]", f"unknown block {b!r}", ", ".join(blocks))
    return Options(targets_file=targets_file, rate_blocks=blocks,
                   blocks=tuple(c.get("blocks") or blocks), ls_ratio=float(c.get("ls_ratio", 0.5)),
                   sets=tuple(sets), max_evaluations=int(c.get("max_evaluations", 12)),
                   diff_step=float(c.get("diff_step", 0.02)),
                   ordering_c_rates=tuple(float(r) for r in c.get("ordering_c_rates", (1.0, 2.0))),
                   explain_rmse_mAh_g=float(c.get("explain_rmse_mAh_g", 10.0)),
                   discretisation=dict(c.get("discretisation") or {}),
                   campaign_runs=tuple(str(n) for n in c.get("campaign_runs") or ()))
