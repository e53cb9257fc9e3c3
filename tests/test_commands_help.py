"""Every management command of the project answers `--help` (an operator's first question)."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(
    path.stem
    for app in ("fulfillment", "pickups", "monitoring", "backoffice", "live", "api", "notifications")
    for path in (ROOT / app / "management" / "commands").glob("*.py")
    if not path.stem.startswith("_")
)


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    out = io.StringIO()
    with pytest.raises(SystemExit) as done:
        call_command(command, "--help", stdout=out)
    assert done.value.code == 0
