"""Equipotential current collector: particle clusters resting apart on the collector share one potential.

Issue 13's paper-width mesh has a 4-sphere cluster on the collector apart from the main one (6.6 % of
the contact area, 1.6 % of the particle volume).  With a current uniform per contact area such a
cluster is driven at its contact share, and its contact potential sits tens of mV from the main
cluster's although both rest on one aluminium foil.  Here a small sphere beside a large one: with
the equipotential collector the two contacts' potentials agree to the contact drop (G = sigma / h)
and the total reaction equals the applied current; the uniform condition, kept as an option, is shown
to miss the first (so the check can fail).
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel, SolverSettings

MAIN = (5e-6, 5e-6, 3.0e-6, 3.5e-6)          # cut by the collector
ISLAND = (1.2e-6, 1.2e-6, 1.2e-6, 1.6e-6)    # 0.4 um deep in the collector, 0.6 um from MAIN


def _discharge(collector: str, settings: SolverSettings | None = None) -> dict:
    data = sphere_box_mesh(10e-6, 10e-6, [MAIN, ISLAND], separator_m=3e-6, h_m=1.5e-6, comm=MPI.COMM_SELF)
    params = load_parameters().replace("separator", thickness_m=3e-6)
    m = ResolvedModel(build_phases(data), params, settings, collector=collector)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m.set_rest_state(s0)
    I_2C = 2 * 210.0 * 5000.0 * m.particle_volume_m3_m2()
    n = m.Vphis.dofmap.index_map.size_local
    xyz = m.Vphis.tabulate_dof_coordinates()[:n]
    on_cc = xyz[:, 2] < 1e-12
    island = on_cc & (xyz[:, 0] < 3e-6) & (xyz[:, 1] < 3e-6)
    ns = m.Vs.dofmap.index_map.size_local
    sxyz = m.Vs.tabulate_dof_coordinates()[:ns]
    in_island = (sxyz[:, 0] < 3e-6) & (sxyz[:, 1] < 3e-6) & (sxyz[:, 2] < 3e-6)
    gaps, reactions, volts = [], [], []
    for dt in (5.0, 10.0, 20.0, 40.0):
        ok, _ = m.solve(dt, I_2C)
        assert ok
        m.commit()
        phis = m.u[3].x.array[:n]
        gaps.append(phis[island].mean() - phis[on_cc & ~island].mean())
        reactions.append(m.reaction_current())
        volts.append(m.voltage())
    s = m.u[2].x.array[:ns]
    rise = (s[in_island].mean() - s0) / (s[~in_island].mean() - s0)
    return {"gap_V": np.array(gaps), "reaction": np.array(reactions), "I": I_2C, "rise_ratio": rise,
            "voltage_V": np.array(volts), "G": m.contact_conductance_S_m2, "I_cc": float(m.I_cc.value)}


@pytest.fixture(scope="module")
def equipotential():
    return _discharge("equipotential")


def test_clusters_on_the_collector_share_its_potential(equipotential) -> None:
    r = equipotential
    assert np.all(np.abs(r["gap_V"]) < 10 * r["I_cc"] / r["G"])          # within the contact drop
    assert r["I_cc"] / r["G"] < 1e-3                                      # which is below a mV
    np.testing.assert_allclose(r["reaction"], -r["I"], rtol=1e-6)        # all of the applied current (Newton tol.)
    assert r["voltage_V"][-1] < r["voltage_V"][0] - 0.05                  # the discharge did proceed
    u = _discharge("uniform")
    assert np.all(u["gap_V"] < -0.03)                 # uniform: the island's contact sits 50-120 mV low
    assert u["rise_ratio"] > 1.2 * r["rise_ratio"]    # and it lithiates faster than its neighbour


def test_rank_one_jacobian_is_exact(equipotential) -> None:
    """Full Newton with the Sherman-Morrison solve reaches the same states as the default reuse path
    (a wrong rank-one term would converge linearly at best, or to another state)."""
    full = _discharge("equipotential", SolverSettings(jacobian_lag=1, predictor=False))
    np.testing.assert_allclose(full["voltage_V"], equipotential["voltage_V"], rtol=0, atol=1e-8)
