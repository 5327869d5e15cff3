"""Emit the module ``generated/activations/<name>.py`` of an activation.

Every module defines

- ``rho(x)``: the activation, a Numba ufunc (works on arrays from Python and on scalars inside jitted code);
- ``moments(q) -> (μ0, μ1, ‖ρ‖²)`` of ``ρ(√q g)``;
- ``kernel(gamma, q1, q2) = E[ρ(√q1 g) ρ(√q2 g')]``, ``corr(g, g') = γ ∈ [−1, 1]``;
- ``hermite(q, K)`` and ``hermite_rows(q, K)``: the Hermite coefficients ``c_0 … c_K`` of ``ρ(√q g)`` (quadrature
  modules only; the simulator sums the Mehler series with them where no closed-form kernel exists);
- ``check_q(q)``, ``check_gamma(gamma)``, ``row_moments(q)`` and ``kernel_upper(q, gamma, out)``:
  derive/activation_loops.py;

the flags ``EXACT`` (closed forms) and ``SPEC``/``EXPRESSION`` (what it was generated from), and ``Q_MIN, Q_MAX``: the
range of ``q`` where derive/certify.py certified the constants, outside which every function raises ``ValueError``.
Closed forms come from derive/gaussian_constants.py; everything else is integrated by derive/quadrature.py, appended
verbatim.
"""

from __future__ import annotations

import sympy as sp

from derive import gaussian_constants
from derive.activations import Activation
from derive.certify import Certificate
from derive.emit import assignments, code, emitted, header

#: Every derive/ file the text of an activation module depends on (its provenance hash).
SOURCES = ["activation_code.py", "activation_loops.py", "activations.py", "certify.py", "emit.py",
           "gaussian_constants.py", "quadrature.py"]

_PRELUDE = '''{header}"""Activation {name}: ρ(x) = {expr}. {how}"""

import math

import numba
import numpy as np

NAME = "{name}"
SPEC = {spec!r}
EXPRESSION = "{expr}"
EXACT = {exact}
#: The range of q where the constants are certified (derive/certify.py); every function refuses any other q.
Q_MIN = {q_min!r}
Q_MAX = {q_max!r}
Q_ERROR = {q_error!r}


@numba.vectorize(["float64(float64)"], cache=True)
def rho(x):
    """ρ(x) = {expr}"""
    return {rho}
'''

_EXACT = '''

@numba.njit(cache=True)
def moments(q):
    """(μ0, μ1, ‖ρ‖²) of ρ(√q g), g ~ N(0, 1):
    μ0 = {mu0}
    μ1 = {mu1}
    ‖ρ‖² = {norm2}
    """
    check_q(q)
{moment_lines}    return ({moments})


@numba.njit(cache=True)
def kernel(gamma, q1, q2):
    """E[ρ(√q1 g) ρ(√q2 g')] with corr(g, g') = γ:
    {kernel_doc}
    """
    check_q(q1)
    check_q(q2)
    check_gamma(gamma)
    gamma = min(1.0, max(-1.0, gamma))
{kernel_lines}    return {kernel}
'''


def render(act: Activation, spec: str, certificate: Certificate) -> str:
    """Source of the generated module of ``act``, certified by ``certificate``; ``spec`` is what ``python -m derive
    --activation`` was given."""
    # The certificate's error estimate is printed by derive, not written here: its last digits depend on the machine's
    # rounding, and the text must not.
    kind = "closed forms" if act.exact else "quadrature"
    text = _PRELUDE.format(
        header=header(SOURCES, spec),
        name=act.name,
        spec=spec,
        expr=sp.sstr(act.expr),
        how="Constants in closed form (SymPy)." if act.exact else "Constants by quadrature (derive/quadrature.py).",
        exact=act.exact,
        q_min=certificate.q_min,
        q_max=certificate.q_max,
        q_error=f"q: must lie in [{certificate.q_min:g}, {certificate.q_max:g}], where the constants of {act.name} are "
                f"certified ({kind})",
        rho=code(act.expr),
    )
    if not act.exact:
        return text + "\n\n" + emitted("quadrature.py") + "\n\n" + emitted("activation_loops.py")
    moment_exprs = list(gaussian_constants.moments(act))
    moment_lines, moment_code = assignments(moment_exprs)
    kern = gaussian_constants.kernel(act)
    kernel_lines, (kernel_code,) = assignments([kern])
    return text + _EXACT.format(
        mu0=sp.sstr(moment_exprs[0]),
        mu1=sp.sstr(moment_exprs[1]),
        norm2=sp.sstr(moment_exprs[2]),
        moment_lines="".join(line + "\n" for line in moment_lines),
        moments=", ".join(moment_code),
        kernel_doc=sp.sstr(kern),
        kernel_lines="".join(line + "\n" for line in kernel_lines),
        kernel=kernel_code,
    ) + "\n\n" + emitted("activation_loops.py")
