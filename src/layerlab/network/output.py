"""The network stage's per-run dataset (one netCDF per case; CF attributes on every variable)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from layerlab.network.graph import DIRECTIONS, PARTS
from layerlab.network.study import ELECTRODE, NetworkStudy


def to_dataset(studies: Sequence[NetworkStudy], r_c_ohm_m2: Sequence[float], case: str = "",
               attrs: dict | None = None) -> "xarray.Dataset":  # noqa: F821
    """Stack the studies of one packing at each ``r_c`` (same packing, same layers) into the stage's dataset.

    Dims: ``r_c`` (interfacial resistance), ``layer`` (bottom to top), ``direction``, ``part``;
    ``*_electrode`` variables for the whole electrode.
    """
    import xarray as xr

    first = studies[0]
    layers = [r for r in first.regions if r != ELECTRODE]
    sig = np.array([[[s.conductivity_S_m[lay][d] for d in DIRECTIONS] for lay in layers] for s in studies])
    sig_e = np.array([[s.conductivity_S_m[ELECTRODE][d] for d in DIRECTIONS] for s in studies])
    res = np.array([[[s.resistance_ohm_m2[lay][p] for p in PARTS] for lay in layers] for s in studies])
    res_e = np.array([[s.resistance_ohm_m2[ELECTRODE][p] for p in PARTS] for s in studies])
    S = "S m-1"
    data_vars = {
        "electronic_conductivity": (("r_c", "layer", "direction"), sig, {
            "units": S, "long_name": "effective electronic conductivity of the layer (particle network)"}),
        "electronic_conductivity_electrode": (("r_c", "direction"), sig_e, {
            "units": S, "long_name": "effective electronic conductivity of the whole electrode (particle network)"}),
        "area_specific_resistance": (("r_c", "layer", "part"), res, {
            "units": "ohm m2", "long_name": "through-plane area-specific resistance of the layer by part "
                                            "(dissipation partition)"}),
        "area_specific_resistance_electrode": (("r_c", "part"), res_e, {
            "units": "ohm m2", "long_name": "through-plane area-specific resistance of the electrode by part"}),
        "n_contacts": (("layer",), np.array([first.n_contacts[lay] for lay in layers]), {
            "units": "1", "long_name": "number of particle-particle contacts (lens centre in the layer)"}),
        "mean_contact_lens_area": (("layer",), np.array([first.mean_lens_area_m2[lay] for lay in layers]), {
            "units": "m2", "long_name": "mean overlap-lens area of the particle contacts"}),
        "mean_contact_area": (("layer",), np.array([first.mean_contact_area_m2[lay] for lay in layers]), {
            "units": "m2", "long_name": "mean conducting contact area (lens enlarged by the carbon-binder rule)"}),
        "n_particles": (("layer",), np.array([first.n_spheres[lay] for lay in layers]), {
            "units": "1", "long_name": "number of particles of the layer"}),
        "layer_thickness": (("layer",), np.array([first.thickness_m[lay] for lay in layers]), {
            "units": "m", "long_name": "thickness of the layer slab"}),
    }
    for name in ("n_contacts", "mean_contact_lens_area", "mean_contact_area", "n_particles"):
        src = {"n_contacts": first.n_contacts, "mean_contact_lens_area": first.mean_lens_area_m2,
               "mean_contact_area": first.mean_contact_area_m2, "n_particles": first.n_spheres}[name]
        data_vars[name + "_electrode"] = ((), src[ELECTRODE], {**data_vars[name][2],
                                                               "long_name": data_vars[name][2]["long_name"]
                                                               + ", whole electrode"})
    coords = {
        "r_c": ("r_c", np.asarray(r_c_ohm_m2, dtype=float), {
            "units": "ohm m2", "long_name": "interfacial resistance per unit real contact area"}),
        "layer": ("layer", layers, {"long_name": "layer name (bottom to top)"}),
        "direction": ("direction", list(DIRECTIONS),
                      {"long_name": "direction of the potential drop (z: through-plane)"}),
        "part": ("part", list(PARTS), {"long_name": "bulk: NMC spreading and constriction; interface: r_c at "
                                                     "particle contacts; collector: collector contacts; top: "
                                                     "virtual top electrode (not in the conductivities)"}),
    }
    out_attrs = {"title": "network run: electronic conductivity of the particle network of one packing "
                          "(layerlab.network)",
                 "case": case, **{k: v for k, v in first.attrs.items() if not k.endswith("_s")}}
    out_attrs.update(attrs or {})
    return xr.Dataset(data_vars, coords=coords, attrs=out_attrs)
