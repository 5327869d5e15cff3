"""Time the dynamics and the spectrum of RF-DSM (targets: a 50-τ dynamics curve ≤ 100 ms, a 100-point spectral density
≤ 50 ms), compiled; the minimum over repeats of the wall time and of the process's CPU time (the machine is shared:
the CPU time is what a call costs). Also the full ``rfdsm.spectrum`` (bulks, edges, masses) and ``training_times``.

    python benchmarks/bench_dynamics.py            # results in benchmarks/bench_dynamics.txt
"""

import math

import numpy as np
from bench_spectrum import best  # this folder is on the path when a benchmark runs as a script

import rfdsm
from rfdsm.data import PowerLaw
from rfdsm.spectral import _density, setting

TAU = np.geomspace(1e-2, 1e4, 50)
CASES = [("relu", 0.1, 2.0, 1.0, math.inf, 1e-3, None), ("tanh", 0.1, 1.5, 4.0, 3, 1e-2, None),
         ("relu", 0.3, 1.0, 2.0, 1, 1e-3, None), ("relu", 0.1, 4.0, 8.0, 1, 1e-4, None),
         ("relu", 0.1, 1.0, 2.0, 4, 1e-3, PowerLaw(0.5))]


def label(case) -> str:
    activation, t, psi_n, psi_p, m, lam, data = case
    on = "" if data is None else f", {data!r}"
    return f"{activation}, t={t:g}, ψn={psi_n:g}, ψp={psi_p:g}, m={m:g}, λ={lam:g}{on}"


def main() -> None:
    for case in CASES:
        activation, t, psi_n, psi_p, m, lam, data = case
        run = lambda: rfdsm.dynamics(activation, t, psi_n, psi_p, m=m, lam=lam, tau=TAU, data=data)  # noqa: E731
        flow = run()  # compile, or load the cache
        wall, cpu = best(run, 5)
        print(f"dynamics, 50 τ   {label(case):58s} {wall * 1e3:7.1f} ms wall {cpu * 1e3:7.1f} ms CPU  "
              f"({flow.nodes} nodes, error ≤ {np.max(flow.error):.0e})")
    for case in CASES:
        activation, t, psi_n, psi_p, m, lam, data = case
        where = setting(activation, t, psi_n, psi_p, m, data)
        law = rfdsm.spectrum(activation, t, psi_n, psi_p, m=m, data=data)
        u = np.linspace(law.edges[0, 0], law.edges[-1, 1], 100)
        eps = 1e-7 * law.edges[-1, 1]
        wall, cpu = best(lambda: _density(where, u, eps), 5)  # noqa: B023
        full, full_cpu = best(lambda: rfdsm.spectrum(activation, t, psi_n, psi_p, m=m, data=data), 3)  # noqa: B023
        print(f"density, 100 u   {label(case):58s} {wall * 1e3:7.1f} ms wall {cpu * 1e3:7.1f} ms CPU;  "
              f"rfdsm.spectrum (edges, masses) {full * 1e3:6.1f} ms wall {full_cpu * 1e3:6.1f} ms CPU")
    case = CASES[0]
    wall, cpu = best(lambda: rfdsm.training_times(*case[:4], m=case[4], lam=case[5]), 3)
    print(f"training_times   {label(case):58s} {wall * 1e3:7.1f} ms wall {cpu * 1e3:7.1f} ms CPU")


if __name__ == "__main__":
    main()
