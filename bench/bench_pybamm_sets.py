"""Cross-check of PyBaMM parameter sets imported by name (``pybamm:<SetName>``) against PyBaMM's
own DFN on the same set: half cell (positive electrode vs lithium foil) and full cell, at 0.5, 1
and 2C, 20 points per region and in r.  Prints one JSON document (capacity error, voltage RMS).

    python bench/bench_pybamm_sets.py [--sets Marquis2019 Mohtat2020 Prada2013 Ecker2015] [--rates 0.5 1 2]

A discharge whose layerlab solve fails is a row with ``failed`` (the error), not an abort.
"""

from __future__ import annotations

import argparse
import json
import time

from layerlab.electrochem.dfn import SolverFailure
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
                try:
                    r = cross_check(name, mode == "full", rate).as_dict()
                except SolverFailure as err:   # reported, not hidden: the row names the failure
                    r = {"set_name": name, "mode": mode, "c_rate": rate, "failed": str(err)}
                r["wall_s"] = round(time.perf_counter() - t0, 1)
                rows.append(r)
    done = [r for r in rows if "failed" not in r]
    worst = {"capacity_error": max((abs(r["capacity_error"]) for r in done), default=None),
             "voltage_rms_mV": max((r["voltage_rms_mV"] for r in done), default=None),
             "failed": len(rows) - len(done)}
    print(json.dumps({"benchmark": "pybamm_sets", "rows": rows, "worst": worst}, indent=1))


if __name__ == "__main__":
    main()
