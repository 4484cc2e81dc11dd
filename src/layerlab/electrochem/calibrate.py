"""Calibration: fit a few uncertain DFN parameters to the paper's VISIBLE discharge capacities.

Targets are the numbers stated in ``paper_targets.yaml`` under ``rate_capability`` (keys such as
``"1C"`` with a numeric value); notes, strings and anything marked held out are skipped, so held-out
values are never read.  Which parameters may be fitted, and why (defaults in
``workflow/schemas/calibration.schema.yaml``):

* ``positive.diffusivity_m2_s``: no NMC83 value is published and NMC GITT diffusivities span
  1e-15 to 3e-13 m2/s between methods (NOTES.md): the least known number of the model;
* ``positive.exchange_current_coefficient``: borrowed from NMC811 (Chen2020);
* ``positive.electronic_conductivity_S_m``: the composite value of the paper's 2 wt% carbon electrode
  was never measured.

Each mechanism set (``calibration.sets``: mechanisms switched on + parameters fitted) is fitted on
its own by bounded least squares (``scipy.optimize.least_squares``, trust region reflective) on
``x = ln(p / sqrt(lo hi)) / ln(sqrt(hi / lo))`` in [-1, 1], residuals in mAh/g, with a hard budget of
DFN evaluations (finite-difference ones included); the best evaluation seen is kept.  A set
*explains* the visible numbers when its RMSE is at most ``explain_rmse_mAh_g`` and every ordering the
paper states at 1C holds; the report names the explaining set with the fewest fitted parameters,
or says that none does.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import yaml

from layerlab import reference
from layerlab.cases import Case
from layerlab.electrochem.mechanisms import PARAMETER_OWNERS, check_names
from layerlab.errors import require
from layerlab.units import MAH_G_TO_C_KG

log = logging.getLogger("layerlab.electrochem")

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


def options_from_config(config: Mapping[str, Any]) -> Options:
    """Checked calibration options (InputError naming the field, before any work)."""
    from layerlab.io import input_path
    from layerlab.electrochem.parameters import _SECTIONS
    c = dict(config.get("calibration") or {})
    bounds: dict[str, FitParameter] = {}
    for key, b in dict(c.get("parameters") or {}).items():
        f = f"calibration.parameters.{key}"
        section, _, name = key.partition(".")
        require(section in _SECTIONS and name in {x.name for x in dataclasses.fields(_SECTIONS[section])}, f,
                "unknown parameter", "section.key of the parameter set, e.g. positive.diffusivity_m2_s")
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
                   discretisation=dict(c.get("discretisation") or {}))


def variant_config(config: Mapping[str, Any], mset: MechanismSet, values: Mapping[str, float],
                   discretisation: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The config with ``mset``'s mechanisms on and fitted ``values`` in place.

    A fitted parameter that an active mechanism sets (e.g. ``electronic`` sets the conductivity)
    goes into that mechanism's settings; any other into ``electrochem.parameter_overrides``.
    """
    cfg = copy.deepcopy(dict(config))
    mech = cfg.setdefault("mechanisms", {})
    mech["active"] = list(mset.mechanisms)
    ec = cfg.setdefault("electrochem", {})
    over = ec.setdefault("parameter_overrides", {})
    for key, v in values.items():
        owner = PARAMETER_OWNERS.get(key)
        if owner is not None and owner[0] in mset.mechanisms:
            sec = mech.setdefault(owner[0], {})
            sec[owner[1]] = float(v)
            if owner[0] == "electronic":
                sec["model"] = "value"
            sec["source"] = f"fitted by layerlab calibrate (set {mset.name})"
        else:
            section, _, name = key.partition(".")
            over.setdefault(section, {})[name] = float(v)
    if discretisation:
        from layerlab.electrochem.dfn import Discretisation
        kinds = {f.name: f.type for f in dataclasses.fields(Discretisation)}
        ec["discretisation"] = {k: (int(v) if kinds.get(k) == "int" else float(v)) for k, v in discretisation.items()}
    return cfg


def rate_capacities(new_integrator: Callable[[], Any], test) -> list[tuple[float, float, str]]:
    """The paper's rate test (as :func:`~layerlab.electrochem.protocols.run_rate_test`), tolerant of
    solver failures: (C-rate, discharge capacity C/m2, note) per rate.

    A discharge whose Newton solve fails after all step halvings (seen with a low electronic
    conductivity, in the steep fall of the voltage at the end of discharge) counts the charge passed
    up to the last accepted step, and is noted; a failed charge gives NaN.  After a failure the next
    rate starts from a fresh model (rest at the initial stoichiometry) instead of the failed state,
    and a failed charge is retried once from a fresh model.
    """
    from layerlab.electrochem.dfn import SolverFailure
    from layerlab.electrochem.protocols import cc, cv, rest
    integrator = None
    out: list[tuple[float, float, str]] = []
    try:
        for c in test.c_rates:
            for attempt in (0, 1):          # a failed charge is retried once from a fresh model
                fresh = integrator is None
                if fresh:
                    integrator = new_integrator()
                cell = integrator.m.cell
                try:
                    integrator.run(cc(cell, -test.charge_c_rate, v_max_V=test.v_max_V))
                    integrator.run(cv(cell, test.v_max_V, test.cv_end_c_rate))
                    if test.rest_s > 0:
                        integrator.run(rest(test.rest_s))
                    break
                except SolverFailure as err:
                    log.warning("charge before %gC failed%s: %s", c, " (fresh model)" if fresh else "", err)
                    integrator.m.close()
                    integrator = None
                    if fresh:
                        break
            if integrator is None:
                out.append((c, float("nan"), "charge failed"))
                continue
            q1 = integrator.charge_C_m2
            try:
                integrator.run(cc(cell, c, v_min_V=test.v_min_V))
                out.append((c, integrator.charge_C_m2 - q1, ""))
            except SolverFailure as err:
                note = f"discharge solve failed; capacity up to the last accepted step ({err})"
                log.warning("%gC: %s", c, note)
                out.append((c, integrator.charge_C_m2 - q1, note))
                integrator.m.close()
                integrator = None
    finally:
        if integrator is not None:
            integrator.m.close()
    return out


def run_capacities(config: Mapping[str, Any], runs: Mapping[str, Sequence[float]],
                   notes: dict[tuple[str, float], str] | None = None) -> dict[tuple[str, float], float]:
    """Discharge capacity (mAh/g) per (case, C-rate): the paper's rate test at those rates, serial.

    ``notes`` (if given) receives a note per (case, C-rate) whose discharge did not end normally.
    """
    from layerlab.electrochem.commands import prepare_case
    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.integrator import Integrator
    from layerlab.fe import MPI
    out: dict[tuple[str, float], float] = {}
    for case, rates in runs.items():
        cfg = copy.deepcopy(dict(config))
        cfg.setdefault("electrochem", {}).setdefault("protocol", {})["c_rates"] = sorted(set(rates))
        prep = prepare_case(cfg, case)
        res = rate_capacities(lambda: Integrator(DFNModel(prep.cell, prep.disc, comm=MPI.COMM_SELF),
                                                 record_profiles=False, max_steps=MAX_STEPS), prep.test)
        mass = prep.cell.cathode.active_mass_kg_m2
        for c, q, note in res:
            out[(case, c)] = q / mass / MAH_G_TO_C_KG
            if note and notes is not None:
                notes[(case, c)] = note
    return out


MAX_STEPS = 1500
"""Accepted steps per protocol step in calibration runs (a normal one takes 100-200): a run that
needs more (seen at extreme trial parameters) stops as a solver failure instead of taking hours."""

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
                     rmse_mAh_g=float(math.sqrt(np.mean(r ** 2))), status=status)


def ordering_rows(caps: Mapping[tuple[str, float], float], blocks: Sequence[reference.RateBlock | str], ls_ratio: float,
                  c_rates: Sequence[float]) -> list[dict[str, str]]:
    """Order of the block's architectures per block and C-rate; checked where the paper states it
    (``rate_blocks.<block>.stated_1C`` of paper_targets.yaml: an order, or the best).  A gap below
    0.5 % (the DFN's resolution) is a tie, not an order.
    """
    from layerlab.aggregate.comparison import best_row, ordering_row
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


@dataclass
class Calibration:
    """Every set's fit and the verdict."""

    targets: list[Target]
    results: list[SetResult]
    selected: SetResult | None
    verdict: str


def calibrate(config: Mapping[str, Any], opts: Options | None = None,
              evaluate: Callable[[Mapping[str, Any], Mapping[str, Sequence[float]]], dict] = run_capacities
              ) -> Calibration:
    """Fit every mechanism set, report its orderings, and pick the explaining set with fewest parameters."""
    opts = opts or options_from_config(config)
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    order_runs: dict[str, list[float]] = {}
    blocks = [opts.rate_blocks[b] for b in opts.blocks]
    for blk in blocks:
        for a in blk.architectures:
            order_runs[Case(a, blk.loading_mg_cm2, blk.porosity, opts.ls_ratio).name] = list(opts.ordering_c_rates)
    results = []
    for mset in opts.sets:
        res = fit_set(config, opts, targets, mset, evaluate)
        caps = evaluate(variant_config(config, mset, res.values, opts.discretisation), order_runs)
        res.orderings = ordering_rows(caps, blocks, opts.ls_ratio, opts.ordering_c_rates)
        log.info("calibrate %s: RMSE %.2f mAh/g, stated orderings hold: %s", mset.name, res.rmse_mAh_g, res.holds_all)
        results.append(res)
    explaining = [r for r in results if r.explains(opts.explain_rmse_mAh_g)]
    if explaining:
        sel = min(explaining, key=lambda r: (len(r.mset.fit), r.rmse_mAh_g))
        verdict = (f"set {sel.mset.name!r} ({len(sel.mset.fit)} fitted) explains the visible numbers "
                   f"(RMSE {sel.rmse_mAh_g:.1f} <= {opts.explain_rmse_mAh_g:g} mAh/g) and every stated 1C ordering")
    else:
        sel = None
        best = min(results, key=lambda r: r.rmse_mAh_g)
        verdict = (f"no set explains the visible numbers (RMSE <= {opts.explain_rmse_mAh_g:g} mAh/g with every "
                   f"stated 1C ordering); lowest RMSE: {best.mset.name!r} {best.rmse_mAh_g:.1f} mAh/g, stated "
                   f"orderings {'hold' if best.holds_all else 'do not all hold'}")
    return Calibration(targets, results, sel, verdict)


def report_rows(cal: Calibration) -> list[dict[str, str]]:
    """One row per (set, target) and per (set, ordering) for the residual table."""
    rows = []
    for r in cal.results:
        common = {"set": r.mset.name, "mechanisms": "+".join(r.mset.mechanisms) or "none",
                  "fitted": "; ".join(f"{k}={v:.4g}" for k, v in r.values.items()) or "none",
                  "n_fitted": str(len(r.mset.fit)), "selected": "yes" if r is cal.selected else "no"}
        for t in cal.targets:
            m = r.model[t.label]
            rows.append({**common, "kind": "value", "target": t.label, "paper": f"{t.paper_mAh_g:g}",
                         "model": f"{m:.2f}", "residual": f"{m - t.paper_mAh_g:+.2f}", "holds": ""})
        rows.append({**common, "kind": "rmse", "target": "all visible values", "paper": "", "model": "",
                     "residual": f"{r.rmse_mAh_g:.2f}", "holds": ""})
        for o in r.orderings:
            rows.append({**common, "kind": "ordering", "target": o["target"], "paper": o["paper"],
                         "model": o["model"], "residual": "", "holds": o["holds"]})
    return rows


def calibrated_parameters_yaml(config: Mapping[str, Any], cal: Calibration, opts: Options) -> str:
    """The parameter file (format of config/parameters/dfn_nmc83.yaml) of the selected set, or of the
    lowest-RMSE set when none explains the data; checked by loading it back."""
    from layerlab.electrochem.commands import prepare_case
    from layerlab.io import input_path
    from layerlab.electrochem.parameters import DEFAULT_SET, parameters_from_dict
    chosen = cal.selected or min(cal.results, key=lambda r: r.rmse_mAh_g)
    cfg = variant_config(config, chosen.mset, chosen.values)
    prep = prepare_case(cfg, cal.targets[0].case)
    src_file = config.get("electrochem", {}).get("parameters")
    raw = yaml.safe_load((input_path(src_file) if src_file else DEFAULT_SET).read_text())
    params = prep.cell.params
    for section in ("positive", "electrolyte", "counter", "separator"):
        for k, leaf in raw.get(section, {}).items():
            if not isinstance(leaf, Mapping) or "value" not in leaf:
                continue
            new = getattr(getattr(params, section), k)
            if float(new) != float(leaf["value"]):
                key = f"{section}.{k}"
                how = ("fitted" if key in chosen.values else "set by a mechanism")
                leaf["value"] = float(new)
                leaf["source"] = (f"{how} by layerlab calibrate, set {chosen.mset.name!r} (mechanisms: "
                                  f"{'+'.join(chosen.mset.mechanisms) or 'none'}), to {len(cal.targets)} visible "
                                  f"capacities of paper_targets.yaml; was {leaf.get('source', '')}")
    raw["name"] = f"{raw.get('name', 'dfn')}_calibrated_{chosen.mset.name}"
    back = parameters_from_dict(raw, origin="calibrated")
    require(back == dataclasses.replace(params, name=back.name), "calibration", "calibrated file does not load back",
            "a consistent parameter set")
    head = (f"# Calibrated by `python -m layerlab calibrate` ({cal.verdict}).\n"
            f"# Set {chosen.mset.name!r}: run with mechanisms.active = {list(chosen.mset.mechanisms)}"
            f" (structural mechanisms are not parameters and are not in this file).\n")
    return head + yaml.safe_dump(raw, sort_keys=False, width=110)


def summary(cal: Calibration, opts: Options) -> dict[str, Any]:
    """JSON-friendly summary of the calibration."""
    return {
        "verdict": cal.verdict,
        "selected": cal.selected.mset.name if cal.selected else None,
        "explain_rmse_mAh_g": opts.explain_rmse_mAh_g,
        "targets": [dataclasses.asdict(t) | {"label": t.label} for t in cal.targets],
        "sets": [{"name": r.mset.name, "mechanisms": list(r.mset.mechanisms),
                  "fitted": r.values, "n_fitted": len(r.mset.fit), "evaluations": r.evaluations,
                  "rmse_mAh_g": r.rmse_mAh_g, "stated_orderings_hold": r.holds_all, "status": r.status,
                  "model": r.model, "orderings": r.orderings} for r in cal.results],
    }


__all__ = ["Target", "load_targets", "FitParameter", "MechanismSet", "Options", "options_from_config",
           "variant_config", "run_capacities", "fit_set", "calibrate", "report_rows",
           "calibrated_parameters_yaml", "summary"]


def required_inputs(config: Mapping[str, Any]) -> list[str]:
    """Stage outputs the calibration reads (wetting / transport runs of the sets that use them), as
    paths relative to the working directory, for the Snakemake rule's input."""
    from layerlab.electrochem.mechanisms import stage_inputs
    opts = options_from_config(config)
    cases = {Case(a, blk.loading_mg_cm2, blk.porosity, opts.ls_ratio)
             for blk in (opts.rate_blocks[b] for b in opts.blocks) for a in blk.architectures}
    return sorted({p for s in opts.sets for c in cases for p in stage_inputs(config, c, s.mechanisms)})
