//! Versioned, checksummed stored records.
//!
//! Every record table's value is an envelope:
//!
//! ```text
//! [version: u8] [postcard payload: n bytes] [CRC-32 of version + payload: u32 little-endian]
//! ```
//!
//! - The **version** says which layout of the struct wrote the payload. A struct that gains a
//!   field raises its [`Record::VERSION`] and keeps its previous layout as a frozen struct that
//!   [`Record::upgrade`] decodes and converts, so a library written by an older Cairn always
//!   opens (it is rewritten in the new layout the next time each record is written). A version
//!   higher than this binary's is refused with [`StoreError::Decode`] saying so.
//! - The **checksum** is CRC-32 (IEEE 802.3 polynomial, as in zlib and PNG; `crc32fast`) of the
//!   version byte and the payload. A record whose bytes changed on disk (a flipped bit that redb's
//!   own page checksums did not catch, or a bug writing garbage) is reported as damaged naming
//!   its table instead of decoding into wrong values.
//!
//! Overhead: 5 bytes per record.

use serde::{Serialize, de::DeserializeOwned};

use super::StoreError;

/// Bytes of the envelope around the payload: the version byte and the CRC-32.
pub const ENVELOPE_BYTES: usize = 5;

/// A struct stored in a record table.
pub trait Record: Serialize + DeserializeOwned {
    /// The table's name, for errors.
    const TABLE: &'static str;
    /// The layout version this binary writes (starts at 1).
    const VERSION: u8;

    /// Decodes `payload` written with an older layout `version` (< [`Record::VERSION`]) and
    /// converts it. The default knows no older layout.
    ///
    /// # Errors
    /// [`StoreError::Decode`] if the version is unknown or the payload does not decode.
    fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
        let _ = payload;
        Err(StoreError::Decode {
            table: Self::TABLE,
            detail: format!("unknown record version {version}"),
        })
    }
}

/// Encodes `value` in the envelope (see the module documentation).
pub fn encode_record<T: Record>(value: &T) -> Vec<u8> {
    // An entry record is about 100 bytes: one allocation, not one and a reallocation.
    let mut out = Vec::with_capacity(128);
    out.push(T::VERSION);
    // Serialising our own plain structs into a Vec cannot fail.
    let mut out = postcard::to_extend(value, out).expect("postcard encodes plain structs");
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the envelope of a stored value and returns `(version, payload)`.
///
/// # Errors
/// [`StoreError::Decode`] naming `table` if the value is too short or its checksum is wrong.
pub fn open_envelope<'a>(
    table: &'static str,
    bytes: &'a [u8],
) -> Result<(u8, &'a [u8]), StoreError> {
    if bytes.len() < ENVELOPE_BYTES {
        return Err(StoreError::Decode {
            table,
            detail: format!(
                "a record of {} bytes is shorter than its envelope",
                bytes.len()
            ),
        });
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(StoreError::Decode {
            table,
            detail: format!(
                "checksum mismatch (stored {stored:08x}, computed {actual:08x}): the record's bytes changed"
            ),
        });
    }
    Ok((body[0], &body[1..]))
}

/// Decodes a stored value written by [`encode_record`], upgrading an older layout.
///
/// # Errors
/// [`StoreError::Decode`] naming the table: bad checksum, a version newer than this binary's,
/// or a payload that does not decode.
pub fn decode_record<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    let (version, payload) = open_envelope(T::TABLE, bytes)?;
    if version == T::VERSION {
        postcard::from_bytes(payload).map_err(|e| StoreError::Decode {
            table: T::TABLE,
            detail: e.to_string(),
        })
    } else if version > T::VERSION {
        Err(StoreError::Decode {
            table: T::TABLE,
            detail: format!(
                "record version {version} was written by a newer Cairn (this one reads up to {})",
                T::VERSION
            ),
        })
    } else {
        T::upgrade(version, payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V1 {
        a: u32,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V2 {
        a: u32,
        b: String,
    }

    impl Record for V1 {
        const TABLE: &'static str = "t";
        const VERSION: u8 = 1;
    }

    impl Record for V2 {
        const TABLE: &'static str = "t";
        const VERSION: u8 = 2;
        fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
            assert_eq!(version, 1);
            let old: V1 = postcard::from_bytes(payload).unwrap();
            Ok(V2 {
                a: old.a,
                b: "default".into(),
            })
        }
    }

    #[test]
    fn round_trip_and_upgrade_of_an_older_layout() {
        let bytes = encode_record(&V1 { a: 7 });
        assert_eq!(decode_record::<V1>(&bytes).unwrap(), V1 { a: 7 });
        assert_eq!(
            decode_record::<V2>(&bytes).unwrap(),
            V2 {
                a: 7,
                b: "default".into()
            }
        );
    }

    #[test]
    fn a_newer_layout_is_refused_with_a_reason() {
        let bytes = encode_record(&V2 {
            a: 1,
            b: "x".into(),
        });
        let err = decode_record::<V1>(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("newer Cairn") && err.contains("table t"),
            "{err}"
        );
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let bytes = encode_record(&V2 {
            a: 123_456,
            b: "a name".into(),
        });
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            let err = decode_record::<V2>(&b).unwrap_err().to_string();
            assert!(err.contains("checksum mismatch"), "bit {i}: {err}");
        }
        assert!(decode_record::<V2>(&bytes[..3]).is_err());
    }
}
