"""Trapped-air maps of the wetting stage, applied to a 2D resolved run on the same packing.

The wetting run (``results/runs/wetting/<case>.nc``) stores ``air_map`` over (``map_y``,
``map_x``), coordinates in metres in the packing's frame (``y = 0`` at the outlet edge): 1 = air,
0 = electrolyte, NaN = solid, with attributes ``packing_sha256`` (sha256 of the
``packing2d.json`` bytes it was computed on) and ``case``.

Applied to a resolved mesh, an electrode-pore cell is air when the map's value at its midpoint is
above 0.5 (nearest pixel; solid pixels, which a pore cell's midpoint can hit next to a disk, take
the value of the nearest non-solid pixel).  A map from another packing (different sha256) or one
whose grid does not cover the electrode raises :class:`~layerlab.errors.InputError`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layerlab.errors import InputError, require
from layerlab.resolved.diskmesh import DiskLayout

FIELD = "air_map"


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class AirMap:
    """An air map on a rectilinear grid of pixel centres (packing frame, m)."""

    x_m: np.ndarray
    y_m: np.ndarray
    air: np.ndarray                 # (ny, nx), 1 air / 0 electrolyte, solid pixels filled by the nearest pore pixel
    packing_sha256: str
    case: str

    @classmethod
    def read(cls, path: str | Path, packing_sha256: str, layout: DiskLayout) -> "AirMap":
        """Read and check a wetting result; InputError when it belongs to another geometry."""
        import xarray as xr

        require(Path(path).is_file(), FIELD, f"file {str(path)!r} does not exist", "a wetting result (.nc)")
        from layerlab.io import load_netcdf_input
        with load_netcdf_input(path, FIELD, "a wetting result (.nc)") as ds:
            if "air_map" not in ds:
                raise InputError(FIELD, f"{path} has no variable 'air_map'",
                                 "a wetting result with air_map over (map_y, map_x)")
            da = ds["air_map"]
            require(da.dims == ("map_y", "map_x"), FIELD, f"air_map has dims {da.dims}", "(map_y, map_x)")
            sha = str(ds.attrs.get("packing_sha256", da.attrs.get("packing_sha256", "")))
            amap = cls(np.asarray(ds["map_x"], float), np.asarray(ds["map_y"], float),
                       np.asarray(da.values, float), sha, str(ds.attrs.get("case", "")))
        return amap.checked(packing_sha256, layout)

    def checked(self, packing_sha256: str, layout: DiskLayout) -> "AirMap":
        """This map with solid pixels filled, after checking geometry identity and coverage."""
        from scipy.ndimage import distance_transform_edt

        if self.packing_sha256 != packing_sha256:
            raise InputError(FIELD, f"map of packing sha256 {self.packing_sha256[:12] or '(none)'}... "
                             f"(case {self.case!r}), run on packing {packing_sha256[:12]}...",
                             "the air map of the same packing2d.json")
        x, y, a = self.x_m, self.y_m, self.air
        require(a.shape == (len(y), len(x)) and len(x) > 1 and len(y) > 1, FIELD,
                f"shape {a.shape} for {len(y)} x {len(x)} coordinates", "a 2D grid")
        require(np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0), FIELD, "coordinates not increasing",
                "increasing map_x and map_y")
        ok = np.isnan(a) | ((a >= 0) & (a <= 1))
        require(bool(np.all(ok)), FIELD, "values outside [0, 1]", "1 air, 0 electrolyte, NaN solid")
        dx, dy = np.diff(x).max(), np.diff(y).max()
        y0, y1 = layout.y_offset_m, layout.y_offset_m + layout.height_m
        tol = 1e-9
        covers = (x[0] - 0.5 * dx <= tol and x[-1] + 0.5 * dx >= layout.width_m - tol
                  and y[0] - 0.5 * dy <= y0 + tol and y[-1] + 0.5 * dy >= y1 - tol)
        if not covers:
            raise InputError(FIELD, f"grid x [{x[0]:.4g}, {x[-1]:.4g}] m, y [{y[0]:.4g}, {y[-1]:.4g}] m does not "
                             f"cover the electrode x [0, {layout.width_m:.4g}] m, y [{y0:.4g}, {y1:.4g}] m",
                             "a map of the same geometry")
        solid = np.isnan(a)
        require(not bool(np.all(solid)), FIELD, "every pixel is solid", "a map with pore pixels")
        idx = distance_transform_edt(solid, return_distances=False, return_indices=True)
        filled = a[idx[0], idx[1]]
        return AirMap(x, y, filled, self.packing_sha256, self.case)

    def air_at(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Air (True) at points in the packing frame, by nearest pixel."""
        def nearest(c: np.ndarray, p: np.ndarray) -> np.ndarray:
            i = np.clip(np.searchsorted(c, p), 1, len(c) - 1)
            return np.where(np.abs(p - c[i - 1]) <= np.abs(c[i] - p), i - 1, i)
        return self.air[nearest(self.y_m, y_m), nearest(self.x_m, x_m)] > 0.5

    def dry_cells(self, data, layout: DiskLayout) -> np.ndarray:
        """Local electrode-pore (ELECTROLYTE) cells of a resolved mesh (collector at y = 0) that are air."""
        from layerlab.fe import dolfinx
        from layerlab.geometry import tags as T

        msh, ct = data.mesh, data.cell_tags
        pores = ct.indices[ct.values == T.ELECTROLYTE].astype(np.int32)
        mid = dolfinx.mesh.compute_midpoints(msh, msh.topology.dim, pores)
        return pores[self.air_at(mid[:, 0], mid[:, 1] + layout.y_offset_m)]


def air_map_dataset(x_m: np.ndarray, y_m: np.ndarray, air: np.ndarray, packing_sha256: str,
                    case: str = "") -> "xarray.Dataset":  # noqa: F821
    """A dataset in the wetting stage's air-map format (for synthetic maps and one-off conversions)."""
    import xarray as xr

    return xr.Dataset(
        {"air_map": (("map_y", "map_x"), np.asarray(air, float),
                     {"units": "1", "long_name": "trapped air at steady state (1 air, 0 electrolyte, NaN solid)"})},
        coords={"map_x": ("map_x", np.asarray(x_m, float), {"units": "m", "long_name": "x"}),
                "map_y": ("map_y", np.asarray(y_m, float), {"units": "m", "long_name": "y (packing frame)"})},
        attrs={"packing_sha256": packing_sha256, "case": case})


def disk_air_map(packing: dict, packing_sha256: str, pixel_m: float, air_disks: dict[int, float],
                 case: str = "") -> "xarray.Dataset":  # noqa: F821
    """Synthetic map of a packing: air within ``air_disks[k]`` m of disk k's surface, NaN in disks.

    The grid covers the packing's whole domain (outlet, electrode, reservoir) as the wetting maps do.
    """
    W, Hd = float(packing["width_m"]), float(packing.get("domain_height_m", packing["electrode_y_range_m"][1]))
    x = (np.arange(round(W / pixel_m)) + 0.5) * W / round(W / pixel_m)
    y = (np.arange(round(Hd / pixel_m)) + 0.5) * Hd / round(Hd / pixel_m)
    X, Y = np.meshgrid(x, y)
    air = np.zeros(X.shape)
    cx, cy, r = (np.asarray(packing[k], float) for k in ("disk_x_m", "disk_y_m", "disk_radius_m"))
    for k, width in air_disks.items():
        air[np.hypot(X - cx[k], Y - cy[k]) < r[k] + width] = 1.0
    for xc, yc, rc in zip(cx, cy, r):
        air[np.hypot(X - xc, Y - yc) < rc] = np.nan
    return air_map_dataset(x, y, air, packing_sha256, case)
