"""Two-point functions of a pencil: the linear response of the doubled pencil, emitted as ``generated/pairs/<name>.py``.

A trace with two resolvents at different points, ``(1/N_b) tr [L(z1)^{-1} N L(z2)^{-1}]_bb`` (``N = ∂L0/∂ζ``, a
deterministic block), is not a function of one fixed point. It is the first-order cross block of the doubled pencil
``[[L(z1), ζ N], [ζ N, L(z2)]]``, whose two copies share every Gaussian atom. Its fixed point at ``ζ = 0`` is the pair
of single fixed points ``G1 = G(z1)``, ``G2 = G(z2)`` (the cross blocks vanish), and differentiating
``g = (L0 − η(g))^{-1}`` in ``ζ`` there gives, for the cross block ``X = ∂_ζ g^{12}``, the linear system

    X = G1 (η(X) − N) G2

(``η`` acts on cross blocks as on a single pencil: the same atom pairs). ``η`` reads only the entries ``x`` of ``X``
at the unknowns' places, so with ``E_k = ∂η/∂x_k``

    (I − M) x = −r,   M_ik = [G1 E_k G2]_{x_i},   r_i = [G1 N G2]_{x_i},   X_bb = Σ_k x_k O_k − O_0,
    O_k = [G1 E_k G2]_bb,   O_0 = [G1 N G2]_bb,

each entry of the data-dimension class averaged over the spectral law (``Mean``) as in derive/pencil.py. At
``z1 = z2`` this is the implicit-function derivative ``∂_ζ g_bb`` of the single pencil, which the tests check.

The emitted module has ``terms(x, p, s)`` (``x`` = the unknowns of copy 1 then of copy 2, ``p = (z1, z2, …)``)
returning ``M, r, O, O_0`` and the ``(offset, scale)`` of the observable ``offset + scale · X_bb``, flattened, and
``batch`` over rows; the runtime solves the small systems (rfdsm/dynamics.py).
"""

from __future__ import annotations

import itertools

import sympy as sp

from derive.emit import header
from derive.model_code import SOURCES, _body
from derive.pencil import Mean, Pencil, _pair, _resolvent_symbol, local_symbol

_PRELUDE = '''{header}"""Two-point function of model {name} (derive/models/two_point.py): the cross ∂_ζ block X of
the doubled pencil at (z1, z2), read at block {block}; observable pair = offset + scale · X.

Unknowns per copy: {unknowns}.
"""

import numba
import numpy

NAME = "{name}"
PARAMETERS = {parameters}
UNKNOWNS = {count}
CROSS = {cross}
'''

_FUNCTIONS = '''

@numba.njit({options})
def terms(x, p, s):
    """M ({k} × {k}, row-major), r ({k}), O ({k}), O_0, offset, scale, flattened: (I − M) x = −r, X = O·x − O_0.

    x = (unknowns at z1, unknowns at z2); p = {p_doc}; s: the spectral law of Σ, rows (ev, weight)."""
{body}

@numba.njit({options}, parallel=True)
def batch(X, P, s):
    """``terms`` at every row of ``X`` (unknowns of both copies) and ``P`` (parameters), the rows in parallel."""
    out = numpy.empty((X.shape[0], {size}), dtype=X.dtype)
    for i in numba.prange(X.shape[0]):
        out[i] = terms(X[i], P[i], s)
    return out
'''


def _cross_eta(pencil: Pencil, index: dict) -> tuple[sp.Matrix, list[tuple[str, str]]]:
    """``η(X)`` of a cross block ``X`` in symbols ``X[c,c']`` and the places ``(c, c')`` it reads. Unlike a single
    pencil's ``g``, a cross block is not symmetric (``X_{cc'} ≠ X_{c'c}``), so ``η`` is built again from the places
    of the atoms, keeping the order of ``(c, c')``."""
    eta = sp.zeros(len(index), len(index))
    read: list[tuple[str, str]] = []
    for one, two in itertools.product(pencil.places, repeat=2):
        if one.atom == two.atom and one.transposed == two.transposed:
            if (one.col, two.col) not in read:
                read.append((one.col, two.col))
            eta[index[one.row], index[two.row]] += (
                one.coeff * two.coeff * pencil.sizes[one.col] * sp.Symbol(f"X[{one.col},{two.col}]"))
    return eta.applyfunc(sp.expand), read


def render(pencil: Pencil, block: tuple[str, str], combine, sources: list[str]) -> str:
    """Source of ``generated/pairs/<pencil.name>.py``; ``combine(pencil, one, two) -> (offset, scale)`` gives the
    observable from ``X``, with ``one``/``two`` mapping a ``g`` symbol of the pencil to its value in copy 1/2."""
    eq = pencil.equations()
    (marker,) = pencil.markers
    spectral = pencil.spectral_class()
    names = pencil.blocks
    index = {b: i for i, b in enumerate(names)}
    L0 = sp.Matrix(len(names), len(names), lambda i, j: pencil.constants.get((names[i], names[j]), 0))
    N = L0.diff(marker).subs(marker, 0)
    z = pencil.continuation[0]
    z1, z2 = sp.Symbol(f"{z}1"), sp.Symbol(f"{z}2")
    others = [q for q in pencil.parameters if q not in (z, marker)]
    x = sp.IndexedBase("x")
    nx = len(eq.unknowns)
    local_values = dict(eq.local)
    fixed_values = {eq.resolvent_symbols[i]: eq.resolvent[i] for i in range(len(eq.blocks))
                    if not eq.resolvent[i].has(Mean)}
    fixed, local, renames = {}, {}, []
    for copy, (zc, offset) in enumerate(((z1, 0), (z2, nx)), start=1):
        to_x = {u: x[offset + i] for i, u in enumerate(eq.unknowns)}
        rename = {}
        for symbol, value in local_values.items():
            rename[symbol] = sp.Symbol(f"{symbol.name}#{copy}")
            local[rename[symbol]] = (sp.Symbol(f"_g{copy}_{len(local)}"), value.xreplace(to_x).subs({z: zc, marker: 0}))
        for symbol, value in fixed_values.items():
            rename[symbol] = sp.Symbol(f"{symbol.name}#{copy}")
            fixed[rename[symbol]] = (sp.Symbol(f"_G{copy}_{len(fixed)}"), value.xreplace(to_x).subs({z: zc, marker: 0}))
        renames.append(rename)

    def matrix(rename: dict) -> sp.Matrix:
        """``G`` of one copy: its resolvent (or, in the data-dimension class, local) symbols; zero across classes."""
        G = sp.zeros(len(names), len(names))
        for group in pencil.classes():
            for b in group:
                for c in group:
                    g = pencil.g(b, c)
                    G[index[b], index[c]] = rename[local_symbol(g) if group == spectral else _resolvent_symbol(g)]
        return G

    G1, G2 = matrix(renames[0]), matrix(renames[1])

    def average(b: str, e: sp.Expr) -> sp.Expr:
        return Mean(sp.expand(e)) if b in spectral else sp.expand(e)

    eta, places = _cross_eta(pencil, index)
    unknowns = [sp.Symbol(f"X[{b},{c}]") for b, c in places]
    E = [eta.diff(u) for u in unknowns]
    products = [G1 * Ek * G2 for Ek in E]
    source_term = G1 * N * G2
    M = [average(b, products[k][index[b], index[c]]) for b, c in places for k in range(len(places))]
    r = [average(b, source_term[index[b], index[c]]) for b, c in places]
    b, c = block
    O = [average(b, products[k][index[b], index[c]]) for k in range(len(places))]
    O0 = average(b, source_term[index[b], index[c]])

    def copy_value(rename: dict, zc):
        def value(g: sp.Symbol) -> sp.Expr:
            if g in pencil.weighted:
                gb, gc, weight = pencil.weighted[g]
                return Mean(weight * rename[local_symbol(pencil.g(gb, gc))])
            return rename[local_symbol(g)] if _pair(pencil, g)[0] in spectral else rename[_resolvent_symbol(g)]
        return value

    offset, scale = combine(pencil, copy_value(renames[0], z1), copy_value(renames[1], z2))
    exprs = M + r + O + [O0, offset, scale]
    parameters = [z1, z2] + others
    options = 'cache=True, error_model="numpy"' + (', fastmath={"reassoc"}' if spectral else "")
    body = _body("out", exprs, (len(exprs),), "x.dtype", parameters, fixed, local) + "    return out\n"
    text = _PRELUDE.format(
        header=header(SOURCES + sources + ["models/two_point.py"], f"pair {pencil.name} {block}"),
        name=pencil.name,
        block=f"({b}, {c})",
        unknowns=", ".join(u.name for u in eq.unknowns),
        parameters=repr(tuple(str(q) for q in parameters)),
        count=nx,
        cross=repr(tuple(u.name for u in unknowns)),
    )
    text += _FUNCTIONS.format(options=options, k=len(places), size=len(exprs), body=body,
                              p_doc="(" + ", ".join(map(str, parameters)) + ")")
    return text
