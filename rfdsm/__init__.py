"""rfdsm: exact asymptotic learning curves of diffusion models trained by denoising score matching, and the
simulations that check them. See README.md."""

from rfdsm import distance, divergences, linear
from rfdsm.compare import compare
from rfdsm.activation_constants import Constants, constants
from rfdsm.curves import LearningCurve, PhaseDiagram, learning_curve, phase_diagram
from rfdsm.generation import generate
from rfdsm.simulation import Simulation, simulate
from rfdsm.solver import ConvergenceError

__all__ = [
    "Constants", "ConvergenceError", "LearningCurve", "PhaseDiagram", "Simulation", "compare", "constants",
    "distance", "divergences", "generate", "learning_curve", "linear", "phase_diagram", "simulate",
]
