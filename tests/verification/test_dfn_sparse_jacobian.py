"""The serial Newton path factorises the DFN Jacobian on its structural nonzeros only
(``layerlab.electrochem.sparse_jacobian``): at the guard states (real trajectories, both the
current and the voltage problem, Dirichlet rows included) the compressed matrix holds every nonzero
of the full block matrix, with the same values, and nothing outside its pattern is nonzero; and
its linear solve gives the full matrix's Newton step."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.dfn import DFNModel
from layerlab.fe import PETSc
from test_dfn_guard import DATA, DISC, STATES, _cell, _controls  # noqa: E402 (sibling test module)


def _dense(mat) -> np.ndarray:
    ii, jj, vv = mat.getValuesCSR()
    n = mat.getSize()[0]
    out = np.zeros((n, n))
    out[np.repeat(np.arange(n), np.diff(ii)), jj] = vv
    return out


@pytest.mark.parametrize("name", STATES)
def test_compressed_jacobian_holds_every_nonzero(name: str) -> None:
    ref = np.load(DATA)
    c = ref[f"{name}/controls"]
    cell, sei = _cell(name)
    m = DFNModel(cell, DISC, sei=sei)
    for k, f in (("u", m.u), ("u_n", m.u_n), ("u_nn", m.u_nn)):
        f.x.array[:] = ref[f"{name}/{k}"]
    _controls(m, {"dt": c[0], "a": c[1:4], "I_app": c[4], "robin": 1.0, "V_set": c[6]})
    for mode, sj in m._sparse_jacobians.items():
        sj._assemble_block()
        sj.update()
        full, compressed = _dense(sj.A), _dense(sj.mat)
        assert sj.dropped_max_abs() == 0.0
        np.testing.assert_array_equal(compressed, full)
        assert sj.mat.getInfo()["nz_used"] < 0.2 * sj.A.getInfo()["nz_used"]      # really compressed
        b = np.sin(np.arange(full.shape[0]) + 1.0)
        x = sj.mat.createVecRight()
        ksp = PETSc.KSP().create(sj.mat.comm)
        ksp.setOperators(sj.mat)
        ksp.setType("preonly")
        ksp.getPC().setType("lu")
        rhs = sj.mat.createVecLeft()
        rhs.setArray(b)
        ksp.solve(rhs, x)
        np.testing.assert_allclose(full @ x.getArray(), b, rtol=0, atol=1e-9 * np.abs(b).max())
        assert mode in ("current", "voltage")
        for obj in (ksp, x, rhs):
            obj.destroy()
    m.close()
