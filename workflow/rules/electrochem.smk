# electrochem rules (see layerlab.electrochem)
