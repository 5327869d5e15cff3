"""Time a 200-point learning curve (ψp from 0.1 to 10) of the RF-DSM pencils on N(0, Σ) data against the number K of
atoms of the spectral law (targets: ≤ 30 µs a point at K = 64, ≤ 1 ms at K = 2000), and the isotropic pencils beside
them (targets: no slower than before Σ, about 8 µs a point). Compiled; the minimum over repeats of the wall time, and
of the process's CPU time (the machine is shared: the CPU time is what a point costs).

    python benchmarks/bench_spectrum.py
"""

import math
import time

import numpy as np

from rfdsm import solver
from rfdsm.data import Isotropic, PowerLaw

T, LAM, PSI_N = 0.1, 1e-3, 2.0
PSI_P = np.geomspace(0.1, 10, 200)


def best(f, repeats: int) -> tuple[float, float]:
    """Minimum wall and CPU time of ``f()`` over ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        f()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def params(data, m, spectral: bool) -> dict:
    """The parameters of the curve: tanh constants at time ``T`` and at the data's pre-activation variance ``q``."""
    consts = data.constants("tanh", T)
    out = {"lam": LAM, "psi_n": PSI_N, "psi_p": PSI_P, "h": consts.h, "mu1": consts.mu1, "mustar2": consts.mustar2,
           "kappa": consts.kappa}
    if spectral:
        out["q"] = consts.q
    if m != math.inf:
        out["m"] = m
    return out


def report(label: str, model: str, data, m, spectrum) -> None:
    grid = params(data, m, spectrum is not None)
    run = lambda: solver.sweep(model, grid, spectrum=spectrum)  # noqa: E731
    run()  # compile, or load the cache
    wall, cpu = best(run, 7)
    steps = run().iterations.mean()
    print(f"{label:36s} {wall / len(PSI_P) * 1e6:8.1f} µs/point wall  {cpu / len(PSI_P) * 1e6:8.1f} µs/point CPU  "
          f"({steps:.1f} Newton steps/point)")


def main() -> None:
    for m in (math.inf, 1, 4):
        spectral = "rfdsm_spectrum_infinite" if m == math.inf else "rfdsm_spectrum_finite"
        isotropic = "rfdsm_infinite" if m == math.inf else "rfdsm_finite"
        report(f"m = {m}: isotropic pencil", isotropic, Isotropic(), m, None)
        report(f"m = {m}: Σ pencil, K = 1 (Σ = I)", spectral, Isotropic(), m, Isotropic().spectrum())
        for atoms in (64, 2000):
            data = PowerLaw(0.5, atoms=atoms)
            report(f"m = {m}: Σ pencil, K = {atoms} (k = 0.5)", spectral, data, m, data.spectrum())


if __name__ == "__main__":
    main()
