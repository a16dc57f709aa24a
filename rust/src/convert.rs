//! Counts between Python objects and the core's plain data: mappings read in, `Counter`s
//! and `{index: Counter}` dicts built out. Parsing and splitting happen elsewhere, without
//! the GIL.

use crate::counts::{parse_program_index, Counts, DividedCounts, KeyDecoder};
use crate::error::CoreError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyString, PyType};

static COUNTER: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// An empty `collections.Counter` (what the reference's `SamplingCounts` are).
pub fn new_counter(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let counter = COUNTER.import(py, "collections", "Counter")?.call0()?;
    Ok(counter.cast_into::<PyDict>()?)
}

/// A `Counter` of `counts`; a repeated key keeps its last count, as a dict would.
pub fn counter_from<'py>(py: Python<'py>, counts: &[(u64, u64)]) -> PyResult<Bound<'py, PyDict>> {
    let counter = new_counter(py)?;
    for &(key, count) in counts {
        counter.set_item(key, count)?;
    }
    Ok(counter)
}

/// `{index: Counter}` of divided counts.
pub fn divided_from<'py>(py: Python<'py>, divided: &DividedCounts) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (index, counts) in divided {
        out.set_item(index, counter_from(py, counts)?)?;
    }
    Ok(out)
}

/// Reads a counts mapping: bit-string keys (one width per mapping) or non-negative int
/// keys, non-negative int counts.
pub fn read_counts_mapping(mapping: &Bound<'_, PyAny>) -> PyResult<Counts> {
    let mut keys = KeyDecoder::default();
    let mut counts = Vec::new();
    let mut read = |key: Bound<'_, PyAny>, count: Bound<'_, PyAny>| -> PyResult<()> {
        let decoded = if let Ok(text) = key.cast::<PyString>() {
            keys.decode(text.to_str()?)?
        } else {
            non_negative_int(&key).ok_or_else(|| {
                CoreError::InvalidCounts(format!(
                    "counts key is not a bit string: {}",
                    key.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?
        };
        let count = non_negative_int(&count).ok_or_else(|| {
            CoreError::InvalidCounts(format!(
                "count of {} is not a non-negative integer: {}",
                key.repr().map(|r| r.to_string()).unwrap_or_default(),
                count.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
        counts.push((decoded, count));
        Ok(())
    };
    if let Ok(dict) = mapping.cast::<PyDict>() {
        for (key, count) in dict.iter() {
            read(key, count)?;
        }
    } else {
        for item in mapping_items(mapping, "counts")?.try_iter()? {
            let (key, count) = item?.extract()?;
            read(key, count)?;
        }
    }
    Ok(counts)
}

/// Reads a `divided_counts` mapping `{index: counts mapping}`; an index may be an int or
/// its decimal text.
pub fn read_divided_mapping(mapping: &Bound<'_, PyAny>) -> PyResult<DividedCounts> {
    let mut divided = Vec::new();
    for item in mapping_items(mapping, "divided_counts")?.try_iter()? {
        let (index, counts): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let index = match index.cast::<PyString>() {
            Ok(text) => parse_program_index(text.to_str()?)?,
            Err(_) if !index.is_instance_of::<PyBool>() => {
                index.extract::<i64>().map_err(|_| {
                    CoreError::InvalidCounts(format!(
                        "divided_counts key is not a program index: {}",
                        index.repr().map(|r| r.to_string()).unwrap_or_default()
                    ))
                })?
            }
            Err(_) => {
                return Err(CoreError::InvalidCounts(
                    "divided_counts key is not a program index: True/False".into(),
                )
                .into())
            }
        };
        divided.push((index, read_counts_any(&counts)?));
    }
    Ok(divided)
}

/// Counts from a mapping, or from JSON text (`str`/`bytes`) parsed without the GIL.
pub fn read_counts_any(raw: &Bound<'_, PyAny>) -> PyResult<Counts> {
    match parse_json_text(raw, crate::counts::decode_counts_json)? {
        Some(counts) => Ok(counts),
        None => read_counts_mapping(raw),
    }
}

/// Runs `parse` without the GIL over the text of a `str`, `bytes` or `bytearray`; None for
/// any other object.
pub fn parse_json_text<R: Send>(
    raw: &Bound<'_, PyAny>,
    parse: impl FnOnce(&str) -> Result<R, CoreError> + Send,
) -> PyResult<Option<R>> {
    let py = raw.py();
    if let Ok(text) = raw.cast::<PyString>() {
        let text = text.to_str()?;
        return Ok(Some(py.detach(|| parse(text))?));
    }
    let owned;
    let bytes: &[u8] = if let Ok(bytes) = raw.cast::<PyBytes>() {
        bytes.as_bytes()
    } else if let Ok(array) = raw.cast::<PyByteArray>() {
        owned = array.to_vec();
        &owned
    } else {
        return Ok(None);
    };
    let parsed = py.detach(|| {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| CoreError::InvalidCounts(format!("counts JSON is not UTF-8: {e}")))?;
        parse(text)
    })?;
    Ok(Some(parsed))
}

/// `mapping.items()` of a `collections.abc.Mapping`; ValueError naming `what` otherwise.
fn mapping_items<'py>(mapping: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = mapping.py();
    let abc = MAPPING.import(py, "collections.abc", "Mapping")?;
    if !mapping.is_instance(abc)? {
        let shown = mapping.repr().map(|r| r.to_string()).unwrap_or_default();
        let shown: String = shown.chars().take(200).collect();
        return Err(CoreError::InvalidCounts(format!("{what} is not an object: {shown}")).into());
    }
    mapping.call_method0("items")
}

static MAPPING: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn non_negative_int(value: &Bound<'_, PyAny>) -> Option<u64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return None;
    }
    value.extract::<u64>().ok()
}
