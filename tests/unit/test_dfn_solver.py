"""DFN solver behaviour: failed solves halve the step then stop with a clear message; rest holds."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation, SolverFailure
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import CROSSCHECK_SET, load_parameters

DISC = Discretisation(cells_separator=4, cells_cathode=8, radial_volumes=5, max_halvings=3)


def _model() -> DFNModel:
    cath = CathodeSpec((LayerSpec("L", 60e-6, 0.35, {"L": 0.6}, inactive_fraction=0.05),), {"L": 5e-6})
    return DFNModel(HalfCell(load_parameters(CROSSCHECK_SET), cath), DISC)


def test_impossible_step_halves_then_stops_with_clear_message() -> None:
    """A current no electrode can carry (1e6 A/m2, no cut-off): halvings, then SolverFailure."""
    it = Integrator(_model(), record_profiles=False)
    with pytest.raises(SolverFailure, match=r"after 3 step halvings"):
        it.run(Segment("current", 1e6, 10.0, label="impossible"))


def test_rest_keeps_the_equilibrium_state() -> None:
    """At zero current from a uniform state nothing moves: V = U(s0), c_e = c_e0, no reaction."""
    m = _model()
    m.set_initial_state(0.5)
    it = Integrator(m, record_profiles=True)
    tr = it.run(Segment("current", 0.0, 3600.0, label="rest"))
    from layerlab.electrochem.electrolyte import evaluate
    u0 = float(evaluate(m.cell.params.positive.ocp, np.array(0.5)))
    assert abs(tr.voltage_V[-1] - u0) < 1e-9
    prof = tr.profiles[-1]
    assert np.allclose(prof["c_e"], 1000.0, rtol=1e-10)
    assert np.abs(prof["j_L"]).max() < 1e-9
    assert tr.steps < 20          # the error control grows the step on a steady state
