"""Time 2D packing + meshing of the paper-scale domain (29.6 mg/cm2 L-Dry-S, 50 um wide); print JSON.

Usage: ``python bench/bench_geometry2d.py [--seeds N]``.  At 25 % porosity the solid fraction (0.75)
with 0.5 um gaps cannot be packed as disks (an InputError, recorded as such); the active phase with
0.2 um gaps (and h_min 0.04 um so that throats keep 4 cells) is timed instead.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from layerlab.design import ElectrodeDesign
from layerlab.errors import InputError
from layerlab.geometry.mesh2d import Mesh2DOptions, write_mesh2d
from layerlab.geometry.packing2d import Packing2DOptions, pack2d
from layerlab.io import write_json_atomic

CASES = [  # (label, architecture, loading, porosity, packing options, mesh options)
    ("L-Dry-S 55 %", "L-Dry-S", 29.6, 0.55, {}, {}),
    ("L-S 55 %", "L-S", 29.6, 0.55, {}, {}),
    ("L-Dry-S 25 % solid", "L-Dry-S", 29.6, 0.25, {}, {}),
    ("L-Dry-S 25 % active, 0.2 um gaps", "L-Dry-S", 29.6, 0.25, {"particle_phase": "active", "min_gap_um": 0.2},
     {"h_min_um": 0.04}),
]


def run(seeds: int) -> list[dict]:
    out = []
    for label, arch, load, por, popts, mopts in CASES:
        for seed in range(seeds):
            rec: dict = {"case": label, "seed": seed, "width_um": 50.0}
            t0 = time.perf_counter()
            try:
                packing = pack2d(ElectrodeDesign(arch, load, por, 0.5), Packing2DOptions(**popts), seed)
            except InputError as err:
                rec.update(pack_seconds=time.perf_counter() - t0, error=str(err))
                out.append(rec)
                continue
            rec.update(pack_seconds=time.perf_counter() - t0, disks=len(packing["disk_x_m"]),
                       relaxation_sweeps=packing["relaxation_sweeps"],
                       thickness_um=packing["design"]["thickness_m"] * 1e6)
            with tempfile.TemporaryDirectory() as tmp:
                write_json_atomic(Path(tmp) / "packing2d.json", packing)
                t1 = time.perf_counter()
                info = write_mesh2d(Path(tmp) / "packing2d.json", Path(tmp) / "mesh2d.msh", Mesh2DOptions(**mopts))
                rec.update(mesh_seconds=time.perf_counter() - t1, triangles=info["n_triangles"],
                           nodes=info["n_nodes"], min_throat_um=info["min_throat_m"] * 1e6)
            out.append(rec)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    print(json.dumps(run(parser.parse_args().seeds), indent=1))
