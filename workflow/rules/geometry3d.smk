# geometry3d rules (see layerlab.geometry)
