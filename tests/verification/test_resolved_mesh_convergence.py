"""Mesh convergence of the resolved 3D 1C capacity on a tiny case: the capacity changes less from
h/1.5 to h/2 than from h to h/1.5, in the same direction.

One 4.5 um sphere (cut by the collector) in a 10 um box under a 5 um separator, gmsh at h = 1.5,
1.0, 0.75 um; a 1C discharge from rest at the OCP of 4.3 V to 3.9 V (the cut-off located to 1e-4 V),
capacity per active mass of the meshed sphere.  Measured (2026-12-07): 57.35 / 56.06 / 55.65 mAh/g,
differences 1.29 and 0.41 (observed order ~2.2); coarser, h 2.4 / 1.6 / 1.2 is not yet asymptotic
(58.64 / 57.71 / 56.48: the differences grow), finer h 0.9 / 0.6 gives 55.92 / 55.45.
``bench/bench_resolved_convergence.py`` measures the same on a real packing (README, "Resolved 3D
half cells").
"""

from __future__ import annotations

import pytest

from layerlab.fe import MPI

H_UM = (1.5, 1.0, 0.75)


def _capacity_mAh_g(h_um: float, folder) -> float:
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.geometry import tags as T
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.boxmesh import sphere_box_mesh
    from layerlab.resolved.run import Protocol, run_resolved
    from layerlab.resolved.solver import StepControl

    msh = folder / f"h{h_um}.msh"
    sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6)], separator_m=5e-6, h_m=h_um * 1e-6,
                    comm=MPI.COMM_SELF, msh_path=str(msh))
    data = read_msh(str(msh), 3, required={k: T.NAMES_3D[k] for k in
                                           ("electrolyte", "particles", "current_collector", "top", "interface")},
                    comm=MPI.COMM_SELF)
    params = load_parameters().replace("separator", thickness_m=5e-6)
    ds, _ = run_resolved(data, params, Protocol(1.0, 0.0, 3.9, 4.3), 210.0, 5000.0,
                         StepControl(dt_max_s=120.0, dv_max_V=0.02), profile_bins=4, profile_every_s=1e5)
    assert ds.attrs["discharge_end_reason"] == "voltage cut-off"
    return float(ds.attrs["discharge_capacity_mAh_g"])


@pytest.mark.slow
def test_capacity_differences_shrink_under_refinement(tmp_path) -> None:
    q = [_capacity_mAh_g(h, tmp_path) for h in H_UM]
    d1, d2 = q[0] - q[1], q[1] - q[2]
    assert abs(d1) > 1e-4 * q[0], q          # the coarse mesh is measurably off (not a vacuous test)
    assert d1 * d2 > 0 and abs(d2) < abs(d1), q
