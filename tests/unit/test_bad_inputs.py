"""Bad input is one InputError (exit 2) naming the field, before any work, nothing written (issue 14).

Property-based (hypothesis, fixed seed): valid inputs mutated one value at a time.  Classes covered:

* config at DAG build (``validate_config``, what the Snakefile runs): a number made NaN / +-inf,
  text, a list, a mapping or a bool; a list made a scalar; a bool made text; a value pushed out of
  its schema range; a required key removed;
* a job's settings in the command (``--settings``, validated again in the command): the same value
  mutations inside the JSON the rule passes;
* parameter files (``electrochem.parameters``) and the materials file, read by the commands: a value
  made NaN / +-inf / text / a list, a ``value`` or a section removed, text that is not YAML, YAML
  that is not a mapping;

and, example-based: corrupt / truncated JSON, netCDF and gmsh inputs, and outputs that cannot be
created.  The commands run in-process (``layerlab.cli.main``); the work they would start is
replaced by a function that fails the test, so a mutation that were accepted could not pass.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlab.cli import EXIT_INPUT_ERROR, main
from layerlab.config import load_schema, validate_config
from layerlab.errors import InputError
from layerlab.settings import job_settings

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
PARAMETERS = yaml.safe_load((REPO / "config" / "parameters" / "dfn_nmc83.yaml").read_text())
MATERIALS = yaml.safe_load((REPO / "config" / "parameters" / "materials.yaml").read_text())
CASE = "L-Dry-S_load29.6_por0.55_ls0.5"
SEEDED_CASE = CASE + "_seed0"
HYPOTHESIS = dict(derandomize=True, database=None, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_counter = itertools.count()


def _leaves(node: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of every scalar and list in a nested mapping (list items included)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        out.append((path, node))
        for i, v in enumerate(node):
            out += _leaves(v, (*path, i))
    else:
        out.append((path, node))
    return out


def _dotted(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _set(doc: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _schema_node(schema: dict, path: tuple) -> dict:
    """The sub-schema of a config path (properties / additionalProperties / items)."""
    node = schema
    for p in path:
        if isinstance(p, int):
            node = node.get("items", {})
        elif p in node.get("properties", {}):
            node = node["properties"][p]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return node


SCHEMA = load_schema()
BAD_FOR_NUMBER = [math.nan, math.inf, -math.inf, "abc", [1.0], {"x": 1.0}, True]


def _value_mutations(doc: dict, schema: dict | None) -> list[tuple[tuple, Any]]:
    """(path, bad value) pairs that no valid input has: wrong type, non-finite, out of range."""
    out: list[tuple[tuple, Any]] = []
    for path, value in _leaves(doc):
        if not path:
            continue
        if _is_number(value):
            out += [(path, bad) for bad in BAD_FOR_NUMBER]
            node = _schema_node(schema, path) if schema else {}
            for key, step in (("minimum", -1.0), ("exclusiveMinimum", 0.0), ("maximum", 1.0),
                              ("exclusiveMaximum", 0.0)):
                if _is_number(node.get(key)):
                    bound = node[key]
                    out.append((path, bound + step * max(1.0, abs(bound)) if step else bound))
        elif isinstance(value, bool):
            out += [(path, "yes"), (path, 2.5)]
        elif isinstance(value, list) and value and all(_is_number(v) for v in value):
            out += [(path, 1.0), (path, "abc")]
    return out


CONFIG_MUTATIONS = _value_mutations(CONFIG, SCHEMA)
REQUIRED_REMOVALS = [("sweeps",)] + [("sweeps", name, key) for name in CONFIG["sweeps"]
                                     for key in ("architecture", "loading_mg_cm2", "porosity", "ls_ratio")]


def _related(field: str, path: tuple) -> bool:
    """The error names the mutated value (or, for a value out of a sweep, the sweep)."""
    dotted = _dotted(path)
    return field == dotted or field.startswith(dotted) or dotted.startswith(field)


@settings(max_examples=200, **HYPOTHESIS)
@given(st.one_of(st.sampled_from(CONFIG_MUTATIONS).map(lambda m: ("set", *m)),
                 st.sampled_from(REQUIRED_REMOVALS).map(lambda p: ("remove", p, None))))
def test_mutated_config_fails_at_dag_build(mutation) -> None:
    kind, path, bad = mutation
    cfg = copy.deepcopy(CONFIG)
    if kind == "set":
        _set(cfg, path, bad)
    else:
        parent = cfg
        for p in path[:-1]:
            parent = parent[p]
        del parent[path[-1]]
    with pytest.raises(InputError) as err:
        validate_config(cfg)
    assert "\n" not in str(err.value)
    assert _related(err.value.field, path), (err.value.field, path, bad)


# ---- the commands -----------------------------------------------------------------------------
def _forbid_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work each command would start: reaching it means a bad input was accepted."""
    import layerlab.electrochem.dfn as dfn
    import layerlab.geometry.packing2d as packing2d
    import layerlab.wetting.case as wetting_case

    def boom(*args, **kwargs):
        raise AssertionError("work started on a bad input")
    monkeypatch.setattr(dfn, "DFNModel", boom)
    monkeypatch.setattr(packing2d, "pack2d", boom)
    monkeypatch.setattr(wetting_case, "run_case", boom)


@pytest.fixture(autouse=True)
def _no_stale_log_handlers():
    """main() logs to the stderr of its call; drop that handler after each test (capsys closes it)."""
    yield
    logging.getLogger().handlers.clear()


def _exit_2(capsys, out: Path, *argv: str) -> str:
    """Run one command in-process: exit 2, nothing written, no traceback, one error line; that line."""
    rc = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == EXIT_INPUT_ERROR, err
    assert not out.exists() and not any(out.parent.iterdir())
    assert not any("Traceback" in line for line in err), err
    lines = [line for line in err if line.startswith(f"layerlab {argv[0]}: error: ")]
    assert len(lines) == 1, err
    return lines[0]


def _fresh(root: Path) -> Path:
    d = root / f"case{next(_counter)}"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad_inputs")


COMMANDS = {  # stage -> (command, case, config)
    "dfn": ("dfn", CASE), "impedance": ("impedance", CASE), "fullcell": ("fullcell", CASE),
    "wet": ("wet", SEEDED_CASE), "pack2d": ("pack2d", SEEDED_CASE),
}
VALID = validate_config(CONFIG)
SETTINGS = {stage: json.loads(job_settings(VALID, stage, {"case": case}))
            for stage, (_, case) in COMMANDS.items()}
SETTINGS_MUTATIONS = [(stage, path, bad) for stage, doc in SETTINGS.items()
                      for path, bad in _value_mutations(doc["config"], SCHEMA)
                      if not isinstance(bad, bool) or path[-1] != "enabled"]


def _extra_args(stage: str, d: Path) -> list[str]:
    if stage == "wet":
        return ["--mesh", str(d / "missing.msh"), "--packing", str(d / "missing.json")]
    return []


@settings(max_examples=80, **HYPOTHESIS)
@given(st.sampled_from(SETTINGS_MUTATIONS))
def test_mutated_settings_fail_in_the_command(root: Path, capsys, monkeypatch, mutation) -> None:
    stage, path, bad = mutation
    _forbid_work(monkeypatch)
    doc = copy.deepcopy(SETTINGS[stage])
    _set(doc["config"], path, bad)
    d = _fresh(root)
    out = d / "out" / "result.nc"
    (d / "out").mkdir()
    command, case = COMMANDS[stage]
    line = _exit_2(capsys, out, command, "--settings", json.dumps(doc), "--case", case, "--out", str(out),
                   *_extra_args(stage, d))
    assert f"error: {_dotted(path)}" in line or f"error: {_dotted(path[:-1])}" in line, (line, path, bad)


def _file_mutations(doc: dict, required_sections: list[str], optional: set[tuple]) -> list[tuple[str, tuple, Any]]:
    """Numbers made NaN / +-inf / text / a list; a ``value`` removed; a parameter (unless
    ``optional``) or a required section removed."""
    out = [("set", p, b) for p, v in _leaves(doc) if p and _is_number(v)
           for b in (math.nan, math.inf, -math.inf, "abc", [1.0])]
    out += [("remove", p, None) for p, v in _leaves(doc) if p and p[-1] == "value"]
    out += [("remove", p[:-1], None) for p, v in _leaves(doc) if p and p[-1] == "value" and p[:-1] not in optional]
    out += [("remove", (s,), None) for s in required_sections]
    return out


def _optional_parameters() -> set[tuple]:
    from layerlab.electrochem.parameters import _OPTIONAL
    return {(section, key) for section, keys in _OPTIONAL.items() for key in keys}


PARAMETER_MUTATIONS = _file_mutations(PARAMETERS, ["positive", "electrolyte", "counter", "separator"],
                                      _optional_parameters())
MATERIALS_UNREAD = ("crystallographic_density_kg_m3",)   # stated in the file for reference, not read
MATERIALS_MUTATIONS = [m for m in _file_mutations(MATERIALS, [k for k, v in MATERIALS.items() if isinstance(v, dict)],
                                                  set()) if not set(m[1]) & set(MATERIALS_UNREAD)]
WHOLE_FILE = [("text", "positive: {diffusivity_m2_s: [1, 2\n"), ("text", "- just\n- a list\n"),
              ("text", "42\n"), ("text", "\x00\x01binary")]


def _mutated_file(doc: dict, mutation) -> str:
    kind, path, bad = mutation
    if kind == "text":
        return path
    doc = copy.deepcopy(doc)
    if kind == "set":
        _set(doc, path, bad)
    else:
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        del parent[path[-1]]
    return yaml.safe_dump(doc)


@settings(max_examples=60, **HYPOTHESIS)
@given(st.one_of(st.sampled_from(PARAMETER_MUTATIONS),
                 st.sampled_from(WHOLE_FILE).map(lambda t: (t[0], t[1], None))))
def test_mutated_parameter_file_fails_in_the_command(root: Path, capsys, monkeypatch, mutation) -> None:
    _forbid_work(monkeypatch)
    d = _fresh(root)
    (d / "params.yaml").write_text(_mutated_file(PARAMETERS, mutation))
    cfg = copy.deepcopy(CONFIG)
    cfg["electrochem"]["parameters"] = str(d / "params.yaml")
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    out = d / "out" / "result.nc"
    (d / "out").mkdir()
    line = _exit_2(capsys, out, "dfn", "--config", str(d / "config.yaml"), "--case", CASE, "--out", str(out))
    assert "error: parameters." in line or "error: electrochem.parameters" in line, (line, mutation)


@settings(max_examples=60, **HYPOTHESIS)
@given(st.one_of(st.sampled_from(MATERIALS_MUTATIONS),
                 st.sampled_from(WHOLE_FILE).map(lambda t: (t[0], t[1], None))))
def test_mutated_materials_file_fails_in_the_command(root: Path, capsys, monkeypatch, mutation) -> None:
    _forbid_work(monkeypatch)
    d = _fresh(root)
    (d / "materials.yaml").write_text(_mutated_file(MATERIALS, mutation))
    cfg = copy.deepcopy(CONFIG)
    cfg["materials"] = str(d / "materials.yaml")
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    out = d / "out" / "packing2d.json"
    (d / "out").mkdir()
    line = _exit_2(capsys, out, "pack2d", "--config", str(d / "config.yaml"), "--case", SEEDED_CASE,
                   "--out", str(out))
    assert "error: materials" in line, (line, mutation)


# ---- corrupt input files and outputs that cannot be written --------------------------------------
def _packing3d(d: Path) -> Path:
    """A packing-shaped JSON (only its syntax matters here)."""
    path = d / "packing3d.json"
    path.write_text(json.dumps({"case": "Mix_load22_por0.55_ls0.5_seed0", "box_m": [5e-5, 5e-5, 1e-4],
                                "sphere_x_m": [i * 1e-6 for i in range(50)]}))
    return path


def _truncated(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.mark.parametrize("corruption", ["truncated", "garbage", "list"])
def test_corrupt_packing_json(root: Path, capsys, corruption: str) -> None:
    d = _fresh(root)
    good = _packing3d(d)
    bad = d / "bad.json"
    if corruption == "truncated":
        _truncated(good, bad)
    elif corruption == "garbage":
        bad.write_bytes(b"\xff\xfe\x00garbage")
    else:
        bad.write_text("[1, 2, 3]")
    out = d / "out" / "t.nc"
    (d / "out").mkdir()
    line = _exit_2(capsys, out, "transport", "--config", str(REPO / "config" / "config.yaml"),
                   "--case", "Mix_load22_por0.55_ls0.5_seed0", "--packing", str(bad), "--out", str(out))
    assert "error: packing" in line


def test_corrupt_run_netcdf_in_aggregate(root: Path, capsys, tmp_path: Path) -> None:
    """A truncated per-run file stops the aggregation with the file named."""
    import numpy as np
    import xarray as xr

    from layerlab.io import write_netcdf
    d = _fresh(root)
    cfg = copy.deepcopy(CONFIG)
    cfg["results_dir"] = str(d / "results")
    cfg["impedance"]["sweeps"] = ["impedance_figS10"]
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    runs = d / "results" / "runs" / "impedance"
    runs.mkdir(parents=True)
    ds = xr.Dataset({"impedance_real": (("frequency",), np.ones(50), {"units": "ohm m2", "long_name": "Z'"})})
    write_netcdf(ds, runs / "whole.nc")
    _truncated(runs / "whole.nc", runs / f"{CASE}.nc")
    out = d / "out" / "impedance.nc"
    (d / "out").mkdir()
    line = _exit_2(capsys, out, "aggregate", "--config", str(d / "config.yaml"), "--dataset", "impedance",
                   "--out", str(out))
    assert "error: runs" in line and CASE in line


@pytest.mark.parametrize("corruption", ["truncated", "not-gmsh"])
def test_corrupt_gmsh_mesh(root: Path, capsys, corruption: str) -> None:
    from layerlab.geometry.readmesh import check_msh_file
    d = _fresh(root)
    bad = d / "mesh.msh"
    if corruption == "truncated":
        bad.write_text("$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Entities\n1 0 0 0\n1 0 0")
    else:
        bad.write_text("solid cube\nendsolid\n")
    with pytest.raises(InputError) as err:
        check_msh_file(bad)
    assert err.value.field == "mesh"


@pytest.mark.parametrize("where", ["under-a-file", "a-folder", "read-only"])
def test_output_that_cannot_be_created(root: Path, capsys, monkeypatch, where: str) -> None:
    _forbid_work(monkeypatch)
    d = _fresh(root)
    (d / "out").mkdir()
    (d / "file.txt").write_text("x")
    target = {"under-a-file": d / "file.txt" / "p.json", "a-folder": d / "out",
              "read-only": d / "ro" / "sub" / "p.json"}[where]
    if where == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (d / "ro").mkdir(mode=0o500)
    line = _exit_2(capsys, d / "out" / "unused", "pack2d", "--config", str(REPO / "config" / "config.yaml"),
                   "--case", SEEDED_CASE, "--out", str(target))
    assert "error: --out" in line
