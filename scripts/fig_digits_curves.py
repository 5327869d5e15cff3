"""RF-DSM on handwritten digits: the Gaussian-equivalent theory (``learning_curve(..., data=Digits())``: the Gaussian
with the digits' covariance spectrum, d = 64) against simulations trained on the digits themselves, against ψp and
against ψn.

    python scripts/fig_digits_curves.py [--t 0.1] [--m inf] [--lam 1e-3] [--seeds 10] [--out out/digits] [--quick]

Each simulated point trains the real score on n digits drawn without replacement from the 1,498 training images and
measures the test error on the 299 held-out ones (Monte Carlo over images and noises, rfdsm.simulate). The same
points are simulated on the Gaussian twin, ``N(0, Σ)`` with the digits' Σ, at the same d = 64: its gap to the theory
is the finite-size part, and the gap between the digits and the twin is what real images add. The twin's test errors
are exact Gaussian expectations (rfdsm.simulation.errors). Bottom row: the relative gaps. Writes ``digits_curves.png``
and ``digits_curves.txt`` (every point: theory, simulation ± SE, relative gap and gap in standard errors).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import WIDTH, finish_axes, label_m, legend, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Digits, Gaussian  # noqa: E402

D = 64
#: Errors drawn and reported.
ERRORS = ("test", "train")


def points(data, activation, t, psi_n, psi_p, m, lam, seeds, seed) -> dict:
    """``rfdsm.simulate`` at every (ψn, ψp) pair: means and standard errors of ``ERRORS``, arrays over the pairs."""
    runs = [rfdsm.simulate(activation, t, D, n, p, m, lam, seeds, seed=seed, data=data)
            for n, p in tqdm(list(zip(psi_n, psi_p)), desc=repr(data), leave=False)]
    return {e: (np.array([getattr(r, e) for r in runs]), np.array([getattr(r, f"{e}_se") for r in runs]))
            for e in ERRORS}


def main(argv=None) -> None:
    p = parser(__doc__)
    p.set_defaults(out=Path(__file__).resolve().parents[1] / "out" / "digits")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--t", type=float, default=0.1)
    p.add_argument("--m", default="inf")
    p.add_argument("--lam", type=float, default=1e-3)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    # Whole counts at d = 64; ψn = 1498/64 is the whole training pool.
    p.add_argument("--psi-p", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8, 16])
    p.add_argument("--at-psi-n", type=float, default=4.0, help="ψn of the ψp sweep (default: 4)")
    p.add_argument("--psi-n", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8, 16, 1498 / 64])
    p.add_argument("--at-psi-p", type=float, default=4.0, help="ψp of the ψn sweep (default: 4)")
    p.add_argument("--twin-sizes", type=int, nargs="*", default=[],
                   help="also simulate the Gaussian twin at these d (its 64 eigenvalues each repeated d/64 times) at "
                   "the largest ψp: the finite-size trend of its gap")
    args = p.parse_args(argv)
    if args.quick:
        args.psi_p, args.psi_n, args.seeds = [0.5, 4.0], [1.0, 8.0], 2
    start = time.perf_counter()
    m = math.inf if args.m == "inf" else int(args.m)
    digits = Digits()
    twin = Gaussian(digits.eigenvalues(D))
    sweeps = {"psi_p": (np.full(len(args.psi_p), args.at_psi_n), np.array(args.psi_p)),
              "psi_n": (np.array(args.psi_n), np.full(len(args.psi_n), args.at_psi_p))}
    fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 4.6), sharex="col", height_ratios=(3, 2), layout="constrained")
    lines = [f"{args.activation}, t = {args.t:g}, m = {label_m(m)}, λ = {args.lam:g}, d = {D}, {args.seeds} seeds, "
             f"seed {args.seed}; theory: learning_curve(data={digits!r}); gap = simulation − theory"]
    for column, (axis, (psi_n, psi_p)) in enumerate(sweeps.items()):
        x = psi_p if axis == "psi_p" else psi_n
        fine = np.geomspace(x.min() / 1.3, x.max() * 1.3, 150)
        grid = {"psi_n": psi_n[0], "psi_p": fine} if axis == "psi_p" else {"psi_n": fine, "psi_p": psi_p[0]}
        curve = rfdsm.learning_curve(args.activation, args.t, m=m, lam=args.lam, data=digits, **grid)
        exact = rfdsm.learning_curve(args.activation, args.t, psi_n, psi_p, m=m, lam=args.lam, data=digits)
        top, bottom = axes[:, column]
        for error, colour in zip(ERRORS, ("C0", "C3")):
            top.plot(fine, getattr(curve, error), color=colour, lw=1.2, label=f"{error}: theory")
        top.axhline(curve.baseline, color="gray", lw=0.8, label="C_t (exact Gaussian score)")
        for data, name, face, shift in ((digits, "digits", None, 0.97), (twin, "Gaussian twin", "white", 1.03)):
            simulated = points(data, args.activation, args.t, psi_n, psi_p, m, args.lam, args.seeds, args.seed)
            for error, colour in zip(ERRORS, ("C0", "C3")):
                mean, se = simulated[error]
                theory = getattr(exact, error)
                style = dict(fmt="o" if face is None else "s", ms=4, color=colour, mfc=face or colour, capsize=2,
                             lw=0.8)
                top.errorbar(x * shift, mean, yerr=se, label=f"{error}: {name}", **style)
                bottom.errorbar(x * shift, mean / theory - 1, yerr=se / theory, **style)
                lines += [f"{name:>13} {error:>5} ψn={n:<8.5g} ψp={q:<6g} theory {th:.5f}  simulation {mu:.5f} ± "
                          f"{s:.1g}  gap {mu / th - 1:+.2%} = {(mu - th) / s:+.1f} SE"
                          for n, q, th, mu, s in zip(psi_n, psi_p, theory, mean, se)]
        bottom.axhline(0, color="k", lw=0.8)
        fixed = f"ψn = {psi_n[0]:g}" if axis == "psi_p" else f"ψp = {psi_p[0]:g}"
        top.set(title=f"against {'ψp' if axis == 'psi_p' else 'ψn'} ({fixed})", ylabel="error" if column == 0 else None)
        finish_axes(top, "")
        bottom.set(xscale="log", xlabel="ψp = p/d" if axis == "psi_p" else "ψn = n/d",
                   ylabel="simulation/theory − 1" if column == 0 else None)
        bottom.grid(alpha=0.25)
    for d in args.twin_sizes:
        x = max(args.psi_p)
        run = rfdsm.simulate(args.activation, args.t, d, args.at_psi_n, x, m, args.lam, args.seeds, seed=args.seed,
                             data=twin)
        exact = rfdsm.learning_curve(args.activation, args.t, args.at_psi_n, x, m=m, lam=args.lam, data=digits)
        lines += [f"Gaussian twin at d = {d}: {e} ψn={args.at_psi_n:g} ψp={x:g} theory {float(getattr(exact, e)):.5f}  "
                  f"simulation {getattr(run, e):.5f} ± {getattr(run, f'{e}_se'):.1g}  gap "
                  f"{getattr(run, e) / float(getattr(exact, e)) - 1:+.2%}" for e in ERRORS]
    fig.suptitle(f"Digits (d = 64): Gaussian-equivalent theory and simulations, {args.activation}, t = {args.t:g}, "
                 f"m = {label_m(m)}, λ = {args.lam:g}; circles: digits, squares: Gaussian with their Σ", fontsize=8)
    legend(fig, axes[0])
    save(fig, args.out, "digits_curves.png", start)
    lines.append(f"{time.perf_counter() - start:.0f} s")
    args.out.joinpath("digits_curves.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
