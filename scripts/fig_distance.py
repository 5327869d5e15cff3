"""Memorisation by relative distance in the one-step linear denoiser model (MODELS.md §6).

Panels versus n/d for several d: (a) P(Delta > 0) over training sets (Wilson 95% band), reference = the
sampling law (solid) or the kernel density of an independent set of n points (dashed); (b) median
ln E_TG and ln E_OG (finite only for n > d: Sigma_G is singular below); (c) median KL(rho_G || rho_O)
per dimension, infinite for n <= d, with the infinite-data value; (d) median Delta / E_OG.  Prints where P(Delta > 0) crosses 1/2,
in units of d.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

from rfdsm.distance import OneStepModel, infinite_data_kl, prob_delta_positive


def crossing(ns, p, level=0.5):
    """First ``n`` where ``p`` reaches ``level`` (linear interpolation), or nan."""
    for i in range(1, len(ns)):
        if p[i - 1] < level <= p[i]:
            return ns[i - 1] + (level - p[i - 1]) * (ns[i] - ns[i - 1]) / (p[i] - p[i - 1])
    return math.nan


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out")
    ap.add_argument("--dims", type=int, nargs="+", default=[5, 10, 20, 40])
    ap.add_argument("--sets", type=int, default=200, help="training sets per point")
    ap.add_argument("--T", type=float, default=1.0, help="cut-off time")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    axes = axes.ravel()
    for i, d in enumerate(args.dims):
        model = OneStepModel(d, T=args.T)
        ns = np.unique(np.round(np.geomspace(2, 4 * d, 22)).astype(int))
        ns = np.unique(np.concatenate([ns, np.arange(max(2, d - 2), d + 4)]))
        rows, ref_p = [], []
        for n in tqdm(ns, desc=f"d={d}", disable=args.quiet):
            pr = prob_delta_positive(model, int(n), n_sets=args.sets, seed=[args.seed, d, int(n)], progress=False)
            rr = prob_delta_positive(model, int(n), n_sets=args.sets, seed=[args.seed, d, int(n), 1], n_ref=int(n),
                                     progress=False)
            rel = [r.delta.sign * math.exp(r.delta.log_abs - r.log_E_OG) for r in pr.results]
            rows.append((pr.p, pr.ci_low, pr.ci_high,
                         np.median([r.log_E_TG for r in pr.results]), np.median([r.log_E_OG for r in pr.results]),
                         np.median([r.kl_gen_true for r in pr.results]) / d, np.median(rel)))
            ref_p.append(rr.p)
        v = np.array(rows)
        x = ns / d
        c = f"C{i}"
        axes[0].plot(x, v[:, 0], "-o", color=c, ms=3, label=f"d={d}, ref = sampling law")
        axes[0].fill_between(x, v[:, 1], v[:, 2], color=c, alpha=0.2)
        axes[0].plot(x, ref_p, "--", color=c, label=f"d={d}, ref = kernel of n fresh points")
        fin = np.isfinite(v[:, 3])
        axes[1].plot(x[fin], v[fin, 3], "-", color=c, label=f"d={d} ln E_TG")
        axes[1].plot(x[fin], v[fin, 4], ":", color=c, label=f"d={d} ln E_OG")
        axes[3].plot(x[fin], v[fin, 6], "-o", color=c, ms=3, label=f"d={d}")
        fin = np.isfinite(v[:, 5])
        axes[2].semilogy(x[fin], v[fin, 5], "-o", color=c, ms=3, label=f"d={d}")
        axes[2].axhline(infinite_data_kl(model) / d, color="k", lw=0.8, ls="--")
        n_half = crossing(ns, v[:, 0])
        n_half_ref = crossing(ns, np.array(ref_p))
        print(f"d={d:3d}: P(Delta>0) = 1/2 at n = {n_half:.2f} = {n_half / d:.2f} d "
              f"(sampling-law reference, {args.sets} sets/point); with a fresh same-size kernel reference "
              f"max P = {max(ref_p):.2f}" + ("" if math.isnan(n_half_ref) else f", crosses at {n_half_ref / d:.2f} d"))
        print(f"        KL(rho_G||rho_O)/d at n = 2d: {v[np.argmin(abs(ns - 2 * d)), 5]:.3f}, "
              f"infinite data {infinite_data_kl(model) / d:.3f}; infinite for n <= d: "
              f"{bool(np.all(np.isinf(v[ns <= d, 5])))}")
    axes[0].axvline(1, color="gray", lw=0.5)
    axes[0].axhline(0.5, color="gray", lw=0.5)
    axes[0].set(xscale="log", xlabel="n/d", ylabel="P(Delta > 0)", title=f"(a) generalisation probability, T={args.T:g}")
    axes[0].legend(fontsize=7)
    axes[1].set(xscale="log", xlabel="n/d", ylabel="ln E (median)",
                title="(b) ln E_TG (solid) = ln E_OG (dotted) to plot accuracy")
    axes[3].set(xscale="log", yscale="log", xlabel="n/d", ylabel="median Delta / E_OG (> 0 where P > 1/2)",
                title="(d) relative distance (n > d)")
    axes[3].legend(fontsize=7)
    axes[1].legend(fontsize=7, ncol=2)
    axes[2].axvline(1, color="gray", lw=0.5)
    axes[2].set(xscale="log", xlabel="n/d", ylabel="KL(rho_G || rho_O) / d (median)",
                title="(c) KL / d, infinite for n <= d; dashed: infinite data")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    path = out / "distance.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
