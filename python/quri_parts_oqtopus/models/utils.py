"""``DateTimeEncoder``: the JSON encoder of the models' ``to_json``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

__all__ = ["DateTimeEncoder"]


class DateTimeEncoder(json.JSONEncoder):
    """A ``json.JSONEncoder`` that writes a ``datetime`` in ISO 8601 (``isoformat()``)."""

    def default(self, obj: Any) -> Any:
        """``obj.isoformat()`` for a ``datetime``; otherwise as ``json.JSONEncoder`` does."""
        if isinstance(obj, datetime):
            return obj.isoformat()
        return super().default(obj)
