"""Emit the module ``generated/models/<name>.py`` of a pencil (derive/pencil.py).

Every module defines the names of its vectors — ``PARAMETERS`` (the runtime parameter vector ``p``), ``POSITIVE`` and
``NONNEGATIVE`` (parameters declared so in SymPy, which the runtime checks), ``UNKNOWNS`` (``x``), ``BLOCKS`` (all ``g``,
then the weighted traces), ``DERIVATIVES`` (parameters with ``∂g/∂p``), ``OBSERVABLES``, ``CONTINUATION`` (``(index in
p, start value)`` or ``None``), ``SPECTRAL`` (whether the model reads the spectral law ``s``) — and the
``@numba.njit(cache=True)`` functions

- ``resolvent(x, p, s)``: ``G = (L0 − η(x))^{-1}`` for every entry of ``BLOCKS``;
- ``residual(x, p, s) = x − G_x``, ``jacobian(x, p, s) = ∂residual/∂x``, ``parameter_jacobian(x, p, s) =
  ∂residual/∂p`` (columns: ``DERIVATIVES``);
- ``derivatives(x, p, s)``: ``dG/dp`` at a solution (rows ``BLOCKS``, columns ``DERIVATIVES``), implicit function
  theorem;
- ``observables(G, dG, p, s)``; ``initial(p, s)``: ``x`` at ``η = 0``, the start of a continuation.

``s`` is the spectral law of the data covariance ``Σ``: a float64 array of rows ``(ev, weight)``, weights summing to 1.
Every ``Mean(e)`` of the formulas (derive/pencil.py) becomes one accumulator of a single loop over its rows, after
which the rest is straight-line code: per row, the data-dimension class inverse at ``ev`` (the ``G(ev)`` entries the
means read), then the means' arguments; the cost is ``O(len(s))`` per call. A model without ``Σ`` ignores ``s``.
Each function names the parameters it reads (``lam = p[0]``) and computes the resolvent entries it needs inline.

The functions use ``numpy`` maths, so they compile for float64 and complex128 arrays alike (``x`` and ``p`` of one dtype).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derive.emit import DERIVE, header
from derive.pencil import EV, Mean, Pencil, local_symbol

SOURCES = ["emit.py", "model_code.py", "pencil.py", "solver_loop.py"]

#: ``numpy.sqrt`` & co. compile in Numba for real and complex arguments alike; emit.code's ``math`` is real only.
#: (Not in emit.py: changing emit.py would change the hash, hence the bytes, of every generated activation module.)
_PRINTER = NumPyPrinter({"fully_qualified_modules": True})

#: Names the emitted code uses for its own variables, which a parameter may not take.
_RESERVED = {"x", "p", "s", "G", "dG", "dx", "r", "J", "R", "out", "x0", "k", "ev", "numpy", "numba"}

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
SPECTRAL = {spectral}
'''

_FUNCTION = '''

@numba.njit(cache=True)
def {name}({args}):
    """{doc}

    {arguments}"""
{body}'''


def _assignments(exprs: list[sp.Expr], prefix: str, indent: str) -> tuple[list[str], list[str]]:
    """emit.assignments with the NumPy printer: common subexpressions (``prefix0``, …) as lines, then the code of each
    expression."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(prefix), optimizations="basic")
    return [f"{indent}{sym} = {_PRINTER.doprint(value)}" for sym, value in replacements], [
        _PRINTER.doprint(e) for e in reduced
    ]


def _body(out: str, exprs: list[sp.Expr], shape: tuple[int, ...], dtype: str, parameters: list[sp.Symbol],
          fixed: dict[sp.Symbol, tuple[sp.Symbol, sp.Expr]], local: dict[sp.Symbol, tuple[sp.Symbol, sp.Expr]]) -> str:
    """Lines that fill ``out`` (of ``shape``) with ``exprs``, returned.

    ``fixed``: symbol → (name, value) computed once, before use, where an expression reads it (resolvent entries
    outside the data-dimension class); ``local``: symbol → (name, value) computed per row of ``s`` where a ``Mean``
    reads it. Every ``Mean`` becomes an accumulator ``_m{j}`` of the one loop over ``s``."""
    exprs = [sp.sympify(e) for e in exprs]
    means = list(dict.fromkeys(m for e in exprs for m in sp.preorder_traversal(e) if isinstance(m, Mean)))
    accumulators = {m: sp.Symbol(f"_m{j}") for j, m in enumerate(means)}
    outer = [e.xreplace(accumulators) for e in exprs]
    inner = [m.args[0] for m in means]
    used = set().union(*(e.free_symbols for e in outer + inner))
    fixed_used = [f for f in fixed if f in used]
    local_used = [symbol for symbol in local if any(symbol in e.free_symbols for e in inner)]
    values = [fixed[f][1] for f in fixed_used] + [local[symbol][1] for symbol in local_used]
    read = used.union(*(v.free_symbols for v in values))
    text = "".join(f"    {q} = p[{i}]\n" for i, q in enumerate(parameters) if q in read)
    lines, codes = _assignments([fixed[f][1] for f in fixed_used], "_f", "    ")
    text += "".join(line + "\n" for line in lines)
    text += "".join(f"    {fixed[f][0]} = {code}\n" for f, code in zip(fixed_used, codes))
    names = {symbol: name for symbol, (name, _) in {**fixed, **local}.items()}
    if means:
        text += "".join(f"    {a} = 0.0\n" for a in accumulators.values())
        text += "    for k in range(s.shape[0]):\n"
        if any(EV in v.free_symbols for v in inner + values[len(fixed_used):]):
            text += "        ev = s[k, 0]\n"
        lines, codes = _assignments([local[symbol][1] for symbol in local_used], "_a", "        ")
        text += "".join(line + "\n" for line in lines)
        text += "".join(f"        {local[symbol][0]} = {code}\n" for symbol, code in zip(local_used, codes))
        lines, codes = _assignments([e.xreplace(names) for e in inner], "_b", "        ")
        text += "".join(line + "\n" for line in lines)
        text += "".join(f"        {a} += s[k, 1] * ({code})\n" for a, code in zip(accumulators.values(), codes))
    lines, codes = _assignments([e.xreplace(names) for e in outer], "_x", "    ")
    text += "".join(line + "\n" for line in lines)
    size = f"({shape[0]}, {shape[1]})" if len(shape) == 2 else f"{shape[0]}"
    text += f"    {out} = numpy.empty({size}, dtype={dtype})\n"
    for k, code in enumerate(codes):
        index = f"{k // shape[1]}, {k % shape[1]}" if len(shape) == 2 else f"{k}"
        text += f"    {out}[{index}] = {code}\n"
    return text + f"    return {out}\n"


def render(pencil: Pencil, source: str) -> str:
    """Source of ``generated/models/<pencil.name>.py``; ``source`` is the file under derive/ that builds the pencil
    (it enters the provenance hash with the engine's files)."""
    eq = pencil.equations()
    taken = sorted(str(q) for q in pencil.parameters if str(q) in _RESERVED or str(q).startswith("_"))
    if taken:
        raise ValueError(f"pencil {pencil.name}: parameter names {taken} are taken by the generated code")
    x, G, dx, dG = sp.IndexedBase("x"), sp.IndexedBase("G"), sp.IndexedBase("dx"), sp.IndexedBase("dG")
    nx, nb, nd = len(eq.unknowns), len(eq.blocks), len(pencil.derivatives)
    to_x = {s: x[i] for i, s in enumerate(eq.unknowns)}
    to_g = {s: G[i] for i, s in enumerate(eq.blocks)}
    to_dx = {eq.dx_symbols[k][j]: dx[k, j] for k in range(nx) for j in range(nd)}
    to_dG = {pencil.derivative_symbols()[(g, q)]: dG[i, j]
             for i, g in enumerate(eq.blocks) for j, q in enumerate(pencil.derivatives)}
    # Resolvent entries, computed where a formula reads them: outside the data-dimension class once per call, inside
    # it once per atom of s.
    fixed = {eq.resolvent_symbols[i]: (sp.Symbol(f"_G{i}"), eq.resolvent[i].xreplace(to_x))
             for i, g in enumerate(eq.blocks) if not eq.resolvent[i].has(Mean)}
    local = {local_symbol(g): (sp.Symbol(f"_g{i}"), eq.local[local_symbol(g)].xreplace(to_x))
             for i, g in enumerate(eq.blocks) if local_symbol(g) in eq.local}
    parameters = list(pencil.parameters)

    def body(out, exprs, shape, dtype, *maps):
        table = {}
        for m in maps:
            table.update(m)
        return _body(out, [sp.sympify(e).xreplace(table) for e in exprs], shape, dtype, parameters, fixed, local)

    cont = None
    if pencil.continuation is not None:
        symbol, start = pencil.continuation
        cont = (pencil.parameters.index(symbol), complex(start) if isinstance(start, complex) else float(start))
    text = _PRELUDE.format(
        header=header(SOURCES + [source], f"pencil {pencil.name}"),
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
        spectral=repr(bool(pencil.spectral_class())),
    )
    law = "the spectral law of Σ, rows (ev, weight)" if pencil.spectral_class() else "unused (no Σ in this model)"
    p_doc = f"p = ({', '.join(map(str, pencil.parameters))}); s: {law}."
    x_doc = f"x = ({', '.join(s.name for s in eq.unknowns)}); {p_doc}"
    block_index = {s: i for i, s in enumerate(eq.blocks)}
    functions = [
        ("resolvent", "x, p, s", "G = (L0 − η(x))^-1 at the entries BLOCKS.", x_doc,
         body("G", eq.resolvent, (nb,), "x.dtype", to_x)),
        ("residual", "x, p, s", "r(x) = x − G_x.", x_doc,
         body("r", [u - eq.resolvent[block_index[u]] for u in eq.unknowns], (nx,), "x.dtype", to_x)),
        ("jacobian", "x, p, s", "∂r/∂x = I − [G (∂η/∂x_k) G]_x.", x_doc,
         body("J", list(eq.jacobian), (nx, nx), "x.dtype", to_x)),
        ("parameter_jacobian", "x, p, s", "∂r/∂p_j = [G (∂L0/∂p_j − ∂η/∂p_j) G]_x for p_j in DERIVATIVES.", x_doc,
         body("R", list(eq.parameter_jacobian), (nx, nd), "x.dtype", to_x)),
        ("derivatives", "x, p, s", "dG/dp_j = −G (∂L0/∂p_j − ∂η/∂p_j − Σ_k ∂η/∂x_k dx_k/dp_j) G, dx/dp = −J^-1 ∂r/∂p.",
         x_doc,
         "    dx = numpy.linalg.solve(jacobian(x, p, s), -parameter_jacobian(x, p, s))\n"
         + body("dG", [e for row in eq.total_derivatives for e in row], (nb, nd), "x.dtype", to_x, to_dx)
         if nd else f"    return numpy.empty(({nb}, 0), dtype=x.dtype)\n"),
        ("observables", "G, dG, p, s", "; ".join(f"{k} = {sp.sstr(v)}" for k, v in pencil.observables.items()),
         f"G: BLOCKS, dG: BLOCKS × DERIVATIVES; {p_doc}",
         body("out", list(pencil.observables.values()), (len(pencil.observables),), "G.dtype", to_g, to_dG)),
        ("initial", "p, s", "x at η = 0: [L0^-1]_x.", p_doc, body("x0", eq.initial, (nx,), "p.dtype")),
    ]
    for name, args, doc, arguments, text_body in functions:
        text += _FUNCTION.format(name=name, args=args, doc=doc, arguments=arguments, body=text_body)
    return text + "\n\n" + _SOLVER_LOOP
