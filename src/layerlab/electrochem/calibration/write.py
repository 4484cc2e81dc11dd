"""What the calibration writes: the residual table, the calibrated parameter file, the summary."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import Any, Mapping

import yaml

from layerlab.electrochem.calibration.fit import Calibration, SetResult
from layerlab.electrochem.calibration.options import MECHANISM_SETTINGS, Options
from layerlab.electrochem.calibration.variants import variant_config
from layerlab.errors import require


COLUMNS = ("set", "mechanisms", "fitted", "n_fitted", "selected", "kind", "target", "paper", "model",
           "residual", "holds")
"""Columns of the residual table."""


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
    from layerlab.electrochem.prepare import prepare_case
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
    settings = {k: v for k, v in chosen.values.items() if k in MECHANISM_SETTINGS}
    if settings:
        head += ("# Fitted mechanism settings (not in this file): "
                 + ", ".join(f"{k} = {v:.6g}" for k, v in settings.items()) + "\n")
    return head + yaml.safe_dump(raw, sort_keys=False, width=110)


def set_entry(r: SetResult) -> dict[str, Any]:
    """JSON-friendly record of one set's fit: an entry of the summary's ``sets``, and what a per-set
    job writes (:func:`set_result_from_entry` reads it back)."""
    return {"name": r.mset.name, "mechanisms": list(r.mset.mechanisms), "fit": [p.key for p in r.mset.fit],
            "fitted": r.values, "n_fitted": len(r.mset.fit), "evaluations": r.evaluations,
            "rmse_mAh_g": r.rmse_mAh_g, "stated_orderings_hold": r.holds_all, "status": r.status,
            "model": r.model, "orderings": r.orderings, "capacities_mAh_g": capacities_by_case(r.capacities)}


def set_result_from_entry(entry: Mapping[str, Any], opts: Options, origin: str) -> SetResult:
    """A set's fit from its record (``origin``: the file, for errors); its set must be the one of
    ``opts`` with that name (same mechanisms and fitted parameters) and its targets those of ``opts``."""
    from layerlab.electrochem.calibration.targets import load_targets
    require(isinstance(entry, Mapping) and isinstance(entry.get("name"), str), origin, "no set name",
            "a per-set calibration file (calibrate-set)")
    msets = {m.name: m for m in opts.sets}
    mset = msets.get(entry["name"])
    require(mset is not None, origin, f"set {entry['name']!r} is not configured", ", ".join(msets))
    require(list(entry.get("mechanisms", [])) == list(mset.mechanisms)
            and list(entry.get("fit", [])) == [p.key for p in mset.fit], origin,
            f"made with other settings of set {mset.name!r}", "a file of the configured set (rerun calibrate-set)")
    labels = {t.label for t in load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)}
    model = {str(k): float(v) for k, v in dict(entry.get("model") or {}).items()}
    require(set(model) == labels, origin, "made for other targets", "the configured calibration targets")
    caps = {(case, float(c)): float(v) for case, by_rate in dict(entry.get("capacities_mAh_g") or {}).items()
            for c, v in dict(by_rate).items()}
    return SetResult(mset=mset, values={str(k): float(v) for k, v in dict(entry.get("fitted") or {}).items()},
                     evaluations=int(entry.get("evaluations", 0)), model=model,
                     rmse_mAh_g=float(entry["rmse_mAh_g"]), orderings=list(entry.get("orderings") or []),
                     status=str(entry.get("status", "")), capacities=caps)


def summary(cal: Calibration, opts: Options) -> dict[str, Any]:
    """JSON-friendly summary of the calibration."""
    return {
        "verdict": cal.verdict,
        "selected": cal.selected.mset.name if cal.selected else None,
        "explain_rmse_mAh_g": opts.explain_rmse_mAh_g,
        "targets": [dataclasses.asdict(t) | {"label": t.label} for t in cal.targets],
        "sets": [set_entry(r) for r in cal.results],
    }


def capacities_by_case(caps: Mapping[tuple[str, float], float]) -> dict[str, dict[str, float]]:
    """``{case: {C-rate: mAh/g}}`` (JSON keys) of every rate the set's best fit and its ordering runs ran."""
    out: dict[str, dict[str, float]] = {}
    for (case, c), v in sorted(caps.items()):
        out.setdefault(case, {})[f"{c:g}"] = float(v)
    return out


def write_outputs(config: Mapping[str, Any], cal: Calibration, opts: Options, params_path: str | Path,
                  report_path: str | Path, summary_path: str | Path) -> None:
    """The parameter file, the residual table (CSV) and the JSON summary, each written atomically
    (the parameter file is built and checked before anything is written)."""
    from layerlab.io import write_json_atomic, write_text_atomic
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(report_rows(cal))
    params_text = calibrated_parameters_yaml(config, cal, opts)
    write_text_atomic(params_path, params_text)
    write_text_atomic(report_path, buf.getvalue())
    write_json_atomic(summary_path, summary(cal, opts))
