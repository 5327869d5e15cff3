"""Excess KL of the linear DDPM for N > d: its constant, its spectrum dependence and the time step (docs/linear.md).

For each training set the chain's KL (both directions, totals) is compared with the KL of the training Gaussian
itself, N(centre, C) (an exact sampler), whose expectation is the Wishart one (rfdsm.linear.wishart_kl) for every
spectrum.  The excess is KL(N) - KL(N = inf), KL(N = inf) = the chain run on Sigma itself.  Printed per schedule,
power-law exponent k, mean (known or learned) and N/d: the ratio of the mean excess to the exact Wishart expectation,
estimated with the exact sampler as control variate (same training sets), and its standard error; then the
elasticity l g'(l)/g(l) of the chain's variance map at the smallest and largest eigenvalue (1 for an exact sampler),
and the proportional limit's excess against the exact one (d/(d+1) known, d/(d+3) learned expected).
Schedules: the default (1000 steps, beta 1e-4 -> 1e-2) and one 10x finer (10000 steps, beta 1e-5 -> 1e-3, the same
integrated noise).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
import dataclasses
import time

import numpy as np
from tqdm import tqdm

from rfdsm import divergences
from rfdsm.linear import (Training, generated_spectrum, linear_schedule, power_law_spectrum, proportional_limit,
                          train, wishart_kl)

SCHEDULES = {"1000 steps": linear_schedule(), "10000 steps": linear_schedule(10_000, 1e-5, 1e-3)}


def kl_pair(p, q):
    return divergences.kl(p, q), divergences.kl(q, p)


def kl_at_infinity(eigenvalues, schedule):
    """Both KLs (totals) of N(0, g(Sigma)) against N(0, Sigma): the chain trained on the population."""
    ratio = generated_spectrum(eigenvalues, schedule, Training())[0] / eigenvalues
    return np.array([0.5 * np.sum(ratio - 1 - np.log(ratio)), 0.5 * np.sum(1 / ratio - 1 + np.log(ratio))])


def elasticity(eigenvalues, schedule):
    """``l g'(l) / g(l)`` by a complex step (``g`` is analytic on the positive axis)."""
    step = 1e-30 * eigenvalues
    g = generated_spectrum(eigenvalues, schedule, Training())[0]
    dg = np.imag(generated_spectrum(eigenvalues + 1j * step, schedule, Training())[0]) / step
    return eigenvalues * dg / g


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--sets", type=int, default=200, help="training sets per N")
    ap.add_argument("--ratios", type=float, nargs="+", default=[20, 50, 100], help="values of N/d")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    d, ks = args.d, (0.0, 1.0, 2.0)
    spectra = {k: power_law_spectrum(d, k) for k in ks}
    start = time.time()
    # diffs[schedule, k, known, ratio] = per set (chain KL - exact-sampler KL), both directions
    diffs = {}
    for ratio in args.ratios:
        N = int(ratio * d)
        rng = np.random.default_rng([args.seed, N])
        for _ in tqdm(range(args.sets), desc=f"N/d = {ratio:g}", disable=args.quiet):
            Z = rng.standard_normal((N, d))
            for k, lam in spectra.items():
                p = divergences.gaussian(np.zeros(d), lam)
                X = Z * np.sqrt(lam)
                for known in (True, False):
                    chain = train(X, SCHEDULES["1000 steps"], Training(), centre=np.zeros(d) if known else None)
                    U, e = chain.eigenvectors, chain.eigenvalues
                    exact = kl_pair(divergences.gaussian(chain.centre, factor=U * np.sqrt(e)), p)
                    for name, schedule in SCHEDULES.items():
                        gen = dataclasses.replace(chain, schedule=schedule).generated_law()
                        diffs.setdefault((name, k, known, ratio), []).append(np.subtract(kl_pair(gen, p), exact))

    print(f"d = {d}, {args.sets} training sets per N (common to every k, mean and schedule)")
    print("mean excess KL / exact Wishart expectation (control variate: the same sets' exact-sampler KL)")
    print(f"{'schedule':12s} {'k':>3s} {'mean':7s} {'N/d':>5s}  {'gen||p':>16s}  {'p||gen':>16s}  Wishart/leading")
    for (name, k, known, ratio), v in diffs.items():
        v, N = np.array(v), int(ratio * d)
        want = np.array(wishart_kl(N, d, known))
        est = 1 + (v.mean(axis=0) - kl_at_infinity(spectra[k], SCHEDULES[name])) / want
        se = v.std(axis=0) / np.sqrt(len(v)) / want
        leading = d * (d + (1 if known else 3)) / (4 * N)
        print(f"{name:12s} {k:3g} {'known' if known else 'learned':7s} {ratio:5g}  "
              f"{est[0]:.4f} ± {se[0]:.4f}  {est[1]:.4f} ± {se[1]:.4f}  {want[0] / leading:.4f} {want[1] / leading:.4f}")
    print("elasticity l g'(l)/g(l) of the chain's variance map at the smallest / largest eigenvalue")
    for name, schedule in SCHEDULES.items():
        for k, lam in spectra.items():
            el = elasticity(lam, schedule)
            print(f"{name:12s} k = {k:g}: l_min = {lam.min():.3g}: {el[-1]:.4f};  l_max = {lam.max():.3g}: {el[0]:.4f}")
    print("proportional limit: excess / exact Wishart excess (1000 steps)")
    for k, lam in spectra.items():
        far = proportional_limit(lam, 10**7 * d)
        for ratio in args.ratios:
            N = int(ratio * d)
            near = proportional_limit(lam, N)
            ex = d * np.array([near.kl_gen_true_per_dim - far.kl_gen_true_per_dim,
                               near.kl_true_gen_per_dim - far.kl_true_gen_per_dim])
            known, learned = ex / np.array(wishart_kl(N, d)), ex / np.array(wishart_kl(N, d, known_mean=False))
            print(f"k = {k:g}, N/d = {ratio:g}: known {known[0]:.4f} {known[1]:.4f} (d/(d+1) = {d / (d + 1):.4f}); "
                  f"learned {learned[0]:.4f} {learned[1]:.4f} (d/(d+3) = {d / (d + 3):.4f})")
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
