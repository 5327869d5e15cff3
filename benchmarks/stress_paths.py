"""Path stress study of the theory (issue "curves are exact on every path"): ψn sweeps in both directions against
point-by-point solves, and the phase diagrams of the README, at several ridges.

A swept point is *wrong* if it failed, is not physical (ε_test < a², ε_train < 0 or ε_train > ε_train_ridge), or
differs from the same point solved alone by more than 1e-8 relative in ε_test, ε_train or ε_train_ridge. ε_train is
also allowed 1e-13 ε_train_ridge absolute: past the interpolation threshold it is O(λ²), the difference of two traces
of size O(λ), so that is its round-off floor (1e-17 next to ε_train_ridge = 4e-9 at λ = 1e-6).

    python benchmarks/stress_paths.py            # about a minute
"""

from __future__ import annotations

import math
import time

import numpy as np

import rfdsm

ACTIVATIONS = ("relu", "tanh", "erf", "sign", "sigmoid", "gelu", "silu", "softplus")
MS = (1, 4, math.inf)
RIDGES = (1e-3, 1e-4, 1e-5, 1e-6)
PSI_N = np.geomspace(0.1, 100, 40)
PSI_P = (1.0, 100.0)
ERRORS = ("test", "train", "train_ridge")


def wrong(curve, alone) -> np.ndarray:
    """Mask of the wrong points of ``curve`` against the point-by-point ``alone`` (same shape)."""
    bad = curve.status != 0
    bad |= (curve.test < curve.baseline) | (curve.train < 0) | (curve.train > curve.train_ridge)
    for e in ERRORS:
        a, b = getattr(curve, e), getattr(alone, e)
        floor = 1e-13 * getattr(alone, "train_ridge") if e == "train" else 0.0
        bad |= ~(np.abs(a - b) <= 1e-8 * np.abs(b) + floor)
    return bad


def point_by_point(activation, t, psi_n, psi_p, m, lam):
    cells = [rfdsm.learning_curve(activation, t, n, p, m=m, lam=lam, on_failure="nan")
             for n, p in zip(np.ravel(psi_n), np.ravel(np.broadcast_to(psi_p, np.shape(psi_n))))]
    fields = {e: np.array([float(getattr(c, e)) for c in cells]).reshape(np.shape(psi_n)) for e in ERRORS}
    return type("Alone", (), fields)


def sweeps() -> None:
    for lam in RIDGES:
        count = total = failed = 0
        start = time.perf_counter()
        for activation in ACTIVATIONS:
            for m in MS:
                for psi_p in PSI_P:
                    alone = point_by_point(activation, 0.1, PSI_N, psi_p, m, lam)
                    for direction in (1, -1):
                        curve = rfdsm.learning_curve(activation, 0.1, PSI_N[::direction], psi_p, m=m, lam=lam,
                                                     on_failure="nan")
                        flipped = type("Alone", (), {e: getattr(alone, e)[::direction] for e in ERRORS})
                        count += int(wrong(curve, flipped).sum())
                        failed += int((curve.status != 0).sum())
                        total += PSI_N.size
        print(f"λ = {lam:g}: ψn sweeps: {count} wrong points of {total} ({failed} failed) "
              f"[{time.perf_counter() - start:.1f} s]")


def phase_diagrams() -> None:
    grid = np.geomspace(0.1, 1000, 100)  # the default of `rfdsm phase`
    for lam in (1e-3, 1e-4):
        for activation in ("tanh", "sign", "erf"):
            for m in MS:
                start = time.perf_counter()
                d = rfdsm.phase_diagram(activation, 0.1, grid, grid, m=m, lam=lam, on_failure="nan")
                elapsed = time.perf_counter() - start
                c = d.curve
                every = (slice(None, None, 7), slice(None, None, 7))  # a 15 × 15 sub-grid, solved point by point
                alone = point_by_point(activation, 0.1, c.psi_n[every], c.psi_p[every], m, lam)
                sub = type("Sub", (), {k: getattr(c, k)[every] for k in ("status", "test", "train", "train_ridge")}
                           | {"baseline": c.baseline})
                unphysical = (c.test < c.baseline) | (c.train < 0) | (c.train > c.train_ridge)
                print(f"phase {activation:>5} m = {m:>4} λ = {lam:g}: {int((c.status != 0).sum())} failed, "
                      f"{int(unphysical.sum())} unphysical of {c.test.size} in {elapsed:.2f} s; "
                      f"{int(wrong(sub, alone).sum())} wrong of {alone.test.size} checked point by point")


if __name__ == "__main__":
    sweeps()
    phase_diagrams()
