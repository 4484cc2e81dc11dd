"""Low-rate discharge: the resolved half cell against H4's DFN on the same design; Li balance.

The design of the resolved mesh (one particle cut by the current collector, in a 10 um box under
a 5 um separator slab) is given to the DFN as one layer with the mesh's particle volume
fraction and the volume-equivalent sphere radius 3 V / A of the mesh particle; both use the same
parameter set.  At 0.05 C both are near equilibrium, so their capacities to the cut-off must agree
within 2 %.  The cut-off (3.5 V) lies just above the OCP minimum (3.487 V at s = 1): the
discharge ends at a well-defined voltage, not in the saturation plunge.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel
from layerlab.resolved.solver import Runner, StepControl

W_M, H_M, SEP_M = 10e-6, 10e-6, 5e-6
V_CUT = 3.5


def _resolved(comm: MPI.Comm):
    data = sphere_box_mesh(W_M, H_M, [(5e-6, 5e-6, 3.8e-6, 4.5e-6)], separator_m=SEP_M, h_m=2.2e-6, comm=comm)
    params = load_parameters().replace("separator", thickness_m=SEP_M)
    m = ResolvedModel(build_phases(data), params)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m.set_rest_state(s0)
    return m, params, s0


@pytest.fixture(scope="module")
def discharge():
    m, params, s0 = _resolved(MPI.COMM_SELF)
    vol = m.particle_volume_m3_m2()
    I = 0.05 * (0.95 - s0) * params.positive.max_concentration_mol_m3 * vol * FARADAY / 3600.0
    run = Runner(m, StepControl(dt_initial_s=20.0, dt_max_s=3600.0, dv_max_V=0.03))
    tr = run.run_cc(I, v_min_V=V_CUT)
    return m, params, s0, I, tr


def test_lithium_conserved_to_1e8(discharge) -> None:
    m, params, s0, I, tr = discharge
    li = np.array(tr.li_electrolyte_mol_m2) + np.array(tr.li_particles_mol_m2)
    q = np.array(tr.charge_C_m2)
    err = (li - li[0]) - q / FARADAY
    assert np.abs(err).max() / li[0] < 1e-8
    assert np.abs(err).max() / (li[-1] - li[0]) < 1e-6        # also relative to the Li moved
    assert tr.end_reason == "voltage cut-off"
    assert tr.voltage_V[-1] == pytest.approx(V_CUT, abs=1e-5)


def test_low_rate_capacity_matches_dfn(discharge) -> None:
    m, params, s0, I, tr = discharge
    vol, area = m.particle_volume_m3_m2(), m.surface_area_m2_m2()
    eps_s = vol / H_M
    cell = HalfCell(params, CathodeSpec(layers=(LayerSpec("L", H_M, 1 - eps_s, {"L": eps_s}),),
                                        radius_m={"L": 3 * vol / area}))
    dfn = DFNModel(cell, comm=MPI.COMM_SELF)
    dfn.set_initial_state(s0)
    trd = Integrator(dfn, record_profiles=False).run(Segment("current", I, 40 * 3600.0, v_min_V=V_CUT))
    q_dfn = trd.charge_C_m2[-1] - trd.charge_C_m2[0]
    assert trd.end_reason == "voltage cut-off"
    assert tr.capacity_C_m2 == pytest.approx(q_dfn, rel=0.02)
    # and both are close to the equilibrium capacity to the stoichiometry of the cut-off OCP
    s_end = stoichiometry_at_ocp(params.positive.ocp, V_CUT)
    q_eq = (s_end - s0) * params.positive.max_concentration_mol_m3 * vol * FARADAY
    assert tr.capacity_C_m2 == pytest.approx(q_eq, rel=0.05)
