"""Emit the module ``generated/models/<name>.py`` of a pencil (derive/pencil.py).

Every module defines the names of its vectors — ``PARAMETERS`` (the runtime parameter vector ``p``), ``MARKERS`` (those
held at 0, marking derivatives only), ``POSITIVE`` and
``NONNEGATIVE`` (parameters declared so in SymPy, which the runtime checks), ``UNKNOWNS`` (``x``), ``BLOCKS`` (the
``g``'s, then the weighted traces; see ``Equations.blocks``), ``DERIVATIVES`` (parameters with ``∂g/∂p``),
``OBSERVABLES``, ``CONTINUATION`` (``(index in p, start value)`` or ``None``), ``SPECTRAL`` (whether the model reads
the spectral law ``s``) — and the ``@numba.njit(cache=True)`` functions

- ``resolvent(x, p, s)``: ``G = (L0 − η(x))^{-1}`` for every entry of ``BLOCKS``;
- ``residual(x, p, s) = x − G_x``, ``jacobian(x, p, s) = ∂residual/∂x``, ``parameter_jacobian(x, p, s) =
  ∂residual/∂p`` (columns: ``DERIVATIVES``);
- ``derivatives(x, p, s)``: ``dG/dp`` at a solution (rows ``BLOCKS``, columns ``DERIVATIVES``), implicit function
  theorem;
- ``observables(G, dG, p, s)``; ``initial(p, s)``: ``x`` at ``η = 0``, the start of a continuation.

``s`` is the spectral law of the data covariance ``Σ``: a C-contiguous float64 array of rows ``(ev, weight)``, weights
summing to 1.
Every ``Mean(e)`` of the formulas (derive/pencil.py) becomes one accumulator of a single loop over its rows, after
which the rest is straight-line code: per row, the data-dimension class inverse at ``ev`` (the ``G(ev)`` entries the
means read), then the means' arguments; the cost is ``O(len(s))`` per call. A model without ``Σ`` ignores ``s``.
Each function names the parameters it reads (``lam = p[0]``) and computes the resolvent entries it needs inline.
Divisions follow NumPy (no exception); the functions of a model with ``Σ`` compile with ``fastmath={"reassoc"}`` (sums
reassociated, nothing else relaxed).

The functions use ``numpy`` maths, so they compile for float64 and complex128 arrays alike (``x`` and ``p`` of one dtype).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derive.emit import DERIVE, header
from derive.pencil import EV, Mean, Pencil

SOURCES = ["emit.py", "model_code.py", "pencil.py", "solver_loop.py"]

#: ``numpy.sqrt`` & co. compile in Numba for real and complex arguments alike; emit.code's ``math`` is real only.
#: (Not in emit.py: changing emit.py would change the hash, hence the bytes, of every generated activation module.)
_PRINTER = NumPyPrinter({"fully_qualified_modules": True})

#: Names the emitted code uses for its own variables, which a parameter may not take.
_RESERVED = {"x", "p", "s", "G", "dG", "dx", "r", "J", "R", "out", "x0", "k", "ev", "atoms", "numpy", "numba"}

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
MARKERS = {markers}
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

@numba.njit({options})
def {name}({args}):
    """{doc}

    {arguments}"""
{body}'''


def _cse(exprs: list[sp.Expr], prefix: str) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Common subexpressions (named ``prefix0``, …) and the reduced expressions."""
    return sp.cse(exprs, symbols=sp.numbered_symbols(prefix), optimizations="basic")


def _lines(pairs: list[tuple[sp.Symbol, sp.Expr]], indent: str) -> str:
    return "".join(f"{indent}{symbol} = {_PRINTER.doprint(value)}\n" for symbol, value in pairs)


def _body(out: str, exprs: list[sp.Expr], shape: tuple[int, ...], dtype: str, parameters: list[sp.Symbol],
          fixed: dict[sp.Symbol, tuple[sp.Symbol, sp.Expr]], local: dict[sp.Symbol, tuple[sp.Symbol, sp.Expr]]) -> str:
    """Lines that fill ``out`` (of ``shape``) with ``exprs``, returned.

    ``fixed``: symbol → (name, value) computed once, before use, where an expression reads it (resolvent entries
    outside the data-dimension class); ``local``: symbol → (name, value) computed per row of ``s`` where a ``Mean``
    reads it. Every ``Mean`` becomes an accumulator ``_m{j}`` of the one loop over ``s``; whatever in it does not
    depend on ``ev`` is computed before the loop (so is a local entry that is a number, in place)."""
    exprs = [sp.sympify(e) for e in exprs]
    means = list(dict.fromkeys(m for e in exprs for m in sp.preorder_traversal(e) if isinstance(m, Mean)))
    accumulators = {m: sp.Symbol(f"_m{j}") for j, m in enumerate(means)}
    outer = [e.xreplace(accumulators) for e in exprs]
    inner = [m.args[0] for m in means]
    fixed_used = [f for f in fixed if any(f in e.free_symbols for e in outer + inner)]
    local_used = [symbol for symbol in local if any(symbol in e.free_symbols for e in inner)]
    names = {symbol: name for symbol, (name, _) in {**fixed, **local}.items()}
    # The loop body: the local entries (those that are numbers substituted), then the means' arguments; what does not
    # vary with ev goes before the loop, and a mean of such a value is that value (the weights sum to 1).
    replacements, reduced = _cse([local[symbol][1] for symbol in local_used], "_a")
    numbers: dict[sp.Symbol, sp.Expr] = {}
    body = []
    for symbol, value in replacements + [(local[symbol][0], v) for symbol, v in zip(local_used, reduced)]:
        value = value.xreplace(numbers)
        if value.is_number:
            numbers[symbol] = value
        else:
            body.append((symbol, value))
    replacements, values = _cse([e.xreplace(names).xreplace(numbers) for e in inner], "_b")
    varying = {EV}
    invariant, loop = [], []
    for symbol, value in body + replacements:
        if value.free_symbols & varying:
            varying.add(symbol)
            loop.append((symbol, value))
        else:
            invariant.append((symbol, value))
    summed = [(a, v) for a, v in zip(accumulators.values(), values) if v.free_symbols & varying]
    invariant += [(a, v) for a, v in zip(accumulators.values(), values) if not v.free_symbols & varying]
    fixed_pairs, fixed_values = _cse([fixed[f][1] for f in fixed_used], "_f")
    replacements, codes = _cse([e.xreplace(names) for e in outer], "_x")
    read = set().union(*(v.free_symbols for _, v in fixed_pairs + invariant + loop + replacements),
                       *(e.free_symbols for e in fixed_values + values + codes))
    text = "".join(f"    {q} = p[{i}]\n" for i, q in enumerate(parameters) if q in read)
    text += _lines(fixed_pairs + [(fixed[f][0], v) for f, v in zip(fixed_used, fixed_values)], "    ")
    text += _lines(invariant, "    ")
    if summed:
        text += "".join(f"    {a} = 0.0\n" for a, _ in summed)
        # The rows of s read through its flat view, at a stride known to the compiler, which then vectorises the loop
        # (through s[k, 0], s[k, 1] it does not, and the Jacobian of rfdsm_spectrum_infinite runs five times slower).
        text += "    atoms = s.reshape(s.size)\n    for k in range(0, atoms.size, 2):\n"
        if EV in read:
            text += "        ev = atoms[k]\n"
        text += _lines(loop, "        ")
        text += "".join(f"        {a} += atoms[k + 1] * ({_PRINTER.doprint(v)})\n" for a, v in summed)
    text += _lines(replacements, "    ")
    size = f"({shape[0]}, {shape[1]})" if len(shape) == 2 else f"{shape[0]}"
    text += f"    {out} = numpy.empty({size}, dtype={dtype})\n"
    for k, code in enumerate(codes):
        index = f"{k // shape[1]}, {k % shape[1]}" if len(shape) == 2 else f"{k}"
        text += f"    {out}[{index}] = {_PRINTER.doprint(code)}\n"
    return text


def render(pencil: Pencil, sources: list[str]) -> str:
    """Source of ``generated/models/<pencil.name>.py``; ``sources`` are the files under derive/ that build the pencil
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
    local = {symbol: (sp.Symbol(f"_g{j}"), value.xreplace(to_x)) for j, (symbol, value) in enumerate(eq.local.items())}
    parameters = list(pencil.parameters)

    def body(out, exprs, shape, dtype, *maps):
        table = {}
        for m in maps:
            table.update(m)
        return _body(out, [sp.sympify(e).xreplace(table) for e in exprs], shape, dtype, parameters, fixed, local) + (
            f"    return {out}\n")

    def violation() -> str:
        """Body returning ``max_k −Re(expr_k)/|scale_k|`` over the conditions (``_shortfall`` is the solver loop's)."""
        if not pencil.conditions:
            return "    return 0.0\n"
        pairs = [e for pair in pencil.conditions for e in pair]
        table = {**to_g, **to_dG}
        text = _body("c", [sp.sympify(e).xreplace(table) for e in pairs], (len(pairs),), "G.dtype", parameters, fixed,
                     local)
        text += "    worst = 0.0\n"
        text += f"    for k in range({len(pencil.conditions)}):\n"
        text += "        worst = max(worst, _shortfall(numpy.real(c[2 * k]), abs(c[2 * k + 1])))\n"
        return text + "    return worst\n"

    cont = None
    if pencil.continuation is not None:
        symbol, start = pencil.continuation
        cont = (pencil.parameters.index(symbol), complex(start) if isinstance(start, complex) else float(start))
    text = _PRELUDE.format(
        header=header(SOURCES + sources, f"pencil {pencil.name}"),
        name=pencil.name,
        doc=pencil.doc or "(no description)",
        unknowns=", ".join(s.name for s in eq.unknowns),
        eta="\n".join(
            f"    η[{b},{c}] = {sp.sstr(eq.eta[i, j])}"
            for i, b in enumerate(pencil.blocks) for j, c in enumerate(pencil.blocks) if i <= j and eq.eta[i, j] != 0
        ),
        parameters=repr(tuple(str(s) for s in pencil.parameters)),
        markers=repr(tuple(str(s) for s in pencil.markers)),
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
        ("violation", "G, dG, p, s", "max over the physical conditions expr ≥ 0 of −expr/|scale|: " + (
            "; ".join(f"{sp.sstr(e)} ≥ 0 (scale {sp.sstr(c)})" for e, c in pencil.conditions) or "none") + ".",
         f"G: BLOCKS, dG: BLOCKS × DERIVATIVES; {p_doc}", violation()),
        ("initial", "p, s", "x at η = 0: [L0^-1]_x.", p_doc, body("x0", eq.initial, (nx,), "p.dtype")),
    ]
    # error_model="numpy": a division by zero gives inf or NaN, which the solver reports as a status, instead of an
    # exception from inside the compiled loop. Reassociation lets LLVM vectorise the sums over the atoms of s: the
    # Jacobian of rfdsm_spectrum_finite at 2000 atoms takes 5 µs instead of 22 µs.
    options = 'cache=True, error_model="numpy"' + (', fastmath={"reassoc"}' if pencil.spectral_class() else "")
    for name, args, doc, arguments, text_body in functions:
        text += _FUNCTION.format(options=options, name=name, args=args, doc=doc, arguments=arguments, body=text_body)
    return text + "\n\n" + _SOLVER_LOOP
