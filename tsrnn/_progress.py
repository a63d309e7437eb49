"""A one-line progress bar on stderr (no dependency). Silent when disabled.

On a terminal (or in a Jupyter notebook) the line is redrawn in place. Anywhere else (a log file, a CI
job, a pipe) a redraw would only append ``\\r``-separated copies to one ever longer line, so the bar
writes whole lines instead: one every ``LOG_EVERY`` seconds at most, and the final state at ``close``.
"""
from __future__ import annotations

import sys
import threading
import time

LOG_EVERY = 30.0          # seconds between the lines written to a stream that is not a terminal


def _interactive(stream) -> bool:
    """A terminal, or a notebook's output stream (ipykernel's is no tty, but it draws ``\\r`` in place)."""
    if type(stream).__module__.startswith("ipykernel"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):          # no isatty, or a closed stream
        return False


class Progress:
    """``Progress(total, enabled)``; ``update(step, **values)`` redraws the line; ``close()`` ends it.

    >>> import io
    >>> log = io.StringIO()                                  # not a terminal: whole lines
    >>> bar = Progress(2, desc="fit", stream=log)
    >>> bar.update(1, loss=0.5); bar.update(2, loss=0.25); bar.close()
    >>> log.getvalue().count("\\n"), log.getvalue().startswith("fit [####################] 2/2  loss 0.25")
    (1, True)
    """

    def __init__(self, total: int, enabled: bool = True, desc: str = "", stream=None):
        self.total = total
        self.enabled = bool(enabled)
        self.desc = desc
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self._width = 0
        self._live = _interactive(self.stream)
        self._line, self._logged, self._values = "", 0.0, {}

    def update(self, step: int, **values) -> None:
        if not self.enabled:
            return
        self._values = values or self._values        # an update without values keeps the last ones shown
        done = int(20 * step / max(self.total, 1))
        fields = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self._values.items())
        now = time.perf_counter() - self.start
        line = f"{self.desc} [{'#' * done}{'.' * (20 - done)}] {step}/{self.total}  {fields}  {now:.1f}s"
        if self._live:
            self.stream.write("\r" + line.ljust(self._width))
            self.stream.flush()
            self._width = len(line)
        elif now - self._logged >= LOG_EVERY:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._logged, self._line = now, ""
        else:
            self._line = line                         # written at the next interval or at close

    def close(self) -> None:
        if not self.enabled:
            return
        if self._live and self._width:
            self.stream.write("\n")
        elif self._line:
            self.stream.write(self._line + "\n")
            self._line = ""
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
