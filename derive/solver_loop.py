"""The Newton solver of every generated model, appended verbatim (below the marker) to each generated/models module.

Numba cannot cache a compiled function that takes other compiled functions as arguments, so instead of one generic
solver in rfdsm/ calling a model's residual and Jacobian, each model module carries this loop calling its own
``residual``, ``jacobian``, ``initial``, ``resolvent``, ``derivatives``, ``observables`` and ``violation`` as globals;
the first run compiles and caches it once per model. The algorithm is described in rfdsm/solver.py, which drives it. ``s``,
the spectral law of the data covariance (rows ``(ev, weight)``), goes unchanged to every model function.
"""
# ruff: noqa: F821 -- the names used below are defined by the generated module this text is appended to.

# --- emitted below ---
CONVERGED, MAX_ITERATIONS, LINE_SEARCH, SINGULAR, NOT_FINITE, CONTINUATION_FAILED, UNPHYSICAL = range(7)
MESSAGES = (
    "converged",
    "maximum number of Newton iterations reached",
    "line search failed to decrease the residual",
    "singular Jacobian",
    "residual or observables not finite",
    "continuation failed (step became too small)",
    "the only solution found is not on the physical branch",
)

#: Newton steps allowed at each step of a continuation (and for a warm start): needing more means the step was too
#: long, and a long step risks landing on another (unphysical) solution of the fixed-point equations.
STEP_ITERATIONS = 8
#: Largest violation of a model's physical conditions (relative to their scale) at an accepted point. Some conditions
#: are differences of derivatives that the implicit function theorem gives only to ~1e-16 times the condition number of
#: the scaled Jacobian (1e8 for the linear activation at λ = 3e-6), so round-off can break them by 1e-8; the roots on
#: other branches seen so far break them by 2.5e-3 (ReLU, m = ∞, λ = 1e-4: ε_train_ridge < ε_train) and more.
PHYSICAL_TOL = 1e-6


@numba.njit(cache=True)
def _linear_solve(A, b):
    """``A^{-1} b`` by Gaussian elimination with partial pivoting (tiny systems; no exception on a singular ``A``)."""
    n = b.size
    M = A.copy()
    y = b.copy()
    for k in range(n):
        pivot = k
        for i in range(k + 1, n):
            if abs(M[i, k]) > abs(M[pivot, k]):
                pivot = i
        if not abs(M[pivot, k]) > 1e-300:
            return y, False
        if pivot != k:
            for j in range(n):
                M[k, j], M[pivot, j] = M[pivot, j], M[k, j]
            y[k], y[pivot] = y[pivot], y[k]
        for i in range(k + 1, n):
            factor = M[i, k] / M[k, k]
            for j in range(k, n):
                M[i, j] -= factor * M[k, j]
            y[i] -= factor * y[k]
    for k in range(n - 1, -1, -1):
        for j in range(k + 1, n):
            y[k] -= M[k, j] * y[j]
        y[k] /= M[k, k]
    return y, True


#: Scales are at least this fraction of the largest one: an unknown that vanishes identically (a cross block such as
#: g[w,e] at m = 1) is computed as round-off (1e-29), whose relative residual is 1 whatever Newton does.
SCALE_FLOOR = 1e-14


@numba.njit(cache=True)
def _scales(x, r):
    """The scale of each equation ``x_i = G_i(x)``: ``max(|x_i|, |G_i|)`` with ``G_i = x_i − r_i``, at least
    ``SCALE_FLOOR`` times the largest (1 where all vanish). The unknowns of one model span many orders of magnitude
    (1e-7 next to 1e6 at small ridge), so residuals and Newton steps are measured relative to these scales, component
    by component."""
    s = numpy.empty(x.size)
    for i in range(x.size):
        s[i] = max(abs(x[i]), abs(x[i] - r[i]))
    floor = SCALE_FLOOR * numpy.max(s)
    if floor == 0.0:
        floor = 1.0
    for i in range(x.size):
        s[i] = max(s[i], floor)
    return s


@numba.njit(cache=True)
def _newton(x, p, s, tol, maxiter):
    """Newton from ``x`` on the scaled system ``D^{-1} r(x + D δ) = 0``, ``D = diag(_scales)``: ``(x, status, scaled
    residual, iterations)``.

    Converged when, after at least one step, both the scaled residual ``max |r_i|/s_i`` and the scaled Newton step
    ``max |δ_i|/s_i`` (the error estimate of ``x``) are ``≤ tol``; the last step is then applied. The scaled Jacobian
    ``D^{-1} J D`` stays well conditioned where ``J`` is not (condition 1e25 → 6 at λ = 1e-5, ψp = 100, ψn = 0.1).
    Steps are damped by a backtracking line search on the scaled residual (Armijo) unless the residual is already at
    the tolerance, where round-off alone decides its value."""
    r = residual(x, p, s)
    for it in range(maxiter + 1):
        scale = _scales(x, r)
        norm = numpy.max(numpy.abs(r) / scale)
        if not numpy.isfinite(norm):
            return x, NOT_FINITE, norm, it
        J = jacobian(x, p, s)
        for i in range(x.size):
            for j in range(x.size):
                J[i, j] *= scale[j] / scale[i]
        step, ok = _linear_solve(J, -r / scale)
        if not ok:
            return x, SINGULAR, norm, it
        if it >= 1 and norm <= tol and numpy.max(numpy.abs(step)) <= tol:
            x = x + scale * step
            r = residual(x, p, s)
            return x, CONVERGED, numpy.max(numpy.abs(r) / _scales(x, r)), it + 1
        if it == maxiter:
            break
        t = 1.0
        while True:
            trial = x + (t * scale) * step
            r_trial = residual(trial, p, s)
            n_trial = numpy.max(numpy.abs(r_trial) / scale)
            if norm <= tol or (numpy.isfinite(n_trial) and n_trial <= (1.0 - 1e-4 * t) * norm):
                break
            t *= 0.5
            if t < 1e-6:
                return x, LINE_SEARCH, norm, it
        x, r = trial, r_trial
    return x, MAX_ITERATIONS, numpy.max(numpy.abs(r) / _scales(x, r)), maxiter


@numba.njit(cache=True)
def _follow(x, source, target, s, tol):
    """From ``x``, the solution at parameters ``source``, to the solution at ``target`` along the segment
    ``q = target + f (source − target)``: ``f`` falls from 1 to 0 in steps that shrink after a failure and grow after a
    success; each step starts from the secant prediction through the last two solutions."""
    delta = source - target
    fraction, shrink = 1.0, 0.5
    x_old, f_old = x, 1.0
    total = 0
    norm = numpy.inf
    while fraction > 0.0:
        trial = fraction * shrink
        if numpy.all(numpy.abs(trial * delta) <= 1e-3 * numpy.abs(target)) or trial < 1e-14:
            trial = 0.0
        guess = x
        if f_old > fraction:
            guess = x + (x - x_old) * ((trial - fraction) / (fraction - f_old))
        x_new, status, norm, it = _newton(guess, target + trial * delta, s, tol, STEP_ITERATIONS)
        total += it
        if status == CONVERGED:
            x_old, f_old = x, fraction
            x, fraction, shrink = x_new, trial, max(shrink * shrink, 0.1)
        else:
            shrink = numpy.sqrt(shrink)
            if shrink > 0.999:
                return x, CONTINUATION_FAILED, norm, total
    return x, CONVERGED, norm, total


@numba.njit(cache=True)
def _shortfall(value, scale):
    """How far ``value ≥ 0`` is broken, relative to ``scale ≥ 0``: ``−value/scale`` (``inf`` if broken at scale 0)."""
    if scale > 0.0:
        return -value / scale
    return numpy.inf if value < 0.0 else 0.0


@numba.njit(cache=True)
def _accept(x, p, s, status, G, dG, O):
    """Observables at a converged ``x`` into ``G``, ``dG``, ``O``; the status becomes ``NOT_FINITE`` or
    ``UNPHYSICAL`` if they are not finite or break the model's physical conditions (``violation``)."""
    if status != CONVERGED:
        return status
    G[:] = resolvent(x, p, s)
    dG[:] = derivatives(x, p, s)
    O[:] = observables(G, dG, p, s)
    if not (numpy.all(numpy.isfinite(O)) and numpy.all(numpy.isfinite(dG))):
        return NOT_FINITE
    if violation(G, dG, p, s) > PHYSICAL_TOL:
        return UNPHYSICAL
    return CONVERGED


@numba.njit(cache=True)
def solve_points(P, s, index, start, tol, maxiter, guess, warm):
    """Solve at every row of ``P``: ``(X, G, dG, O, status, residual, iterations)``.

    A point starts from ``guess`` (if given, Newton with ``maxiter`` steps) or from the previous solution (``warm``;
    Newton with ``STEP_ITERATIONS`` steps, then, failing that, continuation along the segment from the previous
    point's parameters). A point so found is accepted only if its observables are finite and physical (``_accept``).
    Otherwise, or with nothing to start from, it is solved from the safe start: continuation in parameter ``index``
    from ``start``, where the solution is ``initial`` (plain Newton from ``initial`` if ``index < 0``)."""
    n = P.shape[0]
    X = numpy.empty((n, guess.size), dtype=P.dtype)
    G = numpy.empty((n, len(BLOCKS)), dtype=P.dtype)
    dG = numpy.empty((n, len(BLOCKS), len(DERIVATIVES)), dtype=P.dtype)
    O = numpy.empty((n, len(OBSERVABLES)), dtype=P.dtype)
    status = numpy.empty(n, dtype=numpy.int64)
    norms = numpy.empty(n)
    iterations = numpy.empty(n, dtype=numpy.int64)
    x = guess.copy()
    have = warm
    previous = P[0]
    for i in range(n):
        st = MAX_ITERATIONS
        it = 0
        x_new = x
        norm = numpy.inf
        if have:
            x_new, st, norm, it = _newton(x, P[i], s, tol, maxiter if i == 0 else STEP_ITERATIONS)
            if st != CONVERGED and i > 0:
                x_new, st, norm, more = _follow(x, previous, P[i], s, tol)
                it += more
            st = _accept(x_new, P[i], s, st, G[i], dG[i], O[i])
        if st != CONVERGED:
            cold = P[i].copy()
            if index >= 0:
                cold[index] = start
            x_new, st, norm, more = _newton(initial(cold, s), cold, s, tol, maxiter)
            it += more
            if st == CONVERGED and index >= 0:
                x_new, st, norm, more = _follow(x_new, cold, P[i], s, tol)
                it += more
            st = _accept(x_new, P[i], s, st, G[i], dG[i], O[i])
        X[i] = x_new
        status[i], norms[i], iterations[i] = st, norm, it
        if st == CONVERGED:
            x = x_new
            previous = P[i]
            have = True
    return X, G, dG, O, status, norms, iterations
