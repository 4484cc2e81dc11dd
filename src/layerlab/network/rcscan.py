"""Scan of the one scale parameter r_c of the DFN mechanism ``electronic: {model: stage}``.

For each r_c: the paper's rate test (calibration resolution) of the visible-target cases (the dried
architectures at 22 / 29.6 mg/cm2 uncalendered and 22 mg/cm2 at 25 %) with the per-layer network
conductivities; the RMSE over the VISIBLE capacities of ``paper_targets.yaml`` (held-out values are never
read: :func:`layerlab.electrochem.calibration.load_targets`) and the orderings the paper states at 1C.
Uses the calibration's public functions; ``calibrate``'s set "network" fits the same r_c
(``mechanisms.electronic.r_c_ohm_m2``) by least squares.

    python -m layerlab.network.rcscan --config config/config.yaml --r-c 3e-5 1e-4 3e-4 --out scan.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math

import numpy as np

R_C_KEY = "mechanisms.electronic.r_c_ohm_m2"


def scan(config: dict, r_c_values: list[float], runs_dir: str | None = None) -> list[dict]:
    """RMSE over the visible capacities and the 1C / 2C orderings per r_c."""
    from layerlab.cases import Case
    from layerlab.electrochem.calibration import load_targets, options_from_config, ordering_rows, run_capacities
    opts = options_from_config(config)
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    runs: dict[str, set[float]] = {}
    for t in targets:
        runs.setdefault(t.case, set()).add(t.c_rate)
    blocks = [opts.rate_blocks[b] for b in opts.blocks]
    for blk in blocks:
        for a in blk.architectures:
            runs.setdefault(Case(a, blk.loading_mg_cm2, blk.porosity, opts.ls_ratio).name,
                            set()).update(opts.ordering_c_rates)
    out = []
    for r_c in r_c_values:
        cfg = with_network(config, r_c, runs_dir)
        if opts.discretisation:
            cfg.setdefault("electrochem", {})["discretisation"] = dict(opts.discretisation)
        caps = run_capacities(cfg, {k: sorted(v) for k, v in runs.items()})
        res = np.array([caps[(t.case, t.c_rate)] - t.paper_mAh_g for t in targets])
        rows = ordering_rows(caps, blocks, opts.ls_ratio, opts.ordering_c_rates)
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
    """The config with ``electronic: {model: stage}`` at ``r_c`` on (None: the plain design, none active),
    as the calibration's set "network" builds it."""
    from layerlab.electrochem.calibration import MechanismSet, variant_config
    cfg = copy.deepcopy(config)
    if r_c is None:
        cfg.setdefault("mechanisms", {})["active"] = []
        return cfg
    cfg = variant_config(cfg, MechanismSet("network", ("electronic",), ()), {R_C_KEY: float(r_c)})
    if runs_dir:
        cfg["mechanisms"]["electronic"]["runs_dir"] = runs_dir
    return cfg


def campaign_orderings(config: dict, r_c: float | None, runs_dir: str | None = None) -> dict:
    """The 17 rate-capability orderings of ``comparison.csv`` for every electrochem case of the campaign,
    with the calibration's failure-tolerant rate test (a discharge whose Newton solve fails at the end
    counts the charge passed) at the calibration resolution: plain (r_c None) or the network mechanism."""
    from layerlab.aggregate.comparison import capacity_dataset, rate_ordering_rows
    from layerlab.electrochem.calibration import campaign_runs, options_from_config, run_capacities
    opts = options_from_config(config)
    cfg = with_network(config, r_c, runs_dir)
    if opts.discretisation:
        cfg.setdefault("electrochem", {})["discretisation"] = dict(opts.discretisation)
    notes: dict = {}
    caps = run_capacities(cfg, campaign_runs(config), notes)
    ds = capacity_dataset(caps)
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
