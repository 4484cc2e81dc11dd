"""Guard of the DFN discretisation: residual, Jacobian and scalar functionals at three states equal
(to 1e-12, row-scaled) the reference arrays in ``tests/data/dfn_guard.npz``.

The references were produced by the DFN code as it was BEFORE the layout/term refactor of issue 15
(commit 7984442, "DFN: per-layer effective electronic conductivity"), with::

    python tests/verification/test_dfn_guard.py --regenerate

Regenerate ONLY for an intended change of the discretised equations (and say so in the commit).
The states are real trajectories (short integrator runs), stored with the references, so the test
assembles at exactly the same ``u``, ``u_n``, ``u_nn``; what it checks is the assembled equations.

* ``rest``: half cell, one population in two layers (one with its own electronic conductivity),
  the Landesfeind (2019) electrolyte (t+ and TDF functions of c_e), contact resistance with the CV
  Robin condition on, at the rest state, BDF1, a current applied;
* ``bilayer``: half cell L (collector side) + S, mid-discharge, variable-step BDF2;
* ``fullcell_sei``: graphite anode, EC-reaction-limited SEI, contact resistance, mid-charge, BDF2.

Serial only: the stored vectors are in the serial dof order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import (CROSSCHECK_SET, FULLCELL_CROSSCHECK_SET, LANDESFEIND_SET,
                                             load_anode, load_parameters)
from layerlab.fe import fem

DATA = Path(__file__).resolve().parents[1] / "data" / "dfn_guard.npz"
DISC = Discretisation(cells_separator=4, cells_cathode=8, cells_anode=6, radial_volumes=5)
STATES = ("rest", "bilayer", "fullcell_sei")


def _cell(name: str) -> tuple[HalfCell, str]:
    """The cell and SEI model of a guard state."""
    if name == "rest":
        p = load_parameters(CROSSCHECK_SET)
        p = p.replace("electrolyte", **vars(load_parameters(LANDESFEIND_SET).electrolyte))
        p = p.replace("positive", contact_resistance_ohm_m2=2e-3)
        cath = CathodeSpec((LayerSpec("bottom", 30e-6, 0.3, {"L": 0.6}, electronic_conductivity_S_m=0.7),
                            LayerSpec("top", 40e-6, 0.4, {"L": 0.55})), {"L": 5.2e-6})
        return HalfCell(p, cath), "none"
    if name == "bilayer":
        p = load_parameters(CROSSCHECK_SET)
        cath = CathodeSpec((LayerSpec("L", 35e-6, 0.3, {"L": 0.62}, inactive_fraction=0.05),
                            LayerSpec("S", 35e-6, 0.35, {"S": 0.58}, inactive_fraction=0.05)),
                           {"L": 5.65e-6, "S": 2.25e-6})
        return HalfCell(p, cath), "none"
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    params = params.with_anode(params.negative, load_anode()[1])
    params = params.replace("positive", contact_resistance_ohm_m2=1e-3)
    cath = CathodeSpec((LayerSpec("L", 75.6e-6, 0.335, {"L": 0.665}),), {"L": 5.22e-6})
    return HalfCell(params, cath, anode=AnodeSpec(85.2e-6, 0.25, 0.75, 5.86e-6)), "ec reaction limited"


def _controls(m: DFNModel, c: dict) -> None:
    m.dt.value = c["dt"]
    for const, val in zip(m.a, c["a"]):
        const.value = val
    m.I_app.value = c["I_app"]
    m.robin.value = c["robin"]
    m.V_set.value = c["V_set"]


def _make_state(name: str) -> tuple[DFNModel, dict]:
    """Model and (u, u_n, u_nn, controls) of a guard state, from a short real run."""
    cell, sei = _cell(name)
    m = DFNModel(cell, DISC, sei=sei)
    if name == "rest":
        m.set_initial_state(0.55)
        u = m.u.x.array.copy()
        return m, {"u": u, "u_n": u, "u_nn": u, "dt": 1.0, "a": (1.0, -1.0, 0.0), "I_app": 20.0,
                   "robin": 1.0, "V_set": 3.9}
    current = 30.0 if name == "bilayer" else -30.0
    if name == "fullcell_sei":
        m.set_initial_state(0.6, anode_sto=0.4)
    it = Integrator(m, record_profiles=False)
    states = []
    for duration in (300.0, 60.0, 30.0):
        it.run(Segment("current", current, duration, label=name))
        states.append(m.u.x.array.copy())
    dt, dt_prev = 30.0, 60.0
    w = dt / dt_prev
    a = ((1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w))
    return m, {"u": states[2], "u_n": states[1], "u_nn": states[0], "dt": dt, "a": a,
               "I_app": current, "robin": 0.0, "V_set": 4.0}


def _assemble(m: DFNModel, st: dict) -> dict[str, np.ndarray]:
    """Residual, Jacobian (CSR) and scalar functionals of model ``m`` at state ``st``."""
    m.u.x.array[:] = st["u"]
    m.u_n.x.array[:] = st["u_n"]
    m.u_nn.x.array[:] = st["u_nn"]
    _controls(m, st)
    b = fem.petsc.assemble_vector(fem.form(m.residual))
    b.assemble()
    A = fem.petsc.assemble_matrix(fem.form(m.jacobian))
    A.assemble()
    indptr, indices, data = A.getValuesCSR()
    out = {"residual": b.getArray().copy(), "J_indptr": indptr.copy(), "J_indices": indices.copy(),
           "J_data": data.copy(),
           "scalars": np.array([m.voltage(), m.current(), m.lithium_inventory(), m.sei_current(),
                                m.sei_lithium()])}
    b.destroy()
    A.destroy()
    return out


def _dense(indptr, indices, data, n: int) -> np.ndarray:
    out = np.zeros((n, n))
    rows = np.repeat(np.arange(n), np.diff(indptr))
    out[rows, indices] = data
    return out


def regenerate() -> None:
    arrays = {}
    for name in STATES:
        m, st = _make_state(name)
        for k in ("u", "u_n", "u_nn"):
            arrays[f"{name}/{k}"] = st[k]
        arrays[f"{name}/controls"] = np.array([st["dt"], *st["a"], st["I_app"], st["robin"], st["V_set"]])
        for k, v in _assemble(m, st).items():
            arrays[f"{name}/{k}"] = v
        m.close()
    DATA.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DATA, **arrays)
    print(f"wrote {DATA}")


@pytest.mark.parametrize("name", STATES)
def test_residual_and_jacobian_unchanged(name: str) -> None:
    """Residual, Jacobian and voltage/current/inventory/SEI functionals equal the references to 1e-12
    relative to each row's largest entry (round-off of a reordered sum is ~1e-15 of that)."""
    ref = np.load(DATA)
    g = lambda k: ref[f"{name}/{k}"]  # noqa: E731
    c = g("controls")
    st = {"u": g("u"), "u_n": g("u_n"), "u_nn": g("u_nn"), "dt": c[0], "a": tuple(c[1:4]),
          "I_app": c[4], "robin": c[5], "V_set": c[6]}
    cell, sei = _cell(name)
    m = DFNModel(cell, DISC, sei=sei)
    got = _assemble(m, st)
    m.close()
    n = len(st["u"])
    assert got["residual"].shape == (n,)
    J, J_ref = _dense(got["J_indptr"], got["J_indices"], got["J_data"], n), \
        _dense(g("J_indptr"), g("J_indices"), g("J_data"), n)
    row_scale = np.abs(J_ref).max(axis=1, keepdims=True)
    assert np.all(np.abs(J - J_ref) <= 1e-12 * row_scale)
    # residual rows: scale = the row's Jacobian magnitude x the state's magnitude (the size of the terms)
    r_scale = (np.abs(J_ref) @ np.maximum(np.abs(st["u"]), 1.0))
    assert np.all(np.abs(got["residual"] - g("residual")) <= 1e-12 * r_scale)
    np.testing.assert_allclose(got["scalars"], g("scalars"), rtol=1e-12, atol=1e-15)
    assert np.abs(g("residual")).max() > 0 and np.count_nonzero(J_ref) > n     # a non-trivial state


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        regenerate()
