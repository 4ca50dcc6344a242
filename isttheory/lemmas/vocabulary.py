"""The vocabulary of lemma statements: each name is one exact quantity of an instance, defined here once.

A definition is a function of an :class:`Evaluator`, which wraps an engine (float64 closed forms while
searching, exact enumeration while certifying; :mod:`isttheory.lemmas.engines`). Every formula that
turns moments into a quantity comes from :mod:`isttheory.quantities`, so the search, the certificate
and the engines share one home per formula. ``isttheory check --vocabulary`` prints this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .. import quantities as Q
from ..errors import LemmaError
from .engines import Engine
from .expr import Node, Undefined

MAX_RATIONAL_STEPS = 64
"""Exact moments stay rational for this many iterations; later ones continue in mpmath (whose certificates
are confirmed at twice the precision), since rational entries gain digits at every step."""
ITERATION_NAMES = frozenset({"n", "d", "K", "t"})
"""Names an iteration argument such as ``E_f(K-1)`` may use."""
MAX_ITERATION = 10_000


@dataclass(frozen=True)
class Quantity:
    """A vocabulary entry: ``name``, whether it takes an iteration ``k``, meaning, equation, LaTeX."""

    name: str
    meaning: str
    equation: str
    latex: str
    compute: Callable[..., Any]
    iteration: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    arity: tuple[int, int]
    meaning: str


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("min", (2, 16), "smallest argument"), Function("max", (2, 16), "largest argument"),
    Function("abs", (1, 1), "absolute value"), Function("sqrt", (1, 1), "square root"),
    Function("log", (1, 1), "natural logarithm"), Function("exp", (1, 1), "exponential"))}


class Evaluator:
    """Values of vocabulary names on one instance, cached; an :class:`~isttheory.lemmas.expr.Environment`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.arith = engine.arith
        self._cache: dict[str, Any] = {}
        self._traj: dict[str, list[tuple[Any, Any]]] = {}

    # --------------------------------------------------------------- Environment
    def number(self, value: Fraction) -> Any:
        return self.arith.number(value)

    def power(self, base: Any, exponent: Any) -> Any:
        return self.arith.power(base, exponent)

    def binop(self, op: str, a: Any, b: Any) -> Any:
        return self.arith.binop(op, a, b)

    def name(self, name: str) -> Any:
        q = VOCABULARY.get(name)
        if q is None or q.iteration:
            raise LemmaError(f"unknown name {name!r} (see 'isttheory check --vocabulary')")
        return self.value(name)

    def call(self, name: str, args: list[Any], nodes: tuple[Node, ...]) -> Any:
        if name in FUNCTIONS:
            return self._function(name, args)
        q = VOCABULARY.get(name)
        if q is None or not q.iteration:
            raise LemmaError(f"{name!r} is not a function or an iteration quantity")
        k = args[0]
        kf = Fraction(k) if isinstance(k, (int, Fraction)) else None
        if kf is None:
            kf = Fraction(float(k)).limit_denominator(1) if float(k) == round(float(k)) else None
        if kf is None or kf.denominator != 1 or not 0 <= kf <= MAX_ITERATION:
            raise Undefined(f"{name}({k}): the iteration must be an integer in [0, {MAX_ITERATION}]")
        return q.compute(self, int(kf))

    def _function(self, name: str, args: list[Any]) -> Any:
        if name in ("min", "max"):
            best = args[0]
            for a in args[1:]:
                x, y = self.arith.lift(best, a)
                best = (a if y < x else best) if name == "min" else (a if y > x else best)
            return best
        (x,) = args
        if name == "abs":
            return abs(x)
        if x < 0 or (name == "log" and x == 0):
            raise Undefined(f"{name} of a negative number ({float(x):.3g})")
        return {"sqrt": self.arith.sqrt, "log": self.arith.log, "exp": self.arith.exp}[name](x)

    # --------------------------------------------------------------- cached values
    def value(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = VOCABULARY[name].compute(self)
        return self._cache[name]

    def memo(self, key: str, f: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = f()
        return self._cache[key]

    # --------------------------------------------------------------- shared pieces
    def eig_L(self) -> list[Any]:
        eig: list[Any] = self.memo("_eig_L", lambda: self.arith.eigvalsh(self.engine.L_bar))
        return eig

    def x_star(self) -> Any:
        def compute() -> Any:
            ev = self.eig_L()
            if not ev[0] > 1e-12 * max(abs(ev[-1]), 1e-300):
                raise Undefined("L_bar is singular: x* does not exist")
            return self.arith.solve(self.engine.L_bar, self.engine.b_bar)
        return self.memo("_x_star", compute)

    def W(self) -> Any:
        return self.memo("_W", lambda: Q.W_bar(self.engine.L_bar, self.engine.EB))

    def x_inf(self) -> Any:
        def compute() -> Any:
            ev = self.arith.eigvalsh(self.engine.EB)
            if not abs(ev[0]) > 1e-12 * max(abs(ev[-1]), 1e-300):
                raise Undefined("E[B_bar] is singular: the mean recursion (28) has no unique fixed point")
            return Q.fixed_point(self.engine.EB, self.engine.ECb, self.arith.solve)
        return self.memo("_x_inf", compute)

    def h(self) -> Any:
        return self.memo("_h", lambda: Q.bias(self.x_star(), self.x_inf()))

    def form(self, form: str | None = None) -> str:
        return self.engine.point.form if form is None else form

    def trajectory(self, k: int) -> list[tuple[Any, Any]]:
        """``[(m_j, X_j)]`` for ``j = 0 … k`` under the instance's form (extended on demand)."""
        form = self.form()
        traj = self._traj.setdefault(form, [(self.engine.x0, np.outer(self.engine.x0, self.engine.x0))])
        dyn = self.engine.dynamics(form)
        with np.errstate(all="ignore"):
            while len(traj) <= k:
                m, X = traj[-1]
                if self.arith.exact and len(traj) == MAX_RATIONAL_STEPS + 1:
                    m, X = _to_mpf(m), _to_mpf(X)  # rationals this deep grow by digits every step
                traj.append(dyn.step(m, X))
        return traj

    def metric(self, key: str, k: int) -> Any:
        def compute() -> Any:
            m, X = self.trajectory(k)[k]
            if not self.arith.exact and not (np.all(np.isfinite(X)) and np.all(np.isfinite(m))):
                return math.inf
            x_star = None if key in ("f", "grad2") else self.x_star()
            W = self.W() if key == "grad2_LinvWLinv" else None
            with np.errstate(all="ignore"):
                v = Q.moment_metrics(self.engine.L_bar, self.engine.b_bar, x_star, m, X, W)[key]
            return v if self.arith.exact or math.isfinite(v) else math.inf
        return self.memo(f"_metric_{key}_{k}", compute)

    def average(self, key: str, K: int) -> Any:
        if K < 1:
            raise Undefined("an average over k < K needs K >= 1")
        total = self.metric(key, 0)
        for k in range(1, K):
            total = self.arith.binop("+", total, self.metric(key, k))
        return self.arith.binop("/", total, self.arith.number(Fraction(K)))

    def limit_metric(self, key: str) -> Any:
        def compute() -> Any:
            lim = self.engine.dynamics(self.form()).limit()
            if lim is None:
                return math.inf
            x_star = None if key == "f" else self.x_star()
            return Q.moment_metrics(self.engine.L_bar, self.engine.b_bar, x_star, *lim)[key]
        return self.memo(f"_limit_{key}", compute)


def _to_mpf(a: Any) -> Any:
    from .arith import to_mpf

    out = np.empty(np.shape(a), dtype=object)
    for idx, v in np.ndenumerate(np.asarray(a, dtype=object)):
        out[idx] = to_mpf(v)
    return out


def _theta(ev: Evaluator) -> Any:
    W = ev.W()
    w = ev.arith.eigvalsh(W)
    if not w[0] > 1e-12 * max(abs(w[-1]), 1e-300):
        raise Undefined("(14) has no theta: W_bar is not positive definite")
    return ev.arith.gen_eigvalsh(ev.engine.BLB, W)[-1]


def _rate(ev: Evaluator) -> Any:
    ev.x_star()  # L̄ ≻ 0
    return ev.arith.gen_eigvalsh(ev.W(), ev.engine.L_bar)[0]


def _theta17(ev: Evaluator) -> Any:
    e = ev.engine
    D = np.diag(e.D_bar) if not ev.arith.exact else _diag_exact(e.D_bar)
    right = (e.L_bar @ D + D @ e.L_bar) / 2
    w = ev.arith.eigvalsh(right)
    if not w[0] > 1e-12 * max(abs(w[-1]), 1e-300):
        raise Undefined("(17) has no theta: (L_bar D_bar + D_bar L_bar)/2 is not positive definite")
    return ev.arith.gen_eigvalsh(e.n * (D @ e.L_bar @ D), right)[-1]


def _diag_exact(v: Any) -> Any:
    d = len(v)
    out = np.full((d, d), v[0] * 0, dtype=object)
    for j in range(d):
        out[j, j] = v[j]
    return out


def _eb_minus_i(ev: Evaluator) -> Any:
    diff = ev.engine.EB - ev.arith.eye(ev.engine.d)
    return np.sum(diff * diff)


def _sigma2(ev: Evaluator) -> Any:
    e, xs = ev.engine, ev.x_star()
    return Q.sigma2(e.L_bar, xs, e.EB, e.ECb, e.BLB, e.BmCb(xs), e.CbCb)


def _ms_rate(form: str | None) -> Callable[[Evaluator], Any]:
    return lambda ev: ev.engine.dynamics(ev.form(form)).ms_rate


def _mean_rate(ev: Evaluator) -> Any:
    return ev.engine.dynamics(ev.form()).mean_rate


def _dyn(key: str) -> Callable[[Evaluator, int], Any]:
    return lambda ev, k: ev.metric(key, k)


def _avg(key: str) -> Callable[[Evaluator, int], Any]:
    return lambda ev, K: ev.average(key, K)


def _mean_dist2_inf(ev: Evaluator, k: int) -> Any:
    m, _ = ev.trajectory(k)[k]
    return Q.quad(ev.engine.L_bar, m - ev.x_inf())


def _point_number(attr: str) -> Callable[[Evaluator], Any]:
    def get(ev: Evaluator) -> Any:
        p = ev.engine.point
        v = {"n": p.n, "d": p.d, "K": p.K, "t": p.local_steps}.get(attr)
        if attr == "gamma":
            return ev.engine.gamma
        return ev.arith.number(Fraction(int(v))) if v is not None else None
    return get


_VOCAB: tuple[Quantity, ...] = (
    # -- instance
    Quantity("n", "number of clients", "Setting", "n", _point_number("n")),
    Quantity("d", "model dimension", "Setting", "d", _point_number("d")),
    Quantity("gamma", "step size", "(2), (6)", r"\gamma", _point_number("gamma")),
    Quantity("K", "number of iterations (the horizon of the bounds)", "(15), (30)", "K", _point_number("K")),
    Quantity("t", "local steps of Algorithm 1 (1 for form (2))", "Algorithm 1", "t", _point_number("t")),
    Quantity("lambda_min", "smallest eigenvalue of L_bar", "Setting", r"\lambda_{\min}(\bar L)",
             lambda ev: ev.eig_L()[0]),
    Quantity("lambda_max", "largest eigenvalue of L_bar", "Setting", r"\lambda_{\max}(\bar L)",
             lambda ev: ev.eig_L()[-1]),
    Quantity("kappa", "condition number lambda_max/lambda_min of L_bar", "Setting", r"\kappa(\bar L)",
             lambda ev: ev.eig_L()[-1] / ev.eig_L()[0] if ev.eig_L()[0] > 0 else math.inf),
    Quantity("f_star", "f(x*) = -b_bar^T x*/2", "Setting", r"f^\star",
             lambda ev: -(ev.engine.b_bar @ ev.x_star()) / 2),
    # -- theory constants
    Quantity("theta", "theta* = min theta with E[B L B] <= theta W_bar (skipped when W_bar is not positive "
             "definite)", "(14)", r"\theta^\star", _theta),
    Quantity("rate", "lambda_min(L_bar^{-1/2} W_bar L_bar^{-1/2})", "(16)", r"\lambda_{\min}(\bar L^{-1/2}\bar W"
             r"\bar L^{-1/2})", _rate),
    Quantity("lambda_min_W", "smallest eigenvalue of W_bar = E[L_bar B + B L_bar]/2", "Theorem 1, (19)",
             r"\lambda_{\min}(\bar W)", lambda ev: ev.arith.eigvalsh(ev.W())[0]),
    Quantity("theta_eq17", "the theta of (17): min theta with n D_bar L_bar D_bar <= theta (L_bar D_bar + D_bar "
             "L_bar)/2", "(17)", r"\theta_{(17)}", _theta17),
    Quantity("EB_minus_I_fro2", "||E[B_bar] - I||_F^2", "(23)-(24)", r"\|\mathbb{E}[\bar B] - I\|_F^2", _eb_minus_i),
    Quantity("h_norm2_L", "||h||^2 in the L_bar norm, h = x* - x_inf", "(27), (30)", r"\|h\|^2_{\bar L}",
             lambda ev: Q.quad(ev.engine.L_bar, ev.h())),
    Quantity("h_norm2", "||h||^2 (Euclidean)", "(27)", r"\|h\|^2", lambda ev: ev.h() @ ev.h()),
    Quantity("h_norm2_L2", "||h||^2 in the L_bar^2 norm (as (30) is printed)", "(30)", r"\|h\|^2_{\bar L^2}",
             lambda ev: Q.quad(ev.engine.L_bar @ ev.engine.L_bar, ev.h())),
    Quantity("sigma2", "E||g(x*) - E g(x*)||^2_{L_bar} at x*: Theorem 2's sigma^2 where the variance of g does not "
             "depend on x (under (23))", "Theorem 2", r"\sigma^2", _sigma2),
    Quantity("x_star_norm2_L", "||x*||^2_{L_bar}", "Setting", r"\|x^\star\|^2_{\bar L}",
             lambda ev: Q.quad(ev.engine.L_bar, ev.x_star())),
    Quantity("x_inf_norm2_L", "||x_inf||^2_{L_bar}, x_inf = E[B_bar]^{-1} E[(Cb)bar]", "(28)",
             r"\|x^\infty\|^2_{\bar L}", lambda ev: Q.quad(ev.engine.L_bar, ev.x_inf())),
    # -- dynamics of the instance's form
    Quantity("E_f", "E f(x^k)", "(15), (30)", r"\mathbb{E}\,f(x^{#})", _dyn("f"), iteration=True),
    Quantity("E_dist2", "E||x^k - x*||^2", "Setting", r"\mathbb{E}\,\|x^{#} - x^\star\|^2", _dyn("dist2"),
             iteration=True),
    Quantity("E_dist2_L", "E||x^k - x*||^2_{L_bar}", "(16)", r"\mathbb{E}\,\|x^{#} - x^\star\|^2_{\bar L}",
             _dyn("dist2_L"), iteration=True),
    Quantity("E_grad2", "E||grad f(x^k)||^2", "(24)", r"\mathbb{E}\,\|\nabla f(x^{#})\|^2", _dyn("grad2"),
             iteration=True),
    Quantity("E_grad2_Linv", "E||grad f(x^k)||^2_{L_bar^{-1}}", "(30)",
             r"\mathbb{E}\,\|\nabla f(x^{#})\|^2_{\bar L^{-1}}", _dyn("grad2_Linv"), iteration=True),
    Quantity("E_grad2_LinvWLinv", "E||grad f(x^k)||^2_{L_bar^{-1} W_bar L_bar^{-1}}", "(15)",
             r"\mathbb{E}\,\|\nabla f(x^{#})\|^2_{\bar L^{-1}\bar W\bar L^{-1}}", _dyn("grad2_LinvWLinv"),
             iteration=True),
    Quantity("mean_dist2_L", "||E x^k - x*||^2_{L_bar}", "(28)", r"\|\mathbb{E}[x^{#}] - x^\star\|^2_{\bar L}",
             _dyn("mean_dist2_L"), iteration=True),
    Quantity("mean_dist2_inf_L", "||E x^k - x_inf||^2_{L_bar}", "(28)", r"\|\mathbb{E}[x^{#}] - x^\infty\|^2_{\bar L}",
             _mean_dist2_inf, iteration=True),
    Quantity("avg_grad2_Linv", "(1/K) sum_{k<K} E||grad f(x^k)||^2_{L_bar^{-1}}", "(30)",
             r"\frac{1}{#}\sum_{k<#}\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}}", _avg("grad2_Linv"), iteration=True),
    Quantity("avg_grad2_LinvWLinv", "(1/K) sum_{k<K} E||grad f(x^k)||^2_{L_bar^{-1} W_bar L_bar^{-1}}", "(15)",
             r"\frac{1}{#}\sum_{k<#}\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}\bar W\bar L^{-1}}",
             _avg("grad2_LinvWLinv"), iteration=True),
    Quantity("avg_grad2", "(1/K) sum_{k<K} E||grad f(x^k)||^2", "(24)",
             r"\frac{1}{#}\sum_{k<#}\mathbb{E}\,\|\nabla f(x^k)\|^2", _avg("grad2"), iteration=True),
    # -- limits and rates
    Quantity("lim_f", "lim E f(x^k) (inf where the recursion diverges)", "Theorem 2",
             r"\lim_{k\to\infty}\mathbb{E}\,f(x^k)", lambda ev: ev.limit_metric("f")),
    Quantity("lim_dist2_L", "lim E||x^k - x*||^2_{L_bar} (inf where it diverges)", "Theorem 2",
             r"\lim_{k\to\infty}\mathbb{E}\,\|x^k - x^\star\|^2_{\bar L}", lambda ev: ev.limit_metric("dist2_L")),
    Quantity("lim_grad2_Linv", "lim E||grad f(x^k)||^2_{L_bar^{-1}} (inf where it diverges)", "(30)",
             r"\lim_{k\to\infty}\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}}",
             lambda ev: ev.limit_metric("grad2_Linv")),
    Quantity("ms_rate", "mean-square rate: spectral radius of X -> E[A X A^T] (the instance's form)", "(16)",
             r"\rho_{\mathrm{ms}}", _ms_rate(None)),
    Quantity("mean_rate", "spectral radius of E[A] (the instance's form)", "(28)", r"\rho_{\mathrm{mean}}",
             _mean_rate),
    Quantity("ms_rate_sgd", "mean-square rate of form (2)", "(2)", r"\rho_{\mathrm{ms}}^{(2)}", _ms_rate("sgd")),
    Quantity("ms_rate_ist", "mean-square rate of Algorithm 1 / (6) (with the instance's local steps)", "(6)",
             r"\rho_{\mathrm{ms}}^{(6)}", _ms_rate("ist")),
)

VOCABULARY: dict[str, Quantity] = {q.name: q for q in _VOCAB}


def latex_name(name: str) -> str:
    q = VOCABULARY.get(name)
    if q is not None:
        return q.latex
    return {"min": r"\min", "max": r"\max", "abs": r"\operatorname{abs}", "sqrt": r"\sqrt",
            "log": r"\log", "exp": r"\exp"}.get(name, rf"\mathrm{{{name}}}")


def describe() -> list[tuple[str, str, str]]:
    """(name, meaning, equation) for every entry and function, for ``--vocabulary``."""
    rows = [(q.name + ("(k)" if q.iteration else ""), q.meaning, q.equation) for q in _VOCAB]
    rows += [(f"{f.name}(...)", f.meaning, "") for f in FUNCTIONS.values()]
    return rows
