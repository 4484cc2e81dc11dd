"""The calibration's former single module: an alias of :mod:`layerlab.electrochem.calibration`
(kept so ``from layerlab.electrochem.calibrate import ...`` goes on working)."""

from layerlab.electrochem.calibration import *  # noqa: F401,F403
from layerlab.electrochem.calibration import __all__  # noqa: F401
