"""Figures plot the dataset's values and the paper's markers; missing series are named."""

from __future__ import annotations

import numpy as np
import xarray as xr

from layerlab.aggregate.comparison import load_targets
from layerlab.figures.catalog import FIGURES, has_data
from layerlab.figures.plots import save_figure


def _rate() -> xr.Dataset:
    archs = ["L-Dry-S", "Mix-Dry-Mix", "S-Dry-L"]
    rates = [0.1, 0.2, 0.5, 1.0]
    cap = np.array([[200, 190, 170, 140], [198, 180, 150, 100], [195, 170, 100, 20]], float)
    data = cap[:, None, None, None, :] * np.ones((1, 2, 2, 1, 1))
    return xr.Dataset({"discharge_capacity": (("architecture", "loading", "porosity", "ls_ratio", "c_rate"), data)},
                      coords={"architecture": archs, "loading": [22.0, 29.6], "porosity": [0.25, 0.55],
                              "ls_ratio": [0.5], "c_rate": rates})


def test_rate_figure_plots_dataset_values_and_paper_markers(tmp_path) -> None:
    spec = {s.name: s for s in FIGURES}["fig2g"]
    fig = spec.draw({"rate_capability": _rate()}, load_targets())
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    np.testing.assert_allclose(lines["L-Dry-S (model)"].get_ydata(), [200, 190, 170, 140])
    paper = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "paper"]
    ys = sorted(y for ln in paper for y in ln.get_ydata())
    assert ys == sorted([194.5, 178.55, 103.95, 0.0, 0.0])
    assert has_data(fig)
    save_figure(fig, tmp_path / "fig2g.png")
    assert (tmp_path / "fig2g.png").read_bytes()[:4] == b"\x89PNG"


def test_every_figure_draws_without_data_and_names_what_is_missing() -> None:
    for spec in FIGURES:
        fig = spec.draw({}, load_targets())
        assert not has_data(fig), spec.name
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("not run") for t in texts), spec.name
