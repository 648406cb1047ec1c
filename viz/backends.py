"""Turn DOT text into SVG, PNG or PDF bytes with whatever Graphviz is available.

Backends, tried in this order by ``backend="auto"``:

1. ``"dot"``: the system Graphviz ``dot`` on PATH, run as a subprocess (the user's own
   install wins: full features, PDF).
2. ``"pygraphviz"``: in-process Graphviz from the ``pygraphviz>=2.0.4`` wheels, which
   bundle Graphviz with cairo and pango, so ``pip install`` alone renders SVG and PNG.

When neither exists, :class:`RendererNotFound` names both ways to get one.

Fonts: Graphviz finds fonts through fontconfig. A machine without system fonts would
draw every letter as a box, so we ship DejaVu fonts in ``viz/fonts`` and point
fontconfig at a small generated ``fonts.conf`` (only when the user has not set
``FONTCONFIG_FILE`` themselves). Use ``fontname="DejaVu Sans"`` and ``"DejaVu Sans Mono"``
in the DOT.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BACKENDS = ("dot", "pygraphviz")
FORMATS = ("svg", "png", "pdf", "dot")

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
    # find_spec would be cheaper but says nothing about a broken install; the import is
    # ~100 ms and happens once, only when nobody has a system dot.
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
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
    """A writable directory of ours: $XDG_CACHE_HOME/tensorgraph, else a temp dir."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (Path(base) / "tensorgraph", Path(tempfile.gettempdir()) / "tensorgraph"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
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
        "  <include ignore_missing='yes'>/etc/fonts/fonts.conf</include>\n"
        f"  <dir>{esc(font_dir)}</dir>\n"
        f"  <cachedir>{esc(cache_dir / 'fontconfig')}</cachedir>\n"
        f"{aliases}"
        "</fontconfig>\n"
    )


_FONTS_CONF: Path | None = None
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
            tmp = dst.with_suffix(f".tmp{os.getpid()}")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
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
            # Write then rename, so a concurrent process never reads half a file.
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        _FONTS_CONF = path
    return _FONTS_CONF


def _font_env() -> dict[str, str]:
    """The environment for a `dot` subprocess: ours for fonts unless the user chose."""
    env = dict(os.environ)
    if "FONTCONFIG_FILE" not in env:
        env["FONTCONFIG_FILE"] = str(fonts_conf())
    return env


def _set_process_fonts() -> None:
    """Point this process's fontconfig at our fonts.conf, unless the user already chose.

    Must run before the first in-process render: fontconfig reads it once.
    """
    if "FONTCONFIG_FILE" not in os.environ:
        os.environ["FONTCONFIG_FILE"] = str(fonts_conf())


# --------------------------------------------------------------------------- PNG cap


def _png_graph_attrs(dpi: float, max_side: int) -> dict[str, str]:
    # `size` without "!" only ever shrinks. Leave room for Graphviz's default 4 pt pad
    # on each side, so the final image stays within max_side.
    pad_px = 2 * 4 * dpi / 72
    inches = max(max_side - pad_px - 1, 1) / dpi
    return {"dpi": f"{dpi:g}", "size": f"{inches:.4f},{inches:.4f}"}


# --------------------------------------------------------------------------- backends


def _render_with_dot(source: str, fmt: str, graph_attrs: dict[str, str], timeout: float) -> bytes:
    exe = _dot_executable()
    if exe is None:
        raise RendererNotFound("backend='dot': no `dot` program on PATH. " + _not_found_message())
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
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"render_dot: `dot -T{fmt}` failed (exit {proc.returncode}): {err}")
    return proc.stdout


def _render_with_pygraphviz(source: str, fmt: str, graph_attrs: dict[str, str]) -> bytes:
    try:
        import pygraphviz
    except ImportError as exc:
        raise RendererNotFound(
            "backend='pygraphviz': pygraphviz is not installed. " + _not_found_message()
        ) from exc
    _set_process_fonts()
    try:
        graph = pygraphviz.AGraph(string=source)
    except Exception as exc:  # pygraphviz raises several types for bad DOT
        raise RenderError(f"render_dot: Graphviz could not parse the DOT: {exc}") from exc
    # Like `dot -G`: these are defaults, the DOT's own settings win except for the cap.
    for key, value in graph_attrs.items():
        graph.graph_attr[key] = value
    try:
        out = graph.draw(format=fmt, prog="dot")
    except Exception as exc:
        raise RenderError(f"render_dot: Graphviz failed to render {fmt}: {exc}") from exc
    if not out:
        raise RenderError(f"render_dot: Graphviz produced no {fmt} output")
    return out


def render_dot(
    source: str,
    format: str = "svg",
    backend: str = "auto",
    *,
    dpi: float = DEFAULT_DPI,
    max_png_side: int = DEFAULT_MAX_PNG_SIDE,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """Render DOT text to ``format`` ("svg", "png", "pdf" or "dot") and return the bytes.

    ``backend`` is "auto" (system ``dot``, else pygraphviz), "dot" or "pygraphviz".
    SVG output is self-contained (images inlined as data URIs). PNG output is drawn at
    ``dpi`` and scaled down so its longest side is at most ``max_png_side`` pixels.
    PDF needs the system ``dot``. "dot" returns the source itself, with no renderer.

    >>> svg = render_dot('digraph { a -> b }')  # doctest: +SKIP
    >>> svg.startswith(b'<?xml')  # doctest: +SKIP
    True
    """
    fmt = format.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"render_dot: unknown format {format!r}; use one of {FORMATS}")
    if backend not in ("auto", *BACKENDS):
        raise ValueError(
            f"render_dot: unknown backend {backend!r}; use one of {('auto', *BACKENDS)}"
        )
    if fmt == "dot":
        return source.encode("utf-8")

    if backend == "auto":
        if _dot_executable():
            backend = "dot"
        elif _have_pygraphviz():
            backend = "pygraphviz"
        else:
            raise RendererNotFound(_not_found_message())
    if fmt == "pdf" and backend != "dot":
        raise RendererNotFound(
            "render_dot: PDF needs Graphviz's `dot` program (e.g. `apt-get install graphviz`); "
            "pygraphviz renders only SVG and PNG here"
        )

    graph_attrs = _png_graph_attrs(dpi, max_png_side) if fmt == "png" else {}
    if backend == "dot":
        out = _render_with_dot(source, fmt, graph_attrs, timeout)
    else:
        out = _render_with_pygraphviz(source, fmt, graph_attrs)
    if fmt == "svg":
        out = inline_images(out.decode("utf-8")).encode("utf-8")
    return out


# --------------------------------------------------------------------------- SVG images

_HREF = re.compile(r'(?P<attr>(?:xlink:)?href)=(?P<q>["\'])(?P<url>[^"\']*)(?P=q)')


def inline_images(svg: str) -> str:
    """Replace ``<image>`` references to local files by ``data:`` URIs.

    Graphviz's SVG points at ``image=`` files by path, which breaks as soon as the SVG
    moves (a notebook, a browser, another machine). Links that are already data URIs,
    web URLs or in-document anchors, and files that do not exist, are left alone.

    >>> inline_images('<svg><image xlink:href="data:image/png;base64,AA=="/></svg>')
    '<svg><image xlink:href="data:image/png;base64,AA=="/></svg>'
    """

    def replace_in_tag(tag: re.Match[str]) -> str:
        def replace_href(m: re.Match[str]) -> str:
            url = m.group("url")
            if not url or url.startswith(("data:", "#", "http:", "https:")):
                return m.group(0)
            path = Path(url[len("file://") :] if url.startswith("file://") else url)
            if not path.is_file():
                return m.group(0)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return f'{m.group("attr")}="data:{mime};base64,{data}"'

        return _HREF.sub(replace_href, tag.group(0))

    return re.sub(r"<image\b[^>]*>", replace_in_tag, svg)
