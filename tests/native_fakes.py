"""Duck-typed stand-ins that the native fuzz tests hand to `_core`: objects with odd
attribute values, or whose attributes, iteration or conversions raise.

Each class pickles through `__reduce__` (never through the attribute lookups that raise),
so the fuzz tests can send them to the worker process that makes the native calls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Boom(Exception):  # noqa: N818 -- what a hostile object raises, named for the tests
    """Raised by the fakes; the native module must pass it through unchanged."""


class Fake:
    """An object with the attributes `attrs`; reading one named in `raising` raises Boom,
    reading any other missing attribute raises AttributeError."""

    def __init__(self, attrs: dict[str, Any], raising: frozenset[str] = frozenset()) -> None:
        self._attrs = attrs
        self._raising = raising

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)  # pickle, copy and pretty printers probe these
        if name in self._raising:
            raise Boom(f"attribute {name}")
        try:
            return self._attrs[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (Fake, (self._attrs, self._raising))

    def __repr__(self) -> str:
        return f"Fake({self._attrs!r}, raising={sorted(self._raising)!r})"


class Raising:
    """Every attribute, conversion and protocol raises Boom."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise Boom(f"attribute {name}")

    def __iter__(self) -> Iterator[Any]:
        raise Boom("__iter__")

    def __len__(self) -> int:
        raise Boom("__len__")

    def __getitem__(self, key: Any) -> Any:
        raise Boom("__getitem__")

    def __index__(self) -> int:
        raise Boom("__index__")

    def __float__(self) -> float:
        raise Boom("__float__")

    def __str__(self) -> str:
        raise Boom("__str__")

    def __format__(self, spec: str) -> str:
        raise Boom("__format__")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Raising, ())

    def __repr__(self) -> str:
        return "Raising()"


class FakeIter:
    """Iterates over `items`, raising Boom instead of yielding item `fail_at`."""

    def __init__(self, items: list[Any], fail_at: int | None = None) -> None:
        self.items = items
        self.fail_at = fail_at

    def __iter__(self) -> Iterator[Any]:
        for i, item in enumerate(self.items):
            if i == self.fail_at:
                raise Boom(f"item {i}")
            yield item

    def __reduce__(self) -> tuple[Any, ...]:
        return (FakeIter, (self.items, self.fail_at))

    def __repr__(self) -> str:
        return f"FakeIter({self.items!r}, fail_at={self.fail_at!r})"


class Convertible:
    """A number-like object: `__index__`/`__float__`/`__str__`/`__format__` return `value`
    as it is (possibly of the wrong type)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __index__(self) -> Any:
        return self.value

    def __float__(self) -> Any:
        return self.value

    def __str__(self) -> Any:
        return self.value

    def __format__(self, spec: str) -> Any:
        return self.value

    def __reduce__(self) -> tuple[Any, ...]:
        return (Convertible, (self.value,))

    def __repr__(self) -> str:
        return f"Convertible({self.value!r})"


class Returns:
    """A callable (a fake `items` method) that returns `value`, or raises Boom for None."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, *args: Any) -> Any:
        if self.value is None:
            raise Boom("call")
        return self.value

    def __reduce__(self) -> tuple[Any, ...]:
        return (Returns, (self.value,))

    def __repr__(self) -> str:
        return f"Returns({self.value!r})"


class FakeMapping(Mapping[Any, Any]):
    """A `collections.abc.Mapping` whose `items()` gives `pairs` (any junk), or raises Boom
    when `pairs` is None."""

    def __init__(self, pairs: Any) -> None:
        self.pairs = pairs

    def items(self) -> Any:
        if self.pairs is None:
            raise Boom("items")
        return self.pairs

    def __getitem__(self, key: Any) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (FakeMapping, (self.pairs,))

    def __repr__(self) -> str:
        return f"FakeMapping({self.pairs!r})"


class StrSub(str):
    """A `str` subclass: the native module reads it as text."""

    __slots__ = ()


class IntSub(int):
    """An `int` subclass: the native module reads it as an integer."""

    __slots__ = ()


class Aborting:
    """Aborts the process on any attribute read: proves the worker reports crashes."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        import os  # noqa: PLC0415 -- only ever run in the worker

        os.abort()

    def __reduce__(self) -> tuple[Any, ...]:
        return (Aborting, ())

    def __repr__(self) -> str:
        return "Aborting()"
