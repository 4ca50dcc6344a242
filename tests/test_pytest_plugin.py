"""The pytest plugin (``isttheory/pytest_plugin.py``): ``lemma_*.toml`` files are test items.

Each test writes lemma files into a fresh folder and runs pytest on it in this process (``pytester``); the
plugin is found through its ``pytest11`` entry point, as on a user's machine. The false lemma of these tests
is the printed (30) of Theorem 2 (‖h‖²_{L̄²} in place of ‖h‖²_{L̄}), refuted on a certified instance within 20
instances at seed 0; the true one is the corrected (30).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isttheory.lemmas import paper_lemma_path, paper_lemma_paths
from isttheory.pytest_plugin import INSTANCES_PER_SECOND

pytest_plugins = ["pytester"]

PRINTED = paper_lemma_path("thm2-printed").read_text(encoding="utf-8")
CORRECTED = paper_lemma_path("thm2-corrected").read_text(encoding="utf-8")


def _with(text: str, expect: str | None, lemma_id: str | None = None) -> str:
    """The lemma text with ``expect`` replaced (``None``: removed) and optionally a new id."""
    out = re.sub(r'(?m)^expect = ".*\n', "" if expect is None else f'expect = "{expect}"\n', text)
    if lemma_id is not None:
        out = re.sub(r'(?m)^id = ".*"$', f'id = "{lemma_id}"', out)
    return out


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:randomly", *args)


def test_a_false_lemma_claimed_to_hold_fails_in_one_readable_screen(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_printed=_with(PRINTED, "holds"))
    res = _run(pytester)
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    block = out[out.index("= FAILURES ="):out.index("short test summary")]
    assert "REFUTED, but the lemma expects it to hold" in block
    assert "statement:  avg_grad2_Linv(K) <= 2*(E_f(0) - E_f(K))/(gamma*K)" in block
    for key in ("lhs        = ", "rhs        = ", "lhs - rhs  = ", "counterexample file: ",
                "reproduce: isttheory check"):
        assert key in block, key
    cx_file = re.search(r"counterexample file: (\S+)", block)
    assert cx_file is not None and (pytester.path / cx_file.group(1)).is_file()  # relative to where pytest ran
    assert "Traceback" not in out and ".py:" not in block  # no frame of isttheory's code
    assert len(block.splitlines()) <= 15  # one screen


def test_the_same_lemma_expected_to_fail_passes(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_printed=_with(PRINTED, "fails"))
    _run(pytester).assert_outcomes(passed=1)


def test_without_expect_refuted_fails_and_survived_passes(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_false=_with(PRINTED, None, "printed-no-expect"),
                      lemma_true=_with(CORRECTED, None, "corrected-no-expect"))
    res = _run(pytester, "-rA")
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(["*PASSED lemma_true.toml::corrected-no-expect*",
                              "*FAILED lemma_false.toml::printed-no-expect*"])
    assert "the lemma states no expect" in res.stdout.str()


def test_a_true_lemma_claimed_to_fail_fails_with_its_worst_ratio(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_corrected=_with(CORRECTED, "fails"))
    res = _run(pytester, "--isttheory-instances", "10")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*SURVIVED, but the lemma expects a counterexample*",
                              "*no certified counterexample in 10 instances*", "*worst ratio lhs/rhs = *"])


def test_inapplicable_fails_with_its_reason(pytester: pytest.Pytester) -> None:
    never = 'id = "never"\nstatement = "gamma <= 1"\nassume = ["gamma > 2"]\n[space]\nsketch = ["perm"]\nn = 2\nd = 2\n'
    pytester.makefile(".toml", lemma_never=never)
    res = _run(pytester, "--isttheory-instances", "5")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*INAPPLICABLE*", "*no instance of 5 met the hypotheses: 5 x *gamma > 2*"])


def test_only_lemma_files_are_collected_one_item_per_lemma_named_by_its_id(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject='[project]\nname = "x"\n', other=_with(PRINTED, "holds"),
                      lemma_a=_with(CORRECTED, "holds", "my-first-lemma"))
    res = _run(pytester, "--collect-only", "-q")
    assert res.ret == 0
    items = [line for line in res.stdout.lines if "::" in line]
    assert items == ["lemma_a.toml::my-first-lemma"]


def test_a_malformed_lemma_is_one_line_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_bad='id = "bad"\nstatement = "gamma <= __import__(1)"\n')
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.INTERRUPTED  # a collection error stops the run, as for a broken test module
    res.stdout.fnmatch_lines(["*isttheory: *lemma_bad.toml*"])
    assert "Traceback" not in res.stdout.str()


def test_same_options_same_outcome_and_the_budget_is_an_instance_count(pytester: pytest.Pytester) -> None:
    """The budget in seconds becomes ``INSTANCES_PER_SECOND``·SECONDS instances: nothing depends on the clock."""
    pytester.makefile(".toml", lemma_printed=_with(PRINTED, "holds"), lemma_corrected=_with(CORRECTED, "fails"))
    runs = [_run(pytester, "--isttheory-budget", "0.2", "--isttheory-seed", "3", "-p", "no:cacheprovider").stdout.str()
            for _ in range(2)]

    def failures(text: str) -> str:
        return text[text.index("= FAILURES ="):text.index("short test summary")]

    assert failures(runs[0]) == failures(runs[1])
    n = round(0.2 * INSTANCES_PER_SECOND)
    assert f"--max-instances {n} --seed 3" in runs[0]
    assert f"no certified counterexample in {n} instances" in runs[0]
    assert "counterexample file" not in runs[0]  # the cache is off and no --isttheory-out: nothing written


def test_ini_options_and_a_bad_option(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_corrected=_with(CORRECTED, "fails"))
    pytester.makeini("[pytest]\nisttheory_instances = 7\nisttheory_seed = 2\n")
    _run(pytester).stdout.fnmatch_lines(["*--max-instances 7 --seed 2*"])
    bad = _run(pytester, "--isttheory-budget", "-1")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*isttheory: --isttheory-budget must be a finite number >= 0.001; got '-1'*"])


@pytest.mark.parametrize(("args", "ini", "message"), [
    (("--isttheory-budget", "inf"), "", "--isttheory-budget must be a finite number >= 0.001; got 'inf'"),
    (("--isttheory-budget", "nan"), "", "--isttheory-budget must be a finite number >= 0.001; got 'nan'"),
    (("--isttheory-instances", "0"), "", "--isttheory-instances must be an integer >= 1; got '0'"),
    (("--isttheory-seed", "x"), "", "--isttheory-seed must be an integer >= 0; got 'x'"),
    ((), "isttheory_budget = inf", "isttheory_budget (ini) must be a finite number >= 0.001; got 'inf'"),
    ((), "isttheory_seed = 1.5", "isttheory_seed (ini) must be an integer >= 0; got '1.5'"),
    (("--isttheory-time-limit", "0"), "", "--isttheory-time-limit must be a finite number >= 0.001; got '0'"),
])
def test_every_bad_option_is_one_usage_line_naming_it(pytester: pytest.Pytester, args: tuple[str, ...], ini: str,
                                                      message: str) -> None:
    pytester.makefile(".toml", lemma_corrected=_with(CORRECTED, "holds"))
    pytester.makeini(f"[pytest]\n{ini}\n")
    res = _run(pytester, *args)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines([f"*isttheory: {message}*"])
    assert "Traceback" not in res.stderr.str() and "INTERNALERROR" not in res.stderr.str()


def test_two_files_with_one_id_are_a_collection_error(pytester: pytest.Pytester) -> None:
    """The id names the item and its output folder: two would mix their counterexample files."""
    pytester.makefile(".toml", lemma_a=_with(CORRECTED, "holds", "same"), lemma_b=_with(PRINTED, "fails", "same"))
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.INTERRUPTED
    res.stdout.fnmatch_lines(["*isttheory: *lemma_b.toml: lemma id 'same' is already the id of *lemma_a.toml*"])


def test_the_time_limit_fails_the_item_and_reports_no_outcome(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", lemma_corrected=_with(CORRECTED, "holds"))
    res = _run(pytester, "--isttheory-instances", "100000", "--isttheory-time-limit", "0.5")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*thm2-corrected: the search of 100000 instances did not finish within 0.5 s*"
                              "the outcome is not reported*"])
    assert "SURVIVED" not in res.stdout.str()


@pytest.mark.parametrize("how", ["option", "ini"])
def test_out_folder_holds_the_counterexample(pytester: pytest.Pytester, tmp_path: Path, how: str) -> None:
    pytester.makefile(".toml", lemma_printed=_with(PRINTED, "holds"))
    if how == "ini":
        pytester.makeini(f"[pytest]\nisttheory_out = {tmp_path / 'cx'}\n")
        _run(pytester)
    else:
        _run(pytester, "--isttheory-out", str(tmp_path / "cx"))
    written = tmp_path / "cx" / "thm2-printed" / "counterexample.json"
    assert written.is_file() and written.with_name("counterexample.meta.json").is_file()


@pytest.mark.parametrize(("lemma_id", "old", "new"), [
    ("thm2-limit", "gamma*sigma2/(2 - gamma)", "gamma*sigma2/2"),           # the limit's constant
    ("eq17-homogeneous", "theta == theta_eq17", "theta == 0.9*theta_eq17"),  # (17) off by 10 %
    ("thm1-eq16", "(1 - gamma*rate)**K", "(1 - 2*gamma*rate)**K"),          # twice the rate of (16)
])
def test_a_paper_lemma_item_fails_on_a_wrong_constant(pytester: pytest.Pytester, lemma_id: str, old: str,
                                                       new: str) -> None:
    """Mutation test of the project's own lemma items: a wrong constant in the file fails its item at the
    default budget."""
    text = paper_lemma_path(lemma_id).read_text(encoding="utf-8")
    assert text.count(old) == 1, (lemma_id, old)
    pytester.makefile(".toml", **{f"lemma_{lemma_id.replace('-', '_')}": text.replace(old, new)})
    res = _run(pytester)
    res.assert_outcomes(failed=1)
    assert "REFUTED, but the lemma expects it to hold" in res.stdout.str()


def test_the_paper_lemma_files_are_collected_by_the_plugin() -> None:
    """They run as items of this suite (``testpaths`` holds ``isttheory/lemmas/paper``)."""
    assert paper_lemma_paths() and all(p.name.startswith("lemma_") for p in paper_lemma_paths())
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"isttheory/lemmas/paper"' in text and 'isttheory = "isttheory.pytest_plugin"' in text
