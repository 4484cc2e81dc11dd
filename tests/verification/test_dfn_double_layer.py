"""A physics term added to the DFN from outside the core (``layerlab.electrochem.double_layer``):
the double layers of the cathode particles and the Li foil.

* its linearisation is exactly the double-layer mass matrix the impedance module adds by hand
  (same spectrum to 1e-10 at three frequencies);
* in the time domain, the nonlinear DFN with the term under a small 30 Hz sine current (where the
  double layers carry a third of the response) gives the impedance with double layers, not the
  one without, and the cell current through the foil (faradaic + capacitive) equals the applied
  current at every step (charge conservation);
* bad capacitances and a full cell are refused (InputError naming the field).
"""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import AnodeSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.double_layer import DoubleLayer, DoubleLayerParams
from layerlab.electrochem.impedance import LinearisedDFN
from layerlab.errors import InputError
from layerlab.fe import MPI
from test_impedance import _two_layer_cell, sine_response  # noqa: E402 (sibling test module)

DISC = Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8)
C_DL, C_LI, STO = 0.2, 0.15, 0.7


def _model(term: bool) -> DFNModel:
    extra = [DoubleLayer(DoubleLayerParams(C_DL, C_LI))] if term else []
    return DFNModel(_two_layer_cell(), DISC, comm=MPI.COMM_SELF, extra_terms=extra)


def test_term_linearises_to_the_impedance_double_layers() -> None:
    by_hand = LinearisedDFN(_model(False), STO, C_DL, C_LI)
    by_term = LinearisedDFN(_model(True), STO, 0.0, 0.0)
    assert by_term.rest_residual_norm < 1e-10          # capacitors at rest carry nothing
    for f in (1.0, 30.0, 1e3):
        z_hand, z_term = by_hand.impedance(f), by_term.impedance(f)
        assert abs(z_term - z_hand) <= 1e-10 * abs(z_hand)


def test_time_domain_with_the_term_gives_the_double_layer_impedance() -> None:
    f = 30.0
    Z_dl = LinearisedDFN(_model(False), STO, C_DL, C_LI).impedance(f)
    Z_none = LinearisedDFN(_model(False), STO, 0.0, 0.0).impedance(f)
    assert abs(Z_none - Z_dl) / abs(Z_dl) > 0.2               # the double layers matter here
    Z_t, applied, cell_current = sine_response(_model(True), STO, f, I0=0.05)
    assert abs(Z_t - Z_dl) / abs(Z_dl) < 2e-3
    np.testing.assert_allclose(cell_current, applied, rtol=0, atol=1e-9)


def test_bad_capacitance_and_full_cell_refused() -> None:
    with pytest.raises(InputError, match="double_layer.cathode_F_m2"):
        DoubleLayerParams(cathode_F_m2=-0.1)
    with pytest.raises(InputError, match="double_layer.lithium_F_m2"):
        DoubleLayerParams(lithium_F_m2=float("nan"))
    import dataclasses
    from layerlab.electrochem.parameters import FULLCELL_CROSSCHECK_SET, load_anode, load_parameters
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    cell = dataclasses.replace(_two_layer_cell(), params=params.with_anode(params.negative, load_anode()[1]),
                               anode=AnodeSpec(85e-6, 0.25, 0.7, 6e-6))
    with pytest.raises(InputError, match="double_layer"):
        DFNModel(cell, DISC, comm=MPI.COMM_SELF, extra_terms=[DoubleLayer(DoubleLayerParams())])
