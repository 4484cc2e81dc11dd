# Geometry stage: packings and gmsh meshes per case (rules added by layerlab.geometry).
