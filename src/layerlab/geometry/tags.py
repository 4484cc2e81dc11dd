"""Integer tags and physical-group names shared by the mesh builders and every solver.

Coordinates: ``y`` (2D) or ``z`` (3D) runs through the thickness from the current collector /
outlet side (bottom) to the separator / inlet side (top).
"""

from __future__ import annotations

# --- 2D wetting mesh: the pore space only (particles are holes) ---------------------------------
PORE = 1                  # cells: the fluid domain (outlet region + electrode pores + reservoir)
INLET = 11                # facets: top edge (electrolyte enters)
OUTLET = 12               # facets: bottom edge
SIDE_LEFT = 13            # facets: x = 0 (symmetry)
SIDE_RIGHT = 14           # facets: x = width (symmetry)
PARTICLE_WALL = 15        # facets: disk boundaries (no-slip, wetting)

NAMES_2D: dict[str, tuple[int, int]] = {   # name -> (dimension, tag)
    "pore": (2, PORE), "inlet": (1, INLET), "outlet": (1, OUTLET),
    "side_left": (1, SIDE_LEFT), "side_right": (1, SIDE_RIGHT), "particle_wall": (1, PARTICLE_WALL),
}

# --- 3D mesh: both phases -----------------------------------------------------------------------
ELECTROLYTE = 1           # cells: pore space of the electrode
PARTICLES = 2             # cells: solid (active particles)
SEPARATOR = 3             # cells: separator slab above the electrode (optional, electrolyte)
CURRENT_COLLECTOR = 21    # facets: z = 0
TOP = 22                  # facets: top of the domain (separator top = Li counter electrode, or z = H)
SIDES = 23                # facets: lateral faces
ELECTRODE_SEPARATOR = 24  # facets: z = H between electrode and separator (interior when present)
INTERFACE = 30            # facets: electrolyte / particle interface (interior)

NAMES_3D: dict[str, tuple[int, int]] = {
    "electrolyte": (3, ELECTROLYTE), "particles": (3, PARTICLES), "separator": (3, SEPARATOR),
    "current_collector": (2, CURRENT_COLLECTOR), "top": (2, TOP), "sides": (2, SIDES),
    "electrode_separator": (2, ELECTRODE_SEPARATOR), "interface": (2, INTERFACE),
}

# Files of the geometry stage, relative to results/geometry/<case>/
PACKING2D_FILE = "packing2d.json"
MESH2D_FILE = "mesh2d.msh"
PACKING3D_FILE = "packing3d.json"
MESH3D_FILE = "mesh3d.msh"
