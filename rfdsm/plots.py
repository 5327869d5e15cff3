"""Figures of learning curves and phase diagrams (matplotlib; the caller saves or shows them)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from rfdsm.curves import REGIMES, LearningCurve, PhaseDiagram  # noqa: E402


def plot_curve(curve: LearningCurve, axis: str = "psi_p", ax=None):
    """Test, train and score errors against ``axis`` (``"psi_p"`` or ``"psi_n"``), with the baseline ``a² = e^{−2t}``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    x = getattr(curve, axis).ravel()
    m = "∞" if np.isinf(curve.m) else f"{curve.m:g}"
    ax.plot(x, curve.test.ravel(), label="test")
    ax.plot(x, curve.train.ravel(), label="train")
    ax.plot(x, curve.score.ravel(), "--", label="score")
    ax.axhline(curve.baseline, color="k", lw=0.8, ls=":", label="baseline $a^2$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ψp = p/d" if axis == "psi_p" else "ψn = n/d")
    ax.set_ylabel("error per dimension")
    ax.set_title(f"{curve.activation}, t = {curve.t:g}, m = {m}, λ = {curve.lam:g}")
    ax.legend()
    return ax


def plot_phase(diagram: PhaseDiagram, ax=None):
    """Regimes in the ``(ψn, ψp)`` plane, with the line ``ψp = m ψn`` (``ψp = ψn`` for ``m = ∞``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    colours = ListedColormap(["#4c9be8", "#e8704c", "#bbbbbb"])
    ax.pcolormesh(diagram.psi_n, diagram.psi_p, diagram.regime, cmap=colours, vmin=-0.5, vmax=2.5, shading="nearest")
    curve = diagram.curve
    slope = 1.0 if np.isinf(curve.m) else curve.m
    ax.plot(diagram.psi_n, slope * diagram.psi_n, "k--", lw=1, label="ψp = ψn" if slope == 1 else f"ψp = {slope:g} ψn")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(diagram.psi_n.min(), diagram.psi_n.max())
    ax.set_ylim(diagram.psi_p.min(), diagram.psi_p.max())
    ax.set_xlabel("ψn = n/d")
    ax.set_ylabel("ψp = p/d")
    m = "∞" if np.isinf(curve.m) else f"{curve.m:g}"
    ax.set_title(f"{curve.activation}, t = {curve.t:g}, m = {m}, λ = {curve.lam:g}")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(i)) for i in range(len(REGIMES))]
    ax.legend(handles + ax.get_legend_handles_labels()[0], list(REGIMES) + ax.get_legend_handles_labels()[1],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax
