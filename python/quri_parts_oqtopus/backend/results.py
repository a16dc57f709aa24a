"""Typed results of sampling and estimation jobs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from quri_parts.backend import SamplingCounts, SamplingResult

from quri_parts_oqtopus.counts import decode_counts, decode_divided_counts


class OqtopusSamplingResult(SamplingResult):
    """A result of a sampling job.

    Args:
        result: A dict with the key ``counts`` (and optionally ``divided_counts``), or a
            dict holding such a dict under ``sampling``. Count keys are measured values as
            ints (or their decimal strings); the LSB of a key's binary form is classical
            bit 0. ``divided_counts`` maps a program index to counts of that program.

    Raises:
        ValueError: If ``counts`` does not exist in result, or a key or count is invalid.

    Examples:
        ``OqtopusSamplingResult({"counts": {0: 600, 1: 300, 3: 100}})`` has
        ``counts == {0: 600, 1: 300, 3: 100}``: outcomes ``00``, ``01`` and ``11``.

    """

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        if "counts" not in result and isinstance(result.get("sampling"), Mapping):
            result = result["sampling"]
        if "counts" not in result:
            raise ValueError("'counts' does not exist in result")
        divided = result.get("divided_counts")
        self._set(
            result,
            _int_keyed(result["counts"]),
            {int(index): _int_keyed(counts) for index, counts in divided.items()}
            if divided
            else None,
        )

    def _set(
        self,
        result: Mapping[str, Any],
        counts: SamplingCounts,
        divided_counts: dict[int, SamplingCounts] | None,
    ) -> None:
        self._result = result
        self._counts = counts
        self._divided_counts = divided_counts

    @classmethod
    def from_server(cls, sampling: Mapping[str, Any]) -> OqtopusSamplingResult:
        """The result from a server's ``sampling`` payload, whose keys are bit strings.

        Raises:
            ValueError: If ``counts`` is missing or not decodable.

        """
        if "counts" not in sampling or sampling["counts"] is None:
            raise ValueError(f"'counts' does not exist in result: {sampling!r:.200}")
        return cls.from_counts(
            decode_counts(sampling["counts"]),
            decode_divided_counts(sampling.get("divided_counts")),
        )

    @classmethod
    def from_counts(
        cls, counts: SamplingCounts, divided_counts: dict[int, SamplingCounts] | None
    ) -> OqtopusSamplingResult:
        """The result of counts already decoded to int keys (no second conversion pass)."""
        result = cls.__new__(cls)
        result._set({"counts": counts, "divided_counts": divided_counts}, counts, divided_counts)
        return result

    @property
    def counts(self) -> SamplingCounts:
        """Counts of each measured value (int keys; classical bit 0 is the LSB)."""
        return self._counts

    @property
    def divided_counts(self) -> dict[int, SamplingCounts] | None:
        """Counts of each program of a multi-program job, by program index, else None."""
        return self._divided_counts

    def __repr__(self) -> str:
        return str(self._result)


class OqtopusEstimationResult:
    """A result of an estimation job.

    Args:
        result: A dict with ``exp_value`` and ``stds``, or a dict holding such a dict
            under ``estimation``, e.g. ``{"estimation": {"exp_value": 2.0, "stds": 1.1}}``.

    Raises:
        ValueError: If neither ``estimation`` nor ``exp_value`` exists in result.

    """

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        if isinstance(result.get("estimation"), Mapping):
            result = result["estimation"]
        if "exp_value" not in result:
            raise ValueError(f"'estimation' does not exist in result: {result!r:.200}")
        self._result = result

    @property
    def exp_value(self) -> float | None:
        """The estimated expectation value."""
        return _float_or_none(self._result.get("exp_value"))

    @property
    def stds(self) -> float | None:
        """The standard deviation (error) of the estimate."""
        return _float_or_none(self._result.get("stds"))

    def __repr__(self) -> str:
        return str(self._result)


def _int_keyed(counts: Mapping[Any, Any]) -> SamplingCounts:
    converted: Counter[int] = Counter()
    for key, count in counts.items():
        try:
            converted[int(key)] += count
        except (TypeError, ValueError):
            raise ValueError(f"counts key is not an integer: {key!r}") from None
    return converted


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
