"""pytest plugin: every ``lemma_*.toml`` file is a test item.

Registered through the ``pytest11`` entry point, so installing isttheory is enough::

    $ pytest lemmas/                     # collects lemmas/lemma_*.toml, one item per lemma, named by its id

An item runs :func:`isttheory.lemmas.check` on its lemma and passes when the outcome matches the lemma's
``expect`` (``holds``: SURVIVED; ``fails``: a certified counterexample, REFUTED). With no ``expect``,
REFUTED fails and SURVIVED passes. INAPPLICABLE (no instance met the hypotheses) always fails, with the
reasons. A SURVIVED search on which float64 saw a violation that exact arithmetic could not certify also
fails for ``expect = "holds"``: the lemma is then neither refuted nor searched cleanly.

A failure is one screen: the statement, the counterexample with its exact lhs, rhs and margin, the path
of the counterexample file (a problem file ``isttheory exact`` accepts; its ``.meta.json`` holds the exact
entries) and the command that reproduces it. isttheory's own traceback is never shown for a lemma that is
false or malformed; a bug in isttheory still shows one.

Options (command line, or the same names with ``_`` in ``[tool.pytest.ini_options]``):

``--isttheory-budget SECONDS``
    Search budget per item, default 1. It is converted to an instance count at
    :data:`INSTANCES_PER_SECOND` per second, so the search, and the outcome, is the same on every
    machine. The rate is nominal: the paper's lemmas (sizes up to 4) take 0.01–1 s per item at the default
    (median 0.34 s on a 2-core machine; up to 2.4 s when it is loaded), but an instance costs more as
    ``n``, ``d`` and ``K`` grow (at ``n = d = 12``, ``K = 10 000`` a single instance takes seconds), so time
    scales with the lemma and the machine, never the outcome.
``--isttheory-instances N``
    The instance count itself (overrides the budget).
``--isttheory-seed N``
    Seed of the search (default 0). With the same options and seed every item gives the same outcome.
``--isttheory-time-limit SECONDS``
    A wall-clock guard per item (default 120). A search still running then stops and fails the item,
    saying so: it never reports an outcome that depends on where a clock stopped it.
``--isttheory-out DIR``
    Where counterexample and worst-case files go (one folder per lemma id; two files with one id are a
    collection error). Default: pytest's cache folder, ``.pytest_cache/d/isttheory/``; with the cache
    disabled, no files are written.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .lemmas import CheckResult, Lemma

FILE_PATTERN = "lemma_*.toml"
"""Files the plugin collects: ``lemma_*.toml`` only, so ``pyproject.toml`` and other TOML never are."""
INSTANCES_PER_SECOND = 100
DEFAULT_BUDGET = 1.0
DEFAULT_SEED = 0
DEFAULT_TIME_LIMIT = 120.0


class LemmaFailure(Exception):
    """An item's outcome differs from what its lemma expects (shown as its one-screen message)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("isttheory", "isttheory lemma files (lemma_*.toml)")
    group.addoption("--isttheory-budget", default=None, metavar="SECONDS",
                    help=f"search budget per lemma item (default {DEFAULT_BUDGET:g}); converted to "
                         f"{INSTANCES_PER_SECOND} instances per second so the outcome does not depend on the machine")
    group.addoption("--isttheory-instances", default=None, metavar="N",
                    help="instances searched per lemma item (overrides --isttheory-budget)")
    group.addoption("--isttheory-seed", default=None, metavar="N", help=f"seed of the search (default {DEFAULT_SEED})")
    group.addoption("--isttheory-time-limit", default=None, metavar="SECONDS",
                    help=f"wall-clock guard per item (default {DEFAULT_TIME_LIMIT:g}): a search still running then "
                         "fails the item, saying so, rather than change its outcome")
    group.addoption("--isttheory-out", default=None, metavar="DIR",
                    help="folder for counterexample files (default: .pytest_cache/d/isttheory)")
    for name, what in (("budget", "search budget per lemma item, in seconds"),
                       ("instances", "instances searched per lemma item (overrides isttheory_budget)"),
                       ("seed", "seed of the lemma search"), ("time_limit", "wall-clock guard per lemma item"),
                       ("out", "folder for counterexample files")):
        parser.addini(f"isttheory_{name}", what, default="")


@dataclass(frozen=True)
class SearchSettings:
    """What every item searches with: ``instances`` and ``seed`` decide the outcome; ``time_limit`` only guards."""

    instances: int
    seed: int
    time_limit: float


def _setting(config: pytest.Config, name: str) -> tuple[str, str] | None:
    """``(where it was given, text)`` of an option, the command line first, then the ini file."""
    value = config.getoption(f"--isttheory-{name.replace('_', '-')}")
    if value is not None:
        return f"--isttheory-{name.replace('_', '-')}", str(value)
    raw = config.getini(f"isttheory_{name}")
    return (f"isttheory_{name} (ini)", str(raw)) if raw not in ("", None) else None


def _number(config: pytest.Config, name: str, default: float, integer: bool, low: float) -> float:
    given = _setting(config, name)
    if given is None:
        return default
    where, text = given
    kind = "an integer" if integer else "a finite number"
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise pytest.UsageError(f"isttheory: {where} must be {kind} >= {low:g}; got {text!r}") from None
    if not (math.isfinite(value) and value >= low):
        raise pytest.UsageError(f"isttheory: {where} must be {kind} >= {low:g}; got {text!r}")
    return value


def search_settings(config: pytest.Config) -> SearchSettings:
    """The options (command line, else ini); a bad value is a one-line usage error naming it."""
    budget = _number(config, "budget", DEFAULT_BUDGET, False, 1e-3)
    instances = _number(config, "instances", math.ceil(min(budget, 1e6) * INSTANCES_PER_SECOND), True, 1)
    seed = _number(config, "seed", DEFAULT_SEED, True, 0)
    time_limit = _number(config, "time_limit", DEFAULT_TIME_LIMIT, False, 1e-3)
    return SearchSettings(int(instances), int(seed), time_limit)


def pytest_configure(config: pytest.Config) -> None:
    search_settings(config)  # fail at start-up, once, on a bad option


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if fnmatch.fnmatchcase(file_path.name, FILE_PATTERN):
        return LemmaFile.from_parent(parent, path=file_path)
    return None


_IDS = pytest.StashKey[dict[str, Path]]()


class LemmaFile(pytest.File):
    """A ``lemma_*.toml`` file: one item, named by the lemma's id."""

    def collect(self) -> list[pytest.Item]:
        from .errors import LemmaError
        from .lemmas import Lemma

        try:
            lemma = Lemma.from_toml(self.path)
        except LemmaError as exc:
            raise self.CollectError(f"isttheory: {exc}") from None
        seen = self.config.stash.setdefault(_IDS, {})
        first = seen.setdefault(lemma.id, self.path)
        if first != self.path:  # the id names the item and its output folder: two would mix their files
            raise self.CollectError(f"isttheory: {self.path}: lemma id {lemma.id!r} is already the id of {first}")
        return [LemmaItem.from_parent(self, name=lemma.id, lemma=lemma)]


class LemmaItem(pytest.Item):
    """One lemma, searched for a certified counterexample."""

    def __init__(self, *, lemma: Lemma, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lemma = lemma
        self.result: CheckResult | None = None

    def _out(self) -> Path | None:
        given = _setting(self.config, "out")
        if given is not None:
            return Path(given[1]) / self.lemma.id
        cache = getattr(self.config, "cache", None)
        if cache is None:
            return None
        return Path(cache.mkdir("isttheory")) / self.lemma.id

    def runtest(self) -> None:
        from .errors import ISTError, SearchTimeLimitError
        from .lemmas import check

        s = search_settings(self.config)
        try:
            self.result = check(self.lemma, seed=s.seed, max_instances=s.instances, out=self._out(),
                                time_limit=s.time_limit)
        except SearchTimeLimitError as exc:
            raise LemmaFailure(f"{exc}: the outcome is not reported, since where the search stopped would depend "
                               "on this machine; lower --isttheory-instances (or the budget) or raise "
                               "--isttheory-time-limit") from None
        except ISTError as exc:
            raise LemmaFailure(f"{self.lemma.id}: {exc}") from None
        problem = failure_text(self.result, self.lemma, s.instances, s.seed, self.config.invocation_params.dir)
        if problem is not None:
            raise LemmaFailure(problem)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, LemmaFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"lemma {self.lemma.id}"


def failure_text(res: CheckResult, lemma: Lemma, instances: int, seed: int, base: Path | None = None) -> str | None:
    """Why the item fails, in one screen, or ``None`` when the outcome is what the lemma expects. Paths are
    shown relative to ``base`` (where pytest was started) when they lie under it."""

    def shown(path: str) -> str:
        if base is not None:
            try:
                return str(Path(path).resolve().relative_to(base.resolve()))
            except ValueError:
                pass
        return path

    from .lemmas import Outcome
    from .lemmas.results import short_text

    expect = lemma.expect
    uncertified = res.verdict is Outcome.SURVIVED and res.uncertified > 0 and expect != "fails"
    if res.matches_expect and res.verdict is not Outcome.INAPPLICABLE and not uncertified:
        return None
    said = {"holds": "the lemma expects it to hold", "fails": "the lemma expects a counterexample",
            None: "the lemma states no expect"}[expect]
    where = f" ({shown(lemma.source)})" if lemma.source else ""
    lines = [f"lemma {lemma.id}{where}: {res.verdict.value}, but {said}",
             f"  statement:  {res.statement}"]
    cx = res.counterexample
    if cx is not None:
        lines += [f"  counterexample: {cx.point.describe()}",
                  f"  lhs        = {short_text(cx.lhs)}",
                  f"  rhs        = {short_text(cx.rhs)}",
                  f"  lhs - rhs  = {short_text(cx.margin)}  ({cx.certified_by})"]
        if cx.file:
            lines.append(f"  counterexample file: {shown(cx.file)} (exact entries, lhs, rhs: "
                         f"{Path(cx.file).with_suffix('.meta.json').name})")
    elif res.verdict is Outcome.SURVIVED:
        lines.append(f"  no certified counterexample in {res.instances_tried} instances ({res.skipped} skipped)")
        if res.worst is not None:
            lines.append(f"  worst ratio lhs/rhs = {res.worst.ratio:.6g} at {res.worst.point.describe()}")
        if uncertified:
            lines.append(f"  float64 says the statement fails on {res.uncertified} instance(s) that exact arithmetic "
                         "could not certify: neither refuted nor cleanly searched")
    else:
        reasons = res.skips_text()
        lines.append(f"  no instance of {res.instances_tried} met the hypotheses: {reasons or 'none drawn'}")
    target = shown(lemma.source) if lemma.source else f"{lemma.id}.toml"
    lines.append(f"  reproduce: isttheory check {target} --max-instances {instances} --seed {seed}")
    return "\n".join(lines)
