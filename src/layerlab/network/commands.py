"""CLI command ``network``: electronic conductivity of one case's 3D packing through its particle network."""

from __future__ import annotations

import argparse
import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from layerlab.cli import Command
from layerlab.errors import require
from layerlab.settings import add_settings_arguments, job_config

log = logging.getLogger("layerlab.network")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. Mix_load22_por0.45_ls0.5_seed0")
    p.add_argument("--packing", required=True, help="results/geometry/<case>/packing3d.json")
    p.add_argument("--r-c", type=float, nargs="+", help="interfacial resistances, ohm m2 (default: network.r_c_ohm_m2)")
    p.add_argument("--sigma-bulk", type=float, help="NMC conductivity, S/m (default: network.parameters)")
    p.add_argument("--cbd-rule", help="carbon-binder placement: none, neck, film (default: network.parameters)")
    p.add_argument("--out", required=True, help="output netCDF, results/runs/network/<case>.nc")


@dataclass(frozen=True)
class NetworkSettings:
    """What one run needs from the config and the flags."""

    parameters: Any                  # NetworkParameters (r_c set per run)
    r_c_ohm_m2: tuple[float, ...]
    directions: tuple[str, ...]
    materials_path: str


def read_settings(args: argparse.Namespace) -> tuple[NetworkSettings, Mapping[str, Any]]:
    """The run's settings from ``--settings`` / ``--config`` and the explicit flags (flags win); all
    checked here."""
    from layerlab.network.laws import NetworkParameters

    config = job_config(args, "network")
    cfg = config["network"]
    r_c = tuple(args.r_c) if args.r_c else tuple(cfg["r_c_ohm_m2"])
    for v in r_c:
        require(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, "network.r_c_ohm_m2",
                f"got {v!r}", "finite values >= 0 ohm m2")
    section = {k: v for k, v in cfg["parameters"].items() if k != "source"}
    if args.sigma_bulk is not None:
        section["sigma_bulk_S_m"] = args.sigma_bulk
    if args.cbd_rule is not None:
        section["cbd_rule"] = args.cbd_rule
    params = NetworkParameters.from_mapping(section)
    return NetworkSettings(params, r_c, tuple(cfg["directions"]), config["materials"]), config


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from layerlab.cases import parse_case
    from layerlab.design import load_materials
    from layerlab.io import write_netcdf
    from layerlab.network.output import to_dataset
    from layerlab.network.study import cbd_volume_per_active, network_study
    from layerlab.transport.packing import read_packing

    # --- every input check before any work -------------------------------------------------------
    settings, config = read_settings(args)
    case = parse_case(args.case)
    require(str(args.out).endswith(".nc"), "out", f"got {args.out!r}", "a path ending in .nc")
    packing = read_packing(args.packing)
    raw = json.loads(Path(args.packing).read_text())
    require(raw.get("case") in (None, case.name), "packing.case",
            f"packing is of {raw.get('case')!r}, not {case.name!r}", "the packing of this case")
    bottom = packing.centres_m[:, 2] - packing.radii_m if len(packing.radii_m) else np.zeros(0)
    require(bool(np.any(bottom < 0.0)), "packing",
            f"no particle of {Path(args.packing).name} touches the current collector (z = 0)",
            "a packing with at least one particle indenting z = 0")
    phase = raw.get("particle_phase", "solid")
    require(phase in ("solid", "active"), "packing.particle_phase", f"got {phase!r}", "solid, active")
    layer = raw.get("sphere_layer")
    if layer is not None:
        layer = np.asarray(layer, dtype=int)
        require(layer.shape == packing.radii_m.shape and bool(np.all((layer >= 0) & (layer < len(packing.layers)))),
                "packing.sphere_layer", "not one valid layer index per sphere", f"0..{len(packing.layers) - 1}")
    materials = load_materials(settings.materials_path)

    # --- work ---------------------------------------------------------------------------------------
    share = materials.active_share_of_solid_volume if phase == "solid" else 1.0
    cbd = cbd_volume_per_active(materials)
    studies = []
    for r_c in settings.r_c_ohm_m2:
        prm = replace(settings.parameters, r_c_ohm_m2=float(r_c))
        log.info("%s: r_c %.3g ohm m2, sigma_bulk %.3g S/m, CBD rule %s", case.name, r_c, prm.sigma_bulk_S_m,
                 prm.cbd_rule)
        studies.append(network_study(packing, prm, cbd, share, layer, settings.directions))
    p = settings.parameters
    ds = to_dataset(studies, settings.r_c_ohm_m2, case=case.name, attrs={
        "sigma_bulk_S_m": p.sigma_bulk_S_m, "cbd_rule": p.cbd_rule, "bridge_cap": p.bridge_cap,
        "collector_r_c_ohm_m2": "r_c" if p.collector_r_c_ohm_m2 is None else p.collector_r_c_ohm_m2,
        "particle_phase": phase, "periodic": str(packing.periodic)})
    write_netcdf(ds, args.out, config, case=case.name, packing=str(args.packing))
    log.info("wrote %s", args.out)
    return 0


COMMANDS = {
    "network": Command("electronic conductivity of a 3D packing through its particle network", _add_arguments, _run),
}
