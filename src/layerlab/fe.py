"""The one module that imports the finite-element stack.

The PyPI wheel ``dolfinx-solver-real`` must be imported before dolfinx/petsc4py; a conda-forge
install has plain dolfinx.  Every other module imports the FE names from here::

    from layerlab.fe import MPI, PETSc, dolfinx, fem, mesh, ufl
"""

from __future__ import annotations

import os

os.environ.setdefault("UCX_TLS", "self,sm,tcp")

try:  # pip wheel: sets up PETSc/MPI library paths; must come first
    import dolfinx_solver  # noqa: F401
except ImportError:  # conda-forge: plain dolfinx
    dolfinx_solver = None

from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import basix  # noqa: E402
import dolfinx  # noqa: E402
import dolfinx.fem.petsc  # noqa: E402
import dolfinx.io  # noqa: E402
import dolfinx.io.gmsh  # noqa: E402
import dolfinx.mesh  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, mesh  # noqa: E402

__all__ = ["MPI", "PETSc", "basix", "dolfinx", "fem", "mesh", "ufl", "dolfinx_solver"]
