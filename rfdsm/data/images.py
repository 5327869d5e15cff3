"""Real images as data (docs/images.md): a fixed set of images split once into a training pool and held-out images.

The theory sees the images through their Gaussian model ``N(0, Σ)``, ``Σ`` the empirical covariance of the training
pool, so ``Images`` is a ``Gaussian`` whose eigenvalues and basis are those of ``Σ`` (``learning_curve(...,
data=Digits())`` gives the Gaussian-equivalent curves at ``d`` = the image dimension); the simulations and the
generation see the images themselves through ``realise`` (docs/data.md's interface, ``gaussian = False``).

- Split: a permutation drawn from ``seed`` sets aside ``held_out`` images (default ``N // 6``: 299 of the 1,797 digits,
  10,000 of MNIST's 60,000 training images); the others are the training pool. The split is part of the data model,
  fixed by ``(held_out, seed)``, never redrawn by a simulation.
- Standardisation: the pool's mean image is removed and every pixel divided by one global scale ``s``,
  ``s² = tr Cov(pool)/d``, so ``tr Σ/d = 1`` (the pre-activation variance is ``q = 1`` at every ``t``, as for isotropic
  data) and the images keep their contrasts. A per-pixel scale would divide by zero on the pixels that never change
  (3 of the 64 digit pixels, always blank) and blow up the near-constant border ones into noise; with the global
  scale such pixels are zero-variance directions: ``Σ`` has zero eigenvalues, which the theory accepts. Held-out
  images get the pool's mean and scale.
- ``realise(rng, d)``: ``sample(rng, n)`` draws ``n`` training images without replacement from the pool (so does
  ``sample(rng, n, d)``); ``test(rng, n)`` gives the held-out images, repeated ``n // k`` times when ``n`` reaches
  their number ``k`` (every row gets its own noise in the simulation), else ``n`` of them without replacement;
  ``gaussian`` is False: the simulation's test and score errors are means over these test points.
- ``d`` must be the image dimension: there is no other size of these data.

Files (``Images.from_file``): the IDX format of MNIST and Fashion-MNIST (``train-images-idx3-ubyte[.gz]``: the bytes
``0 0 type ndim``, ``ndim`` big-endian int32 sizes, then the values, big-endian), gzipped or plain (told by the gzip
magic bytes, not the name), and NumPy ``.npy``/``.npz`` arrays of shape ``(N, H, W)`` or ``(N, d)``; ``downsample = k``
averages ``k × k`` blocks of pixels (MNIST at ``k = 2``: 14 × 14, ``d = 196``).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from rfdsm.data.gaussian import Gaussian, check_generator
from rfdsm.validate import count

#: IDX value types by their code (third magic byte), all big-endian.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """The array of an IDX file, gzipped or plain; ``ValueError`` naming the file on a bad magic number, a truncated
    file or trailing bytes."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError) as err:
            raise ValueError(f"path: {path}: not a readable gzip file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise ValueError(f"path: {path}: bad magic number {raw[:4].hex() or '(empty file)'}; an IDX file starts with "
                         "00 00, a type byte (08 09 0b 0c 0d 0e) and the number of dimensions")
    ndim, dtype = raw[3], np.dtype(IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"path: {path}: truncated: {len(raw)} bytes, the header of {ndim} dimensions needs {header}")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", ndim, 4))
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"path: {path}: {state}: {len(raw)} bytes, a {'×'.join(map(str, shape))} array of {dtype.name}"
                         f" needs {expected}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape)


def read_images(path, key: str | None = None) -> np.ndarray:
    """The images in an IDX, ``.npy`` or ``.npz`` file (``key``: the array of an ``.npz`` holding several), as an
    ``(N, H, W)`` or ``(N, d)`` array; ``ValueError`` naming the file if it holds anything else."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: {path}: no such file")
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.keys())
            if key is None and len(names) != 1:
                raise ValueError(f"key: {path} holds the arrays {', '.join(names)}; name the images' one")
            if key is not None and key not in names:
                raise ValueError(f"key: {path} holds no array {key!r} (it holds {', '.join(names)})")
            array = archive[key or names[0]]
    else:
        array = read_idx(path)
    if array.ndim not in (2, 3) or array.dtype.kind not in "iuf":
        raise ValueError(f"path: {path}: expected images, an N × H × W or N × d array of numbers, got shape "
                         f"{array.shape} of {array.dtype}")
    return array


def downsampled(images: np.ndarray, factor: int) -> np.ndarray:
    """The means of the ``factor × factor`` blocks of each ``H × W`` image (``H`` and ``W`` multiples of ``factor``)."""
    factor = count("downsample", factor)
    if factor == 1:
        return images
    if images.ndim != 3 or images.shape[1] % factor or images.shape[2] % factor:
        raise ValueError(f"downsample: {factor} must divide the height and width of N × H × W images, got shape "
                         f"{images.shape}")
    n, height, width = images.shape
    blocks = images.reshape(n, height // factor, factor, width // factor, factor)
    return blocks.mean(axis=(2, 4))


class Images(Gaussian):
    """The images ``pixels`` (``N × H × W``, or ``N × d`` shown as ``√d × √d`` pictures when ``d`` is a square), split
    and standardised as the module docstring says; the theory's ``Σ`` is the pool's covariance. ``source``, the head of
    ``repr`` up to the split's parameters, says where the images came from (``from_file`` and ``Digits`` set it)."""

    def __init__(self, pixels, *, held_out: int | None = None, seed: int = 0, source: str | None = None):
        pixels = np.asarray(pixels)
        if pixels.ndim not in (2, 3) or pixels.dtype.kind not in "iuf" or not np.all(np.isfinite(pixels)):
            raise ValueError(f"pixels: expected an N × H × W or N × d array of finite numbers, got shape {pixels.shape}"
                             f" of {pixels.dtype}")
        total = pixels.shape[0]
        self.held_out = count("held_out", total // 6 if held_out is None else held_out)
        if total - self.held_out < 2:
            raise ValueError(f"held_out: {self.held_out} of {total} images leaves fewer than 2 for training")
        self.d = math.prod(pixels.shape[1:])
        side = math.isqrt(self.d)
        # The shape of a picture: flat rows of a square size are square images, other flat rows one line of pixels.
        self.shape = pixels.shape[1:] if pixels.ndim == 3 else (side, side) if side * side == self.d else (1, self.d)
        self.source = source or f"Images(<{total} images of {'×'.join(map(str, self.shape))}>, "
        flat = pixels.reshape(total, self.d).astype(float)
        order = np.random.default_rng(count("seed", seed, minimum=0)).permutation(total)
        pool = flat[order[self.held_out:]]
        self.mean = pool.mean(axis=0)
        pool -= self.mean
        self.scale = math.sqrt(np.einsum("ij,ij->", pool, pool) / ((pool.shape[0] - 1) * self.d))
        pool /= self.scale  # in place: MNIST's pool is 376 MB in doubles
        self.training = pool
        self.held = (flat[order[:self.held_out]] - self.mean) / self.scale
        values, self._basis = np.linalg.eigh(self.training.T @ self.training / (pool.shape[0] - 1))
        # The null space (blank pixels; n < d) comes out as round-off of either sign: make it exactly 0.
        values[values <= values[-1] * self.d * np.finfo(float).eps] = 0.0
        self._values = values
        super().__init__(values, seed=seed)

    @classmethod
    def from_file(cls, path, *, downsample: int = 1, key: str | None = None, held_out: int | None = None,
                  seed: int = 0) -> Images:
        """The images of an IDX (gzipped or not), ``.npy`` or ``.npz`` file, ``downsample × downsample`` blocks
        averaged."""
        downsample = count("downsample", downsample)
        pixels = downsampled(read_images(path, key), downsample)
        source = f"Images.from_file({str(path)!r}, downsample={downsample}, key={key!r}, "
        return cls(pixels, held_out=held_out, seed=seed, source=source)

    def __repr__(self) -> str:
        return f"{self.source}held_out={self.held_out}, seed={self.seed})"

    def _dimension(self, d: int) -> int:
        d = count("d", d)
        if d != self.d:
            raise ValueError(f"d: must be the image dimension {self.d} of {self!r}, got {d}")
        return d

    def eigenvalues(self, d: int) -> np.ndarray:
        """The ``d`` eigenvalues of the pool's covariance, increasing (``d`` = the image dimension)."""
        self._dimension(d)
        return self._values.copy()

    def basis(self, d: int) -> np.ndarray:
        """The eigenvectors of the pool's covariance (columns, in the order of ``eigenvalues``)."""
        self._dimension(d)
        return self._basis

    def realise(self, rng: np.random.Generator, d: int) -> ImageRealisation:
        """The images at dimension ``d`` (nothing to draw: the split is fixed); ``sample(rng, n, d)`` draws from it."""
        check_generator(rng)
        return ImageRealisation(self, self._dimension(d))

    def pixels(self, rows) -> np.ndarray:
        """Standardised rows back in pixel units and image shape: ``x s + mean``, reshaped to ``(k, *shape)``."""
        rows = np.asarray(rows, dtype=float).reshape(-1, self.d)
        return (rows * self.scale + self.mean).reshape(-1, *self.shape)


class Digits(Images):
    """scikit-learn's handwritten digits (``sklearn.datasets.load_digits``: 1,797 images of 8 × 8 pixels in 0…16, shipped
    with the package), ``d = 64``, split and standardised as ``Images``."""

    def __init__(self, *, held_out: int | None = None, seed: int = 0):
        from sklearn.datasets import load_digits  # a slow import, only when digits are asked for

        super().__init__(load_digits().images, held_out=held_out, seed=seed, source="Digits(")


class ImageRealisation:
    """The realisation of ``Images`` (docs/data.md): training images, held-out test images, the pool's covariance."""

    gaussian = False

    def __init__(self, images: Images, d: int):
        self.images, self.d = images, d

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` standardised training images, drawn without replacement from the pool."""
        training = self.images.training
        return training[_subset(rng, n, training.shape[0], "training images")]

    def test(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The held-out images, each repeated ``n // k`` times (``k`` of them; the simulation gives every row its own
        noise, so the mean over ``z`` at each image is sharper), or ``n < k`` of them without replacement."""
        held = self.images.held
        n = count("n", n)
        if n < held.shape[0]:
            return held[_subset(rng, n, held.shape[0], "held-out images")]
        return np.tile(held, (n // held.shape[0], 1))

    def eigh(self) -> tuple[np.ndarray, np.ndarray]:
        """``(eigenvalues, basis)`` of the pool's covariance ``Σ``."""
        return self.images.eigenvalues(self.d), self.images.basis(self.d)


def _subset(rng: np.random.Generator, n: int, size: int, what: str) -> np.ndarray:
    """``n`` distinct indices of ``range(size)`` in random order."""
    check_generator(rng)
    n = count("n", n)
    if n > size:
        raise ValueError(f"n: {n} exceeds the {size} {what}")
    return rng.choice(size, n, replace=False)
