"""What counts as an int or a number in values users and servers give.

``bool`` is a subclass of ``int``, so ``isinstance(True, int)`` holds; with these checks a
count, an index or a number of seconds given as ``True`` (or JSON's ``true``) is refused.
"""

from __future__ import annotations

from typing import TypeGuard

__all__ = ["is_int", "is_number"]


def is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is an ``int`` or a ``float`` and not a ``bool`` (NaN and the
    infinities included: callers that refuse them say so)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
