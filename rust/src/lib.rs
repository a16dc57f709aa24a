//! The native module `quri_parts_oqtopus._core`: bindings only; the logic lives in the modules.

pub mod archive;
mod batch;
mod convert;
pub mod counts;
pub mod digest;
mod direct;
mod error;
pub mod gates;
pub mod ir;
pub mod json;
pub mod operator;
pub mod pauli;
mod pool;
pub mod qasm;
pub mod qasm_parse;
mod read;
mod sweep;
pub mod text;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use rayon::prelude::*;

/// Splits combined counts (a mapping or `(key, count)` pairs) into one `Counter` per
/// program (program 0 on the lowest bits). The split runs without the GIL.
#[pyfunction]
fn split_counts<'py>(
    counts: &Bound<'py, PyAny>,
    bit_widths: Vec<u32>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let py = counts.py();
    let pairs: Vec<(u64, u64)> = match counts.cast::<PyDict>() {
        Ok(dict) => dict
            .iter()
            .map(|(k, v)| Ok((k.extract()?, v.extract()?)))
            .collect::<PyResult<_>>()?,
        Err(_) => counts
            .try_iter()?
            .map(|item| item?.extract())
            .collect::<PyResult<_>>()?,
    };
    let parts = py.detach(|| counts::split_counts(&pairs, &bit_widths))?;
    parts
        .iter()
        .map(|part| convert::counter_from(py, part))
        .collect()
}

/// OpenQASM 3 text of one circuit, byte for byte as quri-parts-openqasm writes it.
#[pyfunction]
fn circuit_to_qasm(circuit: &Bound<'_, PyAny>) -> PyResult<String> {
    let circuit = read::read_circuit(circuit)?;
    Ok(qasm::print_circuit(&circuit))
}

/// OpenQASM 3 texts of an iterable of circuits, in order; printing runs on all cores
/// without the GIL while the next circuits are read.
#[pyfunction]
fn circuits_to_qasm(circuits: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    batch::map_circuits(circuits, |program| program.print())
}

/// OpenQASM 3 texts of `circuit.bind_parameters(p)` for each `p` of `parameter_sets`.
#[pyfunction]
fn sweep_to_qasm(
    circuit: &Bound<'_, PyAny>,
    parameter_sets: &Bound<'_, PyAny>,
) -> PyResult<Vec<String>> {
    batch::map_sweep(circuit, parameter_sets, |program| program.print())
}

/// How circuits are read in this process: whether the direct read is on, why (not), and
/// how many circuits were read each way.
#[pyfunction]
fn direct_read_status(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let status = direct::status(py)?;
    status.set_item("sweeps", sweep::reason(py))?;
    let rendered = batch::FROM_TEMPLATES.load(std::sync::atomic::Ordering::Relaxed);
    status.set_item("bindings_from_templates", rendered)?;
    Ok(status)
}

/// The estimation payload's operator list: `[{"pauli": "X0 X1", "coeff": 1.5}, ...]`.
#[pyfunction]
fn encode_operator<'py>(operator: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let py = operator.py();
    let terms = operator::read_operator(operator)?;
    let list = PyList::empty(py);
    for term in terms {
        let entry = PyDict::new(py);
        entry.set_item(intern!(py, "pauli"), term.pauli)?;
        entry.set_item(intern!(py, "coeff"), term.coeff)?;
        list.append(entry)?;
    }
    Ok(list)
}

/// `(qubit, letter)` pairs of a Pauli string in either spelling, sorted by qubit.
#[pyfunction]
fn parse_pauli(text: &Bound<'_, PyString>) -> PyResult<Vec<(u64, char)>> {
    pauli::parse_pauli(text.to_str()?).map_err(|err| {
        let shown = text.repr().map(|r| r.to_string()).unwrap_or_default();
        err.into_core_error(&shown).into()
    })
}

#[pyfunction]
fn decode_counts<'py>(raw: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    convert::counter_from(raw.py(), &convert::read_counts_any(raw)?)
}

/// `{index: Counter}` of divided counts given as a mapping or JSON text; None when empty.
#[pyfunction]
fn decode_divided_counts<'py>(raw: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let py = raw.py();
    let divided = match convert::parse_json_text(raw, counts::decode_divided_counts_json)? {
        Some(divided) => divided,
        None => Some(convert::read_divided_mapping(raw)?).filter(|d| !d.is_empty()),
    };
    divided.map(|d| convert::divided_from(py, &d)).transpose()
}

/// `(counts, divided_counts, mitigation_details)` of a sampling result archive (a ZIP holding
/// `{"sampling": {"counts": ..., "divided_counts": ...}, "mitigation_details": ...}`), unzipped
/// and parsed without the GIL; `mitigation_details` is its JSON text, or None when absent. An
/// entry above `max_size` bytes once inflated is refused with `ArchiveTooLargeError`.
#[pyfunction]
fn read_sampling_archive<'py>(
    data: &Bound<'py, PyBytes>,
    max_size: usize,
) -> PyResult<SamplingArchive<'py>> {
    let py = data.py();
    let bytes = data.as_bytes();
    let (counts, divided, details) = py.detach(|| {
        let (_, content) = archive::read_single_entry(bytes, max_size)?;
        let text = std::str::from_utf8(&content)
            .map_err(|e| error::CoreError::InvalidJson(format!("result is not UTF-8: {e}")))?;
        counts::decode_sampling_result(text)
    })?;
    let divided = divided.map(|d| convert::divided_from(py, &d)).transpose()?;
    Ok((convert::counter_from(py, &counts)?, divided, details))
}

/// What `read_sampling_archive` gives Python.
type SamplingArchive<'py> = (
    Bound<'py, PyDict>,
    Option<Bound<'py, PyDict>>,
    Option<String>,
);

/// `(entry name, content)` of a one-file ZIP archive, inflated without the GIL; an entry
/// above `max_size` bytes once inflated is refused with `ArchiveTooLargeError`.
#[pyfunction]
fn read_archive<'py>(
    data: &Bound<'py, PyBytes>,
    max_size: usize,
) -> PyResult<(String, Bound<'py, PyBytes>)> {
    let py = data.py();
    let bytes = data.as_bytes();
    let (name, content) = py.detach(|| archive::read_single_entry(bytes, max_size))?;
    Ok((name, PyBytes::new(py, &content)))
}

/// The finished archive as Python `bytes`, written straight into the new object.
fn archive_bytes<'py>(py: Python<'py>, zip: &archive::Archive) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, zip.size(), |buffer| {
        // No other thread can reach the new object yet: the GIL is not needed to fill it.
        py.detach(|| zip.write_into(buffer));
        Ok(())
    })
}

/// A ZIP archive holding `content` as the one deflated entry `entry_name`.
#[pyfunction]
fn write_archive<'py>(
    entry_name: &str,
    content: &Bound<'py, PyBytes>,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = content.py();
    let bytes = content.as_bytes();
    let content = archive::Content::new(vec![archive::Piece::Raw(bytes.into())]);
    let deflated = py.detach(|| archive::Deflated::new(&content))?;
    archive_bytes(py, &deflated.archive(entry_name)?)
}

/// A job's upload document (`{"program": [...]}`, plus `"operator"`), deflated; its archive
/// is written once the server has named it. It keeps the SHA-256 of each program's text.
#[pyclass(frozen, module = "quri_parts_oqtopus._core")]
struct JobInput {
    deflated: archive::Deflated,
    digests: Vec<String>,
}

#[pymethods]
impl JobInput {
    /// The ZIP archive holding the document as its one entry `entry_name`.
    fn archive<'py>(&self, py: Python<'py>, entry_name: &str) -> PyResult<Bound<'py, PyBytes>> {
        archive_bytes(py, &self.deflated.archive(entry_name)?)
    }

    /// The document's JSON bytes (inflated again, without the GIL), for a consumer that
    /// takes the document itself rather than its archive.
    fn document<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        // Inflated straight into the new bytes object: the document exists once.
        PyBytes::new_with(py, self.deflated.size(), |buffer| {
            py.detach(|| self.deflated.inflate_into(buffer))?;
            Ok(())
        })
    }

    /// Bytes of the deflated document.
    #[getter]
    fn deflated_size(&self) -> usize {
        self.deflated.deflated_len()
    }

    /// The SHA-256 (hex) of each program's text in the document, in order.
    #[getter]
    fn program_digests(&self) -> Vec<String> {
        self.digests.clone()
    }
}

fn job_input(
    py: Python<'_>,
    programs: &[&str],
    terms: Option<&[operator::Term]>,
) -> PyResult<JobInput> {
    let (deflated, digests) = py.detach(|| {
        let digests = match pool::pool() {
            Some(pool) => {
                pool.install(|| programs.par_iter().map(|p| digest::sha256_hex(p)).collect())
            }
            None => programs.iter().map(|p| digest::sha256_hex(p)).collect(),
        };
        archive::deflate_job_input(programs, terms).map(|deflated| (deflated, digests))
    })?;
    Ok(JobInput { deflated, digests })
}

fn texts(programs: &[String]) -> Vec<&str> {
    programs.iter().map(String::as_str).collect()
}

/// One program's document and the digest of its text (hashed while the text is at hand).
fn one_job_input(program: batch::Program) -> Result<JobInput, error::CoreError> {
    let text = program.print();
    let deflated = archive::deflate_job_input(&[&text], None)?;
    let digests = vec![digest::sha256_hex(&text)];
    Ok(JobInput { deflated, digests })
}

/// The upload document of one job from circuits: their QASM, and `"operator"` when given.
#[pyfunction]
#[pyo3(signature = (circuits, operator=None))]
fn circuits_input(
    circuits: &Bound<'_, PyAny>,
    operator: Option<&Bound<'_, PyAny>>,
) -> PyResult<JobInput> {
    let programs = batch::map_circuits(circuits, |program| program.print())?;
    let terms = operator.map(operator::read_operator).transpose()?;
    job_input(circuits.py(), &texts(&programs), terms.as_deref())
}

/// The upload document of one job from QASM texts (and an operator's terms).
#[pyfunction]
#[pyo3(signature = (programs, operator=None))]
fn programs_input(
    py: Python<'_>,
    programs: Vec<Bound<'_, PyString>>,
    operator: Option<&Bound<'_, PyAny>>,
) -> PyResult<JobInput> {
    // Borrowed from the Python strings: the texts are not copied before deflating.
    let texts = programs
        .iter()
        .map(|p| p.to_str())
        .collect::<PyResult<Vec<&str>>>()?;
    let terms = operator.map(operator::read_operator).transpose()?;
    job_input(py, &texts, terms.as_deref())
}

/// The upload document of one job holding every binding of a sweep.
#[pyfunction]
fn sweep_input(
    circuit: &Bound<'_, PyAny>,
    parameter_sets: &Bound<'_, PyAny>,
) -> PyResult<JobInput> {
    let programs = batch::map_sweep(circuit, parameter_sets, |program| program.print())?;
    job_input(circuit.py(), &texts(&programs), None)
}

/// The upload document of an SSE job: `{"sse_program": source}`.
#[pyfunction]
fn sse_input(py: Python<'_>, source: &Bound<'_, PyString>) -> PyResult<JobInput> {
    let text = source.to_str()?;
    let deflated = py.detach(|| archive::deflate_sse_input(text))?;
    Ok(JobInput {
        deflated,
        digests: Vec::new(),
    })
}

/// One upload document per circuit, deflated on all cores while the next are read.
#[pyfunction]
fn circuit_inputs(circuits: &Bound<'_, PyAny>) -> PyResult<Vec<JobInput>> {
    batch::map_circuits(circuits, one_job_input)?
        .into_iter()
        .map(|input| Ok(input?))
        .collect()
}

/// One upload document per binding of a sweep.
#[pyfunction]
fn sweep_inputs(
    circuit: &Bound<'_, PyAny>,
    parameter_sets: &Bound<'_, PyAny>,
) -> PyResult<Vec<JobInput>> {
    batch::map_sweep(circuit, parameter_sets, one_job_input)?
        .into_iter()
        .map(|input| Ok(input?))
        .collect()
}

/// The native gate table: `(QURI Parts name, OpenQASM name, qubits, angles, printed)` for
/// every gate the core prints (`printed`) or only reads.
#[pyfunction]
fn native_gates() -> Vec<gates::Row> {
    gates::rows()
}

/// Parses OpenQASM 3 text into `(n_qubits, n_clbits, ops)`, each op a tuple ending with its
/// source line: `("gate", name, qubits, params, line)`, `("measure", qubit, clbit, line)`,
/// `("reset", qubit, line)`, `("barrier", qubits, line)`. Parses without the GIL.
#[pyfunction]
fn parse_qasm<'py>(
    py: Python<'py>,
    text: &str,
) -> PyResult<(usize, usize, Vec<Bound<'py, PyAny>>)> {
    let program = py.detach(|| qasm_parse::parse_qasm(text))?;
    let ops = program
        .ops
        .iter()
        .map(|op| qasm_op_to_tuple(py, op))
        .collect::<PyResult<_>>()?;
    Ok((program.n_qubits, program.n_clbits, ops))
}

fn qasm_op_to_tuple<'py>(py: Python<'py>, op: &qasm_parse::Op) -> PyResult<Bound<'py, PyAny>> {
    use qasm_parse::OpKind;
    let line = op.line;
    Ok(match &op.kind {
        OpKind::Gate {
            name,
            qubits,
            params,
        } => ("gate", *name, qubits, params, line)
            .into_pyobject(py)?
            .into_any(),
        OpKind::Measure { qubit, clbit } => ("measure", *qubit, *clbit, line)
            .into_pyobject(py)?
            .into_any(),
        OpKind::Reset { qubit } => ("reset", *qubit, line).into_pyobject(py)?.into_any(),
        OpKind::Barrier { qubits } => ("barrier", qubits, line).into_pyobject(py)?.into_any(),
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_counts, m)?)?;
    m.add_function(wrap_pyfunction!(circuit_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(circuits_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(direct_read_status, m)?)?;
    m.add_function(wrap_pyfunction!(encode_operator, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pauli, m)?)?;
    m.add_function(wrap_pyfunction!(decode_counts, m)?)?;
    m.add_function(wrap_pyfunction!(decode_divided_counts, m)?)?;
    m.add_function(wrap_pyfunction!(read_sampling_archive, m)?)?;
    m.add_function(wrap_pyfunction!(read_archive, m)?)?;
    m.add_function(wrap_pyfunction!(write_archive, m)?)?;
    m.add_function(wrap_pyfunction!(circuits_input, m)?)?;
    m.add_function(wrap_pyfunction!(programs_input, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_input, m)?)?;
    m.add_function(wrap_pyfunction!(sse_input, m)?)?;
    m.add_function(wrap_pyfunction!(circuit_inputs, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_inputs, m)?)?;
    m.add_class::<JobInput>()?;
    m.add_function(wrap_pyfunction!(parse_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(native_gates, m)?)?;
    m.add(
        "ArchiveTooLargeError",
        m.py().get_type::<error::ArchiveTooLargeError>(),
    )?;
    Ok(())
}
