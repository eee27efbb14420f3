"""The dependency direction of the code, as `lint-imports` checks it against the contracts in
`pyproject.toml`: services never import each other, the library never imports a service, rules
and contracts import no transport, storage or web code, and the library's layers point down."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "fazhi": ROOT / "libs/fazhi/src/fazhi",
    **{
        path.name: path
        for folder in (ROOT / "services").iterdir()
        for path in (folder / "src").iterdir()
        if (path / "__init__.py").exists()
    },
}


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache",
         "--config", str(ROOT / "pyproject.toml")],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_code_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_a_rule_importing_web_code_breaks_the_contracts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name, path in PACKAGES.items():
        shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    units = src / "fazhi/rules/units.py"
    units.write_text(units.read_text() + "\nimport fazhi.web.app  # a rule reaching for the web\n")
    result = lint_imports(tmp_path, src)
    assert result.returncode != 0
    assert "Rules and contracts import no transport, storage or web code BROKEN" in result.stdout
    assert "fazhi.rules.units -> fazhi.web.app" in result.stdout


def test_a_service_importing_another_breaks_the_contracts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name, path in PACKAGES.items():
        shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    flows = src / "supervision/items/flows.py"
    flows.write_text(flows.read_text() + "\nimport emergency.domain  # reaching into a service\n")
    result = lint_imports(tmp_path, src)
    assert result.returncode != 0
    assert "Services never import each other BROKEN" in result.stdout
