"""The calibration package imports neither the CLI nor another stage (issue 15, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("layerlab.cli", "layerlab.settings", "layerlab.aggregate", "layerlab.figures", "layerlab.network",
             "layerlab.transport", "layerlab.wetting", "layerlab.resolved", "layerlab.geometry")


def _loaded_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_calibration_imports_no_cli_and_no_other_stage() -> None:
    stmt = ("import layerlab.electrochem.calibration as c\n"
            "from layerlab.electrochem.calibration import targets, options, variants, runs, fit, write")
    loaded = _loaded_after(stmt)
    assert "layerlab.electrochem.calibration.fit" in loaded          # the import really happened
    bad = [m for m in loaded if m.startswith(FORBIDDEN)]
    assert bad == [], f"calibration pulls in {bad}"


def test_the_cli_module_is_what_imports_the_cli() -> None:
    """The check above can fail: the calibrate command module does load layerlab.cli."""
    loaded = _loaded_after("import layerlab.electrochem.commands_calibrate")
    assert "layerlab.cli" in loaded
