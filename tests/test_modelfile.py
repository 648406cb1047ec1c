"""tensorgraph.modelfile: atomic saves, and loads that read only what they check first.

Hostile files are built byte by byte here (zip members written raw), so each test says
exactly what the file declares and holds.
"""

from __future__ import annotations

import doctest
import errno
import io
import json
import os
import stat
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import modelfile
from tensorgraph.modelfile import ArrayInfo, atomic_write, load_arrays, save_arrays

KIND = "tests.modelfile/1"


def _model(tmp_path: Path, name: str = "m.npz") -> Path:
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0], [2.1, 0.1], [0.1, 2.1], [-2.0, -2.1]])
    y = np.array([0, 1, 2, 0, 1, 2])
    return tg.LinearSVM(epochs=2, verbose=False).fit(X, y).save(tmp_path / name)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _npy(shape: tuple[int, ...], descr: str, data: bytes) -> bytes:
    """A .npy member that declares ``shape`` and ``descr`` and holds ``data``."""
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def _with_member(tmp_path: Path, name: str, data: bytes) -> Path:
    """A saved LinearSVM whose member ``name`` is replaced by raw bytes."""
    path = _model(tmp_path)
    members = _members(path)
    members[name] = data
    return _write_zip(path, members)


# ----------------------------------------------------------------------------- round trip


def test_round_trip_of_every_kind_of_array(tmp_path: Path) -> None:
    arrays = {
        "W": np.arange(12, dtype=np.float32).reshape(3, 4),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "labels": np.array(["cat", "dog", "ünïcode"]),
        "ints": np.array([-1, 0, 2**40]),
        "mask": np.array([True, False]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3)),
        "layers.0.weight": np.ones((2, 2)),
    }
    header = {"model": "Toy", "params": {"sizes": [4, 3], "name": "ö"}}
    path = save_arrays(tmp_path / "toy", KIND, header, arrays)
    assert path == tmp_path / "toy.npz"
    with np.load(path, allow_pickle=False) as archive:  # numpy reads it as a plain .npz
        assert set(archive.files) == {"format", "header", *arrays}
    back_header, back = load_arrays(path, KIND, list(arrays))
    assert back_header == header
    for name, a in arrays.items():
        assert back[name].dtype == a.dtype and back[name].shape == a.shape, name
        np.testing.assert_array_equal(back[name], a)
    assert back["fortran"].flags.f_contiguous


def test_optional_arrays_and_the_check_before_reading(tmp_path: Path) -> None:
    path = save_arrays(tmp_path / "m.npz", KIND, {"k": 3}, {"W": np.zeros((3, 2))})
    seen = {}

    def check(header, infos):
        seen.update(header=header, infos=infos)

    header, arrays = load_arrays(path, KIND, ["W"], optional=["history"], check=check)
    assert set(arrays) == {"W"}
    assert seen == {"header": {"k": 3}, "infos": {"W": ArrayInfo((3, 2), np.dtype("float64"))}}

    def refuse(header, infos):
        raise ValueError(f"W must have {header['k']} columns, got {infos['W'].shape}")

    with pytest.raises(ValueError, match=r"m.npz is not a valid saved net: W must have 3 col"):
        load_arrays(path, KIND, ["W"], check=refuse, what="net")


def test_a_compressed_model_file_loads(tmp_path: Path) -> None:
    path = _model(tmp_path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    np.savez_compressed(path, **arrays)  # deflated members, as a user might rewrite it
    back = tg.LinearClassifier.load(path)
    np.testing.assert_array_equal(back.W.data, arrays["W"])


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path: Path) -> None:
    target = tmp_path / "m.npz"
    with pytest.raises(TypeError, match="cannot store W of dtype object without pickle"):
        save_arrays(target, KIND, {}, {"W": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="'format' cannot name an array"):
        save_arrays(target, KIND, {}, {"format": np.zeros(1)})
    with pytest.raises(ValueError, match="'../W' cannot name an array"):
        save_arrays(target, KIND, {}, {"../W": np.zeros(1)})
    with pytest.raises(ValueError, match="header must be plain JSON"):
        save_arrays(target, KIND, {"lr": float("nan")}, {})
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


# ----------------------------------------------------------------------------- atomic save


def _failing_write_array(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[str]:
    """np.lib.format.write_array that writes two members, then half of the third, then
    fails with ``error`` (a full disk, Ctrl-C)."""
    real = np.lib.format.write_array
    calls: list[str] = []

    def write_array(fp, array, *args, **kwargs):
        calls.append(fp.name if hasattr(fp, "name") else "?")
        if len(calls) < 3:
            return real(fp, array, *args, **kwargs)
        fp.write(b"\x93NUMPY half a member")
        raise error

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return calls


@pytest.mark.parametrize(
    "error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()]
)
def test_a_save_that_fails_half_way_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    path = _model(tmp_path)
    before = path.read_bytes()
    retrained = tg.LinearSVM(epochs=5, seed=3, verbose=False).fit(
        np.eye(3), np.array(["a", "b", "c"])
    )
    calls = _failing_write_array(monkeypatch, error)
    with pytest.raises(type(error)):
        retrained.save(path)
    assert len(calls) == 3  # it did fail half-way through the file
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temporary file left
    monkeypatch.undo()
    assert tg.LinearClassifier.load(path).classes_.tolist() == [0, 1, 2]


def test_a_save_replaces_the_file_whole_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = _model(tmp_path)
    os.chmod(path, 0o600)
    tg.SoftmaxClassifier(epochs=1, verbose=False).fit(np.eye(2), [0, 1]).save(path)
    assert type(tg.LinearClassifier.load(path)) is tg.SoftmaxClassifier
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = _model(tmp_path, "fresh.npz")  # a new file gets the umask's mode, as open() does
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.npz", "m.npz"]


def test_atomic_write_cleans_up_after_an_error(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="stop"), atomic_write(target) as fh:
        fh.write(b"new, but never finished")
        raise RuntimeError("stop")
    assert target.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


# ----------------------------------------------------------------------------- bounded load


def _crc_of_zeros(n: int, chunk: int = 1 << 20) -> int:
    crc, zeros = 0, bytes(chunk)
    for _ in range(n // chunk):
        crc = zlib.crc32(zeros, crc)
    return crc


def _zip_with_zeros_member(path: Path, name: str, size: int) -> None:
    """A zip holding one deflated member of ``size`` zero bytes, written by hand: deflate
    blocks of 1 MiB of zeros end in a full flush, so each block's bytes are the same and
    the archive is about size / 1000 bytes, made in well under a second."""
    chunk = 1 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    data = block * (size // chunk) + c.flush()
    crc, encoded = _crc_of_zeros(size), name.encode()
    fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
    local = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + encoded
    central = b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, *fields, 0, 0, 0, 0, 0) + encoded
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0
    )
    path.write_bytes(local + data + central + end)


def test_an_extra_gigabyte_member_is_never_read(tmp_path: Path) -> None:
    good = _model(tmp_path, "good.npz")
    path = tmp_path / "bomb.npz"
    _zip_with_zeros_member(path, "extra.npy", 1 << 30)
    with zipfile.ZipFile(path, "a") as zf:  # the real model's members after the bomb
        for name, data in _members(good).items():
            zf.writestr(name, data)
    assert path.stat().st_size < 2 << 20
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("extra.npy").file_size == 1 << 30
    tracemalloc.start()
    try:
        clf = tg.LinearClassifier.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(clf.W.data, tg.LinearClassifier.load(good).W.data)
    assert peak < 20 << 20, f"loading took {peak / 2**20:.0f} MiB"


def test_a_pickled_extra_member_is_never_read(tmp_path: Path) -> None:
    arr = np.empty(1, dtype=object)
    arr[0] = {"would be": "unpickled"}
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=True)
    path = _with_member(tmp_path, "payload.npy", buffer.getvalue())
    assert tg.LinearClassifier.load(path).W.shape == (3, 2)


def test_a_member_declaring_1e11_entries_is_refused_before_allocating(tmp_path: Path) -> None:
    path = _with_member(tmp_path, "W.npy", _npy((10**11,), "<f8", bytes(8)))
    with pytest.raises(ValueError) as err:
        tg.LinearClassifier.load(path)
    text = str(err.value)
    assert str(path) in text and "is not a valid saved classifier" in text
    assert "W declares float64 (100000000000,) (800000000000 bytes) but holds 8 bytes" in text


def test_a_zip_entry_claiming_more_than_the_file_holds(tmp_path: Path) -> None:
    path = _model(tmp_path)
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02", raw.find(b"PK\x01\x02"))  # the central directory
    while raw[at + 46 : at + 46 + 5] != b"W.npy":
        at = raw.find(b"PK\x01\x02", at + 4)
    raw[at + 24 : at + 28] = struct.pack("<I", 0xFFFF0000)  # uncompressed size: ~4 GB
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="W claims 4294901760 bytes; the file cannot hold them"):
        tg.LinearClassifier.load(path)


@pytest.mark.parametrize(
    ("member", "data", "message"),
    [
        ("W.npy", _npy((3, 2), "<f8", bytes(40)), r"W declares float64 \(3, 2\) \(48 bytes\)"),
        ("W.npy", _npy((3, 2), "<c16", bytes(96)), "W has dtype complex128; a model file holds"),
        ("W.npy", _npy((3, 2), "|O", bytes(48)), "W holds Python objects .* pickle"),
        ("W.npy", b"\x93NUMPY\x03\x00" + bytes(20), r"W is in .npy format \(3, 0\)"),
        ("W.npy", b"not an npy file at all", "W has no valid .npy header"),
        ("W.npy", _npy((3, -2), "<f8", b""), r"W declares float64 \(3, -2\), which numpy never"),
        ("classes.npy", _npy((10**12,), "<U0", b""), r"classes declares <U0 \(1000000000000,\)"),
        ("b.npy", _npy((3,), "<i8", bytes(24)), "b must have shape .* dtype float64"),
        ("classes.npy", _npy((2,), "<i8", bytes(16)), "classes must be 3 labels"),
        ("format.npy", _npy((), "<i8", bytes(8)), "format must be one string"),
        ("header.npy", _npy((2,), "<U4", bytes(32)), "header must be one string"),
    ],
)
def test_each_declared_problem_is_named(tmp_path: Path, member, data, message) -> None:
    path = _with_member(tmp_path, member, data)
    with pytest.raises(ValueError, match=f"LinearSVM.load: .*m.npz is not a valid .*{message}"):
        tg.LinearSVM.load(path)


def test_a_deeply_nested_header_is_refused(tmp_path: Path) -> None:
    text = "[" * 100_000 + "]" * 100_000
    path = _with_member(
        tmp_path, "header.npy", _npy((), f"<U{len(text)}", text.encode("utf-32-le"))
    )
    with pytest.raises(ValueError, match="the header is not JSON"):
        tg.LinearClassifier.load(path)


def test_damaged_files(tmp_path: Path) -> None:
    path = _model(tmp_path)
    raw = bytearray(path.read_bytes())
    member = _members(path)["W.npy"]
    raw[raw.find(member) + len(member) - 1] ^= 0xFF  # W's last byte (stored: raw bytes)
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"damaged or truncated\): Bad CRC-32"):
        tg.LinearClassifier.load(path)
    twice = tmp_path / "twice.npz"
    members = _members(_model(tmp_path, "other.npz"))
    with zipfile.ZipFile(twice, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in [*members.items(), ("W.npy", members["W.npy"])]:
            zf.writestr(name, data)
    with pytest.raises(ValueError, match=r"\['W'\] stored more than once"):
        tg.LinearClassifier.load(twice)
    directory = tmp_path / "folder.npz"
    directory.mkdir()
    with pytest.raises(ValueError, match="folder.npz is not a classifier saved by save"):
        tg.LinearClassifier.load(directory)
    pipe = tmp_path / "pipe.npz"
    os.mkfifo(pipe)  # opening it to read would wait for a writer forever
    with pytest.raises(ValueError, match="pipe.npz is not a classifier saved by save"):
        tg.LinearClassifier.load(pipe)


def test_another_kind_of_model_file(tmp_path: Path) -> None:
    path = save_arrays(tmp_path / "net.npz", "tensorgraph.nn/1", {"model": "MLP"}, {})
    with pytest.raises(ValueError, match="unknown format 'tensorgraph.nn/1'"):
        tg.LinearClassifier.load(path)
    header = {"model": "LinearSVM", "params": {}}
    path = save_arrays(tmp_path / "v1.npz", "tensorgraph.linear/1", header, {})
    with pytest.raises(ValueError, match="expected 'tensorgraph.linear/2'"):
        tg.LinearClassifier.load(path)


def test_doctests() -> None:
    result = doctest.testmod(modelfile, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_the_saved_header_is_plain_json(tmp_path: Path) -> None:
    path = _model(tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
        assert str(archive["format"]) == "tensorgraph.linear/2"
    assert header["model"] == "LinearSVM" and header["params"]["epochs"] == 2
