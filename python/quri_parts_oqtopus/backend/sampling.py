"""Sampling on OQTOPUS: one program (``sampling``) or several together (``multi_manual``).

Example:
    .. code-block:: python

        from quri_parts.circuit import QuantumCircuit
        from quri_parts_oqtopus.backend import OqtopusSamplingBackend

        circuit = QuantumCircuit(2)
        circuit.add_H_gate(0)
        circuit.add_CNOT_gate(0, 1)
        job = OqtopusSamplingBackend().sample(circuit, device_id="qulacs", shots=1000)
        print(job.result().counts)

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quri_parts.circuit import NonParametricQuantumCircuit

from quri_parts_oqtopus._contract import (
    MITIGATION_DETAILS,
    MULTI_MANUAL,
    SAMPLING,
    SAMPLING_JOB_TYPES,
)
from quri_parts_oqtopus._http import is_url
from quri_parts_oqtopus._job_api import http_api
from quri_parts_oqtopus.backend.errors import (
    INVALID_RESULT,
    SAMPLING_FAILED,
    OqtopusInvalidArgumentError,
    OqtopusMalformedResultError,
    reported_as,
)
from quri_parts_oqtopus.backend.infos import MitigationInfo, SimulatorInfo, TranspilerInfo
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusSamplingResult
from quri_parts_oqtopus.backend.submission import JobSettings, submit_job
from quri_parts_oqtopus.backend.tags import tags_keyword
from quri_parts_oqtopus.formats.counts import decode_sampling_archive
from quri_parts_oqtopus.formats.qasm import convert_to_qasm_strs
from quri_parts_oqtopus.formats.sweep import ParameterSweep
from quri_parts_oqtopus.formats.upload import prepare_job_input, prepare_programs_input
from quri_parts_oqtopus.transport import bounded

__all__ = ["OqtopusSamplingBackend", "OqtopusSamplingJob"]


class OqtopusSamplingJob(OqtopusJobBase):
    """A job for a sampling measurement (job types ``sampling`` and ``multi_manual``).

    Args:
        job: The job's record.
        client: The HTTP client of the backend (also accepted as ``job_api``).

    Raises:
        ValueError: If ``job`` or ``client`` is None.

    """

    JOB_TYPES = SAMPLING_JOB_TYPES

    def result(self, timeout: float | None = None, wait: float = 10.0) -> OqtopusSamplingResult:
        """Wait until the job ends and return its result.

        Args:
            timeout: The number of seconds to wait for the job; None waits for ever.
            wait: Time in seconds between queries.

        Returns:
            The counts (int keys) and, for ``multi_manual``, the counts of each program.

        Raises:
            BackendError: On timeout (``"Timeout occurred after <timeout> seconds. ..."``,
                also a ``TimeoutError``), if the job failed or was cancelled (``"Job ended
                with status failed. ..."`` with the server's message), if the job cannot be
                read; if it has no result (also a ``KeyError``) or its result is malformed
                (a counts key that is not a bit string ...: also a ``ValueError``), with
                ``"The job result is not a valid type. ..."``.

        """
        self._succeeded_job(timeout, wait)
        return self._info.memo("result", self._read_result)

    def _read_result(self) -> OqtopusSamplingResult:
        url = self._job.info("job_info").get("result")
        if is_url(url):
            # The archive is inflated and its counts decoded in Rust, without the GIL.
            operation = f"download result of job {self.job_id}"
            counts, divided, details = http_api(self._client, operation).download_archive(
                url, decode_sampling_archive, operation=operation
            )
            return OqtopusSamplingResult.from_counts(counts, divided, details)
        payload = self._result_payload()
        try:
            return OqtopusSamplingResult.from_server(
                payload["sampling"], payload.get(MITIGATION_DETAILS)
            )
        except (KeyError, TypeError, ValueError) as e:
            raise OqtopusMalformedResultError(
                f"{INVALID_RESULT} Job {self.job_id} has a malformed sampling result: "
                f"{bounded(str(e))}"
            ) from e


class OqtopusSamplingBackend(OqtopusJobBackendBase):
    """A OQTOPUS backend for a sampling measurement.

    Args:
        config: A :class:`OqtopusConfig` for circuit execution. If None and both
            ``OQTOPUS_URL`` and ``OQTOPUS_API_TOKEN`` are set, they (with
            ``OQTOPUS_PROXY``) are used; otherwise the ``default`` section of
            ``~/.oqtopus`` is read.

    Raises:
        ValueError: If no configuration can be found.

    """

    def sample(
        self,
        program: NonParametricQuantumCircuit | Sequence[NonParametricQuantumCircuit],
        device_id: str,
        shots: int,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: TranspilerInfo | dict[str, Any] | None = None,
        simulator_info: SimulatorInfo | dict[str, Any] | None = None,
        mitigation_info: MitigationInfo | dict[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> OqtopusSamplingJob:
        """Execute a sampling measurement of a circuit, or of a list of circuits together.

        Circuits are written as OpenQASM 3 and transpiled on OQTOPUS Cloud; a list makes
        one ``multi_manual`` job whose result also has ``divided_counts``. A
        :class:`~quri_parts_oqtopus.sweep.ParameterSweep` (one parametric circuit and a
        list of parameter sets) is such a list: one ``multi_manual`` job of its bindings,
        each printed from one reading of the circuit.

        Args:
            program: The circuit, or the list of circuits, to be sampled.
            device_id: The device id to be executed.
            shots: Number of repetitions of each circuit, 1 to 10,000,000.
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
            ValueError: If ``shots`` is not a positive integer, the list is empty, a tag is
                refused, or a circuit cannot be written as OpenQASM 3 (e.g. parametric
                gates).
            BackendError: If the submission fails, naming the step and the job id
                (``"To execute sampling on OQTOPUS Cloud is failed. ..."``).

        """
        single = not isinstance(program, Sequence)
        circuits: Sequence[NonParametricQuantumCircuit] = (
            program
            if isinstance(program, ParameterSweep)
            else list(program)
            if isinstance(program, Sequence)
            else [program]
        )
        # Checked before the (possibly long) conversion, as sample_qasm checks them.
        settings = _settings(
            device_id,
            shots,
            name,
            description,
            transpiler_info,
            simulator_info,
            mitigation_info,
            tags,
        )
        if not circuits:
            raise OqtopusInvalidArgumentError(
                f"{SAMPLING_FAILED} program should hold at least one circuit: got an empty list"
            )
        if type(self).sample_qasm is not OqtopusSamplingBackend.sample_qasm:
            # A subclass's own sample_qasm sees the texts, as the reference's sample() does.
            qasm = convert_to_qasm_strs(circuits)
            return self.sample_qasm(
                program=qasm[0] if single else qasm,
                device_id=device_id,
                shots=shots,
                name=name,
                description=description,
                transpiler_info=transpiler_info,
                simulator_info=simulator_info,
                mitigation_info=mitigation_info,
                **tags_keyword(tags),
            )
        # Read, printed and deflated in one native call, before anything is sent.
        job_input = prepare_job_input(circuits)
        with reported_as(SAMPLING_FAILED):
            job_type = SAMPLING if single else MULTI_MANUAL
            record = submit_job(self._client, job_type, job_input, settings)
            return OqtopusSamplingJob(record, self._client)

    def sample_qasm(
        self,
        program: str | Sequence[str],
        device_id: str,
        shots: int,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: TranspilerInfo | dict[str, Any] | None = None,
        simulator_info: SimulatorInfo | dict[str, Any] | None = None,
        mitigation_info: MitigationInfo | dict[str, Any] | None = None,
        job_type: str | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> OqtopusSamplingJob:
        """Execute a sampling measurement of OpenQASM 3 program(s).

        Args:
            program: The program, or the list of programs, to be sampled.
            device_id: The device id to be executed.
            shots: Number of repetitions of each circuit, 1 to 10,000,000.
            name: The name to be assigned to the job.
            description: The description to be assigned to the job.
            transpiler_info: The transpiler information.
            simulator_info: The simulator information.
            mitigation_info: The mitigation information.
            job_type: ``"sampling"`` or ``"multi_manual"``; by default ``sampling`` for
                one program and ``multi_manual`` for a list.
            tags: Tags of the job, kept in its description's last line.

        Returns:
            The submitted job.

        Raises:
            ValueError: If ``shots`` is not a positive integer, the programs are empty or
                not strings, or ``job_type`` is not a sampling job type; all but
                ``shots < 1`` are also a ``BackendError``, as the reference raises.
            BackendError: If the submission fails, naming the step and the job id
                (``"To execute sampling on OQTOPUS Cloud is failed. ..."``).

        """
        settings = _settings(
            device_id,
            shots,
            name,
            description,
            transpiler_info,
            simulator_info,
            mitigation_info,
            tags,
        )
        with reported_as(SAMPLING_FAILED):
            programs = _programs(program)
            if job_type is None:
                job_type = SAMPLING if isinstance(program, str) else MULTI_MANUAL
            if job_type not in SAMPLING_JOB_TYPES:
                raise OqtopusInvalidArgumentError(
                    f"job_type should be one of {SAMPLING_JOB_TYPES}: {job_type!r}"
                )
            if job_type == SAMPLING and len(programs) != 1:
                raise OqtopusInvalidArgumentError(
                    f"a sampling job takes one program, got {len(programs)}"
                )
            record = submit_job(self._client, job_type, prepare_programs_input(programs), settings)
            return OqtopusSamplingJob(record, self._client)


def _settings(
    device_id: str,
    shots: int,
    name: str | None,
    description: str | None,
    transpiler_info: TranspilerInfo | dict[str, Any] | None,
    simulator_info: SimulatorInfo | dict[str, Any] | None,
    mitigation_info: MitigationInfo | dict[str, Any] | None,
    tags: Sequence[str] | None,
) -> JobSettings:
    return JobSettings.checked(
        device_id,
        shots,
        name=name,
        description=description,
        transpiler_info=transpiler_info,
        simulator_info=simulator_info,
        mitigation_info=mitigation_info,
        tags=tags,
        summary=SAMPLING_FAILED,
    )


def _programs(program: str | Sequence[str]) -> list[str]:
    programs = [program] if isinstance(program, str) else list(program)
    if not programs:
        raise OqtopusInvalidArgumentError(
            "program should hold at least one OpenQASM 3 text: got an empty list"
        )
    for index, text in enumerate(programs):
        if not isinstance(text, str) or not text.strip():
            raise OqtopusInvalidArgumentError(
                f"program {index} is not a non-empty string: {text!r:.80}"
            )
    return programs
