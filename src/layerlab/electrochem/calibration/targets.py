"""The paper's visible discharge capacities (targets) and the orderings it states."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from layerlab import reference
from layerlab.cases import Case
from layerlab.errors import require
from layerlab.orderings import best_row, ordering_row

_RATE_KEY = re.compile(r"^(\d+(?:\.\d+)?)C$")


@dataclass(frozen=True)
class Target:
    """One visible discharge capacity of the paper."""

    block: str
    architecture: str
    loading_mg_cm2: float
    porosity: float
    ls_ratio: float
    c_rate: float
    paper_mAh_g: float
    figure: str = ""

    @property
    def case(self) -> str:
        return Case(self.architecture, self.loading_mg_cm2, self.porosity, self.ls_ratio).name

    @property
    def label(self) -> str:
        return (f"{self.figure or self.block} {self.architecture} {self.loading_mg_cm2:g} mg/cm2 "
                f"por {self.porosity:g} {self.c_rate:g}C")


def load_targets(path: str | Path, blocks: Sequence[str], ls_ratio: float = 0.5) -> list[Target]:
    """Visible capacities of ``blocks``: only numeric values under keys like ``"1C"``.

    Anything else (notes, ``null``, strings such as ``"[held out]"``, keys marked held out) is skipped.
    """
    targets = reference.load_targets(path)
    known = reference.rate_blocks(targets)
    rate = targets.get("rate_capability") or {}
    out = []
    for b in blocks:
        require(b in known, "calibration.blocks", f"unknown block {b!r}", ", ".join(known))
        loading, porosity = known[b].loading_mg_cm2, known[b].porosity
        for arch, values in (rate.get(b) or {}).items():
            if not isinstance(values, Mapping) or "held" in str(arch).lower():
                continue
            for key, v in values.items():
                m = _RATE_KEY.match(str(key))
                if m is None or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    continue
                out.append(Target(b, str(arch), loading, porosity, ls_ratio, float(m[1]), float(v), known[b].figure))
    require(len(out) > 0, "calibration.blocks", "no visible capacity in these blocks", ", ".join(known))
    return out


def ordering_rows(caps: Mapping[tuple[str, float], float], blocks: Sequence[reference.RateBlock | str], ls_ratio: float,
                  c_rates: Sequence[float]) -> list[dict[str, str]]:
    """Order of the block's architectures per block and C-rate; checked where the paper states it
    (``rate_blocks.<block>.stated_1C`` of paper_targets.yaml: an order, or the best).  A gap below
    0.5 % (the DFN's resolution) is a tie, not an order.
    """
    rows = []
    known: dict[str, reference.RateBlock] = {}
    for blk in blocks:
        if isinstance(blk, str):            # a block name: its design from the default targets file
            known = known or reference.rate_blocks(reference.load_targets())
            blk = known[blk]
        fig, loading, porosity, archs = blk.figure, blk.loading_mg_cm2, blk.porosity, blk.architectures
        stated = blk.stated_order_1C or blk.stated_best_1C
        for c in c_rates:
            vals = {a: caps.get((Case(a, loading, porosity, ls_ratio).name, c), float("nan")) for a in archs}
            model = " > ".join(f"{a} {vals[a]:.1f}" for a in sorted(archs, key=lambda a: -vals[a]))
            where = f"{fig} {loading:g} mg/cm2 por {porosity:g} {c:g}C"
            if c != 1.0 or not stated:
                rows.append({"target": f"order {where}", "paper": "not stated", "model": model, "holds": "n/a",
                             "stated": "no"})
                continue
            row = (ordering_row(fig, "", where, vals, list(blk.stated_order_1C)) if blk.stated_order_1C
                   else best_row(fig, "", where, vals, str(blk.stated_best_1C)))
            rows.append({"target": f"order {where}", "paper": row.paper, "model": model,
                         "holds": row.holds + (f" ({row.note})" if row.note else ""), "stated": "yes"})
    return rows
