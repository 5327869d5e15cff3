"""Monte Carlo of the real finite-size RF-DSM model (docs/models.md §1): ``simulate`` and its result ``Simulation``.

Modules: ``gaussian`` (exact Gaussian expectations of the features: kernels, Hermite/Mehler sums), ``ridge`` (the
closed-form training and the train errors), ``errors`` (exact test and score errors), ``run`` (the driver).
"""

from rfdsm.simulation.run import Simulation, simulate

__all__ = ["Simulation", "simulate"]
