//! Content identity: the sampled BLAKE3 `cas_id`, its content UUID, and the full-file
//! integrity hash.
//!
//! `cas_id` = the first 16 hex characters (64 bits) of BLAKE3 over: the file size as a u64
//! little-endian, then the whole file if `size ≤ 102 400` bytes, else the 8 192-byte header,
//! four 10 240-byte samples starting at `8192 + i·((size − 16384) / 4)` for `i = 0..3`, and the
//! 8 192-byte footer. Empty files have none. The content UUID is UUID v5 in the DNS namespace
//! over the 16 ASCII characters. These are exactly Spacedrive's values (its
//! `ContentHashGenerator` and `content_identity::Model::deterministic_uuid`); the vectors in
//! `tests/data/content_id.json` (from `shared/test-vectors/content_id.py`) check them.
//!
//! The sampled hash can collide for files that differ only outside the samples, so anything
//! destructive first compares [`integrity_hash`]es (BLAKE3 of the whole file).
//!
//! The file types are in [`filetype`]. Owns nothing stored; used by the indexer, queries and
//! the inspector.
//!
//! May use: `fs`.

pub mod filetype;
pub mod known;
pub mod picture;

use crate::vdfs::fs::entry::{open_regular, open_regular_with_meta};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write as _};
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Files up to this size are hashed whole.
pub const SMALL_LIMIT: u64 = 100 * 1024;
/// Header and footer size of a sampled hash.
pub const HEADER: u64 = 8 * 1024;
/// Size of each of the four middle samples.
pub const SAMPLE: u64 = 10 * 1024;
/// Number of middle samples.
pub const SAMPLES: u64 = 4;
/// Bytes of the start of a file kept for file-type detection.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// A sampled content hash: 64 bits, written as 16 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CasId(pub u64);

impl CasId {
    /// The content UUID: UUID v5 (DNS namespace) over the 16 hex characters.
    pub fn content_uuid(self) -> Uuid {
        // `Display`'s 16 hex digits into a buffer on the stack, not a `String` (a first
        // index makes one per new content on the writer's thread).
        let mut hex = [0u8; 16];
        write!(&mut hex[..], "{self}").expect("16 hex digits fill 16 bytes");
        Uuid::new_v5(&Uuid::NAMESPACE_DNS, &hex)
    }

    fn from_digest(d: &blake3::Hash) -> CasId {
        let b = d.as_bytes();
        CasId(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
}

impl fmt::Display for CasId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for CasId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CasId({self})")
    }
}

impl FromStr for CasId {
    type Err = String;

    /// Parses 16 hex characters.
    fn from_str(s: &str) -> Result<CasId, String> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{s:?} is not a cas_id (16 hex characters)"));
        }
        u64::from_str_radix(s, 16)
            .map(CasId)
            .map_err(|e| e.to_string())
    }
}

/// The byte ranges a sampled hash reads from a file of `size` bytes, in order.
pub fn sample_ranges(size: u64) -> Vec<std::ops::Range<u64>> {
    if size == 0 {
        return Vec::new();
    }
    if size <= SMALL_LIMIT {
        #[allow(clippy::single_range_in_vec_init)] // one range: the whole file
        return vec![0..size];
    }
    let jump = (size - 2 * HEADER) / SAMPLES;
    let mut r = Vec::with_capacity(6);
    r.push(0..HEADER);
    for i in 0..SAMPLES {
        let start = HEADER + i * jump;
        r.push(start..start + SAMPLE);
    }
    r.push(size - HEADER..size);
    r
}

/// The `cas_id` of in-memory content (`None` when empty).
pub fn cas_id_of_bytes(data: &[u8]) -> Option<CasId> {
    let size = data.len() as u64;
    if size == 0 {
        return None;
    }
    let mut h = blake3::Hasher::new();
    h.update(&size.to_le_bytes());
    for r in sample_ranges(size) {
        h.update(&data[r.start as usize..r.end as usize]);
    }
    Some(CasId::from_digest(&h.finalize()))
}

/// The `cas_id` of a file computed from its bytes as they stream past once, from its start
/// (a copy received from another device): equal to [`sample_file`]'s, without reading the file
/// again. Keeps the first [`SNIFF_BYTES`] for file-type detection.
///
/// Feed every byte of the file in order with [`CasStream::update`]; [`CasStream::finish`]
/// gives the cas_id and the head, or `None` when the bytes fed were not exactly `size` (or the
/// file is empty).
#[derive(Clone)]
pub struct CasStream {
    size: u64,
    at: u64,
    hasher: blake3::Hasher,
    ranges: Vec<std::ops::Range<u64>>,
    head: Vec<u8>,
}

impl CasStream {
    /// A stream for a file of `size` bytes.
    pub fn new(size: u64) -> CasStream {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&size.to_le_bytes());
        CasStream {
            size,
            at: 0,
            hasher,
            ranges: sample_ranges(size),
            head: Vec::new(),
        }
    }

    /// The next `bytes` of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        let start = self.at;
        let end = start + bytes.len() as u64;
        if self.head.len() < SNIFF_BYTES && start < SNIFF_BYTES as u64 {
            let take = (SNIFF_BYTES as u64).min(end) - start;
            self.head.extend_from_slice(&bytes[..take as usize]);
        }
        for r in &self.ranges {
            if r.end <= start {
                continue;
            }
            if r.start >= end {
                break;
            }
            let from = r.start.max(start) - start;
            let to = r.end.min(end) - start;
            self.hasher.update(&bytes[from as usize..to as usize]);
        }
        self.at = end;
    }

    /// The cas_id and the file's first bytes, when exactly `size` bytes were fed and the file
    /// is not empty.
    pub fn finish(self) -> Option<(CasId, Vec<u8>)> {
        (self.at == self.size && self.size > 0)
            .then(|| (CasId::from_digest(&self.hasher.finalize()), self.head))
    }
}

/// What hashing a file found.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// The cas_id, `None` for an empty file.
    pub cas_id: Option<CasId>,
    /// The size that was hashed.
    pub size: u64,
    /// The first bytes of the file (up to [`SNIFF_BYTES`]), for file-type detection.
    pub head: Vec<u8>,
}

/// Computes the `cas_id` of a regular file, reading at most ~56 KiB, and keeps its first 8 KiB
/// for type detection. Never opens anything but a regular file.
///
/// # Errors
/// I/O errors; `InvalidInput` if `path` is not a regular file; `InvalidData` if the file
/// changed size while being read.
pub fn sample_file(path: &Path) -> io::Result<Sampled> {
    sample_file_with(path, &mut Vec::new())
}

/// [`sample_file`] reusing `buf` (grown to at most 100 KiB + 1) across calls, so hashing many
/// files allocates once.
///
/// # Errors
/// As [`sample_file`].
pub fn sample_file_with(path: &Path, buf: &mut Vec<u8>) -> io::Result<Sampled> {
    let (cas_id, size, head) = sample_file_in(path, buf)?;
    Ok(Sampled {
        cas_id,
        size,
        head: head.to_vec(),
    })
}

/// [`sample_file_with`] without copying the head: returns the `cas_id`, the size hashed and the
/// file's first bytes (up to [`SNIFF_BYTES`]) as a slice of `buf`. The indexer's hashers call it
/// once per file, so it costs what the bytes cost: one `open`, one `fstat`, one `pread` of a
/// file up to 100 KiB (asking for one byte more than its size: getting it, or fewer than the
/// size, means the file changed while read) and `close`; larger files are read in their six
/// samples and checked with a second `fstat`.
///
/// # Errors
/// As [`sample_file`].
pub fn sample_file_in<'b>(
    path: &Path,
    buf: &'b mut Vec<u8>,
) -> io::Result<(Option<CasId>, u64, &'b [u8])> {
    let (file, meta) = open_regular_with_meta(path)?;
    sample_opened(&file, &meta, path, buf)
}

/// [`sample_file_in`] of the file `name` in the folder `dir` (see
/// [`crate::vdfs::fs::entry::open_regular_at`]), whose path is `path`.
///
/// # Errors
/// As [`sample_file`].
pub fn sample_file_at<'b>(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &std::ffi::OsStr,
    path: &Path,
    buf: &'b mut Vec<u8>,
) -> io::Result<(Option<CasId>, u64, &'b [u8])> {
    let (file, meta) = crate::vdfs::fs::entry::open_regular_at(dir, name, path)?;
    sample_opened(&file, &meta, path, buf)
}

/// The sampling of [`sample_file_in`], on a file already opened and checked (`meta`).
fn sample_opened<'b>(
    file: &std::fs::File,
    meta: &std::fs::Metadata,
    path: &Path,
    buf: &'b mut Vec<u8>,
) -> io::Result<(Option<CasId>, u64, &'b [u8])> {
    let size = meta.len();
    let mut h = blake3::Hasher::new();
    h.update(&size.to_le_bytes());
    if size == 0 {
        return Ok((None, 0, &[]));
    }
    if size <= SMALL_LIMIT {
        let want = size as usize + 1;
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let got = read_to_eof_at(file, &mut buf[..want])?;
        if got != size as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} {} while it was being read",
                    path.display(),
                    if got < size as usize {
                        "shrank"
                    } else {
                        "grew"
                    }
                ),
            ));
        }
        h.update(&buf[..got]);
        let head = &buf[..got.min(SNIFF_BYTES)];
        return Ok((Some(CasId::from_digest(&h.finalize())), size, head));
    }
    // The header stays at the start of `buf` for type detection; the other samples are read
    // after it.
    let need = (HEADER + SAMPLE) as usize;
    if buf.len() < need {
        buf.resize(need, 0);
    }
    for r in sample_ranges(size) {
        let len = (r.end - r.start) as usize;
        let at = if r.start == 0 { 0 } else { HEADER as usize };
        let dst = &mut buf[at..at + len];
        read_exact_at(file, dst, r.start).map_err(|e| changed(path, e))?;
        h.update(dst);
    }
    if file.metadata()?.len() != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} changed size while it was being read", path.display()),
        ));
    }
    let head = &buf[..SNIFF_BYTES.min(HEADER as usize)];
    Ok((Some(CasId::from_digest(&h.finalize())), size, head))
}

/// BLAKE3 of the whole file (the *integrity hash*), streamed in 1 MiB reads.
///
/// # Errors
/// I/O errors; `InvalidInput` if `path` is not a regular file.
pub fn integrity_hash(path: &Path) -> io::Result<blake3::Hash> {
    let mut file = open_regular(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
    }
    Ok(h.finalize())
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file.seek_read(&mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Reads from the start of `file` until `buf` is full or the end of the file; returns the
/// number of bytes read.
fn read_to_eof_at(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        #[cfg(unix)]
        let n = {
            use std::os::unix::fs::FileExt;
            file.read_at(&mut buf[done..], done as u64)
        };
        #[cfg(windows)]
        let n = {
            use std::os::windows::fs::FileExt;
            file.seek_read(&mut buf[done..], done as u64)
        };
        match n {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn changed(path: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} shrank while it was being read", path.display()),
        )
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_a_file_in_its_folder_equals_sampling_it_by_path() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().unwrap();
        let folder = crate::vdfs::fs::entry::open_dir(dir.path()).unwrap();
        for size in [1usize, 4096, 102_400, 102_401, 3_000_000] {
            let name = format!("f{size}");
            let path = dir.path().join(&name);
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let by_path = sample_file_in(&path, &mut a).unwrap();
            let by_path = (by_path.0, by_path.1, by_path.2.to_vec());
            let in_folder = sample_file_at(folder.as_fd(), name.as_ref(), &path, &mut b).unwrap();
            assert_eq!(
                by_path,
                (in_folder.0, in_folder.1, in_folder.2.to_vec()),
                "{size}"
            );
            assert!(by_path.0.is_some());
        }
    }

    #[test]
    fn the_content_uuid_is_v5_over_the_cas_id_in_hex() {
        for cas in [
            0,
            1,
            0xa,
            0x0123_4567_89ab_cdef,
            u64::MAX,
            0xf000_0000_0000_000f,
        ] {
            let hex = format!("{cas:016x}");
            assert_eq!(
                CasId(cas).content_uuid(),
                Uuid::new_v5(&Uuid::NAMESPACE_DNS, hex.as_bytes()),
                "{hex}"
            );
        }
        // Pinned (computed apart, with Python's uuid.uuid5): peers and earlier libraries hold
        // this UUID for this content.
        assert_eq!(
            CasId(0x0123_4567_89ab_cdef).content_uuid().to_string(),
            "d007281a-8c9f-5d4b-98d2-916191415d66"
        );
    }

    #[test]
    fn ranges_follow_the_spec() {
        assert!(sample_ranges(0).is_empty());
        let whole = sample_ranges(102_400);
        assert_eq!((whole.len(), whole[0].start, whole[0].end), (1, 0, 102_400));
        let size = 1 << 20;
        let jump = (size - 16_384) / 4;
        let r = sample_ranges(size);
        assert_eq!(r.len(), 6);
        assert_eq!(r[0], 0..8192);
        assert_eq!(r[2], 8192 + jump..8192 + jump + 10_240);
        assert_eq!(r[5], size - 8192..size);
    }

    #[test]
    fn cas_id_text_round_trips() {
        let c: CasId = "9b779f74b305adc3".parse().unwrap();
        assert_eq!(c.to_string(), "9b779f74b305adc3");
        assert!("9b779f74b305adc".parse::<CasId>().is_err());
        assert!("9b779f74b305adcz".parse::<CasId>().is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Fed in pieces of any sizes, the stream gives the file's cas_id and head as
        /// `sample_file` reads them, on both sides of the whole-file limit.
        #[test]
        fn a_streamed_cas_id_is_the_sampled_one(
            size in proptest::prop_oneof![0u64..300, 102_300u64..102_500, 102_401u64..2_000_000],
            pieces in proptest::collection::vec(1usize..70_000, 1..40),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let mut data = vec![0u8; size as usize];
            let mut x = seed | 1;
            for b in &mut data {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                *b = x as u8;
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &data).unwrap();
            let sampled = sample_file(&path).unwrap();
            let mut s = CasStream::new(size);
            let (mut at, mut k) = (0usize, 0usize);
            while at < data.len() {
                let n = pieces[k % pieces.len()].min(data.len() - at);
                s.update(&data[at..at + n]);
                at += n;
                k += 1;
            }
            match s.finish() {
                Some((cas, head)) => {
                    proptest::prop_assert_eq!(Some(cas), sampled.cas_id);
                    proptest::prop_assert_eq!(Some(cas), cas_id_of_bytes(&data));
                    proptest::prop_assert_eq!(head, sampled.head);
                }
                None => proptest::prop_assert_eq!(size, 0),
            }
        }
    }

    #[test]
    fn a_stream_fed_too_few_or_too_many_bytes_gives_nothing() {
        let mut s = CasStream::new(10);
        s.update(&[1; 9]);
        assert!(s.clone().finish().is_none());
        s.update(&[1; 2]);
        assert!(s.finish().is_none());
    }
}
