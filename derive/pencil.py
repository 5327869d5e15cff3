"""Linear pencils (docs/method.md §2, docs/data.md): a symmetric block matrix ``L = L0 + L1`` whose blocks are scalars
times the identity or deterministic matrices ``f(Σ)`` of the data covariance (``L0``), or scalars times Gaussian
matrices with i.i.d. entries of variance ``1/d`` (``L1``), and the fixed-point equations that give the limits of its
normalised block traces.

Conventions.

- Block ``b`` has size ``N_b = α_b d``; ``sizes`` gives ``α_b`` (a SymPy expression or a number).
- ``P.gaussian(b, c, "X", coeff)`` puts ``coeff · X`` in block ``(b, c)`` and ``coeff · X^T`` in ``(c, b)``: the atom ``X``
  is ``N_b × N_c``. To put ``X^T`` at ``(b, c)``, write ``P.gaussian(c, b, "X", coeff)``. An atom may stand in several
  places; its shape is fixed by its first use.
- ``P.deterministic(b, c, f)`` puts ``f(Σ)`` in blocks ``(b, c)`` and ``(c, b)`` of the data dimension (size ``1·d``),
  with ``f`` an expression in the eigenvalue symbol ``EV`` (``Σ^{1/2}``: ``sqrt(EV)``). The Gaussian atoms are
  independent of ``Σ``, which enters through its spectral law ``μ``, atoms ``(ev_k, w_k)`` with ``Σ_k w_k = 1``.
- Unknowns ``g_bc = (1/N_b) E tr [L^{-1}]_bc`` for blocks of equal size (symmetric: ``g_bc = g_cb``); on the data
  dimension also weighted traces ``g^f_bc = (1/d) E tr f(Σ) [L^{-1}]_bc`` (``P.g(b, c, weight=f)``).
- Covariance map ``η(g)_rs = Σ α α' (N_c/d) g_cc'`` over pairs of places ``(r, c)``, ``(s, c')`` where one atom stands
  with one orientation, coefficients ``α``, ``α'``; ``E X A X^T = (tr A/d) I`` makes ``η`` block-scalar even where ``A``
  holds ``f(Σ)``. Fixed point ``g = (L0 − η(g))^{-1}``, a small scalar matrix inverse per class of blocks of equal
  size; blocks of different sizes decouple, so only the data-dimension class sees ``Σ``: there
  ``G(ev) = (L0(ev) − η)^{-1}`` is the inverse in an eigenvector of ``Σ`` and ``g = Mean(G(ev)) = Σ_k w_k G(ev_k)``,
  ``g^f = Mean(f G(ev))``.
- Reduction: ``η`` depends on a few ``g``'s only (those in ``η``'s entries): they are the unknowns ``x``, and the residual
  is ``r(x) = x − [(L0 − η(x))^{-1}]_x``. Every other ``g`` is then explicit. With ``G = (L0 − η)^{-1}``:
  ``∂G/∂x_k = G (∂η/∂x_k) G`` (Jacobian ``J = I − [G ∂η/∂x G]_x``), ``∂G/∂p = −G (∂L0/∂p − ∂η/∂p) G``, and by the
  implicit function theorem ``dx/dp = −J^{-1} ∂r/∂p`` with ``∂r/∂p = −[∂G/∂p]_x``; in the data-dimension class each of
  these products is taken at one eigenvalue and averaged, ``Mean(G(ev) (∂η/∂x_k) G(ev))`` and so on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

#: The eigenvalue of ``Σ`` in deterministic blocks, weights and ``Mean``: ``f(Σ)`` is written ``f(EV)``.
EV = sp.Symbol("ev", nonnegative=True)

#: Key of the dense ``Σ`` among the atoms of ``Pencil.draw`` (no Gaussian atom may take this name).
SIGMA = "Sigma"


class Mean(sp.Function):
    """``Mean(e) = Σ_k w_k e(ev_k)``: the average of ``e`` over the spectral law of ``Σ``. In ``e``, ``EV`` is the
    eigenvalue and the symbols of ``Equations.local`` the data-dimension class inverse at that eigenvalue."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg == 0:
            return sp.S.Zero
        return None


@dataclass(frozen=True)
class Place:
    """One oriented occurrence of an atom: ``coeff · X`` (or ``X^T``) in block ``(row, col)``."""

    atom: str
    transposed: bool
    row: str
    col: str
    coeff: sp.Expr


@dataclass
class Equations:
    """The fixed-point system of a pencil in symbols (see the module docstring for the formulas).

    ``blocks``: the ``g`` symbols of all equal-size block pairs (in the data-dimension class of a pencil with ``Σ``,
    only the unknowns and those the observables read), then the weighted traces; ``unknowns``: those ``η`` depends
    on; ``resolvent``: ``G`` for each of ``blocks``, in the unknowns and parameters; ``resolvent_symbols``: ``G[b,c]``
    for each of ``blocks``; ``local``: ``G(ev)[b,c] →`` its expression, the inverse of the data-dimension class at one
    eigenvalue (empty for a pencil without ``Σ``), which the formulas read inside ``Mean``; ``jacobian``,
    ``parameter_jacobian``: ``∂r/∂x``, ``∂r/∂p`` in ``G``, ``G(ev)``, unknowns and parameters;
    ``total_derivatives[i][j] = dG_i/dp_j`` in ``G``, ``G(ev)``, ``dx`` (``dx_symbols[k][j] = dx_k/dp_j``) and
    parameters; ``initial``: the unknowns at ``η = 0``."""

    blocks: list[sp.Symbol]
    resolvent_symbols: list[sp.Symbol]
    unknowns: list[sp.Symbol]
    resolvent: list[sp.Expr]
    local: dict[sp.Symbol, sp.Expr]
    jacobian: sp.Matrix
    parameter_jacobian: sp.Matrix
    dx_symbols: list[list[sp.Symbol]]
    total_derivatives: list[list[sp.Expr]]
    initial: list[sp.Expr]
    eta: sp.Matrix = field(repr=False)


class Pencil:
    """A symmetric linear pencil and its observables.

    ``parameters``: the runtime parameter vector, in order; every free symbol of the pencil and observables must be one
    of them (or ``EV``, in deterministic blocks, weights and means). ``continuation = (symbol, start)``: the parameter
    along which the solver continues from ``start``, a value where ``η`` is negligible and ``g ≈ L0^{-1}`` (a large
    ridge ``λ``, or ``z → −∞``). ``markers``: parameters that only mark a derivative (``ζ`` in ``L0``); the runtime
    holds them at 0 and callers never pass them.
    """

    def __init__(
        self,
        name: str,
        sizes: dict[str, object],
        parameters: list[sp.Symbol],
        continuation: tuple[sp.Symbol, float] | None = None,
        doc: str = "",
        markers: tuple[sp.Symbol, ...] = (),
    ):
        if not name.isidentifier():
            raise ValueError(f"pencil name: expected a Python identifier, got {name!r}")
        if not sizes:
            raise ValueError("sizes: a pencil needs at least one block")
        self.name = name
        self.doc = doc
        self.sizes: dict[str, sp.Expr] = {}
        for block, size in sizes.items():
            if not isinstance(block, str) or not block.isidentifier():
                raise ValueError(f"sizes: block names must be Python identifiers, got {block!r}")
            size = sp.sympify(size)
            if size.is_nonpositive:
                raise ValueError(f"sizes: block {block!r} has size {size}·d, which is not positive")
            self.sizes[block] = size
        self.parameters = list(parameters)
        if len(set(self.parameters)) != len(self.parameters) or not all(isinstance(s, sp.Symbol) for s in parameters):
            raise ValueError(f"parameters: expected distinct SymPy symbols, got {parameters!r}")
        if EV in self.parameters:
            raise ValueError(f"parameters: {EV} is the eigenvalue symbol of deterministic blocks, not a parameter")
        if continuation is not None and continuation[0] not in self.parameters:
            raise ValueError(f"continuation: {continuation[0]} is not a parameter")
        self.continuation = continuation
        if not set(markers) <= set(self.parameters):
            raise ValueError(f"markers: {sorted(map(str, set(markers) - set(self.parameters)))} are not parameters")
        self.markers = tuple(markers)
        self.constants: dict[tuple[str, str], sp.Expr] = {}
        self.places: list[Place] = []
        self.shapes: dict[str, tuple[sp.Expr, sp.Expr]] = {}
        self.derivatives: list[sp.Symbol] = []
        self.weighted: dict[sp.Symbol, tuple[str, str, sp.Expr]] = {}
        self.observables: dict[str, sp.Expr] = {}
        self.conditions: list[tuple[sp.Expr, sp.Expr]] = []
        self.identities: list[tuple[tuple[str, str], Callable, dict]] = []

    # -- building ------------------------------------------------------------------------------------------------

    @property
    def blocks(self) -> list[str]:
        return list(self.sizes)

    def _block(self, block: str) -> str:
        if block not in self.sizes:
            raise ValueError(f"pencil {self.name}: unknown block {block!r} (blocks: {', '.join(self.sizes)})")
        return block

    def same_size(self, b: str, c: str) -> bool:
        return sp.simplify(self.sizes[self._block(b)] - self.sizes[self._block(c)]) == 0

    def _data_dimension(self, b: str, c: str, what: str) -> None:
        for block in (b, c):
            if sp.simplify(self.sizes[self._block(block)] - 1) != 0:
                raise ValueError(
                    f"pencil {self.name}: {what} ({b}, {c}): block {block!r} has size {self.sizes[block]}·d, "
                    "not the data dimension 1·d"
                )

    def _spectral_expr(self, expr, what: str) -> sp.Expr:
        expr = sp.sympify(expr)
        unknown = expr.free_symbols - set(self.parameters) - {EV}
        if unknown:
            raise ValueError(f"pencil {self.name}: {what} uses symbols {sorted(map(str, unknown))} that are not "
                             f"parameters nor {EV}")
        return expr

    def constant(self, b: str, c: str, value) -> None:
        """``value · I`` in block ``(b, c)`` and in ``(c, b)``; only between blocks of equal size."""
        value = sp.sympify(value)
        if EV in value.free_symbols:
            raise ValueError(f"pencil {self.name}: constant block ({b}, {c}) depends on {EV}; use deterministic")
        self._set(b, c, value)

    def deterministic(self, b: str, c: str, expr) -> None:
        """``f(Σ)`` in block ``(b, c)`` and in ``(c, b)``, ``f = expr`` in ``EV``; both blocks of the data dimension."""
        self._data_dimension(b, c, "deterministic block")
        self._set(b, c, self._spectral_expr(expr, f"deterministic block ({b}, {c})"))

    def _set(self, b: str, c: str, value: sp.Expr) -> None:
        if not self.same_size(b, c):
            raise ValueError(
                f"pencil {self.name}: constant block ({b}, {c}) between blocks of different sizes "
                f"{self.sizes[b]}·d and {self.sizes[c]}·d"
            )
        for key in {(b, c), (c, b)}:
            if key in self.constants:
                raise ValueError(f"pencil {self.name}: constant block {key} set twice")
            self.constants[key] = value

    def gaussian(self, b: str, c: str, atom: str, coeff) -> None:
        """``coeff · X`` in block ``(b, c)`` and ``coeff · X^T`` in ``(c, b)``; ``X = atom`` is ``N_b × N_c``."""
        if atom == SIGMA:
            raise ValueError(f"pencil {self.name}: {SIGMA} names the data covariance, not a Gaussian atom")
        shape = (self.sizes[self._block(b)], self.sizes[self._block(c)])
        if atom in self.shapes:
            first = self.shapes[atom]
            if any(sp.simplify(u - v) != 0 for u, v in zip(first, shape)):
                raise ValueError(
                    f"pencil {self.name}: atom {atom} is used with shape ({first[0]}·d × {first[1]}·d) and, in block "
                    f"({b}, {c}), with shape ({shape[0]}·d × {shape[1]}·d)"
                )
        else:
            self.shapes[atom] = shape
        coeff = sp.sympify(coeff)
        self.places.append(Place(atom, False, b, c, coeff))
        self.places.append(Place(atom, True, c, b, coeff))

    @classmethod
    def from_blocks(cls, name: str, sizes: dict[str, object], matrix, parameters, **kwargs) -> Pencil:
        """A pencil from its block matrix in SymPy: ``matrix[i][j]`` is the block of rows ``i``, columns ``j`` (blocks in
        the order of ``sizes``), a sum of a scalar (times the identity, or ``f(Σ)`` if it holds ``EV``) and scalars
        times atoms ``X`` or ``transpose(X)``, where the atoms are non-commutative symbols (``atoms("W X")``). Checks
        that it is symmetric."""
        pencil = cls(name, sizes, parameters, **kwargs)
        names = pencil.blocks
        rows = [list(row) for row in matrix]
        if len(rows) != len(names) or any(len(row) != len(names) for row in rows):
            raise ValueError(f"pencil {name}: the block matrix must be {len(names)} × {len(names)} (one row per block)")
        parsed = [[_parse_block(sp.sympify(entry), name, names[i], names[j]) for j, entry in enumerate(row)]
                  for i, row in enumerate(rows)]
        for i, j in itertools.product(range(len(names)), repeat=2):
            constant, terms = parsed[i][j]
            mirror_constant, mirror_terms = parsed[j][i]
            mirrored = {(atom, not transposed): coeff for (atom, transposed), coeff in mirror_terms.items()}
            if sp.simplify(constant - mirror_constant) != 0 or set(terms) != set(mirrored) or any(
                sp.simplify(terms[key] - mirrored[key]) != 0 for key in terms
            ):
                raise ValueError(
                    f"pencil {name}: not symmetric: block ({names[i]}, {names[j]}) is not the transpose of block "
                    f"({names[j]}, {names[i]})"
                )
            if i <= j and constant != 0:
                if EV in constant.free_symbols:
                    pencil.deterministic(names[i], names[j], constant)
                else:
                    pencil.constant(names[i], names[j], constant)
            for (atom, transposed), coeff in terms.items():
                if not transposed:
                    pencil.gaussian(names[i], names[j], atom, coeff)
        return pencil

    # -- symbols and observables ---------------------------------------------------------------------------------

    def g(self, b: str, c: str, weight=None) -> sp.Symbol:
        """The symbol of ``g_bc = (1/N_b) E tr [L^{-1}]_bc`` (blocks of equal size; ``g_bc = g_cb``), or with ``weight``
        ``f`` (in ``EV``) of ``(1/d) E tr f(Σ) [L^{-1}]_bc`` on the data dimension; a weight requests that trace."""
        if not self.same_size(b, c):
            raise ValueError(f"pencil {self.name}: g({b}, {c}) pairs blocks of different sizes")
        b, c = sorted((b, c), key=self.blocks.index)
        if weight is None:
            return sp.Symbol(f"g[{b},{c}]")
        self._data_dimension(b, c, "weighted trace")
        weight = self._spectral_expr(weight, f"the weight of g({b}, {c})")
        symbol = sp.Symbol(f"g[{b},{c};{sp.sstr(weight)}]")
        self.weighted.setdefault(symbol, (b, c, weight))
        return symbol

    def dg(self, b: str, c: str, parameter: sp.Symbol, weight=None) -> sp.Symbol:
        """The symbol of ``∂g_bc/∂parameter`` at the fixed point (implicit function theorem); requests that derivative."""
        if parameter not in self.parameters:
            raise ValueError(f"pencil {self.name}: {parameter} is not a parameter")
        if parameter not in self.derivatives:
            self.derivatives.append(parameter)
        return sp.Symbol(f"d{self.g(b, c, weight).name}/d{parameter}")

    def mean(self, expr) -> sp.Expr:
        """``Mean(expr)``: the average of ``expr`` (in ``EV`` and parameters) over the spectral law, for observables."""
        return Mean(self._spectral_expr(expr, "a mean"))

    def observable(self, name: str, expr) -> None:
        """A named observable: a SymPy expression in ``g``'s, ``dg``'s, parameters and means (``Pencil.mean``)."""
        if not name.isidentifier() or name in self.observables:
            raise ValueError(f"pencil {self.name}: observable name {name!r} is not a new identifier")
        expr = sp.sympify(expr)
        unknown = self._unknown_symbols(expr)
        if unknown:
            raise ValueError(f"pencil {self.name}: observable {name} uses unknown symbols {sorted(map(str, unknown))}")
        self.observables[name] = expr

    def condition(self, expr, scale) -> None:
        """A property of the physical solution: ``expr ≥ 0``, up to round-off on the scale ``|scale|`` (both SymPy
        expressions in ``g``'s, ``dg``'s and parameters, real at real parameters). The solver accepts a point only if
        every ``−expr/|scale|`` is at most its tolerance (derive/solver_loop.py), so a root of the fixed-point equations
        on another branch is never returned."""
        expr, scale = sp.sympify(expr), sp.sympify(scale)
        unknown = self._unknown_symbols(expr) | self._unknown_symbols(scale)
        if unknown:
            raise ValueError(f"pencil {self.name}: condition uses unknown symbols {sorted(map(str, unknown))}")
        self.conditions.append((expr, scale))

    def _unknown_symbols(self, expr: sp.Expr) -> set:
        """The symbols of ``expr`` that are not parameters, ``g``'s, ``dg``'s (nor ``EV`` inside a mean)."""
        allowed = set(self.parameters) | set(self.block_symbols()) | set(self.derivative_symbols().values())
        outside = expr.xreplace({m: sp.S.Zero for m in expr.atoms(Mean)}).free_symbols
        return (outside | set().union(*(m.free_symbols - {EV} for m in expr.atoms(Mean)))) - allowed

    def identity(self, block: tuple[str, str], target: Callable, params: dict) -> None:
        """Record what block ``block`` of ``L^{-1}`` is meant to be: ``target(atoms, params)`` (see ``check_identity``);
        the tests check every recorded identity of every model."""
        self._block(block[0]), self._block(block[1])
        self.identities.append((block, target, params))

    def block_symbols(self) -> list[sp.Symbol]:
        """``g`` symbols of all pairs ``b ≤ c`` of blocks of equal size, in block order, then the weighted traces."""
        names = self.blocks
        return [self.g(b, c) for i, b in enumerate(names) for c in names[i:] if self.same_size(b, c)] + list(
            self.weighted
        )

    def derivative_symbols(self) -> dict[tuple[sp.Symbol, sp.Symbol], sp.Symbol]:
        """``(g symbol, parameter) → dg symbol`` for every block pair and requested parameter."""
        return {(g, p): sp.Symbol(f"d{g.name}/d{p}") for g in self.block_symbols() for p in self.derivatives}

    # -- equations -----------------------------------------------------------------------------------------------

    def classes(self) -> list[list[str]]:
        """The blocks grouped by size (blocks of different sizes decouple in ``(L0 − η)^{-1}``)."""
        groups: list[list[str]] = []
        for b in self.blocks:
            for group in groups:
                if self.same_size(group[0], b):
                    group.append(b)
                    break
            else:
                groups.append([b])
        return groups

    def spectral_class(self) -> list[str]:
        """The data-dimension blocks if the pencil sees ``Σ`` (a deterministic block, a weighted trace), else ``[]``."""
        uses = self.weighted or any(EV in v.free_symbols for v in self.constants.values())
        if not uses:
            return []
        return next(group for group in self.classes() if sp.simplify(self.sizes[group[0]] - 1) == 0)

    def eta(self) -> sp.Matrix:
        """``η(g)`` as a ``B × B`` matrix in the ``g`` symbols (zero between blocks of different sizes)."""
        index = {b: i for i, b in enumerate(self.blocks)}
        eta = sp.zeros(len(index), len(index))
        for one, two in itertools.product(self.places, repeat=2):
            if one.atom == two.atom and one.transposed == two.transposed:
                eta[index[one.row], index[two.row]] += (
                    one.coeff * two.coeff * self.sizes[one.col] * self.g(one.col, two.col)
                )
        return eta.applyfunc(sp.expand)

    def _check_parameters(self) -> None:
        used = set().union(*(v.free_symbols for v in self.constants.values()), *(p.coeff.free_symbols for p in self.places))
        missing = used - set(self.parameters) - {EV}
        if missing:
            raise ValueError(f"pencil {self.name}: symbols {sorted(map(str, missing))} are not in parameters")

    def equations(self) -> Equations:
        """The reduced fixed-point system, its Jacobians, and the derivative formulas (module docstring)."""
        self._check_parameters()
        names = self.blocks
        index = {b: i for i, b in enumerate(names)}
        eta = self.eta()
        L0 = sp.Matrix(len(names), len(names), lambda i, j: self.constants.get((names[i], names[j]), 0))
        blocks = self.block_symbols()
        plain = [g for g in blocks if g not in self.weighted]
        unknowns = [g for g in plain if any(g in e.free_symbols for e in eta)]
        if not unknowns:
            raise ValueError(f"pencil {self.name}: no Gaussian atom, nothing to solve")
        spectral = self.spectral_class()
        if spectral:
            # Every block of the data-dimension class costs a spectral sum per call (and two per derivative): keep the
            # unknowns and the blocks the observables read.
            derived = {symbol: g for (g, _), symbol in self.derivative_symbols().items()}
            read = {derived.get(symbol, symbol) for e in self.observables.values() for symbol in e.free_symbols}
            blocks = [g for g in blocks
                      if g in self.weighted or _pair(self, g)[0] not in spectral or g in unknowns or g in read]
        # G as a symmetric matrix of symbols (zero between classes): G[b,c], or G(ev)[b,c] in the spectral class, whose
        # entries are averaged with Mean wherever a formula reads them.
        G = sp.zeros(len(names), len(names))
        resolvent: dict[sp.Symbol, sp.Expr] = {}
        initial: dict[sp.Symbol, sp.Expr] = {}
        local: dict[sp.Symbol, sp.Expr] = {}
        for group in self.classes():
            ids = [index[b] for b in group]
            M = (L0 - eta).extract(ids, ids)
            M0 = L0.extract(ids, ids)
            if sp.expand(M0.det(method="berkowitz")) == 0:
                raise ValueError(f"pencil {self.name}: L0 is singular on blocks {group}; the solver starts from L0^-1")
            inverse = _inverse(M)
            inverse0 = _inverse(M0)
            for a, b in enumerate(group):
                for c_, c in enumerate(group):
                    g = self.g(b, c)
                    if group == spectral:
                        G[index[b], index[c]] = local_symbol(g)
                        if a <= c_:
                            local[local_symbol(g)] = inverse[a, c_]
                            resolvent[g] = Mean(local_symbol(g))
                            initial[g] = Mean(inverse0[a, c_])
                    else:
                        G[index[b], index[c]] = _resolvent_symbol(g)
                        if a <= c_:
                            resolvent[g] = inverse[a, c_]
                            initial[g] = inverse0[a, c_]
        in_spectral = {g: _pair(self, g)[0] in spectral for g in blocks}
        for g, (b, c, weight) in self.weighted.items():
            resolvent[g] = Mean(weight * local_symbol(self.g(b, c)))

        def average(g: sp.Symbol, e: sp.Expr) -> sp.Expr:
            return Mean(sp.expand(e)) if in_spectral[g] else sp.expand(e)

        pos = [(index[_pair(self, g)[0]], index[_pair(self, g)[1]]) for g in unknowns]

        def select(matrix: sp.Matrix) -> list[sp.Expr]:
            return [matrix[i, j] for i, j in pos]

        jac = sp.zeros(len(unknowns), len(unknowns))
        for k, xk in enumerate(unknowns):
            column = select(G * eta.diff(xk) * G)
            for i, xi in enumerate(unknowns):
                jac[i, k] = (1 if i == k else 0) - average(xi, column[i])
        dM = {p: L0.diff(p) - eta.diff(p) for p in self.derivatives}
        pjac = sp.zeros(len(unknowns), len(self.derivatives))
        for j, p in enumerate(self.derivatives):
            column = select(G * dM[p] * G)
            for i, xi in enumerate(unknowns):
                pjac[i, j] = average(xi, column[i])
        dx = [[sp.Symbol(f"d{x.name}/d{p}") for p in self.derivatives] for x in unknowns]
        columns = []
        for j, p in enumerate(self.derivatives):
            dMt = dM[p] - sum((eta.diff(x) * dx[k][j] for k, x in enumerate(unknowns)), sp.zeros(len(names), len(names)))
            columns.append(-G * dMt * G)
        total = []
        for g in blocks:
            b, c = _pair(self, g)
            if g in self.weighted:
                weight = self.weighted[g][2]
                own = local_symbol(self.g(b, c))
                total.append([Mean(weight * columns[j][index[b], index[c]] + weight.diff(p) * own)
                              for j, p in enumerate(self.derivatives)])
            elif in_spectral[g]:
                total.append([Mean(columns[j][index[b], index[c]]) for j in range(len(self.derivatives))])
            else:
                total.append([sp.expand(columns[j][index[b], index[c]]) for j in range(len(self.derivatives))])
        return Equations(
            blocks=blocks,
            resolvent_symbols=[_resolvent_symbol(g) for g in blocks],
            unknowns=unknowns,
            resolvent=[resolvent[g] for g in blocks],
            local=local,
            jacobian=jac,
            parameter_jacobian=pjac,
            dx_symbols=dx,
            total_derivatives=total,
            initial=[initial[x] for x in unknowns],
            eta=eta,
        )

    # -- numerics for the checks ---------------------------------------------------------------------------------

    def draw(self, d: int, params: dict, rng: np.random.Generator, eigenvalues=None) -> dict[str, np.ndarray]:
        """The atoms at dimension ``d``: i.i.d. ``N(0, 1/d)`` entries, ``round(α d)`` rows and columns; for a pencil
        that sees ``Σ``, also ``SIGMA``: ``O diag(eigenvalues) O^T`` with ``O`` Haar-distributed (``d`` eigenvalues;
        uniform on ``[0.1, 2]`` if not given)."""
        atoms = {
            atom: rng.standard_normal((_count(r, d, params), _count(c, d, params))) / np.sqrt(d)
            for atom, (r, c) in self.shapes.items()
        }
        if self.spectral_class():
            values = rng.uniform(0.1, 2.0, d) if eigenvalues is None else np.asarray(eigenvalues, dtype=float)
            if values.shape != (d,):
                raise ValueError(f"eigenvalues: expected {d} eigenvalues, got shape {values.shape}")
            basis, upper = np.linalg.qr(rng.standard_normal((d, d)))
            basis *= np.sign(np.diag(upper))
            atoms[SIGMA] = (basis * values) @ basis.T
        return atoms

    def dense(self, atoms: dict[str, np.ndarray], d: int, params: dict) -> tuple[np.ndarray, dict[str, slice]]:
        """The matrix ``L`` built from ``atoms`` (complex if a parameter is), and the slice of each block."""
        counts = {b: _count(s, d, params) for b, s in self.sizes.items()}
        offsets = np.cumsum([0] + list(counts.values()))
        slices = {b: slice(offsets[i], offsets[i + 1]) for i, b in enumerate(counts)}
        dtype = complex if any(isinstance(v, complex) for v in params.values()) else float
        L = np.zeros((offsets[-1], offsets[-1]), dtype=dtype)
        for (b, c), v in self.constants.items():
            if EV in v.free_symbols:
                L[slices[b], slices[c]] += matrix_function(atoms[SIGMA], _function(v, params))
            else:
                L[slices[b], slices[c]] += _value(v, params) * np.eye(counts[b])
        for place in self.places:
            X = atoms[place.atom].T if place.transposed else atoms[place.atom]
            L[slices[place.row], slices[place.col]] += _value(place.coeff, params) * X
        return L, slices

    def block_traces(self, d: int, params: dict, seed: int = 0, eigenvalues=None) -> dict[sp.Symbol, complex]:
        """``g_bc = (1/N_b) tr [L^{-1}]_bc`` and the weighted traces of one random draw at dimension ``d`` (dense
        inverse; ``Σ`` with ``eigenvalues``, see ``draw``)."""
        subs = _subs(self, params)
        atoms_ = self.draw(d, subs, np.random.default_rng(seed), eigenvalues)
        L, slices = self.dense(atoms_, d, subs)
        inverse = np.linalg.inv(L)
        names = self.blocks
        traces = {
            self.g(b, c): np.trace(inverse[slices[b], slices[c]]) / (slices[b].stop - slices[b].start)
            for i, b in enumerate(names) for c in names[i:] if self.same_size(b, c)
        }
        for symbol, (b, c, weight) in self.weighted.items():
            f = matrix_function(atoms_[SIGMA], _function(weight, subs))
            traces[symbol] = np.trace(f @ inverse[slices[b], slices[c]]) / d
        return traces


def matrix_function(sigma: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``f(Σ) = O diag(f(λ)) O^T`` for a symmetric ``Σ = O diag(λ) O^T`` (eigenvalues clipped at 0: round-off)."""
    values, basis = np.linalg.eigh(sigma)
    return (basis * f(np.maximum(values, 0.0))) @ basis.T


def _value(expr: sp.Expr, params: dict):
    value = sp.sympify(expr).subs(params)
    return complex(value) if any(isinstance(v, complex) for v in params.values()) else float(value)


def _function(expr: sp.Expr, params: dict) -> Callable[[np.ndarray], np.ndarray]:
    """``expr`` in ``EV`` at ``params`` as a NumPy function of the eigenvalues."""
    f = sp.lambdify(EV, sp.sympify(expr).subs(params), "numpy")
    return lambda values: np.broadcast_to(f(values), values.shape)


def _subs(pencil: Pencil, params: dict) -> dict:
    """``{symbol: value}`` for every symbol of ``L``, of the block sizes and of the weights; ``params`` is keyed by
    symbols or names."""
    by_name = {str(k): v for k, v in params.items()}
    used = set().union(
        *(e.free_symbols for e in pencil.constants.values()),
        *(p.coeff.free_symbols for p in pencil.places),
        *(s.free_symbols for s in pencil.sizes.values()),
        *(w.free_symbols for _, _, w in pencil.weighted.values()),
    ) - {EV}
    missing = sorted(str(u) for u in used if str(u) not in by_name)
    if missing:
        raise ValueError(f"pencil {pencil.name}: missing parameter values {missing}")
    return {u: by_name[str(u)] for u in used}


def _count(size: sp.Expr, d: int, params: dict) -> int:
    n = int(round(float(sp.sympify(size).subs(params)) * d))
    if n < 1:
        raise ValueError(f"block of size {size}·d has no rows at d = {d}")
    return n


def _resolvent_symbol(g: sp.Symbol) -> sp.Symbol:
    """``G[b,c]``: the entry of ``(L0 − η(x))^{-1}`` at the current ``x``, distinct from the unknown ``g[b,c]``."""
    return sp.Symbol("G" + g.name[1:])


def local_symbol(g: sp.Symbol) -> sp.Symbol:
    """``G(ev)[b,c]``: the entry of ``(L0(ev) − η(x))^{-1}`` at one eigenvalue ``ev`` of ``Σ``."""
    return sp.Symbol("G(ev)" + g.name[1:])


def _pair(pencil: Pencil, g: sp.Symbol) -> tuple[str, str]:
    if g in pencil.weighted:
        return pencil.weighted[g][:2]
    b, c = g.name[2:-1].split(",")
    return b, c


def _inverse(M: sp.Matrix) -> sp.Matrix:
    """Inverse of a small symbolic matrix as adjugate over determinant (both expanded, no rational simplification: the
    determinant is one shared subexpression in the emitted code, and ``cancel`` costs minutes on 4 × 4 pencil classes)."""
    det = sp.expand(M.det(method="berkowitz"))
    return M.adjugate(method="berkowitz").applyfunc(lambda e: sp.expand(e) / det)


def _parse_block(expr: sp.Expr, name: str, row: str, col: str) -> tuple[sp.Expr, dict[tuple[str, bool], sp.Expr]]:
    """Split a block into its scalar part and ``{(atom, transposed): coefficient}``."""
    constant = sp.S.Zero
    terms: dict[tuple[str, bool], sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        scalars, matrices = term.args_cnc()
        coeff = sp.Mul(*scalars)
        if not matrices:
            constant += coeff
            continue
        if len(matrices) != 1:
            raise ValueError(f"pencil {name}: block ({row}, {col}): term {term} is not a scalar times one atom")
        (m,) = matrices
        if isinstance(m, sp.Symbol):
            key = (m.name, False)
        elif isinstance(m, sp.transpose) and isinstance(m.args[0], sp.Symbol):
            key = (m.args[0].name, True)
        else:
            raise ValueError(f"pencil {name}: block ({row}, {col}): {m} is not an atom or the transpose of one")
        terms[key] = terms.get(key, sp.S.Zero) + coeff
    return constant, terms


def atoms(names: str) -> tuple[sp.Symbol, ...]:
    """Non-commutative symbols for the Gaussian atoms of ``Pencil.from_blocks`` (``transpose(X)`` for ``X^T``)."""
    return sp.symbols(names, commutative=False, seq=True)


def check_identity(
    pencil: Pencil,
    block: tuple[str, str],
    target: Callable[[dict[str, np.ndarray], dict], np.ndarray],
    d: int = 12,
    params: dict | None = None,
    seed: int = 0,
) -> float:
    """Max relative error between block ``block`` of ``L^{-1}`` and ``target(atoms, params)`` for one random draw.

    The atoms are drawn with their shapes at dimension ``d`` (entries ``N(0, 1/d)``) and, for a pencil that sees ``Σ``,
    ``atoms[SIGMA]`` a dense ``Σ`` in a random basis (``Pencil.draw``); ``L`` is built densely, deterministic blocks as
    matrix functions of that ``Σ``, and inverted. The identity is algebraic, so a correct pencil gives round-off
    (``< 1e-9``)."""
    params = params or {}
    subs = _subs(pencil, params)
    atoms_ = pencil.draw(d, subs, np.random.default_rng(seed))
    L, slices = pencil.dense(atoms_, d, subs)
    got = np.linalg.inv(L)[slices[block[0]], slices[block[1]]]
    want = np.asarray(target(atoms_, {str(k): v for k, v in subs.items()}))
    if want.shape != got.shape:
        raise ValueError(f"check_identity: target has shape {want.shape}, block {block} has shape {got.shape}")
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
