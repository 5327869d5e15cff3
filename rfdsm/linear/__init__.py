"""Linear diffusion models (docs/linear.md): DDPM chain with linear denoisers on Gaussian data.

``chain``: schedule, denoisers, exact generated law and losses for one training set;
``equivalents``: deterministic equivalents of the sample covariance;
``theory``: the proportional limit ``N, d -> inf`` and the exact Wishart KL expectations.
"""
from .chain import (Realisation, Schedule, TrainedChain, Training, ancestral_law, denoiser_weights,
                    generated_spectrum, linear_schedule, power_law_spectrum, realise, step_losses, train)
from .equivalents import SpectralContour, effective_ridge, effective_ridge_at_zero, resolvent_traces
from .theory import LinearTheory, proportional_limit, wishart_kl, wishart_kl_limit

__all__ = ["Realisation", "Schedule", "TrainedChain", "Training", "ancestral_law", "denoiser_weights",
           "generated_spectrum", "linear_schedule", "power_law_spectrum", "realise", "step_losses", "train",
           "SpectralContour", "effective_ridge", "effective_ridge_at_zero", "resolvent_traces",
           "LinearTheory", "proportional_limit", "wishart_kl", "wishart_kl_limit"]
