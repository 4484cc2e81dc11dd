"""The paper beside the model: every reported value and every stated ordering, one row each.

Rows are built from ``config/reference/paper_targets.yaml`` (the paper's visible numbers; held-out
values are not in it and are never used) and the campaign datasets.  A comparison whose data were
not produced by the campaign is listed with ``holds = "not run"``, never dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from layerlab.aggregate.select import select, select_scalar
from layerlab.cfnames import DISTANCE
from layerlab.orderings import TIE_REL, Row, best_row, ordering_row  # noqa: F401 (re-exported)
from layerlab.reference import TARGETS_FILE, load_targets, rate_blocks  # noqa: F401 (re-exported)


def _fmt(x: float, unit: str = "") -> str:
    return "not run" if np.isnan(x) else f"{x:.4g}{(' ' + unit) if unit else ''}"


def rate_value_rows(targets: Mapping, rate: xr.Dataset | None) -> list[Row]:
    """Reported discharge capacities next to the model's."""
    rows = []
    for block in rate_blocks(targets).values():
        fig, loading, porosity = block.figure, block.loading_mg_cm2, block.porosity
        for arch, values in targets["rate_capability"][block.name].items():
            for key, paper_value in values.items():
                if not key.endswith("C"):
                    continue
                c_rate = float(key[:-1])
                model = float("nan") if rate is None else select_scalar(
                    rate["discharge_capacity"], architecture=arch, loading=loading, porosity=porosity,
                    ls_ratio=0.5, c_rate=c_rate)
                note = "" if np.isnan(model) else f"model - paper = {model - paper_value:+.4g} mAh/g"
                rows.append(Row(fig, "value", f"discharge capacity at {key}",
                                f"{arch} {loading:g} mg/cm2 porosity {porosity:g}", f"{paper_value:g} mAh/g",
                                _fmt(model, "mAh/g"), "n/a" if not np.isnan(model) else "not run", note))
    return rows


def _capacities(rate: xr.Dataset | None, archs: Sequence[str], loading: float, porosity: float,
                c_rate: float, ls_ratio: float = 0.5) -> dict[str, float]:
    if rate is None:
        return {a: float("nan") for a in archs}
    return {a: select_scalar(rate["discharge_capacity"], architecture=a, loading=loading,
                           porosity=porosity, ls_ratio=ls_ratio, c_rate=c_rate) for a in archs}


def stated_block_rows(targets: Mapping, rate: xr.Dataset | None) -> list[Row]:
    """What the paper states at 1C in each rate block (an order, or the best architecture)."""
    rows = []
    for b in rate_blocks(targets).values():
        where = f"{b.loading_mg_cm2:g} mg/cm2, {100 * b.porosity:g} %"
        caps = _capacities(rate, list(b.architectures), b.loading_mg_cm2, b.porosity, 1.0)
        if b.stated_order_1C:
            rows.append(ordering_row(b.figure, "discharge capacity at 1C", where, caps, list(b.stated_order_1C),
                                     unit="mAh/g"))
        if b.stated_best_1C:
            rows.append(best_row(b.figure, f"{b.stated_best_1C} best at 1C", where, caps, b.stated_best_1C,
                                 unit="mAh/g"))
    return rows


def rate_ordering_rows(rate: xr.Dataset | None, targets: Mapping | None = None) -> list[Row]:
    """The paper's stated rate-capability orderings."""
    targets = targets or load_targets()
    dried = list(next(iter(rate_blocks(targets).values())).architectures)
    rows = stated_block_rows(targets, rate)
    for loading in (22.0, 29.6):
        for porosity in (0.55, 0.45, 0.35, 0.25):
            caps = _capacities(rate, dried, loading, porosity, 1.0)
            rows.append(best_row("4cd", "L-Dry-S best at 1C", f"{loading:g} mg/cm2, porosity {porosity:g}",
                                 caps, "L-Dry-S", unit="mAh/g"))
    for c_rate in (0.2, 0.5, 1.0):
        rows.append(ordering_row("3d", f"L-Dry-S above L-S at {c_rate:g}C", "29.6 mg/cm2, 55 %",
                                 _capacities(rate, ["L-Dry-S", "L-S"], 29.6, 0.55, c_rate),
                                 ["L-Dry-S", "L-S"], unit="mAh/g"))
    for dried_arch, wet_arch in (("S-Dry-L", "S-L"), ("Mix-Dry-Mix", "Mix")):
        rows.append(ordering_row("S3", f"{dried_arch} above {wet_arch} at 1C", "22 mg/cm2, 55 %",
                                 _capacities(rate, [dried_arch, wet_arch], 22.0, 0.55, 1.0),
                                 [dried_arch, wet_arch], unit="mAh/g"))
    ratios = {f"{r:g}": float("nan") for r in (0.3, 0.5, 0.7)}
    if rate is not None:
        ratios = {f"{r:g}": select_scalar(rate["discharge_capacity"], architecture="L-Dry-S", loading=29.6,
                                        porosity=0.55, ls_ratio=r, c_rate=1.0) for r in (0.3, 0.5, 0.7)}
    rows.append(best_row("5d", "L:S 7:3 best at 1C (key: L share)", "L-Dry-S 29.6 mg/cm2, 55 %",
                         ratios, "0.7", unit="mAh/g"))
    return rows


def wetting_rows(targets: Mapping, wet: xr.Dataset | None) -> list[Row]:
    """Fig. 1d (breakthrough order), Fig. 1e (trapped air) and Fig. 5f (trend with the L share)."""
    arch3 = ["L-S", "Mix", "S-L"]

    def get(var: str, arch: str, loading: float, ls: float) -> float:
        if wet is None or var not in wet:
            return float("nan")
        return select_scalar(wet[var], architecture=arch, loading=loading, porosity=0.55, ls_ratio=ls)

    bt = {a: get("breakthrough_time", a, 29.6, 0.5) for a in arch3}
    rows = [ordering_row("1d", "1 % outlet breakthrough time (fastest first)", "29.6 mg/cm2, 55 %",
                         bt, targets["wetting_simulation"]["reported"]["fig1d_order_fastest_first"],
                         descending=False, unit="s")]
    air = {a: 100 * get("trapped_air_fraction", a, 29.6, 0.5) for a in arch3}
    paper_ls = targets["wetting_simulation"]["reported"]["fig1e_mean_trapped_air_pct"]["L-S"]
    rows.append(Row("1e", "value", "trapped air fraction at steady state", "L-S 29.6 mg/cm2",
                    f"{paper_ls:g} %", _fmt(air["L-S"], "%"), "n/a" if not np.isnan(air["L-S"]) else "not run"))
    rows.append(best_row("1e", "trapped air lowest in L-S (S-L and Mix higher)", "29.6 mg/cm2, 55 %",
                         air, "L-S", largest=False, unit="%"))
    shares = [0.3, 0.4, 0.5, 0.6, 0.7]
    bt5 = {f"{s:g}": get("breakthrough_time", "L-Dry-S", 30.0, s) for s in shares}
    run = [f"{s:g}" for s in reversed(shares) if not np.isnan(bt5[f"{s:g}"])]
    rows.append(ordering_row("5f", "breakthrough time falls as the L share grows (key: L share)",
                             "L-Dry-S 30 mg/cm2", bt5, run if len(run) >= 2 else [f"{s:g}" for s in shares],
                             descending=False, unit="s"))
    _add_seed_notes(rows, wet, arch3, shares)
    return rows


def _add_seed_notes(rows: list[Row], wet: xr.Dataset | None, arch3: Sequence[str], shares: Sequence[float]) -> None:
    """Append to the wetting ordering rows the mean +- spread over seeds and whether the model's
    ordering is significant across seeds (:mod:`layerlab.aggregate.wetting_stats`)."""
    from layerlab.aggregate.wetting_stats import seed_note, seed_stats
    if wet is None:
        return
    var = {"1d": ("breakthrough_time", 1.0, "s"), "1e": ("trapped_air_fraction", 100.0, "%")}
    for row in rows:
        if row.kind != "ordering" or row.holds == "not run":
            continue
        if row.figure in var:
            name, scale, unit = var[row.figure]
            stats = {a: seed_stats(wet.get(name), architecture=a, loading=29.6, porosity=0.55, ls_ratio=0.5)
                     for a in arch3}
        elif row.figure == "5f":
            scale, unit = 1.0, "s"
            stats = {f"{s:g}": seed_stats(wet.get("breakthrough_time"), architecture="L-Dry-S", loading=30.0,
                                          porosity=0.55, ls_ratio=s) for s in shares}
            stats = {k: v for k, v in stats.items() if v.n}
        else:
            continue
        note = seed_note(stats, scale, unit)
        row.note = f"{row.note}; {note}" if row.note else note


def mechanism_rows(profiles: xr.Dataset | None, impedance: xr.Dataset | None) -> list[Row]:
    """Fig. 6 (electrolyte concentration most uniform in L-Dry-S) and Fig. S10 (apparent Li+
    diffusion coefficient from the Warburg slope largest for L-Dry-S)."""
    dried = ["L-Dry-S", "Mix-Dry-Mix", "S-Dry-L"]
    rows = []
    for process in ("charge", "discharge"):
        spread = {}
        for arch in dried:
            da = None if profiles is None or "electrolyte_concentration" not in profiles else select(
                profiles["electrolyte_concentration"], architecture=arch, loading=29.6, porosity=0.55,
                ls_ratio=0.5, process=process, c_rate=1.0)
            if da is None or da.isnull().all() or DISTANCE not in da.dims:
                spread[arch] = float("nan")
                continue
            end = da.squeeze(drop=True).dropna("step_fraction", how="all").isel(step_fraction=-1)
            spread[arch] = float(end.max() - end.min())
        rows.append(best_row("6", f"c_e spread over depth at the end of the 1C {process}, smallest for L-Dry-S",
                             "29.6 mg/cm2, 55 %", spread, "L-Dry-S", largest=False, unit="mol/m3"))
    diff = {a: float("nan") if impedance is None or "apparent_diffusivity" not in impedance
            else select_scalar(impedance["apparent_diffusivity"], architecture=a) for a in dried}
    rows.append(best_row("S10", "apparent Li+ diffusion coefficient (Warburg) largest for L-Dry-S",
                         "impedance run set", diff, "L-Dry-S", unit="m2/s"))
    return rows


def full_cell_rows(rate: xr.Dataset | None, cycling: xr.Dataset | None) -> list[Row]:
    """Fig. 5h: full cell, L:S 1:1 vs 0:1 at 24.6 mg/cm2: equal at 0.1C, 1:1 better from 0.5C up,
    and 1:1 keeps more capacity over the cycling test."""
    shares = {"1:1": 0.5, "0:1": 0.0}
    rows = []
    for c_rate in (0.1, 0.5, 1.0, 2.0):
        caps = {k: float("nan") if rate is None else select_scalar(
            rate["discharge_capacity"], cell="full", architecture="L-Dry-S", loading=24.6, ls_ratio=ls,
            c_rate=c_rate) for k, ls in shares.items()}
        if c_rate == 0.1:
            model = "not run" if any(np.isnan(v) for v in caps.values()) else \
                "; ".join(f"{k}: {v:.4g} mAh/g" for k, v in caps.items())
            scale = max(caps.values()) if model != "not run" else 1.0
            close = model != "not run" and abs(caps["1:1"] - caps["0:1"]) <= 0.01 * scale
            rows.append(Row("5h", "ordering", "equal capacity at 0.1C (within 1 %)", "full cell 24.6 mg/cm2",
                            "1:1 = 0:1", model, "not run" if model == "not run" else ("yes" if close else "no")))
        else:
            rows.append(ordering_row("5h", f"discharge capacity at {c_rate:g}C", "full cell 24.6 mg/cm2",
                                     caps, ["1:1", "0:1"], unit="mAh/g"))
    retention = {}
    for k, ls in shares.items():
        da = None if cycling is None or "capacity_retention" not in cycling else select(
            cycling["capacity_retention"], architecture="L-Dry-S", loading=24.6, ls_ratio=ls)
        retention[k] = float("nan") if da is None or "cycle" not in da.dims else \
            100.0 * float(da.squeeze([d for d in da.dims if d != "cycle"], drop=True).dropna("cycle").isel(cycle=-1))
    rows.append(ordering_row("5h", "capacity retention at the last cycle", "full cell 24.6 mg/cm2",
                             retention, ["1:1", "0:1"], unit="%"))
    return rows


def build_rows(datasets: Mapping[str, xr.Dataset | None], targets: Mapping | None = None) -> list[Row]:
    """Every comparison row from the available datasets (missing datasets give 'not run' rows)."""
    targets = targets or load_targets()
    rate = datasets.get("rate_capability")
    builders: list[Callable[[], list[Row]]] = [
        lambda: wetting_rows(targets, datasets.get("wetting")),
        lambda: rate_value_rows(targets, rate),
        lambda: rate_ordering_rows(rate, targets),
        lambda: mechanism_rows(datasets.get("profiles"), datasets.get("impedance")),
        lambda: full_cell_rows(rate, datasets.get("cycling")),
    ]
    return [row for build in builders for row in build()]


def capacity_dataset(caps: Mapping[tuple[str, float], float]) -> xr.Dataset:
    """A ``rate_capability``-shaped dataset (``discharge_capacity`` in mAh/g over architecture, loading,
    porosity, ls_ratio, c_rate; NaN where not run) from ``{(case name, C-rate): mAh/g}``."""
    from layerlab.cases import parse_case
    cases = {name: parse_case(name) for name, _ in caps}
    dims = {"architecture": sorted({c.architecture for c in cases.values()}),
            "loading": sorted({c.loading_mg_cm2 for c in cases.values()}),
            "porosity": sorted({c.porosity for c in cases.values()}),
            "ls_ratio": sorted({c.ls_ratio for c in cases.values()}),
            "c_rate": sorted({float(r) for _, r in caps})}
    arr = np.full([len(v) for v in dims.values()], np.nan)
    for (name, r), v in caps.items():
        c = cases[name]
        arr[(dims["architecture"].index(c.architecture), dims["loading"].index(c.loading_mg_cm2),
             dims["porosity"].index(c.porosity), dims["ls_ratio"].index(c.ls_ratio),
             dims["c_rate"].index(float(r)))] = v
    return xr.Dataset({"discharge_capacity": (tuple(dims), arr, {"units": "mA h g-1"})}, coords=dims)


def calibration_capacities(summary: Mapping, set_name: str) -> dict[tuple[str, float], float] | None:
    """``{(case, C-rate): mAh/g}`` of one set of the calibration summary (``residuals.json``), or None."""
    for s in summary.get("sets", []):
        if s.get("name") == set_name:
            return {(case, float(c)): float(v) for case, by_rate in (s.get("capacities_mAh_g") or {}).items()
                    for c, v in by_rate.items()}
    return None


def rate_rows(rate: xr.Dataset | None, targets: Mapping | None = None) -> list[Row]:
    """The rate-capability rows only (values and orderings), for a variant shown beside the plain design."""
    targets = targets or load_targets()
    return rate_value_rows(targets, rate) + rate_ordering_rows(rate, targets)


def rows_to_csv(rows: Sequence[Row], beside: Mapping[str, Sequence[Row]] | None = None) -> str:
    """The table; ``beside`` adds ``<name>_model`` and ``<name>_holds`` columns per variant, matched on
    (figure, kind, quantity, case, paper) (empty where the variant has no such row)."""
    beside = beside or {}
    extra = [f"{n}_{k}" for n in beside for k in ("model", "holds")]
    index = {n: {(r.figure, r.kind, r.quantity, r.case, r.paper): r for r in rs} for n, rs in beside.items()}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(Row.__dataclass_fields__) + extra)
    writer.writeheader()
    for row in rows:
        out = asdict(row)
        for n, idx in index.items():
            other = idx.get((row.figure, row.kind, row.quantity, row.case, row.paper))
            out[f"{n}_model"], out[f"{n}_holds"] = (other.model, other.holds) if other else ("", "")
        writer.writerow(out)
    return buf.getvalue()
