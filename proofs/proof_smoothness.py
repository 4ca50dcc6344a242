"""Assumption 1 (8) for (12): f is L̄-smooth with equality (the ½ is sharp and L̄ is minimal), for every n and d."""

import numpy as np
import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.smoothness import derive, n_s
from isttheory.derivations.symbolic_sums import sum_normal_form, sum_residual


def test_smoothness_holds():
    D = derive().require()
    assert D.strength == "PROVED" and D.counts()["general"] == 4
    assert [s.role for s in D.steps if s.kind == "numeric"] == ["evidence"]


@pytest.mark.parametrize("half", [sp.Rational(1, 4), sp.Rational(49, 100)])
def test_smaller_constant_is_disproved(half):
    D = derive(half=half)
    assert D.failing("(8) constant c", "disproved")
    with pytest.raises(ProofFailure):
        D.require()


@pytest.mark.parametrize("half", [sp.Rational(3, 4), sp.Integer(1)])
def test_larger_constant_is_loose(half):
    D = derive(half=half).require()
    assert [s.name[:14] for s in D.loose()] == ["(8) constant c"]


def test_mean_weight_agreeing_at_two_clients_is_disproved():
    # 1/(n(n−1)) = 1/n at n = 2, the size the old fixed-size check used
    D = derive(mean_weight=1 / (n_s * (n_s - 1)))
    for step in ("∇f(x) = L̄x − b̄", "minimality"):
        bad = D.failing(step, "disproved")
        assert bad and bad[0].kind == "general" and "{n: 3}" in bad[0].detail, step
    with pytest.raises(ProofFailure):
        D.require()


def test_gradient_sign_mutation_is_disproved():
    assert derive(grad_b=1).failing("∇f(x) = L̄x − b̄", "disproved")


# ---- the normal form of finite sums
i, l, j, k = sp.symbols("i l j k", integer=True)
n, d = sp.symbols("n d", positive=True, integer=True)
a, x, y, P = (sp.IndexedBase(s) for s in "axyP")


def test_normal_form_identities():
    # Σ_{i,l} δ_il a_i a_l = Σ_i a_i²; renaming; Fubini; constants
    assert sum_residual(sp.Sum(sp.KroneckerDelta(i, l) * a[i] * a[l], (l, 1, n), (i, 1, n))
                        - sp.Sum(a[i] ** 2, (i, 1, n)))[0] == sp.zeros(1, 1)
    assert sum_residual(sp.Sum(a[i], (i, 1, n)) - sp.Sum(a[l], (l, 1, n)))[0] == sp.zeros(1, 1)
    assert sum_residual(sp.Sum(P[j, k] * x[j] * y[k], (k, 1, d), (j, 1, d))
                        - sp.Sum(P[k, j] * x[k] * y[j], (j, 1, d), (k, 1, d)))[0] == sp.zeros(1, 1)
    assert sum_residual(sp.Sum(3 * x[j], (i, 1, n), (j, 1, d)) - 3 * n * sp.Sum(x[j], (j, 1, d)))[0] == sp.zeros(1, 1)


def test_normal_form_keeps_non_identities():
    assert sum_normal_form(sp.Sum(a[i], (i, 1, n)) ** 2 - sp.Sum(a[i] ** 2, (i, 1, n)))
    assert sum_normal_form(sp.Sum(P[j, k] * x[j] * y[k], (k, 1, d), (j, 1, d))
                           - sp.Sum(P[j, k] * x[k] * y[j], (k, 1, d), (j, 1, d)))  # P not symmetric


def _expand(expr, sizes, values):
    e = expr.subs(sizes).doit()
    return e.replace(lambda t: isinstance(t, sp.Indexed), lambda t: values[(str(t.base), *t.indices)])


def test_normal_form_preserves_values():
    """The normal form evaluates like the original expression once the sums are expanded at concrete sizes."""
    rng = np.random.default_rng(0)
    expr = (sp.Sum(sp.KroneckerDelta(i, l) * a[i] * x[l] + P[i, j] * x[j] * y[i], (l, 1, n), (j, 1, d), (i, 1, n))
            - sp.Sum(a[l], (l, 1, n)) * sp.Sum(y[k] * x[k], (k, 1, d)))
    nf = sum_normal_form(expr)
    back = sp.Add(*[c * sp.Sum(m, *lims) for (m, lims), c in nf.items()])
    for nn, dd in ((2, 3), (3, 2)):
        values = {("a", q): sp.Integer(int(rng.integers(-5, 6))) for q in range(1, 4)}
        values |= {(s, q): sp.Integer(int(rng.integers(-5, 6))) for s in "xy" for q in range(1, 4)}
        values |= {("P", p, q): sp.Integer(int(rng.integers(-5, 6))) for p in range(1, 4) for q in range(1, 4)}
        sizes = {n: nn, d: dd}
        assert _expand(expr, sizes, values) == _expand(back, sizes, values)
