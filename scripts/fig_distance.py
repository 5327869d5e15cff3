"""Memorisation by relative distance in the one-step linear denoiser model (docs/distance.md).

Two conventions, each for several d, over the training-set size n:
  default  sigma = mean = ell = t_cut = 1, reference = the sampling law rho_O;
  author   mean = 10, sigma = 1, t_cut = 2, ell = e^{-2 t_cut} (the seed author's code), reference = the kernel
           density of 10^4 fresh points from rho_O (one reference set per d, shared by every training set).
Per (d, n) over training sets: P(Delta > 0) with its Wilson 95% interval; the medians of ln E_TG, ln E_OG and
KL(rho_G || rho_O) (E and KL are infinite for n <= d, where Sigma_G is singular).  Prints the turning points: the n
where P(Delta > 0) crosses 1/2, and where the medians of E_OG, E_TG and KL first change direction after n = d + 1
(E_OG "begins to decrease" at a maximum).  Writes out/distance.png and out/distance_study.csv.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
import csv
import math
import time
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from tqdm import tqdm

from rfdsm.distance import OneStepModel, kernel_reference, prob_delta_positive

CONVENTIONS = {
    "default": dict(),
    "author": dict(mean=10.0, sigma=1.0, t_cut=2.0, ell=math.exp(-4.0)),
}
REFERENCE_POINTS = {"default": None, "author": 10_000}


def crossing(ns, p, level=0.5):
    """First ``n`` where ``p`` reaches ``level`` from below (linear interpolation), or nan."""
    for i in range(1, len(ns)):
        if p[i - 1] < level <= p[i]:
            return ns[i - 1] + (level - p[i - 1]) * (ns[i] - ns[i - 1]) / (p[i] - p[i - 1])
    return math.nan


def turning(ns, values):
    """Where the finite ``values`` (from ``n = d + 1`` on) stop following their first direction: the ``n`` of the
    first local maximum (rising first) or minimum (falling first); ``None`` if monotone to the end of the grid."""
    v, n = values[np.isfinite(values)], ns[np.isfinite(values)]
    step = np.sign(np.diff(v))
    turns = np.nonzero(step != step[0])[0]
    return (int(n[turns[0]]), "max" if step[0] > 0 else "min") if turns.size else (None, "rising" if step[0] > 0
                                                                                  else "falling")


def grid(d):
    small = np.arange(2, 11)
    return np.unique(np.concatenate([small, np.round(np.geomspace(2, 8 * d, 24)), np.arange(d - 2, d + 5)]))


def study(name, d, sets, seed, quiet):
    model = OneStepModel(d, **CONVENTIONS[name])
    reference = None
    if REFERENCE_POINTS[name]:
        reference = kernel_reference(model, model.sample(REFERENCE_POINTS[name], np.random.default_rng([seed, d, 0])))
    rows = []
    for n in tqdm(grid(d)[grid(d) >= 2], desc=f"{name} d={d}", disable=quiet):
        pr = prob_delta_positive(model, int(n), n_sets=sets, seed=[seed, d, int(n)], reference=reference)
        rows.append(dict(convention=name, d=d, n=int(n), prob=pr.prob, ci_low=pr.ci_low, ci_high=pr.ci_high,
                         log_E_TG=np.median([r.log_dist_train for r in pr.results]),
                         log_E_OG=np.median([r.log_dist_ref for r in pr.results]),
                         kl=np.median([r.kl_gen_true for r in pr.results]),
                         log_OO=model.log_self_overlap))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out")
    ap.add_argument("--dims", type=int, nargs="+", default=[10, 20, 40, 70, 100])
    ap.add_argument("--sets", type=int, default=200, help="training sets per (d, n)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="redraw from out/distance_study.csv without recomputing")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    table = out / "distance_study.csv"
    if not args.reuse:
        rows = [r for name in CONVENTIONS for d in args.dims for r in study(name, d, args.sets, args.seed, args.quiet)]
        with open(table, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    with open(table) as f:
        rows = [{k: (v if k == "convention" else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]

    fig, axes = plt.subplots(len(CONVENTIONS), 3, figsize=(13, 7.5), sharex=True)
    print(f"{'convention':10s} {'d':>4s} {'n(P=1/2)':>9s} {'/d':>6s} {'max P':>6s}   first turn of the medians after "
          f"n = d + 1 (E_OG, E_TG, KL), n and n/d")
    for row, name in enumerate(CONVENTIONS):
        for i, d in enumerate(args.dims):
            sel = [r for r in rows if r["convention"] == name and r["d"] == d]
            ns = np.array([r["n"] for r in sel])
            get = lambda key: np.array([r[key] for r in sel])
            p, x, c = get("prob"), ns / d, f"C{i}"
            eog, etg, kl = get("log_E_OG"), get("log_E_TG"), get("kl")
            n_half = crossing(ns, p)
            turns = [turning(ns, v) for v in (eog, etg, kl)]
            said = "; ".join(f"{kind} at {n} ({n / d:.2f} d)" if n else f"{kind} to {ns[-1] / d:g} d" for n, kind in turns)
            print(f"{name:10s} {d:4d} {n_half:9.2f} {n_half / d:6.3f} {p.max():6.2f}   {said}")
            if turns[0][1] == "max":
                axes[row, 0].plot(turns[0][0] / d, np.interp(turns[0][0], ns, p), "v", color=c, ms=7, mec="k")
            axes[row, 0].plot(x, p, "-", color=c, label=f"d = {d}")
            axes[row, 0].fill_between(x, get("ci_low"), get("ci_high"), color=c, alpha=0.2, lw=0)
            fin = np.isfinite(eog)
            oo = get("log_OO")
            axes[row, 1].plot(x[fin], eog[fin] - oo[fin], "-", color=c)
            axes[row, 1].plot(x[fin], etg[fin] - oo[fin], ":", color=c)
            fin = np.isfinite(kl)
            axes[row, 2].plot(x[fin], kl[fin] / d, "-", color=c)
        fixed = ", ".join(f"{k} = {v:.3g}" for k, v in {**dict(sigma=1, mean=1, ell=1, t_cut=1),
                                                       **CONVENTIONS[name]}.items())
        ref = "rho_O" if not REFERENCE_POINTS[name] else f"kernel density of {REFERENCE_POINTS[name]} points"
        axes[row, 0].set(ylabel="P(Delta > 0)", ylim=(0, 1), title=f"{name}: {fixed}\nreference {ref}")
        axes[row, 0].axhline(0.5, color="gray", lw=0.5)
        axes[row, 1].set(ylabel="median ln(E / <O,O>)", title="E_OG (solid), E_TG (dotted); finite for n > d")
        axes[row, 2].set(ylabel="median KL(rho_G || rho_O) / d", yscale="log", title="KL / d, finite for n > d")
        axes[row, 2].yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        for ax in axes[row]:
            ax.axvline(1, color="gray", lw=0.5)
            ax.set_xscale("log")
            ax.set_xticks([0.02, 0.05, 0.1, 0.3, 1, 3, 8], ["0.02", "0.05", "0.1", "0.3", "1", "3", "8"])
            ax.minorticks_off()
    for ax in axes[-1]:
        ax.set_xlabel("n / d")
    axes[0, 0].plot([], [], "v", color="gray", mec="k", label="n where the median E_OG peaks")
    axes[0, 0].legend(fontsize=8, loc="center right")
    fig.suptitle(f"One-step linear denoiser: {args.sets} training sets per point", fontsize=10)
    fig.tight_layout()
    path = out / "distance.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path} and {table} in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
