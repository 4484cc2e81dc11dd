# transport rules (see layerlab.transport)
