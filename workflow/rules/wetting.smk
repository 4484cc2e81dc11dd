# wetting rules (see layerlab.wetting)
