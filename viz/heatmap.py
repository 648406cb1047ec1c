"""Small heatmap images of a 2-D tensor, as PNG bytes (numpy and zlib, nothing else).

A tensor too big to print (the 10×3072 W of a classifier, say) still has a shape a
student can see: each entry becomes a block of pixels. Values use a sequential
colormap (dark = low, yellow = high); gradients a diverging one centred on zero (blue
negative, white zero, red positive), so the sign of every entry's gradient shows.

The PNG encoder is the 30 lines the format needs (signature, IHDR, one zlib IDAT,
IEND), so the drawing does not depend on matplotlib or Pillow for this.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

# Anchor colours, interpolated linearly. Viridis at 5 stops; RdBu reversed at 5 stops.
_SEQUENTIAL = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float
)
_DIVERGING = np.array(
    [[33, 102, 172], [146, 197, 222], [255, 255, 255], [244, 165, 130], [178, 24, 43]],
    dtype=float,
)


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 array as a PNG file.

    >>> png_bytes(np.zeros((2, 3, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"png_bytes: expected a non-empty (H, W, 3) array, got {rgb.shape}")
    height, width, _ = rgb.shape
    # Each row starts with filter type 0 (none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def colorize(a: np.ndarray, diverging: bool = False) -> np.ndarray:
    """Map a 2-D array to RGB: sequential from min to max, or diverging around 0.

    A diverging map is symmetric (the largest |entry| is full blue or full red), so
    white always means zero. NaN and inf are drawn grey.

    >>> colorize(np.array([[-1.0, 0.0, 1.0]]), diverging=True)[0].tolist()
    [[33, 102, 172], [255, 255, 255], [178, 24, 43]]
    """
    a = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(a)
    vals = np.where(finite, a, 0.0)
    # Colours depend on entries relative to each other only: scaled to at most 1, finite
    # entries spanning more than the float range (-1e308 to 1e308) cannot overflow hi - lo.
    big = np.abs(vals).max() if vals.size else 0.0
    if big > 0:
        vals = vals / big
    if diverging:
        scale = np.abs(vals).max() if finite.any() else 0.0
        pos = 0.5 + 0.5 * vals / scale if scale > 0 else np.full(a.shape, 0.5)
        stops = _DIVERGING
    else:
        lo, hi = (vals[finite].min(), vals[finite].max()) if finite.any() else (0.0, 0.0)
        pos = (vals - lo) / (hi - lo) if hi > lo else np.full(a.shape, 0.5)
        stops = _SEQUENTIAL
    x = np.clip(pos, 0, 1) * (len(stops) - 1)
    i = np.minimum(x.astype(int), len(stops) - 2)
    frac = (x - i)[..., None]
    rgb = stops[i] * (1 - frac) + stops[i + 1] * frac
    rgb[~finite] = 160
    return np.rint(rgb).astype(np.uint8)


def _shrink(a: np.ndarray, max_cells: int) -> np.ndarray:
    """Average blocks of entries so neither side has more than ``max_cells`` cells."""
    for axis in (0, 1):
        n = a.shape[axis]
        if n > max_cells:
            step = -(-n // max_cells)  # ceil
            pad = (-n) % step
            widths = [(0, 0), (0, 0)]
            widths[axis] = (0, pad)
            # NaN padding is ignored by nanmean, so the last block is a true mean.
            padded = np.pad(a.astype(np.float64), widths, constant_values=np.nan)
            shape = list(padded.shape)
            shape[axis : axis + 1] = [shape[axis] // step, step]
            with np.errstate(all="ignore"):
                a = np.nanmean(padded.reshape(shape), axis=axis + 1)
    return a


def heatmap_png(
    a: np.ndarray, diverging: bool = False, cell: int | None = None, max_side: int = 120
) -> bytes:
    """A small heatmap of a 2-D (or 1-D) array as PNG bytes.

    Each entry becomes a block of pixels (``cell`` wide and high, or chosen so the image
    is at most ``max_side`` px wide and at least ~48 px high); arrays wider or taller
    than ``max_side`` entries are averaged down in blocks first.

    >>> png = heatmap_png(np.arange(12.0).reshape(3, 4))
    >>> png[:4], int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    (b'\\x89PNG', 64, 48)
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"heatmap_png: expected a non-empty 1-D or 2-D array, got {a.shape}")
    finite = np.abs(a[np.isfinite(a)])
    big = finite.max() if finite.size else 0.0
    if big > 0:
        a = a / big  # the colours are the same; block means of huge entries stay finite
    a = _shrink(a, max_side)
    rows, cols = a.shape
    if cell is None:
        # Square blocks up to 16 px with neither side over max_side px; then a thin
        # strip (a wide, short matrix) gets longer blocks across, so it is >= 48 px.
        cw = ch = int(np.clip(min(max_side // cols, max_side // rows), 1, 16))
        if rows * ch < 48:
            ch = int(np.clip(48 // rows, ch, 16))
        if cols * cw < 48:
            cw = int(np.clip(48 // cols, cw, 16))
    else:
        cw = ch = cell
    rgb = colorize(a, diverging)
    rgb = np.repeat(np.repeat(rgb, ch, axis=0), cw, axis=1)
    return png_bytes(rgb)


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI, for an image embedded in SVG or HTML.

    >>> data_uri(b"abc")
    'data:image/png;base64,YWJj'
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
