"""How much work one ``verify`` setting spends: every run count, sample count and search size, in one place.

``verify`` (and ``verify --fast``, its default) uses :data:`FAST`; ``verify --full`` uses :data:`FULL`.
:class:`~isttheory.claims.registry.Settings` hands the right one to every claim (``settings.budget``),
and the report of ``verify --out`` draws its figures from the same counts, so a figure shows exactly
the runs that were judged. The module imports nothing, so reading a count costs no NumPy import.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """The counts of one setting; each field says which check spends it."""

    bound_runs: int
    """Monte Carlo runs per bound check of the ``mc-bounds`` claim (:func:`isttheory.montecarlo.run_family`),
    and of the report's ``bound_checks.png``."""
    unbiased_samples: int
    """Sketch draws per Monte Carlo z-test of Def. 1 (3), ``E[C_i] = I``."""
    omega_samples: int
    """Sketch draws per Student-t interval of Rand-q's ``ω`` (Def. 1 (4))."""
    reconstruction_iters: int
    """Iterations of the forms (2) and (6) compared on the same draws."""
    lemma_instances: int
    """Instances searched per paper lemma file (the ``lemma:*`` claims)."""
    experiment_runs: int
    """Monte Carlo runs per curve of the paper's experiments (Figures 1–3)."""
    experiment_iters: int
    """Iterations per curve of the paper's experiments."""
    logistic_runs: int
    """Runs per curve of the logistic-regression figure of ``verify --out``."""
    logistic_iters: int
    """Iterations per curve of the logistic-regression figure."""
    asymptotic_sizes: tuple[int, ...]
    """The sizes ``n = d`` of the §4.1 asymptotic-bias claim (``sec41-bias-vanishes``), on structured problems
    (:mod:`isttheory.structured_theory`)."""
    network_hidden: int
    """Hidden size of the digits network of the ``network-bridge`` claim (issue 18)."""
    network_clients: int
    """Clients ``n`` of the ``network-bridge`` claim."""
    network_rows: int
    """Rows of digits (a uniformly random subset; 1797 is all of them) of the ``network-bridge`` claim."""
    network_rounds: int
    """IST rounds of the ``network-bridge`` claim (iterates and Monte Carlo)."""
    network_runs: int
    """Network IST runs of the ``network-bridge`` Monte Carlo test against ``ExactDynamics``."""
    network_local_runs: int
    """Network IST runs of the measured plateau of ``network-local-model`` (which runs under ``verify --full``
    only)."""


FAST = Budget(bound_runs=400, unbiased_samples=2000, omega_samples=4000, reconstruction_iters=5,
              lemma_instances=40, experiment_runs=200, experiment_iters=60, logistic_runs=10, logistic_iters=200,
              asymptotic_sizes=(16, 64, 256, 1024), network_hidden=8, network_clients=4, network_rows=400,
              network_rounds=12, network_runs=400, network_local_runs=100)
"""CI's setting (``verify``, ``verify --fast``): every Monte Carlo figure keeps its stated error rate."""

FULL = Budget(bound_runs=4000, unbiased_samples=20000, omega_samples=40000, reconstruction_iters=20,
              lemma_instances=400, experiment_runs=2000, experiment_iters=200, logistic_runs=50, logistic_iters=1000,
              asymptotic_sizes=(16, 64, 256, 1024, 4096, 10000), network_hidden=64, network_clients=8,
              network_rows=1797, network_rounds=20, network_runs=1000, network_local_runs=100)
"""``verify --full``: ten times the samples (a √10 narrower interval), ten times the lemma search; the network
bridge on all of digits with 64 hidden units and 8 clients."""


def budget(fast: bool) -> Budget:
    """:data:`FAST` or :data:`FULL`."""
    return FAST if fast else FULL
