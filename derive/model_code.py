"""Emit the module ``generated/models/<name>.py`` of a pencil (derive/pencil.py).

Every module defines the names of its vectors — ``PARAMETERS`` (the runtime parameter vector ``p``), ``POSITIVE`` and
``NONNEGATIVE`` (parameters declared so in SymPy, which the runtime checks), ``UNKNOWNS`` (``x``), ``BLOCKS`` (all ``g``),
``DERIVATIVES`` (parameters with ``∂g/∂p``), ``OBSERVABLES``, ``CONTINUATION`` (``(index in p, start value)`` or
``None``) — and the ``@numba.njit(cache=True)`` functions

- ``resolvent(x, p)``: ``G = (L0 − η(x))^{-1}`` for every entry of ``BLOCKS``;
- ``residual(x, p) = x − G_x``, ``jacobian(x, p) = ∂residual/∂x``, ``parameter_jacobian(x, p) = ∂residual/∂p``
  (columns: ``DERIVATIVES``);
- ``derivatives(x, p)``: ``dG/dp`` at a solution (rows ``BLOCKS``, columns ``DERIVATIVES``), implicit function theorem;
- ``observables(G, dG, p)``; ``violation(G, dG, p)``: the largest ``−expr/|scale|`` over the pencil's physical
  conditions (0 without any); ``initial(p)``: ``x`` at ``η = 0``, the start of a continuation.

The functions use ``numpy`` maths, so they compile for float64 and complex128 arrays alike (``x`` and ``p`` of one dtype).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derive.emit import DERIVE, header
from derive.pencil import Pencil

SOURCES = ["emit.py", "model_code.py", "pencil.py", "solver_loop.py"]

#: ``numpy.sqrt`` & co. compile in Numba for real and complex arguments alike; emit.code's ``math`` is real only.
#: (Not in emit.py: changing emit.py would change the hash, hence the bytes, of every generated activation module.)
_PRINTER = NumPyPrinter({"fully_qualified_modules": True})


def _assignments(exprs: list[sp.Expr]) -> tuple[list[str], list[str]]:
    """emit.assignments with the NumPy printer: common subexpressions as lines, then the code of each expression."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_x"), optimizations="basic")
    return [f"    {sym} = {_PRINTER.doprint(value)}" for sym, value in replacements], [_PRINTER.doprint(e) for e in reduced]

#: The Newton/continuation loop each model carries (derive/solver_loop.py, below its marker).
_SOLVER_LOOP = (DERIVE / "solver_loop.py").read_text(encoding="utf-8").split("# --- emitted below ---\n", 1)[1]

_PRELUDE = '''{header}"""Model {name}: {doc}

Fixed point of the linear pencil (derive/pencil.py): unknowns x = {unknowns}, residual r(x) = x − [(L0 − η(x))^-1]_x.
η:
{eta}
"""

import numba
import numpy

NAME = "{name}"
PARAMETERS = {parameters}
POSITIVE = {positive}
NONNEGATIVE = {nonnegative}
UNKNOWNS = {unknown_names}
BLOCKS = {blocks}
DERIVATIVES = {derivatives}
OBSERVABLES = {observables}
CONTINUATION = {continuation}
'''

#: ``error_model="numpy"``: a division by zero gives inf or NaN, which the solver reports as a status, instead of an
#: exception from inside the compiled loop.
_FUNCTION = '''

@numba.njit(cache=True, error_model="numpy")
def {name}({args}):
    """{doc}"""
{body}'''


def _vector(out: str, exprs: list[sp.Expr], size: str, dtype: str) -> str:
    """Body that fills ``out`` (1-D or 2-D by ``size``) from the flat list ``exprs`` after cse."""
    lines, values = _assignments(exprs)
    body = "".join(line + "\n" for line in lines)
    body += f"    {out} = numpy.empty({size}, dtype={dtype})\n"
    shape = size.strip("()").split(",")
    if len(shape) == 2 and shape[1].strip():
        cols = int(shape[1])
        for k, value in enumerate(values):
            body += f"    {out}[{k // cols}, {k % cols}] = {value}\n"
    else:
        for k, value in enumerate(values):
            body += f"    {out}[{k}] = {value}\n"
    return body + f"    return {out}\n"


def _violation(conditions: list[tuple[sp.Expr, sp.Expr]]) -> str:
    """Body returning ``max_k −Re(expr_k)/|scale_k|`` (0 without conditions; ``_shortfall`` is the solver loop's)."""
    if not conditions:
        return "    return 0.0\n"
    lines, values = _assignments([e for pair in conditions for e in pair])
    body = "".join(line + "\n" for line in lines) + "    worst = 0.0\n"
    for k in range(len(conditions)):
        body += f"    worst = max(worst, _shortfall(numpy.real({values[2 * k]}), abs({values[2 * k + 1]})))\n"
    return body + "    return worst\n"


def render(pencil: Pencil) -> str:
    """Source of ``generated/models/<pencil.name>.py``."""
    eq = pencil.equations()
    x = sp.IndexedBase("x")
    p = sp.IndexedBase("p")
    G = sp.IndexedBase("G")
    dx = sp.IndexedBase("dx")
    dG = sp.IndexedBase("dG")
    nx, nb, nd = len(eq.unknowns), len(eq.blocks), len(pencil.derivatives)
    to_x = {s: x[i] for i, s in enumerate(eq.unknowns)}
    to_p = {s: p[i] for i, s in enumerate(pencil.parameters)}
    to_G = {s: G[i] for i, s in enumerate(eq.resolvent_symbols)}
    to_g = {s: G[i] for i, s in enumerate(eq.blocks)}
    to_dx = {eq.dx_symbols[k][j]: dx[k, j] for k in range(nx) for j in range(nd)}
    to_dG = {pencil.derivative_symbols()[(g, q)]: dG[i, j]
             for i, g in enumerate(eq.blocks) for j, q in enumerate(pencil.derivatives)}

    def sub(e: sp.Expr, *maps: dict) -> sp.Expr:
        table = {}
        for m in maps:
            table.update(m)
        return sp.sympify(e).xreplace(table)

    cont = None
    if pencil.continuation is not None:
        symbol, start = pencil.continuation
        cont = (pencil.parameters.index(symbol), complex(start) if isinstance(start, complex) else float(start))
    text = _PRELUDE.format(
        header=header(SOURCES, f"pencil {pencil.name}"),
        name=pencil.name,
        doc=pencil.doc or "(no description)",
        unknowns=", ".join(s.name for s in eq.unknowns),
        eta="\n".join(
            f"    η[{b},{c}] = {sp.sstr(eq.eta[i, j])}"
            for i, b in enumerate(pencil.blocks) for j, c in enumerate(pencil.blocks) if i <= j and eq.eta[i, j] != 0
        ),
        parameters=repr(tuple(str(s) for s in pencil.parameters)),
        positive=repr(tuple(str(s) for s in pencil.parameters if s.is_positive)),
        nonnegative=repr(tuple(str(s) for s in pencil.parameters if s.is_nonnegative and not s.is_positive)),
        unknown_names=repr(tuple(s.name for s in eq.unknowns)),
        blocks=repr(tuple(s.name for s in eq.blocks)),
        derivatives=repr(tuple(str(s) for s in pencil.derivatives)),
        observables=repr(tuple(pencil.observables)),
        continuation=repr(cont),
    )
    functions = [
        ("resolvent", "x, p", "G = (L0 − η(x))^-1 at the entries BLOCKS.",
         _vector("G", [sub(e, to_x, to_p) for e in eq.resolvent], f"{nb}", "x.dtype")),
        ("residual", "x, p", "r(x) = x − G_x.",
         "    G = resolvent(x, p)\n" + _vector(
             "r", [x[i] - G[eq.blocks.index(s)] for i, s in enumerate(eq.unknowns)], f"{nx}", "x.dtype")),
        ("jacobian", "x, p", "∂r/∂x = I − [G (∂η/∂x_k) G]_x.",
         "    G = resolvent(x, p)\n" + _vector("J", [sub(e, to_G, to_x, to_p) for e in eq.jacobian], f"({nx}, {nx})",
                                                 "x.dtype")),
        ("parameter_jacobian", "x, p", "∂r/∂p_j = [G (∂L0/∂p_j − ∂η/∂p_j) G]_x for p_j in DERIVATIVES.",
         "    G = resolvent(x, p)\n" + _vector(
             "R", [sub(e, to_G, to_x, to_p) for e in eq.parameter_jacobian], f"({nx}, {nd})", "x.dtype")),
        ("derivatives", "x, p", "dG/dp_j = −G (∂L0/∂p_j − ∂η/∂p_j − Σ_k ∂η/∂x_k dx_k/dp_j) G, dx/dp = −J^-1 ∂r/∂p.",
         "    G = resolvent(x, p)\n" + (
             "    dx = numpy.linalg.solve(jacobian(x, p), -parameter_jacobian(x, p))\n" + _vector(
                 "dG", [sub(e, to_G, to_dx, to_x, to_p) for row in eq.total_derivatives for e in row],
                 f"({nb}, {nd})", "x.dtype")
             if nd else f"    return numpy.empty(({nb}, 0), dtype=x.dtype)\n")),
        ("observables", "G, dG, p", "; ".join(f"{k} = {sp.sstr(v)}" for k, v in pencil.observables.items()),
         _vector("out", [sub(e, to_g, to_dG, to_p) for e in pencil.observables.values()], f"{len(pencil.observables)}",
                 "G.dtype")),
        ("violation", "G, dG, p", "max over the physical conditions expr ≥ 0 of −expr/|scale|: " + (
            "; ".join(f"{sp.sstr(e)} ≥ 0 (scale {sp.sstr(c)})" for e, c in pencil.conditions) or "none") + ".",
         _violation([(sub(e, to_g, to_dG, to_p), sub(c, to_g, to_dG, to_p)) for e, c in pencil.conditions])),
        ("initial", "p", "x at η = 0: [L0^-1]_x.",
         _vector("x0", [sub(e, to_p) for e in eq.initial], f"{nx}", "p.dtype")),
    ]
    for name, args, doc, body in functions:
        text += _FUNCTION.format(name=name, args=args, doc=doc, body=body)
    return text + "\n\n" + _SOLVER_LOOP
