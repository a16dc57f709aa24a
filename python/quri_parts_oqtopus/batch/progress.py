"""The ``tqdm`` progress bars of a job set: one for its submissions, one for its wait."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SubmitBar", "WaitBar", "tqdm_class"]


def tqdm_class() -> Callable[..., Any]:
    """The ``tqdm`` class (``tqdm.auto``: a notebook widget in Jupyter, text elsewhere), or
    the ``ValueError`` that says how to install it."""
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 - optional dependency, loaded on demand
    except ImportError:
        raise ValueError(
            "progress_bar=True needs tqdm: pip install 'quri-parts-oqtopus[progress]'"
        ) from None
    bar_class: Callable[..., Any] = tqdm
    return bar_class


class SubmitBar:
    """The submit phase: one step per program handed to the server (or refused)."""

    def __init__(self, total: int) -> None:
        self._bar = tqdm_class()(total=total, unit="job", desc="submit")
        self._lock = threading.Lock()  # steps come from the submission threads

    def step(self) -> None:
        with self._lock:
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class WaitBar:
    """The wait phase: ended jobs out of all, and the counts by status of each round."""

    def __init__(self, total: int) -> None:
        self._bar = tqdm_class()(total=total, unit="job", desc="wait")

    def show(self, ended: int, by_status: Mapping[str, int]) -> None:
        # Set everything first, then draw once: update() and set_postfix() would each draw.
        self._bar.n = ended
        self._bar.set_postfix(dict(by_status), refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
