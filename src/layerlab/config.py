"""Campaign configuration: JSON-schema validation with defaults, then semantic checks.

The schema is split by section: ``workflow/schemas/config.schema.yaml`` holds the top level and
each ``workflow/schemas/<section>.schema.yaml`` the section of that name, so a stage owns its
own schema file.  Errors name the offending field (dotted path) and what is allowed.

Semantic checks after the schema: every sweep non-empty with known architectures and values in
range; every sweep a stage names exists; every design a geometry-based stage runs (wetting,
resolved 2D / 3D, transport) is in the geometry set that makes its mesh or packing
(``geometry.sweeps2d`` / ``sweeps3d``).
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from layerlab.cases import cases_of, sweep_cases
from layerlab.design import ARCHITECTURES, POROSITY_RANGE, ls_share
from layerlab.errors import InputError
from layerlab.io import REPO_ROOT, read_yaml_mapping

__all__ = ["REPO_ROOT", "load_config", "validate_config", "validate_sections", "read_yaml_mapping"]

SCHEMA_DIR = REPO_ROOT / "workflow" / "schemas"


def load_schema(schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The full config schema: the top level plus one sub-schema per section file."""
    return copy.deepcopy(_load_schema(Path(schema_dir)))


@functools.lru_cache(maxsize=4)
def _load_schema(schema_dir: Path) -> dict[str, Any]:
    top = yaml.safe_load((schema_dir / "config.schema.yaml").read_text())
    for f in sorted(schema_dir.glob("*.schema.yaml")):
        section = f.name.removesuffix(".schema.yaml")
        if section != "config":
            top.setdefault("properties", {})[section] = yaml.safe_load(f.read_text())
            top["properties"][section].setdefault("default", {})
    return top


def _with_defaults(validator_class: type) -> type:
    """A validator that fills in ``default`` values of properties (jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _field(path: Any) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else f".{p}")
    return "".join(parts).lstrip(".") or "config"


def _schema_errors(cfg: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Fill defaults into ``cfg``; raise InputError for its first schema violation."""
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        err = errors[0]
        if err.validator == "required" and isinstance(err.instance, dict):   # name the missing key
            key = next(k for k in err.validator_value if k not in err.instance)
            sub = err.schema.get("properties", {}).get(key, {})
            raise InputError(_field([*err.absolute_path, key]), "missing (required)",
                             sub.get("description", "") if isinstance(sub, dict) else "")
        allowed = err.schema.get("description", "") if isinstance(err.schema, dict) else ""
        raise InputError(_field(err.absolute_path), err.message, allowed)


def check_finite(value: Any, field: str = "config") -> None:
    """Every number in a nested mapping / list must be finite (a NaN passes JSON-schema ranges:
    ``nan < 0`` and ``nan > 0`` are both false): InputError naming the first that is not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(field, f"got {value!r}", "a finite number")
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_finite(v, f"{field}.{k}" if field != "config" else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_finite(v, f"{field}[{i}]")


def validate_config(config: Mapping[str, Any], schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Validate ``config`` and return a copy with defaults filled in.

    Raises
    ------
    InputError
        naming the first offending field and what is allowed.
    """
    if not isinstance(config, Mapping):
        raise InputError("config", f"a {type(config).__name__}, not a mapping", "a YAML mapping of sections")
    cfg = copy.deepcopy(dict(config))
    check_finite(cfg)
    _schema_errors(cfg, load_schema(schema_dir))
    _check_sweeps(cfg)
    _check_geometry_sets(cfg)
    _check_option_sections(cfg)
    return cfg


OPTION_SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("geometry", "packing2d", "layerlab.geometry.packing2d", "Packing2DOptions"),
    ("geometry", "mesh2d", "layerlab.geometry.mesh2d", "Mesh2DOptions"),
    ("geometry", "packing3d", "layerlab.geometry.packing3d", "Packing3DOptions"),
    ("geometry", "mesh3d", "layerlab.geometry.mesh3d", "Mesh3DOptions"),
)
"""Free-form sections (the schema leaves them open) checked by their options dataclass at DAG build:
unknown keys, types, finite numbers, and the dataclass's own range checks."""


def _check_option_sections(cfg: Mapping[str, Any]) -> None:
    import importlib

    from layerlab.errors import options_from_mapping
    for section, key, module, cls in OPTION_SECTIONS:
        values = (cfg.get(section) or {}).get(key)
        if values:
            options_from_mapping(getattr(importlib.import_module(module), cls), values, f"{section}.{key}")


def validate_sections(config: Mapping[str, Any], schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Validate a config subset (a job's settings, :mod:`layerlab.settings`): the sections present
    against their schemas (no section required), finite numbers, the sweeps present; a copy with
    defaults filled in.  The cross-stage checks of :func:`validate_config` ran at DAG build."""
    if not isinstance(config, Mapping):
        raise InputError("settings.config", f"a {type(config).__name__}, not a mapping", "a mapping of sections")
    cfg = copy.deepcopy(dict(config))
    check_finite(cfg)
    schema = dict(load_schema(schema_dir))
    schema.pop("required", None)
    _schema_errors(cfg, schema)
    _check_sweeps(cfg)
    return cfg


def _check_sweeps(cfg: Mapping[str, Any]) -> None:
    lo, hi = POROSITY_RANGE
    for name, sweep in cfg.get("sweeps", {}).items():
        for key in ("architecture", "loading_mg_cm2", "porosity", "ls_ratio"):
            if not sweep.get(key):
                raise InputError(f"sweeps.{name}.{key}", "empty sweep", "a non-empty list")
        for i, arch in enumerate(sweep["architecture"]):
            if arch not in ARCHITECTURES:
                raise InputError(f"sweeps.{name}.architecture[{i}]", f"unknown architecture {arch!r}",
                                 ", ".join(ARCHITECTURES))
        for i, p in enumerate(sweep["porosity"]):
            if not lo < p < hi:
                raise InputError(f"sweeps.{name}.porosity[{i}]", f"got {p!r}", f"({lo}, {hi})")
        for i, m in enumerate(sweep["loading_mg_cm2"]):
            if not m > 0:
                raise InputError(f"sweeps.{name}.loading_mg_cm2[{i}]", f"got {m!r}", "> 0")
        for i, r in enumerate(sweep["ls_ratio"]):
            ls_share(r, field=f"sweeps.{name}.ls_ratio[{i}]")
    # every list-valued key of a stage section named "sweeps*" refers to named sweeps
    for section, spec in cfg.items():
        if not isinstance(spec, dict):
            continue
        for key, names in spec.items():
            if key.startswith("sweeps") and isinstance(names, list):
                for i, s in enumerate(names):
                    if s not in cfg.get("sweeps", {}):
                        raise InputError(f"{section}.{key}[{i}]", f"unknown sweep {s!r}",
                                         ", ".join(cfg.get("sweeps", {})))


# Stage lists whose cases read the geometry stage's outputs, and the geometry list that makes them:
# (section, key, geometry key, what the stage reads).
GEOMETRY_READERS: tuple[tuple[str, str, str, str], ...] = (
    ("wetting", "sweeps", "sweeps2d", "2D pore mesh"),
    ("resolved", "sweeps2d", "sweeps2d", "2D packing"),
    ("transport", "sweeps", "sweeps3d", "3D packing"),
    ("resolved", "sweeps", "sweeps3d", "3D mesh"),
)
_SWEEP_KEYS = (("architecture", str), ("loading_mg_cm2", float), ("porosity", float), ("ls_ratio", ls_share))


def _values(names: list[str], sweeps: Mapping[str, Any], key: str, parse: Any) -> set:
    return {parse(v) for s in names for v in sweeps[s][key]}


def _check_geometry_sets(cfg: Mapping[str, Any]) -> None:
    """Every design a geometry-based stage runs must be among the designs of its geometry list
    (``geometry.sweeps2d`` / ``sweeps3d``): the field named is the stage's sweep entry, the message
    names the sweep's value (e.g. ``sweeps.<name>.porosity[j]``) that the geometry set lacks."""
    sweeps = cfg["sweeps"]
    geometry = cfg.get("geometry", {})
    for section, key, geo_key, what in GEOMETRY_READERS:
        names = list(cfg.get(section, {}).get(key) or [])
        if not names:
            continue
        geo_names = list(geometry.get(geo_key) or [])
        designs = {c.name for c in cases_of(cfg, geo_names)}
        for i, name in enumerate(names):
            missing = [c for c in sweep_cases(sweeps[name]) if c.name not in designs]
            if not missing:
                continue
            if not geo_names:
                raise InputError(f"{section}.{key}[{i}]",
                                 f"sweep {name!r}: geometry.{geo_key} is empty, so no {what} is made for these runs",
                                 f"add {name!r} (or sweeps covering its designs) to geometry.{geo_key}")
            absent = []
            for k, parse in _SWEEP_KEYS:
                have = _values(geo_names, sweeps, k, parse)
                absent += [f"{k.removesuffix('_mg_cm2')} {v} (sweeps.{name}.{k}[{j}])"
                           for j, v in enumerate(sweeps[name][k]) if parse(v) not in have]
            what_lacks = (", ".join(absent) + " not in the geometry set" if absent
                          else f"design {missing[0].name} not in the geometry set")
            have = {k.removesuffix("_mg_cm2"): sorted(_values(geo_names, sweeps, k, parse), key=str)
                    for k, parse in _SWEEP_KEYS}
            raise InputError(
                f"{section}.{key}[{i}]",
                f"sweep {name!r}: {what_lacks} (geometry.{geo_key} makes the {what} these runs read)",
                f"sweeps whose designs geometry.{geo_key} [{', '.join(geo_names)}] covers ("
                + "; ".join(f"{k} {', '.join(f'{v:g}' if isinstance(v, float) else v for v in vs)}"
                            for k, vs in have.items())
                + f"), or add {name!r} to geometry.{geo_key}")


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read a YAML config file, apply shallow ``overrides`` and validate it."""
    cfg = read_yaml_mapping(path, "config", "a YAML config file (a mapping of sections)")
    cfg.update(overrides or {})
    return validate_config(cfg)
