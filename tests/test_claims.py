"""The claims registry and the foundation claims, including mutation tests: each
verifier must refute a deliberately wrong constant or flag."""

from __future__ import annotations

import pytest

from isttheory import cli
from isttheory.claims import Claim, Finding, Settings, Verdict, claims, default_instances, get, register, unregister
from isttheory.claims.instances import Instance
from isttheory.generators import heterogeneous
from isttheory.sketches import Permutation, RandQ
from isttheory.verify import run_verify

INST = Instance("t", heterogeneous(2, 4, 0.5, seed=0))


def _verdicts(claim_id, inst=INST):
    return {f.variant: f.verdict for f in get(claim_id).run(inst, Settings())}


def test_foundation_claims_registered_and_verified_on_defaults():
    ids = {c.id for c in claims()}
    assert {"def1-unbiased", "def1-omega-randq", "perfect-reconstruction"} <= ids
    run = run_verify(default_instances(), Settings(fast=True, seed=0))
    assert run.summary()["VERIFIED"] >= 60
    assert run.unexpected == []


def test_mutation_wrong_omega_is_refuted(monkeypatch):
    monkeypatch.setattr(RandQ, "omega_stated", property(lambda self: self.d / self.q))  # ω off by one
    v = _verdicts("def1-omega-randq")
    assert v["rand:1"] is Verdict.REFUTED and v["rand:2"] is Verdict.REFUTED


def test_mutation_biased_perm_is_refuted(monkeypatch):
    """Perm-q with scale n + 1 instead of n: E[C_i] = (n+1)/n I."""
    orig = Permutation.__init__

    def wrong_scale(self, n, d, scale=None):
        orig(self, n, d, scale=n + 1 if scale is None else scale)

    monkeypatch.setattr(Permutation, "__init__", wrong_scale)
    f = next(f for f in get("def1-unbiased").run(INST, Settings()) if f.variant.startswith("scaled-perm:3"))
    assert f.verdict is Verdict.REFUTED
    assert f.numbers["enumeration_max_dev"] == pytest.approx(0.5)
    assert f.numbers["mc_max_z"] > f.numbers["mc_threshold"]


def test_mutation_wrong_reconstruction_flag_is_refuted(monkeypatch):
    monkeypatch.setattr(Permutation, "perfect_reconstruction", property(lambda self: False))
    assert _verdicts("perfect-reconstruction")["perm"] is Verdict.REFUTED


def test_user_claim_registration_and_exit_codes(capsys):
    def wrong(inst, settings):
        yield Finding(Verdict.REFUTED, {"x": 1.0}, "exact", variant="v")

    register(Claim(id="test-user-claim", equations=("(U1)",), statement="x", verify=wrong))
    try:
        with pytest.raises(ValueError):
            register(Claim(id="test-user-claim", equations=(), statement="", verify=wrong))
        assert cli.main(["verify", "--quiet"]) == 1
        assert "UNEXPECTED: test-user-claim" in capsys.readouterr().out
    finally:
        unregister("test-user-claim")
    assert cli.main(["verify", "--quiet"]) == 0


def test_verifier_bug_is_reported_and_fails_verify(capsys):
    def broken(inst, settings):
        raise ZeroDivisionError("boom")

    register(Claim(id="test-broken", equations=(), statement="", verify=broken))
    try:
        fs = get("test-broken").run(INST, Settings())
        assert fs[0].verdict is Verdict.INCONCLUSIVE and fs[0].errored
        assert cli.main(["verify", "--quiet"]) == 1
    finally:
        unregister("test-broken")


def test_known_refuted_variant_does_not_fail():
    c = Claim(id="k", equations=(), statement="", verify=lambda i, s: [], known_refuted=frozenset({"v"}))
    assert not c.unexpected(Finding(Verdict.REFUTED, variant="v"))
    assert c.unexpected(Finding(Verdict.REFUTED, variant="w"))
    assert not c.unexpected(Finding(Verdict.CORRECTED, variant="w"))


def test_untrusted_solver_makes_condition14_inconclusive(monkeypatch):
    """A solver that fails can never produce VERIFIED."""
    from isttheory.claims import theorem1 as t1
    from isttheory.constants import SDPResult, SolveStatus

    monkeypatch.setattr(t1, "theta_star", lambda W, Q: SDPResult(None, SolveStatus.FAILED, "CVXOPT",
                                                                 1.0, None))
    fs = get("thm1-condition14").run(INST, Settings())
    assert fs and all(f.verdict is Verdict.INCONCLUSIVE for f in fs)
    monkeypatch.setattr(t1, "theta_star", lambda W, Q: SDPResult(2.0, SolveStatus.OPTIMAL, "CVXOPT", 1.0, False))
    fs = get("thm1-condition14").run(INST, Settings())
    assert all(f.verdict is Verdict.INCONCLUSIVE for f in fs)  # disagreeing with the eigen answer


def test_paper_claims_roll_up():
    from isttheory.claims.catalogue import PAPER_CLAIMS, roll_up

    run = run_verify(default_instances()[:5], Settings(fast=True, seed=0))
    rows = {r["id"]: r for r in roll_up(run.findings)}
    lemma_rows = {c.id for c, _ in run.findings if c.id.startswith("lemma:")}
    network_rows = {"network-bridge", "network-local-model"}  # issue 18's findings: not paper claims
    assert set(rows) == {pc.id for pc in PAPER_CLAIMS} | lemma_rows | network_rows  # each gets a row of its own
    assert len(PAPER_CLAIMS) == 17 and len(lemma_rows) == 17
    assert rows["network-bridge"]["verdict"] == "VERIFIED"
    assert rows["network-local-model"]["verdict"] == "INCONCLUSIVE"  # fast: it runs under verify --full
    assert rows["lemma:thm2-printed"]["verdict"] == "REFUTED (expected)"
    assert rows["lemma:thm2-corrected"]["verdict"] == "SURVIVED"
    assert rows["theorem2"]["verdict"] == "CORRECTED"
    # the corrected statement's strength is its derivation's, not lowered by the Monte Carlo findings beside it
    proof = next(f for c, f in run.findings if c.id == "proof:theorem2")
    assert rows["theorem2"]["strength"] == proof.numbers["corrected"]
    # (14) fails on its instance, as Remark 1 claims; the row is PROVED only if its derivation is
    assert rows["remark1"]["verdict"] in ("PROVED", "CHECKED")
    assert rows["remark1"]["verdict"] == rows["remark1"]["strength"]
    assert rows["theorem1"]["findings"].get("REFUTED (expected)") == 1
    assert all(r["verdict"] != "REFUTED" for r in rows.values())


def test_plugin_claim_gets_its_own_row_in_the_per_claim_table():
    from isttheory.claims.catalogue import roll_up

    def check(inst, settings):
        return [Finding(Verdict.VERIFIED, {"x": 1.0}, method="exact")]

    register(Claim(id="test-own-row", equations=("(A1)",), statement="x", verify=check))
    try:
        run = run_verify(default_instances()[:1], Settings(fast=True, seed=0), only={"test-own-row"})
        rows = {r["id"]: r for r in roll_up(run.findings)}
        assert rows["test-own-row"]["verdict"] == "VERIFIED" and rows["test-own-row"]["findings"] == {"VERIFIED": 1}
    finally:
        unregister("test-own-row")


def test_plugin_example_registers_and_verifies(capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "my_lemma.py"
    try:
        assert cli.main(["verify", "--quiet", "--plugin", str(example)]) == 0
        out = capsys.readouterr().out
        assert "my-one-step-contrast" in out and "UNEXPECTED" not in out
        assert [f.verdict for f in get("my-one-step-contrast").run(default_instances()[3], Settings())] == \
            [Verdict.VERIFIED]
    finally:
        unregister("my-one-step-contrast")


def test_verify_only_runs_the_named_claims(capsys):
    import json

    assert cli.main(["verify", "--quiet", "--json", "--only", "lemma:thm2-corrected"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {f["claim"] for f in out["findings"]} == {"lemma:thm2-corrected"}
    assert [r["id"] for r in out["paper_claims"]] == ["lemma:thm2-corrected"]
    assert cli.main(["verify", "--quiet", "--only", "no-such-claim"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_verify_problem_checks_lemmas_on_that_problem_or_says_why_not(tmp_path, capsys):
    import json

    from isttheory.io import write_problem

    f = tmp_path / "het.json"
    write_problem(f, heterogeneous(4, 4, 0.5, seed=9))
    code = cli.main(["verify", "--quiet", "--json", "--problem", str(f), "--only", "lemma:thm2-corrected",
                     "--only", "lemma:eq17-homogeneous", "--only", "mc-bounds"])
    out = json.loads(capsys.readouterr().out)
    by = {x["claim"]: x for x in out["findings"]}
    assert code == 0
    assert by["lemma:thm2-corrected"]["verdict"] == "SURVIVED" and by["lemma:thm2-corrected"]["instance"] == str(f)
    assert by["lemma:eq17-homogeneous"]["verdict"] == "INCONCLUSIVE"
    assert "stated for homogeneous" in by["lemma:eq17-homogeneous"]["message"]
    mc = {x["variant"]: x for x in out["findings"] if x["claim"] == "mc-bounds"}
    assert mc["(30)"]["verdict"] == "CORRECTED" and mc["(30)"]["instance"] == str(f)  # run on the problem itself
    assert mc["(28)"]["verdict"] == "VERIFIED"
    assert mc["(16)"]["verdict"] == "INCONCLUSIVE" and "needs interpolation" in mc["(16)"]["message"]
    assert "homogeneous" in mc["(31)"]["message"]


def test_verify_table_shows_the_reason_of_inconclusive_and_unexpected_lines_are_whole(capsys):
    """An INCONCLUSIVE finding's reason was only in --json (empty numbers column), and an unexpected
    REFUTED finding printed ``UNEXPECTED: my-perm1-limit on homogeneous []: REFUTED `` (empty [] and no
    numbers: a plugin passes its method as the third positional argument, so its message is empty)."""
    def mixed(inst, settings):
        if inst.name == "homogeneous":
            yield Finding(Verdict.REFUTED, {"limit": 0.25, "bound": 0.125}, "exact dynamics")
        else:
            yield Finding(Verdict.INCONCLUSIVE, message="not applicable: needs d = q*n", method="hypotheses")

    register(Claim(id="test-my-perm1-limit", equations=("(U2)",), statement="x", verify=mixed))
    try:
        assert cli.main(["verify", "--quiet", "--only", "test-my-perm1-limit"]) == 1
        out = capsys.readouterr().out
    finally:
        unregister("test-my-perm1-limit")
    findings_table = out.split("\n\n")[0]
    rows = [ln for ln in findings_table.splitlines() if ln.startswith("test-my-perm1-limit")]
    inconclusive = [ln for ln in rows if "INCONCLUSIVE" in ln]
    assert inconclusive and all("not applicable: needs d = q*n" in ln for ln in inconclusive)
    assert "key numbers / reason" in out
    unexpected = [ln for ln in out.splitlines() if ln.startswith("UNEXPECTED")]
    assert unexpected == ["UNEXPECTED: test-my-perm1-limit on homogeneous: REFUTED — limit=0.25, bound=0.125 "
                          "(exact dynamics); the verifier gave no message"]
