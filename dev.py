#!/usr/bin/env python3
"""Set up and run tensorgraph with nothing but Python 3.11+ and pip.

    python3 dev.py demo [ARGS]   # the main job: `tensorgraph demo` (writes out/index.html)
    python3 dev.py demo --with-torch [ARGS]   # the same, with the PyTorch comparison
    python3 dev.py test [ARGS]   # ruff, then pytest (ARGS go to pytest)
    python3 dev.py bench [ARGS]  # the benchmarks; rewrites BENCHMARKS.md
    python3 dev.py docs          # regenerate docs/derivatives.md and the README's op lists
    python3 dev.py notebooks     # the course notebooks (notebooks/) in JupyterLab

Each command first makes a virtual environment in .venv (Debian and Ubuntu refuse
`pip install` into the system Python) and installs the project into it, editable,
with the extras the command needs: `demo` the base package only (numpy, networkx,
graphviz, matplotlib, tqdm, pygraphviz), `--with-torch` adds the `torch` extra
(torch==2.13.0, CPU), `test` the `test` extra (pytest, hypothesis, ruff, torch,
scikit-learn, micrograd, playwright, ...). Later runs skip the install while
pyproject.toml is unchanged and the extras were installed. Nothing outside this
folder is touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

# The extras of pyproject.toml each command installs ("" = the base package only).
EXTRAS = {
    "demo": "",
    "test": "test",
    "bench": "test,bench",
    "docs": "",
    "notebooks": "notebooks",
}
WITH_TORCH = "--with-torch"  # `demo --with-torch`: add the `torch` extra


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def extras_for(command: str, args: list[str]) -> tuple[str, list[str]]:
    """The extras ``command`` installs, and the arguments left for it to run with.

    >>> extras_for("demo", ["--with-torch", "--quick"])
    ('torch', ['--quick'])
    >>> extras_for("demo", [])
    ('', [])
    """
    extras = {e for e in EXTRAS[command].split(",") if e}
    if command == "demo" and WITH_TORCH in args:
        extras.add("torch")
        args = [a for a in args if a != WITH_TORCH]
    return ",".join(sorted(extras)), args


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


# The lines of pip's output worth one line each on the way: what it fetches and installs.
_PROGRESS = re.compile(
    r"^(Collecting|Processing|Downloading|Building|Installing|Successfully|ERROR)\b"
)


def _progress_line(line: str) -> str | None:
    """One of pip's lines, shortened for the progress list, or None to leave it out.

    >>> _progress_line("Processing /opt/w/numpy-2.4.whl (from tensorgraph==0.1.0)")
    'Processing numpy-2.4.whl'
    >>> _progress_line("Installing build dependencies: started") is None
    True
    """
    text = line.strip()
    if not _PROGRESS.match(text) or text.endswith(": started"):
        return None
    text = re.sub(r" \(from [^)]*\)$", "", text)  # which package wanted it: noise here
    text = re.sub(r"^Processing \S*/", "Processing ", text)  # a local wheel: its file name
    return text if len(text) <= 160 else text[:157] + "..."


def pip_install(pip: list[str], target: str) -> None:
    """``pip install -e target``, printing one line per package it collects and one per
    stage, not pip's every line; if pip fails, everything it said is printed."""
    cmd = [*pip, "install", "--disable-pip-version-check", "--progress-bar", "off", "-e", target]
    print("+", " ".join(cmd), flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    said: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        said.append(line)
        text = _progress_line(line)
        if text is not None:
            print("  " + text, flush=True)
    if proc.wait() != 0:
        print("".join(said), end="", file=sys.stderr)
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    print(f"  installed in {time.perf_counter() - start:.0f} s", flush=True)


def install(extras: str) -> None:
    """Install the project with ``extras`` unless this pyproject.toml already was, with them."""
    stamp = VENV / ".tensorgraph-installed"
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    wanted = {e for e in extras.split(",") if e}
    fresh = not PY.exists()
    if fresh:
        print(f"[dev.py] making a virtual environment in {VENV}", flush=True)
    pip = make_venv()
    done_key, _, done_extras = (stamp.read_text() if stamp.exists() else "").partition("\n")
    have = {e for e in done_extras.split(",") if e}
    if done_key == key and wanted <= have:
        return
    what = f"with the extras {', '.join(sorted(wanted))}" if wanted else "(the base package)"
    print(f"[dev.py] installing tensorgraph {what} into .venv", flush=True)
    target = f".[{','.join(sorted(wanted))}]" if wanted else "."
    pip_install(pip, target)
    if done_key != key:
        have = set()
    stamp.write_text(key + "\n" + ",".join(sorted(have | wanted)))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command = argv[0]
    extras, args = extras_for(command, argv[1:])
    try:
        install(extras)
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
