"""Closed-form material functions (electrolyte transport, OCP) usable with NumPy and UFL alike.

Each function takes ``ops``: a namespace with ``tanh``, ``sqrt``, ``exp`` (``numpy``, :func:`ufl_ops`
or the ``pybamm`` module).  Forms are named in the parameter YAML files (``form: nyman2008_conductivity``
etc.).  The Landesfeind & Gasteiger (2019) electrolyte fits also depend on temperature: callers pass
the cell temperature (``ParameterSet.temperature_K``; the model is isothermal).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from layerlab.electrochem.parameters import ElectrolyteParams, FunctionForm

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


def _exp(z: Any, ops: Any) -> Any:
    """exp(z): a plain float for a number (pybamm.exp wants a symbol), ``ops.exp`` otherwise."""
    return float(np.exp(z)) if isinstance(z, (int, float)) else ops.exp(z)


def _landesfeind2019(name: str, c: tuple[float, ...], x: Any, T: Any, ops: Any) -> Any:
    """Landesfeind & Gasteiger, J. Electrochem. Soc. 166 (2019) A3079, eqs. for kappa, D, TDF, t+;
    y = c_e / 1000 (mol/L), T in K (as coded in PyBaMM's ORegan2022.py)."""
    y = x / 1000.0
    if name == "conductivity":
        # mS/cm -> S/m: p1 (1 + T - p2) y (1 + p3 sqrt(y) + p4 (1 + p5 e^{1000/T}) y) / (1 + p6 e^{1000/T} y^4)
        e = _exp(1000.0 / T, ops)
        return (c[0] * (1.0 + (T - c[1])) * y * (1.0 + c[2] * ops.sqrt(y) + c[3] * (1.0 + c[4] * e) * y)
                / (1.0 + y ** 4 * (c[5] * e)) / 10.0)
    if name == "diffusivity":
        # 1e-10 m2/s: p1 e^{p2 y} e^{p3 / T} e^{p4 y / T}
        return c[0] * ops.exp(c[1] * y) * _exp(c[2] / T, ops) * ops.exp(c[3] * y / T) * 1e-10
    # transference number and thermodynamic factor: the same 9-term polynomial in y and T
    return (c[0] + c[1] * y + c[2] * T + c[3] * y ** 2 + c[4] * y * T + c[5] * T ** 2
            + c[6] * y ** 3 + c[7] * y ** 2 * T + c[8] * y * T ** 2)


def evaluate(f: FunctionForm, x: Any, ops: Any = NUMPY_OPS, temperature_K: Any = None) -> Any:
    """Evaluate the named form ``f`` at ``x`` (concentration in mol/m3 or stoichiometry).

    ``temperature_K`` is needed by the temperature-dependent (``landesfeind2019_*``) forms only."""
    c = f.coefficients
    if f.form == "pybamm":   # a TranslatedFunction (layerlab.electrochem.ufl_from_pybamm): first argument x
        return f({f.args[0]: x, "T": temperature_K})
    if f.form.startswith("landesfeind2019_"):
        if temperature_K is None:
            raise ValueError(f"form {f.form!r} needs the temperature")
        return _landesfeind2019(f.form.removeprefix("landesfeind2019_"), c, x, temperature_K, ops)
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


def property_value(prop: float | FunctionForm, c_e: Any, temperature_K: Any,
                   ops: Any = NUMPY_OPS) -> Any:
    """An electrolyte property at ``c_e`` (mol/m3): a constant, or its form evaluated."""
    if isinstance(prop, FunctionForm):
        return evaluate(prop, c_e, ops, temperature_K)
    return prop


def transport(ele: ElectrolyteParams, c_e: Any, temperature_K: Any,
              ops: Any = NUMPY_OPS) -> tuple[Any, Any, Any, Any]:
    """Conductivity (S/m), diffusivity (m2/s), transference number and thermodynamic factor at ``c_e``."""
    def at(prop: float | FunctionForm) -> Any:
        return property_value(prop, c_e, temperature_K, ops)
    return at(ele.conductivity), at(ele.diffusivity), at(ele.transference_number), at(ele.thermodynamic_factor)


def ocp_range_V(f: FunctionForm, n: int = 2001) -> tuple[float, float]:
    """Minimum and maximum of an OCP form over stoichiometry [0, 1], V."""
    u = evaluate(f, np.linspace(0.0, 1.0, n))
    return float(u.min()), float(u.max())


def stoichiometry_at_ocp(f: FunctionForm, voltage_V: float, n: int = 20001) -> float:
    """The stoichiometry where a (decreasing) OCP equals ``voltage_V`` (clipped to [0, 1])."""
    s = np.linspace(0.0, 1.0, n)
    u = evaluate(f, s)
    return float(np.interp(-voltage_V, -u, s))
