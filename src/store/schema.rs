//! Every table of `library.redb`, declared once, and the migration list.
//!
//! Keys are redb-native types; values are postcard-encoded structs (see [`super::encode`]).
//! A table added by a later issue is declared here, and the migration that creates it is
//! appended to [`MIGRATIONS`] with [`SCHEMA_VERSION`] raised by one.

use redb::{TableDefinition, WriteTransaction};

use super::StoreError;

/// The schema version this binary writes. A store with a higher version is refused
/// ([`StoreError::SchemaTooNew`]); a lower one is migrated by [`MIGRATIONS`] on open.
pub const SCHEMA_VERSION: u32 = 1;

/// Store-wide metadata: `"schema_version"` → postcard `u32`, `"next_job_id"` → postcard `u64`.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Meta key of the schema version (postcard `u32`).
pub const META_SCHEMA_VERSION: &str = "schema_version";

/// Meta key of the next job id to hand out (postcard `u64`, starts at 1).
pub const META_NEXT_JOB_ID: &str = "next_job_id";

/// Durable jobs: job id → postcard [`crate::vdfs::jobs::JobRecord`].
pub const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");

/// Effects of the diagnostic job: `(job id, batch index)` → how many times that batch was
/// committed. Exactly-once processing across `kill -9` means every value is 1.
pub const DIAGNOSTIC_BATCHES: TableDefinition<(u64, u64), u32> =
    TableDefinition::new("diagnostic_batches");

/// One step of the schema's history.
pub struct Migration {
    /// The version the store has after this step.
    pub to: u32,
    /// What the step does, for logs.
    pub description: &'static str,
    /// Applies the step inside the migration's write transaction.
    pub apply: fn(&WriteTransaction) -> Result<(), StoreError>,
}

/// Every migration, oldest first. A fresh store runs all of them; a store at version `v` runs
/// those with `to > v`, in one write transaction, so a crash mid-migration leaves the old
/// version intact.
pub const MIGRATIONS: &[Migration] = &[Migration {
    to: 1,
    description: "create meta, jobs and diagnostic_batches",
    apply: create_v1,
}];

fn create_v1(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(META)?;
    tx.open_table(JOBS)?;
    tx.open_table(DIAGNOSTIC_BATCHES)?;
    Ok(())
}
