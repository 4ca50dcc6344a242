"""A user-defined finite distribution over ``(C_1, …, C_n)``: probabilities and matrices.

File formats (never pickle): JSON ``{"probs": [K], "C": K×n×d×d}`` or NPZ with
arrays ``probs`` and ``C``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..arrays import FloatArray
from ..errors import ProblemFileError, SketchError, SketchSpecError
from ..problem import PSD_RTOL, SYMMETRY_RTOL
from .base import Sketch, SpecTarget, Support, TableDraw, target_sizes

PROB_ATOL = 1e-12


class FiniteSketch(Sketch):
    """``P[(C_1, …, C_n) = table[k]] = probs[k]``; matrices symmetric PSD."""

    family = "finite"
    syntax = "finite:PATH"
    describe = "user-defined finite distribution from a JSON/NPZ file"

    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        if not param:
            raise SketchSpecError("finite needs a file: finite:PATH")

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """None: a finite sketch is the user's file."""
        return []

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> FiniteSketch:
        assert param is not None  # check_param ran first
        n, d = target_sizes(target)
        return cls.check_sizes(cls.read(param), param, n, d)

    @staticmethod
    def check_sizes(sk: FiniteSketch, where: str, n: int, d: int) -> FiniteSketch:
        """``sk`` if it is for ``n`` clients and ``d`` coordinates, else a :class:`SketchSpecError`."""
        if (sk.n, sk.d) != (n, d):
            raise SketchSpecError(
                f"sketch file {where} is for n = {sk.n}, d = {sk.d}; the problem has n = {n}, d = {d}")
        return sk

    def __init__(self, probs: FloatArray, table: FloatArray, source: str | None = None) -> None:
        try:
            probs = np.asarray(probs, dtype=float)
            table = np.asarray(table, dtype=float)
        except (TypeError, ValueError):
            raise SketchError("finite sketch needs numeric probs and matrices") from None
        if probs.ndim != 1 or probs.size < 1:
            raise SketchError(f"finite sketch: probs must be a non-empty vector; got shape {probs.shape}")
        if table.ndim != 4 or table.shape[0] != probs.size or table.shape[2] != table.shape[3]:
            raise SketchError(
                f"finite sketch: C must have shape (K, n, d, d) with K = {probs.size}; got {table.shape}"
            )
        if not (np.all(np.isfinite(probs)) and np.all(np.isfinite(table))):
            raise SketchError("finite sketch: probs and matrices must be finite")
        if np.any(probs < 0) or abs(probs.sum() - 1.0) > PROB_ATOL * probs.size:
            raise SketchError(f"finite sketch: probs must be >= 0 and sum to 1; they sum to {probs.sum():.15g}")
        scale = np.maximum(1.0, np.abs(table).max(axis=(2, 3)))
        if np.any(np.abs(table - np.swapaxes(table, 2, 3)).max(axis=(2, 3)) > SYMMETRY_RTOL * scale):
            raise SketchError("finite sketch: every C_i must be symmetric")
        table = 0.5 * (table + np.swapaxes(table, 2, 3))
        if np.any(np.linalg.eigvalsh(table)[..., 0] < -PSD_RTOL * scale):
            raise SketchError("finite sketch: every C_i must be positive semidefinite")
        super().__init__(table.shape[1], table.shape[2])
        self.probs = probs / probs.sum()
        self.table = table
        self.source = source
        self.within_paper_hypotheses = True

    @property
    def spec(self) -> str:
        return f"finite:{self.source}" if self.source else "finite"

    def __repr__(self) -> str:
        """The spec when the distribution came from a file, else the constructor call (the spec does not
        rebuild it)."""
        if self.source:
            return super().__repr__()
        return f"FiniteSketch(probs={self.probs.tolist()}, table={self.table.tolist()})"

    def sample(self, rng: np.random.Generator, size: int) -> TableDraw:
        # inverse-CDF on one uniform per draw: sequential in rng
        u = rng.random(size)
        cdf = np.cumsum(self.probs)
        outcome = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), self.probs.size - 1)
        return TableDraw(outcome.astype(np.int64), self.table)

    def support_size(self) -> int:
        return int(self.probs.size)

    def _support(self) -> Support:
        return Support(self.probs, TableDraw(np.arange(self.probs.size, dtype=np.int64), self.table))

    def expected_C(self) -> FloatArray:
        out: FloatArray = np.einsum("k,knij->nij", self.probs, self.table)
        return out

    def expected_CAC(self, A: FloatArray) -> FloatArray:
        A = np.broadcast_to(A, (self.n, self.d, self.d))
        out: FloatArray = np.einsum("k,knij,njl,knlm->nim", self.probs, self.table, A, self.table)
        return out

    @property
    def perfect_reconstruction(self) -> bool:
        mean = self.table[self.probs > 0].mean(axis=1)
        return bool(np.allclose(mean, np.eye(self.d), rtol=0, atol=1e-12))

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> FiniteSketch:
        """Read a finite sketch from JSON or NPZ (no pickle)."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise ProblemFileError(f"cannot read sketch file {p}: {exc.strerror or exc}") from None
        return cls.from_bytes(raw, str(p))

    @classmethod
    def from_bytes(cls, raw: bytes, source: str) -> FiniteSketch:
        """A finite sketch from the content of a JSON or NPZ file (no pickle); ``source`` names the file in
        messages and in :attr:`spec` (a sweep ships the content to its workers, not the path)."""
        p = source
        if raw[:2] == b"PK":
            try:
                with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                    if not {"probs", "C"} <= set(z.files):
                        raise ProblemFileError(f"{p}: sketch NPZ needs arrays 'probs' and 'C'")
                    probs, table = z["probs"], z["C"]
            except ProblemFileError:
                raise
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
                raise ProblemFileError(
                    f"{p}: unreadable sketch NPZ ({type(exc).__name__}); pickled objects are refused") from None
        else:
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise ProblemFileError(f"{p}: sketch file is neither valid JSON nor NPZ") from None
            if not isinstance(data, dict) or not {"probs", "C"} <= set(data):
                raise ProblemFileError(f"{p}: sketch JSON needs keys 'probs' and 'C'")
            probs, table = data["probs"], data["C"]
        try:
            return cls(np.asarray(probs, dtype=float), np.asarray(table, dtype=float), source=p)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SketchError):
                raise
            raise SketchError(f"{p}: probs and C must be numeric arrays") from None
