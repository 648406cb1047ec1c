"""Data for the linear classifiers: splits, standardization and two offline datasets.

The lecture's pipeline: split the data into training, validation and test sets; fit
every preprocessing statistic on the training split only; choose hyperparameters on
the validation split; evaluate on the test split once, at the end.

    load_digits()            scikit-learn's 8x8 digits, vendored (1797 x 64, 10 classes)
    load_fashion_mnist()     Debian's dataset-fashion-mnist IDX files (60k + 10k x 784)
    make_blobs(), make_moons()   2-D toy problems (micrograd's demo trains on the moons)
    train_val_test_split()   stratified, deterministic three-way split
    Standardizer             per-feature (x - mean) / std, fitted on train only
    MeanImage                x / 255 - mean image, for pixel data (as cs231n does)

numpy only; no pickle anywhere (a pickle from an untrusted file runs code when loaded).
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DIGITS_CLASSES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "MeanImage",
    "Standardizer",
    "load_digits",
    "load_fashion_mnist",
    "make_blobs",
    "make_moons",
    "read_idx",
    "train_val_test_split",
]

DIGITS_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_DATASETS = Path(__file__).resolve().parent / "datasets"


# ----- splitting -----


def _count(name: str, share: float | int, n: int) -> int:
    """A split size: a fraction of n (float in [0, 1)) or an absolute count (int)."""
    if isinstance(share, bool) or not isinstance(share, int | float | np.integer | np.floating):
        raise TypeError(
            f"train_val_test_split: {name} must be a fraction or a count, got {share!r}"
        )
    if isinstance(share, int | np.integer):
        if not 0 <= share <= n:
            raise ValueError(f"train_val_test_split: {name}={share} is not a count in [0, {n}]")
        return int(share)
    if not (0.0 <= share < 1.0):
        raise ValueError(f"train_val_test_split: {name}={share} is not a fraction in [0, 1)")
    # Round up, as scikit-learn's train_test_split does (the epsilon keeps 0.7 * 10,
    # which is 7.000000000000001 in floating point, at 7).
    return math.ceil(share * n - 1e-9)


def _largest_remainder(ideal: np.ndarray, total: int, cap: np.ndarray) -> np.ndarray:
    """Integers close to `ideal` that sum to `total`, never above `cap` (Hamilton's method)."""
    take = np.minimum(np.floor(ideal).astype(int), cap)
    order = np.argsort(-(ideal - take), kind="stable")  # biggest fractional part first
    i = 0
    while take.sum() < total:
        k = order[i % len(order)]
        if take[k] < cap[k]:
            take[k] += 1
        i += 1
    return take


def train_val_test_split(
    X: Any,
    y: Any,
    val: float | int = 0.2,
    test: float | int = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into training, validation and test sets.

    Returns ``(X_train, X_val, X_test, y_train, y_val, y_test)``, in that order
    (scikit-learn's ``train_test_split`` order, with validation after training).

    ``val`` and ``test`` are fractions in [0, 1) of the N examples or absolute counts
    (ints); the training set gets the rest. With ``stratify=True`` every class is split
    in the same proportions (sizes are rounded so each split has exactly its total).
    The same ``seed`` gives the same split; rows within each split are shuffled.

    >>> import numpy as np
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val=0.2, test=0.2)
    >>> len(ytr), len(yva), len(yte), sorted(yte.tolist())
    (6, 2, 2, [0, 1])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            "train_val_test_split: X must have one row per label and y must be 1-D; "
            f"got X of shape {X.shape} and y of shape {y.shape}"
        )
    n = len(y)
    n_test, n_val = _count("test", test, n), _count("val", val, n)
    if n_test + n_val >= n:
        raise ValueError(
            f"train_val_test_split: val ({n_val}) + test ({n_test}) leave no training "
            f"examples out of {n}"
        )
    rng = np.random.default_rng(seed)

    if stratify:
        classes, y_idx = np.unique(y, return_inverse=True)
        groups = [rng.permutation(np.flatnonzero(y_idx == k)) for k in range(len(classes))]
        sizes = np.array([len(g) for g in groups])
        n_te = _largest_remainder(sizes * n_test / n, n_test, sizes)
        n_va = _largest_remainder(sizes * n_val / n, n_val, sizes - n_te)
        parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
        for g, a, b in zip(groups, n_te, n_va, strict=True):
            parts[2].append(g[:a])
            parts[1].append(g[a : a + b])
            parts[0].append(g[a + b :])
        # Shuffle within each split so the classes come interleaved, not in blocks.
        train, valid, tst = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        perm = rng.permutation(n)
        tst, valid, train = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]

    return X[train], X[valid], X[tst], y[train], y[valid], y[tst]


# ----- preprocessing: fitted on the training split only -----


def _rows(name: str, X: Any) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a 2-D numeric array (N, D), got {X.dtype} {X.shape}")
    # NaN or inf would silently turn a whole feature (its mean and std) into NaN.
    if X.dtype.kind == "f" and X.size and not (np.isfinite(X.min()) and np.isfinite(X.max())):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{name}: X holds {X[tuple(bad)]} at row {bad[0]}, column {bad[1]}; "
            "every feature must be a finite number"
        )
    return X


def _is_constant(var: np.ndarray, mean: np.ndarray, n: int) -> np.ndarray:
    """Which features are constant up to the rounding error of their computed variance.

    scikit-learn's ``_is_constant_feature`` (the error bound of the two-pass variance
    algorithm, Chan, Golub and LeVeque): ``var <= n*eps*var + (n*mean*eps)**2``.

    >>> X = np.full((3, 1), 0.1)
    >>> float(X.std()) > 0, _is_constant(X.var(axis=0), X.mean(axis=0), 3).tolist()
    (True, [True])
    """
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


class Standardizer:
    """Per-feature ``(x - mean) / std``, with mean and std from the training split.

    A feature that is constant on the training split (e.g. a digit's corner pixel) is
    only centred, never divided by its std. "Constant" is scikit-learn's rule
    (``StandardScaler``): a variance within the rounding error of computing it, so a
    column of 0.1s, whose computed std is 1e-17 and not 0, counts as constant too.

    >>> import numpy as np
    >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.transform(np.array([[1.0, 5.0], [3.0, 7.0]]))
    array([[0., 0.],
           [2., 2.]])
    """

    mean_: np.ndarray
    std_: np.ndarray

    def fit(self, X: Any) -> Standardizer:
        """Learn each feature's mean and std from X (the training split)."""
        X = _rows("Standardizer.fit", X).astype(np.float64)
        if len(X) == 0:
            raise ValueError("Standardizer.fit: X has no rows")
        with np.errstate(over="ignore", invalid="ignore"):
            mean, var = X.mean(axis=0), X.var(axis=0)
            constant = _is_constant(var, mean, len(X))
        bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(var)))
        if bad.size:
            j = bad[0]
            raise ValueError(
                f"Standardizer.fit: column {j} spans {X[:, j].min():g} to {X[:, j].max():g}; "
                "its mean or variance overflows float64. Rescale that feature first"
            )
        self.mean_ = mean
        self.std_ = np.where(constant, 1.0, np.sqrt(var))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Standardize X with the statistics learned by ``fit``."""
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer.transform: call fit(X_train) first")
        X = _rows("Standardizer.transform", X)
        if X.shape[1] != len(self.mean_):
            raise ValueError(
                f"Standardizer.transform: X has {X.shape[1]} features, fit saw {len(self.mean_)}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            out = (X - self.mean_) / self.std_
        if out.size and not np.isfinite([out.min(), out.max()]).all():
            raise ValueError(
                f"Standardizer.transform: (X - mean) / std overflows float64 "
                f"(X spans {X.min():g} to {X.max():g})"
            )
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


class MeanImage:
    """Pixel preprocessing as in cs231n: ``x / scale - mean image`` of the training split.

    ``scale`` is the largest pixel value (255 for 8-bit images, 16 for the digits).
    Every pixel keeps the same scale, so nearly constant border pixels are not blown
    up the way per-feature standardization blows them up. ``dtype=np.float32`` halves
    the memory of a big image set.

    >>> import numpy as np
    >>> m = MeanImage(scale=255).fit(np.array([[0, 255], [255, 255]]))
    >>> m.transform(np.array([[255, 255]]))
    array([[0.5, 0. ]])
    """

    mean_: np.ndarray

    def __init__(self, scale: float = 255.0, dtype: Any = np.float64) -> None:
        if not 0 < scale < math.inf:
            raise ValueError(f"MeanImage: scale must be a positive number, got {scale!r}")
        self.scale = float(scale)
        self.dtype = np.dtype(dtype)

    def fit(self, X: Any) -> MeanImage:
        """Learn the mean image of X / scale (the training split)."""
        X = _rows("MeanImage.fit", X)
        if len(X) == 0:
            raise ValueError("MeanImage.fit: X has no rows")
        with np.errstate(over="ignore", invalid="ignore"):
            mean = (X.mean(axis=0, dtype=np.float64) / self.scale).astype(self.dtype)
        if not np.isfinite(mean).all():
            j = np.flatnonzero(~np.isfinite(mean))[0]
            raise ValueError(
                f"MeanImage.fit: pixel {j}'s mean of X / {self.scale:g} overflows "
                f"{self.dtype} (pixels span {X.min():g} to {X.max():g}); is scale right?"
            )
        self.mean_ = mean
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``X / scale - mean_``."""
        if not hasattr(self, "mean_"):
            raise RuntimeError("MeanImage.transform: call fit(X_train) first")
        X = _rows("MeanImage.transform", X)
        if X.shape[1] != len(self.mean_):
            raise ValueError(
                f"MeanImage.transform: X has {X.shape[1]} pixels, fit saw {len(self.mean_)}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            out = X.astype(self.dtype) / self.dtype.type(self.scale) - self.mean_
        # Only float input can leave the dtype's range (e.g. 1e300 into float32).
        if X.dtype.kind == "f" and out.size and not np.isfinite([out.min(), out.max()]).all():
            raise ValueError(
                f"MeanImage.transform: X / {self.scale:g} - mean overflows {self.dtype} "
                f"(X spans {X.min():g} to {X.max():g})"
            )
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


# ----- datasets -----


def make_blobs(
    n_per_class: int = 50,
    centers: Any = ((-2.0, -1.0), (2.0, -1.0), (0.0, 2.5)),
    std: float = 0.8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D toy problem: one Gaussian blob per class (three by default).

    Returns X float64 (K * n_per_class, 2) and y int64, the classes in blocks. Small
    enough to draw, which is what the geometric interpretation needs.

    >>> X, y = make_blobs(n_per_class=4)
    >>> X.shape, y.tolist()
    ((12, 2), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or n_per_class < 1 or not std > 0:
        raise ValueError(
            f"make_blobs: need centers of shape (K, D), n_per_class >= 1 and std > 0; "
            f"got centers {centers.shape}, n_per_class={n_per_class}, std={std}"
        )
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + std * rng.standard_normal((n_per_class, len(c))) for c in centers])
    y = np.repeat(np.arange(len(centers)), n_per_class)
    return X, y


def make_moons(
    n_samples: int = 100, noise: float | None = None, seed: int = 0, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: the data of micrograd's demo.

    scikit-learn's construction, number for number: ``make_moons(n, noise, seed)`` equals
    ``sklearn.datasets.make_moons(n, noise=noise, random_state=seed)``. The upper moon
    (class 0) gets ``n // 2`` points, the lower one the rest; the points are shuffled
    and then moved by Gaussian noise of standard deviation ``noise``. The random numbers
    come from ``numpy.random.RandomState(seed)``, as scikit-learn's do (numpy keeps that
    stream fixed across versions), so micrograd's notebook, which seeds numpy with 1337
    before calling scikit-learn, is ``make_moons(100, 0.1, seed=1337)``.

    Returns X float64 (n_samples, 2) and y int64 (0 or 1).

    >>> X, y = make_moons(6, seed=0)
    >>> X.shape, sorted(y.tolist())
    ((6, 2), [0, 0, 0, 1, 1, 1])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise TypeError(f"make_moons: n_samples must be an int, got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"make_moons: n_samples must be at least 1, got {n_samples}")
    if noise is not None and (
        isinstance(noise, bool)
        or not isinstance(noise, int | float | np.integer | np.floating)
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(f"make_moons: noise must be None or a finite number >= 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
        raise ValueError(f"make_moons: seed must be an int in [0, 2**32), got {seed!r}")
    rng = np.random.RandomState(int(seed))  # scikit-learn's generator, for equal numbers
    n_out = n_samples // 2
    n_in = n_samples - n_out
    upper, lower = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.column_stack(
        [
            np.append(np.cos(upper), 1 - np.cos(lower)),
            np.append(np.sin(upper), 1 - np.sin(lower) - 0.5),
        ]
    )
    y = np.append(np.zeros(n_out, np.int64), np.ones(n_in, np.int64))
    if shuffle:
        order = np.arange(n_samples)
        rng.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: X float64 (1797, 64) with pixels 0..16, y int64 (1797,).

    A copy of scikit-learn's bundled ``digits.csv.gz`` (the UCI optdigits test set) ships
    with tensorgraph, so this works offline. Row i reshaped to (8, 8) is the image;
    class names are ``DIGITS_CLASSES``. See ``tensorgraph/datasets/README.md``.

    >>> X, y = load_digits()
    >>> X.shape, y.shape, float(X.max()), int(y[0])
    ((1797, 64), (1797,), 16.0, 0)
    """
    path = _DATASETS / "digits.csv.gz"
    if not path.exists():
        raise FileNotFoundError(
            f"load_digits: {path} is missing; reinstall tensorgraph "
            "(the file is part of the package)"
        )
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


_IDX_HOWTO = (
    "Fashion-MNIST is four files in one folder: train-images-idx3-ubyte.gz (26 MB), "
    "train-labels-idx1-ubyte.gz (29 KB), t10k-images-idx3-ubyte.gz (4.4 MB) and "
    "t10k-labels-idx1-ubyte.gz (5.1 KB). On Debian or Ubuntu, `sudo apt-get install "
    "dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist (without root: "
    "`apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb DIR` "
    "puts them in DIR/usr/share/datasets/fashion-mnist); on any other system, download "
    "them from the Fashion-MNIST project (zalandoresearch/fashion-mnist on GitHub, folder "
    "data/fashion). Then pass that folder: load_fashion_mnist(path=FOLDER), or "
    "`tensorgraph demo --dataset fashion-mnist --data-dir FOLDER`."
)

_IDX_DTYPES = {0x08: np.dtype(np.uint8)}  # all MNIST-style files use unsigned bytes


def read_idx(path: str | Path, magic: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a numpy array, checking its header.

    The header is two zero bytes, a type byte (0x08 = unsigned byte), the number of
    dimensions, then each dimension as a big-endian uint32. Image files have magic
    number 0x803 (3 dimensions), label files 0x801 (1 dimension); pass ``magic`` to
    insist on one of them. The header is read first and then at most the bytes it
    announces plus one, so a small gzip file that inflates to gigabytes (a "gzip
    bomb") is refused after reading no more than its header promised.

    >>> import gzip, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "labels.gz")
    >>> with gzip.open(p, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(p, magic=0x801)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: {path} does not exist. {_IDX_HOWTO}")

    def corrupt(why: str) -> ValueError:
        return ValueError(f"read_idx: {path} is not a valid IDX file: {why}. {_IDX_HOWTO}")

    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            head = _read_at_most(fh, 4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
                raise corrupt(f"bad header {head[:4].hex()}")
            found = int.from_bytes(head, "big")
            if magic is not None and found != magic:
                raise corrupt(f"magic number {found:#x}, expected {magic:#x}")
            ndim = head[3]
            dims = _read_at_most(fh, 4 * ndim)
            if len(dims) < 4 * ndim:
                raise corrupt("the header is cut short")
            shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
            dtype = _IDX_DTYPES[head[2]]
            size = math.prod(shape) * dtype.itemsize
            # One byte more than announced tells a file that is too long from a right one.
            raw = _read_at_most(fh, size + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is corrupt ({err}). {_IDX_HOWTO}") from None
    if len(raw) != size:
        start = 4 + 4 * ndim
        has = f"{start + len(raw)}" if len(raw) <= size else f"more than {start + size}"
        raise corrupt(f"header says shape {shape} ({start + size} bytes) but the file has {has}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)  # a bytearray: writable


def _read_at_most(fh: Any, n: int, chunk: int = 1 << 22) -> bytearray:
    """Up to ``n`` bytes of ``fh``, fewer at its end, in chunks: memory grows with what the
    file really holds, never with what a header claims."""
    buf = bytearray()
    while len(buf) < n:
        part = fh.read(min(chunk, n - len(buf)))
        if not part:
            break
        buf += part
    return buf


def load_fashion_mnist(
    path: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist``.

    Returns ``(X_train, y_train, X_test, y_test)``: X uint8 of shape (60000, 784) and
    (10000, 784) (28x28 images, row-major, pixels 0..255), y int64 labels 0..9 (names in
    ``FASHION_MNIST_CLASSES``). The test split is the official one; take a validation
    split out of the training set (``train_val_test_split(X, y, val=10000, test=0)``).
    ``path`` is the folder of the four ``*-ubyte.gz`` files, by default
    ``/usr/share/datasets/fashion-mnist``. A missing or corrupt file raises an error
    that says how to get the package.

    >>> Xtr, ytr, Xte, yte = load_fashion_mnist()  # doctest: +SKIP
    >>> Xtr.shape, Xte.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    folder = Path(path) if path is not None else FASHION_MNIST_DIR
    if not folder.is_dir():
        raise FileNotFoundError(
            f"load_fashion_mnist: no Fashion-MNIST folder at {folder}. {_IDX_HOWTO}"
        )
    out = []
    for split in ("train", "t10k"):
        images = read_idx(folder / f"{split}-images-idx3-ubyte.gz", magic=0x803)
        labels = read_idx(folder / f"{split}-labels-idx1-ubyte.gz", magic=0x801)
        if images.shape[1:] != (28, 28):
            raise ValueError(
                f"load_fashion_mnist: {split} images are {'x'.join(map(str, images.shape[1:]))}"
                f" pixels, not 28x28, in {folder}. {_IDX_HOWTO}"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"load_fashion_mnist: {split} has {len(images)} images but {len(labels)} "
                f"labels in {folder}. {_IDX_HOWTO}"
            )
        if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
            raise ValueError(
                f"load_fashion_mnist: {split} labels hold {labels.max()}, outside 0..9. "
                f"{_IDX_HOWTO}"
            )
        out += [images.reshape(len(images), -1), labels.astype(np.int64)]
    return out[0], out[1], out[2], out[3]
