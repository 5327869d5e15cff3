"""The Newton solver of every generated model, appended verbatim (below the marker) to each generated/models module.

Numba cannot cache a compiled function that takes other compiled functions as arguments, so instead of one generic
solver in rfdsm/ calling a model's residual and Jacobian, each model module carries this loop calling its own
``residual``, ``jacobian``, ``initial``, ``resolvent``, ``derivatives`` and ``observables`` as globals; the first run
compiles and caches it once per model. The algorithm is described in rfdsm/solver.py, which drives it.
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
def _newton(x, p, tol, maxiter):
    """Damped Newton from ``x``: ``(x, status, ‖r‖₂, iterations)``."""
    r = residual(x, p)
    norm = numpy.sqrt(numpy.sum(numpy.abs(r) ** 2))
    if not numpy.isfinite(norm):
        return x, NOT_FINITE, norm, 0
    for it in range(maxiter + 1):
        if norm <= tol * max(1.0, numpy.sqrt(numpy.sum(numpy.abs(x) ** 2))):
            return x, CONVERGED, norm, it
        if it == maxiter:
            break
        step, ok = _linear_solve(jacobian(x, p), -r)
        if not ok:
            return x, SINGULAR, norm, it
        t = 1.0
        while True:
            trial = x + t * step
            r_trial = residual(trial, p)
            n_trial = numpy.sqrt(numpy.sum(numpy.abs(r_trial) ** 2))
            if numpy.isfinite(n_trial) and n_trial <= (1.0 - 1e-4 * t) * norm:
                break
            t *= 0.5
            if t < 1e-6:
                return x, LINE_SEARCH, norm, it
        x, r, norm = trial, r_trial, n_trial
    return x, MAX_ITERATIONS, norm, maxiter


@numba.njit(cache=True)
def _continue(x, p, index, start, tol, maxiter):
    """Newton at ``p`` reached by continuation in ``p[index]`` from ``start`` (``index < 0``: plain Newton from ``x``)."""
    if index < 0:
        return _newton(x, p, tol, maxiter)
    q = p.copy()
    target = p[index]
    delta = start - target
    q[index] = start
    x, status, norm, total = _newton(x, q, tol, maxiter)
    if status != CONVERGED:
        return x, status, norm, total
    fraction = 1.0
    shrink = 0.5
    while fraction > 0.0:
        trial = fraction * shrink
        if trial * abs(delta) <= 1e-3 * abs(target) or trial < 1e-14:
            trial = 0.0
        q[index] = target + trial * delta
        x_new, status, norm, it = _newton(x, q, tol, maxiter)
        total += it
        if status == CONVERGED:
            x, fraction, shrink = x_new, trial, max(shrink * shrink, 0.1)
        else:
            shrink = numpy.sqrt(shrink)
            if shrink > 0.999:
                return x, CONTINUATION_FAILED, norm, total
    return x, CONVERGED, norm, total


@numba.njit(cache=True)
def solve_points(P, index, start, tol, maxiter, guess, warm):
    """Solve at every row of ``P``: from ``guess`` (if given) or the previous solution (``warm``), falling back on
    continuation from ``initial``."""
    n = P.shape[0]
    X = numpy.empty((n, guess.size), dtype=P.dtype)
    status = numpy.empty(n, dtype=numpy.int64)
    norms = numpy.empty(n)
    iterations = numpy.empty(n, dtype=numpy.int64)
    x = guess.copy()
    have = warm
    for i in range(n):
        s = MAX_ITERATIONS
        it = 0
        x_new = x
        norm = numpy.inf
        if have:
            x_new, s, norm, it = _newton(x, P[i], tol, maxiter)
        if s != CONVERGED:
            x_new, s, norm, more = _continue(initial(_start(P[i], index, start)), P[i], index,
                                             start, tol, maxiter)
            it += more
        X[i] = x_new
        status[i], norms[i], iterations[i] = s, norm, it
        if s == CONVERGED:
            x = x_new
            have = True
    return X, status, norms, iterations


@numba.njit(cache=True)
def _start(p, index, start):
    q = p.copy()
    if index >= 0:
        q[index] = start
    return q


@numba.njit(cache=True)
def finish(X, P):
    n = P.shape[0]
    G = numpy.empty((n, len(BLOCKS)), dtype=P.dtype)
    dG = numpy.empty((n, len(BLOCKS), len(DERIVATIVES)), dtype=P.dtype)
    O = numpy.empty((n, len(OBSERVABLES)), dtype=P.dtype)
    for i in range(n):
        G[i] = resolvent(X[i], P[i])
        dG[i] = derivatives(X[i], P[i])
        O[i] = observables(G[i], dG[i], P[i])
    return G, dG, O
