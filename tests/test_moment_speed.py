"""The compiled second-moment maps (:class:`~isttheory.symbolic.engine.CompiledExpectation`)
against the straightforward Möbius-weighted sum they reorganise.

The reference below is the plain formula of :mod:`isttheory.symbolic.engine`: for every
pattern ``σ`` one einsum with the letters of each block merged and one scale factor
``T_{i x}`` per sketched position, ``Σ_σ w_same Z_σ(i = i') + Σ_σ w_cross [Z_σ(all) − Z_σ(i = i')]``.
It is written out here, independently of the compiled code (scales absorbed, same/cross
terms merged, M-free parts precontracted), so that a dropped or misplaced scale, a lost term
or a wrong coefficient in the fast path shows as a mismatch far above the 1e-12 tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from isttheory import generators
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.sketches import parse_sketch
from isttheory.symbolic import contractions, engine
from isttheory.symbolic.engine import CompiledExpectation, Contraction, weight_values
from isttheory.symbolic.patterns import merge_letters

RTOL = 1e-12

#: (spec, n, d): every diagonal family, sizes small enough for a quick reference
FAMILIES = {
    "perm": ("perm", 2, 6),
    "perm-1": ("perm", 4, 4),
    "rand": ("rand:2", 3, 5),
    "perm-blocks": ("perm-blocks", 3, 7),
    "perm-clients": ("perm-clients", 4, 2),
    "precond-perm": ("precond-perm", 4, 4),
    "scaled-perm": ("scaled-perm", 3, 6),
    "scaled-perm-S": ("scaled-perm:1.7", 2, 4),
}


def _reference(c: Contraction, model, operands, T) -> np.ndarray:
    """The straightforward sum over patterns: one einsum per (σ, same/all), T in every term."""
    T = np.asarray(T, dtype=float)
    n, d = T.shape

    def Z(sigma, same):
        rep = merge_letters(c.positions, sigma)
        letter = ["I", "I"] if same else ["I", "J"]
        ins = [("" if s is None else letter[s]) + "".join(rep.get(ch, ch) for ch in sub)
               for sub, s in zip(c.inputs, c.client_operands, strict=True)]
        ins += [letter[s] + rep[x] for x, s in zip(c.positions, c.slots, strict=True)]
        full = "".join(rep.get(ch, ch) for ch in c.output)
        uniq = "".join(dict.fromkeys(full))
        z = np.einsum(",".join(ins) + "->" + ("I" if c.keep_client else "") + uniq,
                      *operands, *([T] * len(c.positions)))
        out = np.zeros(((n,) if c.keep_client else ()) + (d,) * len(full))
        idx = np.indices((d,) * len(uniq))
        target = tuple(idx[uniq.index(ch)] for ch in full)
        out[((slice(None),) if c.keep_client else ()) + target] = z
        return out

    total = sum((float(w) * Z(s, True) for s, w in weight_values(model, c, same=True)), np.zeros(()))
    if c.two_clients and n > 1:
        for s, w in weight_values(model, c, same=False):
            total = total + float(w) * (Z(s, False) - Z(s, True))
    return np.asarray(total)


def _close(got, ref, what=""):
    scale = max(float(np.abs(ref).max()), 1e-300)
    err = float(np.abs(np.asarray(got) - ref).max()) / scale
    assert err <= RTOL, f"{what}: relative error {err:.2e}"


def _instance(key, seed=0):
    spec, n, d = FAMILIES[key]
    p = generators.heterogeneous(n, d, 0.6, seed=seed)
    return p, parse_sketch(spec, p)


def _random_operands(rng, n, d):
    A = rng.standard_normal((n, d, d))
    A = A + A.transpose(0, 2, 1)
    return {"A": A, "M": rng.standard_normal((d, d)), "b": rng.standard_normal((n, d)), "m": rng.standard_normal(d)}


#: operands per contraction, from the random dict: the letters name the dict entries
OPERANDS = {"C": "", "CAC": "A", "B": "A", "CB": "b", "BMB": "AMA", "CBCB": "bb", "BMCB": "Amb", "P": "",
            "PMP": "M", "PMB": "MA", "PMCB": "mb"}


@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_compiled_equals_reference_for_every_contraction_and_free_operand(key):
    """Every contraction of :mod:`isttheory.symbolic.contractions`, with each operand in turn free (and
    none), against the reference; a random non-uniform scale table as well as the family's own,
    so that a scale applied to the wrong client or coordinate is caught in every family."""
    p, sk = _instance(key)
    model = sk.inclusion_model()
    rng = np.random.default_rng(7)
    ops = _random_operands(rng, sk.n, sk.d)
    for T in (sk.scale_table(), rng.uniform(0.5, 2.0, (sk.n, sk.d))):
        for name, letters in OPERANDS.items():
            c = getattr(contractions, name)
            operands = [ops[ch] for ch in letters]
            ref = _reference(c, model, operands, T)
            _close(engine.expectation(c, model, operands, T), ref, f"{key} {name} expectation")
            for free in [None, *range(len(operands))]:
                given = [None if k == free else o for k, o in enumerate(operands)]
                fast = CompiledExpectation(c, model, given, T)
                _close(fast(*([] if free is None else [operands[free]])), ref, f"{key} {name} free={free}")


@pytest.mark.parametrize("key", sorted(FAMILIES))
@pytest.mark.parametrize("form", ["sgd", "ist"])
def test_fast_moment_maps_and_transition_equal_reference(key, form):
    """SketchMoments' maps (E[B̄MB̄], E[P̄MP̄], E[P̄MB̄], E[B̄m(Cb)‾ᵀ], E[P̄m(Cb)‾ᵀ]) and the one-step
    map E[AMAᵀ] of forms (2) and (6) against the reference, with the (26) normalisations."""
    p, sk = _instance(key, seed=1)
    mo = SketchMoments(p, sk)
    model, T, n = sk.inclusion_model(), sk.scale_table(), sk.n
    L, b = np.asarray(p.L), np.asarray(p.b)
    rng = np.random.default_rng(3)
    Mat, m = rng.standard_normal((sk.d, sk.d)), rng.standard_normal(sk.d)
    BMB = _reference(contractions.BMB, model, [L, Mat, L], T) / n**2
    PMP = _reference(contractions.PMP, model, [Mat], T) / n**2
    PMB = _reference(contractions.PMB, model, [Mat, L], T) / n**2
    _close(mo.BMB(Mat), BMB, "BMB")
    _close(mo.PMP(Mat), PMP, "PMP")
    _close(mo.PMB(Mat), PMB, "PMB")
    _close(mo.BmCb(m), _reference(contractions.BMCB, model, [L, m, b], T) / n**2, "BmCb")
    _close(mo.PmCb(m), _reference(contractions.PMCB, model, [m, b], T) / n**2, "PmCb")
    S = Mat + Mat.T
    BMB_S = _reference(contractions.BMB, model, [L, S, L], T) / n**2
    gamma = 0.3
    if form == "sgd":
        EB = _reference(contractions.B, model, [L], T) / n
        ref = S - gamma * (EB @ S + S @ EB) + gamma**2 * BMB_S
    else:
        PMB_S = _reference(contractions.PMB, model, [S, L], T) / n**2
        ref = _reference(contractions.PMP, model, [S], T) / n**2 - gamma * (PMB_S + PMB_S.T) + gamma**2 * BMB_S
    _close(mo.transition(S, gamma, form), ref, f"transition {form}")


@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_reference_detects_a_dropped_scale(key):
    """The comparison has teeth: the compiled map with the scale table replaced by ones (a
    dropped scale) or with the client order of the table reversed misses the reference by far more
    than the tolerance (with a non-uniform table, so that the reversal is visible in every family)."""
    p, sk = _instance(key)
    model = sk.inclusion_model()
    rng = np.random.default_rng(11)
    ops = _random_operands(rng, sk.n, sk.d)
    T = rng.uniform(0.5, 2.0, (sk.n, sk.d))
    ref = _reference(contractions.BMB, model, [ops["A"], ops["M"], ops["A"]], T)
    for wrong in (np.ones_like(T), T[::-1]):
        bad = CompiledExpectation(contractions.BMB, model, [ops["A"], None, ops["A"]], wrong)(ops["M"])
        assert np.abs(bad - ref).max() > 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("key", ["perm", "rand", "precond-perm"])
def test_without_precontraction_or_budget_the_numbers_are_the_same(key, monkeypatch):
    """The precontraction is an optimisation only: off, or with no memory for it, same numbers."""
    p, sk = _instance(key, seed=2)
    model, T = sk.inclusion_model(), sk.scale_table()
    rng = np.random.default_rng(5)
    ops = _random_operands(rng, sk.n, sk.d)
    L = np.asarray(p.L)
    ref = _reference(contractions.BMB, model, [L, ops["M"], L], T)
    _close(CompiledExpectation(contractions.BMB, model, [L, None, L], T, precontract=False)(ops["M"]), ref, "off")
    monkeypatch.setattr(engine, "PRECONTRACT_MAX_ELEMENTS", 0)
    _close(CompiledExpectation(contractions.BMB, model, [L, None, L], T)(ops["M"]), ref, "no budget")


def test_exact_dynamics_structured_matches_enumeration():
    """End to end at small d: the structured (compiled) dynamics equals the enumerated path."""
    p = generators.heterogeneous(3, 6, 0.6, seed=4)
    for spec in ("perm", "rand:2", "scaled-perm"):
        sk = parse_sketch(spec, p)
        for form in ("sgd", "ist"):
            fast = ExactDynamics(p, sk, 0.05, form)
            slow = ExactDynamics(p, sk, 0.05, form)
            slow.structured = False
            assert fast.structured
            a, b = fast.run(8).metrics["dist2_L"], slow.run(8).metrics["dist2_L"]
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=0)
