"""``electrochem.parameters: pybamm:<SetName>`` end to end: the dfn command runs the campaign design
with Mohtat2020's NMC (translated functions); the slow-rate capacity approaches the equilibrium
capacity between the OCP states at the cut-offs, and the full-cell command takes the set's graphite
(``fullcell.anode_parameters: pybamm:Mohtat2020``)."""

from __future__ import annotations

import pytest
import yaml

pytest.importorskip("pybamm")
xr = pytest.importorskip("xarray")

from layerlab.cli import main  # noqa: E402

CASE = "L-Dry-S_load24.6_por0.55_ls0.5"
SET = "pybamm:Mohtat2020"


def _config(tmp_path, **fullcell) -> dict:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["electrochem"] = {"sweeps": [], "parameters": SET,
                          "protocol": {"c_rates": [0.05, 1.0], "charge_c_rate": 1.0, "cv_end_c_rate": 0.02,
                                       "v_min_V": 3.0, "v_max_V": 4.2},
                          "discretisation": {"cells_separator": 4, "cells_cathode": 10, "radial_volumes": 8}}
    cfg["fullcell"] = {"cycles": 1, "cells_anode": 8, "cycle_c_rate": 1.0, "cycle_charge_c_rate": 1.0,
                       "cycle_cv_end_c_rate": 0.2, "curve_cycles": [1], "sei": {"model": "none"},
                       "anode_parameters": SET, "v_min_V": 2.8, "v_max_V": 4.2, "rate_test": False, **fullcell}
    return cfg


def test_dfn_command_runs_a_pybamm_set(tmp_path) -> None:
    from layerlab.electrochem.commands import prepare_case
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    cfg = _config(tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / f"{CASE}.nc"
    assert main(["dfn", "--config", str(tmp_path / "cfg.yaml"), "--case", CASE, "--out", str(out)]) == 0
    cell = prepare_case(cfg, CASE).cell
    ocp = cell.params.positive.ocp
    q_eq = cell.theoretical_capacity_C_m2(stoichiometry_at_ocp(ocp, 4.2), stoichiometry_at_ocp(ocp, 3.0))
    q_eq_mAh_g = q_eq / 3.6 / (cell.cathode.active_mass_kg_m2 * 1e3)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["parameter_set"] == SET
        q_slow, q_fast = ds["discharge_capacity"].values
    assert abs(q_slow / q_eq_mAh_g - 1) < 0.02, (q_slow, q_eq_mAh_g)
    assert q_fast < q_slow


def test_fullcell_command_takes_the_sets_anode(tmp_path) -> None:
    """The anode is the set's graphite, sized by N/P over the set's window (initial stoichiometry to
    100 % SOC by PyBaMM's state-of-health solve); without SEI no cyclable lithium is lost."""
    from layerlab.electrochem.commands import prepare_case
    from layerlab.electrochem.parameters import FARADAY
    from layerlab.electrochem.pybamm_import import anode_source
    cfg = _config(tmp_path)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / f"{CASE}.nc"
    assert main(["fullcell", "--config", str(tmp_path / "cfg.yaml"), "--case", CASE, "--out", str(out)]) == 0
    neg, _ = anode_source(SET)
    assert neg.max_stoichiometry > 0.5 and neg.diffusivity_m2_s == pytest.approx(5e-14)   # Mohtat2020 graphite
    cap_C_m2 = prepare_case(cfg, CASE).cell.cathode.capacity_1C_A_m2 * 3600.0
    thickness = 1.1 * cap_C_m2 / (neg.active_fraction * neg.max_concentration_mol_m3 * FARADAY
                                  * (neg.max_stoichiometry - neg.initial_stoichiometry))
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["parameter_set"] == SET
        assert float(ds.attrs["anode_thickness_m"]) == pytest.approx(thickness, rel=1e-12)
        assert abs(float(ds["lithium_inventory_loss"].values[-1])) < 1e-10
        assert float(ds["discharge_capacity_cycle"].values[0]) > 0
