"""Command line: argument parsing and output only; the mathematics lives elsewhere.

Every user mistake prints one line ``isttheory: error: …`` to stderr and exits
with code 2 (``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from . import interrupts
from .errors import ISTError, ParameterError
from .validation import FORMS

EXIT_USAGE = 2
EXIT_REFUTED = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(EXIT_USAGE, f"isttheory: error: {message} (see '{self.prog} --help')\n")


def _converter(cast: type, ok: Callable[[Any], bool], what: str) -> Callable[[str], Any]:
    """An argparse type: ``cast(text)`` that must satisfy ``ok``; one-line error otherwise."""

    def convert(text: str) -> Any:
        try:
            v = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    return convert


_positive_int = _converter(int, lambda v: v >= 1, "a positive integer")
_nonneg_int = _converter(int, lambda v: v >= 0, "an integer >= 0")
_finite_float = _converter(float, lambda v: bool(np.isfinite(v)), "a finite number")
_positive_float = _converter(float, lambda v: bool(np.isfinite(v)) and v > 0, "a positive number")


def _network_tasks() -> list[str]:
    from .network.data import TASKS

    return list(TASKS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="isttheory", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    v = sub.add_parser("verify", help="verify every registered claim and print a table")
    v.add_argument("--problem", metavar="FILE", help="verify on this problem (JSON or NPZ) instead of the defaults")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="CI settings (default)")
    mode.add_argument("--full", action="store_true", help="full Monte Carlo settings")
    v.add_argument("--out", metavar="DIR", help="write results.json and report.md here")
    v.add_argument("--json", action="store_true", help="print machine-readable results only")
    v.add_argument("--seed", type=_nonneg_int, default=0)
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.add_argument("--plugin", metavar="FILE.py", action="append", default=[],
                   help="import a Python file that registers your own claims (isttheory.claims.register)")
    v.add_argument("--only", metavar="ID", action="append", default=[],
                   help="run only this claim (a registry id such as lemma:thm2-corrected, or a paper claim id "
                        "such as theorem2); repeatable")

    s = sub.add_parser("simulate", help="Monte Carlo simulation of IST on a problem file")
    s.add_argument("problem", metavar="PROBLEM", help="problem file (JSON or NPZ)")
    s.add_argument("--sketch", required=True, metavar="S", help="sketch spec; see 'isttheory sketches'")
    s.add_argument("--gamma", required=True, type=_finite_float, metavar="G", help="step size")
    s.add_argument("--iters", required=True, type=_positive_int, metavar="K")
    s.add_argument("--runs", type=_positive_int, default=1, metavar="R")
    s.add_argument("--seed", type=_nonneg_int, default=0, metavar="N")
    s.add_argument("--form", choices=FORMS, default="sgd",
                   help="sgd: form (2) (default, as analysed); ist: Algorithm 1 / (6)")
    s.add_argument("--local-steps", type=_positive_int, default=1, metavar="T", help="local steps (form ist)")
    s.add_argument("--noise", type=_finite_float, default=0.0, metavar="SIGMA",
                   help="stochastic-gradient noise level")
    s.add_argument("--x0", metavar="X", help="starting point: one number or d comma-separated numbers")
    s.add_argument("--record-every", type=_positive_int, metavar="K",
                   help="record the metrics at iterations 0, K, 2K, ... and the last (default: 101 evenly "
                        "spaced iterations); each record costs one product by L_bar over all runs")
    s.add_argument("--json", action="store_true", help="print machine-readable output only")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("sketches", help="list the sketch spec strings")

    c = sub.add_parser("constants", help="theta* of (14), rates, optimal step, fixed point and bias (SDP + eigen)")
    c.add_argument("problem", metavar="PROBLEM", help="problem file (JSON or NPZ)")
    c.add_argument("--sketch", required=True, metavar="S")
    c.add_argument("--form", choices=FORMS, default="sgd")
    c.add_argument("--gamma", type=_finite_float, metavar="G", help="also report the contraction at this step")
    c.add_argument("--json", action="store_true", help="print machine-readable output only")

    e = sub.add_parser("exact", help="exact expected metrics at iteration K, limits, rates and tightness")
    e.add_argument("problem", metavar="PROBLEM", help="problem file (JSON or NPZ)")
    e.add_argument("--sketch", required=True, metavar="S")
    e.add_argument("--gamma", required=True, type=_finite_float, metavar="G")
    e.add_argument("--iters", required=True, type=_nonneg_int, metavar="K")
    e.add_argument("--form", choices=FORMS, default="sgd")
    e.add_argument("--local-steps", type=_positive_int, default=1, metavar="T")
    e.add_argument("--x0", metavar="X", help="starting point: one number or d comma-separated numbers")
    e.add_argument("--json", action="store_true", help="print machine-readable output only")

    lt = sub.add_parser(
        "latex", help="write LaTeX macros of the derived constants, a claims table and the errata",
        description="Write a .tex fragment: one \\newcommand per derived constant (SymPy), \\ISTClaimsTable and "
                    "\\ISTErrata, to \\input into a paper (needs amsmath, amssymb). With --document, a standalone "
                    "appendix for pdflatex instead: an introduction, the derived constants with their defining "
                    "equations, the paper's claims with their status, the errata with their corrected statements "
                    "and the main figures (needs amsmath, amssymb, array, graphicx, geometry, longtable).")
    lt.add_argument("--out", metavar="FILE.tex", help="write the .tex here (default: print it)")
    lt.add_argument("--document", action="store_true",
                    help="a standalone appendix (see above). Its figures (experiment_1.png ... logistic.png, as "
                         "'verify --out' names them) are drawn into the folder of --out FILE.tex and included by "
                         "name; printed to stdout without --figures, it has no figures")
    lt.add_argument("--figures", metavar="DIR",
                    help="with --document: include the PNGs already in DIR (e.g. a 'verify --out DIR' folder) "
                         "instead of drawing them; paths in the .tex are relative to the folder of --out")
    lt.add_argument("--quiet", action="store_true", help="no progress bar")

    er = sub.add_parser("errata", help="print ERRATA.md (generated from isttheory/errata.py)")
    er.add_argument("--out", metavar="FILE", help="write it here")

    ck = sub.add_parser("check", help="search lemma files for a certified counterexample (or the worst case)")
    ck.add_argument("lemmas", metavar="LEMMA.toml|DIR", nargs="*",
                    help="lemma files, or folders of them (every .toml file inside); see README 'Check your own lemma'")
    ck.add_argument("--paper", action="store_true", help="also check the paper's lemma files shipped with isttheory")
    ck.add_argument("--budget", type=_positive_float, default=30.0, metavar="SECONDS", help="per lemma (default 30)")
    ck.add_argument("--max-instances", type=_positive_int, metavar="N",
                    help="a budget in instances that does not depend on the machine (the clock is then ignored)")
    ck.add_argument("--seed", type=_nonneg_int, default=0, metavar="N")
    ck.add_argument("--out", metavar="DIR",
                    help="where counterexample and worst-case files go (default: ./<lemma id>/ for each lemma)")
    ck.add_argument("--json", action="store_true", help="print machine-readable output only")
    ck.add_argument("--latex", metavar="OUT.tex",
                    help="also write each lemma's statement (typeset), verdict and counterexample or worst case as "
                         "a LaTeX document (pdflatex; needs amsmath, amssymb, geometry)")
    ck.add_argument("--latex-fragment", action="store_true",
                    help="with --latex: write only the body, to \\input into your own document (amsmath, amssymb)")
    ck.add_argument("--vocabulary", action="store_true", help="print every quantity a statement may use, and exit")

    sw = sub.add_parser("sweep", help="run a parameter grid on Dask (resumable; results streamed to --out)")
    sw.add_argument("spec", metavar="SPEC.toml", help="the grid; see 'isttheory sweep --example'",
                    nargs="?")
    sw.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (default: a local cluster)")
    sw.add_argument("--workers", type=_positive_int, metavar="N", help="local cluster workers (default: cores)")
    sw.add_argument("--out", metavar="DIR", default="sweep-out",
                    help="output folder (default: sweep-out); created once the cluster is connected")
    sw.add_argument("--connect-timeout", metavar="S",
                    help="with --scheduler: seconds to reach it and have it answer as a Dask scheduler "
                         "(default: the environment variable ISTTHEORY_SWEEP_CONNECT_TIMEOUT, else 10)")
    sw.add_argument("--worker-timeout", metavar="S",
                    help="with --scheduler: seconds to wait for a first worker if it has none "
                         "(default: the environment variable ISTTHEORY_SWEEP_WORKER_TIMEOUT, else 60)")
    sw.add_argument("--json", action="store_true", help="print the summary as JSON only")
    sw.add_argument("--quiet", action="store_true", help="no progress line")
    sw.add_argument("--example", action="store_true", help="print an example spec and exit")

    rg = sub.add_parser("region", help="step sizes that converge in mean square and in mean (from the exact rates)")
    rg.add_argument("problem", metavar="PROBLEM", help="problem file (JSON or NPZ)")
    rg.add_argument("--sketch", required=True, metavar="S")
    rg.add_argument("--form", choices=FORMS, default="sgd",
                    help="sgd: form (2) (default); ist: Algorithm 1 / (6)")
    rg.add_argument("--local-steps", type=_positive_int, default=1, metavar="T", help="local steps (form ist)")
    rg.add_argument("--json", action="store_true", help="print machine-readable output only")

    nw = sub.add_parser("network", help="IST on a two-layer network against the quadratic theory's plateau (issue 18)",
                        description="Run IST on y = W2 sigma(W1 x) (squared loss) from a reference point and compare "
                        "the plateau of the loss gap with the prediction: train=last, the exact quadratic (12) "
                        "(model 'exact'); train=all, the Gauss-Newton local quadratic at a GD-trained point "
                        "(model 'local-quadratic', an approximation). The bridge field (train=last) is computed on "
                        "the one-output sub-problem of output 0 (the last-layer quadratic separates over outputs, "
                        "so it is the same check at d = hidden instead of hidden x outputs).")
    nw.add_argument("--data", choices=sorted(_network_tasks()), default="digits", help="shipped data set")
    nw.add_argument("--hidden", type=_positive_int, default=256, metavar="H", help="hidden neurons (multiple of n)")
    nw.add_argument("--clients", type=_positive_int, default=8, metavar="N")
    nw.add_argument("--split", choices=("iid", "sorted"), default="iid")
    nw.add_argument("--train", choices=("last", "all"), default="last")
    nw.add_argument("--activation", choices=("relu", "tanh"), default="relu")
    nw.add_argument("--gamma", type=_positive_float, action="append", required=True, metavar="G",
                    help="step size (the paper's gamma); repeat for several")
    nw.add_argument("--local-steps", type=_positive_int, default=1, metavar="T")
    nw.add_argument("--rounds", type=_positive_int, default=500, metavar="K")
    nw.add_argument("--runs", type=_positive_int, default=20, metavar="R")
    nw.add_argument("--rows", type=_positive_int, default=None, metavar="M",
                    help="keep a random subset of this many rows (default: all)")
    nw.add_argument("--pretrain-rounds", type=_positive_int, default=2000, metavar="S",
                    help="train=all: gradient-descent steps to the trained point w* (default 2000)")
    nw.add_argument("--precond", action="store_true",
                    help="deal with the preconditioned Perm-1 (23) instead of the release code's Perm-q: client i "
                         "scales neuron j by sqrt(n) (G_i)_jj^(-1/2) (train=last, hidden = clients)")
    nw.add_argument("--seed", type=_nonneg_int, default=0, metavar="N")
    nw.add_argument("--out", metavar="DIR", help="write plateau.png and loss_curve.png there")
    nw.add_argument("--json", action="store_true", help="print machine-readable output only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    interrupts.install()
    import warnings

    from .errors import UnreliableMeanWarning

    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning
    warnings.simplefilter("always", UnreliableMeanWarning)  # each simulation says so, not only the first
    try:
        code = int(COMMANDS[args.command](args))
        if interrupts.interrupted() and code != 130:  # a Ctrl-C swallowed by a finaliser: still interrupted
            raise KeyboardInterrupt
        return code
    except ISTError as exc:
        if args.debug:
            raise
        print(f"isttheory: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("isttheory: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """A warning as one line ``isttheory: warning: …`` on stderr (no file name, no source line)."""
    text = str(message).splitlines()[0] if str(message) else category.__name__
    print(f"isttheory: warning: {text}", file=sys.stderr if file is None else file)


def _cmd_sketches(args: argparse.Namespace) -> int:
    from .report.table import format_table
    from .sketches import SPECS

    print(format_table(["spec", "sketch"], list(SPECS.items()), max_width=90))
    return 0


def _load(path: str, x0_text: str | None, dense_for: str | None = None) -> tuple[Any, np.ndarray]:
    """The problem and starting point of a file; ``dense_for`` names a command that needs dense ``L_i``."""
    from .io import parse_vector, read_problem

    pf = read_problem(path, dense_for)  # a structured file is refused from its member names, before reading
    problem = pf.problem if dense_for is None else pf.dense(dense_for)
    if x0_text is not None:
        return problem, parse_vector(x0_text, problem.d)
    return problem, pf.x0 if pf.x0 is not None else np.ones(problem.d)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import record_every, simulate
    from .sketches import parse_sketch

    if args.gamma <= 0:
        raise ParameterError(f"--gamma must be positive; got {args.gamma}")
    problem, x0 = _load(args.problem, args.x0)
    sketch = parse_sketch(args.sketch, problem)
    record = None if args.record_every is None else record_every(args.iters, args.record_every)
    res = simulate(problem, sketch, args.gamma, args.iters, runs=args.runs, seed=args.seed, form=args.form,
                   local_steps=args.local_steps, x0=x0, noise=args.noise, record=record,
                   progress=not (args.quiet or args.json))
    if args.json:
        print(json.dumps(res.to_dict(), allow_nan=False))
        return 0
    from .report.table import format_table  # the table only: --json does not load the report package

    st = res.settings
    print(f"{problem!r}; sketch {st['sketch']}; form {st['form']}; gamma {st['gamma']:g}; "
          f"K {st['iters']}; R {st['runs']}; seed {st['seed']}")
    if not st["forms_coincide"]:
        print("note: this sketch lacks perfect reconstruction (or local steps > 1): forms (2) and (6) differ")
    if not st["within_paper_hypotheses"]:
        print("note: this sketch lies outside the paper's hypothesis d = q*n")
    if not problem.is_L_bar_positive_definite:
        print("note: L_bar is singular, so x* is not unique: only f and ‖∇f‖² are reported")
    idx = np.unique(np.linspace(0, len(res.iters) - 1, min(len(res.iters), 11)).round().astype(int))
    names = list(res.metrics)
    rows = []
    for j in idx:
        row: list[object] = [int(res.iters[j])]
        for m in names:
            metric = res.metrics[m]
            sem = "" if metric.sem is None else f" ± {metric.sem[j]:.2g}"
            row.append(f"{metric.mean[j]:.6g}{sem}")
        rows.append(row)
    print(format_table(["k"] + names, rows))
    if res.diverged:
        print(f"DIVERGED at iteration {res.diverged_at}: {res.divergence_reason}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .claims import Instance, Settings, claims, default_instances
    from .claims.catalogue import verdict_label
    from .progress import progress_bar
    from .report import format_table
    from .report.table import finding_cell, unexpected_line
    from .report.verify_report import write_verify_report
    from .verify import run_verify

    for path in args.plugin:
        _load_plugin(path)
    settings = Settings(fast=not args.full, seed=args.seed)
    if args.problem:
        problem, x0 = _load(args.problem, None, "verify")
        instances = [Instance(args.problem, problem, x0, description="user problem")]
        settings = Settings(fast=settings.fast, seed=settings.seed, problem=instances[0])
    else:
        instances = default_instances()
    only = _selected_claims(args.only)
    start = time.perf_counter()
    chosen = [c for c in claims() if only is None or c.id in only]
    per_instance = sum(c.scope != "global" for c in chosen)
    bar = progress_bar(len(instances) * per_instance + len(chosen) - per_instance, not (args.quiet or args.json),
                       desc="verify", unit="claim")
    run = run_verify(instances, settings, bar, only)
    bar.close()
    payload = run.to_payload()
    if only is not None:  # the paper claims that --only did not run have no findings: leave them out
        payload["paper_claims"] = [r for r in payload["paper_claims"] if r["findings"]]
    payload["seconds"] = round(time.perf_counter() - start, 3)
    written: list[Any] = []
    if args.out:
        from .report.verify_report import REPORT_STEPS

        bar = progress_bar(REPORT_STEPS, not (args.quiet or args.json), desc="report", unit="file")
        written = write_verify_report(args.out, payload, run, settings, bar)
        bar.close()
    if args.json:
        print(json.dumps(payload, allow_nan=False))
    else:
        rows = [(f.claim_id, f.instance, f.variant, f.verdict.value, finding_cell(f), f"{f.seconds:.3f}s")
                for _, f in run.findings]
        print(format_table(["claim", "instance", "variant", "verdict", "key numbers / reason", "time"], rows,
                           max_width=70))
        print()
        proofs = [(f.variant, str(f.numbers["G/F/N"]), verdict_label(f.verdict.value, f.numbers), f.message)
                  for c, f in run.findings if c.scope == "global" and "G/F/N" in f.numbers]
        if proofs:
            print("derivations — steps G general (all values) / F fixed-size / N numeric; PROVED: every "
                  "decisive step general, given the premises listed")
            print(format_table(["derivation", "G/F/N", "verdict", "why not PROVED / notes"], proofs, max_width=90))
            print()
        paper = [(r["id"], r["equations"], verdict_label(r["verdict"], r), ", ".join(f"{v} {k}" for k, v in
                                                                                 r["findings"].items()))
                 for r in payload["paper_claims"]]
        print(format_table(["paper claim", "equations", "verdict", "findings"], paper, max_width=70))
        print()
        print("summary: " + ", ".join(f"{k} {v}" for k, v in run.summary().items())
              + f"; {payload['seconds']:.1f}s")
        for f in run.unexpected:
            print(unexpected_line(f))
        for p in written:
            print(f"wrote {p}")
    return EXIT_REFUTED if run.unexpected else 0


def _selected_claims(ids: list[str]) -> set[str] | None:
    """Registry ids for ``--only``: a registry id, or a paper claim id (its verifiers)."""
    if not ids:
        return None
    from .claims import claims
    from .claims.catalogue import PAPER_CLAIMS

    registry = {c.id for c in claims()}
    paper = {pc.id: {s.claim for s in pc.sources} for pc in PAPER_CLAIMS}
    out: set[str] = set()
    for i in ids:
        if i in registry:
            out.add(i)
        elif i in paper:
            out |= paper[i] & registry
        else:
            raise ParameterError(f"--only {i}: no such claim; registry ids: {', '.join(sorted(registry))}; "
                                 f"paper claims: {', '.join(paper)}")
    return out


LABELS = {
    "rate": "rate = λ_min(L̄^-1/2 W̄ L̄^-1/2) of (16), not a contraction factor (that is 1 - gamma*rate)",
    "factor_paper": "factor_paper = 1 - step_paper*rate, the per-step factor of (16) at gamma = 1/theta",
    "ms_rate": "ms_rate = spectral radius of X -> E[A X A^T], the mean-square factor per step",
    "mean_rate": "mean_rate = spectral radius of E[A], the factor of the mean per step",
}
"""Table labels that state a row's definition where its bare JSON key misleads (the keys stay the same)."""


def _print_summary(summary: dict[str, Any], keys: Sequence[str], nulls: dict[str, str] | None = None) -> None:
    """Rows ``quantity, value``; a ``null`` value says why when ``nulls`` has its reason."""
    from .report.table import format_table

    rows = []
    for k in keys:
        v = summary.get(k)
        if isinstance(v, list):
            v = "vector" if not v or not isinstance(v[0], list) else f"{len(v)}x{len(v[0])} matrix"
        if v is None:
            v = f"null: {nulls[k]}" if nulls and k in nulls else "null"
        rows.append((LABELS.get(k, k), v))
    print(format_table(["quantity", "value"], rows, max_width=160))


def _cmd_constants(args: argparse.Namespace) -> int:
    from .sketches import parse_sketch
    from .structured import LowRankDiagonalProblem
    from .summary import constants_summary, structured_constants_summary

    if args.gamma is not None and args.gamma <= 0:
        raise ParameterError(f"--gamma must be positive; got {args.gamma}")
    problem, _ = _load(args.problem, None)
    problem.require_positive_definite("constants (x*, h, the rate of (16))")
    summarise = structured_constants_summary if isinstance(problem, LowRankDiagonalProblem) else constants_summary
    out = summarise(problem, parse_sketch(args.sketch, problem), args.form, args.gamma)
    if args.json:
        print(json.dumps(out, allow_nan=False))
        return 0
    _print_summary(out, ["sketch", "form", "W_psd", "theta", "theta_eigen", "rate", "step_paper", "factor_paper",
                         "gamma_opt", "contraction_opt", "gamma", "contraction_at_gamma", "h_norm2_L", "sigma2",
                         "sigma2_constant", "solver_status", "solver"], out.get("null_reasons"))
    if out["theta"] is None and out["theta_certificate"] is not None:
        cert = ", ".join(f"{x:.4g}" for x in out["theta_certificate"])
        print(f"(14) is infeasible for every theta; certificate v = {cert}")
    return 0


def _cmd_exact(args: argparse.Namespace) -> int:
    from .sketches import parse_sketch
    from .summary import exact_summary

    if args.gamma <= 0:
        raise ParameterError(f"--gamma must be positive; got {args.gamma}")
    problem, x0 = _load(args.problem, args.x0, "exact")
    problem.require_positive_definite("exact (E‖x^K − x*‖²_L̄ and the bounds)")
    out = exact_summary(problem, parse_sketch(args.sketch, problem), args.gamma, args.iters, args.form,
                        args.local_steps, x0)
    if args.json:
        print(json.dumps(out, allow_nan=False))
        return 0
    _print_summary(out, ["sketch", "form", "gamma", "iters", "dist2_L", "grad2_Linv", "f", "limit_dist2_L",
                         "limit_grad2_Linv", "ms_rate", "mean_rate", "bound_thm1", "bound_thm2",
                         "bound_thm2_corrected", "diverged", "diverged_at"], out["bound_notes"])
    for name, t in out["tightness"].items():
        if t:
            ratios = {k: v for k, v in t.items() if k.startswith("ratio") and v is not None}
            print(f"tightness {name}: " + ", ".join(f"{k} = {v:.4g}" for k, v in ratios.items()))
    if out["ms_rate"] >= 1:  # diverging, whether or not a value has overflowed by K
        print(f"the recursion diverges in mean square (rate {out['ms_rate']:.6g}): "
              "E||x^k - x*||^2 grows without bound, no limit")
    if out["diverged_at"] is not None:
        print(f"the exact moments overflowed at iteration {out['diverged_at']}: no values at K")
    return 0


def _cmd_latex(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from .claims import Settings, claims, default_instances
    from .io import atomic_write_bytes
    from .progress import progress_bar
    from .report.latex import Figure, document, fragment
    from .report.verify_report import FIGURE_STEPS, FIGURES, draw_figures
    from .verify import run_verify

    if args.figures is not None and not args.document:
        raise ParameterError("--figures needs --document")
    if args.out is not None:
        _check_writable(args.out, "--out")
    if args.figures is not None:
        missing = [name for _, name in FIGURES if not (Path(args.figures) / name).is_file()]
        if missing:
            raise ParameterError(f"--figures {args.figures}: missing {', '.join(missing)} "
                                 "(write them with: isttheory verify --out DIR)")
    instances, settings = default_instances(), Settings(fast=True)
    chosen = claims()
    per_instance = sum(c.scope != "global" for c in chosen)
    draw = args.document and args.out is not None and args.figures is None
    total = len(instances) * per_instance + len(chosen) - per_instance + 1 + (FIGURE_STEPS if draw else 0)
    bar = progress_bar(total, not args.quiet, desc="latex", unit="step")
    run = run_verify(instances, settings, bar)
    bar.set_postfix_str("macros (derivations)")
    text = fragment(run)
    bar.update(1)
    if args.document:
        base = Path(args.out).resolve().parent if args.out else Path.cwd()
        figures: list[Figure] | None = None
        if draw:
            figures = [Figure(c, n) for c, n in draw_figures(base, run, settings, bar)]
        elif args.figures is not None:
            folder = Path(args.figures).resolve()
            figures = [Figure(c, Path(os.path.relpath(folder / n, base)).as_posix()) for c, n in FIGURES]
        text = document(text, run, figures, "Printed to standard output: no figures (run with --out FILE.tex to draw "
                                            "them next to it, or --figures DIR to include a verify --out folder's).")
    bar.close()
    if args.out:
        atomic_write_bytes(args.out, text.encode())
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def _cmd_errata(args: argparse.Namespace) -> int:
    from .errata import render_markdown
    from .io import atomic_write_bytes

    text = render_markdown()
    if args.out:
        atomic_write_bytes(args.out, text.encode())
    else:
        print(text, end="")
    return 0


def _load_plugin(path: str) -> None:
    """Import a user's Python file (their own code, run deliberately) so its claims register."""
    import importlib.util
    from pathlib import Path

    from .errors import ProblemFileError

    p = Path(path)
    if not p.is_file() or p.suffix != ".py":
        raise ProblemFileError(f"plugin must be an existing .py file: {path}")
    spec = importlib.util.spec_from_file_location(f"isttheory_plugin_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise ProblemFileError(f"cannot import plugin {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ProblemFileError(f"plugin {path} has a syntax error at line {exc.lineno}: {exc.msg}") from None


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import load_spec, run_sweep
    from .sweep.spec import EXAMPLE

    if args.example:
        print(EXAMPLE, end="")
        return 0
    if args.spec is None:
        raise ParameterError("sweep needs a spec file: isttheory sweep SPEC.toml (see --example)")
    spec = load_spec(args.spec)
    show = not (args.quiet or args.json) and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\r{done}/{total} cells", end="", file=sys.stderr, flush=True)

    try:
        report = run_sweep(spec, args.out, args.scheduler, args.workers, progress,
                           connect_timeout=args.connect_timeout, worker_timeout=args.worker_timeout)
    except KeyboardInterrupt:
        print(("\n" if show else "") + f"isttheory: interrupted; finished cells are saved in {args.out}; "
              "run the same command to resume", file=sys.stderr)
        return 130
    if show:
        print(file=sys.stderr)
    counts = report.counts()
    invalid_lines: list[str] = []
    if args.json:
        print(json.dumps({**counts, "out": args.out, "seconds": round(report.seconds, 3),
                          "failures": [{"id": i, "error": e} for i, e in report.failures]}))
    else:
        print(f"sweep {spec.digest}: {counts['cells']} cells ({counts['reused']} already done, "
              f"{counts['computed']} computed now) in {report.seconds:.1f} s -> {args.out}")
        print(f"ok {counts['ok']}, diverged {counts['diverged']}, invalid {counts['invalid']}, "
              f"failed {counts['failed']} (each cell in exactly one)")
        for rec in report.records:  # the one-line reason of each invalid cell (the first few)
            if rec["result"]["status"] == "invalid":
                invalid_lines.append(f"invalid cell {rec['id']}: {rec['result']['error']}")
        for line in invalid_lines[:5]:
            print(line)
        if len(invalid_lines) > 5:
            print(f"... and {len(invalid_lines) - 5} more invalid cells (reasons in {args.out}/results.jsonl)")
        if counts["dropped_partial_lines"]:
            print(f"note: {counts['dropped_partial_lines']} incomplete or malformed line(s) in the stream (an "
                  "interrupted write) were dropped and their cells recomputed")
        if counts["duplicate_lines"]:
            print(f"note: {counts['duplicate_lines']} duplicate line(s) in the stream were dropped")
        for cid, err in report.failures[:5]:
            print(f"FAILED cell {cid}: {err}")
    return EXIT_REFUTED if report.failures else 0


def _cmd_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .lemmas import Lemma, check, lemma_paths, paper_lemma_paths
    from .lemmas.vocabulary import describe
    from .report.table import format_table

    if args.vocabulary:
        print(format_table(["name", "meaning", "equation"], describe(), max_width=110))
        return 0
    paths = lemma_paths(args.lemmas) + (paper_lemma_paths() if args.paper else [])
    if not paths:
        raise ParameterError("check needs lemma files or folders (or --paper); see 'isttheory check --help'")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ParameterError(f"--out {args.out} is a file, not a folder")
    if args.latex_fragment and not args.latex:
        raise ParameterError("--latex-fragment needs --latex OUT.tex")
    lemmas = [Lemma.from_toml(p) for p in paths]  # every file parsed before any search starts
    seen: set[str] = set()
    for lem in lemmas:
        if lem.id in seen:
            raise ParameterError(f"two lemma files have the id {lem.id!r}")
        seen.add(lem.id)
    if args.latex is not None:
        latex = Path(args.latex)
        if latex.suffix != ".tex":  # `--latex lemma_b.toml lemma_c.toml` would overwrite a lemma file
            raise ParameterError(f"--latex needs a file name ending in .tex; got {args.latex!r}")
        if any(latex.resolve() == Path(p).resolve() for p in paths):
            raise ParameterError(f"--latex {args.latex} is one of the lemma files")
        _check_writable(args.latex, "--latex")  # before the searches, not after them
    results = []
    for lem in lemmas:
        out = Path(args.out) / lem.id if args.out else Path(lem.id)  # relative: printed as given
        res = check(lem, budget=args.budget, seed=args.seed, max_instances=args.max_instances, out=out)
        results.append(res)
        if not args.json:
            print(res.summary(), flush=True)
    if args.latex:
        _write_check_latex(args, list(zip(lemmas, results, strict=True)))
    if args.json:
        payload: dict[str, Any] = {"lemmas": [r.to_dict() for r in results]}
        if args.latex:
            payload["latex"] = args.latex
        print(json.dumps(payload, allow_nan=False))
    else:
        if args.latex:
            print(f"wrote {args.latex}")
        bad = [r.lemma_id for r in results if r.differs_from_expect]
        counts = {v: sum(r.verdict.value == v for r in results) for v in ("REFUTED", "SURVIVED", "INAPPLICABLE")}
        print("summary: " + ", ".join(f"{k} {v}" for k, v in counts.items())
              + (f"; differs from expect: {', '.join(bad)}" if bad else ""))
    return EXIT_REFUTED if any(r.differs_from_expect for r in results) else 0


def _check_writable(path: str, option: str) -> None:
    """A file can be written at ``path`` (its folder is created as the atomic writer would); else one line."""
    import os
    import tempfile
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{option} {path} is a folder, not a file")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=p.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(f"{option} {path}: cannot write there: {exc.strerror or exc}") from None


def _write_check_latex(args: argparse.Namespace, checked: list[tuple[Any, Any]]) -> None:
    from pathlib import Path

    from .io import atomic_write_bytes
    from .report.lemma_latex import document, fragment

    how = (f"at most {args.max_instances} instances per lemma" if args.max_instances
           else f"a budget of {args.budget:g} s per lemma")
    settings = f"Searched with isttheory check, {how}, seed {args.seed}"
    text = fragment(checked, settings, base=Path(args.latex).resolve().parent)
    try:
        atomic_write_bytes(args.latex, (text if args.latex_fragment else document(text)).encode())
    except OSError as exc:
        raise ParameterError(f"--latex {args.latex}: cannot write there: {exc.strerror or exc}") from None


def _cmd_region(args: argparse.Namespace) -> int:
    from .region import convergence_region
    from .report.table import format_table
    from .sketches import parse_sketch

    problem, _ = _load(args.problem, None, "region")  # the rates need no x*: L̄ may be singular
    reg = convergence_region(problem, parse_sketch(args.sketch, problem), args.form, args.local_steps)
    if args.json:
        print(json.dumps(reg.to_dict(), allow_nan=False))
        return 0
    print(f"{problem!r}; sketch {reg.sketch}; form {reg.form}; local steps {reg.local_steps}")
    rows = [(kind, " ∪ ".join(str(iv) for iv in ivs) or "empty: no step size converges")
            for kind, ivs in (("mean square", reg.mean_square), ("mean", reg.mean))]
    print(format_table(["kind", "step sizes gamma that converge (open intervals)"], rows, max_width=100))
    print(f"ends accurate to {reg.tolerance:g} relative; {reg.evaluations} step sizes evaluated in "
          f"{reg.seconds:.1f} s")
    for note in reg.notes:
        print(f"note: {note}")
    return 0


def _cmd_network(args: argparse.Namespace) -> int:
    from .network.run import network_experiment

    if args.out:
        import os

        _check_writable(os.path.join(args.out, "plateau.png"), "--out")
    result = network_experiment(data=args.data, hidden=args.hidden, clients=args.clients, split=args.split,
                                train=args.train, gammas=args.gamma, local_steps=args.local_steps,
                                rounds=args.rounds, runs=args.runs, seed=args.seed, activation=args.activation,
                                rows=args.rows, pretrain_rounds=args.pretrain_rounds, out=args.out,
                                precond=args.precond)
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    from .report.table import format_table

    st = result["settings"]
    print(f"network on {st['data']} ({st['split']}), hidden {st['hidden']}, n = {st['clients']}, "
          f"train = {st['train']}, t = {st['local_steps']}, K = {st['rounds']}, R = {st['runs']}, deal {st['deal']}; "
          f"gap F - F_ref, F_ref = {st['reference']}")
    br = result["bridge"]
    if br is not None:
        reason = f" {br['reason']}" if br.get("reason") else ""
        print(f"bridge ({br['sub_problem']}): max |W2 - x| = {br['max_abs_diff']}, MC vs exact max z = "
              f"{br['mc_vs_exact_z']} (threshold {br.get('mc_threshold')}){reason}")

    def num(v: Any) -> str:
        return "-" if v is None else f"{v:.6g}"

    def conv(v: bool | None) -> str:
        return "-" if v is None else ("yes" if v else "no")

    rows = [(num(r["gamma"]), num(r["predicted_plateau"]), num(r["predicted_at_plateau_rounds"]),
             num(r["measured_plateau"]), num(r["sem"]), num(r["z_at_plateau_rounds"] if r["z_at_plateau_rounds"]
                                                          is not None else r["z"]),
             num(r["ms_rate"]), f"{conv(r['predicted_converges'])}/{conv(r['measured_bounded'])}",
             num(r["predicted_bias"]), num(r["measured_bias"]), r["model"]) for r in result["gammas"]]
    print(format_table(["gamma", "limit", "at rounds", "measured", "sem", "z", "ms rate",
                        "converges pred / bounded meas", "bias |x_inf - x*|", "bias meas", "model"], rows))
    print(f"limit: lim E F - F_ref of the model; at rounds: its E F - F_ref over rounds {st['plateau_rounds'][0]}.."
          f"{st['plateau_rounds'][1]}, the same rounds as 'measured' (mean over runs of the gap averaged over those "
          f"rounds); z against 'at rounds' where given, else against the limit; bias meas: |E w^K - w*| from the "
          f"runs' final weights; {result['seconds']:.1f} s")
    for r in result["gammas"]:
        if r.get("thm2_plateau") is not None:
            print(f"gamma = {r['gamma']:g}: Theorem 2's neighbourhood under (23), halved to a loss gap: "
                  f"{r['thm2_plateau']:.6g} (the limit of form (2); the network runs Algorithm 1, limit above)")
        if r["note"]:
            print(f"note: gamma = {r['gamma']:g}: {r['note']}")
    return 0


COMMANDS = {"check": _cmd_check, "verify": _cmd_verify, "simulate": _cmd_simulate, "sketches": _cmd_sketches,
            "latex": _cmd_latex,
            "errata": _cmd_errata, "constants": _cmd_constants, "exact": _cmd_exact, "sweep": _cmd_sweep,
            "region": _cmd_region, "network": _cmd_network}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
