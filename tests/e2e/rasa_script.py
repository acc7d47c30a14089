"""Runs a check script in the Rasa environment (Python 3.10) and reads its report."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from daogou.botprep import RASA_PYTHON, rasa_env
from daogou.settings import REPO_ROOT


def run_rasa_script(code: str, *args: str, timeout: float = 600) -> dict[str, Any]:
    """The JSON object the script prints on its last line of output."""
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", code, *args], cwd=REPO_ROOT, env=rasa_env(),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
