"""rfdsm: exact asymptotic learning curves of diffusion models trained by denoising score matching, and the
simulations that check them. See README.md."""

from rfdsm import distance, gaussians, linear
from rfdsm.constants import Constants, constants
from rfdsm.curves import LearningCurve, PhaseDiagram, learning_curve, phase_diagram
from rfdsm.solver import ConvergenceError

__all__ = [
    "Constants", "ConvergenceError", "LearningCurve", "PhaseDiagram", "constants", "distance", "gaussians",
    "learning_curve", "linear", "phase_diagram",
]
