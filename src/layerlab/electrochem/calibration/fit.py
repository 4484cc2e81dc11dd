"""Bounded least squares of one mechanism set, and every set fitted with the verdict."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from layerlab.cases import Case
from layerlab.electrochem.calibration.options import FitParameter, MechanismSet, Options, options_from_config
from layerlab.electrochem.calibration.runs import campaign_runs, run_capacities
from layerlab.electrochem.calibration.targets import Target, load_targets, ordering_rows
from layerlab.electrochem.calibration.variants import variant_config

log = logging.getLogger("layerlab.electrochem")

FAILED_RESIDUAL_MAH_G = 300.0
"""Residual of a target whose run failed (above any capacity difference the model can make)."""


@dataclass
class SetResult:
    """The fit of one mechanism set."""

    mset: MechanismSet
    values: dict[str, float]
    evaluations: int
    model: dict[str, float]                              # target label -> model mAh/g
    rmse_mAh_g: float
    orderings: list[dict[str, str]] = field(default_factory=list)
    status: str = ""
    capacities: dict[tuple[str, float], float] = field(default_factory=dict)   # (case, C-rate) -> mAh/g

    @property
    def holds_all(self) -> bool:
        stated = [o for o in self.orderings if o["stated"] == "yes"]
        return bool(stated) and all(o["holds"] == "yes" for o in stated)

    def explains(self, rmse_max: float) -> bool:
        return self.rmse_mAh_g <= rmse_max and self.holds_all


def _residuals(targets: Sequence[Target], caps: Mapping[tuple[str, float], float]) -> np.ndarray:
    r = np.array([caps[(t.case, t.c_rate)] - t.paper_mAh_g for t in targets])
    return np.where(np.isfinite(r), r, FAILED_RESIDUAL_MAH_G)


class _Budget(Exception):
    pass


def fit_set(config: Mapping[str, Any], opts: Options, targets: Sequence[Target], mset: MechanismSet,
            evaluate: Callable[[Mapping[str, Any], Mapping[str, Sequence[float]]], dict] = run_capacities,
            x0: Mapping[str, float] | None = None) -> SetResult:
    """Least-squares fit of ``mset``'s parameters to ``targets`` within the evaluation budget."""
    from scipy.optimize import least_squares
    runs: dict[str, list[float]] = {}
    for t in targets:
        runs.setdefault(t.case, []).append(t.c_rate)
    seen: list[tuple[np.ndarray, float, np.ndarray, dict]] = []

    def values_of(x: np.ndarray) -> dict[str, float]:
        return {p.key: p.from_x(xi) for p, xi in zip(mset.fit, x)}

    def fun(x: np.ndarray) -> np.ndarray:
        for xs, _, r, _ in seen:
            if np.array_equal(xs, x):
                return r
        if len(seen) >= max(opts.max_evaluations, 1):
            raise _Budget
        vals = values_of(x)
        caps = evaluate(variant_config(config, mset, vals, opts.discretisation), runs)
        r = _residuals(targets, caps)
        seen.append((np.array(x, copy=True), float(np.sum(r ** 2)), r, caps))
        log.info("calibrate %s eval %d: %s -> RMSE %.2f mAh/g", mset.name, len(seen),
                 {k: f"{v:.4g}" for k, v in vals.items()}, math.sqrt(np.mean(r ** 2)))
        return r

    def jac(x: np.ndarray) -> np.ndarray:
        """Forward differences with an absolute step ``diff_step`` in x (backward at the upper bound)."""
        r0 = fun(x)
        J = np.empty((len(r0), len(x)))
        for i in range(len(x)):
            h = opts.diff_step if x[i] + opts.diff_step <= 1.0 else -opts.diff_step
            xh = np.array(x, copy=True)
            xh[i] += h
            J[:, i] = (fun(xh) - r0) / h
        return J

    def x_start(p: FitParameter) -> float:
        v = (x0 or {}).get(p.key, p.start)
        return 0.0 if v is None else float(np.clip(p.to_x(v), -0.99, 0.99))

    start = np.array([x_start(p) for p in mset.fit])
    status = "no parameters: evaluated once"
    if mset.fit:
        try:
            # x tolerance 1e-4 of the log half-range: ~0.05 % of the parameter, below what the
            # DFN's own accuracy (0.1-0.5 % in capacity) can resolve
            res = least_squares(fun, start, jac=jac, bounds=(-1.0, 1.0), method="trf", x_scale=1.0,
                                xtol=1e-4, ftol=1e-6, max_nfev=opts.max_evaluations)
            status = f"least_squares: {res.message}"
        except _Budget:
            status = f"stopped at the budget of {opts.max_evaluations} evaluations (best kept)"
    else:
        fun(start)
    x, _, r, caps = min(seen, key=lambda s: s[1])
    return SetResult(mset=mset, values=values_of(x), evaluations=len(seen),
                     model={t.label: caps[(t.case, t.c_rate)] for t in targets},
                     rmse_mAh_g=float(math.sqrt(np.mean(r ** 2))), status=status, capacities=dict(caps))




@dataclass
class Calibration:
    """Every set's fit and the verdict."""

    targets: list[Target]
    results: list[SetResult]
    selected: SetResult | None
    verdict: str


def _order_runs(opts: Options) -> dict[str, list[float]]:
    """The ordering runs: every architecture of every rate block at ``ordering_c_rates``."""
    runs: dict[str, list[float]] = {}
    for blk in (opts.rate_blocks[b] for b in opts.blocks):
        for a in blk.architectures:
            runs[Case(a, blk.loading_mg_cm2, blk.porosity, opts.ls_ratio).name] = list(opts.ordering_c_rates)
    return runs


def calibrate_set(config: Mapping[str, Any], opts: Options, mset: MechanismSet,
                  evaluate: Callable[[Mapping[str, Any], Mapping[str, Sequence[float]]], dict] = run_capacities
                  ) -> SetResult:
    """One mechanism set: its fit to the visible values, then its orderings at the best fit (and, for
    the sets of ``calibration.campaign_runs``, every electrochem campaign case at the best fit)."""
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    res = fit_set(config, opts, targets, mset, evaluate)
    runs = _order_runs(opts)
    if mset.name in opts.campaign_runs:
        for case, rates in campaign_runs(config).items():
            runs[case] = sorted(set(runs.get(case, [])) | set(rates))
        log.info("calibrate %s: best fit on %d cases (the electrochem campaign's and the orderings')",
                 mset.name, len(runs))
    caps = evaluate(variant_config(config, mset, res.values, opts.discretisation), runs)
    res.orderings = ordering_rows(caps, [opts.rate_blocks[b] for b in opts.blocks], opts.ls_ratio,
                                  opts.ordering_c_rates)
    res.capacities.update(caps)
    log.info("calibrate %s: RMSE %.2f mAh/g, stated orderings hold: %s", mset.name, res.rmse_mAh_g, res.holds_all)
    return res


def verdict(opts: Options, results: Sequence[SetResult]) -> Calibration:
    """The explaining set with the fewest fitted parameters (then lowest RMSE), or none, with the verdict."""
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    explaining = [r for r in results if r.explains(opts.explain_rmse_mAh_g)]
    if explaining:
        sel = min(explaining, key=lambda r: (len(r.mset.fit), r.rmse_mAh_g))
        text = (f"set {sel.mset.name!r} ({len(sel.mset.fit)} fitted) explains the visible numbers "
                f"(RMSE {sel.rmse_mAh_g:.1f} <= {opts.explain_rmse_mAh_g:g} mAh/g) and every stated 1C ordering")
    else:
        sel = None
        best = min(results, key=lambda r: r.rmse_mAh_g)
        text = (f"no set explains the visible numbers (RMSE <= {opts.explain_rmse_mAh_g:g} mAh/g with every "
                f"stated 1C ordering); lowest RMSE: {best.mset.name!r} {best.rmse_mAh_g:.1f} mAh/g, stated "
                f"orderings {'hold' if best.holds_all else 'do not all hold'}")
    return Calibration(list(targets), list(results), sel, text)


def calibrate(config: Mapping[str, Any], opts: Options | None = None,
              evaluate: Callable[[Mapping[str, Any], Mapping[str, Sequence[float]]], dict] = run_capacities
              ) -> Calibration:
    """Fit every mechanism set, report its orderings, and pick the explaining set with fewest parameters."""
    opts = opts or options_from_config(config)
    return verdict(opts, [calibrate_set(config, opts, mset, evaluate) for mset in opts.sets])
