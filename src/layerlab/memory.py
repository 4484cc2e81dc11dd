"""Keep freed heap memory in the process, so that repeated large allocations reuse their pages.

MUMPS allocates its factor workspace (~80 MB for a 64k-unknown wetting matrix) afresh in every
numerical factorisation.  glibc serves allocations that large with ``mmap`` and returns them with
``munmap``, so every factorisation touched fresh pages: ~20k minor page faults and 51 ms of system
time per factorisation, a fifth of its CPU time (measured on the L-S campaign mesh, 2026-12-08,
``bench/bench_wetting.py --case``).  :func:`keep_freed_memory` sets ``M_MMAP_MAX = 0`` (large blocks
come from the heap too) and a trim threshold of 2 GiB (freed heap memory is kept up to that),
as the environment variable ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=...``
would.  The arithmetic is unchanged (same results bit for bit); the process keeps its peak memory
until it exits.  Without glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any, Mapping

from layerlab.errors import require

M_TRIM_THRESHOLD = -1     # glibc <malloc.h>
M_MMAP_MAX = -4
TRIM_THRESHOLD_BYTES = 2**31 - 1     # mallopt takes an int


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse (see the module docstring); True where it applied."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):     # not glibc: its mallopt codes may differ
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    trim = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    return bool(mallopt(M_MMAP_MAX, 0) and trim)


def keep_freed_memory_setting(section: Mapping[str, Any], prefix: str) -> bool:
    """``<prefix>.keep_freed_memory`` of a config section (default true), checked to be a boolean
    (InputError naming the field): the stage commands check it with their inputs and call
    :func:`keep_freed_memory` where it is true, once the inputs are checked."""
    keep = section.get("keep_freed_memory", True)
    require(isinstance(keep, bool), f"{prefix}.keep_freed_memory", f"got {keep!r}", "true or false")
    return keep
