"""Waiting in tests: for the condition the test asserts, never for a proxy or a fixed sleep.

``wait_until(predicate, timeout, what)`` polls ``predicate`` until it returns something truthy
(and returns that value) or the deadline passes; then it fails saying what it waited for and
the last value it saw. Browser tests use Playwright's own waits instead
(``expect(locator).to_have_...``, ``page.wait_for_function``); see docs/testes.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str,
               interval: float = 0.1) -> T:
    """Poll ``predicate`` every ``interval`` seconds for up to ``timeout`` seconds.

    Returns the first truthy value. On timeout raises ``AssertionError`` naming ``what`` and
    the last value seen. An exception raised by ``predicate`` is not swallowed: a condition
    that cannot be evaluated is a failure, not a reason to keep waiting.
    """
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} "
                                 f"(last value: {value!r})")
        time.sleep(interval)
        value = predicate()
    return value


def wait_equal(read: Callable[[], object], expected: object, timeout: float, what: str,
               interval: float = 0.2) -> None:
    """Poll ``read()`` until it equals ``expected``; on timeout fail showing both."""
    deadline = time.monotonic() + timeout
    last = read()
    while last != expected:
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}:\n"
                                 f"  last seen: {last!r}\n  expected:  {expected!r}")
        time.sleep(interval)
        last = read()
