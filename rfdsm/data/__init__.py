"""Data models (docs/data.md), one module each: what the theory, the simulations and the generation need to know about
the data — the sampler, the spectral law for the pencils, the pre-activation variance, the exact score and the
baseline ``C_t``. ``Isotropic()`` is ``N(0, I)``; ``Gaussian(eigenvalues)`` any covariance spectrum, with the laws
``PowerLaw(k)`` and ``TwoAtoms(l1, l2)`` and ``Gaussian.from_samples(X)`` for the spectrum of a data set;
``Manifold(psi_D, sigma)`` data ``σ(M ξ/√D)`` on a linear or non-linear manifold; ``Digits()`` and
``Images.from_file(path)`` real images (docs/images.md)."""

from rfdsm.data.gaussian import Gaussian
from rfdsm.data.images import Digits, Images
from rfdsm.data.isotropic import Isotropic
from rfdsm.data.manifold import Manifold
from rfdsm.data.power_law import PowerLaw
from rfdsm.data.two_atoms import TwoAtoms

__all__ = ["Digits", "Gaussian", "Images", "Isotropic", "Manifold", "PowerLaw", "TwoAtoms"]
