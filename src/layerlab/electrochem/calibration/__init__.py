"""Calibration: fit a few uncertain DFN parameters to the paper's VISIBLE discharge capacities.

Targets are the numbers stated in ``paper_targets.yaml`` under ``rate_capability`` (keys such as
``"1C"`` with a numeric value); notes, strings and anything marked held out are skipped, so held-out
values are never read.  Which parameters may be fitted, and why (defaults in
``workflow/schemas/calibration.schema.yaml``):

* ``positive.diffusivity_m2_s``: no NMC83 value is published and NMC GITT diffusivities span
  1e-15 to 3e-13 m2/s between methods (NOTES.md): the least known number of the model;
* ``positive.exchange_current_coefficient``: borrowed from NMC811 (Chen2020);
* ``positive.electronic_conductivity_S_m``: the composite value of the paper's 2 wt% carbon electrode
  was never measured.

Each mechanism set (``calibration.sets``: mechanisms switched on + parameters fitted) is fitted on
its own by bounded least squares (``scipy.optimize.least_squares``, trust region reflective) on
``x = ln(p / sqrt(lo hi)) / ln(sqrt(hi / lo))`` in [-1, 1], residuals in mAh/g, with a hard budget of
DFN evaluations (finite-difference ones included); the best evaluation seen is kept.  A set
*explains* the visible numbers when its RMSE is at most ``explain_rmse_mAh_g`` and every ordering the
paper states at 1C holds; the report names the explaining set with the fewest fitted parameters,
or says that none does.

Modules, one job each: :mod:`.targets` (the paper's visible values and stated orders),
:mod:`.options` (checked options), :mod:`.variants` (config of a set with its values; the stage
outputs it reads), :mod:`.runs` (the DFN rate tests), :mod:`.fit` (least squares and verdict),
:mod:`.write` (residual table, parameter file, summary).  None imports the CLI or another stage.
"""

from __future__ import annotations

from layerlab.electrochem.calibration.fit import Calibration, SetResult, calibrate, calibrate_set, fit_set, verdict
from layerlab.electrochem.calibration.options import FitParameter, MechanismSet, Options, options_from_config
from layerlab.electrochem.calibration.runs import MAX_STEPS, campaign_runs, rate_capacities, run_capacities
from layerlab.electrochem.calibration.targets import Target, load_targets, ordering_rows
from layerlab.electrochem.calibration.variants import check_variants, required_inputs, variant_config
from layerlab.electrochem.calibration.write import (COLUMNS, calibrated_parameters_yaml, report_rows,
                                                     set_entry, set_result_from_entry, summary, write_outputs)

__all__ = ["Target", "load_targets", "ordering_rows", "FitParameter", "MechanismSet", "Options",
           "options_from_config", "variant_config", "required_inputs", "check_variants", "MAX_STEPS", "campaign_runs", "rate_capacities",
           "run_capacities", "SetResult", "Calibration", "fit_set", "calibrate", "calibrate_set", "verdict",
           "report_rows", "calibrated_parameters_yaml", "summary", "set_entry", "set_result_from_entry", "COLUMNS",
           "write_outputs"]
