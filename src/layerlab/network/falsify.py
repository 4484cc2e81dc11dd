"""Falsification table of the network mechanism: the through-plane electronic resistance it implies.

For each dried architecture at 22 and 29.6 mg/cm2, porosity 0.55 and 0.25, and each r_c: the layers of
the design (``cathode_from_design``), their conductivities from the network stage exactly as the DFN
mechanism ``electronic: {model: stage}`` reads them, and the electrode's through-plane electronic
resistance ``R_e = sum_k t_k / sigma_k`` in ohm cm2 (series law of the layers), beside the same electrode
with the literature DFN value 0.18 S/m (Chen et al., J. Electrochem. Soc. 167 (2020) 080534; NMC811).

With ``--impedance``: the small-signal impedance of the same DFN half cell at rest
(:class:`~layerlab.electrochem.impedance.LinearisedDFN`, the ``impedance`` section's state of charge and
double layers) with the network conductivities and with 0.18 S/m in every layer, at the highest
frequency of the ``impedance`` section (the high-frequency intercept) and at 1 Hz (past the
charge-transfer arc, above the Warburg window).  The differences are what the mechanism adds to a
Nyquist plot: ``dR_hf`` shifts the intercept, ``dR_1Hz - dR_hf`` widens the arcs.  In a porous electrode
the double layers short the interfaces at high frequency, so the intercept rises by at most the
electrode's ionic resistance (de Levie transmission line: ``R_e R_i / (R_e + R_i)``); the rest of
``R_e`` appears in the arc.

    python -m layerlab.network.falsify --config config/config.yaml --r-c 4e-4 --impedance \
        --out results/tables/mechanism_check.csv

Published contact resistances (per geometric area, from the high-frequency arc; attributed to the
electrode / collector interface and particle-carbon contacts) to set r_c against: Gaberscek et al.,
Electrochem. Solid-State Lett. 11 (2008) A170; Illig, Ender et al., J. Electrochem. Soc. 159 (2012) A952;
Ender, Weber, Ivers-Tiffee, Electrochem. Commun. 34 (2013) 130; Landesfeind, Pritzl, Gasteiger,
J. Electrochem. Soc. 164 (2017) A1773.  None reports a resistance per real contact area (r_c's unit), so
the comparison is made on the electrode (README, falsification table).

In the campaign the rule ``mechanism_check`` runs the same table through the per-job settings contract
(``python -m layerlab mechanism_check --settings ...``; config section ``mechanism_check``).
"""

from __future__ import annotations

import argparse
import copy
import csv
import io

ARCHITECTURES = ("L-Dry-S", "Mix-Dry-Mix", "S-Dry-L")
LOADINGS = (22.0, 29.6)
POROSITIES = (0.55, 0.25)
CHEN2020_SIGMA_S_M = 0.18


def electronic_settings(config: dict, r_c: float) -> dict:
    """``mechanisms.electronic`` as the DFN mechanism ``{model: stage}`` at ``r_c`` (runs_dir, seeds kept)."""
    return {**copy.deepcopy((config.get("mechanisms") or {}).get("electronic") or {}),
            "model": "stage", "r_c_ohm_m2": float(r_c)}


def designs(ls_ratio: float = 0.5) -> list:
    """The tabulated cases: each architecture at each loading and porosity."""
    from layerlab.cases import Case
    return [Case(a, load, por, ls_ratio) for a in ARCHITECTURES for load in LOADINGS for por in POROSITIES]


def run_inputs(config: dict) -> list[str]:
    """The network runs the table reads (the rule's inputs)."""
    from layerlab.electrochem.mechanisms import stage_inputs
    cfg = {**config, "mechanisms": {**(config.get("mechanisms") or {}), "electronic": electronic_settings(config, 0.0)}}
    return sorted({p for case in designs() for p in stage_inputs(cfg, case, ["electronic"])})


def rows(config: dict, r_c_values: list[float], ls_ratio: float = 0.5, impedance: bool = False,
         radial_volumes: int | None = None) -> list[dict]:
    from layerlab.electrochem.cell import cathode_from_design
    from layerlab.electrochem.mechanisms import layer_electronic_conductivity
    out = []
    for r_c in r_c_values:
        settings = electronic_settings(config, r_c)
        for case in designs(ls_ratio):
            arch, load, por = case.architecture, case.loading_mg_cm2, case.porosity
            design = case.design(config)
            sigma, _ = layer_electronic_conductivity(settings, design, config)
            cath = cathode_from_design(design)
            r_e = sum(lay.thickness_m / sigma[lay.name] for lay in cath.layers) * 1e4   # ohm cm2
            row = {
                "architecture": arch, "loading_mg_cm2": load, "porosity": por, "r_c_ohm_m2": r_c,
                "thickness_um": round(cath.thickness_m * 1e6, 2),
                "layers_collector_first": " / ".join(
                    f"{lay.name} {lay.thickness_m * 1e6:.1f} um {sigma[lay.name]:.3e} S/m"
                    for lay in cath.layers),
                "electronic_resistance_ohm_cm2": round(r_e, 3),
                "electronic_resistance_chen2020_ohm_cm2": round(cath.thickness_m / CHEN2020_SIGMA_S_M * 1e4, 4),
            }
            if impedance:
                row.update(impedance_shift(config, cath, sigma, radial_volumes=radial_volumes))
            out.append(row)
    return out


def impedance_shift(config: dict, cathode, sigma: dict[str, float], f_low_hz: float = 1.0,
                    radial_volumes: int | None = None) -> dict[str, float]:
    """Re Z (ohm cm2) at the ``impedance`` section's highest frequency and at ``f_low_hz`` with the layer
    conductivities ``sigma`` and with 0.18 S/m, and their differences.

    ``radial_volumes`` (None: the ``electrochem`` discretisation's): 1 Hz lies above the radially
    resolved frequency at any affordable N, where the outer half volume adds a spurious series
    resistance ~1/N (:mod:`layerlab.electrochem.impedance`). Measured on L-Dry-S, 22 mg/cm2, 55 %, r_c
    4e-4: Re Z(1 Hz) 69.9 / 50.6 / 46.4 ohm cm2 (network) and 13.5 / 11.3 / 10.9 (0.18 S/m) at N = 8 /
    32 / 64, i.e. ~42 and ~10.5 extrapolated in 1/N; the 1e5 Hz values do not change."""
    import dataclasses
    import sys

    from layerlab.electrochem.cell import HalfCell
    from layerlab.electrochem.commands_impedance import impedance_settings
    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.electrochem.impedance import OHM_M2_TO_OHM_CM2, LinearisedDFN, rest_stoichiometry
    from layerlab.electrochem.mechanisms import with_layer_conductivity
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.io import input_path
    ec = config.get("electrochem") or {}
    imp = impedance_settings(config)
    params = load_parameters(input_path(ec["parameters"]) if ec.get("parameters") else None)
    params = params.with_overrides(ec.get("parameter_overrides"))
    disc = Discretisation(**(ec.get("discretisation") or {}))
    if radial_volumes is not None:
        disc = dataclasses.replace(disc, radial_volumes=int(radial_volumes))
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000 + 150 * disc.radial_volumes))   # as the impedance command
    v_max = float((ec.get("protocol") or {}).get("v_max_V", 4.3))
    f_hf = imp.frequency_max_hz
    out = {}
    for tag, sig in (("network", sigma), ("chen2020", {k: CHEN2020_SIGMA_S_M for k in sigma})):
        model = DFNModel(HalfCell(params, with_layer_conductivity(cathode, sig)), disc)
        try:
            lin = LinearisedDFN(model, rest_stoichiometry(model, imp.state_of_charge, v_max),
                                imp.double_layer_capacitance_F_m2, imp.lithium_double_layer_capacitance_F_m2)
            z_hf, z_low = (lin.impedance(f) * OHM_M2_TO_OHM_CM2 for f in (f_hf, f_low_hz))
        finally:
            model.close()
        out[f"re_z_{f_hf:g}Hz_{tag}_ohm_cm2"] = round(z_hf.real, 3)
        out[f"re_z_{f_low_hz:g}Hz_{tag}_ohm_cm2"] = round(z_low.real, 3)
    out["d_re_z_hf_ohm_cm2"] = round(out[f"re_z_{f_hf:g}Hz_network_ohm_cm2"] - out[f"re_z_{f_hf:g}Hz_chen2020_ohm_cm2"], 3)
    out["d_re_z_1Hz_ohm_cm2"] = round(out[f"re_z_{f_low_hz:g}Hz_network_ohm_cm2"]
                                      - out[f"re_z_{f_low_hz:g}Hz_chen2020_ohm_cm2"], 3)
    out["arc_added_ohm_cm2"] = round(out["d_re_z_1Hz_ohm_cm2"] - out["d_re_z_hf_ohm_cm2"], 3)
    return out


def to_csv(table: list[dict]) -> str:
    """The table as CSV text (header from the first row)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(table[0]))
    w.writeheader()
    w.writerows(table)
    return buf.getvalue()


def main() -> None:
    from layerlab.config import load_config
    from layerlab.io import write_text_atomic
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--r-c", type=float, nargs="+", required=True)
    ap.add_argument("--impedance", action="store_true", help="add the impedance columns (about 1 s per row)")
    ap.add_argument("--radial-volumes", type=int, default=None, help="radial volumes of the impedance model")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    text = to_csv(rows(load_config(args.config), args.r_c, impedance=args.impedance, radial_volumes=args.radial_volumes))
    write_text_atomic(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
