"""Closed-form material functions (electrolyte transport, OCP) usable with NumPy and UFL alike.

Each function takes ``ops``: a namespace with ``tanh``, ``sqrt`` (``numpy`` or :data:`UFL_OPS`).
Forms are named in the parameter YAML files (``form: nyman2008`` etc.).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from layerlab.electrochem.parameters import FunctionForm

NUMPY_OPS = types.SimpleNamespace(tanh=np.tanh, sqrt=np.sqrt, exp=np.exp, ln=np.log,
                                  max=np.maximum, min=np.minimum)


def ufl_ops() -> types.SimpleNamespace:
    """The UFL namespace (imported lazily: the FE stack is heavy)."""
    from layerlab.fe import ufl
    return types.SimpleNamespace(tanh=ufl.tanh, sqrt=ufl.sqrt, exp=ufl.exp, ln=ufl.ln,
                                 max=ufl.max_value, min=ufl.min_value)


def _pos_power(x: Any, p: float, ops: Any) -> Any:
    """x**p for x >= 0 (x^1.5 = x sqrt(x) keeps UFL derivatives simple)."""
    if p == 1.5:
        return x * ops.sqrt(x)
    return x ** p


def evaluate(f: FunctionForm, x: Any, ops: Any = NUMPY_OPS) -> Any:
    """Evaluate the named form ``f`` at ``x`` (concentration in mol/m3 or stoichiometry)."""
    c = f.coefficients
    if f.form == "nyman2008_conductivity":
        # conductivity, S/m: c0 y^3 + c1 y^1.5 + c2 y, y = c_e / 1000
        y = x / 1000.0
        return c[0] * y ** 3 + c[1] * _pos_power(y, 1.5, ops) + c[2] * y
    if f.form == "nyman2008_diffusivity":
        # diffusivity, m2/s: c0 y^2 + c1 y + c2
        y = x / 1000.0
        return c[0] * y ** 2 + c[1] * y + c[2]
    if f.form == "chen2020_nmc":
        s = x
        return (c[0] * s + c[1] + c[2] * ops.tanh(c[3] * (s - c[4]))
                + c[5] * ops.tanh(c[6] * (s - c[7])) + c[8] * ops.tanh(c[9] * (s - c[10])))
    if f.form == "chen2020_graphite":
        # graphite OCP, V: c0 exp(c1 s) + c2 + c3 tanh(c4 (s - c5)) + c6 tanh(c7 (s - c8)) + c9 tanh(c10 (s - c11))
        s = x
        return (c[0] * ops.exp(c[1] * s) + c[2] + c[3] * ops.tanh(c[4] * (s - c[5]))
                + c[6] * ops.tanh(c[7] * (s - c[8])) + c[9] * ops.tanh(c[10] * (s - c[11])))
    raise ValueError(f"unknown form {f.form!r}")


def ocp_range_V(f: FunctionForm, n: int = 2001) -> tuple[float, float]:
    """Minimum and maximum of an OCP form over stoichiometry [0, 1], V."""
    u = evaluate(f, np.linspace(0.0, 1.0, n))
    return float(u.min()), float(u.max())


def stoichiometry_at_ocp(f: FunctionForm, voltage_V: float, n: int = 20001) -> float:
    """The stoichiometry where a (decreasing) OCP equals ``voltage_V`` (clipped to [0, 1])."""
    s = np.linspace(0.0, 1.0, n)
    u = evaluate(f, s)
    return float(np.interp(-voltage_V, -u, s))
