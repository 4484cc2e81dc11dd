"""Small-signal impedance of the discretised DFN half cell, and the Warburg-slope analysis (Fig. S10).

Linearisation
-------------
The :class:`~layerlab.electrochem.dfn.DFNModel` residual is ``F(u) = K(u) + (a0/dt) M(u) (u - ...)``:
its storage terms are linear in the BDF coefficient ``a0/dt``.  About a rest state ``u*`` (uniform
electrolyte ``c_e0``, uniform particle stoichiometry, ``phi_s = U(sto)``, ``phi_e = 0``: the residual
vanishes) the Jacobian is ``J = K + (a0/dt) M`` exactly, so assembling ``model.jacobian`` with
``a0 = 0`` gives the steady Jacobian ``K`` and with ``a0 = 1, dt = 1`` gives ``K + M``.

Double layers (not in the time-domain DFN) are added here as an extra mass form on ``model.V``:
``C_dl a_p d(phi_s - phi_e)/dt`` per population (``a_p = 3 eps_p / R_p``) in both charge balances,
and ``C_dl,Li d(eta_Li)/dt`` (``eta_Li = -phi_e``) at the lithium foil.  They carry charge only
(no Li+ source in the salt balance), as in the usual non-faradaic double-layer model
(e.g. Ong & Newman, J. Electrochem. Soc. 146 (1999) 4360).

Frequency domain
----------------
The applied current enters the residual as ``I_app v[phi_s] ds(RIGHT)`` (load vector ``b``) and the
voltage is ``phi_s`` at the current collector (``V = b . u``), so a current perturbation ``dI``
(discharge positive) gives ``(K + i w M) du = -b dI`` and ``dV = b . du``.  The impedance is
reported with the usual sign, ``Z = -dV/dI_discharge = dV/dI_charge = b^T (K + i w M)^-1 b`` (+ the
contact resistance ``positive.contact_resistance_ohm_m2`` in series, when the parameter set has one), so
``Re Z > 0`` and capacitive arcs have ``-Im Z > 0``.  PETSc has real scalars here: each frequency is
one LU solve (MUMPS) of the real block system ``[[K, -w M], [w M, K]] [x_r; x_i] = [b; 0]`` (one
assembled AIJ matrix, stored zeros of the blocked pattern dropped),
``Z = b.x_r + i b.x_i``, in ohm m2 of electrode (geometric) area (x 1e4 for ohm cm2).

Radial resolution
-----------------
The DFN's particles have N uniform radial volumes.  Once the diffusion length ``sqrt(D / w)``
falls below ~2 volumes, the outer half volume acts as a spurious series resistance
``|dU/dc| (R/N) / (2 F D)`` instead of the vanishing Warburg impedance, so the spectrum is radially
resolved only up to :meth:`LinearisedDFN.resolved_frequency_hz` (first-order in 1/N above it,
second-order below; tests/verification/test_impedance.py).  For NMC particles of 5.65 um and
D = 4e-15 m2/s that is 0.005 Hz at N = 32 and 0.08 Hz at N = 128: the ``impedance`` section has its
own ``radial_volumes`` for this reason.

Warburg analysis (the paper's Note S1 is not available; its ref. [36] and the usual practice use the
semi-infinite Warburg relation of Bard & Faulkner, Electrochemical Methods, 2nd ed., ch. 10)
------------------------------------------------------------------------------------------------
In the diffusion region ``Z' = R + sigma_W w^-1/2``; ``sigma_W`` (ohm m2 s^-1/2) is the slope of a
least-squares line of ``Z'`` against ``w^-1/2`` (``w = 2 pi f``) over the Warburg window: either a
configured frequency window, or the lowest-frequency run of at least ``min_points`` consecutive
points whose Nyquist-plot direction ``atan(d(-Z'')/dZ')`` is within ``tolerance_deg`` of 45 deg.
The apparent diffusivity is::

    D_app = R^2 T^2 / (2 A^2 n^4 F^4 C^2 sigma^2)

with ``R`` the gas constant, ``T`` the cell temperature (parameter file), ``n = 1``, ``F`` Faraday's
constant, ``A = 1 m2`` (the impedance is already per m2 of geometric electrode area, so
``A sigma`` is the areal ``sigma_W``: identical to the experimental ``A = 0.785 cm2`` with ``sigma``
in ohm s^-1/2) and ``C`` the lithium concentration in the active material at the rest state,
``C = c_max sto`` (mol/m3).  The formula assumes a Nernstian OCP slope and the geometric area:
it is an *apparent* value, not the model's solid diffusivity.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from layerlab.electrochem.dfn import LEFT, RIGHT, DFNModel
from layerlab.electrochem.electrolyte import evaluate, stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, GAS_CONSTANT
from layerlab.errors import InputError, require
from layerlab.fe import MPI, PETSc, fem, ufl

log = logging.getLogger("layerlab.electrochem")

OHM_M2_TO_OHM_CM2 = 1.0e4


@dataclass(frozen=True)
class ImpedanceSettings:
    """The ``impedance`` config section (defaults also in ``workflow/schemas/impedance.schema.yaml``).

    double_layer_capacitance_F_m2 : per m2 of particle surface; 0.2 F/m2 = 20 uF/cm2, within the
        10-40 uF/cm2 typical of electrode double layers (Bard & Faulkner, 2nd ed., sec. 13.2)
    lithium_double_layer_capacitance_F_m2 : per m2 of lithium foil (same source)
    warburg_window_hz : ``None`` (auto: the 45 deg region) or ``(f_low, f_high)``
    radial_volumes : radial control volumes of the linearised model (None: the ``electrochem``
        discretisation's); the spectrum is resolved up to :meth:`LinearisedDFN.resolved_frequency_hz`
    """

    sweeps: tuple[str, ...] = ()
    frequency_min_hz: float = 1.0e-3
    frequency_max_hz: float = 1.0e5
    points_per_decade: int = 10
    state_of_charge: float = 0.5
    double_layer_capacitance_F_m2: float = 0.2
    lithium_double_layer_capacitance_F_m2: float = 0.2
    warburg_window_hz: tuple[float, float] | None = None
    warburg_tolerance_deg: float = 10.0
    warburg_min_points: int = 4
    radial_volumes: int | None = 128

    def __post_init__(self) -> None:
        f = "impedance"
        require(self.frequency_min_hz > 0, f"{f}.frequency_min_hz", f"got {self.frequency_min_hz!r}", "> 0 Hz")
        require(self.frequency_max_hz > self.frequency_min_hz, f"{f}.frequency_max_hz",
                f"got {self.frequency_max_hz!r}", f"> frequency_min_hz ({self.frequency_min_hz})")
        require(self.points_per_decade >= 1, f"{f}.points_per_decade", f"got {self.points_per_decade!r}", ">= 1")
        require(0 < self.state_of_charge < 1, f"{f}.state_of_charge", f"got {self.state_of_charge!r}", "(0, 1)")
        for name in ("double_layer_capacitance_F_m2", "lithium_double_layer_capacitance_F_m2"):
            require(getattr(self, name) >= 0, f"{f}.{name}", f"got {getattr(self, name)!r}", ">= 0")
        require(0 < self.warburg_tolerance_deg < 45, f"{f}.warburg_tolerance_deg",
                f"got {self.warburg_tolerance_deg!r}", "(0, 45) deg")
        require(self.warburg_min_points >= 2, f"{f}.warburg_min_points", f"got {self.warburg_min_points!r}", ">= 2")
        require(self.radial_volumes is None or self.radial_volumes >= 1, f"{f}.radial_volumes",
                f"got {self.radial_volumes!r}", "null or >= 1")
        w = self.warburg_window_hz
        if w is not None:
            require(len(w) == 2 and 0 < w[0] < w[1], f"{f}.warburg_window_hz", f"got {w!r}",
                    "null or [f_low, f_high] with 0 < f_low < f_high")

    def frequencies_hz(self) -> np.ndarray:
        """Log-spaced frequencies, ascending, ``points_per_decade`` per decade, both ends included."""
        decades = math.log10(self.frequency_max_hz / self.frequency_min_hz)
        n = max(2, int(round(decades * self.points_per_decade)) + 1)
        return np.logspace(math.log10(self.frequency_min_hz), math.log10(self.frequency_max_hz), n)


def rest_stoichiometry(model: DFNModel, state_of_charge: float, v_max_V: float,
                       field: str = "impedance.state_of_charge") -> float:
    """Particle stoichiometry at a state of charge: 0 = ``discharged_stoichiometry``, 1 = OCP at ``v_max_V``."""
    require(0 < state_of_charge < 1, field, f"got {state_of_charge!r}", "(0, 1)")
    pos = model.cell.params.positive
    sto_full = stoichiometry_at_ocp(pos.ocp, v_max_V)
    return pos.discharged_stoichiometry - state_of_charge * (pos.discharged_stoichiometry - sto_full)


class LinearisedDFN:
    """``K``, ``M`` and the current/voltage vector ``b`` of a DFN model about a rest state.

    Parameters
    ----------
    model : the DFN (its state is set to rest at ``stoichiometry``; nothing else is changed)
    stoichiometry : uniform particle stoichiometry of the rest state
    double_layer_F_m2, lithium_double_layer_F_m2 : double-layer capacitances (0: none)
    """

    def __init__(self, model: DFNModel, stoichiometry: float, double_layer_F_m2: float = 0.2,
                 lithium_double_layer_F_m2: float = 0.2) -> None:
        require(0 < stoichiometry < 1, "impedance.stoichiometry", f"got {stoichiometry!r}", "(0, 1)")
        require(not getattr(model, "full", False), "impedance", "a full-cell model",
                "a half cell (lithium foil at x = 0)")
        self.model = m = model
        # series contact resistance of the cathode collector (terminal V = phi_s(L) - I R_c)
        self.contact_resistance_ohm_m2 = float(getattr(model.cell.params.positive, "contact_resistance_ohm_m2", 0.0))
        self.comm = model.comm
        self.stoichiometry = stoichiometry
        m.set_initial_state(stoichiometry)
        m.I_app.value = 0.0
        v, w = ufl.TestFunction(m.V), ufl.TrialFunction(m.V)
        dxv = ufl.dx(domain=m.V.mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
        ds = ufl.Measure("ds", domain=m.V.mesh, subdomain_data=m.facet_tags)
        a_dl = sum(3.0 * m.eps_p[p] / m.cell.cathode.radius_m[p] for p in m.pops)
        c_dl = fem.Constant(m.V.mesh, PETSc.ScalarType(double_layer_F_m2))
        c_li = fem.Constant(m.V.mesh, PETSc.ScalarType(lithium_double_layer_F_m2))
        ie, isl = m.layout.phi_e, m.layout.phi_s
        mass_dl = (c_dl * a_dl * (w[isl] - w[ie]) * (v[isl] - v[ie]) * dxv + c_li * w[ie] * v[ie] * ds(LEFT))
        jac = fem.form(m.jacobian + (m.a[0] / m.dt) * mass_dl)
        saved = [float(c.value) for c in m.a] + [float(m.dt.value)]
        robin = getattr(m, "robin", None)          # CV Robin switch of a contact resistance: off
        robin_saved = float(robin.value) if robin is not None else 0.0
        if robin is not None:
            robin.value = 0.0
        try:
            for c, val in zip(m.a, (0.0, 0.0, 0.0)):
                c.value = val
            m.dt.value = 1.0
            self.K = self._assemble(jac)
            m.a[0].value = 1.0
            self.M = self._assemble(jac)              # K + M
            self.M.axpy(-1.0, self.K, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
            m.a[1].value = -1.0
            res = fem.petsc.assemble_vector(fem.form(m.residual))
            res.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            self.rest_residual_norm = res.norm()
            res.destroy()
        finally:
            for c, val in zip(m.a, saved[:3]):
                c.value = val
            m.dt.value = saved[3]
            if robin is not None:
                robin.value = robin_saved
        self.b = fem.petsc.assemble_vector(fem.form(v[isl] * ds(RIGHT)))
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)

    @staticmethod
    def _assemble(form) -> PETSc.Mat:
        A = fem.petsc.assemble_matrix(form)
        A.assemble()
        return A

    def _block_pattern(self) -> None:
        """CSR pattern of the real block system, built once.

        The blocked P1 space couples every component of neighbouring nodes, but K and M are
        sparse inside those blocks (measured: 9.4e3 nonzeros of 1.2e6 stored at N = 64); the stored
        zeros are dropped (exactly: they are zero in the linearisation), which makes the LU ~100x
        cheaper.  Local rows of each rank: its real rows, then its imaginary rows; a dof ``g`` owned by
        rank r (rows ``o_r .. o_r + n_r``) maps to ``o_r + g`` (real) and ``o_r + n_r + g`` (imaginary).
        """
        ki, kj, kv = self.K.getValuesCSR()
        mi, mj, mv = self.M.getValuesCSR()
        if not (np.array_equal(ki, mi) and np.array_equal(kj, mj)):
            raise RuntimeError("K and M of the linearised DFN have different sparsity patterns")
        n = len(ki) - 1
        rows = np.repeat(np.arange(n), np.diff(ki))
        keep = (kv != 0) | (mv != 0)
        rows, cols, self._kv, self._mv = rows[keep], kj[keep], kv[keep], mv[keep]
        ranges = np.asarray(self.K.getOwnershipRanges())
        owner = np.searchsorted(ranges, cols, side="right") - 1
        re_col = ranges[owner] + cols
        im_col = re_col + (ranges[owner + 1] - ranges[owner])
        o = self.K.getOwnershipRange()[0]
        new_rows = np.concatenate([rows, rows, rows + n, rows + n])
        new_cols = np.concatenate([re_col, im_col, re_col, im_col])
        order = np.lexsort((new_cols, new_rows))
        self._perm = order
        self._indices = new_cols[order].astype(PETSc.IntType)
        self._indptr = np.searchsorted(new_rows[order], np.arange(2 * n + 1)).astype(PETSc.IntType)
        self._n_local = n
        self._row_start = 2 * o

    def _block_matrix(self, omega: float) -> PETSc.Mat:
        """``[[K, -w M], [w M, K]]`` as one MPI AIJ matrix."""
        if not hasattr(self, "_perm"):
            self._block_pattern()
        vals = np.concatenate([self._kv, -omega * self._mv, omega * self._mv, self._kv])[self._perm]
        n2 = 2 * self._n_local
        A = PETSc.Mat().createAIJ(((n2, PETSc.DECIDE), (n2, PETSc.DECIDE)),
                                  csr=(self._indptr, self._indices, vals), comm=self.comm)
        A.assemble()
        return A

    def impedance(self, frequency_hz: float) -> complex:
        """``Z = b^T (K + i w M)^-1 b`` at one frequency (ohm m2, charge-positive sign)."""
        require(np.isfinite(frequency_hz) and frequency_hz > 0, "impedance.frequency_hz",
                f"got {frequency_hz!r}", "> 0 Hz")
        omega = 2.0 * math.pi * frequency_hz
        A = self._block_matrix(omega)
        x, rhs = A.createVecs()
        b = self.b.getArray(readonly=True)
        n = self._n_local
        rhs.setArray(np.concatenate([b, np.zeros(n)]))
        ksp = PETSc.KSP().create(self.comm)
        ksp.setOperators(A)
        ksp.setType("preonly")
        pc = ksp.getPC()
        pc.setType("lu")
        pc.setFactorSolverType("mumps")
        ksp.solve(rhs, x)
        reason = ksp.getConvergedReason()
        xa = x.getArray(readonly=True)
        local = np.array([xa[:n] @ b, xa[n:] @ b])
        for obj in (ksp, A, x, rhs):
            obj.destroy()
        if reason < 0:
            raise RuntimeError(f"impedance LU solve failed at {frequency_hz:g} Hz (KSP reason {reason})")
        zr, zi = self.comm.allreduce(local, op=MPI.SUM)
        return complex(zr + self.contact_resistance_ohm_m2, zi)

    def resolved_frequency_hz(self) -> float:
        """Highest frequency whose solid-diffusion length ``sqrt(D / w)`` spans 2 radial volumes of
        the largest particle (measured: error vs the analytic spherical impedance <~ 3 % there;
        above it the outer half volume acts as a spurious resistance ``|dU/dc| dr / (2 F D)``)."""
        p = self.model.cell.params
        D = p.positive.diffusivity_m2_s
        if callable(D):   # D(sto, T): at the rest stoichiometry
            D = float(D({"sto": self.stoichiometry, "T": p.temperature_K}))
        dr = max(self.model.cell.cathode.radius_m[p] for p in self.model.pops) / self.model.N
        return D / (2.0 * math.pi * (2.0 * dr) ** 2)

    def spectrum(self, frequencies_hz: np.ndarray) -> np.ndarray:
        """Complex impedance (ohm m2) at each frequency."""
        f = np.asarray(frequencies_hz, dtype=float)
        for i, fi in enumerate(f):
            require(np.isfinite(fi) and fi > 0, f"impedance.frequencies_hz[{i}]", f"got {fi!r}", "> 0 Hz")
        return np.array([self.impedance(float(fi)) for fi in f])

    def differential_capacitance_F_m2(self, double_layer_F_m2: float) -> float:
        """dQ/dV of the cathode at rest (particles from the OCP slope, plus the double layers), F/m2."""
        cell = self.model.cell
        pos = cell.params.positive
        s = self.stoichiometry
        h = 1e-6
        dUds = float((evaluate(pos.ocp, np.array(s + h)) - evaluate(pos.ocp, np.array(s - h))) / (2 * h))
        c = 0.0
        for lay in cell.cathode.layers:
            for p, eps in lay.active_fraction.items():
                if eps > 0:
                    c += lay.thickness_m * eps * (FARADAY * pos.max_concentration_mol_m3 / abs(dUds)
                                                  + 3.0 / cell.cathode.radius_m[p] * double_layer_F_m2)
        return c


@dataclass(frozen=True)
class WarburgFit:
    """Least-squares line ``Z' = intercept + sigma w^-1/2`` over ``[f_low, f_high]``."""

    sigma_ohm_m2_s05: float
    intercept_ohm_m2: float
    f_low_hz: float
    f_high_hz: float
    n_points: int
    r_squared: float


def nyquist_angle_deg(Z: np.ndarray) -> np.ndarray:
    """Direction of the Nyquist curve between neighbouring frequencies (ascending), deg:
    ``atan2(d(-Z''), dZ')`` going toward lower frequency; 45 deg on a Warburg line."""
    dre = Z.real[:-1] - Z.real[1:]
    dim = -(Z.imag[:-1] - Z.imag[1:])
    return np.degrees(np.arctan2(dim, dre))


def warburg_window(f_hz: np.ndarray, Z: np.ndarray, tolerance_deg: float = 10.0,
                   min_points: int = 4, f_max_hz: float = math.inf) -> tuple[float, float] | None:
    """The lowest-frequency run of >= ``min_points`` points (all <= ``f_max_hz``) on a 45 deg line
    (None if there is none)."""
    ok = np.abs(nyquist_angle_deg(Z) - 45.0) <= tolerance_deg   # segment k joins points k, k+1
    ok &= np.asarray(f_hz)[1:] <= f_max_hz * (1 + 1e-9)
    k = 0
    while k < len(ok):
        if ok[k]:
            e = k
            while e + 1 < len(ok) and ok[e + 1]:
                e += 1
            if e - k + 2 >= min_points:
                return float(f_hz[k]), float(f_hz[e + 1])
            k = e + 1
        k += 1
    return None


def fit_warburg(f_hz: np.ndarray, Z: np.ndarray, window_hz: tuple[float, float] | None = None,
                tolerance_deg: float = 10.0, min_points: int = 4,
                f_max_hz: float = math.inf) -> WarburgFit | None:
    """Fit ``Z'`` against ``w^-1/2`` over the window (auto-detected below ``f_max_hz`` when None);
    None if no window is found."""
    f_hz = np.asarray(f_hz, dtype=float)
    if window_hz is None:
        window_hz = warburg_window(f_hz, Z, tolerance_deg, min_points, f_max_hz)
        if window_hz is None:
            return None
    sel = (f_hz >= window_hz[0] * (1 - 1e-9)) & (f_hz <= window_hz[1] * (1 + 1e-9))
    if sel.sum() < 2:
        raise InputError("impedance.warburg_window_hz", f"{window_hz} holds {int(sel.sum())} frequencies",
                         "a window with at least 2 of the computed frequencies")
    x = (2 * math.pi * f_hz[sel]) ** -0.5
    y = Z.real[sel]
    slope, icpt = np.polyfit(x, y, 1)
    resid = y - (slope * x + icpt)
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss if ss > 0 else 1.0
    return WarburgFit(float(slope), float(icpt), float(f_hz[sel].min()), float(f_hz[sel].max()),
                      int(sel.sum()), r2)


def apparent_diffusivity_m2_s(sigma_ohm_m2_s05: float, concentration_mol_m3: float,
                              temperature_K: float, n: int = 1, area_m2: float = 1.0) -> float:
    """``D = R^2 T^2 / (2 A^2 n^4 F^4 C^2 sigma^2)``, m2/s (see the module docstring).

    ``sigma`` in ohm s^-1/2 for an electrode of ``area_m2``; the default ``area_m2 = 1`` takes the
    areal coefficient in ohm m2 s^-1/2 (``A sigma`` is what enters)."""
    return (GAS_CONSTANT * temperature_K) ** 2 / (
        2.0 * area_m2 ** 2 * n ** 4 * FARADAY ** 4 * concentration_mol_m3 ** 2 * sigma_ohm_m2_s05 ** 2)


def spherical_diffusion_impedance(omega: np.ndarray, radius_m: float, diffusivity_m2_s: float,
                                  dU_dc_V_m3_mol: float) -> np.ndarray:
    """Finite-space (reflecting centre) spherical diffusion impedance per m2 of particle surface.

    ``Z = -dU/dc R / (F D) tanh(kR) / (kR - tanh(kR))``, ``k = sqrt(i w / D)``; tends to
    ``1 / (i w C)`` (``C = F (R/3) / |dU/dc|``) + ``-dU/dc R / (5 F D)`` as w -> 0 and to the
    semi-infinite Warburg ``-dU/dc / (F sqrt(i w D))`` as w -> oo.
    """
    x = np.sqrt(1j * np.asarray(omega, dtype=float) / diffusivity_m2_s) * radius_m
    t = np.tanh(x)
    return -dU_dc_V_m3_mol * radius_m / (FARADAY * diffusivity_m2_s) * t / (x - t)

