"""Lemmas as data: the statement language, the vocabulary (float against exact against the engines),
the search with certified counterexamples, the paper's lemma files with mutation tests, and the CLI."""

from __future__ import annotations

import json
import math
import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from isttheory import generators
from isttheory.cli import main
from isttheory.constants import rate, theta_eigen
from isttheory.dynamics import ExactDynamics
from isttheory.errors import LemmaError
from isttheory.io import read_problem
from isttheory.lemmas import Lemma, Outcome, evaluate_point, paper_lemma_path, paper_lemma_paths
from isttheory.lemmas.engines import ExactEngine, FloatEngine
from isttheory.lemmas.expr import parse_comparison
from isttheory.lemmas.points import Point, factor_of
from isttheory.lemmas.vocabulary import VOCABULARY, Evaluator
from isttheory.moments import SketchMoments
from isttheory.simulate import simulate

# -------------------------------------------------------------------------------- language


@pytest.mark.parametrize("text", [
    "__import__('os').system('x') <= 1", "gamma.real <= 1", "(lambda: 1)() <= 1", "gamma[0] <= 1",
    "'a' <= 1", "gamma if gamma else 1 <= 2", "f(x=1) <= 1", "gamma <= 1 <= 2", "gamma", "gamma @ gamma <= 1",
    "[gamma] <= 1", "gamma <= True"])
def test_parser_refuses_everything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(LemmaError):
        Lemma.create("x", text)


@pytest.mark.parametrize("statement, message", [
    ("nosuch <= 1", "unknown name"), ("E_f <= 1", "needs an iteration"), ("theta(K) <= 1", "not a function"),
    ("E_f(gamma) <= 1", "may use only"), ("E_f(1, 2) <= 1", "one iteration"), ("min(gamma) <= 1", "takes 2"),
    ("system(1) <= 1", "unknown function")])
def test_statements_name_only_the_vocabulary(statement: str, message: str) -> None:
    with pytest.raises(LemmaError, match=message):
        Lemma.create("x", statement)


@pytest.mark.parametrize("field, value, message", [
    ("id", "Bad_Id", "lowercase"), ("expect", "maybe", "expect"), ("tolerance", {"rtol": -1}, "tolerance"),
    ("space", {"n": {"min": 3, "max": 2}}, "min <= max"), ("space", {"sketch": ["nope"]}, "sketch"),
    ("space", {"problem": ["other"]}, "problem"), ("space", {"gamma": {"min": 0, "max": 1, "log": True}}, "positive"),
    ("space", {"d": "gamma"}, "only n"), ("space", {"n": 50}, "at most"), ("space", {"wat": 1}, "unknown key"),
    ("space", {"form": ["adam"]}, "form"), ("assume", ["gamma"], "comparison"), ("typo", 1, "unknown key")])
def test_malformed_lemmas_get_one_line(field: str, value: object, message: str) -> None:
    data: dict[str, object] = {"id": "ok", "statement": "gamma <= 1", field: value}
    with pytest.raises(LemmaError, match=message) as info:
        Lemma.from_dict(data)
    assert "\n" not in str(info.value)


def test_decimal_constants_are_exact() -> None:
    c = parse_comparison("gamma <= 0.1")
    assert c.rhs.value == Fraction(1, 10)  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------- vocabulary


def _point(sketch: str, form: str = "sgd", n: int = 3, d: int = 3, t: int = 1, gamma: float = 0.3,
           K: int = 4, seed: int = 1) -> Point:
    pr = generators.heterogeneous(n, d, 0.5, seed=seed)
    A, rho = factor_of(np.asarray(pr.L))
    x0 = np.random.default_rng(seed).standard_normal(d)
    return Point("heterogeneous", A, rho, np.asarray(pr.b), x0, sketch, form, t, gamma, K)


CASES = [("perm", "sgd", 3, 3, 1), ("perm", "ist", 2, 4, 2), ("precond-perm", "sgd", 3, 3, 1),
         ("precond-perm:printed", "sgd", 3, 3, 1), ("rand:2", "ist", 2, 3, 2), ("scaled-perm", "sgd", 3, 3, 1),
         ("identity", "sgd", 2, 3, 1), ("perm-blocks", "sgd", 2, 3, 1)]


@pytest.mark.parametrize("sketch, form, n, d, t", CASES)
def test_float_engine_equals_exact_enumeration_on_every_quantity(sketch: str, form: str, n: int, d: int,
                                                                  t: int) -> None:
    """Closed forms (float) against support enumeration in exact arithmetic: relative 1e-9 (a few hundred
    ulps of the float engine's solves and eigen-solvers at these sizes)."""
    p = _point(sketch, form, n, d, t)
    fe, xe = Evaluator(FloatEngine(p)), Evaluator(ExactEngine(p))
    for name, q in VOCABULARY.items():
        a, b = (q.compute(e, 3) if q.iteration else e.value(name) for e in (fe, xe))
        if math.isinf(float(a)):
            assert math.isinf(float(b)), name
            continue
        assert float(b) == pytest.approx(float(a), rel=1e-9, abs=1e-12), name


def test_vocabulary_matches_the_engines_it_names() -> None:
    """theta and rate against constants.py, h and sigma2 against SketchMoments, E_f(k) and the limit against
    ExactDynamics: one home per formula means these are the same numbers."""
    p = _point("perm", gamma=0.02)
    ev = Evaluator(FloatEngine(p))
    pr, sk = ev.engine.problem, ev.engine.sketch  # type: ignore[attr-defined]
    mo = SketchMoments(pr, sk)
    assert ev.value("theta") == pytest.approx(theta_eigen(mo.W, mo.BLB)[0], rel=1e-10)
    assert ev.value("rate") == pytest.approx(rate(mo.W, pr.L_bar), rel=1e-10)
    h = mo.h
    assert ev.value("h_norm2_L") == pytest.approx(float(h @ pr.L_bar @ h), rel=1e-10)
    assert ev.value("sigma2") == pytest.approx(mo.sigma2_at_x_star, rel=1e-10)
    dyn = ExactDynamics(pr, sk, 0.02, "sgd", 1, p.x0)
    run = dyn.run(4)
    assert VOCABULARY["E_f"].compute(ev, 4) == pytest.approx(run.metrics["f"][4], rel=1e-12)
    lim = dyn.limit_metrics
    assert lim is not None and ev.value("lim_grad2_Linv") == pytest.approx(lim["grad2_Linv"], rel=1e-9)


def test_dynamics_quantity_agrees_with_monte_carlo() -> None:
    """E_dist2_L(K) against the simulator's mean over 4000 runs: |z| < 5 (a false alarm has probability
    below 1e-6 for a t statistic with 3999 degrees of freedom)."""
    p = _point("perm", gamma=0.05, K=5)
    ev = Evaluator(FloatEngine(p))
    exact = VOCABULARY["E_dist2_L"].compute(ev, 5)
    res = simulate(ev.engine.problem, ev.engine.sketch, 0.05, 5, runs=4000, seed=3,  # type: ignore[attr-defined]
                   x0=p.x0)
    m = res.metrics["dist2_L"]
    assert m.sem is not None
    assert abs(m.mean[-1] - exact) < 5 * m.sem[-1]


# -------------------------------------------------------------------------------- search and certification


def _paper(name: str) -> Lemma:
    return Lemma.from_toml(paper_lemma_path(name))


@pytest.mark.parametrize("name", ["thm2-printed", "eq17-printed", "precond-scale-printed", "remark1-w-psd"])
def test_printed_errors_are_refuted_and_certified(name: str, tmp_path: Path) -> None:
    """No hand-picked instance: the space is the paper's hypotheses."""
    res = _paper(name).check(max_instances=300, seed=0, out=tmp_path)
    assert res.verdict is Outcome.REFUTED and res.matches_expect
    cx = res.counterexample
    assert cx is not None and cx.certified
    # the files: a problem isttheory exact accepts, holding exactly the certified instance
    pf = read_problem(cx.file or "")
    assert np.array_equal(pf.problem.L, cx.point.float_L())
    meta = json.loads((tmp_path / "counterexample.meta.json").read_text())
    assert meta["file_holds_the_exact_instance"] and meta["certified"]
    # recomputed from the file alone, the exact engine gives the same margin
    again = evaluate_point(_paper(name), cx.point, exact=True)
    assert again.status == "fails" and again.margin == cx.margin


@pytest.mark.parametrize("name", ["thm2-corrected", "thm2-paper-l-norm", "eq17-necessary", "precond-scale",
                                  "thm2-limit", "eq28-mean", "identity-theta", "sec4-homogeneous-sigma",
                                  "eq25-one-step", "eq24", "thm1-eq15", "thm1-eq16", "eq17-homogeneous"])
def test_true_paper_lemmas_survive(name: str) -> None:
    res = _paper(name).check(max_instances=60, seed=0)
    assert res.verdict is Outcome.SURVIVED and res.matches_expect, res.summary()
    assert res.worst is None or res.worst.ratio <= 1 + 1e-6


def test_corrected_theorem2_is_tight_at_gamma_one() -> None:
    lem = _paper("thm2-corrected")
    ev = evaluate_point(lem, _point("precond-perm", gamma=1.0, K=7), exact=True)
    assert ev.status == "holds" and abs(float(ev.lhs) / float(ev.rhs) - 1) < 1e-30


MUTATIONS = [  # (lemma file, constant, mutated constant): each must be REFUTED by the search
    ("thm2-corrected", "2*(E_f(0)", "1.9*(E_f(0)"), ("thm2-corrected", "+ h_norm2_L", "+ 0.9*h_norm2_L"),
    ("thm2-paper-l-norm", "(4 + 5*gamma)*h_norm2_L", "0.5*h_norm2_L"), ("thm1-eq15", "2*(E_f(0)", "1.8*(E_f(0)"),
    ("thm1-eq16", "gamma*rate", "3*gamma*rate"), ("eq28-mean", "(2*K)", "(2*K+1)"),
    ("thm2-limit", "(2 - gamma)", "(2.1 - gamma)"), ("identity-theta", "lambda_max", "1.01*lambda_max"),
    ("eq17-necessary", "theta_eq17", "1.05*theta_eq17"), ("eq24", "2*lambda_max", "0.5*lambda_max"),
    ("sec4-homogeneous-sigma", "1e-12 *", "-1e-12 *"), ("eq25-one-step", "1e-12 *", "-1e-12 *"),
    ("eq17-homogeneous", "theta ==", "1.001*theta =="), ("precond-scale", "== 0", "== 1")]


@pytest.mark.parametrize("name, old, new", MUTATIONS)
def test_a_perturbed_constant_is_refuted(name: str, old: str, new: str) -> None:
    data = tomllib.loads((paper_lemma_path(name)).read_text())
    assert old in data["statement"]
    data["statement"] = data["statement"].replace(old, new, 1)
    data["id"] = f"{name}-mutated"
    res = Lemma.from_dict(data).check(max_instances=150, seed=0)
    assert res.verdict is Outcome.REFUTED and res.counterexample is not None and res.counterexample.certified


def test_every_paper_lemma_file_has_a_test() -> None:
    tested = {"thm2-printed", "eq17-printed", "precond-scale-printed", "remark1-w-psd"} | {m[0] for m in MUTATIONS}
    assert {p.stem.removeprefix("lemma_") for p in paper_lemma_paths()} <= tested


def test_the_search_is_deterministic() -> None:
    lem = _paper("thm2-corrected")
    a, b = (lem.check(max_instances=25, seed=5).to_dict() for _ in range(2))
    a.pop("seconds")
    b.pop("seconds")
    assert a == b


def test_inapplicable_when_no_instance_meets_the_hypotheses() -> None:
    lem = Lemma.create("never", "gamma <= 1", assume=["gamma > 2"], space={"gamma": {"min": 0.1, "max": 1.0}})
    res = lem.check(max_instances=10)
    assert res.verdict is Outcome.INAPPLICABLE and res.skipped == 10 and res.matches_expect


def test_hypotheses_hold_exactly_without_tolerance() -> None:
    lem = Lemma.create("strict", "gamma <= 0", assume=["gamma < 1"], space={"gamma": [1.0], "sketch": ["perm"]})
    assert lem.check(max_instances=5).verdict is Outcome.INAPPLICABLE


# -------------------------------------------------------------------------------- CLI


def _lemma_file(tmp_path: Path, statement: str, expect: str | None = None) -> Path:
    p = tmp_path / "my.toml"
    lines = ['id = "my-lemma"', f'statement = "{statement}"'] + ([f'expect = "{expect}"'] if expect else [])
    lines += ["[space]", 'sketch = ["precond-perm"]', "n = { min = 2, max = 3 }"]
    p.write_text("\n".join(lines) + "\n")
    return p


def test_cli_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _lemma_file(tmp_path, "lim_grad2_Linv <= h_norm2_L", expect="holds")
    code = main(["check", str(f), "--json", "--max-instances", "40", "--out", str(tmp_path / "o")])
    out = json.loads(capsys.readouterr().out)
    row = out["lemmas"][0]
    assert code == 1 and row["verdict"] == "REFUTED" and row["counterexample"]["certified"]
    assert set(row) >= {"id", "verdict", "instances_tried", "skipped", "seconds", "counterexample", "worst"}
    assert set(row["counterexample"]) >= {"file", "n", "d", "sketch", "form", "gamma", "K", "lhs", "rhs",
                                          "exact_margin", "certified"}
    assert Path(row["counterexample"]["file"]).is_file()
    assert main(["check", str(f), "--max-instances", "40", "--out", str(tmp_path / "o")]) == 1
    f2 = _lemma_file(tmp_path, "lim_grad2_Linv >= h_norm2_L")
    assert main(["check", str(f2), "--max-instances", "10", "--out", str(tmp_path / "p")]) == 0


@pytest.mark.parametrize("content", ["id = 'x'\nstatement = 'nosuch <= 1'\n", "id = 'x'\n", "not toml [[[",
                                     "id = 'x'\nstatement = 'gamma <= 1'\n[space]\nn = {min = 5, max = 1}\n"])
def test_cli_bad_lemma_is_one_line_and_exit_2(tmp_path: Path, content: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(content)
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("isttheory: error:") and err.count("\n") == 1


def test_cli_vocabulary_lists_every_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--vocabulary"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in VOCABULARY)


@pytest.mark.parametrize("text, fragment", [
    ("gamma*(1 + h_norm2_L) <= 2", r"\gamma\,\left(1 + "), ("-(gamma + 1) <= h_norm2_L", r"- \left(\gamma + 1\right)"),
    ("(gamma + 1)**2 <= h_norm2_L", r"\left(\gamma + 1\right)^{2}"),
    ("avg_grad2_Linv(K) <= 2*(E_f(0) - E_f(K))/(gamma*K)", r"\frac{2\,\left(\mathbb{E}\,f(x^{0}) - ")])
def test_latex_keeps_the_brackets_the_statement_needs(text: str, fragment: str) -> None:
    assert fragment in Lemma.create("x", text).latex()


def test_search_finds_the_corrected_theorem2_tight_at_gamma_one() -> None:
    """ERRATA thm2-constants: the corrected (30) is attained at γ = 1; the worst ratio the search reports is 1."""
    res = _paper("thm2-corrected").check(max_instances=60, seed=0)
    assert res.worst is not None and res.worst.ratio == pytest.approx(1.0, abs=1e-9)
    assert float(res.worst.point.gamma) == 1.0


def test_a_singular_client_matrix_is_not_certified_for_the_printed_scale() -> None:
    """The printed (23) needs every L_i ≻ 0; the exact engine tests it exactly (an mpmath eigenvalue of a
    singular rational matrix can come out as +1e-62), so such an instance is skipped, never certified."""
    A = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [-1.5, 0.0]]])  # L_2 = [[1/4, -3/4], [-3/4, 9/4]]
    p = Point("random", A, np.zeros(2), np.ones((2, 2)), np.ones(2), "precond-perm:printed", gamma=1.0)
    ev = evaluate_point(_paper("precond-scale-printed"), p, exact=True)
    assert ev.status == "skip" and "positive definite" in ev.reason


def test_the_paper_page_lists_every_paper_lemma_file() -> None:
    """docs/paper.md is the repository's own restatement; its lemma table stays in step with the files."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "paper.md").read_text()
    for p in paper_lemma_paths():
        statement = tomllib.loads(p.read_text())["statement"]
        assert f"`{p.name}`" in text and f"`{statement}`" in text, p.name


EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "lemmas"


def test_the_readme_example_lemmas() -> None:
    """The README's lemma written from scratch is refuted (Algorithm 1 can be slower than (2) for Rand-2), and
    the 'limit with γσ²/2' conjecture fails as it expects; with the exact constant 2 − γ it survives."""
    rand2 = Lemma.from_toml(EXAMPLES / "lemma_rand2_merge.toml").check(max_instances=40, seed=0)
    assert rand2.verdict is Outcome.REFUTED and rand2.counterexample is not None and rand2.counterexample.certified
    half = Lemma.from_toml(EXAMPLES / "lemma_thm2_limit_upper.toml")
    assert half.check(max_instances=40, seed=0).verdict is Outcome.REFUTED
    data = tomllib.loads((EXAMPLES / "lemma_thm2_limit_upper.toml").read_text())
    data["statement"] = data["statement"].replace("gamma*sigma2/2", "gamma*sigma2/(2 - gamma)")
    data["tolerance"] = {"rtol": 1e-7}
    assert Lemma.from_dict(data).check(max_instances=40, seed=0).verdict is Outcome.SURVIVED


# -------------------------------------------------------------------------------- from the adversarial review


def test_round_off_in_mpmath_is_never_certified() -> None:
    """The corrected (30) with no tolerance holds with equality at γ = 1: a 3e-61 'violation' of 50-digit
    arithmetic must not be certified (precision doubling shrinks it)."""
    data = tomllib.loads((paper_lemma_path("thm2-corrected")).read_text())
    data["tolerance"] = {"rtol": 0.0}
    for seed in (0, 1):
        assert Lemma.from_dict(data).check(max_instances=40, seed=seed).verdict is Outcome.SURVIVED
    zero = Lemma.create("one-step", "E_dist2_L(1) == 0", space={"problem": ["interpolation"], "sketch":
                        ["precond-perm"], "gamma": [1.0], "n": {"min": 2, "max": 3}})
    assert zero.check(max_instances=20).verdict is Outcome.SURVIVED


def test_division_by_zero_and_infinities_are_undefined_not_certified() -> None:
    res = Lemma.create("pole", "1/(3*gamma - 3/10) <= 0", space={"sketch": ["perm"], "gamma": {"min": 0.01,
                       "max": 1.0}}).check(max_instances=30)
    cx = res.counterexample
    assert cx is not None and math.isfinite(float(cx.lhs)) and cx.point.gamma != Fraction(1, 10)
    taut = Lemma.create("taut", "lim_dist2_L < lim_dist2_L + 1", space={"sketch": ["perm"], "gamma":
                        {"min": 0.5, "max": 3.0}})
    assert taut.check(max_instances=30).verdict is not Outcome.REFUTED
    neg = Lemma.create("neg", "(0 - 2)**0.5 <= 1", space={"sketch": ["perm"]})
    assert neg.check(max_instances=5).verdict is Outcome.INAPPLICABLE


def test_verify_problem_certifies_on_the_given_matrices() -> None:
    from isttheory.lemmas.search import check_on_problem

    L = np.stack([2 * np.eye(2)] * 2)
    lem = Lemma.create("f0", "E_f(0) <= 2", tolerance={"rtol": 0.0}, space={"sketch": ["perm"], "x0": "ones",
                       "n": [2], "d": [2]})
    res = check_on_problem(lem, L, np.zeros((2, 2)), np.ones(2), max_instances=5)
    assert res.verdict is Outcome.SURVIVED  # f(1, 1) = 2 exactly on L = 2I; a float square root made it 2 + 1e-16


@pytest.mark.parametrize("space, statement, message", [
    ({"d": "n/0"}, "gamma <= 1", "divides by zero"), ({"d": "n**1000000000000"}, "gamma <= 1", "powers"),
    ({"d": "n**0.5"}, "gamma <= 1", "powers"), ({"local_steps": {"min": 100000000, "max": 1000000000}},
                                                   "gamma <= 1", "at most"),
    ({"K": {"min": 1, "max": 1000000000}}, "gamma <= 1", "at most"), ({}, "-" * 1990 + "gamma <= 1", "nested")])
def test_hostile_lemmas_are_one_line_errors(space: dict[str, object], statement: str, message: str) -> None:
    with pytest.raises(LemmaError, match=message):
        Lemma.create("hostile", statement, space=space)


def test_huge_values_do_not_hang_or_crash(tmp_path: Path) -> None:
    tiny = Lemma.create("tiny", "theta >= (1/2)**(10**10)", space={"sketch": ["perm"], "n": [2], "d": [2]})
    assert tiny.check(max_instances=3).verdict is Outcome.SURVIVED
    long = Lemma.create("long", "E_dist2_L(3000) <= 0", space={"sketch": ["perm"], "problem": ["heterogeneous"],
                        "n": [2], "d": [2], "gamma": [0.5]})
    res = long.check(max_instances=2, out=tmp_path)
    assert res.verdict is Outcome.REFUTED and res.to_dict()["counterexample"]["exact_margin"]


def test_cli_out_that_is_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _lemma_file(tmp_path, "gamma <= 2")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["check", str(f), "--out", str(blocker), "--max-instances", "2"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_verify_says_inconclusive_when_float_fails_but_nothing_is_certified() -> None:
    from isttheory.claims import Settings
    from isttheory.claims.lemmas import _verifier
    from isttheory.claims.registry import Verdict

    big = Lemma.create("big", "lim_grad2_Linv <= h_norm2_L", space={"sketch": ["precond-perm"], "n": [7], "d": "n",
                       "problem": ["heterogeneous"]})
    f = next(iter(_verifier(big)(None, Settings(fast=True))))  # type: ignore[arg-type]
    assert f.verdict is Verdict.INCONCLUSIVE and "could not be certified" in f.message
