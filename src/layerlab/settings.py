"""Per-job settings: the contract between the Snakemake rules and the stage commands.

A rule never hands a command the path of a config file.  From the merged, validated config that
Snakemake holds (``--configfile base.yaml override.yaml``, ``--config key=value`` included) it
computes exactly what its job reads:

* the config subset of the job's stage (:data:`STAGES`): the sections / dotted keys the command
  reads, without the stage's ``sweeps*`` lists (the other cases; the job's own case is its
  wildcard) and without resource keys that do not change a result (MPI ranks);
* the sha256 of every parameter / materials file it reads (``files``: dotted keys whose value is a
  path).

:func:`job_settings` returns them as one canonical JSON string; the rule passes it as ``params``
(Snakemake's params trigger then reruns exactly the jobs whose settings changed: a changed C-rate,
a changed solid diffusivity in the parameter file, an override file) and declares the files as
inputs (:func:`job_files`).  The command reads its config from that string
(:func:`job_config`): never from a config file, never by globbing.

Converting a rule (one line each; ``common.smk`` defines ``settings`` and ``setting_files``)::

    # STAGES["network"] = StageSettings(keys=("network", "materials"), files=("materials",))
    rule network:
        input:
            ..., settings_files=setting_files("network"),
        params:
            settings=settings("network"),
        shell:
            "python -m layerlab --log {log} network --settings {params.settings:q} --case {wildcards.case} ..."

and its command: ``add_settings_arguments(parser)`` instead of ``--config``, and
``config = job_config(args, "network")`` instead of ``load_config(args.config)``.  By hand,
``--config config/config.yaml`` still works (the same subset is taken from the validated file).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Union

from layerlab.errors import InputError, require
from layerlab.io import input_path

__all__ = ["StageSettings", "STAGES", "stage_subset", "job_settings", "job_files", "job_config",
           "add_settings_arguments", "sha256_file"]

Keys = Union[tuple[str, ...], Callable[[Mapping[str, Any], Mapping[str, str]], tuple[str, ...]]]


@dataclass(frozen=True)
class StageSettings:
    """What one stage's command reads from the config.

    Parameters
    ----------
    keys : top-level sections or dotted keys read (or a function ``(config, wildcards) -> keys``);
        a whole section loses its ``sweeps*`` lists
    files : dotted keys whose (string) value is a file the command reads: hashed and declared
    drop : dotted keys inside ``keys`` that do not change a result (resources)
    narrow : ``(subset, wildcards) -> subset``: what of a list the job reads (e.g. one calibration set)
    """

    keys: Keys
    files: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    case: bool = field(default=True)
    narrow: Callable[[dict[str, Any], Mapping[str, str]], dict[str, Any]] | None = None


DESIGN_KEYS = ("materials", "band_width_um")
"""What ``Case.design(config)`` reads besides the case name."""


def _electrochem_keys(extra: tuple[str, ...]) -> Callable[[Mapping[str, Any], Mapping[str, str]], tuple[str, ...]]:
    """The DFN input of a case (+ ``extra``); stage-reading mechanisms add the run folder and seeds."""
    def keys(config: Mapping[str, Any], wildcards: Mapping[str, str]) -> tuple[str, ...]:
        active = set((config.get("mechanisms") or {}).get("active") or [])
        runs = ("results_dir", "geometry.seeds") if active & {"wetting", "transport"} else ()
        mechanisms = tuple(f"mechanisms.{m}" for m in sorted(active))   # inactive ones are not read
        return ("electrochem", "mechanisms.active", *mechanisms, *DESIGN_KEYS, *runs, *extra)
    return keys


def _calibration_keys(config: Mapping[str, Any], wildcards: Mapping[str, str]) -> tuple[str, ...]:
    # the sets switch mechanisms on themselves: the run folders and seeds are always read; the sets of
    # calibration.campaign_runs also run the electrochem campaign's cases (its sweeps); a per-set job
    # (wildcard mset) of another set does not read them
    mset = wildcards.get("mset")
    runs_campaign = mset is None or mset in ((config.get("calibration") or {}).get("campaign_runs") or [])
    sweeps = (config.get("electrochem") or {}).get("sweeps") or []
    campaign = ("electrochem.sweeps", *(f"sweeps.{n}" for n in sweeps)) if runs_campaign else ()
    return ("calibration", "electrochem", "mechanisms", *DESIGN_KEYS, "results_dir", "geometry.seeds", *campaign)


def _dataset_keys(config: Mapping[str, Any], wildcards: Mapping[str, str]) -> tuple[str, ...]:
    """A dataset reads the case lists of its sources (their sweeps) and the run folder."""
    from layerlab.aggregate.datasets import DATASETS
    spec = DATASETS.get(wildcards.get("dataset", ""))
    if spec is None:
        raise InputError("dataset", f"unknown dataset {wildcards.get('dataset')!r}", ", ".join(DATASETS))
    keys = ["results_dir"]
    for src in spec.sources:
        names = (config.get(src.section) or {}).get("sweeps") or []
        keys += [f"{src.section}.sweeps", *(f"sweeps.{n}" for n in names)]
        if src.seeded:
            keys.append("geometry.seeds")
    return tuple(dict.fromkeys(keys))


def _one_calibration_set(subset: dict[str, Any], wildcards: Mapping[str, str]) -> dict[str, Any]:
    """A per-set calibration job reads its own entry of ``calibration.sets`` (wildcard ``mset``)."""
    name = wildcards.get("mset")
    sets = (subset.get("calibration") or {}).get("sets") or []
    chosen = [s for s in sets if isinstance(s, Mapping) and s.get("name") == name]
    require(len(chosen) == 1, "calibration.sets", f"no set named {name!r}",
            ", ".join(str(s.get("name")) for s in sets if isinstance(s, Mapping)) or "a configured set")
    subset["calibration"]["sets"] = chosen
    return subset


_DFN_FILES = ("electrochem.parameters", "electrochem.tortuosity", "materials")
_PROTOCOL_RATES = ("electrochem.protocol.c_rates", "electrochem.protocol.charge", "electrochem.protocol.cv",
                   "electrochem.protocol.charge_c_rate", "electrochem.protocol.cv_end_c_rate",
                   "electrochem.protocol.rest_s")

STAGES: dict[str, StageSettings] = {
    "pack2d": StageSettings(("geometry.packing2d", *DESIGN_KEYS), ("materials",)),
    "mesh2d": StageSettings(("geometry.mesh2d",), case=False),
    "pack3d": StageSettings(("geometry.packing3d", *DESIGN_KEYS), ("materials",)),
    "mesh3d": StageSettings(("geometry.mesh3d", "materials"), ("materials",), drop=("geometry.mesh3d.enabled",),
                            case=False),
    "wet": StageSettings(("wetting",), drop=("wetting.tasks", "wetting.seeds")),  # seeds: a list of cases
    "transport": StageSettings(("transport",)),
    "network": StageSettings(("network", "materials"), ("materials",)),
    # the falsification table: network runs via the mechanism, DFN linearised at rest (protocol window only)
    "mechanism_check": StageSettings(("mechanism_check", "mechanisms.electronic", "electrochem", "impedance",
                                      *DESIGN_KEYS, "results_dir", "geometry.seeds"),
                                     ("electrochem.parameters", "materials"),
                                     drop=(*_PROTOCOL_RATES, "electrochem.tortuosity", "mechanism_check.enabled"),
                                     case=False),
    "dfn": StageSettings(_electrochem_keys(()), _DFN_FILES),
    # the spectrum is taken at rest: only the protocol's voltage window is read
    "impedance": StageSettings(_electrochem_keys(("impedance",)), _DFN_FILES, drop=_PROTOCOL_RATES),
    "fullcell": StageSettings(_electrochem_keys(("fullcell",)), (*_DFN_FILES, "fullcell.anode_parameters")),
    "calibrate": StageSettings(_calibration_keys, ("calibration.targets_file", *_DFN_FILES), case=False),
    # one mechanism set's fit (wildcard mset): the other sets are not its settings
    "calibrate_set": StageSettings(_calibration_keys, ("calibration.targets_file", *_DFN_FILES), case=False,
                                   narrow=_one_calibration_set),
    "resolve3d": StageSettings(("resolved", "materials"), ("resolved.parameters", "materials"),
                               drop=("resolved.ranks", "resolved.section2d", "resolved.campaign3d")),
    "resolve2d": StageSettings(("resolved", "materials"), ("resolved.parameters", "materials"),
                               drop=("resolved.ranks", "resolved.campaign3d")),
    "aggregate": StageSettings(_dataset_keys, case=False),
    "figures": StageSettings(("calibration.targets_file",), ("calibration.targets_file",), case=False),
    "compare": StageSettings(("calibration.targets_file",), ("calibration.targets_file",), case=False),
}
"""Each command's reads.  A new stage adds one entry here."""


def _stage(name: str) -> StageSettings:
    if name not in STAGES:
        raise InputError("settings.stage", f"unknown stage {name!r}", ", ".join(STAGES))
    return STAGES[name]


def _get(config: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    node = out
    for part in head:
        node = node.setdefault(part, {})
    node[last] = copy.deepcopy(value)


def _pop(out: dict[str, Any], dotted: str) -> None:
    *head, last = dotted.split(".")
    node: Any = out
    for part in head:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def _keys(spec: StageSettings, config: Mapping[str, Any], wildcards: Mapping[str, str]) -> tuple[str, ...]:
    return spec.keys(config, wildcards) if callable(spec.keys) else spec.keys


def stage_subset(config: Mapping[str, Any], stage: str, wildcards: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The part of ``config`` that ``stage``'s command reads (see :class:`StageSettings`)."""
    spec, wildcards = _stage(stage), dict(wildcards or {})
    out: dict[str, Any] = {}
    for key in _keys(spec, config, wildcards):
        found, value = _get(config, key)
        if not found:
            continue
        if "." not in key and isinstance(value, Mapping):   # a whole section: not the other cases
            value = {k: v for k, v in value.items() if not k.startswith("sweeps")}
        _put(out, key, value)
    for key in spec.drop:
        _pop(out, key)
    return spec.narrow(out, wildcards) if spec.narrow else out


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(spec: StageSettings, config: Mapping[str, Any]) -> dict[str, str]:
    """Dotted key -> path of each file the stage reads (keys absent or not a path: none)."""
    out = {}
    for key in spec.files:
        found, value = _get(config, key)
        if found and isinstance(value, str) and value and not value.startswith("pybamm:"):   # a set name: no file
            out[key] = value
    return out


def _pybamm_sets(spec: StageSettings, config: Mapping[str, Any]) -> bool:
    """True when a file key of the stage names a PyBaMM parameter set (``pybamm:<SetName>``)."""
    return any(isinstance(v, str) and v.startswith("pybamm:")
               for v in (_get(config, key)[1] for key in spec.files if _get(config, key)[0]))


def job_files(config: Mapping[str, Any], stage: str, wildcards: Mapping[str, str] | None = None) -> list[str]:
    """The files a job of ``stage`` reads, as the rule's declared inputs (found as the commands find
    them: :func:`layerlab.io.input_path`, the working directory first, then the project root)."""
    return sorted({str(input_path(p)) for p in _files(_stage(stage), config).values()})


_HASHES: dict[tuple[str, int, int], str] = {}


def _hash(key: str, path: str) -> str:
    """sha256 of a settings file, computed once per (path, size, mtime) in this process (the DAG
    build asks for the same few files once per job)."""
    p = input_path(path)
    require(p.is_file(), key, f"file {path!r} does not exist", "an existing file")
    st = p.stat()
    stamp = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if stamp not in _HASHES:
        _HASHES[stamp] = sha256_file(p)
    return _HASHES[stamp]


def job_settings(config: Mapping[str, Any], stage: str, wildcards: Mapping[str, str] | None = None) -> str:
    """The settings of one job as canonical JSON: ``{stage, case, config, files: {key: {path, sha256}}}``."""
    spec, wildcards = _stage(stage), dict(wildcards or {})
    files = {k: {"path": p, "sha256": _hash(k, p)} for k, p in _files(spec, config).items()}
    doc = {"stage": stage, "config": stage_subset(config, stage, wildcards), "files": files}
    if _pybamm_sets(spec, config):   # a PyBaMM set by name: its values are those of the installed PyBaMM
        from importlib.metadata import version
        doc["pybamm_version"] = version("pybamm")
    if spec.case and "case" in wildcards:
        doc["case"] = wildcards["case"]
    try:
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as err:  # a non-finite number the schema let through
        raise InputError(f"{stage} settings", f"non-finite number ({err})", "finite numbers") from err


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    """``--settings JSON`` (what the rules pass) or ``--config YAML`` (by hand), one of them."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--settings", help="the job's settings (JSON, as the workflow's rule passes them; "
                                      "@FILE reads them from a file)")
    g.add_argument("--config", help="campaign config YAML (by hand: the job's settings are taken from it)")


def _parse(text: str) -> Mapping[str, Any]:
    if text.startswith("@"):
        path = Path(text[1:])
        require(path.is_file(), "settings", f"file {str(path)!r} does not exist", "a settings JSON file")
        text = path.read_text()
    try:
        doc = json.loads(text)   # NaN / Infinity parse to floats: validate_sections names their field
    except json.JSONDecodeError as err:
        raise InputError("settings", f"not JSON ({err.msg} at character {err.pos})",
                         "the settings JSON a workflow rule passes") from err
    require(isinstance(doc, dict), "settings", f"a JSON {type(doc).__name__}, not an object",
            "a JSON object {stage, config, files}")
    return doc


def job_config(args: argparse.Namespace, stage: str) -> dict[str, Any]:
    """The validated config subset a command works with, from ``--settings`` or ``--config``.

    ``--settings``: the stage must match, the case (when the command has ``--case``) too, and each
    file must still have the content the workflow planned with (sha256).  Then the subset is
    validated against the schema (types, ranges, finite numbers) like a full config.
    """
    from layerlab.config import load_config, validate_sections
    case = getattr(args, "case", None)
    wildcards = {k: getattr(args, k) for k in ("case", "dataset", "mset") if getattr(args, k, None) is not None}
    if getattr(args, "settings", None) is None:
        return stage_subset(load_config(args.config), stage, wildcards)
    doc = _parse(args.settings)
    require(doc.get("stage") == stage, "settings.stage", f"got {doc.get('stage')!r}", f"{stage!r} (this command)")
    cfg = doc.get("config")
    require(isinstance(cfg, dict), "settings.config", f"got {type(cfg).__name__}", "a JSON object")
    if case is not None and "case" in doc:
        require(doc["case"] == case, "settings.case", f"settings of {doc['case']!r}", f"those of --case {case}")
    files = doc.get("files") or {}
    require(isinstance(files, dict), "settings.files", f"got {type(files).__name__}", "a JSON object")
    for key, entry in files.items():
        require(isinstance(entry, dict) and isinstance(entry.get("path"), str), f"settings.files.{key}",
                "no path", "{path, sha256}")
        found, value = _get(cfg, key)
        require(found and value == entry["path"], f"settings.files.{key}", f"path {entry['path']!r}",
                f"the path of config key {key}")
        got = _hash(key, entry["path"])
        require(got == entry.get("sha256"), key, f"{entry['path']} changed since the workflow planned this job "
                f"(sha256 {got[:12]}, planned {str(entry.get('sha256'))[:12]})", "rerun snakemake")
    return stage_subset(validate_sections(cfg), stage, wildcards)

