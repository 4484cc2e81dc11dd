"""Impedance settings, Warburg analysis and bad input (layerlab.electrochem.impedance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from layerlab.electrochem.impedance import (ImpedanceSettings, apparent_diffusivity_m2_s, fit_warburg,
                                            nyquist_angle_deg, spherical_diffusion_impedance, warburg_window)
from layerlab.errors import InputError

F, R_GAS = 96485.33212, 8.314462618


@pytest.mark.parametrize("kwargs, field", [
    ({"frequency_min_hz": -1.0}, "impedance.frequency_min_hz"),
    ({"frequency_min_hz": 0.0}, "impedance.frequency_min_hz"),
    ({"frequency_min_hz": 10.0, "frequency_max_hz": 10.0}, "impedance.frequency_max_hz"),
    ({"frequency_min_hz": 10.0, "frequency_max_hz": 1.0}, "impedance.frequency_max_hz"),
    ({"state_of_charge": 0.0}, "impedance.state_of_charge"),
    ({"state_of_charge": 1.0}, "impedance.state_of_charge"),
    ({"state_of_charge": 1.2}, "impedance.state_of_charge"),
    ({"double_layer_capacitance_F_m2": -0.1}, "impedance.double_layer_capacitance_F_m2"),
    ({"points_per_decade": 0}, "impedance.points_per_decade"),
    ({"warburg_window_hz": (1.0, 0.1)}, "impedance.warburg_window_hz"),
    ({"radial_volumes": 0}, "impedance.radial_volumes"),
])
def test_bad_settings_name_the_field(kwargs, field) -> None:
    with pytest.raises(InputError) as err:
        ImpedanceSettings(**kwargs)
    assert err.value.field == field


def test_frequency_grid() -> None:
    f = ImpedanceSettings(frequency_min_hz=1e-2, frequency_max_hz=1e3, points_per_decade=4).frequencies_hz()
    assert len(f) == 21 and f[0] == pytest.approx(1e-2) and f[-1] == pytest.approx(1e3)
    assert np.allclose(np.diff(np.log10(f)), 0.25)


def test_config_schema_rejects_bad_values_with_the_field(tmp_path) -> None:
    from layerlab.config import validate_config
    cfg = yaml.safe_load(open("config/config.yaml"))
    ok = validate_config({**cfg, "impedance": {}})["impedance"]      # the schema's defaults
    assert ImpedanceSettings(**{**ok, "sweeps": tuple(ok["sweeps"])}) == ImpedanceSettings()
    ImpedanceSettings(**{**validate_config(cfg)["impedance"], "sweeps": ()})  # the campaign's block is valid
    for key, value in (("frequency_min_hz", -1.0), ("state_of_charge", 1.5), ("warburg_window_hz", [1.0])):
        bad = {**cfg, "impedance": {key: value}}
        with pytest.raises(InputError) as err:
            validate_config(bad)
        assert err.value.field == f"impedance.{key}"


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path) -> None:
    from layerlab.cli import main
    cfg = yaml.safe_load(open("config/config.yaml"))
    out = tmp_path / "z.nc"
    for section in ({"frequency_min_hz": 10.0, "frequency_max_hz": 1.0}, {"state_of_charge": 0.0}):
        path = tmp_path / "cfg.yaml"
        path.write_text(yaml.safe_dump({**cfg, "impedance": section}))
        assert main(["impedance", "--config", str(path), "--case", "L-Dry-S_load22_por0.55_ls0.5",
                     "--out", str(out)]) == 2
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "cfg.yaml"]


def _warburg_spectrum(f: np.ndarray, sigma: float, R0: float = 1e-3) -> np.ndarray:
    """An RC arc at high frequency, then a Warburg line, then a capacitive rise."""
    w = 2 * math.pi * f
    arc = 5e-4 / (1 + 1j * w * 5e-4 * 0.2)
    return R0 + arc + sigma * w ** -0.5 * (1 - 1j) + 1 / (1j * w * 1e5) * (w < 1e-4)


def test_warburg_fit_recovers_the_coefficient_of_a_pure_warburg_line() -> None:
    f = np.logspace(-3, 5, 81)
    sigma = 3e-5
    Z = 2e-3 + sigma * (2 * math.pi * f) ** -0.5 * (1 - 1j)
    assert np.allclose(nyquist_angle_deg(Z), 45.0)
    fit = fit_warburg(f, Z, window_hz=(1e-2, 1.0))
    assert fit.sigma_ohm_m2_s05 == pytest.approx(sigma, rel=1e-10)
    assert fit.intercept_ohm_m2 == pytest.approx(2e-3, rel=1e-10)
    assert fit.n_points == 21 and fit.r_squared == pytest.approx(1.0)


def test_auto_window_finds_the_low_frequency_45_degree_run_below_the_limit() -> None:
    f = np.logspace(-3, 5, 81)
    sigma = 2e-5
    w = 2 * math.pi * f
    Z = 1e-3 + 5e-4 / (1 + 1j * w * 1e-4) + sigma * w ** -0.5 * (1 - 1j)
    lo, hi = warburg_window(f, Z, tolerance_deg=2.0, min_points=4)
    assert lo == pytest.approx(1e-3) and 0.1 < hi < 100       # the arc bends the line above
    fit = fit_warburg(f, Z, None, 2.0, 4)
    assert fit.sigma_ohm_m2_s05 == pytest.approx(sigma, rel=2e-2)
    assert fit_warburg(f, Z, None, 2.0, 4, f_max_hz=1e-2).f_high_hz <= 1e-2
    # a purely capacitive spectrum has no Warburg region
    assert fit_warburg(f, 1e-3 + 1 / (1j * w * 0.1), None, 10.0, 4) is None


def test_apparent_diffusivity_inverts_the_warburg_coefficient() -> None:
    D, C, T = 1e-14, 3e4, 298.15
    # semi-infinite Warburg of a Nernstian electrode of area A: sigma = RT / (n^2 F^2 A C sqrt(2 D))
    sigma = R_GAS * T / (F ** 2 * C * math.sqrt(2 * D))
    assert apparent_diffusivity_m2_s(sigma, C, T) == pytest.approx(D, rel=1e-12)
    assert apparent_diffusivity_m2_s(sigma / 0.785e-4, C, T, area_m2=0.785e-4) == pytest.approx(D, rel=1e-12)


def test_spherical_diffusion_impedance_limits() -> None:
    R, D, dUdc = 5e-6, 4e-15, -1e-5
    C = F * (R / 3) / abs(dUdc)
    w_lo = np.array([1e-7])
    Z_lo = spherical_diffusion_impedance(w_lo, R, D, dUdc)
    assert Z_lo.imag * w_lo * C == pytest.approx(-1.0, rel=1e-6)
    assert Z_lo.real == pytest.approx(abs(dUdc) * R / (5 * F * D), rel=1e-6)
    w_hi = np.array([1e3])
    Z_hi = spherical_diffusion_impedance(w_hi, R, D, dUdc)
    Z_w = abs(dUdc) / (F * np.sqrt(1j * w_hi * D))
    assert Z_hi == pytest.approx(Z_w, rel=1e-3)
