"""Figures plot the dataset's values and the paper's markers; missing series are named."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
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


PAPER_COMPARISONS = ("1d", "1e", "2f", "2g", "3c", "3d", "S3", "4c", "4d", "5d", "5f", "5h", "6", "S9", "S10")


def test_catalog_names_exactly_the_paper_comparisons() -> None:
    """One figure per comparison of the paper, each titled with the paper's figure number."""
    names = [spec.name for spec in FIGURES]
    assert sorted(names) == sorted(f"fig{n}" for n in PAPER_COMPARISONS)
    assert len(set(names)) == len(names)
    for spec in FIGURES:
        assert spec.caption.strip(), spec.name
        fig = spec.draw({}, load_targets())
        titles = [ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]
        plt.close(fig)
        assert any(t.startswith(f"Fig. {spec.name.removeprefix('fig')}:") for t in titles), (spec.name, titles)


def _numbers(node) -> list[float]:
    """Every number under ``node`` of the targets file (notes and orderings are text)."""
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [float(node)]
    if isinstance(node, dict):
        return [x for v in node.values() for x in _numbers(v)]
    if isinstance(node, list):
        return [x for v in node for x in _numbers(v)]
    return []


def _figure_targets(targets) -> dict[str, dict]:
    """Figure number -> the targets-file block of each ``fig<number>_...`` key that holds numbers."""
    out: dict[str, dict] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                m = re.match(r"^fig(S?\d+[a-z]?)_", str(key))
                if m and _numbers(value):
                    assert m[1] not in out, f"two numeric blocks for Fig. {m[1]}"
                    out[m[1]] = value
                else:
                    walk(value)

    walk({k: v for k, v in targets.items() if k != "rate_blocks"})   # the blocks' designs, not paper values
    return out


def _expected_points(figure: str, block: dict) -> list[tuple[object, float]]:
    """(x, y) of the paper's markers: x is the C-rate (rate figures), the porosity (Fig. 4c: the
    1C values at 25 %) or the architecture (bar figures)."""
    if figure == "4c":
        return [(0.25, float(v["1C"])) for v in block.values()]
    pts = []
    for arch, values in block.items():
        if isinstance(values, dict):
            pts += [(float(k[:-1]), float(v)) for k, v in values.items() if k.endswith("C") and _numbers(v)]
        elif _numbers(values):
            pts.append((arch, float(values)))
    return pts


def test_paper_values_are_drawn_as_markers_wherever_the_paper_states_numbers() -> None:
    targets = load_targets()
    blocks = _figure_targets(targets)
    assert sorted(blocks) == ["1e", "2f", "2g", "4c"]
    specs = {s.name: s for s in FIGURES}
    for figure, block in blocks.items():
        fig = specs[f"fig{figure}"].draw({"rate_capability": _rate()}, targets)
        got = []
        for ax in fig.axes:
            ticks = {t.get_position()[0]: t.get_text() for t in ax.get_xticklabels()}
            for ln in ax.get_lines():
                if ln.get_gid() != "paper":
                    continue
                assert ln.get_marker() not in (None, "", "None") and ln.get_linestyle() in ("None", "none", ""), figure
                for x, y in zip(ln.get_xdata(), ln.get_ydata()):
                    got.append((ticks[float(x)] if figure == "1e" else float(x), float(y)))
        plt.close(fig)
        expected = _expected_points(figure, block)
        assert len(expected) == len(_numbers(block)), figure   # every number of the block is a marker
        key = lambda p: (str(p[0]), p[1])  # noqa: E731
        got, expected = sorted(got, key=key), sorted(expected, key=key)
        assert [x for x, _ in got] == [x for x, _ in expected], (figure, got, expected)
        np.testing.assert_allclose([y for _, y in got], [y for _, y in expected], rtol=1e-12, err_msg=figure)


def test_figS9_draws_the_stored_voltage_capacity_curves() -> None:
    """Each 1C curve of the rate dataset is drawn as stored (capacity on x, voltage on y), charge
    dashed; the lower panels draw L-Dry-S's discharge at every C-rate; absent designs are named."""
    from layerlab.reference import block_of_figure
    targets = load_targets()
    b = block_of_figure(targets, "2f")
    archs = list(b.architectures)[:2]
    q = np.linspace(0.0, 180.0, 5)
    volt = np.array([[[4.0 + 0.001 * q * (1 + k) - 0.1 * i
                       for k, _ in enumerate((0.5, 1.0))] for i, _ in enumerate(("charge", "discharge"))]
                     for _ in archs])
    cap = np.broadcast_to(q, volt.shape)
    ds = xr.Dataset({"curve_capacity": (("architecture", "process", "c_rate", "curve_point"), cap),
                     "curve_voltage": (("architecture", "process", "c_rate", "curve_point"), volt)},
                    coords={"architecture": archs, "process": ["charge", "discharge"], "c_rate": [0.5, 1.0]})
    ds = ds.expand_dims(loading=[b.loading_mg_cm2], porosity=[b.porosity], ls_ratio=[0.5], cell=["half"])
    spec = {s.name: s for s in FIGURES}["figS9"]
    fig = spec.draw({"rate_capability": ds}, targets)
    top = fig.axes[0]
    by_label = {line.get_label(): line for line in top.get_lines()}
    for i, arch in enumerate(archs):
        line = by_label[arch]
        assert line.get_linestyle() == "-"
        np.testing.assert_allclose(line.get_xdata(), q)
        np.testing.assert_allclose(line.get_ydata(), volt[i, 1, 1])
    assert sum(line.get_linestyle() == "--" for line in top.get_lines()) == len(archs)
    missing = [a for a in b.architectures if a not in archs]
    assert not missing or any("not run: " + ", ".join(missing) in t.get_text() for t in top.texts)
    if "L-Dry-S" in archs:
        lower = fig.axes[2]
        assert [line.get_label() for line in lower.get_lines()] == ["0.5C", "1C"]
        np.testing.assert_allclose(lower.get_lines()[0].get_ydata(), volt[archs.index("L-Dry-S"), 1, 0])
    plt.close(fig)
