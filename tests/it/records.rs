//! Fuzzing the decoders of every stored record type (issue "fortress": malformed bytes give a
//! clear error, never a panic): arbitrary bytes, and arbitrary payloads inside a valid envelope
//! (right version, right checksum), so postcard's decoding of each struct is exercised too.

use cairn::store::record::{Record, decode_record};
use cairn::vdfs::index::location::LocationRecord;
use cairn::vdfs::index::volume::VolumeRecord;
use cairn::vdfs::index::{
    ContentRecord, DirStats, EntryRecord, FavouriteRecord, Tombstone, UnreadableRecord,
};
use cairn::vdfs::jobs::JobRecord;
use proptest::prelude::*;

fn enveloped<T: Record>(payload: &[u8]) -> Vec<u8> {
    let mut b = vec![T::VERSION];
    b.extend_from_slice(payload);
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// CRC-32 (IEEE), bit by bit: the test's own, so it does not share code with what it tests.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn no_panic<T: Record + std::fmt::Debug>(bytes: &[u8]) {
    match decode_record::<T>(bytes) {
        Ok(_) => {}
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(T::TABLE), "the error names the table: {msg}");
        }
    }
}

fn all(bytes: &[u8]) {
    no_panic::<EntryRecord>(bytes);
    no_panic::<ContentRecord>(bytes);
    no_panic::<DirStats>(bytes);
    no_panic::<LocationRecord>(bytes);
    no_panic::<JobRecord>(bytes);
    no_panic::<VolumeRecord>(bytes);
    no_panic::<Tombstone>(bytes);
    no_panic::<FavouriteRecord>(bytes);
    no_panic::<UnreadableRecord>(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        all(&bytes);
    }

    #[test]
    fn arbitrary_payloads_in_a_valid_envelope_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..300)
    ) {
        no_panic::<EntryRecord>(&enveloped::<EntryRecord>(&payload));
        no_panic::<ContentRecord>(&enveloped::<ContentRecord>(&payload));
        no_panic::<DirStats>(&enveloped::<DirStats>(&payload));
        no_panic::<LocationRecord>(&enveloped::<LocationRecord>(&payload));
        no_panic::<JobRecord>(&enveloped::<JobRecord>(&payload));
        no_panic::<VolumeRecord>(&enveloped::<VolumeRecord>(&payload));
        no_panic::<Tombstone>(&enveloped::<Tombstone>(&payload));
        no_panic::<FavouriteRecord>(&enveloped::<FavouriteRecord>(&payload));
        no_panic::<UnreadableRecord>(&enveloped::<UnreadableRecord>(&payload));
    }
}

#[test]
fn the_envelope_checksum_is_crc32_ieee() {
    // The check value of CRC-32/ISO-HDLC for "123456789".
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let rec = FavouriteRecord { added_ms: 42 };
    let bytes = cairn::store::record::encode_record(&rec);
    let body = &bytes[..bytes.len() - 4];
    assert_eq!(&bytes[bytes.len() - 4..], &crc32(body).to_le_bytes());
    assert_eq!(decode_record::<FavouriteRecord>(&bytes).unwrap(), rec);
}
