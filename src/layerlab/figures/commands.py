"""CLI: ``figures`` (every paper comparison as a PNG), ``compare`` (results/comparison.csv), and the
pictures of one case's run files: ``wetting-figure`` (snapshots) and ``section-figure`` (3D packing)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from layerlab.cli import Command
from layerlab.errors import InputError
from layerlab.settings import add_settings_arguments

log = logging.getLogger("layerlab.figures")


def _open_datasets(paths: list[str]) -> dict:
    """The campaign datasets named on the command line (the rule's inputs), by file stem."""
    import xarray as xr

    from layerlab.errors import InputError, require
    out = {}
    for path in map(Path, paths):
        require(path.is_file() and path.suffix == ".nc", "datasets", f"{str(path)!r} is not a netCDF file",
                "results/datasets/<name>.nc files")
        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                out[path.stem] = ds.load()
        except (OSError, ValueError) as err:
            raise InputError("datasets", f"{path} does not open as netCDF ({type(err).__name__})",
                             "a campaign dataset written by layerlab aggregate") from err
    return out


def _targets(args: argparse.Namespace, stage: str) -> dict:
    """The paper's values (``calibration.targets_file`` of the job's settings)."""
    from layerlab.aggregate.comparison import load_targets
    from layerlab.io import input_path
    from layerlab.settings import job_config
    cfg = job_config(args, stage)
    return load_targets(input_path(cfg.get("calibration", {}).get("targets_file",
                                                                  "config/reference/paper_targets.yaml")))


def _add_figures(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--datasets", nargs="+", required=True, help="the campaign datasets (*.nc)")
    p.add_argument("--out-dir", required=True, help="folder for the PNG figures")
    p.add_argument("--only", nargs="*", help="figure names to draw (default: all)")
    p.add_argument("--calibration", default=None,
                   help="calibration summary (residuals.json): its set 'network' is drawn beside the plain design")


def _run_figures(args: argparse.Namespace) -> int:
    from layerlab.figures.catalog import FIGURES, has_data
    from layerlab.figures.plots import save_figure

    targets, datasets = _targets(args, "figures"), _open_datasets(args.datasets)
    datasets["rate_capability_network"] = _network_rate(args.calibration)
    for spec in FIGURES:
        if args.only and spec.name not in args.only:
            continue
        fig = spec.draw(datasets, targets)
        if not has_data(fig):
            log.warning("%s: no model data in the datasets (figure drawn with paper values only)", spec.name)
        save_figure(fig, Path(args.out_dir) / f"{spec.name}.png")
    return 0


NETWORK_SET = "network"
"""The calibration set drawn beside the plain design (issue 12: r_c of the network stage, fitted)."""
BESIDE_SETS = ("electronic", NETWORK_SET)
"""Calibration sets the comparison table shows beside the plain design, where the summary has them
(``electronic``: one uniform composite conductivity, fitted; ``network``: the network stage's r_c)."""


def _set_rates(path: str | None) -> dict:
    """Rate_capability-shaped datasets of the calibration summary's sets of :data:`BESIDE_SETS` (by
    name; the set "network" must be there; no path: none)."""
    import json

    from layerlab.aggregate.comparison import calibration_capacities, capacity_dataset
    from layerlab.errors import require
    if path is None:
        return {}
    try:
        summary = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError("calibration", f"{path!r} is not a readable JSON file ({type(err).__name__})",
                         "the residuals.json the calibrate rule writes") from err
    caps = {name: calibration_capacities(summary, name) for name in BESIDE_SETS}
    require(caps[NETWORK_SET] is not None, "calibration", f"{path!r} has no set {NETWORK_SET!r}",
            f"a calibration whose calibration.sets include {NETWORK_SET!r}")
    return {name: capacity_dataset(c) if c else None for name, c in caps.items() if c is not None}


def _network_rate(path: str | None):
    """A rate_capability-shaped dataset of the calibration summary's set "network" (no path: None)."""
    return _set_rates(path).get(NETWORK_SET)


def _add_compare(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--datasets", nargs="+", required=True, help="the campaign datasets (*.nc)")
    p.add_argument("--out", required=True, help="comparison CSV path")
    p.add_argument("--calibration", default=None,
                   help="calibration summary (residuals.json): its sets 'electronic' (if there) and 'network' "
                        "are shown beside the plain design")


def _run_compare(args: argparse.Namespace) -> int:
    from layerlab.aggregate.comparison import build_rows, rate_rows, rows_to_csv
    from layerlab.io import write_text_atomic

    targets = _targets(args, "compare")
    datasets = _open_datasets(args.datasets)
    beside = {name: rate_rows(ds, targets) for name, ds in _set_rates(args.calibration).items()}
    rows = build_rows(datasets, targets)
    write_text_atomic(args.out, rows_to_csv(rows, beside))
    held = sum(r.holds == "yes" for r in rows)
    tested = sum(r.holds in ("yes", "no") for r in rows)
    log.info("comparison: %d rows; orderings holding: %d of %d evaluated", len(rows), held, tested)
    for name, other in beside.items():
        log.info("comparison, %s beside: orderings holding: %d of %d evaluated", name,
                 sum(r.holds == "yes" for r in other if r.kind == "ordering"),
                 sum(r.holds in ("yes", "no") for r in other if r.kind == "ordering"))
    return 0


def _add_wetting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", required=True, help="a wetting run, results/runs/wetting/CASE.nc")
    p.add_argument("--out", required=True, help="PNG path")


def _run_wetting(args: argparse.Namespace) -> int:
    from layerlab.errors import require
    from layerlab.figures.pictures import wetting_snapshots
    from layerlab.figures.plots import save_figure
    from layerlab.io import load_netcdf_input

    run = load_netcdf_input(args.run, "run", "a wetting run written by layerlab wet")
    for var in ("map_x", "map_y", "air_map"):
        require(var in run, "run", f"{args.run} has no {var!r}", "a wetting run written by layerlab wet")
    save_figure(wetting_snapshots(run, Path(args.run).stem), args.out)
    return 0


def _add_section(p: argparse.ArgumentParser) -> None:
    p.add_argument("--packing", required=True, help="a 3D packing, results/geometry/CASE/packing3d.json")
    p.add_argument("--out", required=True, help="PNG path")


def _run_section(args: argparse.Namespace) -> int:
    from layerlab.figures.pictures import microstructure_section
    from layerlab.figures.plots import save_figure
    from layerlab.geometry.packing3d import load_packing3d

    save_figure(microstructure_section(load_packing3d(args.packing)), args.out)
    return 0


COMMANDS = {
    "figures": Command("draw every paper comparison from the campaign datasets", _add_figures, _run_figures),
    "compare": Command("write the paper-vs-model comparison table (CSV)", _add_compare, _run_compare),
    "wetting-figure": Command("draw a wetting run's snapshots: electrolyte, air, particles", _add_wetting,
                              _run_wetting),
    "section-figure": Command("draw a cross-section of a 3D packing", _add_section, _run_section),
}
