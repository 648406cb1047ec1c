"""Files viz writes: atomic replacement, no shared cache, private folders.

A render that fails half way (disk full, Ctrl-C) must leave the old file intact and no
temporary file behind; drawing from several threads must work; nothing another user
could plant or squat may be read; nothing may pile up in the temporary folder.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
import viz
import viz.files
import viz.player
from viz import backends
from viz.files import private_dir, write_atomic

ROOT = Path(__file__).resolve().parents[1]


def _matrix_graph(seed: int = 0) -> tg.Tensor:
    """A graph with a 10x30 matrix: its drawing carries two heatmaps."""
    rng = np.random.default_rng(seed)
    W = tg.tensor(rng.normal(size=(10, 30)), requires_grad=True, name="W")
    x = tg.tensor(rng.normal(size=30), name="x")
    loss = tg.sum(tg.relu(W @ x))
    loss.backward()
    return loss


# --------------------------------------------------------------------------- write_atomic


def test_write_atomic_replaces_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "a.svg"
    write_atomic(path, b"old")
    write_atomic(path, "new ∂")
    assert path.read_text(encoding="utf-8") == "new ∂"
    assert os.listdir(tmp_path) == ["a.svg"]


def test_write_atomic_keeps_the_modes_an_ordinary_write_gives(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fresh = write_atomic(tmp_path / "fresh.png", b"x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not mkstemp's 0o600
        kept = tmp_path / "kept.png"
        kept.write_bytes(b"x")
        kept.chmod(0o640)
        write_atomic(kept, b"y")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_write_atomic_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.svg"
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_write_atomic_interrupted_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lecture.svg"
    path.write_text("the old drawing")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the bytes go to disk

    monkeypatch.setattr(viz.files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "half a new drawing")
    assert path.read_text() == "the old drawing"
    assert os.listdir(tmp_path) == ["lecture.svg"]


def test_write_atomic_onto_a_folder_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "out.svg").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "out.svg", "x")
    assert os.listdir(tmp_path) == ["out.svg"]


# A render in a process that may write files of at most LIMIT bytes: the honest way to
# run out of disk space half way through writing a file.
_DISK_FULL = """
import resource, signal, sys
import numpy as np, tensorgraph as tg, viz
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
rng = np.random.default_rng(0)
W = tg.tensor(rng.normal(size=(10, 30)), requires_grad=True, name="W")
loss = tg.sum(tg.relu(W @ tg.tensor(rng.normal(size=30))))
loss.backward()
viz.draw(loss).svg()  # fonts and caches are in place before the limit
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
try:
    {call}
except OSError as err:
    print("failed:", err.errno)
    sys.exit(0)
print("wrote it all")
"""


@pytest.mark.parametrize(
    "call",
    [
        "viz.render(loss, sys.argv[1])",
        "viz.animate(loss, sys.argv[1])",
        "viz.render_steps(loss, sys.argv[2], 'svg')",
    ],
    ids=["render", "animate", "render_steps"],
)
def test_disk_full_half_way_keeps_the_old_files(tmp_path: Path, call: str) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    old_frames = {f"frame_{i:03d}.svg": f"old frame {i}" for i in range(3)}
    for name, text in old_frames.items():
        (folder / name).write_text(text)
    picture = tmp_path / ("lecture.html" if "animate" in call else "lecture.svg")
    picture.write_text("the old drawing")
    script = _DISK_FULL.format(limit=4096, call=call)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(picture), str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("failed: 27"), proc.stdout  # EFBIG: the file hit the limit
    assert picture.read_text() == "the old drawing"
    assert {p.name: p.read_text() for p in folder.iterdir()} == old_frames
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["frames", picture.name])


def test_render_steps_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    old = viz.render_steps(x * x, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = viz.player.render_dot
    calls = []

    def fails_on_the_third_frame(source: str, fmt: str = "svg", **kw: object) -> bytes:
        calls.append(fmt)
        if fmt != "json" and calls.count(fmt) == 3:
            raise backends.RenderError("render_dot: failed (a test)")
        return real(source, fmt, **kw)

    monkeypatch.setattr(viz.player, "render_dot", fails_on_the_third_frame)
    y = tg.tensor(2.0, requires_grad=True, name="y")
    with pytest.raises(backends.RenderError):
        viz.render_steps(x * y + x, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.undo()
    # A shorter film replaces a longer one whole: no stale frames of the old film stay.
    longer = viz.render_steps(x * y + x, tmp_path)
    assert len(longer) > len(old)
    shorter = viz.render_steps(x * x, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in shorter]


# --------------------------------------------------------------------------- heatmaps


def test_heatmaps_from_four_threads_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # The old cache wrote every heatmap through one pid-named temporary file: threads
    # drawing the same matrix failed in 85 of 100 rounds.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    loss = _matrix_graph()
    rounds, n = 6, 4
    barrier = threading.Barrier(n)
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                barrier.wait()
                results.append(viz.draw(loss).svg())
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == rounds * n
    assert len(set(results)) == 1
    assert results[0].count("data:image/png;base64,") == 2


def test_heatmaps_write_no_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The pictures travel in the DOT text; a render puts them in a private folder of its
    # own for Graphviz and removes it. Nothing is squatted, planted, shared or left over.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "tensorgraph-heatmaps").write_text("a file squatting the old cache's path")
    loss = _matrix_graph()
    svg = viz.draw(loss).svg()
    assert svg.count("data:image/png;base64,") == 2
    for fmt in ("png", "svg", "dot"):
        viz.render(loss, tmp_path / "out" / f"loss.{fmt}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tensorgraph-heatmaps"]
    # A saved .dot file carries its pictures: rendering it later needs nothing else.
    again = backends.render_dot((tmp_path / "out" / "loss.dot").read_text(), "svg")
    assert again.decode().count("data:image/png;base64,") == 2


def test_image_lines_name_only_files_of_ours(tmp_path: Path) -> None:
    # A DOT text from elsewhere cannot make render_dot write outside its own folder.
    evil = f"// tensorgraph-image ../../{tmp_path.name}/x.png AAAA\n"
    assert backends.embedded_images(evil) == {}


# --------------------------------------------------------------------------- private folders


def test_private_dir_refuses_what_others_could_write(tmp_path: Path) -> None:
    assert private_dir(tmp_path, "mine") == tmp_path / "mine"
    assert stat.S_IMODE((tmp_path / "mine").stat().st_mode) & 0o077 == 0
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert private_dir(tmp_path, "shared") is None
    (tmp_path / "file").write_text("squatter")
    assert private_dir(tmp_path, "file") is None
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    assert private_dir(tmp_path, "link") is None
    if os.getuid() == 0:  # only root can give a folder to another user
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o755)
        os.chown(theirs, 12345, 12345)
        assert private_dir(tmp_path, "theirs") is None


def test_font_cache_is_never_a_folder_others_can_write(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    planted = tmp_path / "xdg" / "tensorgraph"
    planted.mkdir(parents=True)
    planted.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cache = backends._cache_dir()
    assert cache != planted
    assert cache.parent == tmp_path / "tmp"
    assert stat.S_IMODE(cache.stat().st_mode) & 0o022 == 0


@pytest.mark.parametrize("module", ["viz.files", "viz.backends", "viz.dot"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_a_large_heatmap_travels_in_lines_graphviz_can_read(tmp_path):
    """Graphviz's lexer fails on a DOT line over 16 KB, even a comment: a big PNG is cut."""
    import base64

    from viz.heatmap import png_bytes

    png = png_bytes(np.random.default_rng(0).integers(0, 256, (120, 90, 3), dtype=np.uint8))
    name, lines = backends.embed_image(png)
    assert len(png) > 16_384 and max(len(line) for line in lines.splitlines()) < 5000
    # Read back in any order, with a piece repeated (a picture drawn twice), and in the
    # one-line form written before the pieces were numbered.
    shuffled = "\n".join(reversed([*lines.splitlines(), lines.splitlines()[0]]))
    assert backends.embedded_images(shuffled)[name] == png
    one_line = f"// tensorgraph-image {name} {base64.b64encode(png).decode()}"
    assert backends.embedded_images(one_line)[name] == png
    # A layer of random weights, drawn with heatmaps: it rendered a syntax error before.
    W = tg.tensor(np.random.default_rng(1).standard_normal((100, 64)), requires_grad=True)
    loss = (W * W).sum()
    loss.backward()
    out = viz.render(loss, tmp_path / "w.png", heatmaps=True)
    assert out.read_bytes()[:4] == b"\x89PNG"
