"""PyBaMM parameter sets loaded by name (``pybamm:<SetName>``, functions translated into UFL)
against PyBaMM's own DFN on the same set (native functions): capacity within 1 % and voltage RMS
within 10 mV (:mod:`layerlab.electrochem.pybamm_crosscheck`: half cell = the set's positive
electrode against the lithium foil; full cell = the set's cell from 100 % SOC; 20 points per region
and in r).  By default each set at 1C in both modes; ``LAYERLAB_PYBAMM_SETS_FULL=1`` runs 0.5, 1
and 2C (as ``bench/bench_pybamm_sets.py``, whose numbers are in the README).
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("pybamm")

from layerlab.electrochem.pybamm_crosscheck import SETS, cross_check  # noqa: E402

FULL = os.environ.get("LAYERLAB_PYBAMM_SETS_FULL") == "1"
RATES = (0.5, 1.0, 2.0) if FULL else (1.0,)


@pytest.mark.slow
@pytest.mark.parametrize("c_rate", RATES)
@pytest.mark.parametrize("mode", ["half", "full"])
@pytest.mark.parametrize("name", SETS)
def test_pybamm_set_matches_pybamm(name: str, mode: str, c_rate: float) -> None:
    r = cross_check(name, mode == "full", c_rate)
    assert r.end_reason in ("voltage cut-off", "saturation (voltage plunge below the OCP range)"), r
    assert abs(r.capacity_error) < 0.01, r
    assert r.voltage_rms_mV < 10.0, r


@pytest.mark.slow
@pytest.mark.parametrize("c_rate", RATES)
def test_stoichiometry_dependent_diffusivity_matches_pybamm(c_rate: float) -> None:
    """Ecker2015's particle diffusivities depend on stoichiometry in both electrodes (D(sto, T),
    translated, taken at the mean stoichiometry of each radial interface): its full cell."""
    r = cross_check("Ecker2015", True, c_rate)
    assert r.end_reason == "voltage cut-off", r
    assert abs(r.capacity_error) < 0.01 and r.voltage_rms_mV < 10.0, r


def test_stoichiometry_dependent_diffusivity_conserves_lithium() -> None:
    """With D(sto) in both electrodes the full cell's cyclable lithium (electrolyte + particles)
    is constant through a 2C discharge (the radial fluxes are differences of one interface flux)."""
    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.electrochem.integrator import Integrator, Segment
    from layerlab.electrochem.pybamm_crosscheck import prepared_values
    from layerlab.electrochem.pybamm_import import cell_from_values
    pv, v_min, _, one_c = prepared_values("Ecker2015", full=True)
    cell = cell_from_values(pv, "pybamm:Ecker2015", full=True)
    assert callable(cell.params.positive.diffusivity_m2_s) and callable(cell.params.negative.diffusivity_m2_s)
    model = DFNModel(cell, Discretisation(cells_separator=4, cells_cathode=8, cells_anode=8, radial_volumes=6))
    before = model.lithium_inventory()
    it = Integrator(model, record_profiles=False)
    tr = it.run(Segment("current", 2.0 * one_c, 900.0, v_min_V=v_min))
    assert it.charge_C_m2 > 0.4 * one_c * 3600.0 and tr.end_reason == "duration"
    assert abs(model.lithium_inventory() / before - 1.0) < 1e-10
