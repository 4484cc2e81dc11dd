"""Full-cell inputs: anode file, N/P sizing, SEI model, voltage window; bad input names the field."""

from __future__ import annotations

import copy

import pytest
import yaml

from layerlab.config import validate_config
from layerlab.electrochem.cell import AnodeSpec, anode_for_np_ratio
from layerlab.electrochem.commands_fullcell import prepare_fullcell
from layerlab.electrochem.parameters import (DEFAULT_ANODE, FARADAY, FULLCELL_CROSSCHECK_SET, load_anode,
                                             load_parameters)
from layerlab.electrochem.protocols import ocv_range_V
from layerlab.errors import InputError

CASE = "L-Dry-S_load24.6_por0.55_ls0.5"


def _config(**fullcell) -> dict:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["fullcell"] = {"cycles": 2, **fullcell}
    return validate_config(cfg)


def test_anode_file_loads_with_sources_and_np_ratio_sizes_the_anode() -> None:
    neg, sei = load_anode()
    assert neg.max_concentration_mol_m3 == 33133.0 and sei is not None
    params = load_parameters().with_anode(neg, sei)
    q_cathode = 1.7e5                                    # C/m2
    an = anode_for_np_ratio(params, q_cathode, 1.1)
    usable = an.thickness_m * neg.active_fraction * neg.max_concentration_mol_m3 * FARADAY * (
        neg.max_stoichiometry - neg.initial_stoichiometry)
    assert usable == pytest.approx(1.1 * q_cathode, rel=1e-12)
    raw = yaml.safe_load(DEFAULT_ANODE.read_text())
    for key, leaf in raw["negative"].items():
        assert "source" in leaf, key


def test_prepare_builds_the_paper_cell() -> None:
    run = prepare_fullcell(_config(np_ratio=1.2), CASE)
    cell = run.cell
    assert cell.is_full_cell and run.sei_model == "solvent-diffusion limited"
    neg = cell.params.negative
    cap = cell.anode.thickness_m * neg.active_fraction * neg.max_concentration_mol_m3 * FARADAY * (
        neg.max_stoichiometry - neg.initial_stoichiometry)
    assert cap == pytest.approx(1.2 * cell.cathode.capacity_1C_A_m2 * 3600.0, rel=1e-12)
    assert run.rate_test.v_min_V == 2.7 and run.rate_test.v_max_V == 4.3
    lo, hi = ocv_range_V(cell)
    assert lo < 2.7 < 4.3 < hi


@pytest.mark.parametrize("fullcell, field", [
    ({"np_ratio": 0.0}, "fullcell.np_ratio"),
    ({"cycles": -1}, "fullcell.cycles"),
    ({"v_max_V": 5.5}, "fullcell.v_max_V"),
    ({"v_min_V": 4.4, "v_max_V": 4.3}, "fullcell.v_min_V"),
    ({"sei": {"model": "magic"}}, "fullcell.sei.model"),
    ({"sei": {"parameters": {"bogus": 1.0}}}, "fullcell.sei.parameters.bogus"),
    ({"sei": {"parameters": {"initial_thickness_m": -1e-9}}}, "fullcell.sei.parameters.initial_thickness_m"),
    ({"parameter_overrides": {"negative": {"porosity": 1.5}}}, "fullcell.parameter_overrides.negative.porosity"),
    ({"parameter_overrides": {"positive": {"contact_resistance_ohm_m2": -1.0}}},
     "fullcell.parameter_overrides.positive.contact_resistance_ohm_m2"),
    ({"anode_parameters": "no/such/file.yaml"}, "fullcell.anode_parameters"),
    ({"cycle_c_rate": 0.0}, "fullcell.cycle_c_rate"),
])
def test_bad_input_names_the_field(fullcell: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        prepare_fullcell(_config(**fullcell), CASE)
    assert err.value.field == field, err.value


def test_anode_file_errors_name_the_key(tmp_path) -> None:
    raw = yaml.safe_load(DEFAULT_ANODE.read_text())
    bad = copy.deepcopy(raw)
    bad["negative"]["bogus"] = {"value": 1.0, "source": "x"}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError) as err:
        load_anode(path)
    assert err.value.field == "fullcell.anode_parameters.negative.bogus"
    bad = copy.deepcopy(raw)
    del bad["negative"]["porosity"]
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="fullcell.anode_parameters.negative.porosity"):
        load_anode(path)
    bad = copy.deepcopy(raw)
    del bad["sei"]
    path.write_text(yaml.safe_dump(bad))
    neg, sei = load_anode(path)
    assert sei is None
    from layerlab.electrochem.sei import check_sei_model
    with pytest.raises(InputError, match="fullcell.anode_parameters.sei"):
        check_sei_model("solvent-diffusion limited", sei)


def test_anode_geometry_and_half_cell_sei_are_checked() -> None:
    with pytest.raises(InputError, match="anode.active_fraction"):
        AnodeSpec(80e-6, 0.4, 0.7, 5e-6)
    with pytest.raises(InputError, match="anode.thickness_m"):
        AnodeSpec(-1e-6, 0.3, 0.6, 5e-6)
    from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
    from layerlab.electrochem.dfn import DFNModel
    cath = CathodeSpec((LayerSpec("L", 50e-6, 0.4, {"L": 0.5}),), {"L": 5e-6})
    with pytest.raises(InputError, match="parameters.negative"):
        HalfCell(load_parameters(), cath, anode=AnodeSpec(80e-6, 0.3, 0.6, 5e-6))
    neg, sei = load_anode()
    half = HalfCell(load_parameters(FULLCELL_CROSSCHECK_SET).with_anode(neg, sei), cath)
    with pytest.raises(InputError, match="fullcell.sei.model"):
        DFNModel(half, sei="solvent-diffusion limited")
