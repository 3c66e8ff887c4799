//! The walk of every record table that `cairn library check` runs: each stored value's
//! envelope (version byte and CRC-32, see [`super::record`]) is verified, and every damaged
//! record is reported with its table and key.

use redb::{ReadTransaction, ReadableTable, TableDefinition, TableHandle};

use super::StoreError;
use super::record::open_envelope;
use super::schema;

/// A record whose bytes do not pass their envelope's checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    /// The table, e.g. `entries`.
    pub table: String,
    /// The key, as text.
    pub key: String,
    /// What is wrong (checksum mismatch, too short).
    pub problem: String,
}

/// How many records each table holds and which are damaged.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    /// `(table, records)` for every record table, in schema order.
    pub tables: Vec<(String, u64)>,
    /// The damaged records.
    pub damaged: Vec<Damage>,
}

fn walk<K: redb::Key + 'static>(
    tx: &ReadTransaction,
    def: TableDefinition<K, &'static [u8]>,
    key_text: impl Fn(K::SelfType<'_>) -> String,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let name = def.name().to_owned();
    let t = match tx.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut n = 0;
    for row in t.iter()? {
        let (k, v) = row?;
        n += 1;
        if let Err(e) = open_envelope("check", v.value()) {
            let problem = match e {
                StoreError::Decode { detail, .. } => detail,
                other => other.to_string(),
            };
            report.damaged.push(Damage {
                table: name.clone(),
                key: key_text(k.value()),
                problem,
            });
        }
    }
    report.tables.push((name, n));
    Ok(())
}

/// Verifies the envelope of every record of every record table.
///
/// # Errors
/// [`StoreError`] if a table cannot be read at all (a damaged page: redb's own error).
pub fn check_records(tx: &ReadTransaction) -> Result<CheckReport, StoreError> {
    let mut r = CheckReport::default();
    walk(tx, schema::LOCATIONS, |k| k.to_string(), &mut r)?;
    walk(tx, schema::ENTRIES, |k| k.to_string(), &mut r)?;
    walk(tx, schema::DIR_STATS, |k| k.to_string(), &mut r)?;
    walk(tx, schema::CONTENT, |k| format!("{k:016x}"), &mut r)?;
    walk(tx, schema::JOBS, |k| k.to_string(), &mut r)?;
    walk(tx, schema::UNREADABLE, |k| k.to_string(), &mut r)?;
    walk(tx, schema::AUDIT, |k| k.to_string(), &mut r)?;
    walk(
        tx,
        schema::OP_ITEMS,
        |(job, part, i)| format!("{job}/{part}/{i}"),
        &mut r,
    )?;
    walk(
        tx,
        schema::TOMBSTONES,
        |k| uuid::Uuid::from_u128(k).to_string(),
        &mut r,
    )?;
    walk(
        tx,
        schema::VOLUMES,
        |k| uuid::Uuid::from_u128(k).to_string(),
        &mut r,
    )?;
    walk(
        tx,
        schema::FAVOURITE_ENTRIES,
        |k| uuid::Uuid::from_u128(k).to_string(),
        &mut r,
    )?;
    walk(
        tx,
        schema::PINNED,
        |k| String::from_utf8_lossy(k).into_owned(),
        &mut r,
    )?;
    walk(
        tx,
        schema::TAGS,
        |k| uuid::Uuid::from_u128(k).to_string(),
        &mut r,
    )?;
    walk(
        tx,
        schema::TAG_PARENTS,
        |(c, p)| format!("{}/{}", uuid::Uuid::from_u128(c), uuid::Uuid::from_u128(p)),
        &mut r,
    )?;
    walk(tx, schema::SYNC_LOG, |k| hex::encode(k), &mut r)?;
    walk(tx, schema::SAVED_SEARCHES, |k| k.to_owned(), &mut r)?;
    walk(
        tx,
        schema::COLLECTIONS,
        |k| uuid::Uuid::from_u128(k).to_string(),
        &mut r,
    )?;
    walk(
        tx,
        schema::USER_META,
        |(kind, u)| format!("{kind}/{}", uuid::Uuid::from_u128(u)),
        &mut r,
    )?;
    Ok(r)
}

/// The size of one table: its entries and the bytes its tree holds (redb's table statistics).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableSize {
    /// The table.
    pub table: String,
    /// Its entries.
    pub entries: u64,
    /// Bytes of keys and values.
    pub stored_bytes: u64,
    /// Bytes of the tree's own structure (page headers, offsets).
    pub metadata_bytes: u64,
    /// Bytes of its pages left unused.
    pub fragmented_bytes: u64,
}

/// The size of every table of the store, by name.
///
/// # Errors
/// [`StoreError`] if a table cannot be read.
pub fn table_sizes(tx: &ReadTransaction) -> Result<Vec<TableSize>, StoreError> {
    use redb::ReadableTableMetadata;
    let mut out = Vec::new();
    for handle in tx.list_tables()? {
        let name = handle.name().to_owned();
        let t = tx.open_untyped_table(handle)?;
        let st = t.stats()?;
        out.push(TableSize {
            table: name,
            entries: t.len()?,
            stored_bytes: st.stored_bytes(),
            metadata_bytes: st.metadata_bytes(),
            fragmented_bytes: st.fragmented_bytes(),
        });
    }
    Ok(out)
}
