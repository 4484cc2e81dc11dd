"""Exact 1D solution of the resolved model on a slab geometry (solid slab | electrolyte | separator).

With a flat particle surface, a uniform current, and fast diffusion in both phases (D_s = 1e-8,
D_e = 1e-6 m2/s: quasi-steady, particle stoichiometry uniform to ~1e-8, c_e piecewise linear),
the exact solution at every implicit-Euler step, on any unstructured 3D mesh, is: potentials
linear in z (P1-exact); a reaction current density -I on the whole interface; a Butler-Volmer
overpotential 2RT/F asinh(-I / 2 j0(c_e, s)); an ohmic drop I a / sigma through the solid and
I (b / kappa + L_sep tau / (eps kappa)) + the diffusion potential through the electrolyte; a
steady c_e drop (1 - t+) I L / (F D_eff); a foil overpotential 2RT/F asinh(I / 2 j0_Li(c_e)); and
a stoichiometry grown by I t / (F c_max a).  A wrong side of the interface (NOTES: "+" must be
the electrolyte), a sign error or a wrong entity map breaks them.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.electrolyte import evaluate
from layerlab.electrochem.parameters import FARADAY, FunctionForm, load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import slab_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel, SolverSettings

A_M, B_M, SEP_M = 3e-6, 4e-6, 2e-6


def _nodal(f, z: float) -> np.ndarray:
    """Owned values of a P1 function at the nodes with coordinate z (gathered on all ranks)."""
    V = f.function_space
    n = V.dofmap.index_map.size_local
    x = V.tabulate_dof_coordinates()[:n]
    vals = f.x.array[:n][np.isclose(x[:, 2], z, rtol=0, atol=1e-12)]
    return np.concatenate(f.function_space.mesh.comm.allgather(vals))


def _run(comm: MPI.Comm, I_A_m2: float = 2.0, dt_s: float = 40.0, steps: int = 3):
    data = slab_mesh(2.5e-6, A_M, B_M, separator_m=SEP_M, h_m=1.5e-6, comm=comm)
    params = load_parameters().replace("separator", thickness_m=SEP_M).replace("positive", diffusivity_m2_s=1e-8)
    params = params.replace("electrolyte", diffusivity=FunctionForm("nyman2008_diffusivity", (0.0, 0.0, 1e-6)))
    m = ResolvedModel(build_phases(data), params, SolverSettings(newton_atol_rel=1e-8))
    m.set_rest_state(0.5)
    for _ in range(steps):
        ok, _ = m.solve(dt_s, I_A_m2)
        assert ok
        m.commit()
    return m, params


def _check(m: ResolvedModel, params, I: float, t_s: float) -> None:
    p = params
    f = 1.0 / p.thermal_voltage_V
    ce, phie, s, phis = m.u
    # interface values are uniform over the plane z = a
    for g, z in ((ce, A_M), (phie, A_M), (s, A_M), (phis, A_M), (phis, 0.0), (phie, A_M + B_M + SEP_M)):
        v = _nodal(g, z)
        assert v.size > 3
        assert np.ptp(v) <= 1e-7 * max(1.0, np.abs(v).max())
    ce_a, phie_a = _nodal(ce, A_M).mean(), _nodal(phie, A_M).mean()
    # electrolyte: steady, piecewise linear c_e carrying the flux (1 - t+) I / F by diffusion
    sep, tp = p.separator, p.electrolyte.transference_number
    tau = sep.porosity ** (1 - sep.bruggeman)
    D = 1e-6
    c_mid, c_top = _nodal(ce, A_M + B_M).mean(), _nodal(ce, A_M + B_M + SEP_M).mean()
    assert c_mid - ce_a == pytest.approx((1 - tp) * I * B_M / (FARADAY * D), rel=1e-4)
    assert c_top - c_mid == pytest.approx((1 - tp) * I * SEP_M * tau / (sep.porosity * FARADAY * D), rel=1e-4)
    s_a, phis_a = _nodal(s, A_M).mean(), _nodal(phis, A_M).mean()
    # total reaction current: -I (charge balance, exact)
    assert m.reaction_current() == pytest.approx(-I, rel=1e-7)
    assert m.foil_current() == pytest.approx(I, rel=1e-7)
    # Butler-Volmer at the interface with the local fields
    pos = p.positive
    j0 = pos.exchange_current_coefficient * np.sqrt(ce_a) * pos.max_concentration_mol_m3 * np.sqrt(s_a * (1 - s_a))
    eta = phis_a - phie_a - float(evaluate(pos.ocp, np.array(s_a)))
    assert eta == pytest.approx(2.0 / f * np.arcsinh(-I / (2 * j0)), rel=1e-6)
    # ohmic drop through the solid slab
    drop = _nodal(phis, 0.0).mean() - phis_a
    assert drop == pytest.approx(-I * A_M / pos.electronic_conductivity_S_m, rel=1e-6)
    # ohmic drop through the electrolyte and the separator
    kappa = float(evaluate(p.electrolyte.conductivity, np.array(ce_a)))
    diffusion_V = 2 * p.thermal_voltage_V * (1 - tp) * p.electrolyte.thermodynamic_factor * np.log(c_top / ce_a)
    drop_e = _nodal(phie, A_M + B_M + SEP_M).mean() - phie_a
    assert drop_e == pytest.approx(I / kappa * (B_M + SEP_M * tau / sep.porosity) + diffusion_V, rel=1e-5)
    # lithium foil kinetics
    cp = p.counter
    ce_top = _nodal(ce, A_M + B_M + SEP_M).mean()
    j0_li = cp.exchange_current_coefficient * cp.lithium_concentration_mol_m3 ** 0.7 * ce_top ** 0.3
    phie_top = _nodal(phie, A_M + B_M + SEP_M).mean()
    assert -phie_top == pytest.approx(2.0 / f * np.arcsinh(I / (2 * j0_li)), rel=1e-6)
    # lithium into the solid: mean stoichiometry
    expected = 0.5 + I * t_s / (FARADAY * pos.max_concentration_mol_m3 * A_M)
    assert m.mean_stoichiometry() == pytest.approx(expected, rel=1e-10)


def test_slab_exact_relations_serial() -> None:
    m, params = _run(MPI.COMM_SELF)
    _check(m, params, 2.0, 120.0)


@pytest.mark.mpi
def test_slab_exact_relations_parallel() -> None:
    m, params = _run(MPI.COMM_WORLD)
    _check(m, params, 2.0, 120.0)
