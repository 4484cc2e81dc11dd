"""The DFN unknown layout (declared by the configuration's terms): blocks tile the components without overlap, in the documented order,
with the differential flags and Newton limits of their unknowns; bad declarations are refused."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.electrochem.cell import AnodeSpec, CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.layout import (GRAPHITE, LIMIT_SURFACE_LOGIT, BlockSpec, UnknownLayout,
                                         scalar_block)
from layerlab.electrochem.parameters import FULLCELL_CROSSCHECK_SET, load_anode, load_parameters
from layerlab.electrochem.terms import layout_for, terms_for


def _layout(pops: tuple[str, ...], N: int, full: bool = False, sei: bool = False) -> UnknownLayout:
    """The layout the configuration's terms declare."""
    params = load_parameters(FULLCELL_CROSSCHECK_SET)
    params = params.with_anode(params.negative, load_anode()[1])
    cath = CathodeSpec((LayerSpec("a", 40e-6, 0.3, {p: 0.6 / len(pops) for p in pops}),), {p: 5e-6 for p in pops})
    anode = AnodeSpec(85e-6, 0.25, 0.7, 6e-6) if full else None
    return layout_for(terms_for(HalfCell(params, cath, anode=anode), "reaction limited" if sei else "none"), N)


def test_full_cell_layout_with_sei_and_two_populations() -> None:
    N = 4
    lay = _layout(("L", "S"), N, full=True, sei=True)
    assert (lay.ln_c_e, lay.phi_e, lay.phi_s) == (0, 1, 2)
    assert lay.particle("L").slice == slice(3, 3 + N + 1)
    assert lay.particle("S").start == 3 + N + 1
    assert lay.index("phi_s_anode") == 3 + 2 * (N + 1)
    assert lay.particle(GRAPHITE).start == 4 + 2 * (N + 1)
    assert lay.index("sei_thickness") == 4 + 3 * (N + 1)
    assert lay.index("j_tot_anode") == lay.size - 1 == 5 + 3 * (N + 1)
    covered = np.concatenate([np.arange(b.start, b.stop) for b in lay.blocks.values()])
    np.testing.assert_array_equal(covered, np.arange(lay.size))      # contiguous, no overlap
    d = lay.differential_mask()
    assert d[lay.ln_c_e] and not d[lay.phi_e] and not d[lay.phi_s] and d[lay.index("sei_thickness")]
    for b in lay.particles:
        assert d[b.start:b[-1]].all() and not d[b[-1]]
        assert lay.newton_limits()[b[-1]] == LIMIT_SURFACE_LOGIT
    assert [b.name for b in lay.particles] == ["particle:L", "particle:S", "particle:graphite"]


def test_half_cell_layout_has_no_anode_blocks() -> None:
    lay = _layout(("S",), 3)
    assert lay.size == 3 + 4 and "phi_s_anode" not in lay
    with pytest.raises(KeyError, match="no block 'phi_s_anode'"):
        lay.index("phi_s_anode")
    with pytest.raises(IndexError):
        lay.particle("S")[4]


def test_bad_declarations_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        UnknownLayout([scalar_block("phi_e", 0.3), scalar_block("phi_e", 0.3)], 1)
    with pytest.raises(ValueError, match="one entry per component"):
        BlockSpec("x", (True, False), (1.0,))
    with pytest.raises(ValueError, match="has 4 components"):
        _layout(("L",), 3).index("particle:L")
