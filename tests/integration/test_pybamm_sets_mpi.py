"""A PyBaMM set imported by name (translated UFL functions) gives the same DFN result on 2 ranks
as on one: Marquis2019's full cell, 1C from 100 % SOC."""

from __future__ import annotations

import pytest

pytest.importorskip("pybamm")

from layerlab.electrochem.dfn import DFNModel, Discretisation  # noqa: E402
from layerlab.electrochem.integrator import Integrator, Segment  # noqa: E402
from layerlab.electrochem.pybamm_crosscheck import prepared_values  # noqa: E402
from layerlab.electrochem.pybamm_import import cell_from_values  # noqa: E402
from layerlab.fe import MPI  # noqa: E402


def _run(comm: MPI.Comm) -> tuple[float, float, float]:
    pv, v_min, _, one_c = prepared_values("Marquis2019", full=True)
    cell = cell_from_values(pv, "pybamm:Marquis2019", full=True)
    disc = Discretisation(cells_separator=6, cells_cathode=12, cells_anode=12, radial_volumes=8)
    model = DFNModel(cell, disc, comm=comm)
    it = Integrator(model, record_profiles=False)
    tr = it.run(Segment("current", one_c, 2 * 3600.0, v_min_V=v_min))
    assert tr.end_reason == "voltage cut-off"
    return it.charge_C_m2, float(tr.voltage_V[len(tr.voltage_V) // 2]), model.lithium_inventory()


@pytest.mark.mpi
def test_pybamm_set_independent_of_rank_count() -> None:
    q_world, v_world, inv_world = _run(MPI.COMM_WORLD)
    q_self, v_self, inv_self = _run(MPI.COMM_SELF)
    assert abs(q_world / q_self - 1) < 1e-6
    assert abs(v_world - v_self) < 1e-6
    assert abs(inv_world / inv_self - 1) < 1e-8
