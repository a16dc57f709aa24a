//! Job archives: a ZIP holding one deflated JSON file, written and read in Rust. Pure Rust.
//!
//! Writing streams the entry: its content is described as pieces (raw bytes, or texts to
//! escape as JSON), cut into fixed-size chunks that each core renders, CRCs and deflates
//! on its own (each ends on a sync flush, so their concatenation is one valid deflate
//! stream, as pigz does). Only the compressed parts stay; the whole document never exists.

use crate::error::CoreError;
use crate::json::{write_escaped, write_string};
use crate::operator::Term;
use crate::pool;
use crate::text::write_float_repr;
use flate2::{Compress, Compression, Crc, Decompress, FlushCompress, FlushDecompress, Status};
use rayon::prelude::*;
use std::borrow::Cow;
use std::ops::Range;

/// Deflate level for uploads. zlib-rs's level 1 is its "quick" strategy (static Huffman
/// codes), which leaves the benchmark's QASM JSON at 0.50 of its size; level 2 is the
/// first with dynamic codes (0.35, against 0.30 for zlib's default level 6 that the
/// reference uses, which deflates ~5x slower) for ~15% more time. Uploads are bound by the
/// network, so 30% fewer bytes are worth far more than the milliseconds level 1 saves.
pub const LEVEL: u32 = 2;

/// Content bytes per deflate chunk; each chunk restarts the 32 KiB window, which costs
/// well under 1% of the size at this length.
const CHUNK: usize = 1 << 20;

/// First (and smallest) growth step of an inflate buffer.
const INFLATE_STEP: usize = 1 << 20;

/// Largest entry either side accepts (no ZIP64), also the bound against ZIP bombs.
const MAX_ENTRY: u64 = u32::MAX as u64;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
/// 1980-01-01 00:00:00, the DOS epoch: archives are reproducible byte for byte.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

fn too_large(len: u64) -> CoreError {
    CoreError::InvalidArchive(format!(
        "archive entry of {len} bytes needs ZIP64, not supported"
    ))
}

/// A piece of an entry's content: bytes as they are, or UTF-8 text written as the inside
/// of a JSON string literal. Both may be cut at any byte (see `write_escaped`).
pub enum Piece<'a> {
    Raw(Cow<'a, [u8]>),
    Escaped(&'a [u8]),
}

impl Piece<'_> {
    fn source(&self) -> &[u8] {
        match self {
            Piece::Raw(bytes) => bytes,
            Piece::Escaped(text) => text,
        }
    }

    fn render(&self, range: Range<usize>, out: &mut Vec<u8>) {
        match self {
            Piece::Raw(bytes) => out.extend_from_slice(&bytes[range]),
            Piece::Escaped(text) => write_escaped(out, &text[range]),
        }
    }
}

/// An entry's content as pieces, addressed by offsets into their concatenated sources.
pub struct Content<'a> {
    pieces: Vec<Piece<'a>>,
    /// Source offset where each piece starts.
    starts: Vec<usize>,
    source_len: usize,
}

impl<'a> Content<'a> {
    pub fn new(pieces: Vec<Piece<'a>>) -> Self {
        let mut starts = Vec::with_capacity(pieces.len());
        let mut source_len = 0;
        for piece in &pieces {
            starts.push(source_len);
            source_len += piece.source().len();
        }
        Content {
            pieces,
            starts,
            source_len,
        }
    }

    /// Appends the rendered bytes of the source bytes `range` to `out`.
    fn render(&self, range: Range<usize>, out: &mut Vec<u8>) {
        let first = self
            .starts
            .partition_point(|&start| start <= range.start)
            .saturating_sub(1);
        for (piece, &start) in self.pieces[first..].iter().zip(&self.starts[first..]) {
            if start >= range.end {
                break;
            }
            let end = start + piece.source().len();
            piece.render(
                range.start.max(start) - start..range.end.min(end) - start,
                out,
            );
        }
    }
}

/// The job input document `{"program":[...]}` (plus `"operator":[{"pauli":..,"coeff":..}]`)
/// as pieces; compact, as orjson writes it. The programs are escaped only when rendered;
/// the operator's part, small next to the terms it is written from, is written here.
pub fn job_input<'a>(programs: &[&'a str], operator: Option<&[Term]>) -> Content<'a> {
    let fixed = |bytes: &'static [u8]| Piece::Raw(Cow::Borrowed(bytes));
    let mut pieces = Vec::with_capacity(3 * programs.len() + 2);
    pieces.push(fixed(b"{\"program\":["));
    for (i, program) in programs.iter().enumerate() {
        pieces.push(fixed(if i == 0 { b"\"" } else { b",\"" }));
        pieces.push(Piece::Escaped(program.as_bytes()));
        pieces.push(fixed(b"\""));
    }
    let mut tail = b"]".to_vec();
    if let Some(terms) = operator {
        tail.reserve(terms.len() * 48 + 16);
        tail.extend_from_slice(b",\"operator\":[");
        let mut coeff = String::with_capacity(24);
        for (i, term) in terms.iter().enumerate() {
            if i > 0 {
                tail.push(b',');
            }
            tail.extend_from_slice(b"{\"pauli\":");
            write_string(&mut tail, &term.pauli);
            tail.extend_from_slice(b",\"coeff\":");
            coeff.clear();
            write_float_repr(&mut coeff, term.coeff);
            tail.extend_from_slice(coeff.as_bytes());
            tail.push(b'}');
        }
        tail.push(b']');
    }
    tail.push(b'}');
    pieces.push(Piece::Raw(Cow::Owned(tail)));
    Content::new(pieces)
}

/// The SSE job input document `{"sse_program":"<source>"}`, compact, as orjson writes it.
pub fn sse_input(source: &str) -> Content<'_> {
    Content::new(vec![
        Piece::Raw(Cow::Borrowed(b"{\"sse_program\":\"")),
        Piece::Escaped(source.as_bytes()),
        Piece::Raw(Cow::Borrowed(b"\"}")),
    ])
}

/// One deflated chunk: its part of the deflate stream, the CRC of its rendered bytes.
struct Part {
    deflated: Vec<u8>,
    crc: Crc,
    len: usize,
}

/// Renders and deflates `content` in chunks of `chunk` source bytes on all cores. Each
/// task holds one rendered chunk at a time and keeps only its deflated part, so memory is
/// the compressed output plus one chunk (and deflate state) per pool thread.
fn deflate_content(content: &Content<'_>, level: u32, chunk: usize) -> Vec<Part> {
    let count = content.source_len.div_ceil(chunk).max(1);
    let part = |i: usize| {
        let range = i * chunk..((i + 1) * chunk).min(content.source_len);
        let mut rendered = Vec::with_capacity(range.len() + range.len() / 8 + 64);
        content.render(range, &mut rendered);
        let mut crc = Crc::new();
        crc.update(&rendered);
        let deflated = deflate_chunk(&rendered, level, i == count - 1);
        Part {
            deflated,
            crc,
            len: rendered.len(),
        }
    };
    match pool::pool() {
        Some(pool) => pool.install(|| (0..count).into_par_iter().map(part).collect()),
        None => (0..count).map(part).collect(),
    }
}

fn deflate_chunk(chunk: &[u8], level: u32, last: bool) -> Vec<u8> {
    let mut compress = Compress::new(Compression::new(level), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(chunk.len() / 4 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&chunk[consumed..], &mut out, flush)
            .expect("deflate of in-memory data cannot fail");
        let done = compress.total_in() as usize == chunk.len()
            && (status == Status::StreamEnd || (!last && out.len() < out.capacity()));
        if done {
            // The parts are what stays in memory until the archive is written out.
            out.shrink_to_fit();
            return out;
        }
        // Exact steps: doubling would leave up to half of every part unused.
        out.reserve_exact(64 * 1024);
    }
}

/// An entry's content, deflated and checksummed, waiting for its name: the expensive part
/// of an archive, made before the name is known (the server gives it at registration).
pub struct Deflated {
    parts: Vec<Vec<u8>>,
    crc: u32,
    size: u32,
    deflated_len: u32,
}

impl Deflated {
    /// Renders and deflates `content` on all cores.
    pub fn new(content: &Content<'_>) -> Result<Self, CoreError> {
        Self::in_chunks(content, CHUNK)
    }

    fn in_chunks(content: &Content<'_>, chunk: usize) -> Result<Self, CoreError> {
        // Rendering never shrinks the source: refuse what cannot fit before any work.
        if content.source_len as u64 > MAX_ENTRY {
            return Err(too_large(content.source_len as u64));
        }
        let parts = deflate_content(content, LEVEL, chunk);
        let mut crc = Crc::new();
        for part in &parts {
            crc.combine(&part.crc);
        }
        let size = parts.iter().map(|part| part.len as u64).sum::<u64>();
        let parts: Vec<Vec<u8>> = parts.into_iter().map(|part| part.deflated).collect();
        let deflated_len = parts.iter().map(|part| part.len() as u64).sum::<u64>();
        if size > MAX_ENTRY {
            return Err(too_large(size));
        }
        if deflated_len > MAX_ENTRY {
            return Err(too_large(deflated_len));
        }
        Ok(Deflated {
            parts,
            crc: crc.sum(),
            size: size as u32,
            deflated_len: deflated_len as u32,
        })
    }

    /// The ZIP archive holding this content as its one entry `entry_name`.
    pub fn archive(&self, entry_name: &str) -> Result<Archive<'_>, CoreError> {
        // ZIP stores the name length in 16 bits: a longer name would corrupt the archive.
        if entry_name.len() > usize::from(u16::MAX) {
            return Err(CoreError::InvalidArchive(format!(
                "archive entry name of {} bytes is longer than a ZIP allows (65535)",
                entry_name.len()
            )));
        }
        // The central directory's offset (after the local header) must fit too.
        let end = u64::from(self.deflated_len) + 30 + entry_name.len() as u64;
        if end > MAX_ENTRY {
            return Err(too_large(end));
        }
        let (head, tail) = zip_frame(entry_name, self.crc, self.deflated_len, self.size);
        Ok(Archive {
            head,
            parts: &self.parts,
            tail,
        })
    }

    /// Bytes the deflated content takes.
    pub fn deflated_len(&self) -> usize {
        self.deflated_len as usize
    }

    /// Bytes of the content once inflated.
    pub fn size(&self) -> usize {
        self.size as usize
    }

    /// The content itself, inflated again from the parts (the tests' view of it; callers
    /// inflate into their own buffer with `inflate_into`).
    #[cfg(test)]
    pub fn inflated(&self) -> Result<Vec<u8>, CoreError> {
        let mut out = vec![0; self.size()];
        self.inflate_into(&mut out)?;
        Ok(out)
    }

    /// Inflates the content into `out`, which must be exactly `size()` bytes long: the
    /// parts are fed to one inflater in turn, so neither they nor the content are copied
    /// (a caller's buffer, such as a new Python `bytes`, is the only copy).
    pub fn inflate_into(&self, out: &mut [u8]) -> Result<(), CoreError> {
        if out.len() != self.size() {
            return Err(bad("inflate buffer is not the size of the content"));
        }
        let mut inflater = Decompress::new(false);
        let mut ended = false;
        for part in &self.parts {
            let mut read = 0;
            while read < part.len() && !ended {
                let (was_in, was_out) = (inflater.total_in(), inflater.total_out());
                let written = was_out as usize;
                let status = inflater
                    .decompress(&part[read..], &mut out[written..], FlushDecompress::None)
                    .map_err(|e| bad(&format!("corrupt deflate data ({e})")))?;
                read += (inflater.total_in() - was_in) as usize;
                ended = status == Status::StreamEnd;
                if (inflater.total_in(), inflater.total_out()) == (was_in, was_out) && !ended {
                    // No progress with input left: the output is full, the content longer.
                    return Err(bad("deflate data does not end where its size says"));
                }
            }
        }
        if !ended || inflater.total_out() as usize != out.len() {
            return Err(bad("deflate data does not end where its size says"));
        }
        Ok(())
    }
}

/// A finished one-entry ZIP archive in pieces: the local header, the deflate stream in
/// parts, the central directory and end record. Written out once its size is known.
pub struct Archive<'a> {
    head: Vec<u8>,
    parts: &'a [Vec<u8>],
    tail: Vec<u8>,
}

impl Archive<'_> {
    /// The archive's size in bytes.
    pub fn size(&self) -> usize {
        self.head.len() + self.parts.iter().map(Vec::len).sum::<usize>() + self.tail.len()
    }

    /// Writes the archive into `out`, which must be exactly `size()` bytes long.
    pub fn write_into(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.size(), "archive buffer of the wrong size");
        let mut at = 0;
        let pieces = std::iter::once(&self.head)
            .chain(self.parts)
            .chain(std::iter::once(&self.tail));
        for piece in pieces {
            out[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
    }

    /// The archive as one `Vec`.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.size()];
        self.write_into(&mut out);
        out
    }
}

/// A ZIP archive holding `data` as the one deflated entry `entry_name`.
pub fn write_zip(entry_name: &str, data: &[u8]) -> Result<Vec<u8>, CoreError> {
    let content = Content::new(vec![Piece::Raw(Cow::Borrowed(data))]);
    Ok(Deflated::new(&content)?.archive(entry_name)?.to_vec())
}

/// The upload document of a job, deflated: `job_input(programs, operator)`.
pub fn deflate_job_input(
    programs: &[&str],
    operator: Option<&[Term]>,
) -> Result<Deflated, CoreError> {
    Deflated::new(&job_input(programs, operator))
}

/// The upload document of an SSE job, deflated: `sse_input(source)`.
pub fn deflate_sse_input(source: &str) -> Result<Deflated, CoreError> {
    Deflated::new(&sse_input(source))
}

/// The local header, and the central directory with the end record, of a ZIP holding one
/// deflated entry.
fn zip_frame(entry_name: &str, crc: u32, deflated_len: u32, size: u32) -> (Vec<u8>, Vec<u8>) {
    let name = entry_name.as_bytes();
    // Bit 11: the name is UTF-8 (only needed, and only set, when it is not ASCII).
    let flags: u16 = if entry_name.is_ascii() { 0 } else { 1 << 11 };
    let common = |out: &mut Vec<u8>| {
        put16(out, 20); // version needed: deflate
        put16(out, flags);
        put16(out, 8); // method: deflate
        put16(out, DOS_TIME);
        put16(out, DOS_DATE);
        put32(out, crc);
        put32(out, deflated_len);
        put32(out, size);
        put16(out, name.len() as u16);
        put16(out, 0); // extra field length
    };
    let mut head = Vec::with_capacity(30 + name.len());
    put32(&mut head, LOCAL_HEADER);
    common(&mut head);
    head.extend_from_slice(name);
    let directory_offset = head.len() as u64 + u64::from(deflated_len);
    let mut tail = Vec::with_capacity(46 + name.len() + 22);
    put32(&mut tail, CENTRAL_HEADER);
    put16(&mut tail, 0x0314); // made by: Unix, spec 2.0
    common(&mut tail);
    put16(&mut tail, 0); // comment length
    put16(&mut tail, 0); // disk number
    put16(&mut tail, 0); // internal attributes
    put32(&mut tail, 0o600 << 16); // external attributes: -rw-------, as zipfile.writestr
    put32(&mut tail, 0); // local header offset
    tail.extend_from_slice(name);
    let directory_len = tail.len();
    put32(&mut tail, END_OF_DIRECTORY);
    put16(&mut tail, 0);
    put16(&mut tail, 0);
    put16(&mut tail, 1);
    put16(&mut tail, 1);
    put32(&mut tail, directory_len as u32);
    put32(&mut tail, directory_offset as u32);
    put16(&mut tail, 0);
    (head, tail)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn bad(why: &str) -> CoreError {
    CoreError::InvalidArchive(format!("not a valid job archive: {why}"))
}

fn get16(data: &[u8], at: usize) -> Result<u16, CoreError> {
    let bytes = data.get(at..at + 2).ok_or_else(|| bad("truncated"))?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn get32(data: &[u8], at: usize) -> Result<u32, CoreError> {
    let bytes = data.get(at..at + 4).ok_or_else(|| bad("truncated"))?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The name and inflated bytes of the one entry of a ZIP archive, CRC checked.
///
/// An entry larger than `max_size` once inflated is refused before anything is inflated:
/// the inflated size must equal the header's, so the header bounds the memory used.
pub fn read_single_entry(data: &[u8], max_size: usize) -> Result<(String, Vec<u8>), CoreError> {
    // The end-of-directory record is in the last 22 + 65535 (comment) bytes.
    let search_from = data.len().saturating_sub(22 + 0xffff);
    let eocd = (search_from..data.len().saturating_sub(21))
        .rev()
        .find(|&at| get32(data, at).ok() == Some(END_OF_DIRECTORY))
        .ok_or_else(|| bad("no ZIP end-of-directory record"))?;
    let entries = get16(data, eocd + 10)?;
    if entries != 1 {
        return Err(CoreError::InvalidArchive(format!(
            "archive must hold exactly one file, found {entries}"
        )));
    }
    let central = get32(data, eocd + 16)? as usize;
    if get32(data, central)? != CENTRAL_HEADER {
        return Err(bad("bad central directory"));
    }
    let flags = get16(data, central + 8)?;
    let method = get16(data, central + 10)?;
    let crc = get32(data, central + 16)?;
    let compressed = get32(data, central + 20)? as usize;
    let size = get32(data, central + 24)? as usize;
    let name_len = get16(data, central + 28)? as usize;
    let local = get32(data, central + 42)? as usize;
    if flags & 1 != 0 {
        return Err(bad("encrypted entry"));
    }
    if compressed == u32::MAX as usize || size == u32::MAX as usize {
        return Err(bad("ZIP64 entries are not supported"));
    }
    let name_bytes = data
        .get(central + 46..central + 46 + name_len)
        .ok_or_else(|| bad("truncated"))?;
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    if size > max_size {
        return Err(CoreError::TooLarge(format!(
            "archive entry {name:?} holds {size} bytes once inflated, more than the limit of \
             {max_size} bytes"
        )));
    }
    if get32(data, local)? != LOCAL_HEADER {
        return Err(bad("bad local header"));
    }
    let start = local + 30 + get16(data, local + 26)? as usize + get16(data, local + 28)? as usize;
    let body = data
        .get(start..start + compressed)
        .ok_or_else(|| bad("truncated entry"))?;
    let content = match method {
        0 => body.to_vec(),
        8 => inflate(body, size)?,
        other => return Err(bad(&format!("compression method {other} is not supported"))),
    };
    if content.len() != size {
        return Err(bad("entry size does not match its header"));
    }
    let mut check = Crc::new();
    check.update(&content);
    if check.sum() != crc {
        return Err(bad("CRC-32 mismatch"));
    }
    Ok((name, content))
}

fn inflate(body: &[u8], size: usize) -> Result<Vec<u8>, CoreError> {
    // Deflate cannot expand more than ~1032:1; a larger claimed size is a forged header.
    if size > body.len().saturating_mul(1032) + 1024 {
        return Err(bad(
            "entry claims more bytes than its deflate data can hold",
        ));
    }
    let mut inflater = Decompress::new(false);
    // One byte of headroom tells a stream longer than its header from one that fits. The
    // buffer grows with what really inflates, never reserving a forged claimed size at once.
    let limit = size + 1;
    let mut out = Vec::with_capacity(limit.min(INFLATE_STEP));
    loop {
        let consumed = inflater.total_in() as usize;
        let status = inflater
            .decompress_vec(&body[consumed..], &mut out, FlushDecompress::Finish)
            .map_err(|e| bad(&format!("corrupt deflate data ({e})")))?;
        if status == Status::StreamEnd {
            break;
        }
        if out.len() >= limit {
            return Err(bad("deflate data does not end where the header says"));
        }
        if out.len() == out.capacity() {
            out.reserve((limit - out.len()).min(out.capacity().max(INFLATE_STEP)));
        } else if inflater.total_in() as usize == body.len() {
            return Err(bad("deflate data does not end where the header says"));
        }
    }
    if out.len() > size {
        return Err(bad("deflate data does not end where the header says"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"rz(0.25) q[17];\ncx q[1], q[2];\n"[i % 31] ^ (i / 7919) as u8)
            .collect()
    }

    /// The job input as one piece, written the plain way: what the chunks must add up to.
    fn expected_json(programs: &[&str], operator: Option<&str>) -> Vec<u8> {
        let mut out = b"{\"program\":[".to_vec();
        for (i, program) in programs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_string(&mut out, program);
        }
        out.push(b']');
        if let Some(operator) = operator {
            out.extend_from_slice(operator.as_bytes());
        }
        out.push(b'}');
        out
    }

    fn check_job(programs: &[&str], terms: Option<&[Term]>, operator_json: Option<&str>) {
        let expected = expected_json(programs, operator_json);
        let content = job_input(programs, terms);
        for chunk in [1, 2, 3, 5, 7, 64, 1000, 4099, CHUNK - 3, CHUNK] {
            if content.source_len / chunk > 1_000 {
                continue; // a deflater per byte of megabytes: slow, and proves nothing more
            }
            let deflated = Deflated::in_chunks(&content, chunk).unwrap();
            let archive = deflated.archive("job.json").unwrap().to_vec();
            let (name, json) = read_single_entry(&archive, usize::MAX).unwrap();
            assert_eq!(name, "job.json");
            assert!(
                json == expected,
                "chunks of {chunk} bytes, programs {:?}",
                programs.iter().map(|p| p.len()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn zips_read_back_whatever_their_size() {
        for len in [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data = sample(len);
            let archive = write_zip("job.json", &data).unwrap();
            let (name, content) = read_single_entry(&archive, usize::MAX).unwrap();
            assert_eq!(name, "job.json");
            assert!(content == data, "round trip of {len} bytes");
        }
    }

    #[test]
    fn empty_program_list_is_an_empty_json_array() {
        check_job(&[], None, None);
        let deflated = deflate_job_input(&[], None).unwrap();
        let archive = deflated.archive("job.json").unwrap().to_vec();
        assert_eq!(
            read_single_entry(&archive, usize::MAX).unwrap().1,
            b"{\"program\":[]}"
        );
    }

    #[test]
    fn escapes_cut_at_every_chunk_boundary_read_back() {
        // With chunks of 1 to 7 bytes every escape and every UTF-8 sequence is cut somewhere.
        check_job(
            &["a\"b\\c\nd\te\u{1}\u{1f}f\r\u{8}\u{c}", "é ✓ 𝄞", "", "\""],
            None,
            None,
        );
    }

    #[test]
    fn programs_longer_than_a_chunk_read_back() {
        // Longer than every chunk size but the last two, which the huge program exceeds.
        let long = String::from_utf8(sample(9000).iter().map(|b| b & 0x7f).collect()).unwrap();
        check_job(&["OPENQASM 3;\n", &long, "x q[0];\n"], None, None);
        let huge = "h q[0];\n\"\\\u{0}".repeat(CHUNK / 8);
        assert!(huge.len() > CHUNK + CHUNK / 4);
        check_job(&[&huge], None, None);
    }

    #[test]
    fn operator_follows_the_programs() {
        let terms = [
            Term {
                pauli: "X0 Z3".into(),
                coeff: 0.5,
            },
            Term {
                pauli: "Y\"1".into(),
                coeff: -2.0,
            },
        ];
        let operator =
            r#","operator":[{"pauli":"X0 Z3","coeff":0.5},{"pauli":"Y\"1","coeff":-2.0}]"#;
        check_job(&["h q[0];\n", "x q[1];\n"], Some(&terms), Some(operator));
        check_job(&[], Some(&terms[..0]), Some(r#","operator":[]"#));
    }

    #[test]
    fn inflate_into_fills_exactly_the_content_and_refuses_another_size() {
        // Several parts each time: chunks of a few bytes, of a page, and of the real size.
        for (repeat, chunk) in [(100, 5), (2_000, 4096), (CHUNK / 7, CHUNK)] {
            let program = "cx q[0], q[1];\n".repeat(repeat);
            let deflated =
                Deflated::in_chunks(&job_input(&[&program, "h q[2];\n"], None), chunk).unwrap();
            assert!(
                deflated.parts.len() > 1,
                "chunks of {chunk} bytes make several parts"
            );
            let mut out = vec![0xAA; deflated.size()];
            deflated.inflate_into(&mut out).unwrap();
            assert_eq!(out, expected_json(&[&program, "h q[2];\n"], None));
            for size in [deflated.size() - 1, deflated.size() + 1, 0] {
                let mut wrong = vec![0; size];
                assert!(deflated.inflate_into(&mut wrong).is_err(), "{size} bytes");
            }
        }
    }

    #[test]
    fn inflate_into_refuses_a_stream_that_is_cut_short_or_corrupt() {
        let program = "rz(0.25) q[1];\n".repeat(1000);
        let mut deflated = deflate_job_input(&[&program], None).unwrap();
        let whole = deflated.parts[0].clone();
        deflated.parts[0].truncate(whole.len() / 2);
        let mut out = vec![0; deflated.size()];
        assert!(deflated.inflate_into(&mut out).is_err());
        deflated.parts[0] = vec![0xFF; whole.len()];
        assert!(deflated.inflate_into(&mut out).is_err());
    }

    #[test]
    fn sse_input_is_the_source_as_one_json_string() {
        let source = "print(\"é\")\n\tx = '\\'\r\u{1}\u{1f}";
        let mut expected = b"{\"sse_program\":".to_vec();
        write_string(&mut expected, source);
        expected.push(b'}');
        for chunk in [1, 2, 3, 7, CHUNK] {
            let deflated = Deflated::in_chunks(&sse_input(source), chunk).unwrap();
            assert_eq!(
                deflated.inflated().unwrap(),
                expected,
                "chunks of {chunk} bytes"
            );
        }
        let empty = deflate_sse_input("").unwrap();
        assert_eq!(empty.inflated().unwrap(), b"{\"sse_program\":\"\"}");
    }

    #[test]
    fn inflated_gives_back_the_document_the_archive_holds() {
        let program = "rz(0.5) q[3];\n".repeat(CHUNK / 5);
        let deflated = deflate_job_input(&[&program, "x q[0];\n"], None).unwrap();
        let archive = deflated.archive("job.json").unwrap().to_vec();
        let (_, content) = read_single_entry(&archive, usize::MAX).unwrap();
        assert_eq!(deflated.inflated().unwrap(), content);
        assert_eq!(content, expected_json(&[&program, "x q[0];\n"], None));
    }

    #[test]
    fn headers_hold_the_crc_and_sizes_of_the_whole_entry() {
        let program = "rz(0.5) q[3];\n".repeat(CHUNK / 10);
        let expected = expected_json(&[&program, &program], None);
        let deflated = deflate_job_input(&[&program, &program], None).unwrap();
        let archive = deflated.archive("job.json").unwrap();
        let bytes = archive.to_vec();
        assert_eq!(bytes.len(), archive.size());
        let mut crc = Crc::new();
        crc.update(&expected);
        let field = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!(field(14), crc.sum(), "local header CRC");
        assert_eq!(field(22) as usize, expected.len(), "local header size");
        let deflated = bytes.len() - 30 - 8 - (46 + 8 + 22);
        assert_eq!(field(18) as usize, deflated, "local header compressed size");
        assert!(
            deflated < expected.len() / 2,
            "{deflated} of {}",
            expected.len()
        );
        assert_eq!(read_single_entry(&bytes, usize::MAX).unwrap().1, expected);
    }

    #[test]
    fn corrupted_archives_are_refused() {
        let mut archive = write_zip("job.json", &sample(5000)).unwrap();
        assert!(read_single_entry(&archive[..archive.len() - 30], usize::MAX).is_err());
        let middle = archive.len() / 2;
        archive[middle] ^= 0xff;
        assert!(read_single_entry(&archive, usize::MAX).is_err());
        assert!(read_single_entry(b"not a zip", usize::MAX).is_err());
    }

    #[test]
    fn entries_above_the_limit_are_refused_before_inflating() {
        let archive = write_zip("result.json", &vec![b'7'; 100_000])
            .unwrap()
            .to_vec();
        assert_eq!(
            read_single_entry(&archive, 100_000).unwrap().1.len(),
            100_000
        );
        let refused = read_single_entry(&archive, 99_999).unwrap_err();
        assert!(matches!(refused, CoreError::TooLarge(_)), "{refused:?}");
        assert!(refused.to_string().contains("100000 bytes"), "{refused}");
        assert!(
            refused.to_string().contains("limit of 99999 bytes"),
            "{refused}"
        );
    }
}
