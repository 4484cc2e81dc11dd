"""Benchmark of the 3D geometry stage: paper-scale packings and a small two-phase mesh (prints JSON).

Run: ``.venv/bin/python bench/bench_geometry3d.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from layerlab.design import ElectrodeDesign
from layerlab.geometry.mesh3d import Mesh3DOptions, build_mesh3d
from layerlab.geometry.packing3d import Packing3DOptions, pack3d


def time_packing(arch: str, loading: float, porosity: float, lateral_um: float) -> dict:
    design = ElectrodeDesign(arch, loading, porosity, 0.5)
    t0 = time.perf_counter()
    p = pack3d(design, Packing3DOptions(lateral_um=lateral_um), seed=0, case="bench").to_dict()
    return {"architecture": arch, "loading_mg_cm2": loading, "porosity": porosity, "lateral_um": lateral_um,
            "thickness_um": design.thickness_m * 1e6, "seconds": time.perf_counter() - t0,
            "n_spheres": p["n_spheres"], "n_isolated_spheres": p["n_isolated_spheres"],
            "max_overlap_ratio": p["max_overlap_ratio"],
            "layers": [{k: row[k] for k in ("name", "target_solid_fraction", "achieved_solid_fraction",
                                            "achieved_solid_fraction_stderr", "n_spheres_L", "n_spheres_S")}
                       for row in p["layers"]]}


def time_mesh(lateral_um: float, loading: float, h_um: float) -> dict:
    design = ElectrodeDesign("L-Dry-S", loading, 0.55, 0.5)
    p = pack3d(design, Packing3DOptions(lateral_um=lateral_um, separator_um=3.0), seed=0, case="bench").to_dict()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = build_mesh3d(p, Mesh3DOptions(route="gmsh", h_um=h_um, h_min_um=0.2), Path(tmp) / "mesh3d.msh")
        seconds = time.perf_counter() - t0
    return {"lateral_um": lateral_um, "loading_mg_cm2": loading, "h_um": h_um, "seconds": seconds,
            "n_spheres": p["n_spheres"], "n_spheres_with_images": s["n_spheres_with_images"],
            "n_tets": s["n_tets_electrolyte"] + s["n_tets_particles"] + s["n_tets_separator"],
            "n_particle_volumes": s["n_volumes_particles"],
            "isolated_particle_volumes": len(s["isolated_particle_volumes"]),
            "isolated_pore_volumes": len(s["isolated_pore_volumes"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller boxes (a smoke test)")
    args = ap.parse_args()
    lateral = 20.0 if args.quick else 50.0
    out = {"machine": platform.node(), "python": platform.python_version(),
           "packings": [time_packing("L-Dry-S", 29.6, por, lateral) for por in (0.55, 0.25)],
           "mesh": time_mesh(15.0 if args.quick else 20.0, 5.0, 1.0)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
