"""Borders of the RF-DSM phase diagram against ψn, for several m: a check of "generalisation gives way to memorisation
at ψp ≈ ψn" (docs/phase-diagram.md).

    python scripts/phase_borders.py [--activation tanh] [--t 0.01] [--lam 1e-3] [--psi-n 1 2 5 10 20 50 100]
                                    [--m 1 4 16 inf] [--tolerance 0.1]

For each ``(m, ψn)`` the learning curve is solved on a log grid of ``ψp`` (``PER_DECADE`` points a decade), one point at
a time (a sweep's warm starts are not trusted here, issue 11), every point checked to be physical. The borders are
printed as ratios ``ψp/ψn``, one Markdown table each:

- *train*: the least ``ψp`` with ``ε_train < a²`` (linear interpolation of ``ε_train − a²`` in ``log ψp``);
- *steepest test*: the ``ψp`` where ``d log ε_test / d log ψp`` is largest (central differences, refined by a parabola
  through the largest slope and its neighbours);
- *steepest score*: the same for ``ε_score = (ε_test − a²)/h``, the excess over the baseline;
- *peak*: the ``ψp`` of the largest ``ε_test`` where it is a maximum inside the grid (the interpolation peak);
- *rule*: the ``ψp`` ranges that ``rfdsm.curves.classify`` calls generalisation (test excess ``δ ≤ tolerance``).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import rfdsm
from rfdsm.curves import REGIMES, classify

#: Grid points per decade of ψp.
PER_DECADE = 60
#: Round-off allowed in the physical checks (the errors are O(1)).
ROUND_OFF = 1e-10


def physical(test, train, train_ridge, baseline: float) -> np.ndarray:
    """Where a solution is physical: ``ε_test ≥ a²`` (``ε_test = a² + h ε_score``) and ``0 ≤ ε_train ≤ ε_train_ridge``
    (the ridge term is ``≥ 0``), to ``ROUND_OFF``."""
    test, train, train_ridge = (np.asarray(v) for v in (test, train, train_ridge))
    return (test >= baseline - ROUND_OFF) & (train >= -ROUND_OFF) & (train <= train_ridge + ROUND_OFF)


def checked(curve) -> None:
    """Raise ``RuntimeError`` naming the first unphysical point of ``curve`` (a ``rfdsm.LearningCurve``)."""
    ok = physical(curve.test, curve.train, curve.train_ridge, curve.baseline)
    if not np.all(ok):
        i = np.flatnonzero(~ok.ravel())[0]
        raise RuntimeError(
            f"unphysical solution at ψn = {np.ravel(curve.psi_n)[i]:g}, ψp = {np.ravel(curve.psi_p)[i]:g} "
            f"({curve.activation}, t = {curve.t:g}, m = {curve.m:g}, λ = {curve.lam:g}): test "
            f"{np.ravel(curve.test)[i]:.6g} (a² = {curve.baseline:.6g}), train {np.ravel(curve.train)[i]:.6g}, "
            f"train_ridge {np.ravel(curve.train_ridge)[i]:.6g}"
        )


def pointwise(activation: str, t: float, psi_n: float, psi_p: np.ndarray, m, lam: float) -> dict[str, np.ndarray]:
    """``test``, ``train``, ``train_ridge`` at every ``psi_p``, each point solved alone and checked."""
    out = {name: np.empty(len(psi_p)) for name in ("test", "train", "train_ridge")}
    for j, x in enumerate(psi_p):
        curve = rfdsm.learning_curve(activation, t=t, psi_n=psi_n, psi_p=float(x), m=m, lam=lam)
        checked(curve)
        for name in out:
            out[name][j] = float(getattr(curve, name))
    return out


#: The grid of ψp: from ``BOTTOM`` to ``max(100, REACH m ψn)``, far past the interpolation threshold ``ψp = m ψn``.
BOTTOM, REACH = 0.01, 100.0


def grid(psi_n: float, m) -> np.ndarray:
    """ψp from ``BOTTOM`` to ``max(100, REACH m ψn)`` (m = ∞ counts as 1)."""
    top = max(100.0, REACH * (1 if math.isinf(m) else m) * psi_n)
    return np.geomspace(BOTTOM, top, int(math.log10(top / BOTTOM) * PER_DECADE) + 1)


def train_border(psi_p: np.ndarray, train: np.ndarray, baseline: float) -> float:
    """Least ψp with ``ε_train < a²`` (NaN if none on the grid)."""
    below = np.flatnonzero(train < baseline)
    if below.size == 0:
        return math.nan
    j = below[0]
    if j == 0:
        return float(psi_p[0])
    x0, x1 = np.log(psi_p[j - 1 : j + 1])
    y0, y1 = train[j - 1 : j + 1] - baseline
    return float(np.exp(x0 + (x1 - x0) * y0 / (y0 - y1)))


def steepest_rise(psi_p: np.ndarray, error: np.ndarray) -> tuple[float, float]:
    """``(ψp, slope)`` where the slope ``d log error / d log ψp`` is largest; the vertex of the parabola through the
    largest slope and its neighbours (the grid is uniform in log ψp). NaN where the largest slope is at an end of the
    grid: the rise is then outside it."""
    x = np.log(psi_p)
    slope = np.gradient(np.log(error), x)
    j = int(np.argmax(slope))
    if j == 0 or j == len(x) - 1:
        return math.nan, float(slope[j])
    s0, s1, s2 = slope[j - 1 : j + 2]
    curvature = s0 - 2 * s1 + s2
    shift = 0.5 * (s0 - s2) / curvature if curvature < 0 else 0.0
    return float(np.exp(x[j] + shift * (x[1] - x[0]))), float(slope[j])


def peak(psi_p: np.ndarray, test: np.ndarray) -> float:
    """ψp of the largest ε_test if it lies inside the grid (NaN where ε_test is largest at an end)."""
    j = int(np.argmax(test))
    return float(psi_p[j]) if 0 < j < len(psi_p) - 1 else math.nan


def generalisation_ranges(psi_p: np.ndarray, regime: np.ndarray) -> list[tuple[float, float]]:
    """The ψp intervals (first, last grid point) that the rule calls generalisation."""
    inside = np.concatenate([[False], regime == REGIMES.index("generalisation"), [False]])
    edges = np.flatnonzero(np.diff(inside.astype(int)))
    return [(float(psi_p[a]), float(psi_p[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def borders(activation: str, t: float, psi_n: float, m, lam: float, tolerance: float) -> dict:
    """The three borders of the module docstring at one ``(m, ψn)``, as ψp (not yet divided by ψn)."""
    psi_p = grid(psi_n, m)
    errors = pointwise(activation, t, psi_n, psi_p, m, lam)
    baseline = math.exp(-2 * t)
    regime = classify(errors["test"], errors["train"], baseline, tolerance)
    return {
        "train": train_border(psi_p, errors["train"], baseline),
        "steepest test": steepest_rise(psi_p, errors["test"]),
        "steepest score": steepest_rise(psi_p, errors["test"] - baseline),
        "peak": peak(psi_p, errors["test"]),
        "rule": generalisation_ranges(psi_p, regime),
        "grid": (psi_p[0], psi_p[-1]),
    }


def _label(m) -> str:
    return "∞" if math.isinf(m) else f"{m:g}"


def tables(results: dict, psi_ns: list[float], ms: list) -> str:
    """Markdown tables of the borders divided by ψn: rows m, columns ψn."""
    head = "| m | " + " | ".join(f"ψn = {x:g}" for x in psi_ns) + " |\n|---|" + "---|" * len(psi_ns) + "\n"

    def table(cell) -> str:
        return head + "".join(
            f"| {_label(m)} | " + " | ".join(cell(results[m, x], x) for x in psi_ns) + " |\n" for m in ms
        )

    def ratio(value: float) -> str:
        return "none" if math.isnan(value) else f"{value:.2g}"

    def ranges(r, x) -> str:
        low, high = r["grid"]
        spans = [("≤ " if a == low else f"{a / x:.2g}–") + (f"{b / x:.2g}" if b < high else "∞") for a, b in r["rule"]]
        return ", ".join(span.replace("≤ ∞", "all") for span in spans) or "none"

    def steepest(name):
        return lambda r, x: f"{r[name][0] / x:.2g} ({r[name][1]:.2g})"

    return (
        "First ψp/ψn with ε_train < a²:\n\n" + table(lambda r, x: ratio(r["train"] / x))
        + "\nψp/ψn of the steepest rise of ε_test (largest d log ε_test / d log ψp; that slope):\n\n"
        + table(steepest("steepest test"))
        + "\nψp/ψn of the steepest rise of ε_score = (ε_test − a²)/h (that slope):\n\n"
        + table(steepest("steepest score"))
        + "\nψp/ψn of the interpolation peak (largest ε_test inside the grid):\n\n"
        + table(lambda r, x: ratio(r["peak"] / x))
        + f"\nψp/ψn called generalisation by the rule (δ ≤ tolerance; ≤: down to the grid's ψp = {BOTTOM:g}):\n\n"
        + table(ranges)
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--t", type=float, default=0.01)
    parser.add_argument("--lam", type=float, default=1e-3)
    parser.add_argument("--psi-n", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0])
    parser.add_argument("--m", nargs="+", default=["1", "4", "16", "inf"])
    parser.add_argument("--tolerance", type=float, default=0.1)
    args = parser.parse_args(argv)
    ms = [math.inf if m == "inf" else int(m) for m in args.m]
    start = time.perf_counter()
    results = {(m, x): borders(args.activation, args.t, x, m, args.lam, args.tolerance) for m in ms for x in args.psi_n}
    print(f"{args.activation}, t = {args.t:g}, λ = {args.lam:g}, tolerance {args.tolerance:g}, "
          f"{PER_DECADE} points a decade, each solved alone; {time.perf_counter() - start:.0f} s\n")
    print(tables(results, args.psi_n, ms))


if __name__ == "__main__":
    main()
