"""PyBaMM expression trees translated into functions that evaluate with NumPy, UFL and PyBaMM alike.

A PyBaMM parameter function (an OCP, a diffusivity, an exchange current, an electrolyte property)
is called by :func:`translate` with ``pybamm.Variable`` placeholders for its arguments and the
parameter set's other values substituted (``ParameterValues.process_symbol``); the resulting
expression tree is walked node by node into a small hashable tree of tuples
(:class:`TranslatedFunction`).  Evaluating that tree on UFL operands gives the UFL form the DFN
assembles, on NumPy arrays the values the checks and the initial state use.

Translated nodes: Scalar, Constant, Variable, Addition, Subtraction, Multiplication, Division,
Power, Negate, AbsoluteValue, Exp, Log, Sqrt, Tanh, Cosh, Sinh, Minimum, Maximum, the Heaviside
comparisons (``<``, ``<=``) and linear 1D Interpolants (a sum of ramps ``max(x - x_i, 0)``: exact
piecewise-linear with linear extrapolation, as PyBaMM's linear interpolant).  Any other node
raises :class:`Untranslatable` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerlab.electrochem.parameters import FunctionForm

__all__ = ["TranslatedFunction", "Untranslatable", "translate", "from_tree"]

_BINARY = {"Addition": "add", "Subtraction": "sub", "Multiplication": "mul", "Division": "div", "Power": "pow",
           "Minimum": "min", "Maximum": "max", "NotEqualHeaviside": "lt", "EqualHeaviside": "le"}
_UNARY = {"Negate": "neg", "AbsoluteValue": "abs", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Tanh": "tanh",
          "Cosh": "cosh", "Sinh": "sinh"}


class Untranslatable(ValueError):
    """A PyBaMM node with no UFL counterpart here (the message names the node)."""


@dataclass(frozen=True)
class TranslatedFunction(FunctionForm):
    """A translated PyBaMM function: ``form = 'pybamm'``, ``coefficients = ()``, the argument names
    (``sto``, ``c_e``, ``c_s_surf``, ``c_s_max``, ``T``) and the expression tree."""

    args: tuple[str, ...] = ()
    tree: tuple = ()
    source: str = ""

    def __call__(self, values: Mapping[str, Any], complements: Mapping[tuple[str, str], Any] | None = None) -> Any:
        """Evaluate with ``values[name]`` for each argument.  ``complements[(a, b)]``, when given, is
        used for the node ``a - b`` (e.g. ``c_s_max - c_s_surf`` computed without cancellation)."""
        missing = [a for a in self.args if a not in values]
        if missing:
            raise ValueError(f"{self.source}: no value for argument(s) {missing}")
        return _eval(self.tree, values, complements or {})

    def depends_on(self, name: str) -> bool:
        return _uses(self.tree, name)


def from_tree(tree: tuple, args: tuple[str, ...], source: str) -> TranslatedFunction:
    return TranslatedFunction(form="pybamm", coefficients=(), args=args, tree=tree, source=source)


def translate(symbol: Any, args: tuple[str, ...], source: str) -> TranslatedFunction:
    """Translate a processed PyBaMM expression whose ``pybamm.Variable`` leaves are named ``args``."""
    return from_tree(_node(symbol, set(args), source), args, source)


def _node(s: Any, args: set[str], source: str) -> tuple:
    name = type(s).__name__
    if name in ("Scalar", "Constant"):
        return ("const", float(s.evaluate()))
    if name == "Variable":
        if s.name not in args:
            raise Untranslatable(f"{source}: unknown variable {s.name!r} (arguments: {', '.join(sorted(args))})")
        return ("arg", s.name)
    if name in _BINARY:
        a, b = s.children
        return (_BINARY[name], _node(a, args, source), _node(b, args, source))
    if name in _UNARY:
        return (_UNARY[name], _node(s.children[0], args, source))
    if name == "Interpolant":
        return _interpolant(s, args, source)
    raise Untranslatable(f"{source}: PyBaMM node {name} ({str(s)[:60]!r}) has no UFL translation")


def _interpolant(s: Any, args: set[str], source: str) -> tuple:
    if s.interpolator != "linear" or s.dimension != 1:
        raise Untranslatable(f"{source}: {s.dimension}D Interpolant with interpolator {s.interpolator!r} "
                             "has no UFL translation (linear 1D only)")
    x = np.asarray(s.x[0], dtype=float)
    y = np.asarray(s.y, dtype=float).ravel()
    slope = np.diff(y) / np.diff(x)
    kinks = tuple(zip(x[1:-1].tolist(), np.diff(slope).tolist()))
    return ("interp", float(x[0]), float(y[0]), float(slope[0]), kinks, _node(s.children[0], args, source))


def _uses(t: tuple, name: str) -> bool:
    if t[0] == "arg":
        return t[1] == name
    return any(isinstance(c, tuple) and c and isinstance(c[0], str) and _uses(c, name) for c in t[1:])


# ---- evaluation: UFL, PyBaMM or NumPy operands ---------------------------------------------------
def _lib(*xs: Any) -> str:
    for x in xs:
        mod = type(x).__module__
        if mod.startswith("ufl"):
            return "ufl"
        if mod.startswith("pybamm"):
            return "pybamm"
    return "numpy"


def _unary(op: str, x: Any) -> Any:
    lib = _lib(x)
    if op == "neg":
        return -x
    if op == "abs":
        return abs(x)
    if lib == "ufl":
        from layerlab.fe import ufl
        return {"exp": ufl.exp, "log": ufl.ln, "sqrt": ufl.sqrt, "tanh": ufl.tanh, "cosh": ufl.cosh,
                "sinh": ufl.sinh}[op](x)
    if lib == "pybamm":
        import pybamm
        return {"exp": pybamm.exp, "log": pybamm.log, "sqrt": pybamm.sqrt, "tanh": pybamm.tanh,
                "cosh": pybamm.cosh, "sinh": pybamm.sinh}[op](x)
    return {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "cosh": np.cosh,
            "sinh": np.sinh}[op](x)


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "pow":
        return a ** b
    lib = _lib(a, b)
    if lib == "ufl":
        from layerlab.fe import ufl
        if op in ("min", "max"):
            return (ufl.min_value if op == "min" else ufl.max_value)(a, b)
        return ufl.conditional((ufl.lt if op == "lt" else ufl.le)(a, b), 1.0, 0.0)
    if lib == "pybamm":
        import pybamm
        if op in ("min", "max"):
            return (pybamm.minimum if op == "min" else pybamm.maximum)(a, b)
        return a < b if op == "lt" else a <= b
    if op in ("min", "max"):
        return (np.minimum if op == "min" else np.maximum)(a, b)
    return np.asarray(a < b if op == "lt" else a <= b, dtype=float)


def _eval(t: tuple, values: Mapping[str, Any], comp: Mapping[tuple[str, str], Any]) -> Any:
    op = t[0]
    if op == "const":
        return t[1]
    if op == "arg":
        return values[t[1]]
    if op == "interp":
        x0, y0, s0, kinks, child = t[1:]
        x = _eval(child, values, comp)
        out = y0 + s0 * (x - x0)
        for xk, ds in kinks:
            out = out + ds * _binary("max", x - xk, 0.0)
        return out
    if op == "sub" and comp and t[1][0] == "arg" and t[2][0] == "arg" and (t[1][1], t[2][1]) in comp:
        return comp[(t[1][1], t[2][1])]
    if len(t) == 2:
        return _unary(op, _eval(t[1], values, comp))
    return _binary(op, _eval(t[1], values, comp), _eval(t[2], values, comp))
