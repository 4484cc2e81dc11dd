"""Config validation: defaults filled, bad input named by field, case names round-trip."""

from __future__ import annotations

import copy

import pytest
import yaml

from layerlab.cases import Case, cases_of, parse_case
from layerlab.config import load_config, validate_config
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
    (lambda c: c["geometry"].update(sweeps2d=["nope"]), "geometry.sweeps2d[0]"),
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
