"""The Newton solver of every generated model, appended verbatim (below the marker) to each generated/models module.

Numba cannot cache a compiled function that takes other compiled functions as arguments, so instead of one generic
solver in rfdsm/ calling a model's residual and Jacobian, each model module carries this loop calling its own
``residual``, ``jacobian``, ``initial``, ``resolvent``, ``derivatives`` and ``observables`` as globals; the first run
compiles and caches it once per model. The algorithm is described in rfdsm/solver.py, which drives it. ``s``, the
spectral law of the data covariance (rows ``(ev, weight)``), goes unchanged to every model function.
"""
# ruff: noqa: F821 -- the names used below are defined by the generated module this text is appended to.

# --- emitted below ---
CONVERGED, MAX_ITERATIONS, LINE_SEARCH, SINGULAR, NOT_FINITE, CONTINUATION_FAILED = range(6)
MESSAGES = (
    "converged",
    "maximum number of Newton iterations reached",
    "line search failed to decrease the residual",
    "singular Jacobian",
    "residual not finite",
    "continuation failed (step became too small)",
)


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


@numba.njit(cache=True)
def _newton(x, p, s, tol, maxiter):
    """Damped Newton from ``x``: ``(x, status, ‖r‖₂, iterations)``."""
    r = residual(x, p, s)
    norm = numpy.sqrt(numpy.sum(numpy.abs(r) ** 2))
    if not numpy.isfinite(norm):
        return x, NOT_FINITE, norm, 0
    for it in range(maxiter + 1):
        if norm <= tol * max(1.0, numpy.sqrt(numpy.sum(numpy.abs(x) ** 2))):
            if norm == 0.0:
                return x, CONVERGED, norm, it
            # One more step, kept if it does not raise the residual: where J is ill-conditioned a small residual
            # still leaves an error of ‖J^{-1}‖ ‖r‖ in x, and Newton's quadratic convergence removes most of it.
            step, ok = _linear_solve(jacobian(x, p, s), -r)
            if ok:
                polished = x + step
                n_polished = numpy.sqrt(numpy.sum(numpy.abs(residual(polished, p, s)) ** 2))
                if n_polished <= norm:
                    return polished, CONVERGED, n_polished, it + 1
            return x, CONVERGED, norm, it
        if it == maxiter:
            break
        step, ok = _linear_solve(jacobian(x, p, s), -r)
        if not ok:
            return x, SINGULAR, norm, it
        t = 1.0
        while True:
            trial = x + t * step
            r_trial = residual(trial, p, s)
            n_trial = numpy.sqrt(numpy.sum(numpy.abs(r_trial) ** 2))
            if numpy.isfinite(n_trial) and n_trial <= (1.0 - 1e-4 * t) * norm:
                break
            t *= 0.5
            if t < 1e-6:
                return x, LINE_SEARCH, norm, it
        x, r, norm = trial, r_trial, n_trial
    return x, MAX_ITERATIONS, norm, maxiter


#: Newton steps allowed at each step of a continuation (and for a warm start): needing more means the step was too
#: long, and a long step risks landing on another (unphysical) solution of the fixed-point equations.
STEP_ITERATIONS = 8


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
def solve_points(P, s, index, start, tol, maxiter, guess, warm):
    """Solve at every row of ``P``. A point starts from ``guess`` (if given, Newton with ``maxiter`` steps) or from the
    previous solution (``warm``; Newton with ``STEP_ITERATIONS`` steps); failing that, it follows the segment from the
    previous point's parameters; failing that, or with nothing to start from, it follows parameter ``index`` from
    ``start``, where the solution is ``initial`` (plain Newton from ``initial`` if ``index < 0``)."""
    n = P.shape[0]
    X = numpy.empty((n, guess.size), dtype=P.dtype)
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
        if st != CONVERGED:
            cold = P[i].copy()
            if index >= 0:
                cold[index] = start
            x_new, st, norm, more = _newton(initial(cold, s), cold, s, tol, maxiter)
            it += more
            if st == CONVERGED and index >= 0:
                x_new, st, norm, more = _follow(x_new, cold, P[i], s, tol)
                it += more
        X[i] = x_new
        status[i], norms[i], iterations[i] = st, norm, it
        if st == CONVERGED:
            x = x_new
            previous = P[i]
            have = True
    return X, status, norms, iterations


@numba.njit(cache=True)
def finish(X, P, s):
    n = P.shape[0]
    G = numpy.empty((n, len(BLOCKS)), dtype=P.dtype)
    dG = numpy.empty((n, len(BLOCKS), len(DERIVATIVES)), dtype=P.dtype)
    O = numpy.empty((n, len(OBSERVABLES)), dtype=P.dtype)
    for i in range(n):
        G[i] = resolvent(X[i], P[i], s)
        dG[i] = derivatives(X[i], P[i], s)
        O[i] = observables(G[i], dG[i], P[i], s)
    return G, dG, O
