"""Benchmark: electronic network conductivity of a paper-scale packing, beside the voxel reference.

A packing of the geometry stage's packer (``pack3d``, 50 x 50 um, the design's full thickness; default
L-Dry-S 29.6 mg/cm2 at 55 %, ~2000 spheres) is built first (not timed).  Timed, in the same run:

* the network stage's computation (graph build + through-plane + two lateral solves), with the
  campaign's parameters (``network.parameters`` of config/config.yaml) and with r_c = 0, no CBD;
* the reference: the transport stage's voxel solve of the solid phase, through-plane (1 um voxels, one
  rank), whose sigma_eff / sigma_bulk is the resolved counterpart of the network's r_c = 0, no-CBD value.

Prints JSON: times, the ratio voxel / network time, and both conductivity ratios (their agreement is a
packing-scale check of the contact law; not asserted).

    python bench/bench_network.py                        # default case
    python bench/bench_network.py --case Mix_load22_por0.25_ls0.0_seed0 --no-voxel
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="L-Dry-S_load29.6_por0.55_ls0.5_seed0")
    ap.add_argument("--lateral-um", type=float, default=50.0)
    ap.add_argument("--voxel-um", type=float, default=1.0)
    ap.add_argument("--r-c", type=float, default=1e-4, help="r_c of the campaign-parameter run, ohm m2")
    ap.add_argument("--no-voxel", action="store_true", help="skip the voxel reference")
    args = ap.parse_args()

    from layerlab.cases import parse_case
    from layerlab.config import load_config
    from layerlab.design import load_materials
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d
    from layerlab.network.laws import NetworkParameters
    from layerlab.network.study import cbd_volume_per_active, network_study
    from layerlab.transport.packing import packing_from_dict

    cfg = load_config("config/config.yaml")
    case = parse_case(args.case)
    t0 = time.perf_counter()
    raw = pack3d(case.design(cfg), Packing3DOptions(lateral_um=args.lateral_um), seed=case.seed or 0,
                 case=case.name).to_dict()
    t_pack = time.perf_counter() - t0
    packing = packing_from_dict(raw)
    mats = load_materials()
    share = mats.active_share_of_solid_volume
    params = NetworkParameters.from_mapping({k: v for k, v in cfg["network"]["parameters"].items() if k != "source"})
    params = NetworkParameters(**{**params.__dict__, "r_c_ohm_m2": args.r_c})
    out = {"case": case.name, "n_spheres": int(len(packing.radii_m)), "box_um": [b * 1e6 for b in packing.box_m],
           "pack3d_s": round(t_pack, 2), "cpus": os.cpu_count()}
    for label, prm in (("campaign", params),
                       ("rc0_none", NetworkParameters(sigma_bulk_S_m=params.sigma_bulk_S_m, cbd_rule="none"))):
        t0 = time.perf_counter()
        st = network_study(packing, prm, cbd_volume_per_active(mats), share, raw.get("sphere_layer"))
        dt = time.perf_counter() - t0
        out[f"network_{label}_s"] = round(dt, 3)
        out[f"network_{label}_sigma_S_m"] = {r: st.conductivity_S_m[r] for r in st.regions}
        out[f"network_{label}_n_contacts"] = st.n_contacts
    out["network_rc0_none_sigma_ratio_z"] = (out["network_rc0_none_sigma_S_m"]["electrode"]["z"]
                                            / params.sigma_bulk_S_m)
    if not args.no_voxel:
        from layerlab.fe import MPI
        from layerlab.transport.study import voxel_study
        t0 = time.perf_counter()
        vs = voxel_study(MPI.COMM_SELF, packing, args.voxel_um * 1e-6, ("z",))
        out["voxel_reference_s"] = round(time.perf_counter() - t0, 3)
        out["voxel_solid_sigma_ratio_z"] = vs.results[("electrode", "solid")]["z"].relative_diffusivity
        out["time_ratio_voxel_over_network"] = round(out["voxel_reference_s"] / out["network_campaign_s"], 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
