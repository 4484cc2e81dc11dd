"""Capacity lost to trapped air: pairs of 2D resolved runs (fully wet, with the air map) per case.

loss = capacity(fully wet) - capacity(with the wetting stage's air map), at the same C-rate, on
the same packing (checked through ``packing_sha256`` and ``discharge_c_rate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from layerlab.errors import InputError, require

COLUMNS = ("case", "architecture", "c_rate", "capacity_wet_mAh_g", "capacity_air_mAh_g", "loss_mAh_g",
           "loss_percent", "air_filled_pore_fraction", "dry_disk_volume_fraction", "end_reason_wet",
           "end_reason_air")


def _read(path: str | Path) -> dict:
    from layerlab.io import load_netcdf_input

    require(Path(path).is_file(), "resolve2d", f"file {str(path)!r} does not exist", "resolve2d outputs")
    attrs = dict(load_netcdf_input(path, "resolve2d", "resolve2d outputs").attrs)
    for key in ("case", "packing_sha256", "discharge_c_rate", "discharge_capacity_mAh_g", "air_map"):
        require(key in attrs, "resolve2d", f"{path} lacks attribute {key!r}", "outputs of resolve2d")
    return attrs


def loss_rows(wet: Sequence[str | Path], air: Sequence[str | Path]) -> list[dict]:
    """One row per case (columns :data:`COLUMNS`); InputError when the runs do not pair up."""
    from layerlab.cases import parse_case

    wet_by_case = {a["case"]: a for a in map(_read, wet)}
    rows = []
    for a in map(_read, air):
        w = wet_by_case.get(a["case"])
        if w is None:
            raise InputError("wet", f"no fully wet run of case {a['case']!r}", "one wet run per air-map run")
        require(w["air_map"] == "none", "wet", f"the run of {a['case']} used an air map", "a run without --air-map")
        require(a["air_map"] != "none", "air", f"the run of {a['case']} used no air map", "a run with --air-map")
        require(w["packing_sha256"] == a["packing_sha256"], "air", f"{a['case']}: different packings",
                "both runs on the same packing2d.json")
        require(w["discharge_c_rate"] == a["discharge_c_rate"], "air", f"{a['case']}: different C-rates",
                "both runs at the same C-rate")
        qw, qa = float(w["discharge_capacity_mAh_g"]), float(a["discharge_capacity_mAh_g"])
        rows.append({
            "case": a["case"], "architecture": parse_case(a["case"]).architecture,
            "c_rate": float(a["discharge_c_rate"]), "capacity_wet_mAh_g": qw, "capacity_air_mAh_g": qa,
            "loss_mAh_g": qw - qa, "loss_percent": 100 * (qw - qa) / qw,
            "air_filled_pore_fraction": float(a.get("air_filled_pore_fraction", float("nan"))),
            "dry_disk_volume_fraction": float(a["dry_disk_volume_fraction"]),
            "end_reason_wet": w["discharge_end_reason"], "end_reason_air": a["discharge_end_reason"],
        })
    return rows


def to_csv(rows: list[dict]) -> str:
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in COLUMNS))
    return "\n".join(lines) + "\n"
