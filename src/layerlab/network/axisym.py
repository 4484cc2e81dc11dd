"""Resolved reference: conduction through one particle side of a contact, axisymmetric finite elements.

The domain (radius 1, scale-free) is the part of the unit sphere between its centre plane z = 0 and the
contact plane z = x = sqrt(1 - a^2): u = 1 on the centre plane, u = 0 on the contact disk rho <= a,
insulating on the sphere surface and the axis.  With sigma = 1 and a unit drop, the conductance is the
dissipation ``G = 2 pi int |grad u|^2 rho drho dz``; the side's resistance is ``1 / (G sigma r)`` for
radius r and conductivity sigma.  gmsh builds a triangle mesh graded towards the disk edge (where u ~
s^(1/2)); Lagrange P2 elements (dolfinx).  This is independent of the graph's resistance law and used
to verify it (tests/verification/test_network_resolved.py).
"""

from __future__ import annotations

import math

import numpy as np

from layerlab.fe import MPI, PETSc, dolfinx, fem, mesh, ufl

BOTTOM, DISK = 1, 2


def _model(a: float, h_far: float, h_edge: float) -> None:
    import gmsh
    if gmsh.isInitialized():    # start from gmsh's defaults: other meshers of the process leave their
        gmsh.finalize()         # options set (Mesh.CharacteristicLengthMin clamped this mesh's contact edge)
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("side")
    geo = gmsh.model.geo
    x = math.sqrt(1.0 - a * a)
    p0 = geo.addPoint(0, 0, 0, h_far)
    p1 = geo.addPoint(1, 0, 0, h_far)
    p2 = geo.addPoint(a, x, 0, h_edge)
    p3 = geo.addPoint(0, x, 0, h_edge)
    bottom = geo.addLine(p0, p1)
    arc = geo.addCircleArc(p1, p0, p2)
    disk = geo.addLine(p2, p3)
    axis = geo.addLine(p3, p0)
    surf = geo.addPlaneSurface([geo.addCurveLoop([bottom, arc, disk, axis])])
    geo.synchronize()
    dist = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(dist, "PointsList", [p2])
    thr = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(thr, "InField", dist)
    gmsh.model.mesh.field.setNumber(thr, "SizeMin", h_edge)
    gmsh.model.mesh.field.setNumber(thr, "SizeMax", h_far)
    gmsh.model.mesh.field.setNumber(thr, "DistMin", 2.0 * h_edge)
    gmsh.model.mesh.field.setNumber(thr, "DistMax", max(4.0 * a, 10.0 * h_edge))
    gmsh.model.mesh.field.setAsBackgroundMesh(thr)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.model.addPhysicalGroup(2, [surf], 1, name="particle")
    gmsh.model.addPhysicalGroup(1, [bottom], BOTTOM, name="centre_plane")
    gmsh.model.addPhysicalGroup(1, [disk], DISK, name="contact_disk")
    gmsh.model.mesh.generate(2)


def side_resistance_nondim(a_over_r: float, refinement: float = 1.0, degree: int = 2,
                           comm: MPI.Comm = MPI.COMM_SELF) -> tuple[float, int]:
    """Resistance of one particle side, in units of ``1 / (sigma r)``, and the number of unknowns.

    ``refinement`` divides both mesh sizes (edge ``a / 8``, far ``0.1``): 1, 2, 4 ... for a study.
    """
    import gmsh
    a = float(a_over_r)
    rank0 = comm.rank == 0
    if rank0:
        _model(a, 0.1 / refinement, a / 8.0 / refinement)
    data = dolfinx.io.gmsh.model_to_mesh(gmsh.model if rank0 else None, comm, 0, gdim=2)
    if rank0:
        gmsh.finalize()
    msh, ft = data.mesh, data.facet_tags
    V = fem.functionspace(msh, ("Lagrange", degree))
    fdim = msh.topology.dim - 1
    bcs = [fem.dirichletbc(PETSc.ScalarType(v), fem.locate_dofs_topological(V, fdim, ft.find(tag)), V)
           for v, tag in ((1.0, BOTTOM), (0.0, DISK))]
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    rho = ufl.SpatialCoordinate(msh)[0]
    a_form = ufl.inner(ufl.grad(u), ufl.grad(v)) * rho * ufl.dx
    L_form = fem.Constant(msh, PETSc.ScalarType(0.0)) * v * ufl.dx
    problem = dolfinx.fem.petsc.LinearProblem(
        a_form, L_form, bcs=bcs, petsc_options_prefix=f"layerlab_axisym_{id(msh)}_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu"})
    uh = problem.solve()
    uh = uh[0] if isinstance(uh, tuple) else uh
    energy = fem.assemble_scalar(fem.form(ufl.inner(ufl.grad(uh), ufl.grad(uh)) * rho * ufl.dx))
    G = 2.0 * math.pi * comm.allreduce(float(energy), op=MPI.SUM)
    return 1.0 / G, V.dofmap.index_map.size_global


def side_resistance_extrapolated(a_over_r: float, levels: tuple[float, ...] = (1.0, 2.0, 4.0)
                                 ) -> tuple[float, float, list[float]]:
    """Richardson-extrapolated side resistance (units 1/(sigma r)) from three refinements halving h,
    with the observed convergence rate p = log2(|R1 - R2| / |R2 - R3|)."""
    vals = [side_resistance_nondim(a_over_r, lv)[0] for lv in levels]
    d1, d2 = vals[0] - vals[1], vals[1] - vals[2]
    p = math.log2(abs(d1) / abs(d2)) if d2 != 0 and d1 != 0 else math.inf
    ext = vals[2] - d2 / (2.0 ** p - 1.0) if math.isfinite(p) and p > 0 else vals[2]
    return ext, p, vals
