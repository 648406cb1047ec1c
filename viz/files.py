"""Writing files so that a failure never destroys what was there, and private folders.

    write_atomic(path, data)    the whole new file or the old one, never half of either
    write_beside, replace_all   the same for several files, all or nothing
    private_dir(parent, name)   a folder only this user can write, or None

Every file viz writes (a rendered picture, the player's page, a frame, the DOT
fallback, the fonts configuration) goes through :func:`write_atomic`: the bytes go to a
uniquely named temporary file in the target's folder, are flushed to disk, and the
temporary file then replaces the target in one ``os.replace``. A render that fails half
way (disk full, Ctrl-C, an exception) leaves the old file as it was and no temporary
file behind; two threads or processes writing the same path never mix their bytes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; return the path.

    The new file gets the permissions an ordinary write would give it: those of the
    file it replaces, else the default for new files (the umask applies). A path that
    is a symbolic link writes to the file it points at, as ``open(path, "w")`` does.

    >>> import tempfile, os
    >>> p = write_atomic(os.path.join(tempfile.mkdtemp(), "a.txt"), "hello")
    >>> p.read_text(), os.listdir(p.parent)
    ('hello', ['a.txt'])
    """
    path = _target(path)
    tmp = write_beside(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        _discard([tmp])
        raise
    return path


def write_beside(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to a new, uniquely named hidden file next to ``path``; return it.

    The first half of :func:`write_atomic`, for writing several files all or nothing:
    write each beside its target, then ``os.replace`` them all (or delete them all).
    The bytes are flushed to disk, and the file has the mode ``path`` has (or would
    get as a new file).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> tmp = write_beside(os.path.join(folder, "b.txt"), b"hi")
    >>> tmp.name.startswith(".b.txt."), tmp.read_bytes()
    (True, b'hi')
    """
    path = _target(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    # Same folder, so os.replace is a rename within one file system; a random part, so
    # concurrent writers never share a temporary file.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    except OSError as err:
        _discard([tmp])
        if err.filename is None:  # a failed write says which file it was writing
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    except BaseException:
        _discard([tmp])
        raise
    return tmp


def replace_all(pairs: list[tuple[Path, Path]]) -> None:
    """``os.replace(tmp, target)`` for each pair from :func:`write_beside`; on any
    failure, the temporary files not yet moved are deleted and the error raised.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> targets = [os.path.join(folder, n) for n in ("1.svg", "2.svg")]
    >>> replace_all([(write_beside(t, t[-5:]), t) for t in targets])
    >>> sorted(os.listdir(folder))
    ['1.svg', '2.svg']
    """
    done = 0
    try:
        for tmp, target in pairs:
            os.replace(tmp, _target(target))
            done += 1
    except BaseException:
        _discard([tmp for tmp, _ in pairs[done:]])
        raise


def _target(path: str | Path) -> Path:
    path = Path(path)
    return path.resolve() if path.is_symlink() else path


def _discard(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.unlink(p)


def private_dir(parent: str | Path, name: str) -> Path | None:
    """``parent/name``, created if missing, if only this user can write it; else None.

    A folder in a shared place (the system's temporary folder) that another user
    created first, or that others may write, is not ours to trust: they could plant
    or swap files in it. On Windows (no POSIX owners) any writable folder is accepted.

    >>> import tempfile
    >>> private_dir(tempfile.mkdtemp(), "cache").name
    'cache'
    """
    folder = Path(parent) / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None  # a file or a symbolic link squatting the name
    others_may_write = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or others_may_write):
        return None
    return folder if os.access(folder, os.W_OK) else None
