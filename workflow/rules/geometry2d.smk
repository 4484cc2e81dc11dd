# geometry2d rules (see layerlab.geometry)
