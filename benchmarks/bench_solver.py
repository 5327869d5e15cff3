"""Benchmark (not a test): one compiled solve and a 200-point warm-started sweep, and the compiled core alone.

    python3 benchmarks/bench_solver.py
"""

import time

import numpy as np

from rfdsm import solver


def best(f, repeat=20):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    cases = {
        "marchenko_pastur": ({"z": -0.5, "psi": 0.5}, "z", -np.geomspace(3, 1e-2, 200)),
        "ridge": ({"lam": 0.1, "psi_n": 1.5, "noise": 0.1}, "lam", np.geomspace(10, 1e-3, 200)),
        "random_features": (
            {"lam": 0.1, "psi_n": 1.5, "psi_p": 0.7, "mu1": 0.5, "mustar2": 0.09, "noise": 0.1},
            "lam", np.geomspace(10, 1e-3, 200)),
    }
    for model, (params, axis, values) in cases.items():
        start = time.perf_counter()
        solver.solve(model, params)
        first = time.perf_counter() - start
        one = best(lambda: solver.solve(model, params))
        guess = solver.solve(model, params).x
        warm = best(lambda: solver.solve(model, params, guess=guess))
        grid = dict(params, **{axis: values})
        sweep = best(lambda: solver.sweep(model, grid), repeat=5)
        its = solver.sweep(model, grid).iterations
        print(f"{model:17s} first call (compile or load cache) {first:6.2f} s | one solve from scratch "
              f"(continuation) {one * 1e6:7.1f} µs | warm {warm * 1e6:6.1f} µs | 200-point sweep {sweep * 1e3:6.2f} ms "
              f"({sweep / 200 * 1e6:.1f} µs/point, {its.mean():.1f} Newton steps/point)")


if __name__ == "__main__":
    main()
