"""Time a 200-point learning curve and a 100×100 phase diagram, compiled (targets: < 50 ms and < 5 s).

    python benchmarks/bench_curves.py
"""

import math
import time

import numpy as np

import rfdsm


def best_of(repeats, f):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    psi = np.geomspace(0.1, 10, 200)
    grid = np.geomspace(0.1, 1000, 100)  # the default of `rfdsm phase`
    for m in (1, 4, math.inf):
        rfdsm.learning_curve("tanh", 0.1, 2.0, psi, m=m)  # compile / load the cache
        curve = best_of(5, lambda: rfdsm.learning_curve("tanh", 0.1, 2.0, psi, m=m))
        phase = best_of(1, lambda: rfdsm.phase_diagram("tanh", 0.1, grid, grid, m=m, lam=1e-3))
        print(f"m = {m:>4}: 200-point curve {curve * 1e3:6.1f} ms ({curve / 200 * 1e6:5.0f} µs/point); "
              f"100×100 phase diagram {phase:5.2f} s")


if __name__ == "__main__":
    main()
