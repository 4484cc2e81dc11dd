"""Calibration inputs: visible targets only, checked options, the fit itself on known functions."""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import yaml

from layerlab.config import validate_config
from layerlab.electrochem.calibration import (FitParameter, MechanismSet, fit_set, load_targets,
                                            options_from_config, ordering_rows, variant_config)
from layerlab.errors import InputError

TARGETS = "config/reference/paper_targets.yaml"
BLOCKS = ("fig2f_22mg_uncalendered", "fig2g_29p6mg_uncalendered", "fig4c_22mg_25pct_porosity")


@pytest.fixture(scope="module")
def cfg() -> dict:
    return validate_config(yaml.safe_load(open("config/config.yaml")))


def test_targets_are_the_stated_numbers() -> None:
    ts = load_targets(TARGETS, BLOCKS)
    got = {(t.block, t.architecture, t.c_rate): t.paper_mAh_g for t in ts}
    raw = yaml.safe_load(open(TARGETS))["rate_capability"]
    stated = {(b, a, float(k[:-1])): v for b in BLOCKS for a, vals in raw[b].items() for k, v in vals.items()
              if k.endswith("C") and isinstance(v, (int, float))}
    assert got == stated and len(ts) == 10   # 8 non-zero + 2 zeros (Fig. 2g)
    assert {t.case for t in ts} >= {"L-Dry-S_load22_por0.55_ls0.5", "S-Dry-L_load22_por0.25_ls0.5"}


def test_target_loader_never_reads_held_out_values(tmp_path) -> None:
    data = {"rate_capability": {
        "fig2f_22mg_uncalendered": {"L-Dry-S": {"1C": 139.5, "0.5C": "[held out]", "2C": None},
                                    "S-Dry-L": {"note": "drops to 0 above 0.5C"},
                                    "L-S": "values held out"},
        "fig4c_22mg_25pct_porosity": {"held_out": {"1C": 150.0}, "Mix-Dry-Mix": {"1C": 153.15, "held": True}},
        "fig4d_29p6mg_25pct_porosity": {"L-Dry-S": {"1C": 99.0}}},
        "rate_blocks": yaml.safe_load(open(TARGETS))["rate_blocks"]}   # fig4d is not among them
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    ts = load_targets(path, ["fig2f_22mg_uncalendered", "fig4c_22mg_25pct_porosity"])
    assert [(t.architecture, t.c_rate, t.paper_mAh_g) for t in ts] == [("L-Dry-S", 1.0, 139.5),
                                                                       ("Mix-Dry-Mix", 1.0, 153.15)]
    with pytest.raises(InputError) as err:                  # a block the paper does not state in the open
        load_targets(path, ["fig4d_29p6mg_25pct_porosity"])
    assert err.value.field == "calibration.blocks"


def _cal(cfg: dict, **section) -> dict:
    c = copy.deepcopy(cfg)
    c["calibration"].update(section)
    return c


def test_bad_calibration_options_are_named(cfg: dict) -> None:
    bounds = {"positive.diffusivity_m2_s": {"lo": 1e-13, "hi": 1e-15}}
    with pytest.raises(InputError) as err:
        options_from_config(_cal(cfg, parameters=bounds))
    assert err.value.field == "calibration.parameters.positive.diffusivity_m2_s.lo"
    bounds = {"positive.diffusivity_m2_s": {"lo": 1e-15, "hi": 1e-13, "start": 1e-12}}
    with pytest.raises(InputError) as err:
        options_from_config(_cal(cfg, parameters=bounds))
    assert err.value.field == "calibration.parameters.positive.diffusivity_m2_s.start"
    with pytest.raises(InputError) as err:
        options_from_config(_cal(cfg, parameters={"positive.radius_m": {"lo": 1, "hi": 2}}))
    assert err.value.field == "calibration.parameters.positive.radius_m"
    sets = [{"name": "a", "mechanisms": ["electronic", "moon_phase"], "fit": []}]
    with pytest.raises(InputError) as err:
        options_from_config(_cal(cfg, sets=sets))
    assert err.value.field == "calibration.sets[0].mechanisms[1]"
    sets = [{"name": "a", "mechanisms": [], "fit": ["positive.max_concentration_mol_m3"]}]
    with pytest.raises(InputError) as err:
        options_from_config(_cal(cfg, sets=sets))
    assert err.value.field == "calibration.sets[0].fit[0]"
    with pytest.raises(InputError) as err:                 # the schema: unknown block
        validate_config(_cal(cfg, blocks=["fig9z"]))
    assert err.value.field == "calibration.blocks[0]"


def test_fitted_values_go_to_the_mechanism_that_owns_them(cfg: dict) -> None:
    from layerlab.electrochem.commands import prepare_case
    p_sig = FitParameter("positive.electronic_conductivity_S_m", 1e-4, 10.0)
    p_ds = FitParameter("positive.diffusivity_m2_s", 1e-16, 1e-12)
    vals = {"positive.electronic_conductivity_S_m": 0.02, "positive.diffusivity_m2_s": 3e-15}
    on = variant_config(cfg, MechanismSet("e", ("electronic",), (p_sig, p_ds)), vals, {"cells_cathode": 8.0})
    assert on["mechanisms"]["active"] == ["electronic"]
    assert on["mechanisms"]["electronic"]["conductivity_S_m"] == 0.02
    assert on["electrochem"]["parameter_overrides"] == {"positive": {"diffusivity_m2_s": 3e-15}}
    assert on["electrochem"]["discretisation"]["cells_cathode"] == 8 and cfg["mechanisms"]["active"] == []
    pos = prepare_case(on, "L-Dry-S_load22_por0.55_ls0.5").cell.params.positive
    assert (pos.electronic_conductivity_S_m, pos.diffusivity_m2_s) == (0.02, 3e-15)
    off = variant_config(cfg, MechanismSet("b", (), (p_sig,)), {"positive.electronic_conductivity_S_m": 0.02})
    assert off["electrochem"]["parameter_overrides"] == {"positive": {"electronic_conductivity_S_m": 0.02}}


def test_fit_parameter_log_map_round_trips() -> None:
    p = FitParameter("positive.diffusivity_m2_s", 1e-16, 1e-12)
    assert p.from_x(-1) == pytest.approx(1e-16) and p.from_x(1) == pytest.approx(1e-12)
    assert p.from_x(0) == pytest.approx(1e-14)
    assert p.from_x(p.to_x(3.3e-15)) == pytest.approx(3.3e-15, rel=1e-12)


def test_fit_recovers_parameters_of_a_known_model(cfg: dict) -> None:
    """The least-squares driver (log parameters, bounds, budget) on a smooth stand-in for the DFN:
    capacity falls with log(1/D) and with log(1/sigma) differently per architecture."""
    opts = options_from_config(cfg)
    targets = load_targets(TARGETS, BLOCKS)
    true = {"positive.diffusivity_m2_s": 2.5e-15, "positive.electronic_conductivity_S_m": 0.004}

    def fake(vcfg, runs):
        d = vcfg["electrochem"]["parameter_overrides"]["positive"]["diffusivity_m2_s"]
        s = vcfg["mechanisms"]["electronic"]["conductivity_S_m"]
        out = {}
        for case, rates in runs.items():
            w = 1.0 + ("L-Dry" in case) + 0.5 * ("load29.6" in case)
            for c in rates:
                out[(case, c)] = 200 - c * (8 * math.log(1e-13 / d) + w * 6 * math.log(1.0 / s))
        return out

    runs: dict[str, list[float]] = {}
    for t in targets:
        runs.setdefault(t.case, []).append(t.c_rate)
    truth = fake(variant_config(cfg, MechanismSet("x", ("electronic",), ()), true), runs)
    targets = [dataclasses.replace(t, paper_mAh_g=truth[(t.case, t.c_rate)]) for t in targets]
    mset = MechanismSet("e", ("electronic",), tuple(FitParameter(k, v / 30, v * 300) for k, v in true.items()))
    opts = dataclasses.replace(opts, max_evaluations=40)
    res = fit_set(cfg, opts, targets, mset, evaluate=fake)
    assert res.values == pytest.approx(true, rel=1e-4)
    assert res.rmse_mAh_g < 1e-3 and res.evaluations <= 40
    opts = dataclasses.replace(opts, max_evaluations=3)
    res = fit_set(cfg, opts, targets, mset, evaluate=fake)          # the budget is a hard limit
    assert res.evaluations == 3 and "budget" in res.status


def test_orderings_and_ties() -> None:
    caps = {("L-Dry-S_load22_por0.55_ls0.5", 1.0): 150.0, ("Mix-Dry-Mix_load22_por0.55_ls0.5", 1.0): 120.0,
            ("S-Dry-L_load22_por0.55_ls0.5", 1.0): 119.9,
            ("L-Dry-S_load29.6_por0.55_ls0.5", 1.0): 90.0, ("Mix-Dry-Mix_load29.6_por0.55_ls0.5", 1.0): 60.0,
            ("S-Dry-L_load29.6_por0.55_ls0.5", 1.0): 70.0}
    rows = ordering_rows(caps, BLOCKS[:2], 0.5, [1.0])
    assert rows[0]["holds"].startswith("no") and "tie" in rows[0]["holds"]       # 120 vs 119.9: a tie
    assert rows[1]["holds"] == "yes" and rows[1]["model"].startswith("L-Dry-S 90.0 > S-Dry-L 70.0")
    caps[("S-Dry-L_load22_por0.55_ls0.5", 1.0)] = 100.0
    assert ordering_rows(caps, BLOCKS[:1], 0.5, [1.0])[0]["holds"] == "yes"


def test_required_inputs_name_the_stage_runs_a_set_reads(cfg: dict) -> None:
    from layerlab.electrochem.calibration import required_inputs
    # of the default sets only "network" reads stage output: the network runs of its reference packings
    assert required_inputs(cfg) == sorted(f"results/runs/network/Mix_load22_por{p}_ls{s}_seed0.nc"
                                          for p in ("0.25", "0.55") for s in ("0", "0.5", "1"))
    c = _cal(cfg, sets=[{"name": "w", "mechanisms": ["wetting"], "fit": []}], blocks=["fig2g_29p6mg_uncalendered"])
    c["mechanisms"]["wetting"]["substitute"] = {"architecture": {"Mix-Dry-Mix": "Mix", "L-Dry-S": "L-S",
                                                                 "S-Dry-L": "S-L"}}
    assert required_inputs(c) == [f"results/runs/wetting/{a}_load29.6_por0.55_ls0.5_seed0.nc"
                                  for a in ("L-S", "Mix", "S-L")]
