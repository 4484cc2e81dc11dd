"""Cross-check of PyBaMM parameter sets imported by name (``pybamm:<SetName>``) against PyBaMM's
own DFN on the same set: half cell (positive electrode vs lithium foil) and full cell, at 0.5, 1
and 2C, 20 points per region and in r.  Prints one JSON document (capacity error, voltage RMS).

    python bench/bench_pybamm_sets.py [--sets Marquis2019 Mohtat2020 Prada2013] [--rates 0.5 1 2]
"""

from __future__ import annotations

import argparse
import json
import time

from layerlab.electrochem.pybamm_crosscheck import SETS, cross_check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    ap.add_argument("--rates", nargs="+", type=float, default=[0.5, 1.0, 2.0])
    ap.add_argument("--modes", nargs="+", default=["half", "full"], choices=["half", "full"])
    args = ap.parse_args()
    rows = []
    for name in args.sets:
        for mode in args.modes:
            for rate in args.rates:
                t0 = time.perf_counter()
                r = cross_check(name, mode == "full", rate).as_dict()
                r["wall_s"] = round(time.perf_counter() - t0, 1)
                rows.append(r)
    worst = {"capacity_error": max(abs(r["capacity_error"]) for r in rows),
             "voltage_rms_mV": max(r["voltage_rms_mV"] for r in rows)}
    print(json.dumps({"benchmark": "pybamm_sets", "rows": rows, "worst": worst}, indent=1))


if __name__ == "__main__":
    main()
