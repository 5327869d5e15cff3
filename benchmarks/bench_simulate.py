"""Time of one simulated draw against the bare BLAS/LAPACK work it needs.

    python benchmarks/bench_simulate.py [--d 500] [--psi 2] [--m 1 inf] [--activation tanh relu] [--repeats 15]
                                        [--threads N] [--clock wall|cpu]

At ``d``, ``n = p = ψ d``, each ``m`` (``inf``: the exact average over the noises): the simulation of one draw
(``U``, ``V``, Cholesky solve, train errors, exact test/score errors) next to the floor named by the issue — the
feature GEMM ``W Yᵀ`` (p×d×n) plus the Cholesky factorisation and solve of ``U + λI`` (p×p, ``d`` right-hand sides) —
and next to every dense product an m = 1 draw performs (floor + SYRK ``F Fᵀ`` + GEMM ``F Z`` + SYRK ``W Wᵀ`` + SYRK ``S Sᵀ``), all through SciPy's BLAS in the
memory layouts the simulation uses (alternating NumPy's and SciPy's OpenBLAS pools would slow both). Every repeat
times everything once (round-robin) and the ratios are taken repeat by repeat: median and quartiles over
``--repeats``. The draw of the random inputs is excluded. ``--threads N`` limits BLAS (threadpoolctl) and Numba to
``N`` threads: on a machine shared with other jobs, one thread gives ratios that parallel runs, whose threads wait on
each other whenever one is descheduled, do not; with ``--clock cpu`` (process time) the other jobs' share of the
cores drops out too.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rfdsm  # noqa: E402, F401  (first, as a user's script: it sets how idle threads wait before SciPy loads)
import numba  # noqa: E402
import numpy as np  # noqa: E402
from scipy.linalg import cho_factor, cho_solve  # noqa: E402
from scipy.linalg.blas import dgemm, dsyrk  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from rfdsm.activations import load  # noqa: E402
from rfdsm.data import Isotropic  # noqa: E402
from rfdsm.simulation.run import draw, one_draw  # noqa: E402


def seconds(function, clock) -> float:
    start = clock()
    function()
    return clock() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, default=500)
    parser.add_argument("--psi", type=float, default=2.0)
    parser.add_argument("--m", type=float, nargs="+", default=[1.0, math.inf], help="noises per point (inf: m = ∞)")
    parser.add_argument("--activation", nargs="+", default=["tanh", "relu"])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None, help="BLAS and Numba threads (default: all)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or the process's CPU time (meaningful with --threads 1)")
    args = parser.parse_args(argv)
    if args.threads:
        threadpool_limits(args.threads)
        numba.set_num_threads(args.threads)
    d = args.d
    n = p = round(args.psi * d)
    t, lam = 0.3, 1e-3
    rng = np.random.default_rng(2)
    W, law, X, Z = draw(np.random.default_rng(0), Isotropic(), d, n, p, 1)
    Y = math.exp(-t) * X + math.sqrt(-math.expm1(-2 * t)) * Z[:, 0]
    F = np.tanh(W @ Y.T / math.sqrt(d))
    C = np.asfortranarray(F @ F.T / n + lam * np.eye(p))  # Fortran order, factorised in place: as fit does
    V = np.asfortranarray(F @ Z[:, 0] / n)
    S = np.asfortranarray(np.linalg.solve(C, V))
    F = np.asfortranarray(F)
    blas = {
        "feature GEMM W Yᵀ": lambda: dgemm(1.0, W.T, Y.T, trans_a=1),
        "Cholesky + solve": lambda: cho_solve(cho_factor(C.copy(order="F"), overwrite_a=True, check_finite=False), V,
                                              check_finite=False),
        "SYRK F Fᵀ": lambda: dsyrk(1.0 / n, F),
        "GEMM F Z": lambda: dgemm(1.0 / n, F, Z[:, 0].T, trans_b=1),
        "SYRK W Wᵀ": lambda: dsyrk(1.0 / d, W.T, trans=1),
        "SYRK S Sᵀ": lambda: dsyrk(1.0, S),
    }
    works = dict(blas)
    runs = [(activation, m) for activation in args.activation for m in args.m]
    for activation, m in runs:
        module = load(activation)
        noises = None if math.isinf(m) else draw(np.random.default_rng(1), Isotropic(), d, n, p, m)[3]
        small = Isotropic().realise(rng, 50)
        one_draw(module, t, W[:40, :50], small, X[:30, :50], None if noises is None else noises[:30, :, :50], lam,
                 rng)  # compile
        works[f"simulate, {activation}, m={m:g}"] = lambda module=module, Z=noises: one_draw(module, t, W, law, X, Z,
                                                                                             lam, rng)
    # Round-robin: every repeat times everything once, so a slow spell of a shared machine hits all alike and the
    # ratios, taken repeat by repeat, stay meaningful where the absolute times do not.
    timing = {name: np.empty(args.repeats) for name in works}
    for r in range(args.repeats):
        for name, work in works.items():
            timing[name][r] = seconds(work, time.process_time if args.clock == "cpu" else time.perf_counter)
    floor = timing["feature GEMM W Yᵀ"] + timing["Cholesky + solve"]
    every = sum(timing[name] for name in blas)
    print(f"d = {d}, n = p = {p}, threads: {args.threads or 'all'}, {args.clock} clock "
          f"(medians of {args.repeats} round-robin repeats)")
    for name in blas:
        print(f"  {name:<20} {np.median(timing[name]) * 1e3:8.1f} ms")
    print(f"  floor (feature GEMM + Cholesky solve): {np.median(floor) * 1e3:.1f} ms; "
          f"all dense products: {np.median(every) * 1e3:.1f} ms")
    for activation, m in runs:
        run = timing[f"simulate, {activation}, m={m:g}"]
        low, mid, high = np.percentile(run / floor, [25, 50, 75])
        print(f"  simulate one draw, {activation:<5} m = {m:<4g}: {np.median(run) * 1e3:8.1f} ms = {mid:.2f} × floor "
              f"(quartiles {low:.2f}–{high:.2f}), {np.median(run / every):.2f} × all dense products")

if __name__ == "__main__":
    main()
