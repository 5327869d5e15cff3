"""KL between generated and true law of the linear DDPM versus N/d (docs/linear.md).

Panels: (a) KL(p_gen || p)/d versus N/d for several power-law exponents k, converged ridge-free training
(infinite for N <= d) and with ridge c or early stopping tau; proportional-limit theory (lines) and
finite-d simulations (points).  (b) the N > d law: excess KL/d versus d/N, with the Wishart slope 1/4.
(c) both KL directions in the N < d gap, and how k, c and tau shrink it.
Prints the fitted slope of the excess KL/d in d/N for each k.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

from rfdsm.linear import Training, power_law_spectrum, proportional_limit, realise, wishart_kl_limit


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out")
    ap.add_argument("--d", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d, ks = args.d, (0.0, 1.0, 2.0)
    psis = np.geomspace(0.1, 30, 24)
    psis = psis[np.abs(psis - 1) > 0.03]
    trainings = {"c=0": Training(), "c=1e-3": Training(c=1e-3), "c=1e-2": Training(c=1e-2),
                 "tau=300": Training(tau=300.0)}
    colors = {0.0: "C0", 1.0: "C1", 2.0: "C2"}
    styles = {"c=0": "-", "c=1e-3": "--", "c=1e-2": ":", "tau=300": "-."}

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    theory = {}
    for k in tqdm(ks, desc="theory", disable=args.quiet):
        lam = power_law_spectrum(d, k)
        for name, tr in trainings.items():
            theory[k, name] = np.array([[r.kl_gen_true_per_dim, r.kl_true_gen_per_dim] for r in
                                        (proportional_limit(lam, int(round(p * d)), training=tr) for p in psis)])
    ax = axes[0]
    for (k, name), v in theory.items():
        ax.loglog(psis, v[:, 0], styles[name], color=colors[k])
    sim_psis = (0.3, 0.5, 2.0, 5.0, 20.0)
    worst = 0.0
    for k in tqdm(ks, desc="simulation", disable=args.quiet):
        lam = power_law_spectrum(d, k)
        for name in ("c=0", "c=1e-2"):
            for p in sim_psis:
                N = int(round(p * d))
                kl = np.mean([realise(lam, N, training=trainings[name], known_mean=True, seed=s).kl_gen_true_per_dim
                              for s in range(args.seeds)])
                if math.isfinite(kl):
                    ax.plot(p, kl, "o", color=colors[k], ms=4, mfc="none")
                    th = proportional_limit(lam, N, training=trainings[name]).kl_gen_true_per_dim
                    worst = max(worst, abs(kl / th - 1))
    ax.axvline(1, color="gray", lw=0.5)
    ax.set(xlabel="N/d", ylabel="KL(p_gen || p) / d", title=f"(a) d={d}: theory (lines), simulation (circles)")
    handles = ([plt.Line2D([], [], color=colors[k], label=f"k={k:g}") for k in ks]
               + [plt.Line2D([], [], color="k", ls=styles[n], label=n) for n in trainings])
    ax.legend(handles=handles, fontsize=7)
    print(f"theory vs simulation (d={d}, {args.seeds} seeds): largest relative deviation of KL/d = {worst:.3%}")

    # (b) N > d: excess over the N -> infinity value, against d/N
    ax = axes[1]
    big = np.geomspace(2, 400, 16)
    for k in ks:
        lam = power_law_spectrum(d, k)
        base = proportional_limit(lam, int(1e6 * d)).kl_gen_true_per_dim
        ex = np.array([proportional_limit(lam, int(p * d)).kl_gen_true_per_dim for p in big]) - base
        x = 1 / big
        small = x <= 0.05
        slope = np.polyfit(x[small], ex[small], 1)[0]
        print(f"k={k:g}: proportional limit, excess KL(p_gen||p)/d ~ {slope:.4f} * d/N for N/d >= 20 "
              f"(N->inf baseline {base:.2e}/dim; Wishart limit 1/4, exact finite-d slope (d+1)/(4d) = "
              f"{(d + 1) / (4 * d):.4f} known mean, (d+3)/(4d) = {(d + 3) / (4 * d):.4f} learned)")
        ax.loglog(x, ex, color=colors[k], label=f"k={k:g}: slope {slope:.3f}")
    ax.loglog(1 / big, wishart_kl_limit(big)[0], "k--", lw=1, label="Wishart (exact sampler)")
    ax.loglog(1 / big, 0.25 / big, "k:", lw=1, label="d/(4N)")
    ax.set(xlabel="d/N", ylabel="excess KL(p_gen || p) / d", title="(b) N > d: linear in d/N")
    ax.legend(fontsize=7)

    # (c) the N < d gap, both directions, at fixed N/d = 0.5
    ax = axes[2]
    cs = np.geomspace(1e-5, 1e-1, 13)
    for k in ks:
        lam = power_law_spectrum(d, k)
        v = np.array([[r.kl_gen_true_per_dim, r.kl_true_gen_per_dim] for r in
                      (proportional_limit(lam, d // 2, training=Training(c=c)) for c in cs)])
        ax.loglog(cs, v[:, 0], "-", color=colors[k], label=f"k={k:g} KL(gen||p), ridge c")
        ax.loglog(cs, v[:, 1], "--", color=colors[k], label=f"k={k:g} KL(p||gen), ridge c")
        taus = 1 / cs  # early stopping at tau ~ 1/c regularises like c
        v = np.array([proportional_limit(lam, d // 2, training=Training(tau=t)).kl_gen_true_per_dim for t in taus])
        ax.loglog(cs, v, ":", color=colors[k], label=f"k={k:g} KL(gen||p), tau=1/x")
    ax.set(xlabel="ridge c  (or 1/tau)", ylabel="KL / d at N/d = 0.5", title="(c) N < d gap: finite only with c or tau")
    ax.legend(fontsize=6)
    fig.tight_layout()
    path = out / "linear_kl.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
