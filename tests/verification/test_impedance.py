"""Impedance of the linearised DFN against analytic limits and the time-domain DFN.

* single-process limit (electrolyte and solid ~1e6x more conductive): the spectrum equals the
  analytic one (finite-space spherical diffusion + charge transfer || double layer, Li foil
  R_ct || C_dl, separator) to within the radial discretisation error, which falls as N^-2;
* low frequency: -Im(Z) w -> 1 / C, C = dQ/dV from the OCP slope (+ double layers);
* high frequency: Re Z -> separator + cathode electrolyte || solid resistance, by hand;
* one frequency against a small sinusoidal current through the nonlinear DFN (BDF2 steps).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.electrolyte import evaluate
from layerlab.electrochem.impedance import LinearisedDFN, spherical_diffusion_impedance
from layerlab.electrochem.parameters import FunctionForm, load_parameters
from layerlab.fe import MPI

C_DL, C_LI = 0.2, 0.2


def _two_layer_cell() -> HalfCell:
    layers = (LayerSpec("L", 40e-6, 0.35, {"L": 0.5}, inactive_fraction=0.1),
              LayerSpec("S", 30e-6, 0.45, {"S": 0.45}, inactive_fraction=0.1))
    return HalfCell(load_parameters(None), CathodeSpec(layers, {"L": 5.65e-6, "S": 2.25e-6}))


def _lin(cell: HalfCell, N: int, sto: float, c_dl: float = C_DL, c_li: float = C_LI) -> LinearisedDFN:
    disc = Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=N)
    return LinearisedDFN(DFNModel(cell, disc, comm=MPI.COMM_SELF), sto, c_dl, c_li)


def _dU_dsto(cell: HalfCell, sto: float, h: float = 1e-6) -> float:
    ocp = cell.params.positive.ocp
    return float((evaluate(ocp, np.array(sto + h)) - evaluate(ocp, np.array(sto - h))) / (2 * h))


def test_single_process_limit_matches_spherical_diffusion_and_converges_at_second_order() -> None:
    k = 1e6
    p = load_parameters(None)
    el = p.electrolyte
    p = p.replace("electrolyte",
                  conductivity=FunctionForm(el.conductivity.form, tuple(k * c for c in el.conductivity.coefficients)),
                  diffusivity=FunctionForm(el.diffusivity.form, tuple(k * c for c in el.diffusivity.coefficients)))
    p = p.replace("positive", electronic_conductivity_S_m=k * p.positive.electronic_conductivity_S_m)
    R, L, eps_p, sto = 5e-6, 30e-6, 0.5, 0.6
    cell = HalfCell(p, CathodeSpec((LayerSpec("L", L, 0.4, {"L": eps_p}, inactive_fraction=0.1),), {"L": R}))
    # analytic, per m2 of electrode: separator + Li foil (R_ct || C) + interface / (a L)
    pos, cp, sep, RT_F = p.positive, p.counter, p.separator, p.thermal_voltage_V
    f = np.logspace(-5, -3, 9)       # solid diffusion resolved by N >= 8 up to 1e-3 Hz
    w = 2 * math.pi * f
    cmax = pos.max_concentration_mol_m3
    j0 = pos.exchange_current_coefficient * math.sqrt(1000.0) * cmax * math.sqrt(sto * (1 - sto))
    j0_li = cp.exchange_current_coefficient * cp.lithium_concentration_mol_m3 ** 0.7 * 1000.0 ** 0.3
    kappa = k * float(evaluate(el.conductivity, np.array(1000.0)))

    def exact(w):
        Zd = spherical_diffusion_impedance(w, R, pos.diffusivity_m2_s, _dU_dsto(cell, sto) / cmax)
        Z_int = 1.0 / (1.0 / (RT_F / j0 + Zd) + 1j * w * C_DL)
        Z_li = (RT_F / j0_li) / (1 + 1j * w * (RT_F / j0_li) * C_LI)
        return sep.thickness_m / (kappa * sep.porosity ** sep.bruggeman) + Z_li + Z_int / (3 * eps_p / R * L)

    Z_exact = exact(w)
    errors = []
    for N in (8, 16, 32):
        lin = _lin(cell, N, sto)
        Z = lin.spectrum(f)
        errors.append(float(np.max(np.abs(Z - Z_exact) / np.abs(Z_exact))))
        # up to the documented resolved frequency the error stays below 3 %
        f_res = lin.resolved_frequency_hz()
        assert abs(lin.impedance(f_res) / exact(np.array([2 * math.pi * f_res]))[0] - 1) < 0.03
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 5e-3, errors
    assert np.all(rates > 1.8), (errors, rates)


@pytest.fixture(scope="module")
def two_layer() -> tuple[HalfCell, LinearisedDFN]:
    cell = _two_layer_cell()
    return cell, _lin(cell, 8, 0.7)


def test_rest_state_has_zero_residual(two_layer) -> None:
    cell, lin = two_layer
    assert lin.rest_residual_norm < 1e-9


def test_low_frequency_limit_is_the_differential_capacitance(two_layer) -> None:
    cell, lin = two_layer
    pos = cell.params.positive
    # by hand: particles F c_max eps_p L / |dU/dsto| plus double layers C_dl 3 eps_p / R L
    C = sum(lay.thickness_m * eps * (96485.33212 * pos.max_concentration_mol_m3 / abs(_dU_dsto(cell, 0.7))
                                     + 3.0 / cell.cathode.radius_m[pop] * C_DL)
            for lay in cell.cathode.layers for pop, eps in lay.active_fraction.items() if eps > 0)
    assert lin.differential_capacitance_F_m2(C_DL) == pytest.approx(C, rel=1e-12)
    for f in (1e-9, 1e-8):
        Z = lin.impedance(f)
        assert -Z.imag * 2 * math.pi * f == pytest.approx(1.0 / C, rel=1e-6)
        assert Z.real > 0


def test_high_frequency_limit_is_the_ohmic_resistance(two_layer) -> None:
    cell, lin = two_layer
    p = cell.params
    kappa = float(evaluate(p.electrolyte.conductivity, np.array(p.electrolyte.initial_concentration_mol_m3)))
    sep, pos = p.separator, p.positive
    # separator electrolyte, then per layer electrolyte (Bruggeman) in parallel with the solid
    R = sep.thickness_m / (kappa * sep.porosity ** sep.bruggeman) + sum(
        lay.thickness_m / (kappa * lay.porosity ** pos.bruggeman_electrolyte
                           + pos.electronic_conductivity_S_m * (1 - lay.porosity) ** pos.bruggeman_electrode)
        for lay in cell.cathode.layers)
    Z7, Z8 = lin.impedance(1e7), lin.impedance(1e8)
    assert Z8.real == pytest.approx(R, rel=1e-7)
    assert abs(Z8.real / R - 1) < abs(Z7.real / R - 1)          # approached from above
    assert Z7.real > R and -Z7.imag > 0 and abs(Z8.imag) < 1e-4 * R


def sine_response(model: DFNModel, sto: float, f: float, I0: float, per_period: int = 100,
                  periods: int = 3) -> tuple[complex, np.ndarray, np.ndarray]:
    """BDF2 steps of the nonlinear DFN (as the Integrator takes them) from rest at ``sto`` under a
    discharge current I = I0 sin(wt): the impedance from V fitted over the last two periods with a
    quadratic drift + sin + cos, and the applied and cell currents at every step."""
    model.set_initial_state(sto)
    V0 = model.voltage()
    w, dt = 2 * math.pi * f, 1.0 / (f * per_period)
    u_n, u_nn = model.u.x.array.copy(), None
    t, V, applied, cell_current = [], [], [], []
    for k in range(1, periods * per_period + 1):
        model.set_bdf(dt, None if k == 1 else dt)
        model.u_n.x.array[:] = u_n
        if u_nn is not None:
            model.u_nn.x.array[:] = u_nn
        applied.append(I0 * math.sin(w * k * dt))
        assert model.solve("current", applied[-1]) > 0
        u_nn, u_n = u_n, model.u.x.array.copy()
        t.append(k * dt)
        V.append(model.voltage() - V0)
        cell_current.append(model.current())
    t, V = np.array(t), np.array(V)
    sel = t > t[-1] - 2.0 / f
    tc = t[sel] - t[sel].mean()
    A = np.column_stack([np.ones_like(tc), tc, tc ** 2, np.sin(w * t[sel]), np.cos(w * t[sel])])
    c = np.linalg.lstsq(A, V[sel], rcond=None)[0]
    # discharge current Im(I0 e^{iwt}) gives dV = Im(-Z I0 e^{iwt}) = -I0 (Z' sin + Z'' cos)
    return complex(-c[3] / I0, -c[4] / I0), np.array(applied), np.array(cell_current)


def test_one_frequency_against_a_small_sinusoidal_current_in_the_time_domain() -> None:
    """The nonlinear DFN under a small sine current; no double layers (the standard time-domain
    DFN has none; test_dfn_double_layer.py adds them as a term)."""
    cell = _two_layer_cell()
    sto, f = 0.7, 0.05
    lin = _lin(cell, 8, sto, c_dl=0.0, c_li=0.0)
    Z_f = lin.impedance(f)
    Z_t, _, _ = sine_response(lin.model, sto, f, I0=0.05)
    assert abs(Z_t - Z_f) / abs(Z_f) < 2e-3
    assert Z_t.real > 0 and Z_t.imag < 0


def test_contact_resistance_adds_in_series() -> None:
    cell = _two_layer_cell()
    if not hasattr(cell.params.positive, "contact_resistance_ohm_m2"):
        pytest.skip("parameter set without a contact resistance")
    import dataclasses
    R_c = 3e-4
    cell_c = dataclasses.replace(cell, params=cell.params.replace("positive", contact_resistance_ohm_m2=R_c))
    for f in (1e-3, 1.0, 1e4):
        Z0, Zc = _lin(cell, 8, 0.7).impedance(f), _lin(cell_c, 8, 0.7).impedance(f)
        assert Zc - Z0 == pytest.approx(R_c, rel=1e-8)
