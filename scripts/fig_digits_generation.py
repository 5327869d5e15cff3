"""Generation and memorisation on handwritten digits: a picture grid of generated digits each above its nearest
training digit, and the memorised fraction (nearest/second-nearest ratio < 1/3, bootstrap 95 % interval) against ψp
for several m, and against ψn.

    python scripts/fig_digits_generation.py [--psi-n 0.125] [--psi-p 0.5 2 8 32] [--m 1 8 inf] [--lam 1e-6]
                                            [--out out/digits] [--quick]

Every run is ``rfdsm.generate(..., data=Digits())``: ``n = ψn · 64`` training digits, scores trained on a log grid of
times, the reverse SDE from N(0, I) at t = 2 down to ``--t-min`` (1e-3 by default: rfdsm/cli_generate.py says why).
Writes ``digits_generation_grid.png`` (the least and the most memorising run of the ψp sweep: the first and the
last of them on ties),
``digits_memorisation.png`` and ``digits_memorisation.txt``.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import WIDTH, label_m, legend, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.cli_generate import T_MIN, picture_grid, table  # noqa: E402
from rfdsm.data import Digits  # noqa: E402
from rfdsm.plots import plain_log  # noqa: E402

D = 64
MARKERS = "osD^v"


def main(argv=None) -> None:
    p = parser(__doc__)
    p.set_defaults(out=Path(__file__).resolve().parents[1] / "out" / "digits")
    p.add_argument("--activation", default="tanh")
    # Memorisation needs few images and many features: n = 8 digits, p up to 2048 (at ψn = 1, λ = 1e-4 no sample of
    # any run was memorised).
    p.add_argument("--psi-n", type=float, default=0.125, help="ψn of the ψp sweep (default: 0.125, n = 8 digits)")
    p.add_argument("--psi-p", type=float, nargs="+", default=[0.5, 1, 2, 4, 8, 16, 32])
    p.add_argument("--m", nargs="+", default=["1", "8", "inf"])
    p.add_argument("--sweep-psi-n", type=float, nargs="+", default=[0.0625, 0.125, 0.25, 0.5, 1],
                   help="ψn of the ψn sweep, at the largest ψp and m (default: 0.0625 0.125 0.25 0.5 1)")
    p.add_argument("--lam", type=float, default=1e-6)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--t-min", type=float, default=T_MIN)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        args.psi_p, args.m, args.sweep_psi_n, args.samples, args.steps = [0.5, 8.0], ["1", "inf"], [0.5], 40, 5
    start = time.perf_counter()
    digits = Digits()
    ms = [math.inf if m == "inf" else int(m) for m in args.m]

    def run(psi_n, psi_p, m):
        return rfdsm.generate(args.activation, D, psi_n, psi_p, m, args.lam, args.samples, steps=args.steps,
                              t_min=args.t_min, seed=args.seed, data=digits)

    sweep = {m: [run(args.psi_n, x, m) for x in tqdm(args.psi_p, desc=f"m={label_m(m)}", leave=False)] for m in ms}
    top_p, top_m = max(args.psi_p), ms[-1]
    across = [run(x, top_p, top_m) for x in tqdm(args.sweep_psi_n, desc="ψn sweep", leave=False)]

    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, 2.8), sharey=True, layout="constrained")
    nudge = 1.08 ** (np.arange(len(ms)) - (len(ms) - 1) / 2)  # side by side, none under another
    for k, m in enumerate(ms):
        runs = sweep[m]
        left.errorbar(np.array(args.psi_p) * nudge[k], [r.fraction for r in runs],
                      yerr=[[r.fraction - r.low for r in runs], [r.high - r.fraction for r in runs]],
                      fmt=MARKERS[k % len(MARKERS)] + "-", ms=4, lw=0.9, capsize=2, color=f"C{k}", clip_on=False,
                      label=f"m = {label_m(m)}")
    left.axvline(args.psi_n, color="gray", ls=":", lw=1, label="ψp = ψn")
    left.set(xscale="log", xlabel="ψp = p/d", ylabel="memorised fraction", ylim=(0, 1.02),
             title=f"ψn = {args.psi_n:g} (n = {round(args.psi_n * D)})")
    right.errorbar(args.sweep_psi_n, [r.fraction for r in across],
                   yerr=[[r.fraction - r.low for r in across], [r.high - r.fraction for r in across]], fmt="o-", ms=4,
                   lw=0.9, capsize=2, color="k", clip_on=False)
    right.set(xscale="log", xlabel="ψn = n/d", title=f"ψp = {top_p:g}, m = {label_m(top_m)}")
    for ax in (left, right):
        plain_log(ax, "x")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Digits (d = 64): memorised fraction of {args.samples} generated samples, {args.activation}, "
                 f"λ = {args.lam:g}, {args.steps} reverse-SDE steps to t = {args.t_min:g}, seed {args.seed}",
                 fontsize=8)
    legend(fig, [left])
    save(fig, args.out, "digits_memorisation.png", start)

    flat = [r for m in ms for r in sweep[m]]
    least, most = min(flat, key=lambda r: r.fraction), max(reversed(flat), key=lambda r: r.fraction)
    label = lambda r: f"ψn = {r.psi_n:g}, ψp = {r.psi_p:g}, m = {label_m(r.m)}: memorised {r.fraction:.2f}"  # noqa: E731
    save(picture_grid(digits, [(label(least), least), (label(most), most)]), args.out, "digits_generation_grid.png",
         start)
    text = (f"{digits!r}, d = {D}, {args.activation}, λ = {args.lam:g}, t_min = {args.t_min:g}, seed {args.seed}\n"
            f"{table(flat + across)}\n{time.perf_counter() - start:.0f} s\n")
    args.out.joinpath("digits_memorisation.txt").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
