"""The image's pinned, hash-checked requirements, cut from requirements.lock.

    python lock.py build <requirements.lock> <out dir>
    python lock.py runtime <pip report.json> <requirements.lock> <out dir>

`build` writes `<out dir>/build.lock`: the build tools (hatchling for fazhi and the services,
setuptools for feedgen, the one dependency without a wheel) with their dependencies, so that no
build fetches an unpinned backend (pip runs with --no-build-isolation after installing them).
`runtime` reads pip's resolution of fazhi and one service (`pip install --dry-run --report`,
every version pinned by the lock) and writes the lock's entries for exactly those packages,
hashes included, to `<out dir>/runtime.lock`. The Dockerfile runs both, and
tests/integration/test_image_dependencies.py replays them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

BUILD_TOOLS = {"hatchling", "packaging", "pathspec", "pluggy", "setuptools", "tomlkit"}
BUILD_TOOLS |= {"trove-classifiers"}


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def blocks(lock: str) -> dict[str, list[str]]:
    """Each locked package's lines (`name==version \\` and its `--hash` lines), by name."""
    found: dict[str, list[str]] = {}
    block: list[str] = []
    for line in lock.splitlines(keepends=True):
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            match = re.match(r"[A-Za-z0-9._-]+", line)
            assert match is not None, line
            block = found.setdefault(canon(match.group()), [])
            block.append(line)
        elif block:
            block.append(line)
    return found


def write(out: str, name: str, locked: dict[str, list[str]], names: set[str]) -> None:
    missing = sorted(names - locked.keys())
    if missing:
        raise SystemExit(f"not pinned in requirements.lock: {missing}")
    Path(out, name).write_text("".join(line for n in sorted(names) for line in locked[n]))


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) == 3:
        write(argv[2], "build.lock", blocks(Path(argv[1]).read_text()), BUILD_TOOLS)
        return 0
    if argv[:1] != ["runtime"] or len(argv) != 4:
        raise SystemExit(__doc__)
    report = json.loads(Path(argv[1]).read_text())
    wanted = {
        canon(item["metadata"]["name"])
        for item in report["install"]
        if "dir_info" not in item["download_info"]  # fazhi and the service come from the tree
    }
    locked = blocks(Path(argv[2]).read_text())
    write(argv[3], "runtime.lock", locked, wanted)
    print(f"runtime dependencies: {len(wanted)} of {len(locked)} locked packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
