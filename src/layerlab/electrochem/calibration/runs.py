"""DFN runs of the calibration: the paper's rate test per case, tolerant of solver failures."""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Mapping, Sequence

from layerlab.units import MAH_G_TO_C_KG

log = logging.getLogger("layerlab.electrochem")

MAX_STEPS = 1500
"""Accepted steps per protocol step in calibration runs (a normal one takes 100-200): a run that
needs more (seen at extreme trial parameters) stops as a solver failure instead of taking hours."""


def rate_capacities(new_integrator: Callable[[], Any], test) -> list[tuple[float, float, str]]:
    """The paper's rate test (as :func:`~layerlab.electrochem.protocols.run_rate_test`), tolerant of
    solver failures: (C-rate, discharge capacity C/m2, note) per rate.

    A discharge whose Newton solve fails after all step halvings (seen with a low electronic
    conductivity, in the steep fall of the voltage at the end of discharge) counts the charge passed
    up to the last accepted step, and is noted; a failed charge gives NaN.  After a failure the next
    rate starts from a fresh model (rest at the initial stoichiometry) instead of the failed state,
    and a failed charge is retried once from a fresh model.
    """
    from layerlab.electrochem.dfn import SolverFailure
    from layerlab.electrochem.protocols import cc, rest
    integrator = None
    out: list[tuple[float, float, str]] = []
    try:
        for c in test.c_rates:
            for attempt in (0, 1):          # a failed charge is retried once from a fresh model
                fresh = integrator is None
                if fresh:
                    integrator = new_integrator()
                cell = integrator.m.cell
                try:
                    for segment in test.charge_segments(cell, c):   # the configured protocol
                        integrator.run(segment)
                    break
                except SolverFailure as err:
                    log.warning("charge before %gC failed%s: %s", c, " (fresh model)" if fresh else "", err)
                    integrator.m.close()
                    integrator = None
                    if fresh:
                        break
            if integrator is None:
                out.append((c, float("nan"), "charge failed"))
                continue
            q1 = integrator.charge_C_m2
            try:
                integrator.run(cc(cell, c, v_min_V=test.v_min_V))
                out.append((c, integrator.charge_C_m2 - q1, ""))
                if test.rest_s > 0:            # as run_rate_test: rest after each discharge
                    integrator.run(rest(test.rest_s))
            except SolverFailure as err:
                note = f"discharge solve failed; capacity up to the last accepted step ({err})"
                log.warning("%gC: %s", c, note)
                out.append((c, integrator.charge_C_m2 - q1, note))
                integrator.m.close()
                integrator = None
    finally:
        if integrator is not None:
            integrator.m.close()
    return out


def rate_sequence(test: Any, rates: Sequence[float]) -> tuple[float, ...]:
    """The C-rates to run so that each requested rate sees the campaign's rate history.

    A charge without a CV step (``test.cv`` false, e.g. the symmetric protocol) leaves a state that
    depends on the discharges before it, so the configured sequence (``test.c_rates``) is run up to
    the last requested rate, and requested rates it lacks are appended in ascending order.  With a CV
    step ending at ``cv_end_c_rate`` every discharge starts from the same charged state, and only the
    requested rates are run (ascending)."""
    wanted = sorted(set(float(c) for c in rates))
    if test.cv:
        return tuple(wanted)
    configured = [float(c) for c in test.c_rates]
    last = max((i for i, c in enumerate(configured) if c in wanted), default=-1)
    prefix = configured[:last + 1]
    return tuple(prefix + [c for c in wanted if c not in prefix])


def campaign_runs(config: Mapping[str, Any]) -> dict[str, list[float]]:
    """Every case of ``electrochem.sweeps`` (no seed) at the protocol's C-rates: the campaign's rate tests."""
    from layerlab.cases import cases_of
    ec = config.get("electrochem") or {}
    rates = [float(c) for c in (ec.get("protocol") or {}).get("c_rates", [])]
    sweeps = ec.get("sweeps") or []
    return {c.name: rates for c in cases_of(config, sweeps, None)} if sweeps and rates else {}


def run_capacities(config: Mapping[str, Any], runs: Mapping[str, Sequence[float]],
                   notes: dict[tuple[str, float], str] | None = None) -> dict[tuple[str, float], float]:
    """Discharge capacity (mAh/g) per (case, C-rate): the paper's rate test at those rates, serial,
    after the rates before them in the configured sequence where the protocol needs them
    (:func:`rate_sequence`).

    ``notes`` (if given) receives a note per (case, C-rate) whose discharge did not end normally.
    """
    from layerlab.electrochem.prepare import prepare_case
    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.integrator import Integrator
    from layerlab.fe import MPI
    out: dict[tuple[str, float], float] = {}
    for case, rates in runs.items():
        cfg = copy.deepcopy(dict(config))
        sequence = rate_sequence(prepare_case(cfg, case).test, rates)
        cfg.setdefault("electrochem", {}).setdefault("protocol", {})["c_rates"] = list(sequence)
        prep = prepare_case(cfg, case)
        res = rate_capacities(lambda: Integrator(DFNModel(prep.cell, prep.disc, comm=MPI.COMM_SELF),
                                                 record_profiles=False, max_steps=MAX_STEPS), prep.test)
        mass = prep.cell.cathode.active_mass_kg_m2
        wanted = set(float(c) for c in rates)
        for c, q, note in res:
            if c not in wanted:            # a rate run only for the history of the next ones
                continue
            out[(case, c)] = q / mass / MAH_G_TO_C_KG
            if note and notes is not None:
                notes[(case, c)] = note
    return out
