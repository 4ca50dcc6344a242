"""The whole family with Holm's correction, and its false-alarm rate on true bounds.

With family-wise level α = 1e-3, the chance that a run of the family falsely rejects any
true bound is at most 1e-3; over the 8 seeds below, at most 8e-3 (this test then fails).
"""

from isttheory.checks import CHECKS, run_family


def test_false_alarm_rate_over_seeds(runs):
    rejected = []
    for seed in range(0, 80, 10):
        rejected += [(seed, c.equation) for c in run_family(runs, seed) if c.rejected]
    assert rejected == []


def test_family_with_one_mutation_rejects_exactly_it(runs):
    fam = run_family(runs, 0, overrides={"(30)": {"sigma_coef": 0.5}})
    assert [c.equation for c in fam if c.rejected] == ["(30)"]
    assert len(fam) == len(CHECKS)
