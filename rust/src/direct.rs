//! The guarded direct read of `quri_parts_rust` circuits: their gates straight from the
//! Rust vector inside the Python object, instead of one Python object and a few getter
//! calls per gate.
//!
//! `quri_parts_rust` keeps a circuit as a `#[repr(C)]` struct (qubit count, cbit count,
//! the gate `Vec`, ...) inside its PyO3 object, and each gate as a `#[repr(C)]` enum
//! value whose `u32` tag is the variant's position. That layout is nobody's API, so the
//! read must never be wrong and never crash; any doubt sends a circuit to the getter
//! reader (`ir::read_through_getters`), whose output and errors are the reference's:
//!
//! - only `quri-parts-rust` versions on `ALLOWLIST` (checked in CI), only with the GIL;
//! - a self-test on first use reads probe circuits covering every decoded variant both
//!   ways and compares the printed text; it also detects the `Vec`'s word order (Rust does
//!   not fix it); any mismatch turns the read off for the process;
//! - per circuit: its exact type is one of the probed ones (no subclass), attribute
//!   lookup is the generic one and `gates`, `qubit_count` and the gate attributes the
//!   writer reads are still the original descriptors, and the `qubit_count` getter
//!   succeeds, which PyO3 refuses while the circuit is mutably borrowed;
//! - a variant not decoded here (matrices, Pauli gates, measurements, ...) sends the whole
//!   circuit to the getter reader, so refusals keep the reference's messages.
//!
//! `QURI_PARTS_OQTOPUS_DIRECT_READ=0` turns the read off. The test hook
//! `QURI_PARTS_OQTOPUS_DIRECT_READ=corrupt-<what>` makes the self-test assume a wrong
//! layout (`tag`, `field`, `stride`, `contents`, `word-order`), to prove that it falls back.

use crate::gates::NativeGate;
use crate::gates::NATIVE_GATES;
use crate::ir::{read_through_getters, Circuit, Kind, Param};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyList, PyString, PyTuple, PyType};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

/// The environment variable that turns the direct read off (`0`, `off`, `false`, `no`).
pub const SWITCH: &str = "QURI_PARTS_OQTOPUS_DIRECT_READ";

/// A `quri-parts-rust` version whose layout CI has verified.
struct Known {
    version: &'static str,
    /// Size of one `QuantumGate<f64>` in the gate vector.
    stride: usize,
    /// Offset of the circuit struct in the Python object (after the object header).
    contents: usize,
    /// Tag of each variant decoded here.
    variants: fn() -> Vec<(u32, Variant)>,
}

/// How a decoded variant's fields (8-byte words from byte 8 of the element) print.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    /// Qubit.
    Fixed(&'static str),
    /// Qubit, angle.
    Rotation(&'static str),
    /// Qubit, then this many angles.
    U(&'static str, usize),
    /// Control (or first target), target.
    Two(&'static str),
    /// Two controls, target.
    Three(&'static str),
}

impl Variant {
    /// How a gate of the table is laid out in its enum variant: qubits, then angles.
    fn of(gate: &NativeGate) -> Variant {
        match gate.kind {
            Kind::Fixed(s) => Variant::Fixed(s),
            Kind::Rotation(s) => Variant::Rotation(s),
            Kind::U(s) => Variant::U(s, gate.n_params),
            Kind::Two(s) => Variant::Two(s),
            Kind::Three(s) => Variant::Three(s),
        }
    }
}

/// The decoded variants of `quri_parts_rust` 0.27: the gate table's, by their 0.27 tags.
fn variants_0_27() -> Vec<(u32, Variant)> {
    NATIVE_GATES
        .iter()
        .map(|gate| (gate.tag_0_27, Variant::of(gate)))
        .collect()
}

const ALLOWLIST: &[Known] = &[Known {
    version: "0.27.0",
    stride: 64,
    contents: 16,
    variants: variants_0_27,
}];

/// Smallest address taken for a heap pointer (the first page is never mapped).
const MIN_POINTER: usize = 4096;
const TABLE_SIZE: usize = 32;

/// Where the gate vector's three words are, as byte offsets in the Python object.
#[derive(Clone, Copy, Debug, PartialEq)]
struct VecWords {
    ptr: usize,
    cap: usize,
    len: usize,
}

/// The layout the self-test confirmed.
struct Layout {
    stride: usize,
    words: VecWords,
    table: [Option<Variant>; TABLE_SIZE],
}

impl Layout {
    /// The circuit's gates, or None when its vector looks wrong or holds a variant this
    /// layout does not decode.
    ///
    /// # Safety
    /// `object` must point to a live object of one of the admitted types (so it spans the
    /// smallest `__basicsize__` of them), the GIL must be held, and nothing may mutate the
    /// circuit while this runs: no mutable borrow exists (its `qubit_count` getter just
    /// succeeded) and no Python code runs here, so none can begin.
    unsafe fn read(&self, object: *const u8, qubit_count: i64) -> Option<Circuit> {
        let (ptr, len) = self.vector(object)?;
        let mut circuit = Circuit {
            qubit_count,
            gates: Vec::with_capacity(len),
            params: Vec::new(),
        };
        for index in 0..len {
            // SAFETY: `vector` checked `len <= cap`, so element `index` lies inside the
            // allocation of `cap * stride` bytes that the vector owns; the circuit is not
            // mutated meanwhile (see above).
            let (kind, qubits, params) = unsafe { self.gate(ptr.add(index * self.stride))? };
            circuit.push(kind, qubits, params.iter().map(|&p| Param::Float(p)));
        }
        Some(circuit)
    }

    /// The vector's data pointer and length, if its words are consistent.
    ///
    /// # Safety
    /// As `read`.
    unsafe fn vector(&self, object: *const u8) -> Option<(*const u8, usize)> {
        // SAFETY: the self-test made the layout only with the three offsets 8 bytes or more
        // below the smallest `__basicsize__` of the admitted types, so each word lies inside
        // the object; they hold the vector's fields.
        let word = |offset: usize| unsafe { object.add(offset).cast::<usize>().read_unaligned() };
        let (ptr, cap, len) = (
            word(self.words.ptr),
            word(self.words.cap),
            word(self.words.len),
        );
        let sane = len <= cap
            && cap <= isize::MAX as usize / self.stride
            && ptr % 8 == 0
            && (cap == 0 || ptr >= MIN_POINTER);
        sane.then_some((ptr as *const u8, len))
    }

    /// One gate: its kind, printed qubits and angles.
    ///
    /// # Safety
    /// `element` must point to a live gate of the vector (`stride` readable bytes).
    unsafe fn gate(&self, element: *const u8) -> Option<(Kind, [i64; 3], Angles)> {
        // SAFETY (this block and `field`): the tag is the element's first 4 bytes, always
        // initialised; fields are read only for decoded variants, whose words 1..=4 (bytes
        // 8..40, below the stride) they are; all of it lies inside the element.
        let tag = unsafe { element.cast::<u32>().read_unaligned() } as usize;
        let variant = (*self.table.get(tag)?)?;
        let field = |k: usize| unsafe { element.add(8 + 8 * k).cast::<u64>().read_unaligned() };
        let qubit = |k: usize| i64::try_from(field(k)).ok();
        let mut qubits = [0i64; 3];
        let mut angles = Angles::default();
        let kind = match variant {
            Variant::Fixed(symbol) => {
                qubits[0] = qubit(0)?;
                Kind::Fixed(symbol)
            }
            Variant::Rotation(symbol) => {
                qubits[0] = qubit(0)?;
                angles.push(f64::from_bits(field(1)));
                Kind::Rotation(symbol)
            }
            Variant::U(symbol, count) => {
                qubits[0] = qubit(0)?;
                for k in 1..=count {
                    angles.push(f64::from_bits(field(k)));
                }
                Kind::U(symbol)
            }
            Variant::Two(symbol) => {
                qubits[..2].copy_from_slice(&[qubit(0)?, qubit(1)?]);
                Kind::Two(symbol)
            }
            Variant::Three(symbol) => {
                qubits.copy_from_slice(&[qubit(0)?, qubit(1)?, qubit(2)?]);
                Kind::Three(symbol)
            }
        };
        Some((kind, qubits, angles))
    }
}

/// Up to three angles of one gate, without allocating.
#[derive(Clone, Copy, Default)]
struct Angles {
    values: [f64; 3],
    len: usize,
}

impl Angles {
    fn push(&mut self, value: f64) {
        self.values[self.len] = value;
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &f64> {
        self.values[..self.len].iter()
    }
}

/// What must still hold of a type for its instances to read as they did when probed: the
/// same MRO, generic attribute lookup, and the original descriptors for `attributes`.
pub struct TypeGuard {
    ty: Py<PyType>,
    mro: Vec<Py<PyType>>,
    /// Name, the MRO position of the class defining it, the descriptor found there.
    attributes: Vec<(Py<PyString>, usize, Py<PyAny>)>,
}

impl TypeGuard {
    pub fn capture(ty: &Bound<'_, PyType>, attributes: &[&str]) -> Result<TypeGuard, String> {
        let py = ty.py();
        let failed = |e: PyErr| format!("cannot inspect {}: {e}", type_name(ty));
        let mro: Vec<Py<PyType>> = ty
            .getattr("__mro__")
            .and_then(|m| m.extract())
            .map_err(failed)?;
        let mut found = Vec::new();
        for &name in attributes {
            let key = PyString::intern(py, name);
            let mut defined = None;
            for (position, class) in mro.iter().enumerate() {
                if let Ok(descriptor) = class_dict(class.bind(py)).map_err(failed)?.get_item(&key) {
                    defined = Some((position, descriptor.unbind()));
                    break;
                }
            }
            let (position, descriptor) =
                defined.ok_or_else(|| format!("{} has no attribute {name}", type_name(ty)))?;
            found.push((key.unbind(), position, descriptor));
        }
        let guard = TypeGuard {
            ty: ty.clone().unbind(),
            mro,
            attributes: found,
        };
        if !guard.holds(py) {
            return Err(format!("{} has a custom attribute lookup", type_name(ty)));
        }
        Ok(guard)
    }

    pub fn is(&self, ty: &Bound<'_, PyType>) -> bool {
        self.ty.bind(ty.py()).is(ty)
    }

    /// True when the type still looks up attributes as when it was captured. May run
    /// Python code (a replaced `__mro__`...), so it comes before any read.
    pub fn holds(&self, py: Python<'_>) -> bool {
        let ty = self.ty.bind(py);
        // SAFETY: `ty` is a live type object; PyType_GetSlot reads one of its slots.
        let getattro = unsafe { ffi::PyType_GetSlot(ty.as_type_ptr(), ffi::Py_tp_getattro) };
        if getattro != ffi::PyObject_GenericGetAttr as *mut std::ffi::c_void {
            return false;
        }
        let Ok(mro) = ty.getattr(intern!(py, "__mro__")) else {
            return false;
        };
        let Ok(mro) = mro.cast_into::<PyTuple>() else {
            return false;
        };
        if mro.len() != self.mro.len() || mro.iter().zip(&self.mro).any(|(a, b)| !a.is(b.bind(py)))
        {
            return false;
        }
        let mut dicts = Vec::with_capacity(self.mro.len());
        for class in &self.mro {
            match class_dict(class.bind(py)) {
                Ok(dict) => dicts.push(dict),
                Err(_) => return false,
            }
        }
        self.attributes.iter().all(|(name, position, descriptor)| {
            let name = name.bind(py);
            dicts[..*position]
                .iter()
                .all(|d| !matches!(d.contains(name), Ok(true)))
                && dicts[*position]
                    .get_item(name)
                    .is_ok_and(|found| found.is(descriptor.bind(py)))
        })
    }
}

fn class_dict<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    class.getattr(intern!(class.py(), "__dict__"))
}

fn type_name(ty: &Bound<'_, PyType>) -> String {
    ty.name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "a type".into())
}

/// The types whose instances are read directly, and what must hold of them.
struct Reader {
    circuits: Vec<TypeGuard>,
    gate: TypeGuard,
    layout: Layout,
}

impl Reader {
    /// True when `circuit` is an instance of an admitted type that still reads as probed.
    fn admits(&self, circuit: &Bound<'_, PyAny>) -> bool {
        let py = circuit.py();
        let ty = circuit.get_type();
        match self.circuits.iter().find(|guard| guard.is(&ty)) {
            Some(guard) => guard.holds(py) && self.gate.holds(py),
            None => false,
        }
    }

    fn read(&self, circuit: &Bound<'_, PyAny>) -> Option<Circuit> {
        if !self.admits(circuit) {
            return None;
        }
        // The original getter borrows the circuit, so this fails while it is mutably
        // borrowed; the getter reader then raises the reference's error.
        let qubit_count = circuit.getattr(intern!(circuit.py(), "qubit_count")).ok()?;
        let qubit_count = qubit_count
            .cast_exact::<PyInt>()
            .ok()?
            .extract::<i64>()
            .ok()?;
        // From here on no Python code runs and the GIL stays held, so no borrow can begin.
        // SAFETY: `admits` checked the exact type (so the object's size and layout are the
        // probed ones) and the getter above proved that no mutable borrow exists.
        unsafe { self.layout.read(circuit.as_ptr().cast(), qubit_count) }
    }
}

/// A value made by a self-test on first use, or the reason it could not be made.
pub struct SelfTested<T> {
    phase: AtomicU8,
    value: OnceLock<T>,
    reason: OnceLock<String>,
}

const UNTESTED: u8 = 0;
const TESTING: u8 = 1;
const PASSED: u8 = 2;
const FAILED: u8 = 3;

impl<T> SelfTested<T> {
    pub const fn new() -> Self {
        SelfTested {
            phase: AtomicU8::new(UNTESTED),
            value: OnceLock::new(),
            reason: OnceLock::new(),
        }
    }

    /// The value, running `test` if nobody has yet. While a test runs (it calls Python
    /// code, which may call back here or let another thread in) callers get None.
    pub fn get(&self, test: impl FnOnce() -> Result<T, String>) -> Option<&T> {
        match self.phase.load(Ordering::Acquire) {
            PASSED => self.value.get(),
            UNTESTED
                if self
                    .phase
                    .compare_exchange(UNTESTED, TESTING, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok() =>
            {
                let phase = match test() {
                    Ok(value) => {
                        let _ = self.value.set(value);
                        PASSED
                    }
                    Err(reason) => {
                        let _ = self.reason.set(reason);
                        FAILED
                    }
                };
                self.phase.store(phase, Ordering::Release);
                self.value.get().filter(|_| phase == PASSED)
            }
            _ => None,
        }
    }

    /// Why the value is there or not, in words.
    pub fn reason(&self) -> String {
        match self.phase.load(Ordering::Acquire) {
            PASSED => "the self-test passed".to_owned(),
            FAILED => self.reason.get().cloned().unwrap_or_default(),
            TESTING => "the self-test is running".to_owned(),
            _ => "not used yet".to_owned(),
        }
    }
}

static READER: SelfTested<Reader> = SelfTested::new();
static READ_DIRECTLY: AtomicU64 = AtomicU64::new(0);
static READ_OTHERWISE: AtomicU64 = AtomicU64::new(0);

fn reader(py: Python<'_>) -> Option<&'static Reader> {
    READER.get(|| self_test(py))
}

/// True once the self-test has passed in this process (running it on first use).
pub fn enabled(py: Python<'_>) -> bool {
    reader(py).is_some()
}

/// The circuit read from its gate vector, or None when it must go through the getters.
pub fn read_circuit(circuit: &Bound<'_, PyAny>) -> Option<Circuit> {
    let read = reader(circuit.py()).and_then(|reader| reader.read(circuit));
    let counter = if read.is_some() {
        &READ_DIRECTLY
    } else {
        &READ_OTHERWISE
    };
    counter.fetch_add(1, Ordering::Relaxed);
    read
}

/// True for a bound parametric circuit that the direct read admits.
pub fn is_bound_circuit(circuit: &Bound<'_, PyAny>) -> bool {
    reader(circuit.py()).is_some_and(|reader| {
        reader
            .circuits
            .last()
            .is_some_and(|guard| guard.is(&circuit.get_type()))
            && reader.admits(circuit)
    })
}

/// The guard of QURI Parts' `QuantumGate` type (the attributes the writer reads).
pub fn gate_guard(py: Python<'_>) -> Option<&'static TypeGuard> {
    reader(py).map(|reader| &reader.gate)
}

/// `{"enabled", "reason", "read_directly", "read_through_getters"}` for this process.
pub fn status(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("enabled", enabled(py))?;
    out.set_item("reason", READER.reason())?;
    out.set_item("read_directly", READ_DIRECTLY.load(Ordering::Relaxed))?;
    out.set_item(
        "read_through_getters",
        READ_OTHERWISE.load(Ordering::Relaxed),
    )?;
    Ok(out)
}

/// What `QURI_PARTS_OQTOPUS_DIRECT_READ` asks for.
enum Switch {
    On,
    Off,
    /// The test hook: assume this part of the layout wrong.
    Corrupt(String),
}

fn switch() -> Switch {
    match std::env::var(SWITCH)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "0" | "off" | "false" | "no" => Switch::Off,
        hook if hook.starts_with("corrupt-") => Switch::Corrupt(hook["corrupt-".len()..].into()),
        _ => Switch::On,
    }
}

fn self_test(py: Python<'_>) -> Result<Reader, String> {
    let corrupt = match switch() {
        Switch::Off => return Err(format!("turned off by {SWITCH}")),
        Switch::On => None,
        Switch::Corrupt(what) => Some(what),
    };
    let sys = py.import("sys").map_err(|e| e.to_string())?;
    if let Ok(gil_enabled) = sys.call_method0("_is_gil_enabled") {
        if !gil_enabled.is_truthy().unwrap_or(false) {
            return Err("the interpreter runs without the GIL".into());
        }
    }
    let version: String = py
        .import("importlib.metadata")
        .and_then(|m| m.call_method1("version", ("quri-parts-rust",)))
        .and_then(|v| v.extract())
        .map_err(|e| format!("quri-parts-rust is not installed: {e}"))?;
    let known = ALLOWLIST
        .iter()
        .find(|k| k.version == version)
        .ok_or_else(|| {
            let listed: Vec<&str> = ALLOWLIST.iter().map(|k| k.version).collect();
            format!(
                "quri-parts-rust {version} is not on the allowlist ({})",
                listed.join(", ")
            )
        })?;
    let probes = Probes::build(py).map_err(|e| format!("cannot build the probe circuits: {e}"))?;
    let reader = probes.reader(known, corrupt.as_deref())?;
    probes.check(&reader)?;
    Ok(reader)
}

/// Circuits built through QURI Parts' public API, each gate variant with distinct values.
struct Probes<'py> {
    /// Circuits that read directly, with their gate counts.
    readable: Vec<(Bound<'py, PyAny>, usize)>,
    /// Circuits with one variant the direct read must leave to the getters.
    undecoded: Vec<Bound<'py, PyAny>>,
    types: Vec<Bound<'py, PyType>>,
    gate_type: Bound<'py, PyType>,
}

const PROBE_QUBITS: usize = 29;
const PROBE_CBITS: usize = 19;

impl<'py> Probes<'py> {
    fn build(py: Python<'py>) -> PyResult<Self> {
        let circuit_module = py.import("quri_parts.rust.circuit.circuit")?;
        let parametric = py.import("quri_parts.rust.circuit.circuit_parametric")?;
        let gate_type = py
            .import("quri_parts.rust.circuit.gate")?
            .getattr("QuantumGate")?
            .cast_into::<PyType>()?;
        let mutable = circuit_module.getattr("QuantumCircuit")?;
        let types = vec![
            circuit_module
                .getattr("ImmutableQuantumCircuit")?
                .cast_into::<PyType>()?,
            mutable.clone().cast_into::<PyType>()?,
            parametric
                .getattr("ImmutableBoundParametricQuantumCircuit")?
                .cast_into::<PyType>()?,
        ];
        let gate = |name: &str, targets: &[usize], controls: &[usize], params: &[f64]| {
            let kwargs = PyDict::new(py);
            kwargs.set_item("control_indices", controls.to_vec())?;
            kwargs.set_item("params", params.to_vec())?;
            gate_type.call((name, targets.to_vec()), Some(&kwargs))
        };
        let every = mutable.call1((PROBE_QUBITS, PROBE_CBITS))?;
        let mut count = 0;
        for round in 0..2usize {
            let q = |k: usize| (k + 3 * round) % PROBE_QUBITS;
            let a = |x: f64| if round == 0 { x } else { -3.0 * x - 0.5 };
            let fixed = [
                "Identity", "X", "Y", "Z", "H", "S", "Sdag", "SqrtX", "T", "Tdag",
            ];
            for (k, name) in fixed.iter().enumerate() {
                every.call_method1("add_gate", (gate(name, &[q(k + 1)], &[], &[])?,))?;
            }
            for (k, (name, angle)) in [("RX", 0.1), ("RY", -2.5e-7), ("RZ", 1e300)]
                .iter()
                .enumerate()
            {
                every.call_method1("add_gate", (gate(name, &[q(k + 11)], &[], &[a(*angle)])?,))?;
            }
            let u = [
                ("U1", vec![0.75]),
                ("U2", vec![-1.5, 2.25]),
                ("U3", vec![3.5, -4.5, 1e-5]),
            ];
            for (k, (name, angles)) in u.iter().enumerate() {
                let angles: Vec<f64> = angles.iter().map(|&x| a(x)).collect();
                every.call_method1("add_gate", (gate(name, &[q(k + 14)], &[], &angles)?,))?;
            }
            every.call_method1("add_gate", (gate("CNOT", &[q(17)], &[q(18)], &[])?,))?;
            every.call_method1("add_gate", (gate("CZ", &[q(19)], &[q(20)], &[])?,))?;
            every.call_method1("add_gate", (gate("SWAP", &[q(21), q(22)], &[], &[])?,))?;
            every.call_method1(
                "add_gate",
                (gate("TOFFOLI", &[q(23)], &[q(24), q(25)], &[])?,),
            )?;
            count += 20;
        }
        for k in 0..5 {
            every.call_method1("add_gate", (gate("H", &[k + 2], &[], &[])?,))?;
            count += 1;
        }
        let frozen = every.call_method0("freeze")?;
        let empty = mutable.call1((3,))?;
        let unbound = parametric
            .getattr("ParametricQuantumCircuit")?
            .call1((9,))?;
        unbound.call_method1("add_H_gate", (0,))?;
        unbound.call_method1("add_ParametricRX_gate", (1,))?;
        unbound.call_method1("add_RZ_gate", (2, 0.3))?;
        unbound.call_method1("add_ParametricRY_gate", (3,))?;
        unbound.call_method1("add_CNOT_gate", (4, 5))?;
        unbound.call_method1("add_ParametricRZ_gate", (6,))?;
        let bound = unbound.call_method1("bind_parameters", (vec![0.125, -7.5, 2e-9],))?;
        let readable = vec![(every, count), (frozen, count), (empty, 0), (bound, 6)];
        let mut undecoded = Vec::new();
        let others: [(&str, &[usize], &[f64]); 5] = [
            ("SqrtXdag", &[0], &[]),
            ("SqrtY", &[1], &[]),
            ("SqrtYdag", &[2], &[]),
            ("Pauli", &[0, 1], &[]),
            ("PauliRotation", &[0, 1], &[0.5]),
        ];
        for (name, targets, params) in others {
            let circuit = mutable.call1((3, 1))?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("params", params.to_vec())?;
            if name.starts_with("Pauli") {
                kwargs.set_item("pauli_ids", vec![1, 3])?;
            }
            circuit.call_method1(
                "add_gate",
                (gate_type.call((name, targets.to_vec()), Some(&kwargs))?,),
            )?;
            undecoded.push(circuit);
        }
        let measured = mutable.call1((3, 1))?;
        measured.call_method1("measure", (0, 0))?;
        undecoded.push(measured);
        let matrix = mutable.call1((3, 1))?;
        let identity = PyList::new(py, [vec![1.0, 0.0], vec![0.0, 1.0]])?;
        matrix.call_method1("add_UnitaryMatrix_gate", (vec![0], identity))?;
        undecoded.push(matrix);
        Ok(Probes {
            readable,
            undecoded,
            types,
            gate_type,
        })
    }

    /// The reader for `known`, with the vector's word order detected from the probes.
    fn reader(&self, known: &Known, corrupt: Option<&str>) -> Result<Reader, String> {
        let py = self.gate_type.py();
        let attributes = ["gates", "qubit_count"];
        let circuits = self
            .types
            .iter()
            .map(|ty| TypeGuard::capture(ty, &attributes))
            .collect::<Result<Vec<_>, _>>()?;
        let gate_attributes = ["name", "target_indices", "control_indices", "params"];
        let gate = TypeGuard::capture(&self.gate_type, &gate_attributes)?;
        let mut object_size = usize::MAX;
        for ty in &self.types {
            let size: usize = ty
                .getattr(intern!(py, "__basicsize__"))
                .and_then(|s| s.extract())
                .map_err(|e| e.to_string())?;
            object_size = object_size.min(size);
        }
        let mut stride = known.stride;
        let mut contents = known.contents;
        let mut variants = (known.variants)();
        match corrupt {
            Some("tag") => variants
                .iter_mut()
                .for_each(|(tag, _)| *tag = (*tag + 1) % 23),
            Some("field") => variants.iter_mut().for_each(|(_, v)| *v = shifted(*v)),
            Some("stride") => stride -= 8,
            Some("contents") => contents += 8,
            Some("word-order") | None => {}
            Some(other) => return Err(format!("unknown test hook {SWITCH}=corrupt-{other}")),
        }
        // qubit count, cbit count, then the vector's three words.
        let first = contents + 16;
        if first + 24 > object_size || contents + 16 > object_size {
            return Err(format!(
                "the circuit object ({object_size} bytes) is smaller than expected"
            ));
        }
        for (circuit, _) in &self.readable {
            let counts = (
                read_word(circuit, contents),
                read_word(circuit, contents + 8),
            );
            let expected = (
                circuit_count(circuit, "qubit_count")?,
                circuit_count(circuit, "cbit_count")?,
            );
            if counts != expected {
                return Err(format!(
                    "self-test: qubit and cbit counts read {counts:?}, expected {expected:?}"
                ));
            }
        }
        let words = match corrupt {
            Some("word-order") => VecWords {
                ptr: first + 16,
                cap: first,
                len: first + 8,
            },
            _ => self.detect_words(first, stride)?,
        };
        for (circuit, count) in &self.readable {
            let [ptr, cap, len] =
                [words.ptr, words.cap, words.len].map(|at| read_word(circuit, at));
            let plausible =
                len == *count && cap >= len && ptr % 8 == 0 && (cap == 0 || ptr >= MIN_POINTER);
            if !plausible {
                return Err(format!(
                    "self-test: the gate vector's words (ptr {ptr:#x}, cap {cap}, len {len}) do \
                     not fit a circuit of {count} gates"
                ));
            }
        }
        let mut table = [None; TABLE_SIZE];
        for (tag, variant) in variants {
            table[tag as usize] = Some(variant);
        }
        Ok(Reader {
            circuits,
            gate,
            layout: Layout {
                stride,
                words,
                table,
            },
        })
    }

    /// The one order of (ptr, cap, len) among the three words at `first` that fits every
    /// readable probe; an error when none or several do.
    fn detect_words(&self, first: usize, stride: usize) -> Result<VecWords, String> {
        let offsets = [first, first + 8, first + 16];
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let fitting: Vec<VecWords> = orders
            .iter()
            .map(|&[p, c, l]| VecWords {
                ptr: offsets[p],
                cap: offsets[c],
                len: offsets[l],
            })
            .filter(|words| {
                self.readable.iter().all(|(circuit, count)| {
                    let [ptr, cap, len] =
                        [words.ptr, words.cap, words.len].map(|at| read_word(circuit, at));
                    len == *count
                        && cap >= len
                        && cap <= isize::MAX as usize / stride
                        && ptr % 8 == 0
                        && (cap == 0 || ptr >= MIN_POINTER)
                })
            })
            .collect();
        match fitting.as_slice() {
            [one] => Ok(*one),
            [] => Err("self-test: no order of the gate vector's words fits the probes".into()),
            _ => Err("self-test: the gate vector's word order is ambiguous".into()),
        }
    }

    /// Every readable probe reads the same both ways; every undecoded one is declined.
    fn check(&self, reader: &Reader) -> Result<(), String> {
        for (circuit, _) in &self.readable {
            let name = type_name(&circuit.get_type());
            let direct = reader
                .read(circuit)
                .ok_or_else(|| format!("self-test: a {name} probe was not read directly"))?;
            let through_getters =
                read_through_getters(circuit).map_err(|e| format!("self-test: {e}"))?;
            if !direct.is_identical(&through_getters) {
                return Err(format!(
                    "self-test: a {name} probe reads differently from its getters"
                ));
            }
        }
        for circuit in &self.undecoded {
            if reader.read(circuit).is_some() {
                return Err(
                    "self-test: a gate the direct read must leave alone was decoded".into(),
                );
            }
        }
        Ok(())
    }
}

/// The variant as it would read if its fields started one word later.
fn shifted(variant: Variant) -> Variant {
    match variant {
        Variant::Fixed(s) => Variant::Two(s),
        Variant::Rotation(s) => Variant::U(s, 2),
        other => other,
    }
}

/// The word at `offset` of a probe object.
fn read_word(object: &Bound<'_, PyAny>, offset: usize) -> usize {
    // SAFETY: callers keep `offset + 8` within the smallest `__basicsize__` of the probe
    // types, so the read stays inside the live object.
    unsafe {
        object
            .as_ptr()
            .cast::<u8>()
            .add(offset)
            .cast::<usize>()
            .read_unaligned()
    }
}

fn circuit_count(circuit: &Bound<'_, PyAny>, what: &str) -> Result<usize, String> {
    circuit
        .getattr(what)
        .and_then(|n| n.extract())
        .map_err(|e| format!("self-test: {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIDE: usize = 64;
    const WORDS: VecWords = VecWords {
        ptr: 8,
        cap: 16,
        len: 24,
    };

    fn layout() -> Layout {
        let mut table = [None; TABLE_SIZE];
        for (tag, variant) in variants_0_27() {
            table[tag as usize] = Some(variant);
        }
        Layout {
            stride: STRIDE,
            words: WORDS,
            table,
        }
    }

    /// A gate vector's bytes: each element its tag, then its fields as 8-byte words.
    fn elements(gates: &[(u32, &[u64])]) -> Vec<u64> {
        let mut words = vec![0u64; gates.len() * STRIDE / 8];
        for (index, (tag, fields)) in gates.iter().enumerate() {
            let at = index * STRIDE / 8;
            words[at] = u64::from(*tag);
            words[at + 1..at + 1 + fields.len()].copy_from_slice(fields);
        }
        words
    }

    /// An object whose vector words point at `data` (ptr, cap, len at `WORDS`).
    fn object(ptr: usize, cap: usize, len: usize) -> [u64; 4] {
        let mut object = [0u64; 4];
        object[WORDS.ptr / 8] = ptr as u64;
        object[WORDS.cap / 8] = cap as u64;
        object[WORDS.len / 8] = len as u64;
        object
    }

    fn read(object: &[u64; 4], qubit_count: i64) -> Option<Circuit> {
        // SAFETY: `object` spans the three words, and a vector they describe (when `sane`)
        // points at live test data of `cap * STRIDE` bytes that nothing mutates.
        unsafe { layout().read(object.as_ptr().cast::<u8>(), qubit_count) }
    }

    #[test]
    fn each_decoded_shape_reads_its_qubits_and_angles() {
        let data = elements(&[
            (4, &[2]),                    // h q[2]
            (15, &[1, 0.5f64.to_bits()]), // rz(0.5) q[1]
            (
                18,
                &[0, 1.0f64.to_bits(), 2.0f64.to_bits(), 3.0f64.to_bits()],
            ), // u3
            (19, &[0, 3]),                // cx q[0], q[3]
            (22, &[0, 1, 2]),             // ccx
        ]);
        let circuit = read(&object(data.as_ptr() as usize, 5, 5), 4).expect("decoded");
        assert_eq!(circuit.qubit_count, 4);
        let kinds: Vec<Kind> = circuit.gates.iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Fixed("h"),
                Kind::Rotation("rz"),
                Kind::U("u3"),
                Kind::Two("cx"),
                Kind::Three("ccx")
            ]
        );
        assert_eq!(circuit.gates[0].qubits[0], 2);
        assert_eq!(circuit.gates[3].qubits[..2], [0, 3]);
        assert_eq!(circuit.gate_params(&circuit.gates[1]), [Param::Float(0.5)]);
        assert_eq!(
            circuit.gate_params(&circuit.gates[2]),
            [Param::Float(1.0), Param::Float(2.0), Param::Float(3.0)]
        );
    }

    #[test]
    fn a_variant_it_does_not_decode_leaves_the_whole_circuit_to_the_getters() {
        for tag in [8u32, 9, 10, 23, 31, 1000] {
            let data = elements(&[(4, &[0]), (tag, &[0])]);
            assert!(
                read(&object(data.as_ptr() as usize, 2, 2), 1).is_none(),
                "tag {tag}"
            );
        }
    }

    #[test]
    fn a_qubit_beyond_i64_is_not_read() {
        let data = elements(&[(1, &[u64::MAX])]);
        assert!(read(&object(data.as_ptr() as usize, 1, 1), 1).is_none());
    }

    #[test]
    fn vector_words_that_do_not_fit_a_vector_are_refused() {
        let data = elements(&[(1, &[0])]);
        let ptr = data.as_ptr() as usize;
        assert!(read(&object(ptr, 1, 1), 1).is_some());
        assert!(read(&object(ptr, 1, 2), 1).is_none(), "len beyond cap");
        assert!(
            read(&object(ptr + 4, 1, 1), 1).is_none(),
            "misaligned pointer"
        );
        assert!(
            read(&object(16, 1, 1), 1).is_none(),
            "a pointer in the first page"
        );
        assert!(
            read(&object(ptr, usize::MAX / 2, 1), 1).is_none(),
            "cap * stride overflows"
        );
        let empty = read(&object(0, 0, 0), 3).expect("an empty vector needs no pointer");
        assert!(empty.gates.is_empty());
    }

    #[test]
    fn a_shifted_variant_reads_one_word_later() {
        assert_eq!(shifted(Variant::Fixed("x")), Variant::Two("x"));
        assert_eq!(shifted(Variant::Rotation("rz")), Variant::U("rz", 2));
        assert_eq!(shifted(Variant::Two("cx")), Variant::Two("cx"));
    }

    #[test]
    fn the_self_test_latch_runs_once_and_keeps_its_verdict() {
        let passed: SelfTested<u32> = SelfTested::new();
        assert_eq!(passed.reason(), "not used yet");
        let mut runs = 0;
        assert_eq!(
            passed.get(|| {
                runs += 1;
                Ok(7)
            }),
            Some(&7)
        );
        assert_eq!(passed.get(|| unreachable!("tested once")), Some(&7));
        assert_eq!(runs, 1);
        assert_eq!(passed.reason(), "the self-test passed");

        let failed: SelfTested<u32> = SelfTested::new();
        assert_eq!(failed.get(|| Err("probe mismatch".into())), None);
        assert_eq!(failed.get(|| unreachable!("never again")), None);
        assert_eq!(failed.reason(), "probe mismatch");

        // A caller that comes back while the test runs (the test calls Python) gets None.
        let reentered: SelfTested<u32> = SelfTested::new();
        let inner = reentered.get(|| {
            assert_eq!(reentered.get(|| unreachable!("no nested test")), None);
            assert_eq!(reentered.reason(), "the self-test is running");
            Ok(1)
        });
        assert_eq!(inner, Some(&1));
    }
}
