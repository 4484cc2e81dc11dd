"""The DFN Jacobian factorised on its structural nonzeros only (serial fast path of the Newton solve).

The blocked P1 space couples every component of neighbouring nodes, so the matrix dolfinx creates
for it (SeqBAIJ, block size = components per node) stores ``(2 x ncomp)^2`` entries per cell; the
DFN's Jacobian has ~4 % of them nonzero (measured: 4.0e3 of 1.0e5 on the benchmark electrode:
particle shells couple only to their neighbours, the surface to c_e, phi_e and phi_s).  PETSc's
block LU spends its time on those zeros (~0.5 ms of a ~0.7 ms Jacobian update there).

Here dolfinx still assembles the Jacobian into its block matrix (fast: whole blocks copied), and
the structural entries are gathered from the block matrix's value array (read in place through
``MatSeqBAIJGetArray``; petsc4py has no accessor for it) into an AIJ matrix that holds only them,
which SNES factorises.  Where that symbol cannot be found, ``MatGetValuesCSR`` (a copy) is used.

The pattern is the union of the nonzeros at two random states with every control switched on
(Robin condition, BDF constants, current) plus the diagonal (Dirichlet rows): entries zero there
are zero by structure (masked particles, unconnected components), not by value.  The values are
the same numbers (a gather), so Newton's iterates are those of the full matrix up to the LU's
round-off; ``dropped_max_abs`` checks the pattern at the current state (used by the tests).
"""

from __future__ import annotations

import ctypes
from typing import Sequence

import numpy as np

from layerlab.fe import MPI, PETSc, fem


def _petsc_library() -> ctypes.CDLL | None:
    """The PETSc shared library petsc4py loaded (for MatSeqBAIJGetArray), or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "libpetsc" in line and ".so" in line})
        for p in paths:
            lib = ctypes.CDLL(p)
            if hasattr(lib, "MatSeqBAIJGetArray") and hasattr(lib, "MatSeqAIJGetArray"):
                for name in ("MatSeqBAIJGetArray", "MatSeqBAIJRestoreArray", "MatSeqAIJGetArray",
                             "MatSeqAIJRestoreArray"):
                    getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_double))]
                return lib
    except OSError:
        pass
    return None


_LIB = _petsc_library() if PETSc.ScalarType == np.float64 else None


class SparseJacobian:
    """Compressed copy of a SeqBAIJ Jacobian ``A`` (assembled by dolfinx from ``form``) for SNES."""

    def __init__(self, A: PETSc.Mat, form, u: fem.Function, bcs: Sequence[fem.DirichletBC],
                 controls: Sequence[fem.Constant]) -> None:
        if A.getType() != PETSc.Mat.Type.SEQBAIJ:
            raise ValueError(f"SparseJacobian needs the serial block matrix (seqbaij), got {A.getType()}")
        self.A, self.form, self.u, self.bcs = A, form, u, list(bcs)
        self.bs = A.getBlockSize()
        self._assemble_block()
        bi, bj = A.getRowIJ(symmetric=False, compressed=True)
        bs, bs2 = self.bs, self.bs * self.bs
        k = np.repeat(np.arange(len(bj)), bs2)                 # block index of every raw entry
        within = np.tile(np.arange(bs2), len(bj))
        block_row = np.repeat(np.arange(len(bi) - 1), np.diff(bi))
        self._rows = block_row[k] * bs + within % bs            # blocks stored column-major
        self._cols = bj[k] * bs + within // bs
        keep = self._pattern(controls) | (self._rows == self._cols)
        sel = np.flatnonzero(keep)
        order = np.lexsort((self._cols[sel], self._rows[sel]))
        self.perm = sel[order]
        n = A.getSize()[0]
        self.indptr = np.searchsorted(self._rows[self.perm], np.arange(n + 1)).astype(PETSc.IntType)
        self.indices = self._cols[self.perm].astype(PETSc.IntType)
        self.values = np.zeros(len(self.perm))
        self.mat = PETSc.Mat().createAIJ((n, n), csr=(self.indptr, self.indices, self.values), comm=MPI.COMM_SELF)
        self.mat.assemble()
        self._check_layout()

    # -- the block matrix's values ------------------------------------------------------------------
    def _raw(self, index: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Values of the block matrix in storage order (entries ``index`` of them, into ``out``)."""
        if _LIB is not None:
            ptr = ctypes.POINTER(ctypes.c_double)()
            handle = ctypes.c_void_p(self.A.handle)
            if _LIB.MatSeqBAIJGetArray(handle, ctypes.byref(ptr)) == 0:
                try:
                    raw = np.ctypeslib.as_array(ptr, shape=(len(self._rows),))
                    return raw.copy() if index is None else np.take(raw, index, out=out)
                finally:
                    _LIB.MatSeqBAIJRestoreArray(handle, ctypes.byref(ptr))
        raw = self._raw_from_csr()
        return raw if index is None else np.take(raw, index, out=out)

    def _raw_from_csr(self) -> np.ndarray:
        """The same values through MatGetValuesCSR (slower: a scalar copy of every stored entry)."""
        ii, jj, vv = self.A.getValuesCSR()
        if not hasattr(self, "_csr_pos"):      # position of every raw entry in the scalar CSR
            n = len(ii) - 1
            rows = np.repeat(np.arange(n), np.diff(ii))
            key = rows.astype(np.int64) * n + jj
            self._csr_pos = np.searchsorted(key, self._rows.astype(np.int64) * n + self._cols)
        return vv[self._csr_pos]

    def _assemble_block(self) -> None:
        self.A.zeroEntries()
        fem.petsc.assemble_matrix(self.A, self.form, bcs=self.bcs, diag=1.0)
        self.A.assemble()

    def _pattern(self, controls: Sequence[fem.Constant]) -> np.ndarray:
        """Nonzeros at two random states with generic nonzero controls (state and controls restored)."""
        saved_u = self.u.x.array.copy()
        saved_c = [np.copy(c.value) for c in controls]
        rng = np.random.default_rng(20261205)
        keep = np.zeros(len(self._rows), dtype=bool)
        try:
            for _ in range(2):
                self.u.x.array[:] = 0.2 + 0.2 * rng.random(self.u.x.array.size)
                for c in controls:
                    c.value = 0.5 + rng.random()
                self._assemble_block()
                keep |= self._raw() != 0
        finally:
            self.u.x.array[:] = saved_u
            for c, val in zip(controls, saved_c):
                c.value = val
        return keep

    def _check_layout(self) -> None:
        """The raw-array reading agrees with MatGetValuesCSR (once, at set-up)."""
        raw = self._raw()
        if _LIB is not None and not np.array_equal(raw, self._raw_from_csr()):
            raise RuntimeError("SeqBAIJ value layout not as expected (blocks column-major)")

    # -- use -------------------------------------------------------------------------------------------
    def assembled_values(self, out: np.ndarray | None = None) -> np.ndarray:
        """Assemble the Jacobian at the current state; its structural entries (``mat``'s order)."""
        self._assemble_block()
        return self._raw(self.perm, np.empty_like(self.values) if out is None else out)

    def write(self, values: np.ndarray) -> None:
        """Set ``mat``'s entries to ``values`` (in place through ``MatSeqAIJGetArray``, whose
        restore marks the matrix changed, so the LU is redone; else through ``setValuesCSR``)."""
        if _LIB is not None:
            ptr = ctypes.POINTER(ctypes.c_double)()
            handle = ctypes.c_void_p(self.mat.handle)
            if _LIB.MatSeqAIJGetArray(handle, ctypes.byref(ptr)) == 0:
                try:
                    np.ctypeslib.as_array(ptr, shape=(len(values),))[:] = values
                finally:
                    _LIB.MatSeqAIJRestoreArray(handle, ctypes.byref(ptr))
                return
        self.mat.setValuesCSR(self.indptr, self.indices, values)
        self.mat.assemble()

    def update(self) -> None:
        """Gather the structural entries of the assembled block matrix into ``mat``."""
        self._raw(self.perm, self.values)
        self.write(self.values)

    def snes_callback(self, snes: PETSc.SNES, x: PETSc.Vec, J: PETSc.Mat, P: PETSc.Mat) -> None:
        """``SNES.setJacobian`` callback: ``u`` from the iterate, dolfinx assembly, gather."""
        self.u.x.array[:] = x.getArray(readonly=True)
        self._assemble_block()
        self.update()

    def dropped_max_abs(self) -> float:
        """Largest |entry| outside the pattern in the block matrix as last assembled."""
        rest = np.ones(len(self._rows), dtype=bool)
        rest[self.perm] = False
        return float(np.abs(self._raw()[rest]).max(initial=0.0))

    def destroy(self) -> None:
        self.mat.destroy()
