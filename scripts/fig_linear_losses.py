"""Train and test losses of the linear DDPM versus N/d (docs/linear.md).

Panels: (a) summed (over the 1000 steps) train and test losses versus N/d for several power-law exponents k,
converged training without ridge; theory (lines) and finite-d simulations (points).  (b) the same for
k = 1 with ridge c and early stopping tau: the train-test gap below N = d and how c and tau shrink it.
(c) per-step losses at N/d = 0.5: where along the chain the gap sits.
Prints the summed gap at N/d = 0.5 and N/d = 4 for each setting.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small LAPACK calls thrash when threads are oversubscribed

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

from rfdsm.linear import Training, linear_schedule, power_law_spectrum, proportional_limit, realise


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out")
    ap.add_argument("--d", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d, ks = args.d, (0.0, 1.0, 2.0)
    psis = np.geomspace(0.1, 30, 22)
    psis = psis[np.abs(psis - 1) > 0.03]
    colors = {0.0: "C0", 1.0: "C1", 2.0: "C2"}
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))

    ax = axes[0]
    worst = 0.0
    for k in tqdm(ks, desc="k", disable=args.quiet):
        lam = power_law_spectrum(d, k)
        th = [proportional_limit(lam, int(round(p * d))) for p in psis]
        ax.semilogx(psis, [r.train_loss_sum for r in th], "--", color=colors[k])
        ax.semilogx(psis, [r.test_loss_sum for r in th], "-", color=colors[k], label=f"k={k:g}")
        for p in (0.3, 0.5, 2.0, 5.0):
            N = int(round(p * d))
            sims = [realise(lam, N, known_mean=True, seed=s) for s in range(args.seeds)]
            tr = np.mean([r.train_loss_sum for r in sims])
            te = np.mean([r.test_loss_sum for r in sims])
            ax.plot([p, p], [tr, te], "o", color=colors[k], ms=4, mfc="none")
            ref = proportional_limit(lam, N)
            worst = max(worst, abs(tr / ref.train_loss_sum - 1), abs(te / ref.test_loss_sum - 1))
    ax.set_yscale("log")
    ax.axvline(1, color="gray", lw=0.5)
    ax.set(xlabel="N/d", ylabel="loss summed over the 1000 steps", title=f"(a) c=0: test (solid), train (dashed), d={d}")
    ax.legend(fontsize=8)
    print(f"theory vs simulation (d={d}, {args.seeds} seeds): largest relative deviation of summed losses = {worst:.3%}")

    ax = axes[1]
    lam = power_law_spectrum(d, 1.0)
    settings = {"c=0": Training(), "c=1e-3": Training(c=1e-3), "c=1e-2": Training(c=1e-2),
                "tau=300": Training(tau=300.0), "tau=30": Training(tau=30.0)}
    for i, (name, tr) in enumerate(tqdm(settings.items(), desc="regularisation", disable=args.quiet)):
        th = [proportional_limit(lam, int(round(p * d)), training=tr) for p in psis]
        gap = np.array([r.test_loss_sum - r.train_loss_sum for r in th])
        ax.loglog(psis, gap, color=f"C{i}", label=name)
        at = {p: proportional_limit(lam, int(p * d), training=tr) for p in (0.5, 4.0)}
        print(f"k=1 {name:8s}: summed test-train gap {at[0.5].test_loss_sum - at[0.5].train_loss_sum:9.3f} at N/d=0.5, "
              f"{at[4.0].test_loss_sum - at[4.0].train_loss_sum:7.3f} at N/d=4")
    for k in (0.0, 2.0):
        th = [proportional_limit(power_law_spectrum(d, k), int(round(p * d))) for p in psis]
        ax.loglog(psis, [r.test_loss_sum - r.train_loss_sum for r in th], ":", color=colors[k], label=f"k={k:g}, c=0")
    ax.axvline(1, color="gray", lw=0.5)
    ax.set(xlabel="N/d", ylabel="summed test - train loss", title="(b) gap: k=1 with ridge / early stopping")
    ax.legend(fontsize=8)

    ax = axes[2]
    t = np.arange(1, linear_schedule().steps + 1)
    for i, (name, tr) in enumerate(settings.items()):
        r = proportional_limit(lam, d // 2, training=tr)
        ax.semilogy(t, r.test_loss, color=f"C{i}", label=f"{name} test")
        ax.semilogy(t, r.train_loss, "--", color=f"C{i}")
    ax.set(xlabel="step t", ylabel="loss per step", title="(c) k=1, N/d=0.5: per step (train dashed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "linear_losses.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
