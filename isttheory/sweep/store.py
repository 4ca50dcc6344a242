"""The on-disk state of a sweep: a stream of finished cells that survives any interruption.

Layout of the output folder:

* ``manifest.json`` — the digest of the settings a cell's result depends on (seed, runs,
  iterations, max_d): a folder holds cells of one setting, and a grid may grow between runs;
* ``spec.toml`` — the latest spec run into the folder;
* ``cells.jsonl`` — the stream: one JSON line per finished cell, in order of completion,
  appended with a single ``write`` on an ``O_APPEND`` descriptor and ``fsync``-ed, so a
  line is on disk before the next cell is reported;
* ``results.jsonl`` — at the end, the same records in grid order without provenance
  (worker, timing): the deterministic result of the sweep.

A kill can at worst leave the stream's last line incomplete; :meth:`CellStore.load`
drops such a line (and rewrites the stream atomically without it), so that cell is
computed again while every complete line is kept. One sweep at a time writes into a
folder (an exclusive ``flock`` on ``.lock``; a second one is refused). Every other file is written
atomically (temporary file, then rename).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from ..errors import SweepSpecError
from ..io import atomic_write_bytes
from .spec import SweepSpec

STREAM, RESULTS, MANIFEST, SPEC, SUMMARY, FIGURE = (
    "cells.jsonl", "results.jsonl", "manifest.json", "spec.toml", "summary.json", "neighbourhood.png")


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys, no NaN: non-finite numbers are stored as null upstream)."""
    return json.dumps(obj, sort_keys=True, allow_nan=False, separators=(",", ":"))


class CellStore:
    """Finished cells of one sweep in ``out``; refuses a folder that holds a different sweep."""

    def __init__(self, out: str | Path, spec: SweepSpec) -> None:
        self.out = Path(out)
        self.spec = spec
        if self.out.exists() and not self.out.is_dir():
            raise SweepSpecError(f"--out {str(self.out)!r} exists and is not a folder")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SweepSpecError(f"cannot create output folder {str(self.out)!r}: {exc.strerror}") from None
        self._lock = self._acquire_lock()
        try:
            self._check_manifest()
        except BaseException:
            self.close()
            raise
        self.dropped = 0
        self.duplicates = 0

    def _check_manifest(self) -> None:
        """Refuse a folder of other settings; record this spec and its settings digest."""
        spec = self.spec
        manifest = self.out / MANIFEST
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
                digest = old["settings_digest"]
            except (ValueError, KeyError, TypeError, OSError):
                raise SweepSpecError(f"{manifest} is not a sweep manifest; use an empty --out folder") from None
            if digest != spec.settings_digest:
                raise SweepSpecError(f"{self.out} holds cells computed with other settings (seed, runs, iters, max_d "
                                     "or the isttheory version differ); use another --out folder")
        elif (self.out / STREAM).exists():
            raise SweepSpecError(f"{self.out} holds a cell stream without a manifest; use an empty --out folder")
        atomic_write_bytes(self.out / SPEC, spec.text.encode())
        atomic_write_bytes(manifest, (dumps({"settings_digest": spec.settings_digest, "digest": spec.digest,
                                             "cells": len(spec.cells)}) + "\n").encode())

    def _acquire_lock(self) -> int:
        """One sweep at a time per folder: an exclusive ``flock`` on ``.lock``, held until :meth:`close`."""
        fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SweepSpecError(f"another sweep is running into {self.out}; wait for it or use another --out") \
                from None
        return fd

    def close(self) -> None:
        """Release the folder's lock."""
        if self._lock >= 0:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = -1

    def load(self) -> dict[str, dict[str, Any]]:
        """Finished cells of this grid by id. Complete lines of cells outside the grid (an earlier,
        larger grid) stay in the stream; incomplete or malformed lines are dropped (``dropped``)."""
        path = self.out / STREAM
        if not path.exists():
            return {}
        ids = {c.id for c in self.spec.cells}
        data = path.read_bytes()
        keep: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        good: list[bytes] = []
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]  # text after the last newline is an interrupted write
        self.dropped = int(bool(tail.strip()))
        for raw in complete:
            try:
                rec = json.loads(raw)
                cid = rec["id"]
                ok = (isinstance(cid, str) and isinstance(rec.get("params"), dict)
                      and isinstance(rec.get("result"), dict) and isinstance(rec["result"].get("status"), str))
            except (ValueError, KeyError, TypeError, AttributeError):
                ok = False
            if not ok:
                self.dropped += 1
                continue
            if cid in seen:
                self.duplicates += 1
                continue
            seen.add(cid)
            good.append(raw)
            if cid in ids:
                keep[cid] = rec
        if self.dropped or self.duplicates:
            atomic_write_bytes(path, b"".join(line + b"\n" for line in good))
        return keep

    def append(self, record: dict[str, Any]) -> None:
        """Append one finished cell: one ``write`` of the whole line, then ``fsync``."""
        line = (dumps(record) + "\n").encode()
        fd = os.open(self.out / STREAM, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, line)
            if written != len(line):  # pragma: no cover - a full disk
                raise OSError(f"short write to {self.out / STREAM}")
            os.fsync(fd)
        finally:
            os.close(fd)

    def finish(self, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Write ``results.jsonl`` (grid order, no provenance) atomically; return its records."""
        rows = [{**{k: v for k, v in records[c.id].items() if k not in ("provenance", "index")}, "index": c.index}
                for c in self.spec.cells if c.id in records]
        atomic_write_bytes(self.out / RESULTS, "".join(dumps(r) + "\n" for r in rows).encode())
        return rows
