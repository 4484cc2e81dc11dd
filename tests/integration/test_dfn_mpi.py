"""The DFN mesh distributed over the MPI ranks gives the same result as one rank."""

from __future__ import annotations

import pytest

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator
from layerlab.electrochem.parameters import CROSSCHECK_SET, load_parameters
from layerlab.electrochem.protocols import cc
from layerlab.fe import MPI


def _run(comm: MPI.Comm) -> tuple[float, float, float]:
    layers = (LayerSpec("L", 40e-6, 0.35, {"L": 0.55}, inactive_fraction=0.1),
              LayerSpec("S", 40e-6, 0.35, {"S": 0.55}, inactive_fraction=0.1))
    cell = HalfCell(load_parameters(CROSSCHECK_SET), CathodeSpec(layers, {"L": 5.65e-6, "S": 2.25e-6}))
    model = DFNModel(cell, Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8), comm=comm)
    it = Integrator(model, record_profiles=True)
    tr = it.run(cc(cell, 1.0, v_min_V=3.6))
    prof = tr.profiles[-1]
    return it.charge_C_m2, float(prof["c_e"][0]), model.lithium_inventory()


@pytest.mark.mpi
def test_capacity_independent_of_rank_count() -> None:
    q_world, ce_world, inv_world = _run(MPI.COMM_WORLD)
    q_self, ce_self, inv_self = _run(MPI.COMM_SELF)
    assert abs(q_world / q_self - 1) < 1e-6
    assert abs(ce_world / ce_self - 1) < 1e-6
    assert abs(inv_world / inv_self - 1) < 1e-8
