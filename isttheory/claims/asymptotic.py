"""§4.1's asymptotic claim: the bias of preconditioned Perm-1 (23) vanishes as ``n = d → ∞``.

On structured heterogeneous problems (:func:`isttheory.generators.low_rank_diagonal`, ``L_i = Diag(δ_i) + VVᵀ``)
at the sizes ``settings.budget.asymptotic_sizes`` the exact fixed point (28)
``x^∞ = (1/(n√n)) Σ_i D_i^{-1/2} b_i`` and bias ``h = x* − x^∞`` (27) come from
:class:`~isttheory.structured_theory.StructuredMoments`. Two variants: ``relative-bias`` reports ``‖h‖/‖x*‖``
against ``n`` with its fitted log-log slope (the claim holds when it decreases to 0: slope < 0);
``x_inf-bound`` checks ``‖x^∞‖_∞ ≤ max_{ij} |b_{ij}|(L_i)_{jj}^{-1/2}/√n``, which follows from (28)
(each coordinate is a mean of ``n`` terms ``D_{ij}^{-1/2}b_{ij}`` times ``1/√n``), with the fitted slope of
``‖x^∞‖_∞`` against ``n`` (``−½`` when the data do not scale with ``n``).

The ``relative-bias`` variant is REFUTED as expected: ERRATA ``sec41-bias-vanishes`` records why (the ratio
``‖h‖/‖x*‖`` tends to 1 on these families, and the claim depends on an unstated scaling of the ``L_i``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..generators import low_rank_diagonal
from ..sketches import parse_sketch
from ..structured_theory import StructuredMoments
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register


def _slope(n: list[int], y: list[float]) -> float:
    return float(np.polyfit(np.log(n), np.log(y), 1)[0])


def verify_bias_vanishes(inst: Instance, settings: Settings) -> Iterator[Finding]:
    sizes = list(settings.budget.asymptotic_sizes)
    rel, xinf, bound = [], [], []
    for n in sizes:
        p = low_rank_diagonal(n, n, heterogeneity=0.5, seed=settings.seed)
        sm = StructuredMoments(p, parse_sketch("precond-perm", p))
        rel.append(float(np.linalg.norm(sm.h) / np.linalg.norm(p.x_star)))
        xinf.append(float(np.abs(sm.x_inf).max()))
        bound.append(float(np.max(np.abs(p.b) / np.sqrt(p.D)) / np.sqrt(n)))
    numbers: dict[str, float | int | str | bool | None] = {"sizes": ",".join(map(str, sizes))}
    numbers.update({f"rel_bias_n{n}": r for n, r in zip(sizes, rel, strict=True)})
    slope = numbers["slope_rel_bias"] = _slope(sizes, rel)
    vanishes = slope < 0 and rel[-1] < rel[0]
    method = "exact x^inf, h on structured low_rank_diagonal problems (n = d), precond-perm (23); log-log fit"
    where = f"low_rank_diagonal, n = d = {sizes[0]}..{sizes[-1]}"
    yield Finding(Verdict.VERIFIED if vanishes else Verdict.REFUTED, numbers, method, variant="relative-bias",
                  instance=where, message="" if vanishes else "the relative bias does not decrease with n = d: "
                  "x^inf -> 0 like 1/sqrt(n) while x* stays of order one, so h -> x*")
    nb: dict[str, float | int | str | bool | None] = {"sizes": numbers["sizes"]}
    nb.update({f"x_inf_max_n{n}": x for n, x in zip(sizes, xinf, strict=True)})
    nb.update({f"bound_n{n}": b for n, b in zip(sizes, bound, strict=True)})
    nb["slope_x_inf"] = _slope(sizes, xinf)
    ok = all(x <= b * (1 + 1e-12) for x, b in zip(xinf, bound, strict=True))
    yield Finding(Verdict.VERIFIED if ok else Verdict.REFUTED, nb, method, variant="x_inf-bound", instance=where)


register(Claim(
    id="sec41-bias-vanishes", equations=("(27)", "(28)"), section="§4.1",
    statement=r"h = x^* - x^\infty \to 0 \text{ as } n = d \to \infty,\ "
              r"\|x^\infty\|_\infty \le \max_{ij}|b_{ij}|(L_i)_{jj}^{-1/2}/\sqrt{n}",
    verify=verify_bias_vanishes, scope="global", known_refuted=frozenset({"relative-bias"})))
