"""One case's validated DFN input: cell, discretisation, rate test, mechanisms applied.

Shared by the ``dfn`` / ``fullcell`` commands and the calibration (which must not import the CLI).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from layerlab.io import input_path


@dataclasses.dataclass(frozen=True)
class Prepared:
    """Everything one DFN run of a case needs, and what the active mechanisms did."""

    cell: Any
    disc: Any
    test: Any
    mechanisms: dict


def prepare_case(config: Mapping[str, Any], case_name: str, tortuosity: str | None = None) -> Prepared:
    """Validated cell, discretisation and rate test of one case, mechanisms applied.

    Parameters come from ``electrochem.parameters`` with ``electrochem.parameter_overrides``, then
    the mechanisms listed in ``mechanisms.active`` (see :mod:`layerlab.electrochem.mechanisms`;
    none active: exactly the plain design).
    """
    from layerlab.cases import parse_case
    from layerlab.electrochem.cell import HalfCell
    from layerlab.electrochem.dfn import Discretisation
    from layerlab.electrochem.mechanisms import apply_mechanisms
    from layerlab.electrochem.protocols import RateTest
    from layerlab.electrochem.pybamm_import import load_parameter_source
    from layerlab.errors import InputError

    ec = dict(config.get("electrochem", {}))
    case = parse_case(case_name)
    params = load_parameter_source(ec.get("parameters"))   # a YAML file, pybamm:<SetName> or a BPX file
    params = params.with_overrides(ec.get("parameter_overrides"))
    tau = tortuosity if tortuosity is not None else ec.get("tortuosity")
    if isinstance(tau, str):
        tau = input_path(tau)
    applied = apply_mechanisms(config, case, params, tau)
    cell = HalfCell(applied.params, applied.cathode)
    disc_fields = {f.name for f in dataclasses.fields(Discretisation)}
    disc_cfg = dict(ec.get("discretisation", {}))
    for key in disc_cfg:
        if key not in disc_fields:
            raise InputError(f"electrochem.discretisation.{key}", "unknown key", ", ".join(sorted(disc_fields)))
    disc = Discretisation(**disc_cfg)
    proto = dict(ec.get("protocol", {}))
    proto_fields = {f.name for f in dataclasses.fields(RateTest)}
    for key in proto:
        if key not in proto_fields:
            raise InputError(f"electrochem.protocol.{key}", "unknown key", ", ".join(sorted(proto_fields)))
    if "c_rates" in proto:
        proto["c_rates"] = tuple(float(c) for c in proto["c_rates"])
    test = RateTest(**proto)
    test.validate(cell)
    return Prepared(cell, disc, test, applied.record)
