"""rfdsm: exact asymptotic learning curves of diffusion models trained by denoising score matching, and the
simulations that check them. See README.md."""

import os

# How idle threads wait, set (unless the user has) before SciPy's OpenBLAS and Numba's OpenMP pool load. By default
# both keep spinning after each call and take the core the other pool's next phase needs: on 2 cores an m = ∞
# simulation draw alternates the two and was 7-13 % slower (benchmarks/simulate_cost.txt).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from rfdsm import distance, divergences, linear
from rfdsm.activation_constants import Constants, constants
from rfdsm.complexity import SampleComplexity, sample_complexity
from rfdsm.agreement import Comparison, compare
from rfdsm.curves import LearningCurve, PhaseDiagram, learning_curve, phase_diagram
from rfdsm.dynamics import Dynamics, TrainingTimes, dynamics, training_times
from rfdsm.generation import Generation, generate
from rfdsm.results import load, package_version
from rfdsm.simulation import Simulation, simulate
from rfdsm.solver import ConvergenceError
from rfdsm.spectral import Spectrum, spectrum
from rfdsm.runner import Sweep, sweep

__version__ = package_version()

__all__ = [
    "Comparison", "Constants", "ConvergenceError", "Dynamics", "Generation", "LearningCurve", "PhaseDiagram",
    "SampleComplexity", "Simulation", "Spectrum", "Sweep", "TrainingTimes", "__version__", "compare", "constants",
    "distance", "divergences", "dynamics", "generate", "learning_curve", "linear", "load", "phase_diagram",
    "sample_complexity", "simulate", "spectrum", "sweep", "training_times",
]
