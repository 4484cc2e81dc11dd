"""Figures that set the model beside the paper, one per comparison (matplotlib, Agg).

Every figure function takes the campaign datasets and the paper targets and returns a
:class:`matplotlib.figure.Figure`; the paper's reported values are drawn as black open markers.
Series the campaign did not run are named in the figure's note rather than silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from layerlab.aggregate.select import drop_unrun, select  # noqa: E402
from layerlab.io import atomic_path  # noqa: E402

ARCH_COLORS = {"L-Dry-S": "tab:blue", "S-Dry-L": "tab:red", "Mix-Dry-Mix": "tab:green",
               "L-S": "tab:cyan", "S-L": "tab:orange", "Mix": "tab:olive"}
PAPER_STYLE = dict(marker="o", mfc="none", mec="k", ls="none", ms=8, label="paper (reported)", gid="paper")


@dataclass(frozen=True)
class FigureSpec:
    """A paper comparison: file stem, caption and the function that draws it."""

    name: str
    caption: str
    draw: Callable[[Mapping[str, xr.Dataset | None], Mapping], plt.Figure]


def save_figure(fig: plt.Figure, path: str | Path) -> None:
    """Save ``fig`` atomically (temporary name, then rename) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=130, bbox_inches="tight")
    plt.close(fig)


def _note(ax: plt.Axes, missing: Sequence[str]) -> None:
    if missing:
        ax.text(0.02, 0.02, "not run: " + ", ".join(missing), transform=ax.transAxes, fontsize=7,
                color="0.4", va="bottom")


def capacity_figure(rate: xr.Dataset | None, title: str, series: Sequence[tuple[str, dict]],
                    paper_points: Mapping[str, Mapping[float, float]] | None = None,
                    x_dim: str = "c_rate", ax: plt.Axes | None = None,
                    beside: Mapping[str, xr.Dataset | None] | None = None) -> plt.Figure:
    """Discharge capacity vs ``x_dim`` (C-rate by default) for several series (label, selection),
    on a new figure or on ``ax``; ``beside`` ({name: dataset}, e.g. the network mechanism) draws the
    same series of other model variants dashed, where they have values."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
    else:
        fig = ax.figure
    missing = []
    for label, sel in series:
        da = None if rate is None else select(rate["discharge_capacity"], **sel)
        if da is None or da.isnull().all() or x_dim not in da.dims:
            missing.append(label)
            continue
        da = drop_unrun(da, keep=(x_dim,))
        da = da.squeeze([d for d in da.dims if d != x_dim and da.sizes[d] == 1], drop=True)
        ax.plot(da[x_dim], da.values, "-s", color=ARCH_COLORS.get(label),
                label=f"{label} (model)")
    for name, other in (beside or {}).items():
        for label, sel in series:
            da = None if other is None else select(other["discharge_capacity"], **sel)
            if da is None or x_dim not in da.dims or da.isnull().all():
                continue
            da = da.squeeze([d for d in da.dims if d != x_dim and da.sizes[d] == 1], drop=True).dropna(x_dim)
            ax.plot(da[x_dim], da.values, "--^", color=ARCH_COLORS.get(label), label=f"{label} ({name})")
    first = True
    labels_at: dict[tuple[float, float], list[str]] = {}     # one annotation per point: labels joined
    for label, points in (paper_points or {}).items():
        xs, ys = zip(*sorted(points.items())) if points else ((), ())
        style = dict(PAPER_STYLE)
        style["label"] = "paper (reported)" if first else None
        ax.plot(xs, ys, **style)
        for x, y in zip(xs, ys):
            labels_at.setdefault((x, y), []).append(label)
        first = False
    for (x, y), labels in labels_at.items():
        ax.annotate(", ".join(labels), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    if x_dim == "c_rate":
        ax.set_xscale("log")
    ax.set_xlabel({"c_rate": "C-rate (1C = 210 mA g$^{-1}$)", "porosity": "porosity (-)",
                   "ls_ratio": "L share of the thickness (-)"}.get(x_dim, x_dim))
    ax.set_ylabel("discharge capacity (mAh g$^{-1}$)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    _note(ax, missing)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


def _seed_marks(ax: plt.Axes, x: Sequence[float], per_seed: Sequence[Sequence[float]]) -> None:
    """Each seed's value as a dot and the mean +- one standard deviation as an error bar."""
    labelled = False
    for xi, vals in zip(x, per_seed):
        vals = np.asarray(vals, dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            continue
        ax.plot(np.full(vals.size, xi), vals, "o", ms=3, color="k", alpha=0.6,
                label=None if labelled else "seeds")
        labelled = True
        if vals.size >= 2:
            ax.errorbar([xi], [vals.mean()], yerr=[vals.std(ddof=1)], color="k", capsize=4, lw=1)


def bar_figure(values: Mapping[str, float], ylabel: str, title: str,
               paper: Mapping[str, float] | None = None,
               per_seed: Mapping[str, Sequence[float]] | None = None) -> plt.Figure:
    """One bar per key (NaN bars are named as not run), paper values as markers; with ``per_seed``
    the bars are the means, each seed a dot, and the error bars one standard deviation."""
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    keys = list(values)
    x = np.arange(len(keys))
    heights = [values[k] for k in keys]
    ax.bar(x, np.nan_to_num(heights), color=[ARCH_COLORS.get(k, "tab:gray") for k in keys],
           label="model" if per_seed is None else "model (mean over seeds, +- 1 sd)")
    if per_seed is not None:
        _seed_marks(ax, x, [per_seed.get(k, ()) for k in keys])
    for xi, k in zip(x, keys):
        if paper and k in paper:
            ax.plot([xi], [paper[k]], **PAPER_STYLE)
        if np.isnan(values[k]):     # named in place, where its bar would stand
            ax.text(xi, 0.02, "not run", transform=ax.get_xaxis_transform(), rotation=90, ha="center",
                    va="bottom", fontsize=7, color="0.4")
    ax.set_xticks(x, keys)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
    return fig


def line_figure(x: Sequence[float], y: Sequence[float], xlabel: str, ylabel: str, title: str,
                per_seed: Sequence[Sequence[float]] | None = None) -> plt.Figure:
    """A single model curve through the points that ran (NaN points are named as not run); with
    ``per_seed`` the curve is the mean, each seed a dot, the error bars one standard deviation."""
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ran = np.isfinite(y)
    ax.plot(x[ran], y[ran], "-o", label="model" if per_seed is None else "model (mean over seeds, +- 1 sd)")
    if per_seed is not None:
        _seed_marks(ax, x, per_seed)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    _note(ax, [f"{xi:g}" for xi, yi in zip(x, y) if np.isnan(yi)])
    ax.legend(fontsize=7)
    return fig
