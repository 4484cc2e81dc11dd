"""Wetting results over packing seeds: mean and spread per design, and whether an ordering is
significant across seeds.

An ordering ``a < b < ...`` (of breakthrough times, trapped air) is called *significant across
seeds* when every adjacent pair is: the pair keeps its order in every seed (paired by seed), or the
difference of the means exceeds twice the seed spread (the larger sample standard deviation of
the two designs).  With one seed nothing is significant (no spread is known).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from layerlab.aggregate.select import DEFAULT_SELECTION

SPREAD_FACTOR = 2.0
"""A difference of the means beyond this many seed standard deviations counts as significant."""


@dataclass(frozen=True)
class SeedStats:
    """Values of one design over seeds (NaN seeds dropped)."""

    seeds: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """Sample standard deviation over seeds (NaN below two seeds)."""
        return float(np.std(self.values, ddof=1)) if self.n >= 2 else float("nan")

    def text(self, scale: float = 1.0, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        if self.n == 0:
            return "not run"
        if self.n == 1:
            return f"{scale * self.mean:.4g}{u} (1 seed)"
        return f"{scale * self.mean:.4g} +- {scale * self.spread:.2g}{u} ({self.n} seeds)"


def seed_stats(da: xr.DataArray | None, **coords: object) -> SeedStats:
    """The values of ``da`` at ``coords`` (half cell by default) for each seed that ran."""
    if da is None:
        return SeedStats((), ())
    coords = {**DEFAULT_SELECTION, **coords}
    try:
        sub = da.sel({k: v for k, v in coords.items() if k in da.dims})
    except KeyError:
        return SeedStats((), ())
    if "seed" not in sub.dims:
        vals = np.asarray(sub.values, dtype=float).reshape(-1)
        return SeedStats((0,) * int(np.isfinite(vals).sum()), tuple(float(v) for v in vals if np.isfinite(v)))
    extra = [d for d in sub.dims if d != "seed"]
    if any(sub.sizes[d] != 1 for d in extra):
        return SeedStats((), ())
    sub = sub.squeeze(extra) if extra else sub
    keep = np.isfinite(sub.values)
    return SeedStats(tuple(int(s) for s in sub["seed"].values[keep]), tuple(float(v) for v in sub.values[keep]))


def pair_significant(lo: SeedStats, hi: SeedStats) -> tuple[bool, str]:
    """Whether ``lo < hi`` is significant across seeds, and why (see the module docstring)."""
    common = sorted(set(lo.seeds) & set(hi.seeds))
    if len(common) >= 2:
        a = dict(zip(lo.seeds, lo.values))
        b = dict(zip(hi.seeds, hi.values))
        if all(a[s] < b[s] for s in common):
            return True, f"in all {len(common)} seeds"
    spread = max(lo.spread, hi.spread) if lo.n >= 2 and hi.n >= 2 else float("nan")
    gap = hi.mean - lo.mean
    if np.isfinite(spread) and gap > SPREAD_FACTOR * spread:
        return True, f"gap {gap:.3g} > {SPREAD_FACTOR:g} x spread {spread:.2g}"
    if not np.isfinite(spread):
        return False, "one seed: no spread"
    return False, f"gap {gap:.3g} <= {SPREAD_FACTOR:g} x spread {spread:.2g}"


def ordering_verdict(stats: Mapping[str, SeedStats], order: Sequence[str]) -> tuple[bool, str]:
    """Whether ``order`` (smallest first) is significant across seeds, pair by pair."""
    if any(stats[k].n == 0 for k in order):
        return False, "not run"
    parts, ok = [], True
    for a, b in zip(order, order[1:]):
        sig, why = pair_significant(stats[a], stats[b])
        ok &= sig
        parts.append(f"{a} < {b}: {'significant' if sig else 'not significant'} ({why})")
    return ok, "; ".join(parts)


def model_order(stats: Mapping[str, SeedStats]) -> list[str]:
    """Keys sorted by their mean over seeds (smallest first; designs not run last)."""
    return sorted(stats, key=lambda k: (stats[k].n == 0, stats[k].mean))


def seed_note(stats: Mapping[str, SeedStats], scale: float = 1.0, unit: str = "") -> str:
    """``"over seeds: L-S 0.61 +- 0.02 s (3 seeds), ...; model order L-S < ...: significant (...)"``."""
    runs = ", ".join(f"{k} {s.text(scale, unit)}" for k, s in stats.items())
    order = [k for k in model_order(stats) if stats[k].n]
    if len(order) < 2:
        return f"over seeds: {runs}"
    sig, why = ordering_verdict(stats, order)
    return (f"over seeds: {runs}; model order {' < '.join(order)} "
            f"{'significant' if sig else 'NOT significant'} across seeds ({why})")


# ---- tables of a campaign's wetting dataset (python -m layerlab.aggregate.wetting_stats) -------------
FIG1D_ARCHS = ("L-S", "Mix", "S-L")
FIG5F_SHARES = (0.3, 0.4, 0.5, 0.6, 0.7)
PAPER_ORDERS = {"1d": ["L-S", "Mix", "S-L"], "1e": ["L-S", "Mix", "S-L"], "5f": ["0.7", "0.6", "0.5", "0.4", "0.3"]}
"""The paper's orderings, smallest first: Fig. 1d breakthrough L-S < Mix < S-L; Fig. 1e trapped air
lowest in L-S (the order of Mix and S-L is not stated; written here as in Fig. 1d); Fig. 5f
breakthrough falls as the L share grows."""


def design_stats(wet: xr.Dataset, var: str, definition: str | None = None) -> dict[str, dict[str, SeedStats]]:
    """``{"1d": {arch: stats}, "5f": {share: stats}}`` of ``var`` (for ``breakthrough_time_by_definition``:
    at ``definition``)."""
    da = wet.get(var)
    if da is not None and definition is not None:
        da = da.sel(breakthrough_definition=definition)
    out = {"1d": {a: seed_stats(da, architecture=a, loading=29.6, porosity=0.55, ls_ratio=0.5) for a in FIG1D_ARCHS},
           "5f": {f"{s:g}": seed_stats(da, architecture="L-Dry-S", loading=30.0, porosity=0.55, ls_ratio=s)
                  for s in FIG5F_SHARES}}
    out["5f"] = {k: v for k, v in out["5f"].items() if v.n}
    return out


def _verdict_line(label: str, stats: Mapping[str, SeedStats], paper: Sequence[str]) -> str:
    paper = [k for k in paper if k in stats and stats[k].n]
    if len(paper) < 2:
        return f"| {label} | not run | | |"
    means_hold = all(stats[a].mean < stats[b].mean for a, b in zip(paper, paper[1:]))
    order = [k for k in model_order(stats) if stats[k].n]
    sig, why = ordering_verdict(stats, order)
    return (f"| {label} | {' < '.join(paper)}: {'holds' if means_hold else 'fails'} (means) "
            f"| {' < '.join(order)} | {'significant' if sig else 'not significant'}: {why} |")


def seed_table(wet: xr.Dataset) -> str:
    """Markdown: breakthrough time and trapped air per design (mean +- sd over seeds, each seed),
    then the verdict per ordering."""
    bt, air = design_stats(wet, "breakthrough_time"), design_stats(wet, "trapped_air_fraction")
    lines = ["| design | breakthrough time (s) | per seed | trapped air (% of pores) | per seed |", "|---|---|---|---|---|"]
    for fig, label in (("1d", "{} 29.6 mg/cm2"), ("5f", "L-Dry-S 30 mg/cm2, L share {}")):
        for k, s in bt[fig].items():
            a = air[fig].get(k, SeedStats((), ()))
            lines.append(f"| {label.format(k)} | {s.text()} | {', '.join(f'{v:.4g}' for v in s.values)} "
                         f"| {a.text(100.0)} | {', '.join(f'{100 * v:.3g}' for v in a.values)} |")
    lines += ["", "| ordering | paper | model order (means) | across seeds |", "|---|---|---|---|",
              _verdict_line("Fig. 1d breakthrough", bt["1d"], PAPER_ORDERS["1d"]),
              _verdict_line("Fig. 1e trapped air", air["1d"], PAPER_ORDERS["1e"]),
              _verdict_line("Fig. 5f breakthrough", bt["5f"], PAPER_ORDERS["5f"])]
    return "\n".join(lines)


def definition_table(wet: xr.Dataset) -> str:
    """Markdown: the Fig. 1d breakthrough times (mean +- sd over seeds) under each definition of the
    1 % outlet VOF, and whether the paper's order and the model's order hold under it."""
    if "breakthrough_time_by_definition" not in wet:
        return "(no breakthrough_time_by_definition in this dataset)"
    lines = ["| definition | " + " | ".join(FIG1D_ARCHS) + " | Fig. 1d paper order (means) | model order | across seeds |",
             "|---|" + "---|" * (len(FIG1D_ARCHS) + 3)]
    for d in wet["breakthrough_definition"].values:
        stats = design_stats(wet, "breakthrough_time_by_definition", str(d))["1d"]
        row = _verdict_line(str(d), stats, PAPER_ORDERS["1d"]).split(" | ", 1)[1]
        lines.append(f"| {d} | " + " | ".join(stats[a].text() for a in FIG1D_ARCHS) + f" | {row}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Print both tables for the wetting runs of a config (``--runs`` folder, default its results)."""
    import argparse
    from pathlib import Path

    from layerlab.aggregate.combine import combine_runs
    from layerlab.aggregate.datasets import DATASETS, dataset_cases
    from layerlab.config import load_config
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--runs", help="folder of the wetting runs (default: <results_dir>/runs/wetting)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    runs = Path(args.runs) if args.runs else Path(cfg["results_dir"]) / "runs" / "wetting"
    spec = DATASETS["wetting"]
    wet = combine_runs(runs, dataset_cases(cfg, "wetting"), spec.variables, reduce=spec.reduce)
    print(f"runs found: {wet.attrs.get('runs_found')} of {wet.attrs.get('runs_expected')}; "
          f"missing: {wet.attrs.get('missing_runs') or 'none'}\n")
    print(seed_table(wet))
    print()
    print(definition_table(wet))


if __name__ == "__main__":
    main()
