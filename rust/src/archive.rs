//! Job archives: a ZIP holding one deflated JSON file, written and read in Rust. Pure Rust.
//!
//! Writing deflates fixed-size chunks on all cores (each ends on a sync flush, so their
//! concatenation is one valid deflate stream, as pigz does) and combines their CRCs.

use crate::error::CoreError;
use crate::floatfmt::write_float_repr;
use crate::ir::Circuit;
use crate::json::write_string;
use crate::operator::Term;
use crate::qasm::print_circuit;
use flate2::{Compress, Compression, Crc, Decompress, FlushCompress, FlushDecompress, Status};
use rayon::prelude::*;

/// Deflate level for uploads. zlib-rs's level 1 is its "quick" strategy (static Huffman
/// codes), which leaves the benchmark's QASM JSON at 0.50 of its size; level 2 is the
/// first with dynamic codes (0.35, against 0.30 for zlib's default level 6 that the
/// reference uses, which deflates ~5x slower) for ~15% more time. Uploads are bound by the
/// network, so 30% fewer bytes are worth far more than the milliseconds level 1 saves.
pub const LEVEL: u32 = 2;

/// Input bytes per deflate chunk; each chunk restarts the 32 KiB window, which costs
/// well under 1% of the size at this length.
const CHUNK: usize = 1 << 20;

/// Largest entry either side accepts (no ZIP64), also the bound against ZIP bombs.
const MAX_ENTRY: u64 = u32::MAX as u64;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
/// 1980-01-01 00:00:00, the DOS epoch: archives are reproducible byte for byte.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

fn too_large(len: usize) -> CoreError {
    CoreError::InvalidArchive(format!(
        "archive entry of {len} bytes needs ZIP64, not supported"
    ))
}

/// The raw deflate stream of `data` as consecutive parts (chunks compressed in parallel)
/// and the CRC-32 of `data`.
pub fn deflate(data: &[u8], level: u32) -> (Vec<Vec<u8>>, u32) {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![data]
    } else {
        data.chunks(CHUNK).collect()
    };
    let last = chunks.len() - 1;
    let parts: Vec<(Vec<u8>, Crc)> = chunks
        .par_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut crc = Crc::new();
            crc.update(chunk);
            (deflate_chunk(chunk, level, i == last), crc)
        })
        .collect();
    let mut crc = Crc::new();
    for (_, part_crc) in &parts {
        crc.combine(part_crc);
    }
    (parts.into_iter().map(|(part, _)| part).collect(), crc.sum())
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
            return out;
        }
        out.reserve(out.capacity().max(64 * 1024));
    }
}

/// `text` as a JSON string literal.
pub fn json_literal(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8 + 2);
    write_string(&mut out, text);
    out
}

/// Each text as a JSON string literal, escaped on all cores.
pub fn json_literals(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.par_iter().map(|text| json_literal(text)).collect()
}

/// The upload archive of a job: `job_input_json` deflated into the one entry `entry_name`.
pub fn write_job_archive(
    entry_name: &str,
    programs: &[Vec<u8>],
    operator: Option<&[Term]>,
) -> Result<Vec<u8>, CoreError> {
    write_zip(entry_name, &job_input_json(programs, operator))
}

/// The QASM text of `circuit` as a JSON string literal.
pub fn qasm_json_literal(circuit: &Circuit) -> Vec<u8> {
    json_literal(&print_circuit(circuit))
}

/// The job input document `{"program":[...]}` (plus `"operator":[{"pauli":..,"coeff":..}]`)
/// from programs already written as JSON string literals; compact, as orjson writes it.
pub fn job_input_json(programs: &[Vec<u8>], operator: Option<&[Term]>) -> Vec<u8> {
    let size = programs.iter().map(|p| p.len() + 1).sum::<usize>()
        + operator.map_or(0, |terms| terms.len() * 48 + 16);
    let mut out = Vec::with_capacity(size + 16);
    out.extend_from_slice(b"{\"program\":[");
    for (i, program) in programs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(program);
    }
    out.push(b']');
    if let Some(terms) = operator {
        out.extend_from_slice(b",\"operator\":[");
        let mut coeff = String::with_capacity(24);
        for (i, term) in terms.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"pauli\":");
            write_string(&mut out, &term.pauli);
            out.extend_from_slice(b",\"coeff\":");
            coeff.clear();
            write_float_repr(&mut coeff, term.coeff);
            out.extend_from_slice(coeff.as_bytes());
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
    out
}

/// A ZIP archive holding `data` as the one deflated entry `entry_name`.
pub fn write_zip(entry_name: &str, data: &[u8]) -> Result<Vec<u8>, CoreError> {
    if data.len() as u64 > MAX_ENTRY {
        return Err(too_large(data.len()));
    }
    let (deflated, crc) = deflate(data, LEVEL);
    let deflated_len: usize = deflated.iter().map(Vec::len).sum();
    if deflated_len as u64 > MAX_ENTRY {
        return Err(too_large(deflated_len));
    }
    let name = entry_name.as_bytes();
    // Bit 11: the name is UTF-8 (only needed, and only set, when it is not ASCII).
    let flags: u16 = if entry_name.is_ascii() { 0 } else { 1 << 11 };
    let mut out = Vec::with_capacity(deflated_len + 2 * name.len() + 128);
    let common = |out: &mut Vec<u8>| {
        put16(out, 20); // version needed: deflate
        put16(out, flags);
        put16(out, 8); // method: deflate
        put16(out, DOS_TIME);
        put16(out, DOS_DATE);
        put32(out, crc);
        put32(out, deflated_len as u32);
        put32(out, data.len() as u32);
        put16(out, name.len() as u16);
        put16(out, 0); // extra field length
    };
    put32(&mut out, LOCAL_HEADER);
    common(&mut out);
    out.extend_from_slice(name);
    for part in &deflated {
        out.extend_from_slice(part);
    }
    let directory_offset = out.len();
    put32(&mut out, CENTRAL_HEADER);
    put16(&mut out, 0x0314); // made by: Unix, spec 2.0
    common(&mut out);
    put16(&mut out, 0); // comment length
    put16(&mut out, 0); // disk number
    put16(&mut out, 0); // internal attributes
    put32(&mut out, 0o600 << 16); // external attributes: -rw-------, as zipfile.writestr
    put32(&mut out, 0); // local header offset
    out.extend_from_slice(name);
    let directory_len = out.len() - directory_offset;
    put32(&mut out, END_OF_DIRECTORY);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 1);
    put16(&mut out, 1);
    put32(&mut out, directory_len as u32);
    put32(&mut out, directory_offset as u32);
    put16(&mut out, 0);
    Ok(out)
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
pub fn read_single_entry(data: &[u8]) -> Result<(String, Vec<u8>), CoreError> {
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
    // One byte of headroom tells a stream longer than its header from one that fits.
    let mut out = Vec::with_capacity(size + 1);
    let status = inflater
        .decompress_vec(body, &mut out, FlushDecompress::Finish)
        .map_err(|e| bad(&format!("corrupt deflate data ({e})")))?;
    if status != Status::StreamEnd {
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

    #[test]
    fn zips_read_back_whatever_their_size() {
        for len in [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data = sample(len);
            let archive = write_zip("job.json", &data).unwrap();
            let (name, content) = read_single_entry(&archive).unwrap();
            assert_eq!(name, "job.json");
            assert!(content == data, "round trip of {len} bytes");
        }
    }

    #[test]
    fn corrupted_archives_are_refused() {
        let mut archive = write_zip("job.json", &sample(5000)).unwrap();
        assert!(read_single_entry(&archive[..archive.len() - 30]).is_err());
        let middle = archive.len() / 2;
        archive[middle] ^= 0xff;
        assert!(read_single_entry(&archive).is_err());
        assert!(read_single_entry(b"not a zip").is_err());
    }
}
