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

CONVENTIONS = "CF-1.10"
REPO_ROOT = Path(__file__).resolve().parents[2]


def input_path(path: str | os.PathLike) -> Path:
    """A project input file named in a config: absolute, relative to the working directory when it
    exists there, else relative to the project root (so commands also work from other folders)."""
    p = Path(path)
    return p if p.is_absolute() or p.exists() else REPO_ROOT / p


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
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
