"""Landesfeind & Gasteiger (2019) EC:EMC 3:7 electrolyte forms: PyBaMM agreement, published values at
1 M and 25 C, and the checks on concentration-dependent transference numbers and thermodynamic factors."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from layerlab.electrochem.electrolyte import evaluate, transport
from layerlab.electrochem.parameters import LANDESFEIND_SET, load_parameters, parameters_from_dict
from layerlab.errors import InputError

CONCENTRATIONS = (50.0, 250.0, 500.0, 1000.0, 1500.0, 2200.0, 3000.0, 4000.0)   # mol/m3
PROPERTIES = ("conductivity", "diffusivity", "transference_number", "thermodynamic_factor")
PYBAMM_NAMES = {"conductivity": "conductivity", "diffusivity": "diffusivity",
                "transference_number": "transference_number", "thermodynamic_factor": "TDF"}


def _raw() -> dict:
    return yaml.safe_load(LANDESFEIND_SET.read_text())


@pytest.mark.parametrize("key", PROPERTIES)
@pytest.mark.parametrize("T", [298.15, 313.15])
def test_forms_match_pybamm_oregan2022(key: str, T: float) -> None:
    """Our NumPy evaluation and our pybamm-ops evaluation (the peer's) equal PyBaMM's ORegan2022
    EC:EMC 3:7 functions to 1e-12 relative."""
    pybamm = pytest.importorskip("pybamm")
    from pybamm.input.parameters.lithium_ion import ORegan2022
    reference = getattr(ORegan2022, f"electrolyte_{PYBAMM_NAMES[key]}_EC_EMC_3_7_Landesfeind2019")
    form = getattr(load_parameters(LANDESFEIND_SET).electrolyte, key)
    for c in CONCENTRATIONS:
        expected = float(reference(pybamm.Scalar(c), pybamm.Scalar(T)).evaluate())
        ours = float(evaluate(form, np.array(c), temperature_K=T))
        via_pybamm = float(evaluate(form, pybamm.Scalar(c), pybamm, pybamm.Scalar(T)).evaluate())
        assert abs(ours / expected - 1) < 1e-12, (key, c, T, ours, expected)
        assert abs(via_pybamm / expected - 1) < 1e-12, (key, c, T, via_pybamm, expected)


def test_published_values_at_1M_25C() -> None:
    """kappa 0.913 S/m, D 2.89e-10 m2/s, t+ 0.221, TDF 2.18 (Landesfeind 2019, EC:EMC 3:7, 1 M, 25 C)."""
    ps = load_parameters(LANDESFEIND_SET)
    assert ps.temperature_K == 298.15
    kappa, D, tp, tdf = (float(v) for v in transport(ps.electrolyte, np.array(1000.0), ps.temperature_K))
    assert abs(kappa - 0.913) < 5e-4
    assert abs(D / 2.89e-10 - 1) < 2e-3
    assert abs(tp - 0.221) < 5e-4
    assert abs(tdf - 2.18) < 5e-3


def test_temperature_dependent_form_needs_the_temperature() -> None:
    form = load_parameters(LANDESFEIND_SET).electrolyte.conductivity
    with pytest.raises(ValueError, match="needs the temperature"):
        evaluate(form, np.array(1000.0))


def test_constants_and_forms_mix() -> None:
    """A constant t+ may replace the form (and back); the other properties keep their forms."""
    ps = load_parameters(LANDESFEIND_SET)
    const = ps.replace("electrolyte", transference_number=0.3, thermodynamic_factor=1.0)
    kappa, _, tp, tdf = transport(const.electrolyte, np.array([500.0, 1000.0]), const.temperature_K)
    assert tp == 0.3 and tdf == 1.0 and kappa.shape == (2,)


@pytest.mark.parametrize("key, shift, allowed", [("transference_number", 1.0, "[0, 1)"),
                                                 ("transference_number", -0.5, "[0, 1)"),
                                                 ("thermodynamic_factor", -20.0, "> 0")])
def test_form_out_of_range_is_an_input_error(key: str, shift: float, allowed: str) -> None:
    """A form that leaves its range anywhere in 1-4000 mol/m3 names the field, the concentration and the range."""
    raw = _raw()
    raw["electrolyte"][key]["coefficients"][0] += shift
    with pytest.raises(InputError) as err:
        parameters_from_dict(raw)
    assert err.value.field == f"parameters.electrolyte.{key}"
    assert allowed in err.value.allowed and "mol/m3" in err.value.allowed
    assert "mol/m3" in err.value.problem


def test_constant_out_of_range_and_malformed_forms_are_named() -> None:
    raw = _raw()
    raw["electrolyte"]["transference_number"] = {"value": 1.2, "source": "x"}
    with pytest.raises(InputError) as err:
        parameters_from_dict(raw)
    assert err.value.field == "parameters.electrolyte.transference_number"
    for bad, field in ((lambda n: n.update(bogus=1), "transference_number.bogus"),
                       (lambda n: n["coefficients"].pop(), "transference_number.coefficients"),
                       (lambda n: n.pop("source"), "transference_number.source"),
                       (lambda n: n.update(form="landesfeind2020"), "transference_number.form")):
        raw = _raw()
        bad(raw["electrolyte"]["transference_number"])
        with pytest.raises(InputError) as err:
            parameters_from_dict(raw)
        assert err.value.field == f"parameters.electrolyte.{field}"
    with pytest.raises(InputError, match="parameters.electrolyte.transference_number"):
        load_parameters(LANDESFEIND_SET).replace("electrolyte", transference_number=-0.1)


def test_default_set_is_unchanged_nyman() -> None:
    """The campaign default keeps Nyman2008 with constant t+ = 0.2594 and thermodynamic factor 1."""
    ele = load_parameters().electrolyte
    assert ele.conductivity.form == "nyman2008_conductivity"
    assert (ele.transference_number, ele.thermodynamic_factor) == (0.2594, 1.0)
    lf = _raw()
    default = yaml.safe_load(LANDESFEIND_SET.with_name("dfn_nmc83.yaml").read_text())
    for section in ("temperature_K", "positive", "counter", "separator"):
        assert lf[section] == default[section]
