"""Modules import on their own, first, in a fresh interpreter: an aggregator that reached into
the web layer made `import gateway.web.wire` fail with a circular import (the app only worked
because it happened to import the aggregators first). One module per layer and every entry
point a tool imports first (one subprocess each, so a few, not all)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_IMPORTS = [
    "gateway.web.wire",
    "gateway.web.sms",
    "gateway.edge",
    "gateway.aggregators.dartmedia",
    "gateway.commands",
    "gateway.ussd.menu",
    "gateway.services.outbox",
    "workers.jobs",
]


@pytest.mark.parametrize("name", FIRST_IMPORTS)
def test_a_module_imports_first_in_a_fresh_interpreter(name):
    done = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
