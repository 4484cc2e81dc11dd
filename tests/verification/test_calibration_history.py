"""The calibration's capacities are the campaign's: same protocol, same rate history."""

from __future__ import annotations

import copy

import pytest
import yaml

from layerlab.config import validate_config
from layerlab.electrochem.calibration.runs import rate_sequence, run_capacities
from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.integrator import Integrator
from layerlab.electrochem.prepare import prepare_case
from layerlab.electrochem.protocols import RateTest, run_rate_test
from layerlab.fe import MPI
from layerlab.units import MAH_G_TO_C_KG

COARSE = {"cells_separator": 3, "cells_cathode": 8, "radial_volumes": 5}
CASE = "Mix-Dry-Mix_load22_por0.55_ls0.5"


def test_rate_sequence_keeps_the_history_a_charge_without_cv_carries() -> None:
    sym = RateTest(c_rates=(0.1, 0.2, 0.5, 1.0, 2.0), charge="symmetric", cv=False)
    assert rate_sequence(sym, [1.0]) == (0.1, 0.2, 0.5, 1.0)
    assert rate_sequence(sym, [2.0, 0.2]) == (0.1, 0.2, 0.5, 1.0, 2.0)
    assert rate_sequence(sym, [0.1, 3.0]) == (0.1, 3.0)       # a rate outside the sequence: appended
    cccv = RateTest(c_rates=(0.1, 0.2, 0.5, 1.0, 2.0), charge="fixed", cv=True)
    assert rate_sequence(cccv, [2.0, 1.0]) == (1.0, 2.0)


def test_calibration_capacity_equals_the_campaign_rate_test_at_that_rate() -> None:
    """Symmetric protocol (no CV): the 1C capacity depends on the discharges before it (a charge
    at 0.5C after a 0.5C discharge leaves another state than one from rest).  The calibration's
    1C value must be the campaign rate test's 1C value, to the solver's tolerance (identical
    segments, so 1e-9 relative), and must differ from a 1C-first run (else this test shows nothing)."""
    cfg = validate_config(yaml.safe_load(open("config/config.yaml")))
    cfg["electrochem"]["protocol"].update(charge="symmetric", cv=False, c_rates=[0.2, 0.5, 1.0])
    cfg["electrochem"]["discretisation"] = dict(COARSE)
    cfg["mechanisms"]["active"] = ["electronic"]        # a uniform 5e-3 S/m: a large ohmic drop
    cfg["mechanisms"]["electronic"]["conductivity_S_m"] = 5e-3
    prep = prepare_case(cfg, CASE)
    res = run_rate_test(Integrator(DFNModel(prep.cell, prep.disc, comm=MPI.COMM_SELF), record_profiles=False),
                        prep.test)
    mass = prep.cell.cathode.active_mass_kg_m2
    campaign_1c = res.discharge_capacity_C_m2[-1] / mass / MAH_G_TO_C_KG
    calibration_1c = run_capacities(cfg, {CASE: [1.0]})[(CASE, 1.0)]
    assert calibration_1c == pytest.approx(campaign_1c, rel=1e-9)

    first = copy.deepcopy(cfg)
    first["electrochem"]["protocol"]["c_rates"] = [1.0]
    alone_1c = run_capacities(first, {CASE: [1.0]})[(CASE, 1.0)]
    assert abs(alone_1c - campaign_1c) > 5.0           # mAh/g (measured 72 vs 94): the history matters
