"""Per-layer effective electronic conductivity (``LayerSpec.electronic_conductivity_S_m``): the solid
current leaving the current collector obeys Ohm's law with the conductivity of the layer that touches
the collector, not the parameter set's uniform value; ``None`` keeps ``sigma (1 - eps)**b_s``."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.integrator import Integrator, Segment
from layerlab.electrochem.parameters import CROSSCHECK_SET, load_parameters
from layerlab.errors import InputError

DISC = Discretisation(cells_separator=4, cells_cathode=40, radial_volumes=5)
I_A_M2 = 20.0


def _collector_gradient(sigma_bottom: float | None, sigma_top: float | None) -> tuple[float, DFNModel]:
    layers = (LayerSpec("L", 40e-6, 0.35, {"L": 0.6}, inactive_fraction=0.05,
                        electronic_conductivity_S_m=sigma_bottom),
              LayerSpec("S", 40e-6, 0.35, {"L": 0.6}, inactive_fraction=0.05,
                        electronic_conductivity_S_m=sigma_top))
    m = DFNModel(HalfCell(load_parameters(CROSSCHECK_SET), CathodeSpec(layers, {"L": 5e-6})), DISC)
    m.set_initial_state(0.5)
    Integrator(m, record_profiles=False).run(Segment("current", I_A_M2, 5.0, label="ohm"))
    prof = m.nodal_profiles()
    z, phi = prof["z"], prof["phi_s"]
    return float((phi[1] - phi[0]) / (z[1] - z[0])), m


def test_collector_layer_conductivity_sets_the_ohmic_gradient() -> None:
    """|dphi_s/dz| at the collector = I / sigma of the bottom layer. The first cell (2 um of 80 um)
    carries I less the reaction current of that cell (~2.5 % of I at uniform reaction, more near the
    collector when sigma is low), so the one-sided P1 difference is within 5 %; a top-layer value 100x
    higher must not change it by more than that."""
    for sigma in (0.01, 0.05):
        grad, _ = _collector_gradient(sigma, 100 * sigma)
        assert abs(grad) == pytest.approx(I_A_M2 / sigma, rel=0.05)


def test_none_keeps_the_bruggeman_value() -> None:
    """Without a layer value the cells carry sigma (1 - eps)**b_s of the parameter set."""
    _, m = _collector_gradient(None, None)
    p = m.cell.params.positive
    vals = m._cell_values[id(m.sigma_eff)]
    expected = p.electronic_conductivity_S_m * (1 - 0.35) ** p.bruggeman_electrode
    assert np.allclose(vals[-10:], expected, rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_layer_conductivity_named(bad: float) -> None:
    with pytest.raises(InputError, match="electronic_conductivity_S_m"):
        LayerSpec("L", 40e-6, 0.35, {"L": 0.6}, electronic_conductivity_S_m=bad)
