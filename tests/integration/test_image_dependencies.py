"""The image's dependency install, replayed without Docker: what the Dockerfile's first stage
does, in a fresh venv of this machine's Python 3.11, for every service.

The locked build tools are installed hash-checked (as the image does), pip resolves the
service's runtime closure against the lock's pins (`--dry-run --report`, builds without
isolation), `deploy/image/lock.py` cuts the runtime lock, and every file of it is fetched
hash-checked (`pip download --require-hashes`). A package missing from the lock, a hash that does
not match, or a build that would fetch an unpinned backend fails here instead of in the image
build. The files come from a wheelhouse under .local/, filled once per requirements.lock from
the index (hash-checked as well), so the replay itself runs offline and quickly.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from fazhi.topology import SERVICES, ServiceTopology

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
LOCK_SCRIPT = ROOT / "deploy" / "image" / "lock.py"
WHEELHOUSE = ROOT / ".local" / "image-wheels"
PROJECTS = ["./libs/fazhi", *(f"./services/{s.name}" for s in SERVICES)]


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout}{result.stderr}"
    return result.stdout


def pins(tmp: Path) -> Path:
    """The lock without its hashes: the versions pip may choose (the Dockerfile's sed)."""
    path = tmp / "pins.txt"
    text = re.sub(r"(?m)^\s*--hash.*\n", "", LOCK.read_text())
    path.write_text(re.sub(r"\s*\\$", "", text, flags=re.M))
    return path


def resolve(python: Path, tmp: Path, projects: list[str], *index: str) -> Path:
    """pip's resolution of `projects` within the lock's pins, cut into `tmp/runtime.lock`."""
    report = tmp / "report.json"
    run(
        python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-build-isolation",
        "--quiet", *index, "--report", report, "-c", pins(tmp), *projects,
    )  # fmt: skip
    run(python, LOCK_SCRIPT, "runtime", report, LOCK, tmp)
    return tmp / "runtime.lock"


def fill_wheelhouse(python: Path, tmp: Path) -> tuple[str, ...]:
    """Every file the four images install, fetched hash-checked once per lock."""
    stamp = WHEELHOUSE / (hashlib.sha256(LOCK.read_bytes()).hexdigest() + ".done")
    offline = ("--no-index", "--find-links", str(WHEELHOUSE))
    if stamp.exists():
        return offline
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    runtime = resolve(python, tmp, PROJECTS)
    for lock in (tmp / "build.lock", runtime):
        run(
            python, "-m", "pip", "download", "--quiet", "--require-hashes", "--no-deps",
            "--no-build-isolation", "-d", WHEELHOUSE, "-r", lock,
        )  # fmt: skip
    stamp.touch()
    return offline


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, ...]]:
    """A venv as the image's, with the locked build tools installed hash-checked."""
    assert sys.version_info[:2] == (3, 11), "the image runs Python 3.11"
    tmp = tmp_path_factory.mktemp("image")
    venv.create(tmp / "venv", with_pip=True)
    python = tmp / "venv" / "bin" / "python"
    run(python, LOCK_SCRIPT, "build", LOCK, tmp)
    stamp = WHEELHOUSE / (hashlib.sha256(LOCK.read_bytes()).hexdigest() + ".done")
    index = ("--no-index", "--find-links", str(WHEELHOUSE)) if stamp.exists() else ()
    run(python, "-m", "pip", "install", "--quiet", *index, "--require-hashes", "-r",
        tmp / "build.lock")  # fmt: skip
    return python, fill_wheelhouse(python, tmp)


def test_the_dockerfile_runs_the_steps_replayed_here() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "python lock.py build requirements.lock /tmp" in dockerfile
    assert "pip install --require-hashes -r /tmp/build.lock" in dockerfile
    assert "python lock.py runtime /tmp/report.json requirements.lock /tmp" in dockerfile
    assert "pip install --require-hashes --no-build-isolation -r /tmp/runtime.lock" in dockerfile


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_image_installs_only_locked_hash_checked_files(
    image_venv: tuple[Path, tuple[str, ...]], service: ServiceTopology, tmp_path: Path
) -> None:
    python, offline = image_venv
    runtime = resolve(python, tmp_path, ["./libs/fazhi", f"./services/{service.name}"], *offline)
    names = set(re.findall(r"(?m)^([A-Za-z0-9._-]+)==", runtime.read_text()))
    assert not names & {"pytest", "mypy", "ruff", "playwright"}, "dev tools stay out of the image"
    run(
        python, "-m", "pip", "download", "--quiet", *offline, "--require-hashes", "--no-deps",
        "--no-build-isolation", "-d", tmp_path / "files", "-r", runtime,
    )  # fmt: skip
