"""Electronic conduction through the particle network of a 3D sphere packing (issue 12).

:mod:`~layerlab.network.contacts` finds the contacts (overlap lenses) and the carbon-binder bridges,
:mod:`~layerlab.network.laws` holds the resistance laws (constriction, bulk, interface),
:mod:`~layerlab.network.graph` assembles and solves the graph Laplacian (through-plane and lateral),
:mod:`~layerlab.network.output` writes the stage's netCDF content, :mod:`~layerlab.network.commands` the CLI.
"""
