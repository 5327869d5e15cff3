"""Isotropic Gaussian data ``N(0, I_d)`` (docs/models.md §1): ``Σ_t = I``, the exact score is ``−y`` and the baseline is
``C_t = a² = e^{−2t}``; the pre-activation variance is ``q = 1``. The spectral law is one atom ``(1, 1)``, the ``s``
that the pencils without ``Σ`` ignore and those with ``Σ`` turn into the isotropic pencils."""

from __future__ import annotations

from rfdsm.data.gaussian import Gaussian


class Isotropic(Gaussian):
    """``N(0, I_d)``: ``Gaussian`` with every eigenvalue 1 (no basis is drawn)."""

    def __init__(self):
        super().__init__([1.0])

    def __repr__(self) -> str:
        return "Isotropic()"
