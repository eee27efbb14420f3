"""`make screenshots` (scripts/screenshots.py) on a machine where the tour cannot be shown yet:
it says what to run instead of a browser's traceback."""

from __future__ import annotations

import importlib
import json
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def screenshots() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("screenshots")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_demo_keys_it_says_make_run_writes_them(
    screenshots: ModuleType, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        screenshots.main(["--keys", str(tmp_path / "demo-keys.json")])
    assert "`make run` writes them" in str(exited.value.code)


def test_with_the_apis_down_it_says_to_start_the_stack(
    screenshots: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "demo-keys.json"
    keys.write_text(json.dumps({"roles": {}}))
    port = _closed_port()
    monkeypatch.setattr(
        screenshots,
        "_ports",
        lambda target: dict.fromkeys(("open-government", "emergency", "supervision"), port),
    )
    with pytest.raises(SystemExit) as exited:
        screenshots.main(["--keys", str(keys)])
    message = str(exited.value.code)
    assert f"127.0.0.1:{port}/healthz" in message
    assert "start the stack with `make run`, then `make demo`" in message
