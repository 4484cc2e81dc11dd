"""Scan of the one scale parameter r_c of the DFN mechanism ``electronic: {model: stage}``.

For each r_c: the paper's rate test (calibration resolution) of the visible-target cases (the dried
architectures at 22 / 29.6 mg/cm2 uncalendered and 22 mg/cm2 at 25 %) with the per-layer network
conductivities; the RMSE over the VISIBLE capacities of ``paper_targets.yaml`` (held-out values are never
read: :func:`layerlab.electrochem.calibrate.load_targets`) and the orderings the paper states at 1C.
Uses the calibration's public functions; the set "network" of ``calibrate`` needs its ``variant_config``
to keep ``model: stage`` when it fits ``mechanisms.electronic.r_c_ohm_m2`` (see the issue-12 report).

    python -m layerlab.network.rcscan --config config/config.yaml --r-c 3e-5 1e-4 3e-4 --out scan.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math

import numpy as np


def scan(config: dict, r_c_values: list[float], runs_dir: str | None = None) -> list[dict]:
    """RMSE over the visible capacities and the 1C / 2C orderings per r_c."""
    from layerlab.cases import Case
    from layerlab.electrochem.calibrate import (ARCHS, RATE_BLOCKS, load_targets, options_from_config,
                                                ordering_rows, run_capacities)
    opts = options_from_config(config)
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    runs: dict[str, set[float]] = {}
    for t in targets:
        runs.setdefault(t.case, set()).add(t.c_rate)
    for b in opts.blocks:
        _, loading, porosity = RATE_BLOCKS[b]
        for a in ARCHS:
            runs.setdefault(Case(a, loading, porosity, opts.ls_ratio).name, set()).update(opts.ordering_c_rates)
    out = []
    for r_c in r_c_values:
        cfg = copy.deepcopy(config)
        mech = cfg.setdefault("mechanisms", {})
        mech["active"] = ["electronic"]
        mech["electronic"] = {**(mech.get("electronic") or {}), "model": "stage", "r_c_ohm_m2": float(r_c)}
        if runs_dir:
            mech["electronic"]["runs_dir"] = runs_dir
        if opts.discretisation:
            cfg.setdefault("electrochem", {})["discretisation"] = dict(opts.discretisation)
        caps = run_capacities(cfg, {k: sorted(v) for k, v in runs.items()})
        res = np.array([caps[(t.case, t.c_rate)] - t.paper_mAh_g for t in targets])
        rows = ordering_rows(caps, opts.blocks, opts.ls_ratio, opts.ordering_c_rates)
        out.append({
            "r_c_ohm_m2": float(r_c),
            "rmse_visible_mAh_g": float(math.sqrt(np.nanmean(res ** 2))),
            "mae_visible_mAh_g": float(np.nanmean(np.abs(res))),
            "n_visible": len(targets),
            "orderings": rows,
            "capacities_mAh_g": {f"{case} {c:g}C": v for (case, c), v in sorted(caps.items())},
        })
        logging.getLogger("layerlab.network").info("r_c %.3g: RMSE %.2f mAh/g", r_c, out[-1]["rmse_visible_mAh_g"])
    return out


def with_network(config: dict, r_c: float | None, runs_dir: str | None = None) -> dict:
    """The config with ``electronic: {model: stage}`` at ``r_c`` on (None: the plain design, none active)."""
    cfg = copy.deepcopy(config)
    mech = cfg.setdefault("mechanisms", {})
    if r_c is None:
        mech["active"] = []
        return cfg
    mech["active"] = ["electronic"]
    mech["electronic"] = {**(mech.get("electronic") or {}), "model": "stage", "r_c_ohm_m2": float(r_c)}
    if runs_dir:
        mech["electronic"]["runs_dir"] = runs_dir
    return cfg


def campaign_orderings(config: dict, r_c: float | None, runs_dir: str | None = None) -> dict:
    """The 17 rate-capability orderings of ``comparison.csv`` for every electrochem case of the campaign,
    with the calibration's failure-tolerant rate test (a discharge whose Newton solve fails at the end
    counts the charge passed) at the calibration resolution: plain (r_c None) or the network mechanism."""
    import xarray as xr

    from layerlab.aggregate.comparison import rate_ordering_rows
    from layerlab.cases import cases_of
    from layerlab.electrochem.calibrate import options_from_config, run_capacities
    opts = options_from_config(config)
    cfg = with_network(config, r_c, runs_dir)
    if opts.discretisation:
        cfg.setdefault("electrochem", {})["discretisation"] = dict(opts.discretisation)
    rates = list(config["electrochem"]["protocol"]["c_rates"])
    cases = cases_of(config, config["electrochem"]["sweeps"], None)
    notes: dict = {}
    caps = run_capacities(cfg, {c.name: rates for c in cases}, notes)
    dims = {"architecture": sorted({c.architecture for c in cases}), "loading": sorted({c.loading_mg_cm2 for c in cases}),
            "porosity": sorted({c.porosity for c in cases}), "ls_ratio": sorted({c.ls_ratio for c in cases}),
            "c_rate": sorted(rates)}
    arr = np.full([len(v) for v in dims.values()], np.nan)
    for c in cases:
        for r in rates:
            idx = (dims["architecture"].index(c.architecture), dims["loading"].index(c.loading_mg_cm2),
                   dims["porosity"].index(c.porosity), dims["ls_ratio"].index(c.ls_ratio), dims["c_rate"].index(r))
            arr[idx] = caps[(c.name, r)]
    ds = xr.Dataset({"discharge_capacity": (tuple(dims), arr, {"units": "mAh g-1"})}, coords=dims)
    rows = rate_ordering_rows(ds)
    return {"r_c_ohm_m2": r_c, "orderings_held": sum(r.holds == "yes" for r in rows), "orderings": len(rows),
            "rows": [{"figure": r.figure, "quantity": r.quantity, "case": r.case, "paper": r.paper, "model": r.model,
                      "holds": r.holds} for r in rows],
            "failed_discharges": {f"{k[0]} {k[1]:g}C": v for k, v in notes.items()},
            "capacities_mAh_g": {f"{k[0]} {k[1]:g}C": v for k, v in sorted(caps.items())}}


def main() -> None:
    from layerlab.config import load_config
    from layerlab.io import write_json_atomic
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--r-c", type=float, nargs="+", required=True, help="r_c values (ohm m2); 'nan' = plain")
    ap.add_argument("--orderings", action="store_true", help="the 17 campaign orderings instead of the scan")
    ap.add_argument("--runs-dir", default=None, help="network runs (default: <results_dir>/runs/network)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config)
    if args.orderings:
        result = [campaign_orderings(config, None if math.isnan(r) else r, args.runs_dir) for r in args.r_c]
        write_json_atomic(args.out, result)
        print(json.dumps([{k: v for k, v in r.items() if k != "capacities_mAh_g"} for r in result], indent=1))
        return
    result = scan(config, args.r_c, args.runs_dir)
    write_json_atomic(args.out, result)
    print(json.dumps([{k: v for k, v in r.items() if k != "capacities_mAh_g"} for r in result], indent=1))


if __name__ == "__main__":
    main()
