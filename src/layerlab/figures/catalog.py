"""One figure per paper comparison: what each draws, from which dataset, with which paper values."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from layerlab.aggregate.select import select
from layerlab.aggregate.wetting_stats import seed_stats
from layerlab.cfnames import DISTANCE
from layerlab.reference import block_of_figure
from layerlab.figures.plots import ARCH_COLORS, FigureSpec, _note, bar_figure, capacity_figure, line_figure

Datasets = Mapping[str, "xr.Dataset | None"]
DRIED = ("L-Dry-S", "Mix-Dry-Mix", "S-Dry-L")   # drawn together in the calendering figures (4c, 4d)


BESIDE = {"network": "rate_capability_network"}
"""Model variants drawn beside the plain design in the rate figures: label -> dataset name (the
calibration's set "network", when the figures are given the calibration summary)."""


def _beside(ds: Datasets) -> dict[str, "xr.Dataset | None"]:
    return {label: ds.get(name) for label, name in BESIDE.items() if ds.get(name) is not None}


def _paper_rate_points(targets: Mapping, block: str) -> dict[str, dict[float, float]]:
    out: dict[str, dict[float, float]] = {}
    for arch, values in targets["rate_capability"][block].items():
        pts = {float(k[:-1]): float(v) for k, v in values.items() if k.endswith("C")}
        if pts:
            out[arch] = pts
    return out


def _block_rate(ds: Datasets, figure: str, targets: Mapping) -> plt.Figure:
    """A rate figure of one paper block: its design and architectures, the paper's markers
    (``rate_blocks`` of paper_targets.yaml)."""
    b = block_of_figure(targets, figure)
    title = f"Fig. {figure}: {b.loading_mg_cm2:g} mg/cm$^2$, {100 * b.porosity:g} %"
    return _rate(ds, title, b.architectures, b.loading_mg_cm2, b.porosity, targets, b.name)


def _rate(ds: Datasets, title: str, archs, loading: float, porosity: float, targets: Mapping,
          block: str | None = None) -> plt.Figure:
    series = [(a, dict(architecture=a, loading=loading, porosity=porosity, ls_ratio=0.5)) for a in archs]
    points = _paper_rate_points(targets, block) if block else None
    return capacity_figure(ds.get("rate_capability"), title, series, points, beside=_beside(ds))


def _porosity_sweep(ds: Datasets, loading: float, title: str, targets: Mapping) -> plt.Figure:
    series = [(a, dict(architecture=a, loading=loading, ls_ratio=0.5, c_rate=1.0)) for a in DRIED]
    b = block_of_figure(targets, "4c")     # the paper's 1C markers at 25 % porosity (22 mg/cm2 only)
    points = None
    if loading == b.loading_mg_cm2:
        points = {a: {b.porosity: v[1.0]} for a, v in _paper_rate_points(targets, b.name).items()}
    return capacity_figure(ds.get("rate_capability"), title, series, points, x_dim="porosity", beside=_beside(ds))


def _wetting_scalar(ds: Datasets, var: str, arch: str, loading: float, ls: float, scale: float = 1.0) -> float:
    wet = ds.get("wetting")
    if wet is None or var not in wet:
        return float("nan")
    da = select(wet[var], architecture=arch, loading=loading, porosity=0.55, ls_ratio=ls)
    return float("nan") if da is None or da.size != 1 else scale * float(da.values.reshape(-1)[0])


def _wetting_seeds(ds: Datasets, var: str, arch: str, loading: float, ls: float, scale: float = 1.0) -> list[float]:
    """The values of each packing seed that ran (see :mod:`layerlab.aggregate.wetting_stats`)."""
    wet = ds.get("wetting")
    stats = seed_stats(None if wet is None else wet.get(var), architecture=arch, loading=loading,
                       porosity=0.55, ls_ratio=ls)
    return [scale * v for v in stats.values]


def fig1d(ds: Datasets, targets: Mapping) -> plt.Figure:
    archs = ["L-S", "Mix", "S-L", "L-Dry-S", "S-Dry-L"]
    vals = {a: _wetting_scalar(ds, "breakthrough_time", a, 29.6, 0.5) for a in archs}
    seeds = {a: _wetting_seeds(ds, "breakthrough_time", a, 29.6, 0.5) for a in archs}
    return bar_figure(vals, "1 % outlet breakthrough time (s)",
                      "Fig. 1d: wetting speed (paper order: L-S < Mix < S-L)", per_seed=seeds)


def fig1e(ds: Datasets, targets: Mapping) -> plt.Figure:
    archs = ["L-S", "Mix", "S-L", "L-Dry-S", "S-Dry-L"]
    vals = {a: _wetting_scalar(ds, "trapped_air_fraction", a, 29.6, 0.5, 100.0) for a in archs}
    seeds = {a: _wetting_seeds(ds, "trapped_air_fraction", a, 29.6, 0.5, 100.0) for a in archs}
    paper = targets["wetting_simulation"]["reported"]["fig1e_mean_trapped_air_pct"]
    return bar_figure(vals, "trapped air at steady state (% of pore area)", "Fig. 1e: trapped air", paper,
                      per_seed=seeds)


def fig5f(ds: Datasets, targets: Mapping) -> plt.Figure:
    shares = [0.3, 0.4, 0.5, 0.6, 0.7]
    vals = [_wetting_scalar(ds, "breakthrough_time", "L-Dry-S", 30.0, s) for s in shares]
    seeds = [_wetting_seeds(ds, "breakthrough_time", "L-Dry-S", 30.0, s) for s in shares]
    return line_figure(shares, vals, "L share of the thickness (-)", "1 % outlet breakthrough time (s)",
                       "Fig. 5f: L-Dry-S 30 mg/cm$^2$ (paper: falls with the L share)", per_seed=seeds)


def fig6(ds: Datasets, targets: Mapping) -> plt.Figure:
    """Electrolyte concentration through the thickness at the end of the 1C charge and discharge."""
    prof = ds.get("profiles")
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), sharey=True)
    for ax, process in zip(axes, ("charge", "discharge")):
        missing = []
        for arch in DRIED:
            da = None if prof is None or "electrolyte_concentration" not in prof else select(
                prof["electrolyte_concentration"], architecture=arch, loading=29.6, porosity=0.55,
                ls_ratio=0.5, process=process, c_rate=1.0)
            if da is None or da.isnull().all():
                missing.append(arch)
                continue
            end_state = da.squeeze(drop=True).isel(step_fraction=-1)
            ax.plot(end_state[DISTANCE] * 1e6, end_state.values, label=arch)
        ax.set_xlabel("depth from the current collector (um)")
        ax.set_title("end of the 1C discharge" if process == "discharge"
                     else "end of the CC charge before the 1C discharge", fontsize=10)
        ax.grid(alpha=0.3)
        _note(ax, missing)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("electrolyte Li$^+$ concentration (mol m$^{-3}$)")
    fig.suptitle("Fig. 6: 29.6 mg/cm$^2$, 55 % (paper: L-Dry-S most uniform)", fontsize=10)
    return fig


def figS10(ds: Datasets, targets: Mapping) -> plt.Figure:
    """Nyquist plots of the dried architectures and the apparent diffusion coefficient of each."""
    imp = ds.get("impedance")
    fig, (ax_n, ax_d) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    missing, diffusivity = [], {}
    for arch in DRIED:
        sel = dict(architecture=arch)
        re_ = None if imp is None or "impedance_real" not in imp else select(imp["impedance_real"], **sel)
        im_ = None if imp is None or "impedance_imag" not in imp else select(imp["impedance_imag"], **sel)
        d = None if imp is None or "apparent_diffusivity" not in imp else select(imp["apparent_diffusivity"], **sel)
        diffusivity[arch] = float("nan") if d is None or d.size != 1 else float(d.values.reshape(-1)[0])
        if re_ is None or im_ is None or re_.isnull().all():
            missing.append(arch)
            continue
        re_, im_ = re_.squeeze(drop=True), im_.squeeze(drop=True)
        ax_n.plot(re_.values * 1e4, -im_.values * 1e4, "-", color=ARCH_COLORS[arch], label=arch)
    ax_n.set_xlabel("Z' ($\\Omega$ cm$^2$)")
    ax_n.set_ylabel("-Z'' ($\\Omega$ cm$^2$)")
    ax_n.set_aspect("equal", adjustable="datalim")
    ax_n.grid(alpha=0.3)
    _note(ax_n, missing)
    if ax_n.get_legend_handles_labels()[0]:
        ax_n.legend(fontsize=7)
    keys = list(diffusivity)
    ax_d.bar(range(len(keys)), np.nan_to_num([diffusivity[k] for k in keys]),
             color=[ARCH_COLORS[k] for k in keys])
    ax_d.set_xticks(range(len(keys)), keys)
    ax_d.set_ylabel("apparent Li$^+$ diffusion coefficient (m$^2$ s$^{-1}$)")
    ax_d.grid(alpha=0.3, axis="y")
    _note(ax_d, [k for k in keys if np.isnan(diffusivity[k])])
    fig.suptitle("Fig. S10: impedance and Warburg analysis (paper: largest D for L-Dry-S)", fontsize=10)
    return fig


def _curve(rate: xr.Dataset | None, **sel: object) -> tuple[np.ndarray, np.ndarray] | None:
    """(capacity, voltage) of one voltage-capacity curve of the rate dataset; None when not run."""
    if rate is None or "curve_voltage" not in rate:
        return None
    q, v = select(rate["curve_capacity"], **sel), select(rate["curve_voltage"], **sel)
    if q is None or v is None or q.squeeze().ndim != 1 or v.isnull().all():
        return None
    return q.squeeze().values, v.squeeze().values


def figS9(ds: Datasets, targets: Mapping) -> plt.Figure:
    """Voltage against capacity: the 1C charge and discharge of each architecture of Fig. 2f / 2g
    (top), and L-Dry-S's discharge at every C-rate (bottom)."""
    rate = ds.get("rate_capability")
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 7.0), sharey=True)
    for col, figure in enumerate(("2f", "2g")):
        b = block_of_figure(targets, figure)
        base = dict(loading=b.loading_mg_cm2, porosity=b.porosity, ls_ratio=0.5)
        ax, missing = axes[0, col], []
        for arch in b.architectures:
            curves = {p: _curve(rate, architecture=arch, process=p, c_rate=1.0, **base) for p in ("charge", "discharge")}
            for process, style in (("charge", "--"), ("discharge", "-")):
                if curves[process] is not None:
                    ax.plot(*curves[process], style, color=ARCH_COLORS[arch],
                            label=arch if process == "discharge" else None)
            if all(c is None for c in curves.values()):
                missing.append(arch)
        ax.set_title(f"1C, {b.loading_mg_cm2:g} mg/cm$^2$, {100 * b.porosity:g} % (charge dashed)", fontsize=9)
        _note(ax, missing)
        ax_r = axes[1, col]
        c_rates = [] if rate is None or "c_rate" not in rate.dims else [float(c) for c in rate["c_rate"].values]
        cmap = plt.get_cmap("viridis")
        for k, c in enumerate(c_rates):
            curve = _curve(rate, architecture="L-Dry-S", process="discharge", c_rate=c, **base)
            if curve is not None:
                ax_r.plot(*curve, color=cmap(k / max(1, len(c_rates) - 1)), label=f"{c:g}C")
        ax_r.set_title(f"L-Dry-S discharge per C-rate, {b.loading_mg_cm2:g} mg/cm$^2$", fontsize=9)
        _note(ax_r, [] if ax_r.get_lines() else ["L-Dry-S"])
        for a in (ax, ax_r):
            a.set_xlabel("capacity (mAh g$^{-1}$)")
            a.grid(alpha=0.3)
            if a.get_legend_handles_labels()[0]:
                a.legend(fontsize=7)
    for a in axes[:, 0]:
        a.set_ylabel("voltage vs Li (V)")
    fig.suptitle("Fig. S9: charge / discharge curves of the half cells (model)", fontsize=10)
    fig.tight_layout()
    return fig


FULL_CELL_SERIES = (("1:1", 0.5), ("0:1", 0.0))


def fig5h(ds: Datasets, targets: Mapping) -> plt.Figure:
    """Full cell L:S 1:1 vs 0:1: rate capability and capacity retention over cycles."""
    fig, (ax_r, ax_c) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    series = [(f"L:S = {label}", dict(cell="full", architecture="L-Dry-S", loading=24.6, ls_ratio=ls))
              for label, ls in FULL_CELL_SERIES]
    capacity_figure(ds.get("rate_capability"), "rate capability", series, ax=ax_r)
    cyc = ds.get("cycling")
    missing, last_cycle = [], 0
    for (label, sel), colour in zip(series, ("C0", "C1")):
        sel = {k: v for k, v in sel.items() if k != "cell"}
        da = None if cyc is None or "capacity_retention" not in cyc else select(cyc["capacity_retention"], **sel)
        if da is None or da.isnull().all() or "cycle" not in da.dims:
            missing.append(label)
            continue
        da = da.squeeze([d for d in da.dims if d != "cycle"], drop=True)
        ax_c.plot(da["cycle"], 100.0 * da.values, "-", color=colour, label=f"{label} (model)")
        last_cycle = max(last_cycle, int(da["cycle"].where(da.notnull(), drop=True).max()))
    ax_c.set_xlabel("cycle")
    ax_c.set_ylabel("capacity retention (%)")
    ax_c.set_title(f"cycling ({last_cycle} cycles run; paper: 200)" if last_cycle else "cycling", fontsize=10)
    ax_c.grid(alpha=0.3)
    _note(ax_c, missing)
    if ax_c.get_legend_handles_labels()[0]:
        ax_c.legend(fontsize=7)
    fig.suptitle("Fig. 5h: full cell graphite || NMC83, 24.6 mg/cm$^2$ (paper: 1:1 better from 0.5C up)",
                 fontsize=10, y=1.02)
    return fig


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("fig1d", "Wetting: time to 1 % of the maximum outlet electrolyte fraction per architecture.", fig1d),
    FigureSpec("fig1e", "Wetting: air left in the electrode at steady state; paper marker for L-S.", fig1e),
    FigureSpec("fig2f", "Rate capability, 22 mg/cm2, uncalendered.",
               lambda d, t: _block_rate(d, "2f", t)),
    FigureSpec("fig2g", "Rate capability, 29.6 mg/cm2, uncalendered.",
               lambda d, t: _block_rate(d, "2g", t)),
    FigureSpec("fig3c", "L-Dry-S vs L-S (intermixed band), 22 mg/cm2.",
               lambda d, t: _rate(d, "Fig. 3c: 22 mg/cm$^2$", ("L-Dry-S", "L-S"), 22.0, 0.55, t)),
    FigureSpec("fig3d", "L-Dry-S vs L-S (intermixed band), 29.6 mg/cm2.",
               lambda d, t: _rate(d, "Fig. 3d: 29.6 mg/cm$^2$", ("L-Dry-S", "L-S"), 29.6, 0.55, t)),
    FigureSpec("figS3", "No-drying variants beside the dried ones, 22 mg/cm2.",
               lambda d, t: _rate(d, "Fig. S3: 22 mg/cm$^2$", ("S-Dry-L", "S-L", "Mix-Dry-Mix", "Mix"),
                                  22.0, 0.55, t)),
    FigureSpec("fig4c", "1C capacity vs porosity (calendering), 22 mg/cm2; paper markers at 25 %.",
               lambda d, t: _porosity_sweep(d, 22.0, "Fig. 4c: 22 mg/cm$^2$, 1C", t)),
    FigureSpec("fig4d", "1C capacity vs porosity (calendering), 29.6 mg/cm2.",
               lambda d, t: _porosity_sweep(d, 29.6, "Fig. 4d: 29.6 mg/cm$^2$, 1C", t)),
    FigureSpec("fig5d", "Rate capability vs L:S thickness ratio, L-Dry-S 29.6 mg/cm2.",
               lambda d, t: capacity_figure(d.get("rate_capability"), "Fig. 5d: L-Dry-S, 29.6 mg/cm$^2$",
                                            [(f"L share {s:g}", dict(architecture="L-Dry-S", loading=29.6,
                                                                     porosity=0.55, ls_ratio=s))
                                             for s in (0.3, 0.4, 0.5, 0.6, 0.7)])),
    FigureSpec("fig5f", "Wetting: breakthrough time vs L share, L-Dry-S 30 mg/cm2.", fig5f),
    FigureSpec("fig5h", "Full cell: L:S 1:1 vs 0:1, rate capability and capacity retention.", fig5h),
    FigureSpec("fig6", "Electrolyte concentration through the thickness at the end of a 1C discharge.", fig6),
    FigureSpec("figS9", "Voltage-capacity curves: 1C charge and discharge per architecture, L-Dry-S at each C-rate.",
               figS9),
    FigureSpec("figS10", "Impedance spectra and the apparent Li+ diffusion coefficient from the Warburg slope.", figS10),
)


def has_data(fig: plt.Figure) -> bool:
    """Whether any model line or bar with a finite value was drawn."""
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_gid() != "paper" and np.isfinite(np.asarray(line.get_ydata(), float)).any():
                return True
        if any(p.get_height() > 0 for p in ax.patches):
            return True
    return False
