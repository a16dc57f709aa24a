"""Estimation on OQTOPUS: the expectation value of a Pauli operator on one circuit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from quri_parts.circuit import NonParametricQuantumCircuit
from quri_parts.core.operator import Operator

from quri_parts_oqtopus._contract import ESTIMATION, MITIGATION_DETAILS
from quri_parts_oqtopus.backend.errors import (
    ESTIMATION_FAILED,
    INVALID_RESULT,
    OqtopusInvalidArgumentError,
    OqtopusMalformedResultError,
    reported_as,
)
from quri_parts_oqtopus.backend.infos import MitigationInfo, SimulatorInfo, TranspilerInfo
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult
from quri_parts_oqtopus.backend.submission import JobSettings, submit_job
from quri_parts_oqtopus.backend.tags import tags_keyword
from quri_parts_oqtopus.formats.qasm import convert_to_qasm_str
from quri_parts_oqtopus.formats.upload import JobInput, prepare_estimation_input
from quri_parts_oqtopus.transport import preview

__all__ = ["OqtopusEstimationBackend", "OqtopusEstimationJob"]


class OqtopusEstimationJob(OqtopusJobBase):
    """A job for an estimation.

    Args:
        job: The job's record.
        client: The HTTP client of the backend (also accepted as ``job_api``).

    Raises:
        ValueError: If ``job`` or ``client`` is None.

    """

    JOB_TYPES = (ESTIMATION,)

    def result(self, timeout: float | None = None, wait: float = 10.0) -> OqtopusEstimationResult:
        """Wait until the job ends and return its result.

        Args:
            timeout: The number of seconds to wait for the job; None waits for ever.
            wait: Time in seconds between queries.

        Returns:
            The expectation value and its standard deviation.

        Raises:
            BackendError: On timeout (``"Timeout occurred after <timeout> seconds. ..."``,
                also a ``TimeoutError``), if the job failed or was cancelled (``"Job ended
                with status failed. ..."`` with the server's message), if the job cannot be
                read; if it has no result (also a ``KeyError``) or its result is malformed
                (also a ``ValueError``), with ``"The job result is not a valid type. ..."``.

        """
        self._succeeded_job(timeout, wait)
        return self._info.memo("result", self._read_result)

    def _read_result(self) -> OqtopusEstimationResult:
        payload = self._result_payload()
        estimation = payload.get("estimation")
        if not isinstance(estimation, dict) or "exp_value" not in estimation:
            raise OqtopusMalformedResultError(
                f"{INVALID_RESULT} Job {self.job_id} has a malformed estimation result: "
                f"{preview(estimation)}"
            )
        details = payload.get(MITIGATION_DETAILS)
        return OqtopusEstimationResult(estimation, mitigation_details=details)


class OqtopusEstimationBackend(OqtopusJobBackendBase):
    """A OQTOPUS backend for an estimation.

    Args:
        config: A :class:`OqtopusConfig` for circuit execution. If None and both
            ``OQTOPUS_URL`` and ``OQTOPUS_API_TOKEN`` are set, they (with
            ``OQTOPUS_PROXY``) are used; otherwise the ``default`` section of
            ``~/.oqtopus`` is read.

    Raises:
        ValueError: If no configuration can be found.

    """

    def estimate(
        self,
        program: NonParametricQuantumCircuit,
        operator: Operator,
        device_id: str,
        shots: int,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: TranspilerInfo | dict[str, Any] | None = None,
        simulator_info: SimulatorInfo | dict[str, Any] | None = None,
        mitigation_info: MitigationInfo | dict[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> OqtopusEstimationJob:
        """Execute an estimation of ``operator`` on a circuit.

        The circuit is written as OpenQASM 3 and transpiled on OQTOPUS Cloud.

        Args:
            program: The circuit to be estimated.
            operator: The observable operator applied to the circuit.
            device_id: The device id to be executed.
            shots: Number of repetitions of the circuit, 1 to 10,000,000.
            name: The name to be assigned to the job.
            description: The description to be assigned to the job.
            transpiler_info: The transpiler information.
            simulator_info: The simulator information.
            mitigation_info: The mitigation information.
            tags: Tags of the job (see :mod:`~quri_parts_oqtopus.backend.tags`): kept in
                its description's last line, found again with ``list_jobs(tags=...)``.

        Returns:
            The submitted job.

        Raises:
            ValueError: If ``shots`` is not a positive integer, a coefficient has an
                imaginary part, the operator is empty, or the circuit cannot be written.
            BackendError: If the submission fails, naming the step and the job id
                (``"To execute estimation on OQTOPUS Cloud is failed. ..."``).

        """
        if isinstance(program, (list, tuple)):
            if len(program) != 1:
                raise OqtopusInvalidArgumentError(
                    f"{ESTIMATION_FAILED} estimation takes one circuit, got a list of "
                    f"{len(program)}"
                )
            program = program[0]
        return self.estimate_qasm(
            program=convert_to_qasm_str(program),
            operator=operator,
            device_id=device_id,
            shots=shots,
            name=name,
            description=description,
            transpiler_info=transpiler_info,
            simulator_info=simulator_info,
            mitigation_info=mitigation_info,
            **tags_keyword(tags),
        )

    def estimate_qasm(
        self,
        program: str,
        operator: Operator,
        device_id: str,
        shots: int,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: TranspilerInfo | dict[str, Any] | None = None,
        simulator_info: SimulatorInfo | dict[str, Any] | None = None,
        mitigation_info: MitigationInfo | dict[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> OqtopusEstimationJob:
        """Execute an estimation of ``operator`` on an OpenQASM 3 program.

        Args:
            program: The program to be estimated.
            operator: The observable operator applied to the circuit.
            device_id: The device id to be executed.
            shots: Number of repetitions of the circuit, 1 to 10,000,000.
            name: The name to be assigned to the job.
            description: The description to be assigned to the job.
            transpiler_info: The transpiler information.
            simulator_info: The simulator information.
            mitigation_info: The mitigation information.
            tags: Tags of the job (see :mod:`~quri_parts_oqtopus.backend.tags`): kept in
                its description's last line, found again with ``list_jobs(tags=...)``.

        Returns:
            The submitted job.

        Raises:
            ValueError: If ``shots`` is not a positive integer, a coefficient has an
                imaginary part (beyond 1e-9) or is not finite, the operator is empty, or
                the program is not a non-empty string; all but ``shots < 1`` and complex
                coefficients are also a ``BackendError``, as the reference raises.
            BackendError: If the submission fails, naming the step and the job id
                (``"To execute estimation on OQTOPUS Cloud is failed. ..."``).

        """
        settings = JobSettings.checked(
            device_id,
            shots,
            name=name,
            description=description,
            transpiler_info=transpiler_info,
            simulator_info=simulator_info,
            mitigation_info=mitigation_info,
            tags=tags,
            summary=ESTIMATION_FAILED,
        )
        job_input = _estimation_input(program, operator)
        with reported_as(ESTIMATION_FAILED):
            record = submit_job(self._client, ESTIMATION, job_input, settings)
            return OqtopusEstimationJob(record, self._client)


def _estimation_input(program: str, operator: Operator) -> JobInput:
    """The job's input, the operator read once; the operator's errors come before the
    program's, as ever (an unusable program is stood in for while the operator is read)."""
    usable = isinstance(program, str) and bool(program.strip())
    with _operator_refusals():
        job_input = prepare_estimation_input(program if usable else "", operator)
    if not usable:
        raise OqtopusInvalidArgumentError(
            f"{ESTIMATION_FAILED} program should be a non-empty OpenQASM 3 text: {program!r:.80}"
        )
    return job_input


@contextmanager
def _operator_refusals() -> Iterator[None]:
    """An operator refused as the reference refuses it, or before the service does."""
    try:
        yield
    except ValueError as e:
        if str(e).startswith("Complex numbers are not supported"):
            # The reference's own check: a plain ValueError with its text.
            raise OqtopusInvalidArgumentError(str(e)) from None
        # An empty operator (and, ours only, a non-finite coefficient): refused by the
        # service in the reference, so a BackendError with its text too.
        raise OqtopusInvalidArgumentError(f"{ESTIMATION_FAILED} {e}") from None
