"""The model file: named arrays and a JSON header in one ``.npz``, never pickle.

A model file is a zip archive in numpy's ``.npz`` layout (``np.load`` reads it too)::

    format.npy   a string naming the kind of model file and its version, e.g.
                 "tensorgraph.linear/2"
    header.npy   a string holding a JSON object: the model's class, its settings, ...
    NAME.npy     one array per name (weights, labels, history): numbers or strings

:func:`save_arrays` writes one atomically: into a temporary file in the same folder,
then ``os.replace``, so a save that fails half-way (a full disk, Ctrl-C) leaves the
file that was there untouched (:func:`atomic_write`).

:func:`load_arrays` reads one as untrusted input. It reads only the members asked for
(an extra member, however large, is never read); it checks each member's dtype, shape
and size from its ``.npy`` header before reading its data, and the sizes against the
archive (a header declaring 10^11 entries is refused, not allocated); a ``check``
function given by the caller sees every header before any data is read. Every failure
is a ``ValueError`` naming the function, the file and the problem; object arrays
(pickle) are refused unread.

    >>> import numpy as np, tempfile, os
    >>> path = save_arrays(os.path.join(tempfile.mkdtemp(), "m"), "demo/1",
    ...                    {"model": "Toy", "params": {"k": 2}}, {"W": np.eye(2)})
    >>> header, arrays = load_arrays(path, "demo/1", ["W"])
    >>> path.name, header["params"], arrays["W"].tolist()
    ('m.npz', {'k': 2}, [[1.0, 0.0], [0.0, 1.0]])
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["ArrayInfo", "atomic_write", "invalid", "load_arrays", "save_arrays"]

_FORMAT, _HEADER = "format", "header"  # the two members every model file has
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # array names: W, history_loss, 0.weight
_KINDS = "biufU"  # bool, integers, floats and strings: what a model file may hold
_MAX_TEXT = 1 << 22  # bytes of the format and header members (a million characters)
_MAX_RATIO = 1100  # deflate cannot expand data more than about 1032 times
_CHUNK = 1 << 20  # bytes read at a time, so reading costs the array and 1 MiB


@dataclass(frozen=True)
class ArrayInfo:
    """What a member's ``.npy`` header declares, known before its data is read.

    >>> ArrayInfo((3, 4), np.dtype("float64")).ndim
    2
    """

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions, as ``ndarray.ndim``."""
        return len(self.shape)


class _Invalid(Exception):
    """A file that was read but is not a valid model file (the problem as its text)."""


def invalid(where: str, path: str | Path, problem: str, what: str = "model") -> ValueError:
    """The error for a readable file that is not a valid saved model, worded as
    :func:`load_arrays` words its own (for the checks a caller makes afterwards).

    >>> str(invalid("Net.load", "m.npz", "W holds NaN"))
    'Net.load: m.npz is not a valid saved model: W holds NaN'
    """
    return ValueError(f"{where}: {path} is not a valid saved {what}: {problem}")


# ----------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing bytes so that it changes all at once or not at all.

    The bytes go to a temporary file in the same folder, which replaces ``path``
    (``os.replace``) only when the ``with`` block ends without an exception, after it is
    flushed to disk. On any exception, Ctrl-C included, the temporary file is removed
    and ``path`` is as it was. A replaced file keeps its permissions.

    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "notes.bin")
    >>> with atomic_write(target) as fh:
    ...     _ = fh.write(b"all or nothing")
    >>> open(target, "rb").read()
    b'all or nothing'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # e.g. no old file: the umask's mode stays
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_arrays(
    path: str | Path,
    kind: str,
    header: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    where: str = "save_arrays",
) -> Path:
    """Write a model file: ``kind`` (format and version), ``header`` (a JSON object)
    and named ``arrays`` of numbers or strings. Returns the path written.

    ``.npz`` is appended to a path without it, as numpy does. The write is atomic
    (:func:`atomic_write`). Arrays that need pickle (object dtype) are refused with a
    TypeError, a header JSON cannot hold (NaN, a set, ...) with a ValueError.

    >>> import numpy as np, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> save_arrays(os.path.join(folder, "m"), "demo/1", {}, {"b": np.zeros(3)}).name
    'm.npz'
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{where}: the kind of model file must be a non-empty string")
    try:
        header_text = json.dumps(dict(header), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: the header must be plain JSON: {err}") from None
    members = {_FORMAT: np.array(kind), _HEADER: np.array(header_text)}
    for name, value in arrays.items():
        if name in members or not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"{where}: {name!r} cannot name an array in a model file")
        array = np.asarray(value)
        if array.dtype.kind not in _KINDS:
            raise TypeError(
                f"{where}: cannot store {name} of dtype {array.dtype} without pickle "
                "(a model file holds numbers and strings only)"
            )
        members[name] = array
    with atomic_write(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        for name, array in members.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return path


# ----------------------------------------------------------------------------- reading


def load_arrays(
    path: str | Path,
    kind: str,
    names: Iterable[str],
    *,
    optional: Iterable[str] = (),
    check: Callable[[dict[str, Any], dict[str, ArrayInfo]], None] | None = None,
    where: str = "load_arrays",
    what: str = "model",
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`save_arrays`: ``(header, arrays)``.

    ``kind`` must match the file's format string; ``names`` are the arrays it must
    hold and ``optional`` those it may hold. Nothing else in the file is read.
    ``check(header, infos)``, if given, sees the header and each array's
    :class:`ArrayInfo` before any array data is read, and raises ``ValueError(problem)``
    to refuse the file. ``where`` and ``what`` word the errors:

    - FileNotFoundError: ``{where}: no file {path}``;
    - ValueError: ``{where}: {path} is not a {what} saved by save() (or it is damaged
      or truncated): ...`` for a file that is no zip archive or breaks while read;
    - ValueError: ``{where}: {path} is not a valid saved {what}: ...`` (:func:`invalid`)
      for a missing array, another format, a bad header, an array of the wrong dtype,
      shape or size, or one that only pickle could read;
    - ValueError: ``{where}: {path} is a single .npy array, not a saved {what}``.

    >>> import numpy as np, tempfile, os
    >>> path = save_arrays(os.path.join(tempfile.mkdtemp(), "m"), "demo/1", {}, {})
    >>> load_arrays(path, "demo/1", ["W"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: load_arrays: ...m.npz is not a valid saved model: missing ['W']
    """
    path = Path(path)
    names, optional = list(names), list(optional)
    if not path.exists():
        raise FileNotFoundError(f"{where}: no file {path}")
    if not path.is_file():  # a folder, or a pipe whose read would wait forever
        raise ValueError(f"{where}: {path} is not a {what} saved by save(): not a file")
    try:
        with open(path, "rb") as fh:
            if fh.read(6) == b"\x93NUMPY":
                raise ValueError(f"{where}: {path} is a single .npy array, not a saved {what}")
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                return _read(zf, os.fstat(fh.fileno()).st_size, kind, names, optional, check)
    except _Invalid as err:
        raise invalid(where, path, str(err), what) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(
            f"{where}: {path} is not a {what} saved by save() (or it is damaged or "
            f"truncated): {err}"
        ) from None


def _read(
    zf: zipfile.ZipFile,
    archive_size: int,
    kind: str,
    names: list[str],
    optional: list[str],
    check: Callable[[dict[str, Any], dict[str, ArrayInfo]], None] | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The checks and reads of :func:`load_arrays`, in order: the format, the header,
    which arrays are there, every array's .npy header, ``check``, then the data."""
    stored = [info.filename for info in zf.infolist()]
    _find(stored, [_FORMAT, _HEADER])
    fmt = _read_text(zf, archive_size, _FORMAT)
    if fmt != kind:
        raise _Invalid(f"unknown format {fmt[:80]!r} (expected {kind!r})")
    try:
        header = json.loads(_read_text(zf, archive_size, _HEADER))
    except (ValueError, RecursionError) as err:
        raise _Invalid(f"the header is not JSON: {err}") from None
    if not isinstance(header, dict):
        raise _Invalid(f"the header must be a JSON object, got {type(header).__name__}")

    present = _find(stored, names) + _find(stored, optional, required=False)
    members = {name: _member(zf, archive_size, name) for name in present}
    if check is not None:
        try:
            check(header, {name: member.info for name, member in members.items()})
        except ValueError as err:
            raise _Invalid(str(err)) from None
    return header, {name: _read_data(zf, name, member) for name, member in members.items()}


def _find(stored: list[str], names: list[str], required: bool = True) -> list[str]:
    """Which of ``names`` the archive holds, each once (every one, when required)."""
    missing = [name for name in names if f"{name}.npy" not in stored]
    if missing and required:
        raise _Invalid(f"missing {missing}")
    present = [name for name in names if name not in missing]
    twice = [name for name in present if stored.count(f"{name}.npy") > 1]
    if twice:
        raise _Invalid(f"{twice} stored more than once")
    return present


def _dtype_problem(name: str, dtype: np.dtype) -> str:
    if dtype.hasobject:
        return f"{name} holds Python objects (dtype {dtype}), which only pickle could read"
    return f"{name} has dtype {dtype}; a model file holds numbers and strings only"


@dataclass(frozen=True)
class _Member:
    """A member's .npy header: what it declares, its memory order, where its data starts."""

    info: ArrayInfo
    fortran: bool
    start: int


def _member(zf: zipfile.ZipFile, archive_size: int, name: str) -> _Member:
    """A member's declared shape and dtype, from the zip entry and the .npy header alone;
    refused when the sizes cannot be true (more or less data than the header declares,
    more than the archive could inflate to)."""
    entry = zf.getinfo(f"{name}.npy")
    if entry.flag_bits & 0x1:
        raise _Invalid(f"{name} is encrypted")
    if entry.compress_type == zipfile.ZIP_STORED:
        limit = archive_size
    elif entry.compress_type == zipfile.ZIP_DEFLATED:
        limit = _MAX_RATIO * min(entry.compress_size, archive_size)
    else:
        raise _Invalid(f"{name} is compressed in a way numpy never writes")
    if entry.file_size > limit:
        raise _Invalid(f"{name} claims {entry.file_size} bytes; the file cannot hold them")
    with zf.open(entry) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise _Invalid(f"{name} is in .npy format {version}, which save() never writes")
        except (ValueError, struct.error) as err:  # not a .npy header numpy can parse
            raise _Invalid(f"{name} has no valid .npy header: {err}") from None
        start = fp.tell()
    if dtype.kind not in _KINDS:  # object arrays (pickle) first: their size means nothing
        raise _Invalid(_dtype_problem(name, dtype))
    if any(n < 0 for n in shape) or dtype.itemsize == 0:
        raise _Invalid(f"{name} declares {dtype} {tuple(shape)}, which numpy never saves")
    declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if declared != entry.file_size - start:
        raise _Invalid(
            f"{name} declares {dtype} {tuple(shape)} ({declared} bytes) but holds "
            f"{entry.file_size - start} bytes"
        )
    return _Member(ArrayInfo(tuple(shape), dtype), bool(fortran), start)


def _read_data(zf: zipfile.ZipFile, name: str, member: _Member) -> np.ndarray:
    """A member's data (its header already checked), read in 1 MiB pieces straight
    into an array of the declared shape."""
    shape = member.info.shape
    array = np.empty(shape[::-1] if member.fortran else shape, member.info.dtype)
    with zf.open(f"{name}.npy") as fp:
        fp.read(member.start)  # the .npy header
        buffer = memoryview(array.reshape(-1).view(np.uint8))
        done = 0
        while done < len(buffer):
            got = fp.readinto(buffer[done : done + _CHUNK])
            if not got:
                raise EOFError(f"{name}.npy ends after {done} of {len(buffer)} bytes")
            done += got
        if fp.read(1):  # reading to the end also makes zipfile check the member's CRC
            raise _Invalid(f"{name} holds more data than its header declares")
    return array.T if member.fortran else array


def _read_text(zf: zipfile.ZipFile, archive_size: int, name: str) -> str:
    """The string in a 0-d text member (the format or the header), size-checked first."""
    member = _member(zf, archive_size, name)
    info = member.info
    if info.dtype.kind != "U" or info.shape != () or info.dtype.itemsize > _MAX_TEXT:
        raise _Invalid(f"{name} must be one string, got {info.dtype} {info.shape}")
    return str(_read_data(zf, name, member)[()])
