"""Time the manifold data model (docs/manifolds.md): a 200-point learning curve (ψp from 0.1 to 10, ReLU, t = 0.1,
ψn = 2) on ``Manifold(0.3, sigma)`` against the number of atoms of the Marchenko–Pastur rule (target ≤ 1 ms a point
at the default 256), building the rule, one ``sample_complexity`` (7 values of ψ_D) and one simulation draw at
d = 200 (ψn = 2, ψp = 2, m = 1): a linear manifold (exact Gaussian test errors) against a tanh manifold (means over
4096 test points). Compiled; the minimum over repeats of the wall and of the process's CPU time (the machine is
shared: the CPU time is what it costs).

    python benchmarks/bench_manifold.py
"""

import math

import numpy as np
from bench_spectrum import best  # this folder is on the path when a benchmark runs as a script

import rfdsm
from rfdsm.data import Manifold
from rfdsm.data.manifold import ATOMS, marchenko_pastur_rule

PSI_P = np.geomspace(0.1, 10, 200)


def main() -> None:
    for sigma in ("linear", "tanh"):
        for m in (1, math.inf):
            for atoms in (64, ATOMS, 1024):
                data = Manifold(0.3, sigma, atoms=atoms)
                curve = lambda: rfdsm.learning_curve("relu", 0.1, 2.0, PSI_P, m=m, lam=1e-3, data=data)  # noqa: E731
                curve()
                wall, cpu = best(curve, 5)
                print(f"curve σ = {sigma:6s} m = {m:g} atoms = {atoms:4d}: {wall / PSI_P.size * 1e3:.3f} ms a point "
                      f"(CPU {cpu / PSI_P.size * 1e3:.3f})")
    wall, cpu = best(lambda: marchenko_pastur_rule(0.3, ATOMS), 5)
    print(f"Gauss rule, {ATOMS} atoms: {wall * 1e3:.2f} ms (CPU {cpu * 1e3:.2f})")
    psi_D = [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
    wall, cpu = best(lambda: rfdsm.sample_complexity("relu", 0.1, 100.0, [Manifold(p) for p in psi_D], 0.1), 2)
    print(f"sample_complexity, 7 linear manifolds: {wall:.2f} s (CPU {cpu:.2f})")
    for sigma in ("linear", "tanh"):
        run = lambda: rfdsm.simulate("relu", 0.1, 200, 2.0, 2.0, m=1, seeds=1, data=Manifold(0.3, sigma))  # noqa: E731
        run()
        wall, cpu = best(run, 3)
        print(f"simulation draw, σ = {sigma}, d = 200: {wall:.3f} s (CPU {cpu:.3f})")


if __name__ == "__main__":
    main()
