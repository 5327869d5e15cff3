"""Time of one simulated draw against the bare BLAS/LAPACK work it needs.

    python benchmarks/bench_simulate.py [--d 500] [--psi 2] [--activation tanh relu] [--repeats 5]

At ``d``, ``n = p = ψ d``, ``m = 1``: the simulation of one draw (features, ``U``, ``V``, Cholesky solve, train errors,
exact test/score errors) next to the floor named by the issue — the feature GEMM ``W Yᵀ`` (p×d×n) plus the Cholesky
factorisation and solve of ``U + λI`` (p×p, ``d`` right-hand sides) — and next to every dense product the method
performs (floor + SYRK ``F Fᵀ`` + GEMM ``F Z`` + SYRK ``W Wᵀ`` + SYRK ``S Sᵀ``), the latter four through SciPy's BLAS
in the memory layouts the simulation uses. Medians over ``--repeats``; the draw of the random inputs is excluded from
both.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.linalg.blas import dgemm, dsyrk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rfdsm.activations import load  # noqa: E402
from rfdsm.simulation.run import draw, one_draw  # noqa: E402


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, default=500)
    parser.add_argument("--psi", type=float, default=2.0)
    parser.add_argument("--activation", nargs="+", default=["tanh", "relu"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    d = args.d
    n = p = round(args.psi * d)
    t, lam = 0.3, 1e-3
    W, X, Z = draw(np.random.default_rng(0), d, n, p, 1)
    Y = math.exp(-t) * X + math.sqrt(-math.expm1(-2 * t)) * Z[:, 0]
    F = np.tanh(W @ Y.T / math.sqrt(d))
    C = F @ F.T / n + lam * np.eye(p)
    V = F @ Z[:, 0] / n
    S = np.asfortranarray(np.linalg.solve(C, V))
    F = np.asfortranarray(F)
    blas = {
        "feature GEMM W Yᵀ": lambda: W @ Y.T,
        "Cholesky + solve": lambda: cho_solve(cho_factor(C, check_finite=False), V, check_finite=False),
        "SYRK F Fᵀ": lambda: dsyrk(1.0 / n, F),
        "GEMM F Z": lambda: dgemm(1.0 / n, F, Z[:, 0].T, trans_b=1),
        "SYRK W Wᵀ": lambda: dsyrk(1.0 / d, W.T, trans=1),
        "SYRK S Sᵀ": lambda: dsyrk(1.0, S),
    }
    timing = {name: median_time(work, args.repeats) for name, work in blas.items()}
    floor = timing["feature GEMM W Yᵀ"] + timing["Cholesky + solve"]
    every = sum(timing.values())
    print(f"d = {d}, n = p = {p}, m = 1 (medians of {args.repeats})")
    for name, seconds in timing.items():
        print(f"  {name:<20} {seconds * 1e3:8.1f} ms")
    print(f"  floor (feature GEMM + Cholesky solve): {floor * 1e3:.1f} ms; all dense products: {every * 1e3:.1f} ms")
    for activation in args.activation:
        module = load(activation)
        one_draw(module, t, W[:40, :50], X[:30, :50], Z[:30, :, :50], lam)  # compile / load the Numba caches
        seconds = median_time(lambda: one_draw(module, t, W, X, Z, lam), args.repeats)
        print(f"  simulate one draw, {activation:<5}: {seconds * 1e3:8.1f} ms = {seconds / floor:.2f} × floor, "
              f"{seconds / every:.2f} × all dense products")


if __name__ == "__main__":
    main()
