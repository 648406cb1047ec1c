"""Turn DOT text into SVG, PNG or PDF bytes with whatever Graphviz is available.

Backends, tried in this order by ``backend="auto"``:

1. ``"dot"``: the system Graphviz ``dot`` on PATH, run as a subprocess (the user's own
   install wins).
2. ``"pygraphviz"``: in-process Graphviz from the ``pygraphviz>=2.0.4`` wheels, which
   bundle Graphviz with cairo and pango, so ``pip install`` alone renders SVG, PNG and
   (with the Linux wheels) PDF.

When neither exists, :class:`RendererNotFound` names both ways to get one.

Fonts: Graphviz finds fonts through fontconfig. A machine without system fonts would
draw every letter as a box, so we ship DejaVu fonts in ``viz/fonts`` and point
fontconfig at a small generated ``fonts.conf`` (only when the user has not set
``FONTCONFIG_FILE`` themselves). In the DOT, use ``fontname="DejaVu Sans,sans-serif"``
and ``"DejaVu Sans Mono,monospace"`` (or plain ``"DejaVu Sans"``, ``"Courier"``):
both backends measure and draw them with DejaVu, and a browser showing the SVG falls
back to the generic family. For bold, use an HTML label ``<B>...</B>``, which the SVG
keeps as ``font-weight="bold"``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

from .files import private_dir, write_atomic

BACKENDS = ("dot", "pygraphviz")
FORMATS = ("svg", "png", "pdf", "dot", "json")

# PNG output is capped: Graphviz happily lays a long chain out 60,000 pt wide, and the
# PNG then takes seconds and hundreds of MB (cairo's own limit is 32767 px). The cap is
# the longest side in pixels; larger drawings are scaled down to fit (SVG is never scaled).
DEFAULT_DPI = 96.0
DEFAULT_MAX_PNG_SIDE = 8000
DEFAULT_TIMEOUT = 60.0  # seconds for one `dot` subprocess

FONT_DIR = Path(__file__).resolve().parent / "fonts"


class RendererNotFound(RuntimeError):
    """No Graphviz renderer is available (neither the ``dot`` program nor pygraphviz)."""


class RenderError(RuntimeError):
    """Graphviz ran but refused the input (bad DOT) or failed to produce output."""


# --------------------------------------------------------------------------- discovery


def _dot_executable() -> str | None:
    return shutil.which("dot")


def _have_pygraphviz() -> bool:
    # find_spec would be cheaper but says nothing about a broken install (a wheel whose
    # bundled libraries fail to load raises OSError). The import costs ~100 ms, once.
    try:
        import pygraphviz  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def available_backends() -> list[str]:
    """The renderers usable on this machine, in the order ``backend="auto"`` tries them.

    >>> set(available_backends()) <= {"dot", "pygraphviz"}
    True
    """
    found = []
    if _dot_executable():
        found.append("dot")
    if _have_pygraphviz():
        found.append("pygraphviz")
    return found


def _not_found_message() -> str:
    return (
        "No Graphviz renderer found. Either install Graphviz's `dot` program "
        "(e.g. `apt-get install graphviz`, `brew install graphviz`, or from "
        "https://graphviz.org/download/), or `pip install 'pygraphviz>=2.0.4'` on a "
        "platform with wheels (Linux x86_64/aarch64, macOS arm64, Windows amd64), which "
        "bundle Graphviz. The DOT text itself needs no renderer: use format='dot'."
    )


# --------------------------------------------------------------------------- fonts


def _cache_dir() -> Path:
    """A directory only this user can write: $XDG_CACHE_HOME/tensorgraph, else one in
    the temp folder named for the user, else a fresh temp dir.

    A folder another user created or may write is never used: fontconfig would read
    a configuration (and fonts) they could swap.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    user = os.getuid() if hasattr(os, "getuid") else "user"
    for parent, name in ((base, "tensorgraph"), (tempfile.gettempdir(), f"tensorgraph-{user}")):
        folder = private_dir(parent, name)
        if folder is not None:
            return folder
    return Path(tempfile.mkdtemp(prefix="tensorgraph-"))


def _fonts_conf_text(font_dir: Path, cache_dir: Path) -> str:
    # The system configuration comes first (ignore_missing: a bare machine has none), so
    # the user's fonts and aliases still work; our DejaVu directory is added to it. The
    # cache must live somewhere writable, never in the (possibly read-only) package.
    # The aliases matter only on a bare machine, where nothing maps the generic names.
    def esc(p: Path) -> str:
        return str(p).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    aliases = "".join(
        f"  <alias binding='same'><family>{generic}</family>"
        f"<accept><family>{family}</family></accept></alias>\n"
        for generic, family in (
            ("sans-serif", "DejaVu Sans"),
            ("serif", "DejaVu Sans"),
            ("Helvetica", "DejaVu Sans"),
            ("Arial", "DejaVu Sans"),
            ("Times", "DejaVu Sans"),
            ("Times-Roman", "DejaVu Sans"),
            ("monospace", "DejaVu Sans Mono"),
            ("Courier", "DejaVu Sans Mono"),
            ("Courier New", "DejaVu Sans Mono"),
        )
    )
    return (
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE fontconfig SYSTEM 'urn:fontconfig:fonts.dtd'>\n"
        "<!-- Written by tensorgraph's viz/backends.py; regenerated when stale. -->\n"
        "<fontconfig>\n"
        f"  <include ignore_missing='yes'>{esc(Path(_SYSTEM_FONTS_CONF))}</include>\n"
        f"  <dir>{esc(font_dir)}</dir>\n"
        f"  <cachedir>{esc(cache_dir / 'fontconfig')}</cachedir>\n"
        f"{aliases}"
        "</fontconfig>\n"
    )


_FONTS_CONF: Path | None = None
_SYSTEM_FONTS_CONF = "/etc/fonts/fonts.conf"  # the tests point it elsewhere: a bare machine
_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")


def _cached_font_dir(cache: Path) -> Path:
    """Copies of the bundled fonts in our cache directory.

    Fontconfig (2.13, as bundled in the pygraphviz wheels) writes a ``.uuid`` file into
    every font directory it scans; pointing it at a copy keeps the installed package (and
    a git checkout) clean, and works when the package directory is read-only.
    """
    target = cache / "fonts"
    target.mkdir(exist_ok=True)
    for name in (*_FONT_FILES, "LICENSE-DejaVu.txt"):
        src, dst = FONT_DIR / name, target / name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            write_atomic(dst, src.read_bytes())  # threads and processes may race here
    return target


def fonts_conf() -> Path:
    """Path of a fontconfig file that adds the bundled DejaVu fonts to the system ones.

    Written once per process into the user's cache directory.

    >>> fonts_conf().name
    'fonts.conf'
    """
    global _FONTS_CONF
    if _FONTS_CONF is None or not _FONTS_CONF.exists():
        cache = _cache_dir()
        path = cache / "fonts.conf"
        text = _fonts_conf_text(_cached_font_dir(cache), cache)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)  # a concurrent reader never sees half a file
        _FONTS_CONF = path
    return _FONTS_CONF


def _our_fonts_conf() -> str | None:
    """Our fonts.conf for fontconfig, or None when the user set FONTCONFIG_FILE."""
    if os.environ.get("FONTCONFIG_FILE"):
        return None
    try:
        return str(fonts_conf())
    except OSError as exc:  # no writable cache anywhere: system fonts only
        warnings.warn(
            f"render_dot: could not write a fonts.conf for the bundled fonts ({exc}); "
            "text is drawn with the system's fonts",
            RuntimeWarning,
            stacklevel=4,
        )
        return None


def _font_env() -> dict[str, str]:
    """The environment for a `dot` subprocess: our fonts unless the user chose."""
    env = dict(os.environ)
    conf = _our_fonts_conf()
    if conf:
        env["FONTCONFIG_FILE"] = conf
    return env


def _set_process_fonts() -> None:
    """Point this process's fontconfig at our fonts.conf, unless the user already chose.

    Must run before the first in-process render: fontconfig reads it once per process
    (so it has no effect if something else in the process initialised fontconfig).
    """
    conf = _our_fonts_conf()
    if conf:
        os.environ["FONTCONFIG_FILE"] = conf


# --------------------------------------------------------------------------- PNG cap


def _png_graph_attrs(dpi: float, max_side: int | None) -> dict[str, str]:
    """Graph attributes that draw a PNG at ``dpi`` and no larger than ``max_side`` px."""
    if not dpi > 0:
        raise ValueError(f"render_dot: dpi must be positive, got {dpi!r}")
    attrs = {"dpi": f"{dpi:g}"}
    if max_side is not None:
        if max_side < 64:
            raise ValueError(f"render_dot: max_png_side must be at least 64, got {max_side!r}")
        # `size` (in inches, padding included) without "!" only ever shrinks; one pixel
        # less absorbs Graphviz's rounding, so the image stays within max_side.
        inches = (max_side - 1) / dpi
        attrs["size"] = f"{inches:.4f},{inches:.4f}"
    return attrs


# --------------------------------------------------------------------------- messages

# Lines Graphviz's libraries print that say nothing about the user's graph:
# - fontconfig warnings about the system's configuration files (the fontconfig 2.13
#   bundled in the pygraphviz wheels does not know the `reset-dirs` element of Debian
#   12's configuration, or some locale names);
# - pygraphviz itself warns that layouts of more than 1,000 nodes "may take a long time".
# - a JSON layout needs each image's size only, and says it cannot "load" the picture.
_NOISE = re.compile(
    r"^Fontconfig warning: |^Warning: graph has \d+ nodes\.\.\."
    r'|^Warning: No loadimage plugin for "\w+:json"'
)


def _report(messages: str, what: str) -> None:
    """Re-issue Graphviz's own warnings (e.g. a missing image file) as Python warnings."""
    lines = [ln for ln in messages.splitlines() if ln.strip() and not _NOISE.search(ln)]
    if lines:
        warnings.warn(f"{what}: " + "\n".join(lines), RuntimeWarning, stacklevel=4)


@contextlib.contextmanager
def _captured_stderr() -> Iterator[io.StringIO]:
    """Collect what C code writes to file descriptor 2 (and Python to sys.stderr).

    In-process Graphviz prints its errors and warnings straight to the process's stderr;
    capturing them lets a syntax error become part of the exception message.
    """
    box = io.StringIO()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no usable fd 2 (e.g. pythonw)
        yield box
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(box):
                yield box
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            box.write(sink.read().decode("utf-8", "replace"))


# --------------------------------------------------------------------------- backends


def _render_with_dot(source: str, fmt: str, graph_attrs: dict[str, str], timeout: float) -> bytes:
    exe = _dot_executable()
    if exe is None:
        raise RendererNotFound("backend='dot': no `dot` program on PATH. " + _not_found_message())
    # -G on the command line overrides the DOT's own graph attributes, so the cap holds.
    args = [exe, f"-T{fmt}"] + [f"-G{k}={v}" for k, v in graph_attrs.items()]
    try:
        proc = subprocess.run(
            args,
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            env=_font_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(
            f"render_dot: `dot -T{fmt}` took longer than {timeout:g} s; try format='svg' "
            "or a smaller graph"
        ) from exc
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not proc.stdout:
        raise RenderError(f"render_dot: `dot -T{fmt}` failed (exit {proc.returncode}): {err}")
    _report(err, f"render_dot: `dot -T{fmt}`")
    return proc.stdout


# In-process Graphviz keeps global state (the DOT parser, the plugin context), so one
# render at a time per process.
_PYGRAPHVIZ_LOCK = threading.Lock()


def _render_with_pygraphviz(source: str, fmt: str, graph_attrs: dict[str, str]) -> bytes:
    try:
        import pygraphviz  # lazy: importing it costs ~100 ms
    except (ImportError, OSError) as exc:
        raise RendererNotFound(
            "backend='pygraphviz': pygraphviz is not installed. " + _not_found_message()
        ) from exc
    _set_process_fonts()
    with _PYGRAPHVIZ_LOCK, _captured_stderr() as messages:
        try:
            graph = pygraphviz.AGraph(string=source)
            # Same as `dot -G...`: overrides the DOT's own values, so the cap holds.
            for key, value in graph_attrs.items():
                graph.graph_attr[key] = value
            out = graph.draw(format=fmt, prog="dot")
            failure = None if out else "no output"
        except Exception as exc:  # pygraphviz raises DotError, ValueError, ... for bad DOT
            out, failure = b"", str(exc)
    text = messages.getvalue().strip()
    if failure is not None:
        detail = "; ".join(ln for ln in text.splitlines() if not _NOISE.search(ln))
        raise RenderError(
            f"render_dot: in-process Graphviz (pygraphviz) failed to render {fmt}: "
            f"{detail or failure}"
        )
    _report(text, f"render_dot: pygraphviz -T{fmt}")
    return out


def render_dot(
    source: str,
    format: str = "svg",
    backend: str = "auto",
    *,
    dpi: float = DEFAULT_DPI,
    max_png_side: int | None = DEFAULT_MAX_PNG_SIDE,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """Render DOT text to ``format`` ("svg", "png", "pdf", "dot" or "json") and return the bytes.

    ``backend``: "auto" tries the system ``dot``, then pygraphviz; "dot" or "pygraphviz"
    forces one. SVG output is self-contained (``image=`` files inlined as data URIs).
    PNG output is drawn at ``dpi`` (default 96) and scaled down so its longest side is at
    most ``max_png_side`` pixels (default 8000; None removes the cap); both override
    any ``dpi``/``size`` in the DOT. "dot" returns the source itself, with no renderer;
    "json" is Graphviz's layout (every node's size and position) as JSON.
    ``timeout`` (seconds) bounds the ``dot`` subprocess; the in-process backend cannot
    be interrupted. Graphviz's warnings become ``RuntimeWarning``; failures raise
    :class:`RenderError`, and :class:`RendererNotFound` when no renderer is available.

    >>> render_dot("digraph { a -> b }", format="dot")
    b'digraph { a -> b }'
    >>> svg = render_dot("digraph { a -> b }")  # needs a renderer: doctest: +SKIP
    >>> b"<svg" in svg  # doctest: +SKIP
    True
    """
    fmt = format.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"render_dot: unknown format {format!r}; use one of {FORMATS}")
    if backend not in ("auto", *BACKENDS):
        raise ValueError(
            f"render_dot: unknown backend {backend!r}; use one of {('auto', *BACKENDS)}"
        )
    if not isinstance(source, str):
        raise TypeError(f"render_dot: source must be DOT text (str), got {type(source).__name__}")
    if fmt == "dot":
        return source.encode("utf-8")

    if backend == "auto":
        if _dot_executable():
            backend = "dot"
        elif _have_pygraphviz():
            backend = "pygraphviz"
        else:
            raise RendererNotFound(_not_found_message())

    graph_attrs = _png_graph_attrs(dpi, max_png_side) if fmt == "png" else {}
    images = embedded_images(source)
    with _image_folder(images) as folder:
        if folder is not None:
            graph_attrs["imagepath"] = str(folder)
        if backend == "dot":
            out = _render_with_dot(source, fmt, graph_attrs, timeout)
        else:
            out = _render_with_pygraphviz(source, fmt, graph_attrs)
    if fmt == "svg":
        out = titles_from_tooltips(inline_images(out.decode("utf-8"), images)).encode("utf-8")
    return out


# Graphviz titles each node and edge of an SVG with its DOT id ("t3", "t3->g5") and puts a
# `tooltip` on a link inside it; readers that show the <title> would show the id.
_TITLED = re.compile(r'<title>[^<]*</title>(\s*<g id="a_[^"]*"><a xlink:title="([^"]*)")')


def titles_from_tooltips(svg: str) -> str:
    """Each ``<title>`` of a node or edge that has a ``tooltip`` set to that tooltip.

    >>> titles_from_tooltips('<title>t0</title>\\n<g id="a_node1"><a xlink:title="x (3)">')
    '<title>x (3)</title>\\n<g id="a_node1"><a xlink:title="x (3)">'
    """
    return _TITLED.sub(lambda m: f"<title>{m.group(2)}</title>{m.group(1)}", svg)


# --------------------------------------------------------------------------- embedded images

# Pictures a DOT text carries itself (the heatmaps of large matrices), as comment lines,
# which Graphviz skips:   // tensorgraph-image tg-<20 hex digits>.png <k> <base64 piece k>
# A PNG's base64 is cut into numbered pieces of at most _PIECE characters: Graphviz's
# lexer fails with a "syntax error" on a line longer than 16 KB, comment or not (a 100 x
# 64 heatmap of random weights is that big). Lines without the number (one piece, as
# written before) are read too. Graphviz reads images from files, so render_dot writes
# them into a private temporary folder for the one render (graph attribute `imagepath`)
# and removes it afterwards. No shared cache: nothing for another user to plant, nothing
# for threads to race on, nothing that grows, and a drawing made today still renders
# next week.
_EMBEDDED = re.compile(
    r"^// tensorgraph-image (tg-[0-9a-f]{20}\.png) (?:(\d{1,6}) )?([A-Za-z0-9+/]+=*)$", re.M
)
_PIECE = 4096


def embed_image(png: bytes) -> tuple[str, str]:
    """The file name to give ``<IMG SRC=...>`` and the DOT comment lines that carry it.

    Put the lines anywhere in the DOT text (lines of their own); :func:`render_dot` finds
    them. Each is at most a few KB, whatever the picture's size.

    >>> name, line = embed_image(b"abc")
    >>> name, line.split()[:2], embedded_images(line)[name]
    ('tg-a9993e364706816aba3e.png', ['//', 'tensorgraph-image'], b'abc')
    """
    name = f"tg-{hashlib.sha1(png).hexdigest()[:20]}.png"
    text = base64.b64encode(png).decode("ascii")
    pieces = [text[i : i + _PIECE] for i in range(0, len(text), _PIECE)]
    return name, "\n".join(f"// tensorgraph-image {name} {k} {p}" for k, p in enumerate(pieces))


def embedded_images(source: str) -> dict[str, bytes]:
    """The images a DOT text carries (see :func:`embed_image`), by file name.

    >>> embedded_images("digraph { a }")
    {}
    """
    if "// tensorgraph-image " not in source:
        return {}
    pieces: dict[str, dict[int, str]] = {}
    for m in _EMBEDDED.finditer(source):  # a picture drawn twice carries the same pieces
        pieces.setdefault(m.group(1), {})[int(m.group(2) or 0)] = m.group(3)
    return {
        name: base64.b64decode("".join(parts[k] for k in sorted(parts)))
        for name, parts in pieces.items()
    }


@contextlib.contextmanager
def _image_folder(images: dict[str, bytes]) -> Iterator[Path | None]:
    """A private temporary folder holding ``images`` for one render (None if none)."""
    if not images:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="tensorgraph-images-") as folder:
        for name, png in images.items():
            (Path(folder) / name).write_bytes(png)
        yield Path(folder)


# --------------------------------------------------------------------------- SVG images

_IMAGE_TAG = re.compile(r"<image\b[^>]*>")
_HREF = re.compile(r"""(?P<attr>(?:xlink:)?href)=(?P<q>["'])(?P<url>.*?)(?P=q)""")


def _local_path(url: str) -> Path | None:
    """The file an SVG ``href`` points at, or None when it is not a readable local file."""
    url = html.unescape(url)  # the SVG escapes & and friends in attribute values
    if url.startswith("file://"):
        url = urllib.parse.unquote(urllib.parse.urlparse(url).path)
    elif not url or url.startswith("#") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:(?![\\/])", url):
        # anchors, data:, http:, ... (but not a Windows drive such as C:\ or C:/)
        return None
    path = Path(url)
    return path if path.is_file() else None


def inline_images(svg: str, images: dict[str, bytes] | None = None) -> str:
    """Replace ``<image>`` references to local files by ``data:`` URIs.

    Graphviz's SVG points at ``image=`` files by path, which breaks as soon as the SVG
    moves (a notebook, a browser, another machine). ``images`` (file name -> PNG bytes,
    from :func:`embedded_images`) come first; other relative paths are read from the
    current directory, as Graphviz does. Links that are already data URIs, web URLs or
    anchors, and files that do not exist, are left as they are.

    >>> inline_images('<svg><image xlink:href="data:image/png;base64,AA=="/></svg>')
    '<svg><image xlink:href="data:image/png;base64,AA=="/></svg>'
    """

    def replace_href(m: re.Match[str]) -> str:
        own = (images or {}).get(html.unescape(m.group("url")))
        if own is not None:
            return f'{m.group("attr")}="data:image/png;base64,{base64.b64encode(own).decode()}"'
        path = _local_path(m.group("url"))
        if path is None:
            return m.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'{m.group("attr")}="data:{mime};base64,{data}"'

    return _IMAGE_TAG.sub(lambda tag: _HREF.sub(replace_href, tag.group(0)), svg)
