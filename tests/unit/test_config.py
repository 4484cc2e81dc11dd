"""Config validation: defaults filled, bad input named by field, case names round-trip."""

from __future__ import annotations

import copy

import pytest
import yaml

from layerlab.cases import Case, cases_of, parse_case
from layerlab.config import GEOMETRY_READERS, load_config, validate_config
from layerlab.errors import InputError


@pytest.fixture
def default_config(repo_root):
    return yaml.safe_load((repo_root / "config" / "config.yaml").read_text())


def test_default_config_validates_and_fills_defaults(default_config) -> None:
    cfg = validate_config(default_config)
    assert cfg["results_dir"] == "results"
    assert cfg["geometry"]["seeds"] == [0]


def test_paper_config_validates(repo_root) -> None:
    load_config(repo_root / "config" / "paper.yaml")


@pytest.mark.parametrize("mutate, field", [
    (lambda c: c["sweeps"]["fig1d"].update(architecture=["L-S", "X-Y"]), "sweeps.fig1d.architecture[1]"),
    (lambda c: c["sweeps"]["fig1d"].update(architecture=[]), "sweeps.fig1d.architecture"),
    (lambda c: c["sweeps"]["fig1d"].update(porosity=[0.95]), "sweeps.fig1d.porosity[0]"),
    (lambda c: c["sweeps"]["fig1d"].update(loading_mg_cm2=[-2]), "sweeps.fig1d.loading_mg_cm2[0]"),
    (lambda c: c["sweeps"]["fig1d"].update(ls_ratio=["0:0"]), "sweeps.fig1d.ls_ratio[0]"),
    (lambda c: c["sweeps"]["fig5f"].update(porosity=[]), "sweeps.fig5f.porosity"),
    (lambda c: c["sweeps"]["fig5f"].update(ls_ratio=[]), "sweeps.fig5f.ls_ratio"),
    (lambda c: c["geometry"].update(sweeps2d=["nope"]), "geometry.sweeps2d[0]"),
    (lambda c: c["wetting"].update(sweeps=["fig1d", "nope"]), "wetting.sweeps[1]"),
    (lambda c: c["electrochem"].update(sweeps=["rate_fig2fg", "nope"]), "electrochem.sweeps[1]"),
    (lambda c: c.update(unknown_section={}), "config"),
])
def test_bad_config_names_field(default_config, mutate, field) -> None:
    cfg = copy.deepcopy(default_config)
    mutate(cfg)
    with pytest.raises(InputError) as err:
        validate_config(cfg)
    assert err.value.field == field


def test_case_names_round_trip(default_config) -> None:
    cfg = validate_config(default_config)
    cases = cases_of(cfg, ["fig5f", "fig1d"], seeds=[0, 3])
    assert len(cases) == (5 + 3) * 2
    for c in cases:
        assert parse_case(c.name) == c
    assert Case("L-Dry-S", 29.6, 0.55, 0.5, 0).name == "L-Dry-S_load29.6_por0.55_ls0.5_seed0"
    with pytest.raises(InputError):
        parse_case("Q-Dry-S_load29.6_por0.55_ls0.5")


def _error(cfg) -> InputError:
    with pytest.raises(InputError) as err:
        validate_config(cfg)
    return err.value


def test_wetting_porosity_not_in_geometry_set_is_named(default_config) -> None:
    """A wetting sweep with a porosity the 2D geometry set does not mesh: the stage's entry and the
    sweep's porosity field are named, with the geometry set's porosities as what is allowed."""
    cfg = copy.deepcopy(default_config)
    cfg["sweeps"]["fig1d_calendered"] = {**cfg["sweeps"]["fig1d"], "porosity": [0.55, 0.45]}
    cfg["wetting"]["sweeps"] = ["fig1d", "fig5f_lite", "fig1d_calendered"]
    err = _error(cfg)
    assert err.field == "wetting.sweeps[2]"
    assert "porosity 0.45 (sweeps.fig1d_calendered.porosity[1])" in err.problem
    assert "geometry.sweeps2d" in err.problem and "porosity 0.55" in err.allowed
    cfg["geometry"]["sweeps2d"] = ["fig1d", "fig5f_lite", "fig1d_calendered"]   # meshed: valid
    validate_config(cfg)


@pytest.mark.parametrize("section, key, sweep, geo_key", [
    ("resolved", "sweeps2d", "fig1d_dried", "sweeps2d"),    # S-Dry-L / L-Dry-S have no 2D packing
    ("transport", "sweeps", "transport", "sweeps3d"),       # the transport sweep without its 3D packings
    ("resolved", "sweeps", "transport", "sweeps3d"),
])
def test_geometry_stage_design_not_in_geometry_set_is_named(default_config, section, key, sweep, geo_key) -> None:
    cfg = copy.deepcopy(default_config)
    cfg[section][key] = [sweep]
    cfg["geometry"][geo_key] = [g for g in cfg["geometry"][geo_key] if g != sweep]
    for other, other_key, other_geo, _ in GEOMETRY_READERS:    # only the stage under test reads it
        if other_geo == geo_key and (other, other_key) != (section, key) and other in cfg:
            cfg[other][other_key] = []
    err = _error(cfg)
    assert err.field == f"{section}.{key}[0]"
    assert f"geometry.{geo_key}" in err.problem and f"geometry.{geo_key}" in err.allowed
    cfg["geometry"][geo_key] = [*cfg["geometry"][geo_key], sweep]
    validate_config(cfg)


def test_combination_not_in_geometry_set_is_named(default_config) -> None:
    """Each value is in the geometry set but one design is not (L-S at 30 mg/cm2)."""
    cfg = copy.deepcopy(default_config)
    cfg["sweeps"]["odd"] = {"architecture": ["L-S", "L-Dry-S"], "loading_mg_cm2": [30.0], "porosity": [0.55],
                            "ls_ratio": [0.5]}
    cfg["wetting"]["sweeps"] = ["odd"]
    err = _error(cfg)
    assert err.field == "wetting.sweeps[0]" and "design L-S_load30_por0.55_ls0.5" in err.problem


@pytest.fixture
def paper_config(repo_root):
    return yaml.safe_load((repo_root / "config" / "paper.yaml").read_text())


@pytest.mark.parametrize("sweep", ["impedance_figS10", "fullcell_fig5h", "rate_fig4cd"])
def test_stage_tortuosity_porosity_outside_the_transport_sweep_is_valid(paper_config, sweep) -> None:
    """paper.yaml reads the tortuosity from the transport stage; the dfn, impedance and fullcell
    rules declare the transport runs they read as inputs, so a porosity outside the transport sweep
    is made by the DAG (tests/integration/test_workflow.py) and is not a config error."""
    cfg = copy.deepcopy(paper_config)
    cfg["sweeps"][sweep]["porosity"] = [0.4]
    validate_config(cfg)
