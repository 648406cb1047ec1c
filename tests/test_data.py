"""tg.data: splits, preprocessing and the two dataset loaders (the real files, in CI)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import STRICT

import tensorgraph as tg
from tensorgraph import data

# ----- train_val_test_split -----


def _toy(n_per_class=(50, 30, 20), d=3):
    y = np.concatenate([np.full(n, k) for k, n in enumerate(n_per_class)])
    X = np.arange(len(y) * d, dtype=float).reshape(len(y), d)
    return X, y


def test_split_sizes_partition_and_order():
    X, y = _toy()
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, val=0.2, test=0.1, seed=3)
    assert (len(ytr), len(yva), len(yte)) == (70, 20, 10)
    # Rows stay paired with their labels, and the three splits partition the rows.
    for Xs, ys in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        rows = (Xs[:, 0] / X.shape[1]).astype(int)
        np.testing.assert_array_equal(y[rows], ys)
    all_rows = np.concatenate([Xtr[:, 0], Xva[:, 0], Xte[:, 0]])
    np.testing.assert_array_equal(np.sort(all_rows), X[:, 0])


def test_split_is_stratified():
    X, y = _toy((50, 30, 20))
    _, _, _, ytr, yva, yte = data.train_val_test_split(X, y, val=0.2, test=0.2)
    assert np.bincount(yva).tolist() == [10, 6, 4]
    assert np.bincount(yte).tolist() == [10, 6, 4]
    assert np.bincount(ytr).tolist() == [30, 18, 12]


def test_split_stratified_rounding_keeps_totals():
    X, y = tg.data.load_digits()
    _, _, _, ytr, yva, yte = data.train_val_test_split(X, y)
    # scikit-learn rounds test and validation sizes up: ceil(0.2 * 1797) = 360.
    assert (len(ytr), len(yva), len(yte)) == (1077, 360, 360)
    full = np.bincount(y) / len(y)
    for ys in (ytr, yva, yte):
        assert np.abs(np.bincount(ys, minlength=10) / len(ys) - full).max() < 0.01


def test_split_is_deterministic_and_seeded():
    X, y = _toy()
    a = data.train_val_test_split(X, y, seed=7)
    b = data.train_val_test_split(X, y, seed=7)
    c = data.train_val_test_split(X, y, seed=8)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[5], c[5]) or not np.array_equal(a[2], c[2])


def test_split_shuffles_classes_together():
    X, y = _toy((50, 50))
    ytr = data.train_val_test_split(X, y)[3]
    # Not in class blocks: both classes appear within the first 20 training rows.
    assert set(ytr[:20].tolist()) == {0, 1}


def test_split_counts_and_no_test():
    X, y = _toy((60, 40))
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, val=25, test=0)
    assert (len(ytr), len(yva), len(yte)) == (75, 25, 0)
    assert Xte.shape == (0, 3)
    assert np.bincount(yva).tolist() == [15, 10]


def test_split_unstratified():
    X, y = _toy((99, 1))
    _, _, _, ytr, yva, yte = data.train_val_test_split(X, y, val=0.3, test=0.3, stratify=False)
    assert (len(ytr), len(yva), len(yte)) == (40, 30, 30)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"val": 0.5, "test": 0.5}, "no training"),
        ({"val": 1.5}, "fraction"),
        ({"test": -1}, "count"),
        ({"val": "a"}, "fraction or a count"),
    ],
)
def test_split_bad_sizes(kwargs, match):
    X, y = _toy()
    with pytest.raises((ValueError, TypeError), match=match):
        data.train_val_test_split(X, y, **kwargs)


def test_split_bad_shapes():
    with pytest.raises(ValueError, match=r"X of shape \(4, 2\) and y of shape \(3,\)"):
        data.train_val_test_split(np.zeros((4, 2)), np.zeros(3))


# ----- preprocessing -----


def test_standardizer_uses_train_statistics_only():
    rng = np.random.default_rng(0)
    Xtr = rng.normal(3.0, 2.0, size=(200, 4))
    Xte = rng.normal(-5.0, 9.0, size=(50, 4))
    s = data.Standardizer().fit(Xtr)
    np.testing.assert_allclose(s.mean_, Xtr.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.std_, Xtr.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.transform(Xte), (Xte - Xtr.mean(0)) / Xtr.std(0), rtol=1e-12)
    z = s.transform(Xtr)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-12)
    # The test split is not standardized to mean 0: its own statistics never leaked in.
    assert np.abs(s.transform(Xte).mean(axis=0)).min() > 1


def test_standardizer_constant_feature_is_safe():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    with np.errstate(all="raise"):
        z = data.Standardizer().fit_transform(X)
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(z[:, 1], 0.0)


def test_standardizer_near_constant_feature_is_not_blown_up():
    # 0.1 three times has a computed std of 1.4e-17, not 0: dividing by it turned 0.2
    # into 7e15. scikit-learn calls such a column constant and only centres it.
    X = np.full((3, 1), 0.1)
    assert X.std() > 0
    s = data.Standardizer().fit(X)
    np.testing.assert_allclose(s.transform([[0.2]]), [[0.1]], rtol=1e-12)
    np.testing.assert_array_equal(s.std_, [1.0])


def test_standardizer_constant_rule_is_sklearns():
    if not STRICT:
        pytest.importorskip("sklearn")
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    n = 12
    X = np.column_stack(
        [
            np.full(n, 0.1),  # constant, std 1.4e-17
            np.full(n, 0.3),
            np.full(n, 1e8 / 3),  # constant, large
            0.1 + 1e-9 * rng.standard_normal(n),  # tiny but real spread: scaled
            1e8 + 1e-9 * rng.standard_normal(n),  # spread below rounding of 1e8: constant
            rng.standard_normal(n),
        ]
    )
    ours, theirs = data.Standardizer().fit(X), StandardScaler().fit(X)
    np.testing.assert_array_equal(ours.std_ == 1.0, theirs.scale_ == 1.0)
    np.testing.assert_allclose(ours.std_, theirs.scale_, rtol=1e-12)
    Xte = X + rng.standard_normal(X.shape)
    np.testing.assert_allclose(ours.transform(Xte), theirs.transform(Xte), rtol=1e-9)


def test_standardizer_refuses_statistics_that_overflow():
    with pytest.raises(ValueError, match=r"column 1 spans -1e\+200 to 1e\+200.*overflows"):
        data.Standardizer().fit([[0.0, 1e200], [1.0, -1e200]])
    s = data.Standardizer().fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="overflows float64"):
        s.transform([[1e308]])


def test_standardizer_matches_sklearn():
    if not STRICT:
        pytest.importorskip("sklearn")
    from sklearn.preprocessing import StandardScaler

    X, _ = tg.data.load_digits()
    np.testing.assert_allclose(
        data.Standardizer().fit(X[:1000]).transform(X[1000:]),
        StandardScaler().fit(X[:1000]).transform(X[1000:]),
        rtol=1e-10,
        atol=1e-12,
    )


def test_standardizer_errors():
    s = data.Standardizer()
    with pytest.raises(RuntimeError, match="fit"):
        s.transform(np.zeros((2, 2)))
    s.fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="3 features, fit saw 2"):
        s.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        s.fit(np.zeros(3))


def test_mean_image():
    rng = np.random.default_rng(1)
    Xtr = rng.integers(0, 256, size=(30, 6), dtype=np.uint8)
    Xte = rng.integers(0, 256, size=(5, 6), dtype=np.uint8)
    m = data.MeanImage().fit(Xtr)
    expected = Xte / 255.0 - (Xtr / 255.0).mean(axis=0)
    np.testing.assert_allclose(m.transform(Xte), expected, rtol=1e-12, atol=1e-15)
    m32 = data.MeanImage(dtype=np.float32).fit(Xtr)
    out = m32.transform(Xte)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        data.MeanImage(scale=0)


@pytest.mark.parametrize("scale", [np.inf, np.nan, -1.0])
def test_mean_image_refuses_a_scale_that_is_not_a_positive_number(scale):
    with pytest.raises(ValueError, match="scale must be a positive number"):
        data.MeanImage(scale=scale)


def test_mean_image_refuses_values_its_dtype_cannot_hold():
    # X / scale beyond the dtype's range was inf, silently (a warning at most).
    with pytest.raises(ValueError, match="MeanImage.fit.*overflows float64"):
        data.MeanImage(scale=1e-320).fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="MeanImage.fit.*overflows float32"):
        data.MeanImage(dtype=np.float32).fit(np.full((2, 2), 1e300))
    m = data.MeanImage(dtype=np.float32).fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="MeanImage.transform.*overflows float32"):
        m.transform(np.full((1, 2), 1e300))


# ----- digits -----


def test_load_digits():
    X, y = tg.data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype.kind == "i"
    assert X.min() == 0 and X.max() == 16 and np.all(np.round(X) == X)
    # The UCI optdigits test set's documented class counts.
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert len(data.DIGITS_CLASSES) == 10


def test_load_digits_equals_sklearn():
    if not STRICT:
        pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    ref = load_digits()
    X, y = tg.data.load_digits()
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)


# ----- Fashion-MNIST: the real Debian files, read once per session -----


@pytest.fixture(scope="session")
def fashion():
    if not (data.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists() and not STRICT:
        pytest.skip(
            "dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)"
        )
    return tg.data.load_fashion_mnist()


def test_fashion_mnist_shapes_and_counts(fashion):
    Xtr, ytr, Xte, yte = fashion
    assert Xtr.shape == (60000, 784) and Xte.shape == (10000, 784)
    assert Xtr.dtype == np.uint8 and ytr.dtype.kind == "i"
    assert np.bincount(ytr).tolist() == [6000] * 10
    assert np.bincount(yte).tolist() == [1000] * 10
    assert Xtr.max() == 255 and Xtr.min() == 0
    assert len(data.FASHION_MNIST_CLASSES) == 10


def test_fashion_mnist_validation_split(fashion):
    Xtr, ytr, _, _ = fashion
    # Split labels only (indices stand in for the images): 50k / 10k, stratified.
    idx = np.arange(len(ytr))
    itr, iva, _, ytr2, yva, _ = data.train_val_test_split(idx, ytr, val=10000, test=0)
    assert len(itr) == 50000 and len(iva) == 10000
    assert np.bincount(yva).tolist() == [1000] * 10
    np.testing.assert_array_equal(ytr[iva], yva)


def _fake_fashion(folder: Path, n: int = 4) -> None:
    """A tiny, valid Fashion-MNIST folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "t10k"):
        images = bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes() + bytes(n * 784)
        labels = bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + bytes(range(n))
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(images)
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as fh:
            fh.write(labels)


def test_fashion_mnist_small_valid_folder(tmp_path):
    _fake_fashion(tmp_path)
    Xtr, ytr, Xte, yte = tg.data.load_fashion_mnist(tmp_path)
    assert Xtr.shape == (4, 784) and ytr.tolist() == [0, 1, 2, 3]
    Xtr[0, 0] = 1  # the arrays we hand out are writable


def test_fashion_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        tg.data.load_fashion_mnist(tmp_path / "nope")


def test_fashion_mnist_missing_file(tmp_path):
    _fake_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels.*dpkg -x"):
        tg.data.load_fashion_mnist(tmp_path)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: p.write_bytes(b"not gzip at all"), "corrupt"),
        (lambda p: p.write_bytes(gzip.compress(b"\x00\x00\x08")), "bad header"),
        (lambda p: p.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00")), "cut short"),
        (lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-1])), "bytes"),
        (lambda p: p.write_bytes(p.read_bytes()[:-12]), "corrupt"),  # truncated gzip
    ],
)
def test_fashion_mnist_corrupt_file(tmp_path, damage, match):
    _fake_fashion(tmp_path)
    damage(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match=match) as err:
        tg.data.load_fashion_mnist(tmp_path)
    assert "apt-get install dataset-fashion-mnist" in str(err.value)


def test_fashion_mnist_swapped_files_fail_magic(tmp_path):
    _fake_fashion(tmp_path)
    labels, images = (
        tmp_path / f"train-{k}-idx{d}-ubyte.gz" for k, d in (("labels", 1), ("images", 3))
    )
    shutil.copy(images, labels)
    with pytest.raises(ValueError, match="magic number 0x803, expected 0x801"):
        tg.data.load_fashion_mnist(tmp_path)


def test_fashion_mnist_label_out_of_range(tmp_path):
    _fake_fashion(tmp_path)
    bad = bytes([0, 0, 8, 1]) + np.array([4], ">u4").tobytes() + bytes([0, 1, 2, 12])
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bad))
    with pytest.raises(ValueError, match="outside 0..9"):
        tg.data.load_fashion_mnist(tmp_path)


def test_read_idx_uncompressed(tmp_path):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 8, 2]) + np.array([2, 3], ">u4").tobytes() + bytes(range(6)))
    np.testing.assert_array_equal(data.read_idx(p), np.arange(6).reshape(2, 3))


def test_doctests():
    import doctest

    result = doctest.testmod(data, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0


def _gzip_bomb(path: Path, header: bytes, megabytes: int) -> None:
    """A valid gzip file: ``header``, then ``megabytes`` MiB of zeros (a few hundred KB)."""
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(header)
        for _ in range(megabytes):
            fh.write(zeros)


def test_read_idx_stops_reading_a_gzip_bomb(tmp_path):
    import tracemalloc

    # The header promises 3 labels; 64 MiB of zeros follow. Reading all of it before
    # checking the size cost the whole inflated file in memory (2 GB for a 1 MB bomb).
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    _gzip_bomb(path, bytes([0, 0, 8, 1, 0, 0, 0, 3]), megabytes=64)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"shape \(3,\) \(11 bytes\) but the file has more"):
            data.read_idx(path, magic=0x801)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"read_idx held {peak / 2**20:.0f} MiB for an 11-byte file"


def test_read_idx_header_claiming_huge_shape_costs_no_memory(tmp_path):
    import tracemalloc

    # (2**32 - 1)**3 bytes announced, 10 present: no allocation of the announced size.
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + b"\xff" * 12 + bytes(10)))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"\(4294967295, 4294967295, 4294967295\)"):
            data.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_fashion_mnist_refuses_images_that_are_not_28x28(tmp_path):
    _fake_fashion(tmp_path)
    n = 4
    images = bytes([0, 0, 8, 3]) + np.array([n, 32, 24], ">u4").tobytes() + bytes(n * 32 * 24)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    with pytest.raises(ValueError, match=r"t10k images are 32x24 pixels, not 28x28"):
        tg.data.load_fashion_mnist(tmp_path)
