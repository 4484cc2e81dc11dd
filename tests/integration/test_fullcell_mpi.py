"""The full-cell DFN with SEI distributed over the MPI ranks gives the same result as one rank."""

from __future__ import annotations

import pytest

from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import FULLCELL_CROSSCHECK_SET, load_anode, load_parameters
from layerlab.fe import MPI


def _run(comm: MPI.Comm) -> tuple[float, ...]:
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    params = params.with_anode(params.negative, load_anode()[1]).replace("positive", contact_resistance_ohm_m2=1e-3)
    layers = (LayerSpec("L", 40e-6, 0.35, {"L": 0.55}, inactive_fraction=0.1),
              LayerSpec("S", 40e-6, 0.35, {"S": 0.55}, inactive_fraction=0.1))
    cell = HalfCell(params, CathodeSpec(layers, {"L": 5.65e-6, "S": 2.25e-6}),
                    anode=AnodeSpec(85e-6, 0.25, 0.75, 5.86e-6))
    model = DFNModel(cell, Discretisation(cells_separator=4, cells_cathode=12, cells_anode=10, radial_volumes=6),
                     comm=comm, sei="ec reaction limited")
    it = Integrator(model, record_profiles=True)
    tr0 = it.run(Segment("current", 40.0, 1200.0, v_min_V=3.2))
    tr = it.run(Segment("voltage", tr0.voltage_V[-1] + 0.05, 300.0, i_min_A_m2=5.0))
    prof = tr.profiles[-1]
    return (it.charge_C_m2, float(prof["c_e"][0]), model.lithium_inventory(), model.sei_lithium(),
            float(prof["sei_thickness"].max()))


@pytest.mark.mpi
def test_full_cell_independent_of_rank_count() -> None:
    world = _run(MPI.COMM_WORLD)
    single = _run(MPI.COMM_SELF)
    for a, b in zip(world, single):
        assert abs(a / b - 1) < 1e-6, (world, single)
