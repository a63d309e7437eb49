"""A one-line progress bar on stderr (no dependency). Silent when disabled."""
from __future__ import annotations

import sys
import time


class Progress:
    """``Progress(total, enabled)``; ``update(step, **values)`` redraws the line; ``close()`` ends it."""

    def __init__(self, total: int, enabled: bool = True, desc: str = "", stream=None):
        self.total = total
        self.enabled = bool(enabled)
        self.desc = desc
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self._width = 0

    def update(self, step: int, **values) -> None:
        if not self.enabled:
            return
        done = int(20 * step / max(self.total, 1))
        fields = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
        line = (f"{self.desc} [{'#' * done}{'.' * (20 - done)}] {step}/{self.total}  {fields}  "
                f"{time.perf_counter() - self.start:.1f}s")
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
