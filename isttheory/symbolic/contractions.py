"""The moments the theory needs, as :class:`~isttheory.symbolic.engine.Contraction` s.

Notation (26): ``B̄ = (1/n) Σ_i C_i L_i C_i``, ``(Cb)‾ = (1/n) Σ_i C_i b_i``,
``P̄ = (1/n) Σ_i C_i`` (the merge of Algorithm 1, (6)). The contractions below
are *sums* over clients; divide by ``n`` (one slot) or ``n²`` (two slots).
"""

from __future__ import annotations

from .engine import Contraction

#: E[c_i] per client (n, d): E[C_i] = Diag(E[c_i])
C = Contraction("->j", "j", (0,), (), keep_client=True, name="E[C_i]")
#: E[C_i A_i C_i] per client (n, d, d)
CAC = Contraction("jk->jk", "jk", (0, 0), (0,), keep_client=True, name="E[C_i A_i C_i]")
#: Σ_i E[C_i A_i C_i] = n E[B̄] for A = L
B = Contraction("jk->jk", "jk", (0, 0), (0,), name="E[B]")
#: Σ_i E[C_i] b_i = n E[(Cb)‾]
CB = Contraction("j->j", "j", (0,), (0,), name="E[Cb]")
#: Σ_{i,i'} E[C_i A_i C_i M C_i' A_i' C_i'] = n² E[B̄ M B̄]
BMB = Contraction("jk,km,ml->jl", "jkml", (0, 0, 1, 1), (0, None, 1), name="E[B M B]")
#: Σ_{i,i'} E[C_i b_i b_i'ᵀ C_i'] = n² E[(Cb)‾ (Cb)‾ᵀ]
CBCB = Contraction("j,l->jl", "jl", (0, 1), (0, 1), name="E[Cb Cb^T]")
#: Σ_{i,i'} E[C_i A_i C_i m b_i'ᵀ C_i'] = n² E[B̄ m (Cb)‾ᵀ]
BMCB = Contraction("jk,k,l->jl", "jkl", (0, 0, 1), (0, None, 1), name="E[B m Cb^T]")
#: Σ_i E[C_i] = n E[P̄]
P = Contraction("->j", "j", (0,), (), name="E[P]")
#: Σ_{i,i'} E[C_i M C_i'] = n² E[P̄ M P̄]
PMP = Contraction("jl->jl", "jl", (0, 1), (None,), name="E[P M P]")
#: Σ_{i,i'} E[C_i M C_i' A_i' C_i'] = n² E[P̄ M B̄]
PMB = Contraction("jm,ml->jl", "jml", (0, 1, 1), (None, 1), name="E[P M B]")
#: Σ_{i,i'} E[C_i m b_i'ᵀ C_i'] = n² E[P̄ m (Cb)‾ᵀ]
PMCB = Contraction("j,l->jl", "jl", (0, 1), (None, 1), name="E[P m Cb^T]")

ALL = (C, CAC, B, CB, BMB, CBCB, BMCB, P, PMP, PMB, PMCB)
