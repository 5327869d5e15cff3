"""Real images (rfdsm/data/images.py): the IDX reader on files written here, the digits data model (split,
standardisation, spectrum), its realisation, and the memorisation metric on images."""

import gzip
import math

import numpy as np
import pytest

import rfdsm
from rfdsm.data import Digits, Gaussian, Images
from rfdsm.data.images import read_idx
from rfdsm.generation import distance_ratios, memorised_fraction


@pytest.fixture(scope="module")
def digits():
    return Digits()


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """The IDX encoding of ``array`` with value type ``code``: ``0 0 code ndim``, the sizes, the big-endian values."""
    dtype = {0x08: ">u1", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(dtype).tobytes()


def write(path, content: bytes, zipped: bool):
    path.write_bytes(gzip.compress(content) if zipped else content)
    return path


IMAGES = np.random.default_rng(0).integers(0, 256, size=(12, 4, 6)).astype(np.uint8)


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("code", [0x08, 0x0E])
def test_idx_files_are_read_back_exactly(tmp_path, zipped, code):
    # Named without .gz: the reader tells gzip by its magic bytes.
    path = write(tmp_path / "images-idx3", idx_bytes(IMAGES, code), zipped)
    array = read_idx(path)
    assert array.shape == IMAGES.shape and np.array_equal(array, IMAGES)
    images = Images.from_file(path, held_out=2)
    assert np.allclose(np.sort(images.pixels(np.vstack([images.training, images.held])).ravel()),
                       np.sort(IMAGES.ravel()), atol=1e-12)


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("damage, message", [
    (lambda raw: b"\x00\x00\x07\x03" + raw[4:], "bad magic number"),       # unknown value type
    (lambda raw: b"\x08\x03\x00\x00" + raw[4:], "bad magic number"),       # bytes swapped
    (lambda raw: raw[:-5], "truncated"),                                    # values cut
    (lambda raw: raw[:10], "truncated"),                                    # sizes cut
    (lambda raw: raw + b"\x00", "trailing bytes"),
    (lambda raw: b"", "bad magic number"),
], ids=["type", "swapped", "values", "header", "trailing", "empty"])
def test_bad_idx_files_raise_naming_the_file(tmp_path, zipped, damage, message):
    path = write(tmp_path / "broken-idx3-ubyte", damage(idx_bytes(IMAGES, 0x08)), zipped)
    with pytest.raises(ValueError, match=rf"^path: .*broken-idx3-ubyte.*{message}"):
        Images.from_file(path)


def test_a_truncated_gzip_stream_raises_naming_the_file(tmp_path):
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(IMAGES, 0x08))[:-12])
    with pytest.raises(ValueError, match=r"^path: .*cut-idx3-ubyte\.gz"):
        Images.from_file(path)


@pytest.mark.parametrize("shape", [(12,), (2, 3, 4, 5)], ids=["labels", "4-D"])
def test_files_without_images_raise_naming_the_file(tmp_path, shape):
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(np.zeros(shape, np.uint8), 0x08), False)
    assert read_idx(path).shape == shape  # a valid IDX file, but no N × H × W images
    with pytest.raises(ValueError, match=r"^path: .*labels-idx1-ubyte.*shape"):
        Images.from_file(path)


def test_numpy_files_and_downsampling(tmp_path):
    np.save(tmp_path / "a.npy", IMAGES)
    np.savez(tmp_path / "b.npz", images=IMAGES, labels=np.arange(12))
    plain = Images.from_file(tmp_path / "a.npy", held_out=2)
    assert plain.d == 24 and plain.shape == (4, 6)
    flat = IMAGES.reshape(12, 24).astype(float)
    assert Images(flat[:, :16]).shape == (4, 4) and Images(flat).shape == (1, 24)
    assert Images(flat).pixels(Images(flat).training).shape == (10, 1, 24)
    with pytest.raises(ValueError, match=r"^key: .*b\.npz.*images, labels"):
        Images.from_file(tmp_path / "b.npz")
    halved = Images.from_file(tmp_path / "b.npz", key="images", downsample=2, held_out=2)
    assert halved.shape == (2, 3)
    blocks = IMAGES.astype(float).reshape(12, 2, 2, 3, 2).mean(axis=(2, 4))
    assert np.allclose(np.sort(halved.pixels(np.vstack([halved.training, halved.held])).ravel()),
                       np.sort(blocks.ravel()), atol=1e-12)
    assert repr(halved) == (f"Images.from_file({str(tmp_path / 'b.npz')!r}, downsample=2, key='images', held_out=2, "
                            "seed=0)")
    with pytest.raises(ValueError, match=r"^downsample:"):
        Images.from_file(tmp_path / "a.npy", downsample=4)  # 6 is not a multiple of 4
    with pytest.raises(ValueError, match=r"^path: .*missing\.npy"):
        Images.from_file(tmp_path / "missing.npy")


def test_digits_split_and_standardisation(digits):
    from sklearn.datasets import load_digits

    assert digits.d == 64 and digits.shape == (8, 8)
    assert digits.training.shape == (1498, 64) and digits.held.shape == (299, 64)
    # Pool and held-out images are the 1,797 digits, each once.
    back = np.rint(digits.pixels(np.vstack([digits.training, digits.held])).reshape(-1, 64))
    assert np.array_equal(np.unique(back, axis=0), np.unique(load_digits().data, axis=0))
    assert np.allclose(digits.training.mean(axis=0), 0, atol=1e-13)
    assert np.trace(np.cov(digits.training, rowvar=False)) / 64 == pytest.approx(1, rel=1e-13)
    assert digits.second_moment() == pytest.approx(1, rel=1e-13)
    # The held-out images carry the pool's mean and scale, not their own.
    assert np.allclose(digits.held * digits.scale + digits.mean, load_digits().data[_held_indices(digits)])
    assert repr(digits) == "Digits(held_out=299, seed=0)"
    other = Digits(held_out=100, seed=3)
    assert repr(other) == "Digits(held_out=100, seed=3)" and other.training.shape == (1697, 64)


def _held_indices(digits) -> np.ndarray:
    return np.random.default_rng(digits.seed).permutation(1797)[:digits.held_out]


def test_digits_spectrum_is_the_pool_covariance(digits):
    covariance = np.cov(digits.training, rowvar=False)
    values, basis = digits.realise(np.random.default_rng(0), 64).eigh()
    assert np.allclose(values, np.linalg.eigvalsh(covariance), atol=1e-12)
    assert np.allclose((basis * values) @ basis.T, covariance, atol=1e-12)
    assert np.allclose(basis.T @ basis, np.eye(64), atol=1e-12)
    assert np.count_nonzero(values == 0) == 3  # the three pixels that are blank in every digit
    law = digits.spectrum()
    assert np.array_equal(law, digits.spectrum(64)) and law[0, 1] == pytest.approx(3 / 64)
    t, a2 = 0.2, math.exp(-0.4)
    sigma_t = a2 * covariance + (1 - a2) * np.eye(64)
    assert digits.baseline(t) == pytest.approx(1 - (1 - a2) * np.trace(np.linalg.inv(sigma_t)) / 64, rel=1e-12)
    # The theory sees the digits as the Gaussian with their spectrum.
    curve = rfdsm.learning_curve("tanh", t, 2.0, [0.5, 2.0], data=digits)
    same = rfdsm.learning_curve("tanh", t, 2.0, [0.5, 2.0], data=Gaussian(values))
    assert np.array_equal(curve.test, same.test) and curve.data == "Digits(held_out=299, seed=0)"
    with pytest.raises(ValueError, match=r"^d:"):
        digits.realise(np.random.default_rng(0), 63)
    with pytest.raises(ValueError, match=r"^d:"):
        digits.eigenvalues(100)


def test_digits_realisation_draws_images(digits):
    rng = np.random.default_rng(1)
    images = digits.realise(rng, 64)
    assert images.gaussian is False and images.d == 64
    X = images.sample(rng, 1498)
    assert np.array_equal(np.unique(X, axis=0), np.unique(digits.training, axis=0))  # without replacement
    assert not np.array_equal(images.sample(rng, 10), images.sample(rng, 10))
    assert np.array_equal(images.test(rng, 299), digits.held)
    assert np.array_equal(images.test(rng, 1000), np.vstack([digits.held] * 3))  # whole copies, each its own noise
    part = images.test(rng, 50)
    assert part.shape == (50, 64) and np.unique(part, axis=0).shape[0] == 50
    assert all(np.any(np.all(digits.held == row, axis=1)) for row in part)
    with pytest.raises(ValueError, match=r"^n:"):
        images.sample(rng, 1499)
    assert np.array_equal(digits.sample(np.random.default_rng(5), 7, 64), images.sample(np.random.default_rng(5), 7))


def test_memorisation_metric_on_copies_and_on_fresh_gaussian_samples(digits):
    rng = np.random.default_rng(2)
    training = digits.realise(rng, 64).sample(rng, 500)
    copies = training[rng.choice(500, 200)]
    fraction, low, high = memorised_fraction(distance_ratios(copies, training), rng)
    assert (fraction, low, high) == (1.0, 1.0, 1.0)
    values, basis = digits.realise(rng, 64).eigh()
    fresh = (rng.standard_normal((200, 64)) * np.sqrt(values)) @ basis.T  # N(0, Σ) of the digits
    fraction, low, high = memorised_fraction(distance_ratios(fresh, training), rng)
    assert (fraction, low, high) == (0.0, 0.0, 0.0)


def test_command_line_data_entries(tmp_path, digits):
    from rfdsm.cli import data_argument

    np.save(tmp_path / "a.npy", IMAGES)
    assert repr(data_argument("digits")) == repr(digits)
    images = data_argument(f"images:{tmp_path / 'a.npy'},downsample=2,held_out=3")
    assert images.shape == (2, 3) and images.held_out == 3


def test_small_simulation_on_digits_is_near_the_gaussian_equivalent_theory(digits):
    # Few features (p = 32) and many images (n = 512): the regime where the Gaussian equivalent holds best. Tolerance
    # 5 %: a few times the O(1/d) finite-size effect at d = 64; unstandardised digits (tr Σ/d = 18.8) or Gaussian
    # test points with another Σ would be off by far more.
    run = rfdsm.simulate("tanh", 0.1, 64, 8.0, 0.5, lam=1e-3, seeds=3, data=digits)
    theory = rfdsm.learning_curve("tanh", 0.1, 8.0, 0.5, lam=1e-3, data=digits)
    assert run.data == repr(digits) and run.n == 512 and run.p == 32
    for error in ("test", "train"):
        assert getattr(run, error) == pytest.approx(float(getattr(theory, error)), rel=0.05), error
    again = rfdsm.simulate("tanh", 0.1, 64, 8.0, 0.5, lam=1e-3, seeds=3, data=digits)
    assert again.test == run.test


def test_generation_on_digits_trains_on_pool_images(digits):
    run = rfdsm.generate("tanh", 64, 1.0, 2.0, m=4, lam=1e-3, samples=20, steps=4, t_min=1e-3, data=digits)
    assert run.training.shape == (64, 64) and run.samples.shape == (20, 64) and run.data == repr(digits)
    pool = {row.tobytes() for row in digits.training}
    assert all(row.tobytes() in pool for row in run.training)
    assert np.array_equal(run.ratios, distance_ratios(run.samples, run.training))


def test_generate_command_writes_table_grid_and_results(tmp_path):
    from rfdsm.cli import main

    arguments = ["generate", "--data", "digits", "--psi-n", "0.5", "--psi-p", "0.5:1:2", "--m", "2", "inf",
                 "--samples", "6", "--steps", "3", "--out", str(tmp_path)]
    assert main(arguments) == 0
    (table,) = tmp_path.glob("generate_tanh_*.txt")
    lines = table.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Digits(held_out=299, seed=0), d = 64") and len(lines) == 2 + 4  # 2 ψp × 2 m
    assert table.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = [rfdsm.load(f"{table.with_suffix('')}_{k}.nc") for k in range(4)]
    assert [(r.psi_p, r.m) for r in runs] == [(0.5, 2), (0.5, math.inf), (1.0, 2), (1.0, math.inf)]
    assert all(f"{r.fraction:9.3f}" in line for r, line in zip(runs, lines[2:]))
    assert main(arguments) == 2  # the same parameters again: nothing is overwritten
    assert main(["generate", "--data", "isotropic", "--d", "20", "--psi-n", "1", "--psi-p", "1", "--m", "inf",
                 "--samples", "5", "--steps", "2", "--out", str(tmp_path / "iso")]) == 0
    assert not list((tmp_path / "iso").glob("*.png")) and len(list((tmp_path / "iso").glob("*.nc"))) == 1


@pytest.mark.slow  # two subprocesses and their figures: CI runs them
@pytest.mark.parametrize("script, outputs", [
    ("fig_digits_curves.py", ["digits_curves.png", "digits_curves.txt"]),
    ("fig_digits_generation.py", ["digits_memorisation.png", "digits_generation_grid.png", "digits_memorisation.txt"]),
])
def test_digits_figure_scripts_write_their_files(tmp_path, script, outputs):
    import subprocess
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / script
    run = subprocess.run([sys.executable, str(path), "--quick", "--out", str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in outputs:
        assert (tmp_path / name).is_file(), name
