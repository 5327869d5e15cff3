"""Figure 5 of the seed paper (arXiv 2502.00336) with its caption's settings: RF-DSM learning curves for m = 1,
λ = 1e-3, ReLU. The other settings are Figure 3's (t = 0.01, ψn = 1, 5, 20, 100, dotted verticals at ψp = ψn), so that
the two figures differ only in m: one noise sample per data point against the exact average over the noise.

    python scripts/fig_seed_5.py [--d 100] [--seeds 3] [--out out/seed] [--quick]

Writes ``seed_fig5.png``: (a) test (solid) and train (dashed) errors against ψp at each ψn; (b) the ψn = 5 curves with
simulations of the real model at one ``d``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.fig_seed_3 import psi_n_figure  # noqa: E402


def main(argv=None) -> None:
    psi_n_figure(__doc__, argv, 1, 5, default_d=100)


if __name__ == "__main__":
    main()
