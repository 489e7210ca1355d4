"""The test suite's BigQuery emulator starter (tests/_emulator.py), reused rather than copied.

tests/ is not a package, so the helper module is loaded from its file.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from bench.child import ROOT

_NAME = "_emulator"


def _load() -> ModuleType:
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, ROOT / "tests" / "_emulator.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


_helper = _load()
Emulator = _helper.Emulator
PROJECT: str = _helper.PROJECT
find_emulator_dir = _helper.find_emulator_dir


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released): connections are refused,
    so a client pointed at it fails fast and nothing leaves the machine."""
    return _helper.free_port()
