"""Figure 4 of the seed paper (arXiv 2502.00336), memorisation experiments: the memorised fraction of generated samples
against ψp, for several m and ψn, next to the theory's memorisation regime.

    python scripts/fig_memorisation.py [--d 50] [--psi-n 0.1 0.5] [--m 1 4 32 inf] [--theory rfdsm|reference]
                                       [--out out/seed] [--quick]

Each point: ``rfdsm.generate`` (scores trained on a log grid of times, reverse SDE, memorised when the
nearest/second-nearest training distance ratio is below 1/3) with its bootstrap 95 % interval; the points of different
m are drawn side by side around their ψp, with different markers, so that none hides another. The strip under each
panel marks, for each m, the ψp that ``rfdsm.curves.classify`` puts in the memorisation regime at ``--t-theory`` (train
error below the baseline ``a²``, test error more than 10 % above it; docs/phase-diagram.md). Writes
``memorisation.png`` and the numbers in ``memorisation.txt``. The default ψn are 0.1 and 0.5, to run in under two
minutes; ``--psi-n 0.1 0.5 2`` adds a panel (no memorised sample at ψn = 2, d = 50; 136 s, docs/figures.md).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from rfdsm.plots import plain_log  # noqa: E402
from scripts.seed_figures import WIDTH, label_m, legend, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.curves import REGIMES, classify  # noqa: E402
from scripts.fig_agreement import theory_function  # noqa: E402
from scripts.phase_borders import physical  # noqa: E402

MARKERS = "osD^v<>"
#: The times at which scores are trained (log grid of ``--steps`` points) and between which the reverse SDE runs.
T_MIN, T_MAX = 0.01, 2.0


def theory_regime(theory, activation: str, t: float, psi_n: float, psi_p: np.ndarray, m, lam: float) -> np.ndarray:
    """Where ``classify`` calls the theory's curve memorisation (every value checked to be physical)."""
    c = theory(activation, t=t, psi_n=psi_n, psi_p=psi_p, m=m, lam=lam)
    baseline = math.exp(-2 * t)
    if not np.all(physical(c.test, c.train, c.train_ridge, baseline)):
        raise RuntimeError(f"unphysical theory at ψn = {psi_n:g}, m = {label_m(m)}, t = {t:g}")
    return classify(c.test, c.train, baseline, 0.1) == REGIMES.index("memorisation")


def main(argv=None) -> None:
    p = parser(__doc__)
    p.add_argument("--activation", default="tanh")
    p.add_argument("--d", type=int, default=50)
    p.add_argument("--psi-n", type=float, nargs="+", default=[0.1, 0.5])
    p.add_argument("--psi-p", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    p.add_argument("--m", nargs="+", default=["1", "4", "32", "inf"])
    p.add_argument("--lam", type=float, default=1e-4)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--t-theory", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--theory", choices=["rfdsm", "reference"], default="rfdsm")
    args = p.parse_args(argv)
    if args.quick:
        args.psi_n, args.psi_p, args.m, args.samples, args.steps = [0.1], [1.0, 4.0], ["1", "inf"], 50, 5
    start = time.perf_counter()
    theory, label = theory_function(args.theory)
    ms = [math.inf if m == "inf" else int(m) for m in args.m]
    fine = np.geomspace(min(args.psi_p) / 1.3, max(args.psi_p) * 1.3, 200)
    # Points of the k-th m at ψp · NUDGE^(k − centre): side by side, none under another.
    nudge = 1.1 ** (np.arange(len(ms)) - (len(ms) - 1) / 2)

    fig, axes = plt.subplots(2, len(args.psi_n), figsize=(WIDTH, 3.0), squeeze=False, sharex=True, sharey="row",
                             height_ratios=(4, 1), layout="constrained")
    lines = [f"theory: {label}; memorised: ratio < 1/3; 95 % bootstrap intervals"]
    for top, strip, psi_n in zip(axes[0], axes[1], args.psi_n):
        for k, m in enumerate(ms):
            colour = f"C{k}"
            runs = [rfdsm.generate(args.activation, d=args.d, psi_n=psi_n, psi_p=x, m=m, lam=args.lam,
                                   samples=args.samples, steps=args.steps, t_min=T_MIN, t_max=T_MAX, seed=args.seed,
                                   progress=False)
                    for x in tqdm(args.psi_p, desc=f"ψn={psi_n:g} m={label_m(m)}", leave=False)]
            fraction = np.array([r.fraction for r in runs])
            error = np.array([[r.fraction - r.low for r in runs], [r.high - r.fraction for r in runs]])
            top.errorbar(np.array(args.psi_p) * nudge[k], fraction, yerr=error, fmt=MARKERS[k % len(MARKERS)] + "-",
                         ms=4, lw=0.9, color=colour, mfc="white" if k % 2 else colour, capsize=2,
                         clip_on=False, label=f"m = {label_m(m)}")  # unclipped: the zeros sit on the axis
            regime = theory_regime(theory, args.activation, args.t_theory, psi_n, fine, m, args.lam)
            strip.fill_between(fine, k - 0.35, k + 0.35, where=regime, color=colour, lw=0)
            lines.append(f"ψn={psi_n:g} m={label_m(m)}: " + ", ".join(
                f"ψp={x:g}: {r.fraction:.3f} [{r.low:.3f}, {r.high:.3f}]" for x, r in zip(args.psi_p, runs))
                + (f"; theory regime ψp ∈ [{fine[regime].min():.2f}, {fine[regime].max():.2f}]" if regime.any()
                   else "; theory regime: none in range"))
        for ax in (top, strip):
            ax.axvline(psi_n, color="gray", ls=":", lw=1, label="ψp = ψn")
        top.set(title=f"ψn = {psi_n:g}", ylim=(0, None))
        top.grid(alpha=0.3)
        strip.set(xscale="log", xlabel="ψp = p/d", ylim=(-0.6, len(ms) - 0.4), yticks=range(len(ms)),
                  yticklabels=[label_m(m) for m in ms])
        plain_log(strip, "x")
    axes[0, 0].set_ylabel("memorised fraction")
    axes[1, 0].set_ylabel("m", fontsize=8)
    axes[1, 0].tick_params(axis="y", labelsize=6)
    fig.suptitle(f"Memorisation: {args.activation}, d = {args.d}, λ = {args.lam:g}, {args.samples} samples, seed "
                 f"{args.seed}, {args.steps} reverse-SDE steps over t ∈ [{T_MIN:g}, {T_MAX:g}]; strips: theory's "
                 f"memorisation regime at t = {args.t_theory:g}", fontsize=8)
    legend(fig, axes[0])
    save(fig, args.out, "memorisation.png", start)
    args.out.joinpath("memorisation.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
