"""The Python API a user needs, as the README documents it: every ``python`` block of the README runs, and
``parse_sketch`` takes ``(spec, problem)`` or ``(spec, n, d)`` with one specific error for each mistake."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from isttheory import generators
from isttheory.dynamics import ExactDynamics
from isttheory.errors import IncompatibleSketchError, ISTError, SketchSpecError
from isttheory.moments import SketchMoments
from isttheory.simulate import simulate
from isttheory.sketches import Permutation, RandQ, parse_sketch

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_readme_python_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, as a reader who cloned it would (the blocks name repository files)."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), namespace)
    for name, test in namespace.items():  # a property test the README shows is run too, not only defined
        if name.startswith("test_") and callable(test):
            test()


def test_parse_sketch_from_a_problem_or_from_n_and_d() -> None:
    p = generators.heterogeneous(n=3, d=6, heterogeneity=0.5, seed=0)
    assert repr(parse_sketch("perm", p)) == repr(parse_sketch("perm", 3, 6)) == repr(Permutation(3, 6))
    assert isinstance(parse_sketch("rand:2", np.int64(3), np.int64(6)), RandQ)
    assert repr(parse_sketch("perm", n=3, d=6)) == repr(Permutation(3, 6))


@pytest.mark.parametrize(("args", "message"), [
    (("perm", 3), "positive integers n and d; got d = None"),
    (("perm", 3.0, 3), "got n = 3.0"),
    (("perm", 3, 0), "got d = 0"),
    (("perm", True, 3), "got n = True"),
    (("precond-perm", 3, 3), "built from the problem's diagonals"),
    (("nope", 3, 3), "unknown sketch 'nope'"),
])
def test_parse_sketch_mistakes_are_sketch_spec_errors(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(SketchSpecError, match=re.escape(message)):
        parse_sketch(*args)  # type: ignore[arg-type]


def test_a_problem_and_sizes_together_is_an_error() -> None:
    p = generators.heterogeneous(n=2, d=2, heterogeneity=0.5, seed=0)
    with pytest.raises(SketchSpecError, match="not both"):
        parse_sketch("perm", p, 2)


@pytest.mark.parametrize("use", ["moments", "dynamics", "simulate"])
def test_a_sketch_for_other_sizes_is_one_error_everywhere(use: str) -> None:
    p = generators.heterogeneous(n=3, d=3, heterogeneity=0.5, seed=0)
    sk = parse_sketch("perm", 2, 4)
    call = {"moments": lambda: SketchMoments(p, sk), "dynamics": lambda: ExactDynamics(p, sk, 0.5).run(2),
            "simulate": lambda: simulate(p, sk, 0.5, 2)}[use]
    with pytest.raises(IncompatibleSketchError, match=r"sketch is for n = 2, d = 4; the problem has n = 3, d = 3"):
        call()
    assert issubclass(IncompatibleSketchError, (ISTError, ValueError))

