"""Activations as SymPy expressions in ``x``, and their correlation kernels where a closed form is known.

The kernel of an activation ρ is

    K(γ, q1, q2) = E[ρ(√q1 g) ρ(√q2 g')],   g, g' ~ N(0, 1),  corr(g, g') = γ,

so that the correlation kernel of docs/models.md §2 is ``c(γ) = K(γ, 1, 1)`` and the pre-activation variance ``q``
enters through ``ρ_q(g) = ρ(√q g)``. SymPy integrates the one-dimensional Gaussian moments of all the activations
below, but not these two-dimensional integrals; the classical closed forms (arc-cosine kernels, Williams' erf kernel,
the sine kernel) are therefore written down here, and ``tests/test_gaussian_constants.py`` checks each of them
against what SymPy *does* integrate: its Taylor coefficients in γ are the squared Hermite coefficients
``c_k(q1) c_k(q2) / k!`` and ``K(1, q, q) = E ρ(√q g)²``. Polynomials need no table: their Hermite series is finite.
Everything else is integrated by quadrature in the generated code (derive/quadrature.py).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

import sympy as sp

x = sp.Symbol("x", real=True)
gamma = sp.Symbol("gamma", real=True)
q1, q2 = sp.symbols("q1 q2", positive=True)

_PI = sp.pi
_ROOT = sp.sqrt(q1 * q2)
_SQRT1MG2 = sp.sqrt(1 - gamma**2)
#: Arc-cosine kernel of ReLU at unit variance, ``[√(1−γ²) + γ(π − arccos γ)]/(2π)``.
_RELU_KERNEL = (_SQRT1MG2 + gamma * (_PI - sp.acos(gamma))) / (2 * _PI)
#: Sine kernel ``e^{−(q1+q2)/2} sinh(γ √(q1 q2))`` as two exponentials whose exponents are ≤ 0 for |γ| ≤ 1 (no
#: overflow) and written so that the one that reaches 0, at γ = 1 and q1 = q2, is exactly 0 there (no round-off
#: of size ε q in it).
_SIN_KERNEL = (sp.exp(-(sp.sqrt(q1) - sp.sqrt(q2)) ** 2 / 2 - (1 - gamma) * _ROOT)
               - sp.exp(-(sp.sqrt(q1) + sp.sqrt(q2)) ** 2 / 2 + (1 - gamma) * _ROOT)) / 2


@dataclass(frozen=True)
class Activation:
    """An activation ρ(x) and, when known, its kernel ``K(γ, q1, q2)`` in closed form.

    ``kernel is None`` means: a finite Hermite series if ``expr`` is a polynomial, quadrature otherwise.
    """

    name: str
    expr: sp.Expr
    kernel: sp.Expr | None = None

    @property
    def is_polynomial(self) -> bool:
        return bool(self.expr.is_polynomial(x))

    @property
    def exact(self) -> bool:
        """Whether the Gaussian constants are closed forms (otherwise: certified quadrature)."""
        return self.kernel is not None or self.is_polynomial


def leaky_relu(slope) -> Activation:
    """Leaky ReLU ``max(x, α x)`` with slope ``α ∈ [0, 1]``; ``K = √(q1 q2) [α γ + (1 − α)² c_relu(γ)]``."""
    alpha = sp.nsimplify(slope)
    if not (alpha.is_real and 0 <= alpha <= 1):
        raise ValueError(f"slope: the leaky ReLU slope must lie in [0, 1], got {slope!r}")
    # ρ = α x + (1 − α) relu(x); the cross term is α(1 − α) γ by Stein's lemma (E[g relu(g')] = γ/2).
    return Activation(
        "leaky_relu",
        sp.Piecewise((x, x > 0), (alpha * x, True)),
        _ROOT * (alpha * gamma + (1 - alpha) ** 2 * _RELU_KERNEL),
    )


def hermite(k: int) -> Activation:
    """Probabilists' Hermite polynomial ``He_k(x)``; its Hermite series has the single term k."""
    if not (isinstance(k, int) and k >= 0):
        raise ValueError(f"k: the Hermite degree must be a non-negative integer, got {k!r}")
    return Activation(f"hermite{k}", sp.hermite_prob(k, x))


def _builtins() -> dict[str, Activation]:
    sigmoid = 1 / (1 + sp.exp(-x))
    acts = [
        Activation("linear", x, _ROOT * gamma),
        Activation("relu", sp.Max(x, 0), _ROOT * _RELU_KERNEL),
        leaky_relu(sp.Rational(1, 100)),
        Activation("abs", sp.Abs(x), _ROOT * 2 / _PI * (_SQRT1MG2 + gamma * sp.asin(gamma))),
        Activation("sign", sp.sign(x), 2 / _PI * sp.asin(gamma)),
        Activation("erf", sp.erf(x), 2 / _PI * sp.asin(2 * gamma * _ROOT / sp.sqrt((1 + 2 * q1) * (1 + 2 * q2)))),
        Activation("sin", sp.sin(x), _SIN_KERNEL),
        Activation("quadratic", x**2),
        Activation("cubic", x**3),
        Activation("tanh", sp.tanh(x)),
        Activation("sigmoid", sigmoid),
        # log(1 + e^x) written so that no exponential can overflow.
        Activation("softplus", sp.Max(x, 0) + sp.log(1 + sp.exp(-sp.Abs(x)))),
        Activation("gelu", x * (1 + sp.erf(x / sp.sqrt(2))) / 2),
        Activation("silu", x * sigmoid),
    ]
    return {a.name: a for a in acts}


BUILTINS: dict[str, Activation] = _builtins()

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FAMILIES = {"leaky_relu": leaky_relu, "hermite": hermite}


def check_name(name: str) -> str:
    """A generated module is named after its activation, so the name must be an importable module name: a Python
    identifier (ASCII), not a keyword, not starting with ``_`` (private: ``rfdsm.activations.available`` skips
    those)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: an activation name must be a Python identifier (letters, digits, _), got {name!r}")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValueError(f"name: {name!r} is a Python keyword, so its module could not be imported; choose another")
    if name.startswith("_"):
        raise ValueError(f"name: {name!r} starts with '_', which marks private modules; choose another")
    return name


def parse(spec: str, name: str | None = None) -> Activation:
    """The activation described by ``spec``.

    ``spec`` is a built-in name (``"relu"``), a family with its parameter (``"leaky_relu(0.2)"``, ``"hermite(4)"``)
    or a SymPy expression in ``x`` (``"x*erf(x)"``, ``"exp(-x**2/2)"``). ``name`` names the generated module; it is
    required for anything but a plain built-in name.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"activation: expected a name or a SymPy expression in x, got {spec!r}")
    spec = spec.strip()
    if spec in BUILTINS and name in (None, spec):
        return BUILTINS[spec]
    if name is None:
        raise ValueError(f"name: the activation {spec!r} is not a built-in name; give it a name (--name)")
    check_name(name)
    if name in BUILTINS:
        raise ValueError(f"name: {name!r} is the name of a built-in activation; choose another")
    family = re.fullmatch(r"(\w+)\((.*)\)", spec)
    if family and family.group(1) in _FAMILIES:
        arg = sp.sympify(family.group(2))
        act = _FAMILIES[family.group(1)](int(arg) if family.group(1) == "hermite" else arg)
        return Activation(name, act.expr, act.kernel)
    try:
        expr = sp.sympify(spec, locals={"x": x}, rational=True)
    except (sp.SympifyError, SyntaxError, TypeError) as err:
        raise ValueError(f"activation: SymPy cannot parse {spec!r}: {err}") from None
    if not isinstance(expr, sp.Expr) or expr.free_symbols - {x}:
        raise ValueError(f"activation: {spec!r} must be an expression in the single variable x")
    return Activation(name, expr)
