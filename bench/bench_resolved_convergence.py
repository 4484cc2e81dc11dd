"""Benchmark: mesh convergence of the resolved 3D 1C capacity on a real packing (prints JSON).

``pack3d`` of ``--arch`` at ``--loading`` mg/cm2 and ``--porosity`` (walled, ``--lateral-um`` wide,
``--separator-um`` separator), then for each ``--h-um`` the level-set mesh (``h_min = h`` times
``--h-min-ratio``: the whole mesh refines) and a 1C discharge from rest at the OCP of 4.3 V to
``--v-min`` (the pipeline of ``bench_resolved_packing.py``, MUMPS).  Per size: capacity per active
mass (mAh/g) and per box area, unknowns, steps, times; then the differences between successive
sizes and the observed convergence order p of ``Q(h) = Q0 + C h^p`` from the three finest sizes
(solved from the ratio of successive differences; Q0 the extrapolated capacity).

Run (README, "Resolved 3D half cells")::

    python bench/bench_resolved_convergence.py --arch L-Dry-S --loading 6 --porosity 0.45 \
        --h-um 3 2 1.5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

from bench_resolved_packing import add_case_arguments, run_one


def observed_order(h: list[float], q: list[float]) -> dict:
    """Order p and limit Q0 of ``Q = Q0 + C h^p`` through three (h, Q) points (h decreasing), or NaNs
    when the differences change sign or do not shrink (no asymptotic range)."""
    (h1, h2, h3), (q1, q2, q3) = h[-3:], q[-3:]
    d1, d2 = q1 - q2, q2 - q3
    nan = {"order": math.nan, "extrapolated": math.nan, "difference_ratio": d2 / d1 if d1 else math.nan}
    if d1 == 0 or d2 / d1 <= 0 or abs(d2) >= abs(d1):
        return nan

    def ratio(p: float) -> float:      # d2 / d1 for Q = Q0 + C h^p
        return (h2 ** p - h3 ** p) / (h1 ** p - h2 ** p)

    lo, hi = 1e-3, 20.0                # ratio(p) decreases in p: bisection
    if not ratio(hi) < d2 / d1 < ratio(lo):
        return nan
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ratio(mid) > d2 / d1 else (lo, mid)
    p = 0.5 * (lo + hi)
    c = d2 / (h2 ** p - h3 ** p)
    return {"order": p, "extrapolated": q3 - c * h3 ** p, "difference_ratio": d2 / d1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(ap, 6.0, 0.45, 22.6, 10.0)
    ap.add_argument("--h-um", type=float, nargs="+", default=[3.0, 2.0, 1.5])
    ap.add_argument("--h-min-ratio", type=float, default=1.0, help="h_min / h (1: no surface refinement)")
    ap.add_argument("--v-min", type=float, default=3.5, help="discharge cut-off, V")
    ap.add_argument("--neck-min-um", type=float, default=0.5, help="collar radius of thin necks (0: off)")
    ap.add_argument("--volume-correction", default="none", choices=("none", "isovalue"),
                    help="geometry.mesh3d.volume_correction of every mesh")
    a = ap.parse_args()
    from layerlab.design import ElectrodeDesign
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d
    design = ElectrodeDesign(a.arch, a.loading, a.porosity, 0.5)
    packing = pack3d(design, Packing3DOptions(lateral_um=a.lateral_um, separator_um=a.separator_um, periodic=False),
                     seed=0, case="bench").to_dict()
    runs = []
    for h in sorted(a.h_um, reverse=True):
        one = argparse.Namespace(h_min_um=h * a.h_min_ratio, neck_min_um=a.neck_min_um,
                                 separator_um=a.separator_um, duration_s=math.inf, v_min=a.v_min)
        t0 = time.perf_counter()
        run = run_one(packing, h, "mumps", one, volume_correction=a.volume_correction)
        runs.append({**run, "wall_s": round(time.perf_counter() - t0, 1)})
        print(json.dumps(runs[-1]), flush=True)
    hs, qs = [r["h_um"] for r in runs], [r["capacity_mAh_g"] for r in runs]
    print(json.dumps({"benchmark": "resolved_convergence", "machine": platform.node(), "args": vars(a),
                      "load_avg_1min": round(os.getloadavg()[0], 2), "thickness_um": design.thickness_m * 1e6,
                      "n_spheres": packing["n_spheres"], "h_um": hs, "capacity_mAh_g": qs,
                      "differences_mAh_g": [q1 - q2 for q1, q2 in zip(qs, qs[1:])],
                      "convergence": observed_order(hs, qs) if len(runs) >= 3 else None,
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
