"""The systemd units of deploy/systemd/ pass `systemd-analyze verify` (unknown keys, bad
values, missing executables), each with the shared drop-in (restart policy, hardening)
folded in, and with the install paths pointed at this checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.deploy

UNITS = ROOT / "deploy" / "systemd"
DROP_IN = UNITS / "lapor-.service.d" / "10-common.conf"


def _installed(unit: str, env_file: Path) -> str:
    """The unit as it would run here: /opt paths to this checkout, the drop-in appended."""
    text = (UNITS / unit).read_text()
    text = text.replace("/opt/lapor-gateway/.venv/bin/", f"{Path(sys.executable).parent}/")
    text = text.replace("/opt/lapor-gateway", str(ROOT)).replace("/etc/lapor-gateway/env", str(env_file))
    return text + "\n" + DROP_IN.read_text()


@pytest.mark.parametrize(
    "unit",
    [
        pytest.param("lapor-gateway.service", id="receiver"),
        pytest.param("lapor-worker@.service", id="worker-template"),
        pytest.param("lapor-cron.service", id="cron"),
    ],
)
def test_unit_verifies(tmp_path, unit):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    env_file = tmp_path / "env"
    env_file.write_text("REDIS_URL=redis://127.0.0.1:6379/0\nGATEWAY_QUEUE=gateway\n")
    path = tmp_path / unit
    path.write_text(_installed(unit, env_file))
    target = path if "@." not in unit else path.with_name(unit.replace("@.", "@1."))
    if target != path:
        path.rename(target)
    out = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(target)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr
