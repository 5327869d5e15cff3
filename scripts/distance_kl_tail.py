"""The law of KL(rho_G || rho_O) over training sets just above n = d (docs/distance.md).

KL is infinite for n <= d and finite above, but its tail is heavy: tr(Sigma_G) carries tr((Xc^T Xc)^{-1}) of the
centred noisy inputs, an inverse Wishart with n - 1 degrees of freedom in d dimensions, whose smallest eigenvalue
has density ~ l^{(n-d-2)/2} at 0.  Predicted tail P(KL > x) ~ x^{-(n-d)/2}: no mean for n <= d + 2.
Prints, per n: the median, the sample mean over the first 10^3, 10^4, ... sets (growing without bound when the mean
does not exist), and the Hill estimate of the tail index from the largest 1 % against (n - d)/2.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
import time

import numpy as np

from rfdsm import divergences
from rfdsm.distance import OneStepModel, fit_one_step, generated_law, sample_pairs


def hill(values, top: float = 0.01) -> float:
    """Hill estimator of the tail index from the largest fraction ``top`` of ``values``."""
    x = np.sort(values)[::-1]
    k = max(10, int(top * x.size))
    return 1.0 / np.mean(np.log(x[:k] / x[k]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--sets", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model, d = OneStepModel(args.d), args.d
    O = model.sampling_law()
    start = time.time()
    print(f"d = {d}, default convention (sigma = mean = ell = t_cut = 1), {args.sets} training sets per n")
    for n in (d + 1, d + 2, d + 3, d + 5, 2 * d):
        rng = np.random.default_rng([args.seed, d, n])
        kl = np.array([divergences.kl(generated_law(model, *fit_one_step(*sample_pairs(model, n, rng))), O)
                       for _ in range(args.sets)])
        means = "  ".join(f"{np.mean(kl[:m]):.3g} ({m:.0e})" for m in 10 ** np.arange(3, int(np.log10(args.sets)) + 1))
        print(f"n = d + {n - d:2d}: median {np.median(kl):8.4g}, 99th percentile {np.quantile(kl, 0.99):9.4g}, "
              f"tail index {hill(kl):.2f} (predicted {(n - d) / 2:.1f}); sample means {means}")
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
