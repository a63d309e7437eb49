"""A one-line progress bar on stderr (no dependency). Silent when disabled."""
from __future__ import annotations

import sys
import threading
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


class MemberProgress:
    """One line for an ensemble's training, whose members may train at once (one thread each):
    ``member(k)`` is member k's bar (``update(epoch, **values)``, ``close()``). The line counts every
    member's epochs out of ``n * max_epochs``; a member that stops early counts its remaining epochs
    as done, so the line ends full."""

    def __init__(self, n: int, max_epochs: int, enabled: bool = True, desc: str = "", stream=None):
        self.bar = Progress(n * max_epochs, enabled, desc, stream)
        self.n, self.max_epochs = n, max_epochs
        self.done = [0] * n
        self.lock = threading.Lock()

    def member(self, k: int) -> "_Member":
        return _Member(self, k)

    def close(self) -> None:
        self.bar.close()


class _Member:
    def __init__(self, shared: MemberProgress, k: int):
        self.shared, self.k = shared, k

    def update(self, epoch: int, **values) -> None:
        shared = self.shared
        with shared.lock:
            shared.done[self.k] = epoch
            member = {"member": f"{self.k + 1}/{shared.n}"} if shared.n > 1 else {}
            shared.bar.update(sum(shared.done), **member, **values)

    def close(self) -> None:
        shared = self.shared
        with shared.lock:
            if shared.done[self.k] < shared.max_epochs:
                shared.done[self.k] = shared.max_epochs
                shared.bar.update(sum(shared.done))
