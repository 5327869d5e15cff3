"""Speed-up of a reduced agreement study on a local Dask cluster: 2 worker processes against 1.

    python benchmarks/bench_dask.py [--repeats 3] [--seeds 10] [--sizes 100 200 300 400]

The study is ``rfdsm.compare("tanh", t=0.3, ψn=1, ψp = 0.5, 1, 2, 4)`` at m = 1 and m = ∞ (about a minute in order on
two idle cores). It runs in order in this process, with BLAS and Numba on every core and on one, on
``local_cluster(1)`` (one worker process, whose tasks use every core) and on ``local_cluster(2)`` (two workers, one
core each): each task is one draw, so two workers keep both cores busy where one draw at a time leaves part of them
idle (the small GEMMs, the Numba loops between them) and where two threads of one draw wait on each other whenever
the machine deschedules one. Against one core, two workers can gain at most 2×. Clusters are started and warmed up (one task per worker, compiled functions loaded from Numba's
cache) before the clock starts. Every repeat times the three in turn (round-robin), so a slow spell of a shared
machine hits all alike; medians over repeats and the speed-up of every repeat are printed. The three give the same
numbers, which is checked.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distributed import Client  # noqa: E402

from rfdsm.agreement import compare  # noqa: E402
from rfdsm.runner import local_cluster  # noqa: E402


def study(sizes, seeds, client) -> list:
    return [compare("tanh", 0.3, 1.0, [0.5, 1.0, 2.0, 4.0], m, 1e-3, sizes, seeds, client=client)
            for m in (1, math.inf)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300, 400])
    args = parser.parse_args(argv)
    study([20, 30], 2, None)  # load the compiled functions here too
    clusters = {workers: local_cluster(workers) for workers in (1, 2)}
    clients = {workers: Client(cluster) for workers, cluster in clusters.items()}
    for client in clients.values():
        study([20, 30], 2, client)
    runs = {"in order": None, "one core": None, "1 worker": clients[1], "2 workers": clients[2]}
    seconds = {name: [] for name in runs}
    results = {}
    for _ in range(args.repeats):
        for name, client in runs.items():
            threads = 1 if name == "one core" else numba.config.NUMBA_NUM_THREADS
            numba.set_num_threads(threads)
            with threadpool_limits(threads):
                start = time.perf_counter()
                results[name] = study(args.sizes, args.seeds, client)
                seconds[name].append(time.perf_counter() - start)
    for client in clients.values():
        client.close()
    for cluster in clusters.values():
        cluster.close()
    reference = results["in order"]
    for name, result in results.items():
        for mine, theirs in zip(result, reference):
            gap = max(float(np.max(np.abs(mine.mean[e] - theirs.mean[e]) / theirs.se[e])) for e in mine.mean)
            print(f"{name}: largest difference from the run in order {gap:.1e} standard errors (m = {mine.m:g})")
    tasks = 2 * 4 * len(args.sizes) * args.seeds
    print(f"tanh, t = 0.3, ψn = 1, ψp = 0.5 1 2 4, m = 1 and ∞, d = {' '.join(map(str, args.sizes))}, "
          f"{args.seeds} draws: {tasks} tasks; medians of {args.repeats} round-robin repeats")
    for name, times in seconds.items():
        print(f"  {name:<10} {np.median(times):7.1f} s   ({', '.join(f'{s:.1f}' for s in times)})")
    for name in ("1 worker", "in order", "one core"):
        ratio = np.array(seconds[name]) / np.array(seconds["2 workers"])
        print(f"  speed-up of 2 workers over {name}: median {np.median(ratio):.2f} (each repeat: "
              f"{', '.join(f'{r:.2f}' for r in ratio)})")


if __name__ == "__main__":
    main()
