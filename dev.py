#!/usr/bin/env python3
"""Set up and run tensorgraph with nothing but Python 3.11+ and pip.

    python3 dev.py demo [ARGS]   # the main job: `tensorgraph demo` (writes out/index.html)
    python3 dev.py test [ARGS]   # ruff, then pytest (ARGS go to pytest)
    python3 dev.py bench [ARGS]  # the benchmarks; rewrites BENCHMARKS.md
    python3 dev.py docs          # regenerate docs/derivatives.md and the README's op lists
    python3 dev.py notebooks     # the course notebooks (notebooks/) in JupyterLab

Each command first makes a virtual environment in .venv (Debian and Ubuntu refuse
`pip install` into the system Python) and installs the project into it, editable,
with the extras the command needs. Later runs skip the install while pyproject.toml
is unchanged. Nothing outside this folder is touched.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

EXTRAS = {
    "demo": "test",
    "test": "test",
    "bench": "test,bench",
    "docs": "",
    "notebooks": "notebooks",
}


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def make_venv() -> list[str]:
    """Create .venv; return the pip command that installs into it."""
    if not PY.exists():
        try:
            venv.create(VENV, with_pip=True)
        except (subprocess.CalledProcessError, OSError):
            # Debian's python3 without python3-venv has no ensurepip: make the venv
            # without pip and drive it with the system pip's --python option.
            venv.create(VENV, with_pip=False, clear=True)
    has_pip = subprocess.run([PY, "-m", "pip", "--version"], capture_output=True).returncode == 0
    if has_pip:
        return [str(PY), "-m", "pip"]
    return [sys.executable, "-m", "pip", "--python", str(PY)]


def install(extras: str) -> None:
    """Install the project with ``extras`` unless this pyproject.toml already was, with them."""
    stamp = VENV / ".tensorgraph-installed"
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    wanted = {e for e in extras.split(",") if e}
    pip = make_venv()
    done_key, _, done_extras = (stamp.read_text() if stamp.exists() else "").partition("\n")
    have = {e for e in done_extras.split(",") if e}
    if done_key == key and wanted <= have:
        return
    target = f".[{','.join(sorted(wanted))}]" if wanted else "."
    run(*pip, "install", "--disable-pip-version-check", "-q", "-e", target)
    if done_key != key:
        have = set()
    stamp.write_text(key + "\n" + ",".join(sorted(have | wanted)))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    install(EXTRAS[command])
    try:
        if command == "demo":
            run(BIN / "tensorgraph", "demo", *args)
        elif command == "test":
            run(PY, "-m", "ruff", "check", ".")
            run(PY, "-m", "ruff", "format", "--check", ".")
            run(PY, "-m", "pytest", *args)
        elif command == "bench":
            run(PY, "benchmarks/run.py", *args)
        elif command == "notebooks":
            # JupyterLab refuses root unless told (containers, CI machines run as root).
            root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
            run(BIN / "jupyter", "lab", ROOT / "notebooks", *root, *args)
        elif command == "docs":
            run(PY, "-c", "import tensorgraph as tg; print(*tg.ops.write_docs(), sep='\\n')")
    except subprocess.CalledProcessError as err:
        return err.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
