"""Rank independence of the resolved half cell: COMM_WORLD (2 ranks under make test) vs COMM_SELF."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel
from layerlab.resolved.solver import Runner, StepControl


def _discharge(comm: MPI.Comm):
    data = sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6), (5e-6, 5e-6, 8.0e-6, 2.0e-6)],
                           separator_m=5e-6, h_m=2.2e-6, comm=comm)
    params = load_parameters().replace("separator", thickness_m=5e-6)
    m = ResolvedModel(build_phases(data), params)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m.set_rest_state(s0)
    I = 0.5 * (0.95 - s0) * params.positive.max_concentration_mol_m3 * m.particle_volume_m3_m2() * FARADAY / 3600
    tr = Runner(m, StepControl(dt_initial_s=5.0, dt_max_s=300.0, dv_max_V=0.03)).run_cc(I, v_min_V=3.5)
    edges = np.linspace(0.0, 15e-6, 6)
    return tr, m.profiles(edges), m


@pytest.mark.mpi
def test_world_equals_self() -> None:
    world, prof_w, mw = _discharge(MPI.COMM_WORLD)
    serial, prof_s, _ = _discharge(MPI.COMM_SELF)
    assert MPI.COMM_WORLD.size == 1 or mw.comm.size == MPI.COMM_WORLD.size
    assert len(world.t_s) == len(serial.t_s)
    assert world.capacity_C_m2 == pytest.approx(serial.capacity_C_m2, rel=1e-8)
    np.testing.assert_allclose(world.voltage_V, serial.voltage_V, rtol=1e-9)
    np.testing.assert_allclose(world.li_particles_mol_m2, serial.li_particles_mol_m2, rtol=1e-10)
    for k in prof_w:
        np.testing.assert_allclose(prof_w[k], prof_s[k], rtol=1e-8, atol=1e-12 * np.nanmax(np.abs(prof_s[k])))
