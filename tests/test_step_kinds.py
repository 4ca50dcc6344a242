"""Step kinds (general / fixed-size / numeric), roles, and the verdicts they allow (issue 13).

A derivation is PROVED only when every decisive step is general; a fixed-size or numeric decisive step
makes it CHECKED; a valid but looser constant is ``loose`` (CHECKED), never ``disproved``; a refutation
counts as certified only when general or exact. These tests build small derivations by hand so each rule
is seen to fail when broken.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from isttheory.claims.proofs import derivation_finding
from isttheory.claims.registry import Verdict
from isttheory.derivations.base import GENERAL, UNSTATED, Derivation, at

n = sp.Symbol("n", positive=True, integer=True)
x = sp.Symbol("x", real=True)


def _general_identity(D: Derivation, **kw: object) -> None:
    D.symbolic("(n + 1)² = n² + 2n + 1", "(0)", (n + 1) ** 2 - (n**2 + 2 * n + 1), reach=GENERAL, **kw)


def test_all_general_decisive_steps_prove() -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    D.numeric("a Monte Carlo run agrees", "(0)", True, "float", role="evidence")  # evidence does not demote
    assert D.holds and D.strength == "PROVED" and D.gfn() == "1/0/1" and not D.weakest()
    f = derivation_finding("toy", D)
    assert f.verdict is Verdict.PROVED and f.numbers["G/F/N"] == "1/0/1" and f.numbers["strength"] == "PROVED"


@pytest.mark.parametrize("weak", ["fixed", "unstated", "numeric-exact", "numeric-float"])
def test_one_weak_decisive_step_makes_it_checked(weak: str) -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    M = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"m{i}{j}", real=True))
    if weak == "fixed":
        D.symbolic("tr(M + Mᵀ) = 2 tr M at d = 2", "(0)", (M + M.T).trace() - 2 * M.trace(), reach=at(d=2))
    elif weak == "unstated":
        D.symbolic("tr(M + Mᵀ) = 2 tr M", "(0)", (M + M.T).trace() - 2 * M.trace())
    else:
        D.numeric("an instance", "(0)", True, "1 = 1", exact=weak == "numeric-exact")
    assert D.holds and D.strength == "CHECKED" and len(D.weakest()) == 1
    f = derivation_finding("toy", D)
    assert f.verdict is Verdict.CHECKED and "not general" in f.message
    assert D.steps[-1].kind != "general"
    if weak == "unstated":
        assert D.steps[-1].sizes == str(UNSTATED) and D.steps[-1].kind == "fixed-size"


def test_at_prints_sizes_and_needs_some() -> None:
    assert str(at(n=3, d=2)) == "n=3, d=2" and str(at(n=(2, 3, 4))) == "n∈{2,3,4}"
    assert at(n=3) != GENERAL and GENERAL.general and not at(n=3).general
    with pytest.raises(ValueError):
        at()


def test_a_looser_valid_constant_is_loose_not_disproved() -> None:
    D = Derivation("toy", ("(0)",))
    assert D.bound("c ≥ 1/2", "(0)", sp.Integer(2), sp.Rational(1, 2), reach=GENERAL)
    assert D.holds and D.steps[-1].verdict == "loose" and "sharp constant is 1/2" in D.steps[-1].detail
    f = derivation_finding("toy", D)
    assert f.verdict is Verdict.CHECKED and "loose" in f.message  # general but loose: not PROVED
    assert not D.bound("c ≥ 1/2", "(0)", sp.Rational(1, 4), sp.Rational(1, 2), reach=GENERAL)
    assert D.steps[-1].verdict == "disproved"
    assert D.bound("c = 1/2", "(0)", sp.Rational(1, 2), sp.Rational(1, 2), reach=GENERAL)
    assert D.steps[-1].verdict == "holds"
    # a step size (valid when at most the sharp one)
    assert D.bound("γ ≤ 1/L", "(0)", sp.Rational(1, 3), sp.Rational(1, 2), valid_if="<=", reach=GENERAL)
    assert D.steps[-1].verdict == "loose"
    assert not D.bound("γ ≤ 1/L", "(0)", sp.Integer(1), sp.Rational(1, 2), valid_if="<=", reach=GENERAL)


def test_a_failed_step_refutes_the_derivation() -> None:
    D = Derivation("toy", ("(0)",))
    D.symbolic("(n + 1)² = n² + 1", "(0)", (n + 1) ** 2 - (n**2 + 1), reach=GENERAL)
    assert D.failing("(n + 1)²", "disproved")
    assert derivation_finding("toy", D).verdict is Verdict.REFUTED


def test_refutation_certified_only_when_general_or_exact() -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    D.numeric("a float counterexample", "(0)", True, "margin −0.3", role="refutation")
    assert D.refutation_certified is False and D.strength == "PROVED"  # refutations do not decide strength
    assert "floating point only" in derivation_finding("toy", D).message
    D2 = Derivation("toy", ("(0)",))
    _general_identity(D2)
    D2.symbolic_false("x² ≥ 1 for all x", "(0)", sp.Ge(x**2, 1), reach=GENERAL)
    assert D2.steps[-1].role == "refutation" and D2.refutation_certified is True


def _remark1_point(c: F) -> object:
    from isttheory.lemmas.points import Point

    # L = A Aᵀ = [[1, c], [c, c² + 9/100]]: a = 1, b = c² + 0.09; Remark 1 fails iff c > 2ab/(a + b)
    A = np.array([[F(1), F(0)], [c, F(3, 10)]], dtype=object)
    z = np.array([F(0), F(0)], dtype=object)
    return Point("homogeneous", np.stack([A, A]), z, np.stack([z, z]), z, "perm", gamma=F(1, 2))


def test_counterexample_is_certified_exactly_or_not_at_all() -> None:
    D = Derivation("toy", ("(19)",))
    assert D.counterexample("W̄ not PSD", "(19)", "remark1-w-psd", _remark1_point(F(19, 10)))  # type: ignore[arg-type]
    s = D.steps[-1]
    assert s.kind == "numeric" and s.exact and s.role == "refutation" and "lhs − rhs = -0.82" in s.detail
    assert D.refutation_certified is True
    # c = 1/2 < 2ab/(a + b): W̄ is PSD there, so no counterexample and the step fails
    assert not D.counterexample("W̄ not PSD", "(19)", "remark1-w-psd", _remark1_point(F(1, 2)))  # type: ignore[arg-type]
    assert not D.holds and "not a certified counterexample" in D.steps[-1].detail


def test_table_and_summary_show_reach_and_counts() -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    D.symbolic("1 = 1 at n = 3", "(0)", sp.Integer(0), reach=at(n=3))
    D.numeric("instance", "(0)", True, "ok", exact=True)
    assert "G/F/N 1/1/1" in D.summary() and D.summary().endswith("→ CHECKED")
    t = D.table()
    assert "fixed n=3" in t and "numeric exact" in t and "general" in t


def test_verify_prints_gfn_per_derivation_and_reports_carry_it(tmp_path: object) -> None:
    """``isttheory verify`` prints a derivations table (G/F/N, PROVED/CHECKED/CORRECTED (…)); the Markdown
    report and the JSON carry the same counts."""
    import json
    from pathlib import Path

    from tests.cli_harness import run

    out = Path(str(tmp_path))
    r = run("verify", "--quiet", "--only", "proof:smoothness", "--only", "proof:theorem2", "--out", "rep", cwd=out)
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("derivations —", 1)[1].split("\n\n", 1)[0]
    for name in ("smoothness", "theorem2"):
        row = next(line for line in table.splitlines() if line.startswith(name))
        assert any(v in row for v in ("PROVED", "CHECKED", "CORRECTED (PROVED)", "CORRECTED (CHECKED)"))
        assert any(part.count("/") == 2 and part.replace("/", "").isdigit() for part in row.split())
    assert "CORRECTED (" in table  # theorem2 says which the corrected statement is
    md = (out / "rep" / "report.md").read_text()
    assert "## Derivations" in md and "| smoothness |" in md
    j = json.loads(run("verify", "--json", "--only", "proof:smoothness", cwd=out).stdout)
    f = j["findings"][0]
    g, fx, nm = map(int, f["numbers"]["G/F/N"].split("/"))
    assert (g, fx, nm) == (f["numbers"]["general"], f["numbers"]["fixed"], f["numbers"]["numeric"])
    assert f["verdict"] == ("PROVED" if f["numbers"]["strength"] == "PROVED" else "CHECKED")


def test_an_exact_witness_proves_an_existence_claim_a_float_one_does_not() -> None:
    D = Derivation("toy", ("(35)",))
    _general_identity(D)
    D.numeric("one step moves away from x* on this instance", "(35)", True, "exact: 1/4 > 0", exact=True,
              role="witness")
    assert D.strength == "PROVED"
    D.numeric("and on this float instance", "(35)", True, "0.25 > 0", role="witness")
    assert D.strength == "CHECKED" and [s.name for s in D.weakest()] == ["and on this float instance"]


def test_strength_says_fails_when_a_step_fails_and_checked_when_loose() -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    D.symbolic("(n + 1)² = n² + 1", "(0)", (n + 1) ** 2 - (n**2 + 1), reach=GENERAL)
    assert D.strength == "FAILS" and D.summary().endswith("→ FAILS")
    D2 = Derivation("toy", ("(0)",))
    _general_identity(D2)
    D2.bound("c ≥ 1/2", "(0)", sp.Integer(1), sp.Rational(1, 2), reach=GENERAL)
    assert D2.holds and D2.strength == "CHECKED"


def test_premises_are_listed_in_the_table_and_the_finding() -> None:
    D = Derivation("toy", ("(0)",))
    _general_identity(D)
    D.premise("B̄ = n·Diag(v) on every draw (definition of Perm-1)")
    assert D.strength == "PROVED" and "1 premise(s)" in D.summary()
    assert "premise: B̄ = n·Diag(v)" in D.table()
    f = derivation_finding("toy", D)
    assert "premises: B̄ = n·Diag(v)" in f.message and f.numbers["premises"] == 1
