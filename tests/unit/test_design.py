"""Design model: the paper's calendering numbers, layer bookkeeping and input errors."""

from __future__ import annotations

import pytest

from layerlab.design import ARCHITECTURES, ElectrodeDesign, ls_share, porosity_from_thickness
from layerlab.errors import InputError
from layerlab.units import M_TO_UM


def test_paper_calendering_29p6_within_3_percent() -> None:
    """Chen et al. 2024: L-Dry-S at 29.6 mg/cm2 calendered from 55 % (141.5 um) to 25 % (82.7 um)."""
    d55 = ElectrodeDesign("L-Dry-S", 29.6, 0.55)
    d25 = d55.calendered(0.25)
    assert d55.thickness_m * M_TO_UM == pytest.approx(141.5, rel=0.03)
    assert d25.thickness_m * M_TO_UM == pytest.approx(82.7, rel=0.03)
    # calendering conserves the solid volume and the loading
    assert d25.solid_thickness_m == pytest.approx(d55.solid_thickness_m, rel=1e-14)
    assert d25.loading_mg_cm2 == d55.loading_mg_cm2


def test_porosity_formula_inverts_thickness() -> None:
    d = ElectrodeDesign("Mix", 22.0, 0.35)
    assert porosity_from_thickness(22.0, d.thickness_m, d.materials) == pytest.approx(0.35, abs=1e-12)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("ls", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_layers_tile_thickness_and_conserve_L_mass(arch: str, ls: float) -> None:
    d = ElectrodeDesign(arch, 29.6, 0.45, ls_ratio=ls, band_width_m=8e-6)
    layers = d.layers
    assert layers[0].z_bottom_m == 0.0
    assert layers[-1].z_top_m == pytest.approx(d.thickness_m, rel=1e-14)
    for a, b in zip(layers, layers[1:]):
        assert a.z_top_m == pytest.approx(b.z_bottom_m, abs=1e-18)
    for layer in layers:
        total = layer.porosity + layer.active_fraction + layer.inactive_fraction
        assert total == pytest.approx(1.0, abs=1e-14)
    # the L share of all active material equals ls_ratio (thickness share at uniform porosity)
    L_vol = sum(layer.active_fraction_L * layer.thickness_m for layer in layers)
    all_vol = sum(layer.active_fraction * layer.thickness_m for layer in layers)
    assert L_vol / all_vol == pytest.approx(ls, abs=1e-12)


def test_intermixed_band_only_without_drying() -> None:
    names = [layer.name for layer in ElectrodeDesign("L-S", 29.6, 0.55, band_width_m=10e-6).layers]
    assert names == ["L", "band", "S"]
    names = [layer.name for layer in ElectrodeDesign("L-Dry-S", 29.6, 0.55, band_width_m=10e-6).layers]
    assert names == ["L", "S"]
    assert [layer.name for layer in ElectrodeDesign("S-L", 22, 0.55).layers] == ["S", "band", "L"]


def test_single_size_references() -> None:
    assert [layer.name for layer in ElectrodeDesign("L-Dry-S", 22, 0.55, ls_ratio=1.0).layers] == ["L"]
    assert [layer.name for layer in ElectrodeDesign("L-Dry-S", 22, 0.55, ls_ratio=0.0).layers] == ["S"]


def test_ls_share_forms() -> None:
    assert ls_share("3:7") == pytest.approx(0.3)
    assert ls_share([7, 3]) == pytest.approx(0.7)
    assert ls_share(0.5) == 0.5


@pytest.mark.parametrize("kwargs, field", [
    (dict(architecture="L-Dry-M", loading_mg_cm2=22, porosity=0.5), "design.architecture"),
    (dict(architecture="L-Dry-S", loading_mg_cm2=-1, porosity=0.5), "design.loading_mg_cm2"),
    (dict(architecture="L-Dry-S", loading_mg_cm2=22, porosity=0.95), "design.porosity"),
    (dict(architecture="L-Dry-S", loading_mg_cm2=22, porosity=0.1), "design.porosity"),
    (dict(architecture="L-Dry-S", loading_mg_cm2=22, porosity=0.5, ls_ratio=[0, 0]), "design.ls_ratio"),
    (dict(architecture="L-Dry-S", loading_mg_cm2=22, porosity=0.5, ls_ratio="-1:3"), "design.ls_ratio"),
    (dict(architecture="L-S", loading_mg_cm2=22, porosity=0.5, ls_ratio=0.05, band_width_m=20e-6),
     "design.band_width_m"),
])
def test_bad_input_names_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        ElectrodeDesign(**kwargs)
    assert err.value.field == field
    assert field in str(err.value) and "allowed" in str(err.value)
