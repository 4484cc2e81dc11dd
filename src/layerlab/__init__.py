"""layerlab: simulation campaign for layered two-size lithium-ion cathodes.

Stages (one direction of data flow): design -> geometry -> wetting / transport ->
electrochemistry -> aggregate.  Each stage reads files of earlier stages and writes its own.
"""

__version__ = "0.1.0"
