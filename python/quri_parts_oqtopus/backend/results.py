"""Typed results of sampling and estimation jobs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from quri_parts.backend import SamplingCounts, SamplingResult

from quri_parts_oqtopus._contract import MITIGATION_DETAILS
from quri_parts_oqtopus.formats.counts import decode_counts, decode_divided_counts
from quri_parts_oqtopus.transport import preview


class OqtopusSamplingResult(SamplingResult):
    """A result of a sampling job.

    Args:
        result: A dict with the key ``counts`` (and optionally ``divided_counts``), or a
            dict holding such a dict under ``sampling`` (and the service's
            ``mitigation_details`` beside it). Count keys are measured values
            (ints; the LSB of a key's binary form is classical bit 0) and are kept as
            given, as the reference keeps them. ``divided_counts`` maps a program index
            (kept as given) to counts of that program, whose keys become ``int(key)``.

    Raises:
        ValueError: If ``counts`` does not exist in result, or a ``divided_counts`` key
            is not an integer.

    Examples:
        ``OqtopusSamplingResult({"counts": {0: 600, 1: 300, 3: 100}})`` has
        ``counts == {0: 600, 1: 300, 3: 100}``: outcomes ``00``, ``01`` and ``11``.
        A job's ``result()`` always has int keys.

    """

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        details = _details(result)
        if "counts" not in result and isinstance(result.get("sampling"), Mapping):
            result = result["sampling"]
        if "counts" not in result:
            raise ValueError("'counts' does not exist in result")
        divided = result.get("divided_counts")
        self._set(
            result,
            Counter(result["counts"]),
            {index: _int_keyed(counts) for index, counts in divided.items()} if divided else None,
            details,
        )

    def _set(
        self,
        result: Mapping[str, Any],
        counts: SamplingCounts,
        divided_counts: dict[Any, SamplingCounts] | None,
        mitigation_details: dict[str, Any] | None,
    ) -> None:
        self._result = result
        self._counts = counts
        self._divided_counts = divided_counts
        self._mitigation_details = mitigation_details

    @classmethod
    def from_server(
        cls, sampling: Mapping[str, Any], mitigation_details: object = None
    ) -> OqtopusSamplingResult:
        """The result from a server's ``sampling`` payload, whose keys are bit strings, and
        the ``mitigation_details`` beside it.

        Raises:
            ValueError: If ``counts`` is missing or not decodable.

        """
        if "counts" not in sampling or sampling["counts"] is None:
            raise ValueError(f"'counts' does not exist in result: {preview(sampling)}")
        return cls.from_counts(
            decode_counts(sampling["counts"]),
            decode_divided_counts(sampling.get("divided_counts")),
            mitigation_details,
        )

    @classmethod
    def from_counts(
        cls,
        counts: SamplingCounts,
        divided_counts: dict[int, SamplingCounts] | None,
        mitigation_details: object = None,
    ) -> OqtopusSamplingResult:
        """The result of counts already decoded to int keys (no second conversion pass)."""
        result = cls.__new__(cls)
        shown: dict[str, Any] = {"counts": counts}  # what repr() shows, as the reference
        if divided_counts is not None:
            shown["divided_counts"] = divided_counts
        details = _details({MITIGATION_DETAILS: mitigation_details})
        result._set(shown, counts, divided_counts, details)
        return result

    @property
    def counts(self) -> SamplingCounts:
        """Counts of each measured value (int keys; classical bit 0 is the LSB)."""
        return self._counts

    @property
    def divided_counts(self) -> dict[Any, SamplingCounts] | None:
        """Counts of each program of a multi-program job, by program index, else None.

        The indexes are ints in a job's result (kept as given when built directly).
        """
        return self._divided_counts

    @property
    def mitigation_details(self) -> dict[str, Any] | None:
        """What the service's error mitigation did, as it reports it, or None (no mitigation
        asked, or a service that does not report it).

        ``{"readout": {"method", "applied", "before": {"counts": {bit string: count}}}}`` for
        readout mitigation (``before``: the counts as read), and for zero-noise
        extrapolation ``{"zne": {"status": "fallback", "stage", "reason"}}`` when it did not
        run (ZNE mitigates estimations only).
        """
        return self._mitigation_details

    def __repr__(self) -> str:
        return str(self._result)


class OqtopusEstimationResult:
    """A result of an estimation job.

    Args:
        result: A dict with ``exp_value`` and ``stds``, or a dict holding such a dict
            under ``estimation``, e.g. ``{"estimation": {"exp_value": 2.0, "stds": 1.1}}``
            (and the service's ``mitigation_details`` beside it). Values are kept as given;
            missing ones are None (as in the reference).
        mitigation_details: The service's ``mitigation_details``, when ``result`` is the
            inner dict.

    Raises:
        ValueError: If ``result`` is not a dict.

    """

    def __init__(self, result: dict[str, Any], *, mitigation_details: object = None) -> None:
        super().__init__()
        if not isinstance(result, Mapping):
            raise ValueError(f"result should be a dict: {preview(result)}")
        self._result = result
        wrapped = result.get("estimation")
        self._values = (
            wrapped if isinstance(wrapped, Mapping) and "exp_value" not in result else result
        )
        self._mitigation_details = _details(
            result if mitigation_details is None else {MITIGATION_DETAILS: mitigation_details}
        )

    @property
    def exp_value(self) -> float | None:
        """The estimated expectation value."""
        value: float | None = self._values.get("exp_value")
        return value

    @property
    def stds(self) -> float | None:
        """The standard deviation (error) of the estimate."""
        value: float | None = self._values.get("stds")
        return value

    @property
    def mitigation_details(self) -> dict[str, Any] | None:
        """What the service's error mitigation did, as it reports it, or None (no mitigation
        asked, or a service that does not report it).

        ``{"readout": {"method", "applied", ...}}`` for readout mitigation (how many results
        and shots it corrected), and ``{"zne": {"scale_results": [{"scale_factor",
        "exp_value", "stds"}, ...]}}`` for zero-noise extrapolation: the estimate at each
        scale factor, ``exp_value`` being their extrapolation to zero noise and ``stds``
        their mean; or ``{"zne": {"status": "fallback", "stage", "reason"}}`` when it could
        not run and ``exp_value`` is the plain estimate.
        """
        return self._mitigation_details

    def __repr__(self) -> str:
        return str(self._result)


def _details(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """``result["mitigation_details"]`` when it is an object, else None."""
    details = result.get(MITIGATION_DETAILS)
    return dict(details) if isinstance(details, Mapping) else None


def _int_keyed(counts: Mapping[Any, Any]) -> SamplingCounts:
    converted: Counter[int] = Counter()
    for key, count in counts.items():
        try:
            converted[int(key)] += count
        except (TypeError, ValueError):
            raise ValueError(f"counts key is not an integer: {key!r}") from None
    return converted
