"""Config variants: a mechanism set switched on with its fitted values in place."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Mapping

from layerlab.cases import Case
from layerlab.electrochem.calibration.options import MECHANISM_SETTINGS, MechanismSet, Options, options_from_config
from layerlab.electrochem.mechanisms import PARAMETER_OWNERS

MODEL_OF: dict[tuple[str, str], str] = {
    ("electronic", "conductivity_S_m"): "value",
    ("electronic", "r_c_ohm_m2"): "stage",
}
"""The ``model`` a mechanism must run for a fitted setting to take effect: a fitted uniform
conductivity needs ``value``, a fitted interfacial resistance the network stage (``stage``)."""


def variant_config(config: Mapping[str, Any], mset: MechanismSet, values: Mapping[str, float],
                   discretisation: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The config with ``mset``'s mechanisms on and fitted ``values`` in place.

    A fitted parameter that an active mechanism sets (e.g. ``electronic`` sets the conductivity),
    or a mechanism setting (``mechanisms.electronic.r_c_ohm_m2``), goes into that mechanism's
    settings, with the model it needs (:data:`MODEL_OF`); any other into
    ``electrochem.parameter_overrides``.
    """
    cfg = copy.deepcopy(dict(config))
    mech = cfg.setdefault("mechanisms", {})
    mech["active"] = list(mset.mechanisms)
    ec = cfg.setdefault("electrochem", {})
    over = ec.setdefault("parameter_overrides", {})
    for key, v in values.items():
        owner = MECHANISM_SETTINGS.get(key) or PARAMETER_OWNERS.get(key)
        if owner is not None and owner[0] in mset.mechanisms:
            sec = mech.setdefault(owner[0], {})
            sec[owner[1]] = float(v)
            if owner in MODEL_OF:
                sec["model"] = MODEL_OF[owner]
            sec["source"] = f"fitted by layerlab calibrate (set {mset.name})"
        else:
            section, _, name = key.partition(".")
            over.setdefault(section, {})[name] = float(v)
    if discretisation:
        from layerlab.electrochem.dfn import Discretisation
        kinds = {f.name: f.type for f in dataclasses.fields(Discretisation)}
        ec["discretisation"] = {k: (int(v) if kinds.get(k) == "int" else float(v)) for k, v in discretisation.items()}
    return cfg


def required_inputs(config: Mapping[str, Any], mset: str | None = None) -> list[str]:
    """Stage outputs the calibration reads (wetting / transport / network runs of the sets that use
    them, with each set's own mechanism models), as paths relative to the working directory, for the
    Snakemake rule's input; of the set named ``mset`` only, when given."""
    from layerlab.electrochem.mechanisms import stage_inputs
    opts = options_from_config(config)
    cases = {Case(a, blk.loading_mg_cm2, blk.porosity, opts.ls_ratio)
             for blk in (opts.rate_blocks[b] for b in opts.blocks) for a in blk.architectures}
    out: set[str] = set()
    for s in opts.sets:
        if mset is not None and s.name != mset:
            continue
        vcfg = variant_config(config, s, {p.key: p.from_x(0.0) for p in s.fit})
        out |= {p for c in cases for p in stage_inputs(vcfg, c, s.mechanisms)}
    return sorted(out)


def check_variants(config: Mapping[str, Any], opts: Options) -> None:
    """Build every set's DFN input for every target case once, at the middle of its bounds (bad
    input fails here, naming its field, before any DFN run)."""
    from layerlab.electrochem.calibration.targets import load_targets
    from layerlab.electrochem.prepare import prepare_case
    targets = load_targets(opts.targets_file, opts.blocks, opts.ls_ratio)
    for mset in opts.sets:
        start = {p.key: p.from_x(0.0) for p in mset.fit}
        vcfg = variant_config(config, mset, start, opts.discretisation)
        for case in sorted({t.case for t in targets}):
            prepare_case(vcfg, case)
