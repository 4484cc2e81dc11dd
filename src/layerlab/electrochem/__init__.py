"""Porous-electrode electrochemistry: DFN half cell in dolfinx/PETSc (see dfn.py), protocols, outputs."""
