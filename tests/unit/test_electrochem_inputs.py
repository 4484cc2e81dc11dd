"""Parameter files, electrode layers and protocols: bad input names the field, before any work."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec, load_tortuosity
from layerlab.electrochem.electrolyte import evaluate, ocp_range_V, stoichiometry_at_ocp
from layerlab.electrochem.parameters import (CROSSCHECK_SET, DEFAULT_SET, load_parameters,
                                             parameters_from_dict)
from layerlab.electrochem.protocols import RateTest, cc
from layerlab.errors import InputError


def _raw(path=DEFAULT_SET) -> dict:
    return yaml.safe_load(path.read_text())


def _cell(**layer) -> HalfCell:
    kw = dict(name="L", thickness_m=80e-6, porosity=0.4, active_fraction={"L": 0.55}, inactive_fraction=0.05)
    kw.update(layer)
    return HalfCell(load_parameters(), CathodeSpec((LayerSpec(**kw),), {"L": 5.65e-6}))


def test_parameter_sets_load_and_every_value_has_a_source() -> None:
    for path in (DEFAULT_SET, CROSSCHECK_SET):
        ps = load_parameters(path)
        assert ps.positive.max_concentration_mol_m3 > 0
    raw = _raw()
    del raw["positive"]["diffusivity_m2_s"]["source"]
    with pytest.raises(InputError) as err:
        parameters_from_dict(raw)
    assert err.value.field == "parameters.positive.diffusivity_m2_s.source"


@pytest.mark.parametrize("section", ["positive", "electrolyte", "counter", "separator"])
def test_unknown_parameter_key_is_named(section: str) -> None:
    raw = _raw()
    raw[section]["bogus_key"] = {"value": 1.0, "source": "x"}
    with pytest.raises(InputError) as err:
        parameters_from_dict(raw)
    assert err.value.field == f"parameters.{section}.bogus_key"
    with pytest.raises(InputError, match="parameters.positive.bogus"):
        load_parameters().replace("positive", bogus=1.0)


def test_parameter_overrides_are_checked() -> None:
    ps = load_parameters().with_overrides({"positive": {"electronic_conductivity_S_m": 0.003}})
    assert ps.positive.electronic_conductivity_S_m == 0.003
    with pytest.raises(InputError, match="parameters.positive.no_such_key"):
        load_parameters().with_overrides({"positive": {"no_such_key": 1.0}})
    with pytest.raises(InputError, match="electrochem.parameter_overrides.anode"):
        load_parameters().with_overrides({"anode": {"x": 1.0}})
    with pytest.raises(InputError, match="parameters.separator.thickness_m"):
        load_parameters().with_overrides({"separator": {"thickness_m": -1e-6}})


def test_negative_separator_thickness_is_rejected() -> None:
    raw = _raw()
    raw["separator"]["thickness_m"]["value"] = -25e-6
    with pytest.raises(InputError) as err:
        parameters_from_dict(raw)
    assert err.value.field == "parameters.separator.thickness_m"


def test_layer_checks() -> None:
    with pytest.raises(InputError) as err:
        _cell(porosity=0.5, active_fraction={"L": 0.5}, inactive_fraction=0.05)
    assert err.value.field == "cathode.layers.L.porosity" and "> 1" in err.value.problem
    with pytest.raises(InputError) as err:
        _cell(thickness_m=-1e-6)
    assert err.value.field == "cathode.layers.L.thickness_m"
    with pytest.raises(InputError, match="tortuosity"):
        _cell(tortuosity=0.5)


def test_protocol_checks() -> None:
    cell = _cell()
    RateTest().validate(cell)
    with pytest.raises(InputError) as err:
        RateTest(c_rates=(0.1, 0.0)).validate(cell)
    assert err.value.field == "electrochem.protocol.c_rates[1]"
    for bad in (0.0, -0.2, float("nan"), float("inf")):
        with pytest.raises(InputError) as err:
            RateTest(charge="symmetric", charge_c_rate=bad).validate(cell)
        assert err.value.field == "electrochem.protocol.charge_c_rate"
    with pytest.raises(InputError) as err:
        RateTest(charge="both").validate(cell)
    assert err.value.field == "electrochem.protocol.charge"
    with pytest.raises(InputError) as err:      # a CV that would end at once
        RateTest(c_rates=(0.05, 1.0), charge="symmetric", cv=True, cv_end_c_rate=0.05).validate(cell)
    assert err.value.field == "electrochem.protocol.cv_end_c_rate"
    RateTest(c_rates=(0.05, 1.0), charge="symmetric", cv=False, cv_end_c_rate=0.05).validate(cell)
    with pytest.raises(InputError) as err:
        cc(cell, 0.0)
    assert err.value.field == "electrochem.protocol.c_rate"
    u_min, u_max = ocp_range_V(cell.params.positive.ocp)
    with pytest.raises(InputError) as err:
        RateTest(v_max_V=u_max + 0.1).validate(cell)
    assert err.value.field == "electrochem.protocol.v_max_V"
    with pytest.raises(InputError) as err:
        RateTest(v_min_V=4.5, v_max_V=4.3).validate(cell)
    assert err.value.field == "electrochem.protocol.v_min_V"


def test_material_functions_match_pybamm() -> None:
    pybamm = pytest.importorskip("pybamm")
    from pybamm.input.parameters.lithium_ion import Chen2020
    ps = load_parameters(CROSSCHECK_SET)
    c = np.array([100.0, 500.0, 1000.0, 1800.0, 2500.0])
    assert np.allclose(evaluate(ps.electrolyte.conductivity, c),
                       Chen2020.electrolyte_conductivity_Nyman2008(c, 298.15), rtol=1e-12)
    assert np.allclose(evaluate(ps.electrolyte.diffusivity, c),
                       Chen2020.electrolyte_diffusivity_Nyman2008(c, 298.15), rtol=1e-12)
    s = np.linspace(0.2, 1.0, 9)
    assert np.allclose(evaluate(ps.positive.ocp, s), Chen2020.nmc_LGM50_ocp_Chen2020(s), rtol=1e-12)
    s43 = stoichiometry_at_ocp(ps.positive.ocp, 4.3)
    assert abs(float(evaluate(ps.positive.ocp, np.array(s43))) - 4.3) < 1e-3


def test_tortuosity_from_dict_and_netcdf(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    assert load_tortuosity({"L": 1.8, "S": 2.0}) == {"L": 1.8, "S": 2.0}
    path = tmp_path / "tau.nc"
    xr.Dataset({"tortuosity": ("layer", [1.85, 2.02])}, coords={"layer": ["L", "S"]}).to_netcdf(
        path, engine="h5netcdf")
    assert load_tortuosity(path) == pytest.approx({"L": 1.85, "S": 2.02})
    with pytest.raises(InputError, match="electrochem.tortuosity.L"):
        load_tortuosity({"L": 0.9})
    with pytest.raises(InputError, match="electrochem.tortuosity"):
        load_tortuosity(tmp_path / "missing.nc")


CLI_CASE = "L-Dry-S_load22_por0.55_ls0.5"


def _protocol(**values):
    return lambda cfg, d: cfg["electrochem"].setdefault("protocol", {}).update(values)


def _overrides(section: str, **values):
    return lambda cfg, d: cfg["electrochem"].setdefault("parameter_overrides", {}).setdefault(
        section, {}).update(values)


def _parameter_file(edit):
    """Point electrochem.parameters at a copy of the default file changed by ``edit(raw)``."""
    def change(cfg, d):
        raw = _raw()
        edit(raw)
        (d / "dfn_bad.yaml").write_text(yaml.safe_dump(raw))
        cfg["electrochem"]["parameters"] = str(d / "dfn_bad.yaml")
    return change


def _anode_file(**negative):
    """Point fullcell.anode_parameters at a copy of the graphite file with ``negative`` values changed."""
    def change(cfg, d):
        raw = yaml.safe_load(open("config/parameters/graphite_chen2020.yaml"))
        for k, v in negative.items():
            raw["negative"][k]["value"] = v
        (d / "anode_bad.yaml").write_text(yaml.safe_dump(raw))
        cfg.setdefault("fullcell", {})["anode_parameters"] = str(d / "anode_bad.yaml")
    return change


def _set(path: str, value):
    def change(cfg, d):
        node = cfg
        *head, last = path.split(".")
        for k in head:
            node = node.setdefault(k, {})
        node[last] = value
    return change


def _no_change(cfg, d):
    pass


BAD_CLI_INPUTS = {
    # id: (command, case, config change, field named on stderr, words the message must contain besides
    # the field: "allowed" (InputError's "(allowed: ...)"), or the schema's bound where the config schema
    # rejects the value first and has no description to quote)
    "c_rate_zero": ("dfn", CLI_CASE, _protocol(c_rates=[0.1, 0.0]), "electrochem.protocol.c_rates[1]",
                    ("0.0", "minimum of 0")),
    "charge_c_rate_zero": ("dfn", CLI_CASE, _protocol(charge_c_rate=0.0), "electrochem.protocol.charge_c_rate",
                           ("allowed",)),
    "charge_c_rate_negative": ("dfn", CLI_CASE, _protocol(charge_c_rate=-0.2), "electrochem.protocol.charge_c_rate",
                               ("-0.2", "minimum of 0")),
    "charge_c_rate_nan": ("dfn", CLI_CASE, _protocol(charge_c_rate=float("nan")),
                          "electrochem.protocol.charge_c_rate", ("allowed", "finite")),
    "charge_c_rate_inf": ("dfn", CLI_CASE, _protocol(charge_c_rate=float("inf")),
                          "electrochem.protocol.charge_c_rate", ("allowed", "finite")),
    "charge_c_rate_zero_symmetric": ("dfn", CLI_CASE, _protocol(charge="symmetric", charge_c_rate=0.0),
                                     "electrochem.protocol.charge_c_rate", ("allowed",)),
    "charge_mode_unknown": ("dfn", CLI_CASE, _protocol(charge="asymmetric"), "electrochem.protocol.charge",
                            ("asymmetric", "symmetric")),
    "cutoff_above_ocp_range": ("dfn", CLI_CASE, _protocol(v_max_V=5.0), "electrochem.protocol.v_max_V",
                               ("allowed", "OCP range")),
    "cutoff_below_ocp_range": ("dfn", CLI_CASE, _protocol(v_min_V=1.5, v_max_V=2.0),
                               "electrochem.protocol.v_max_V", ("allowed", "OCP range")),
    "tortuosity_below_1": ("dfn", CLI_CASE, _set("electrochem.tortuosity", {"L": 0.5}),
                           "electrochem.tortuosity", ("allowed", ">= 1")),
    "negative_separator_thickness_override": ("dfn", CLI_CASE, _overrides("separator", thickness_m=-25e-6),
                                              "parameters.separator.thickness_m", ("allowed", "-2.5e-05")),
    "negative_separator_thickness_file": (
        "dfn", CLI_CASE, _parameter_file(lambda raw: raw["separator"]["thickness_m"].update(value=-25e-6)),
        "parameters.separator.thickness_m", ("allowed", "-2.5e-05")),
    "unknown_parameter_key_override": ("dfn", CLI_CASE, _overrides("positive", bogus_key=1.0),
                                       "parameters.positive.bogus_key", ("allowed", "unknown")),
    "unknown_parameter_key_file": (
        "dfn", CLI_CASE, _parameter_file(lambda raw: raw["positive"].update(bogus_key={"value": 1.0, "source": "x"})),
        "parameters.positive.bogus_key", ("allowed", "unknown")),
    "porosity_above_1_case": ("dfn", "L-Dry-S_load22_por1.5_ls0.5", _no_change, "design.porosity", ("allowed", "1.5")),
    # porosity (0.35 < 1) + solid fraction (0.75) above 1: the graphite anode of a full cell (the cathode's
    # solids follow from its porosity by design, so only LayerSpec can get there: test_layer_checks)
    "porosity_plus_solids_above_1": ("fullcell", CLI_CASE, _anode_file(porosity=0.35),
                                     "fullcell.anode_parameters.negative.active_fraction",
                                     ("allowed", "porosity 0.35", "> 1")),
}


@pytest.mark.parametrize("bad", sorted(BAD_CLI_INPUTS))
def test_cli_bad_input_writes_nothing(bad: str, tmp_path, capsys) -> None:
    """Each bad input exits with code 2 before any work, prints one line naming the field and what is
    wrong / allowed, and leaves the output folder empty (no output, no temporary file)."""
    from layerlab.cli import EXIT_INPUT_ERROR, main
    command, case, change, field, words = BAD_CLI_INPUTS[bad]
    cfg = yaml.safe_load(open("config/config.yaml"))
    inputs, outdir = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outdir.mkdir()
    change(cfg, inputs)
    path = inputs / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    rc = main([command, "--config", str(path), "--case", case, "--out", str(outdir / "run.nc")])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith(f"layerlab {command}: error: ")]
    assert rc == EXIT_INPUT_ERROR == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"layerlab {command}: error: {field}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in err
    assert list(outdir.iterdir()) == []


def test_unknown_newton_method_is_named() -> None:
    """``electrochem.discretisation.newton`` takes chord or snes only."""
    from layerlab.electrochem.dfn import Discretisation
    with pytest.raises(InputError, match="electrochem.discretisation.newton.*'newtonish'"):
        Discretisation(newton="newtonish")
    assert Discretisation(newton="snes").newton == "snes"
