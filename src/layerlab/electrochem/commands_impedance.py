"""CLI: ``python -m layerlab impedance --settings JSON --case CASE --out results/runs/impedance/CASE.nc``.

The small-signal impedance spectrum of one case's DFN half cell (same case -> design -> cell path
as the ``dfn`` command) at rest at ``impedance.state_of_charge``, with the Warburg-slope apparent
Li+ diffusivity of Fig. S10 (see :mod:`layerlab.electrochem.impedance`).  All inputs are validated
before any work; on bad input nothing is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import sys
from typing import Any, Mapping

from layerlab.cli import Command
from layerlab.electrochem.commands import add_case_arguments, write_case_dataset

log = logging.getLogger("layerlab.electrochem")


def impedance_settings(config: Mapping[str, Any]):
    """The validated :class:`~layerlab.electrochem.impedance.ImpedanceSettings` of a config."""
    from layerlab.electrochem.impedance import ImpedanceSettings
    from layerlab.errors import options_from_mapping
    section = dict(config.get("impedance", {}))
    if section.get("warburg_window_hz") is not None:
        section["warburg_window_hz"] = tuple(float(f) for f in section["warburg_window_hz"])
    section["sweeps"] = tuple(section.get("sweeps", ()))
    return options_from_mapping(ImpedanceSettings, section, "impedance")


def impedance_dataset(f_hz, Z, fit, diffusivity_m2_s: float, attrs: Mapping[str, Any]):
    """Spectrum + Warburg scalars as an xarray Dataset (CF units and long names)."""
    import numpy as np
    import xarray as xr
    nan = math.nan
    scalars = {
        "warburg_coefficient": (fit.sigma_ohm_m2_s05 if fit else nan, "ohm m2 s-1/2",
                                "Warburg coefficient sigma_W: slope of Z' against omega^-1/2"),
        "warburg_intercept": (fit.intercept_ohm_m2 if fit else nan, "ohm m2",
                              "intercept of the Z' against omega^-1/2 line"),
        "apparent_diffusivity": (diffusivity_m2_s, "m2 s-1",
                                 "apparent Li+ diffusion coefficient R2T2/(2A2n4F4C2sigma2)"),
    }
    data = {
        "impedance_real": (("frequency",), Z.real, {"units": "ohm m2", "long_name": "real part of the impedance Z'"}),
        "impedance_imag": (("frequency",), Z.imag, {
            "units": "ohm m2", "long_name": "imaginary part of the impedance Z'' (capacitive < 0)"}),
        "impedance_phase": (("frequency",), np.degrees(np.angle(Z)), {
            "units": "degree", "long_name": "phase of the impedance"}),
    }
    for name, (val, units, long_name) in scalars.items():
        data[name] = ((), float(val), {"units": units, "long_name": long_name})
    ds = xr.Dataset(data, coords={"frequency": ("frequency", np.asarray(f_hz), {
        "units": "Hz", "long_name": "frequency of the current perturbation"})})
    ds.attrs["title"] = "DFN impedance spectrum with the Warburg fit (layerlab.electrochem)"
    ds.attrs.update({k: v for k, v in attrs.items() if v is not None})
    if fit:
        ds.attrs.update(warburg_f_low_hz=fit.f_low_hz, warburg_f_high_hz=fit.f_high_hz,
                        warburg_points=fit.n_points, warburg_r_squared=fit.r_squared)
    return ds


def _run(args: argparse.Namespace) -> int:
    from layerlab.electrochem.commands import prepare
    from layerlab.settings import job_config
    cfg = job_config(args, "impedance")
    settings = impedance_settings(cfg)
    cell, disc, test = prepare(cfg, args.case, args.tortuosity)
    if settings.radial_volumes is not None:
        disc = dataclasses.replace(disc, radial_volumes=settings.radial_volumes)
    # UFL walks the DFN's radial sums recursively: two populations at N >~ 100 need a deeper stack
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000 + 150 * disc.radial_volumes))
    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.impedance import (OHM_M2_TO_OHM_CM2, LinearisedDFN, apparent_diffusivity_m2_s,
                                                fit_warburg, rest_stoichiometry)
    from layerlab.fe import MPI

    model = DFNModel(cell, disc, comm=MPI.COMM_WORLD)
    sto = rest_stoichiometry(model, settings.state_of_charge, test.v_max_V)
    lin = LinearisedDFN(model, sto, settings.double_layer_capacitance_F_m2,
                        settings.lithium_double_layer_capacitance_F_m2)
    f_hz = settings.frequencies_hz()
    log.info("%s: impedance at %d frequencies %.3g-%.3g Hz, SoC %.2f (stoichiometry %.4f), rest residual %.2e",
             args.case, len(f_hz), f_hz[0], f_hz[-1], settings.state_of_charge, sto, lin.rest_residual_norm)
    Z = lin.spectrum(f_hz)
    f_res = lin.resolved_frequency_hz()
    fit = fit_warburg(f_hz, Z, settings.warburg_window_hz, settings.warburg_tolerance_deg,
                      settings.warburg_min_points, f_res)
    if fit is not None and fit.f_high_hz > f_res * (1 + 1e-9):
        log.warning("%s: the Warburg window reaches %.3g Hz, above the radially resolved %.3g Hz "
                    "(raise impedance.radial_volumes)", args.case, fit.f_high_hz, f_res)
    pos = cell.params.positive
    conc = pos.max_concentration_mol_m3 * sto
    if fit is None:
        log.warning("%s: no Warburg (45 deg) region of >= %d points found; sigma_W and D are NaN",
                    args.case, settings.warburg_min_points)
        D = math.nan
    else:
        D = apparent_diffusivity_m2_s(fit.sigma_ohm_m2_s05, conc, cell.params.temperature_K)
        log.info("%s: sigma_W = %.4g ohm m2 s^-1/2 (%.4g-%.4g Hz, %d points, R2 %.4f), apparent D = %.4g m2/s",
                 args.case, fit.sigma_ohm_m2_s05, fit.f_low_hz, fit.f_high_hz, fit.n_points, fit.r_squared, D)
    attrs = {"case": args.case, "state_of_charge": settings.state_of_charge, "stoichiometry": sto,
             "sign_convention": "Z = dV/dI with I > 0 charging (= -dV/dI_discharge): Re Z > 0, -Im Z > 0 capacitive",
             "impedance_units_note": f"ohm m2 of geometric electrode area; x {OHM_M2_TO_OHM_CM2:g} for ohm cm2",
             "double_layer_capacitance_F_m2": settings.double_layer_capacitance_F_m2,
             "lithium_double_layer_capacitance_F_m2": settings.lithium_double_layer_capacitance_F_m2,
             "diffusivity_formula": "D = R^2 T^2 / (2 A^2 n^4 F^4 C^2 sigma^2), A = 1 m2 (sigma per m2), n = 1",
             "diffusivity_concentration_mol_m3": conc, "temperature_K": cell.params.temperature_K,
             "rest_residual_norm": lin.rest_residual_norm, "radial_volumes": model.N,
             "resolved_frequency_max_hz": f_res, "parameter_set": cell.params.name}
    ds = impedance_dataset(f_hz, Z, fit, D, attrs)
    write_case_dataset(ds, args.out, cfg, args.case)
    return 0


COMMANDS = {
    "impedance": Command(help="small-signal impedance spectrum + Warburg analysis of one case (netCDF out)",
                         add_arguments=add_case_arguments, run=_run),
}
