"""Objects of the contract's TypedDicts with a distinct value in every field, made from the
fields' types: what a test reads through a copy of the fields (properties, rows, views) to
see that each copy reads its own field, whatever fields the contract holds."""

from __future__ import annotations

from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from typing_extensions import is_typeddict

from quri_parts_oqtopus._contract import Timestamp
from quri_parts_oqtopus.backend.record import parse_timestamp


def _kind(hint: Any) -> Any:
    """The first type of a union but None (the type of a value the service sends)."""
    if get_origin(hint) in (Union, UnionType):
        return next(arg for arg in get_args(hint) if arg is not NoneType)
    return hint


def sample(shape: type) -> dict[str, Any]:
    """An object of ``shape``: every field set, each to a value no other field has."""
    hints = get_type_hints(shape)
    return {name: _value(name, hint, index) for index, (name, hint) in enumerate(hints.items())}


def _value(name: str, hint: Any, index: int) -> Any:
    kind = _kind(hint)
    origin = get_origin(kind) or kind
    if kind is Timestamp:
        return f"2024-05-06T07:08:{index:02d}Z"
    if origin is Literal:
        return get_args(kind)[-1]
    if is_typeddict(kind):
        return sample(kind)
    simple = {str: f"{name} value", int: 100 + index, float: 0.25 + index}
    if kind in simple:
        return simple[kind]
    if origin is dict:
        return {"from": name}
    if origin is list:
        return [f"{name} item"]
    raise TypeError(f"no sample value for {name}: {hint}")


def shown(shape: type, name: str, value: Any) -> Any:
    """What a property of field ``name`` gives for ``value``: timestamps as datetimes."""
    return parse_timestamp(value) if _kind(get_type_hints(shape)[name]) is Timestamp else value


def properties(cls: type) -> set[str]:
    """The names of the properties ``cls`` defines itself (not those it inherits)."""
    return {name for name, member in vars(cls).items() if isinstance(member, property)}
