"""SEI growth on the graphite surface of a full cell: the SEI side-reaction current and film.

Three literature models, as in PyBaMM's ``"SEI"`` option (the parameters are the ``sei`` section
of an anode file, e.g. ``config/parameters/graphite_chen2020.yaml``).  ``j_sei`` is the SEI current
per particle surface, A/m2, negative (cathodic: it consumes Li+ and electrons), ``L`` the film
thickness, ``eta_sei = phi_s - phi_e - U_sei - j_tot R_film`` the side-reaction overpotential:

* ``solvent-diffusion limited`` (Ploehn et al., JES 151 (2004) A456; Single et al.,
  ChemSusChem 11 (2018) 1950): ``j_sei = -F D_sol c_sol / L``;
* ``reaction limited`` (Safari et al., JES 156 (2009) A145, Tafel branch):
  ``j_sei = -j0_sei exp(-alpha F eta_sei / RT)``;
* ``ec reaction limited`` (Yang et al., J. Power Sources 360 (2017) 28): EC diffusion through the
  film in series with the Tafel reaction, ``j_sei = -F c_EC k e / (1 + L k e / D_EC)``,
  ``e = exp(-alpha F eta_sei / RT)``.

Film growth: ``dL/dt = -j_sei V_sei / (z F)`` with ``z`` = Li per SEI formula unit; the lithium
bound in the film per particle surface is ``z (L - L0) / V_sei`` mol/m2, so the cell loses
exactly ``-j_sei / F`` mol of cyclable lithium per m2 of graphite surface per second.  The film
adds an ohmic drop ``R_film j_tot`` with ``R_film = rho_sei L`` to the intercalation overpotential
(``j_tot`` = intercalation + SEI current, PyBaMM's "SEI film resistance": "distributed").
"""

from __future__ import annotations

from typing import Any

from layerlab.electrochem.parameters import FARADAY, SEIParams
from layerlab.errors import require

SEI_MODELS: tuple[str, ...] = ("none", "solvent-diffusion limited", "reaction limited", "ec reaction limited")


def check_sei_model(name: str, params: SEIParams | None, field: str = "fullcell.sei.model") -> None:
    """InputError unless ``name`` is a known model and (for a growth model) parameters exist."""
    require(name in SEI_MODELS, field, f"unknown SEI model {name!r}", ", ".join(SEI_MODELS))
    if name != "none":
        require(params is not None, "fullcell.anode_parameters.sei", "SEI growth needs an sei section",
                "an anode file with an sei section")


def sei_current(name: str, p: SEIParams, thickness_m: Any, eta_sei_V: Any, f_T: float, ops: Any) -> Any:
    """SEI current per particle surface (A/m2, negative) for model ``name`` (UFL or NumPy ``ops``)."""
    if name == "solvent-diffusion limited":
        return -FARADAY * p.solvent_diffusivity_m2_s * p.solvent_concentration_mol_m3 / thickness_m
    e = ops.exp(-p.charge_transfer_coefficient * f_T * eta_sei_V)
    if name == "reaction limited":
        return -p.exchange_current_A_m2 * e
    if name == "ec reaction limited":
        ke = p.kinetic_rate_constant_m_s * e
        return -FARADAY * p.ec_concentration_mol_m3 * ke / (1.0 + thickness_m * ke / p.ec_diffusivity_m2_s)
    raise ValueError(f"no SEI current for model {name!r}")


def growth_coefficient_m3_C(p: SEIParams) -> float:
    """``V_sei / (z F)``: film thickness grown per charge of SEI current, m3/C (dL/dt = -j_sei x this)."""
    return p.partial_molar_volume_m3_mol / (p.lithium_per_sei * FARADAY)


def lithium_in_film_mol_m2(p: SEIParams, thickness_m: Any) -> Any:
    """Lithium bound in the film grown beyond the initial thickness, mol per m2 of particle surface."""
    return p.lithium_per_sei * (thickness_m - p.initial_thickness_m) / p.partial_molar_volume_m3_mol
