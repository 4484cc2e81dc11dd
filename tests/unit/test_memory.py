"""layerlab.memory: after keep_freed_memory, a freed large block is reused without fresh page faults
(what MUMPS's per-factorisation workspace cost: ~20k minor faults per factorisation)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

SCRIPT = """
import json, resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from layerlab.memory import keep_freed_memory
    assert keep_freed_memory()
faults = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(64 * 2**20 // 8)          # 64 MiB, touched
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del block
print(json.dumps(faults))
"""


def _faults(mode: str) -> list[int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_block_is_reused_without_page_faults() -> None:
    plain, kept = _faults("plain"), _faults("keep")
    assert min(plain) > 0 and min(plain[1:]) > 0.5 * plain[0]       # glibc default: mmap, fresh pages each time
    assert kept[0] > 0 and max(kept[1:]) < 0.05 * kept[0]            # kept: the same pages again
