# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Clocks for the stand-ins (stand-in for tests, NOT the real AdGuard Home / Pi-hole).

Every time-based rule of the stand-ins (rate limit windows, session expiry, lockouts,
timers) reads ``clock.now()``, so tests can hand in a :class:`FakeClock` and move time
forward instead of sleeping.
"""

import threading
import time


class Clock:
    """Wall clock (seconds since the epoch, float)."""

    def now(self):
        return time.time()


class FakeClock(Clock):
    """A clock that stands still until a test moves it.

    ``FakeClock()`` starts at the current wall time rounded down to a whole second, so
    rules that work in whole seconds (Pi-hole's login rate limit) are deterministic.
    """

    def __init__(self, start=None):
        self._lock = threading.Lock()
        self._now = float(int(time.time()) if start is None else start)

    def now(self):
        with self._lock:
            return self._now

    def advance(self, seconds):
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, timestamp):
        """Jump to an absolute time (seconds since the epoch)."""
        with self._lock:
            self._now = float(timestamp)
