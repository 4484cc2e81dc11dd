"""The paper's reported values and stated orderings, from one file: ``config/reference/paper_targets.yaml``.

The comparison table (:mod:`layerlab.aggregate.comparison`), the calibration
(:mod:`layerlab.electrochem.calibration`) and the figures (:mod:`layerlab.figures.catalog`) read the
paper here and nowhere else; the workflow declares the file an input of those rules
(``calibration.targets_file`` in their settings).  Held-out values are not in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from layerlab.errors import InputError, require
from layerlab.io import REPO_ROOT, finite_number, read_yaml_mapping

TARGETS_FILE = REPO_ROOT / "config" / "reference" / "paper_targets.yaml"
FIELD = "calibration.targets_file"


def load_targets(path: str | Path = TARGETS_FILE) -> dict[str, Any]:
    """The parsed targets file (InputError when missing, not YAML or not a mapping)."""
    return read_yaml_mapping(path, FIELD, "paper_targets.yaml (the paper's visible numbers)")


@dataclass(frozen=True)
class RateBlock:
    """One rate-capability block of the paper: a figure panel at one design.

    ``architectures``: those the block reports (the keys of ``rate_capability.<name>``, in the
    file's order); ``stated_order_1C`` / ``stated_best_1C``: what the paper states at 1C there.
    """

    name: str
    figure: str
    loading_mg_cm2: float
    porosity: float
    architectures: tuple[str, ...]
    stated_order_1C: tuple[str, ...] | None = None
    stated_best_1C: str | None = None


def rate_blocks(targets: Mapping[str, Any]) -> dict[str, RateBlock]:
    """Every block of ``rate_blocks`` (design and stated 1C ordering), checked."""
    raw = targets.get("rate_blocks")
    require(isinstance(raw, Mapping) and raw, f"{FIELD}: rate_blocks", "missing or empty",
            "{block: {figure, loading_mg_cm2, porosity, stated_1C}}")
    values = targets.get("rate_capability") or {}
    out = {}
    for name, spec in raw.items():
        f = f"{FIELD}: rate_blocks.{name}"
        require(isinstance(spec, Mapping), f, f"got {spec!r}", "{figure, loading_mg_cm2, porosity, stated_1C}")
        archs = tuple(str(a) for a, v in (values.get(name) or {}).items()
                      if isinstance(v, Mapping) and "held" not in str(a).lower())
        stated = spec.get("stated_1C") or {}
        require(isinstance(stated, Mapping), f"{f}.stated_1C", f"got {stated!r}", "{order: [...]} or {best: ...}")
        order = tuple(stated["order"]) if "order" in stated else None
        out[name] = RateBlock(str(name), str(spec.get("figure", "")),
                              finite_number(spec.get("loading_mg_cm2"), f"{f}.loading_mg_cm2"),
                              finite_number(spec.get("porosity"), f"{f}.porosity"), archs, order,
                              stated.get("best"))
    return out


def block_of_figure(targets: Mapping[str, Any], figure: str) -> RateBlock:
    """The rate block of a figure panel (e.g. ``"2f"``)."""
    for block in rate_blocks(targets).values():
        if block.figure == figure:
            return block
    raise InputError(f"{FIELD}: rate_blocks", f"no block of figure {figure!r}", "a block per rate figure")
