"""Progress on stderr while the bench runs: a live line on a terminal, a few plain lines in CI logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled
        self._live = enabled and hasattr(self._stream, "isatty") and self._stream.isatty()
        self._label = ""
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._last_quarter = -1

    @classmethod
    def silent(cls) -> Progress:
        return cls(enabled=False)

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._done = label, max(total, 0), 0
        self._started = time.perf_counter()
        self._last_quarter = -1
        self._show()

    def advance(self, count: int = 1) -> None:
        self._done = min(self._done + count, self._total)
        self._show()

    def finish(self) -> None:
        if not self._enabled:
            return
        elapsed = time.perf_counter() - self._started
        self._write(f"{self._label}: {self._total}/{self._total} done in {elapsed:.1f}s", final=True)

    def note(self, message: str) -> None:
        if self._enabled:
            self._write(message, final=True)

    def _show(self) -> None:
        if not self._enabled or not self._total:
            return
        percent = 100 * self._done // self._total
        if self._live:
            self._write(f"{self._label}: {self._done}/{self._total} ({percent}%)", final=False)
        elif percent // 25 > self._last_quarter and self._done < self._total:
            # Logs are not terminals: a line per quarter instead of one per step.
            self._last_quarter = percent // 25
            self._write(f"{self._label}: {self._done}/{self._total} ({percent}%)", final=True)

    def _write(self, text: str, final: bool) -> None:
        if self._live:
            self._stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
