"""Atomic file writing, provenance and CF-conventions helpers.

Every output of layerlab is written to a temporary name in the destination folder and renamed
into place, so a killed job never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from layerlab import __version__
from layerlab.errors import InputError

CONVENTIONS = "CF-1.10"
REPO_ROOT = Path(__file__).resolve().parents[2]


def input_path(path: str | os.PathLike) -> Path:
    """A project input file named in a config: absolute, relative to the working directory when it
    exists there, else relative to the project root (so commands also work from other folders)."""
    p = Path(path)
    return p if p.is_absolute() or p.exists() else REPO_ROOT / p


def finite_number(value: Any, field: str, allowed: str = "a finite number") -> float:
    """``value`` as a float if it is a finite number (not a bool); else InputError.  Text that reads
    as a number is one (PyYAML's YAML 1.1 loads ``2.0e5``, without the exponent's sign, as text)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InputError(field, f"got {value!r} (text)", allowed) from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(field, f"got {value!r} ({type(value).__name__})", allowed)
    if not np.isfinite(value):
        raise InputError(field, f"got {value!r}", allowed)
    return float(value)


def read_yaml_mapping(path: str | os.PathLike, field: str, what: str = "a YAML mapping") -> dict[str, Any]:
    """A YAML file that must exist, parse and hold a mapping (InputError naming ``field`` otherwise)."""
    import yaml
    p = Path(path)
    if not p.is_file():
        raise InputError(field, f"file {str(p)!r} does not exist", what)
    try:
        data = yaml.safe_load(p.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(field, f"{str(p)!r} is not valid YAML{at}", what) from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(field, f"{str(p)!r} holds a {type(data).__name__}, not a mapping", what)
    return data


def read_json_input(path: str | os.PathLike, field: str, what: str) -> dict[str, Any]:
    """A JSON object from an input file (InputError when missing, truncated, corrupt or not an object)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(field, f"file {str(p)!r} does not exist", what)
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(field, f"{p.name} is not valid JSON (truncated or corrupt?)", what) from err
    if not isinstance(data, dict):
        raise InputError(field, f"{p.name} holds a JSON {type(data).__name__}, not an object", what)
    return data


def load_netcdf_input(path: str | os.PathLike, field: str, what: str) -> "xarray.Dataset":  # noqa: F821
    """An input netCDF, fully loaded (InputError when missing, truncated or corrupt)."""
    import xarray as xr
    p = Path(path)
    if not p.is_file():
        raise InputError(field, f"file {str(p)!r} does not exist", what)
    try:
        with xr.open_dataset(p, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(field, f"{p.name} is not a readable netCDF file (truncated or corrupt?)", what) from err


def check_output_path(path: str | os.PathLike, field: str, folder: bool = False) -> None:
    """``path`` can be created: its nearest existing ancestor is a writable folder, and it is not a
    folder where a file is wanted.  Checked before any work (nothing is created here)."""
    p = Path(path).absolute()
    if p.is_dir() and not folder:
        raise InputError(field, f"{str(path)!r} is a folder", "a file path")
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(field, f"cannot create {str(path)!r}: {str(anc)!r} is not a folder", "a writable path")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(field, f"cannot create {str(path)!r}: {str(anc)!r} is not writable", "a writable path")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; outputs get the usual mode
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as canonical JSON (sorted keys, fixed float repr) atomically."""
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def git_commit(repo: str | os.PathLike | None = None) -> str:
    """The git commit of the working tree (``+dirty`` when modified), or ``unknown``."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def config_hash(config: Mapping[str, Any]) -> str:
    """A short, stable hash of a configuration mapping."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def provenance(config: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, str]:
    """Global attributes every layerlab file carries (CF ``Conventions``, version, commit, ...)."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    attrs = {
        "Conventions": CONVENTIONS,
        "source": f"layerlab {__version__}",
        "layerlab_version": __version__,
        "git_commit": git_commit(),
        "date_created": now,
        "history": f"{now} created by layerlab {__version__}",
    }
    if config is not None:
        attrs["config_hash"] = config_hash(config)
    attrs.update({k: str(v) for k, v in extra.items()})
    return attrs


def write_netcdf(ds: "xarray.Dataset", path: str | os.PathLike,  # noqa: F821
                 config: Mapping[str, Any] | None = None, **extra: Any) -> None:
    """Write an xarray dataset with provenance attributes, atomically, with h5netcdf.

    Every data variable must carry CF ``units`` and ``long_name`` attributes.
    """
    for name, var in {**ds.data_vars, **ds.coords}.items():
        missing = [a for a in ("units", "long_name") if a not in var.attrs]
        if missing and name in ds.data_vars:
            raise ValueError(f"variable {name!r} lacks CF attributes {missing}")
    ds = ds.copy()
    ds.attrs = {**ds.attrs, **provenance(config, **extra)}
    encoding = {name: {"zlib": True, "complevel": 4} for name, var in ds.data_vars.items()
                if var.dtype.kind in "fiu" and var.ndim > 0}
    # CF 2.5.1: a coordinate variable must not have _FillValue (xarray adds NaN to float ones)
    encoding.update({name: {"_FillValue": None} for name in ds.coords if ds[name].dtype.kind in "fiu"})
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
