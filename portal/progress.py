"""A progress bar for long operator commands, on stderr so stdout stays the data.

On a terminal it redraws one line (`导入学分 [#######.....] 7,000/10,000 70%`);
otherwise (a log, CI) it prints a line at every tenth of the way, or every
`every` items when the total is unknown.
"""

from __future__ import annotations

import sys
from typing import IO


class Progress:
    def __init__(self, label: str, *, total: int | None = None, stream: IO[str] | None = None, every: int = 10_000):
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.every = every
        self.count = 0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._printed_step = -1

    def advance(self, n: int = 1) -> None:
        self.count += n
        if self._tty:
            self._draw()
            return
        step = (self.count * 10 // self.total) if self.total else self.count // self.every
        if step != self._printed_step:
            self._printed_step = step
            self.stream.write(self._text() + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self._tty:
            self._draw()
            self.stream.write("\n")
        elif self._printed_step == -1 or (self.total and self.count * 10 // self.total != 10):
            self.stream.write(self._text() + "\n")
        self.stream.flush()

    def _text(self) -> str:
        if not self.total:
            return f"{self.label} {self.count:,}"
        share = min(self.count / self.total, 1.0)
        filled = int(share * 30)
        return f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.count:,}/{self.total:,} {share:.0%}"

    def _draw(self) -> None:
        self.stream.write("\r" + self._text())
        self.stream.flush()
