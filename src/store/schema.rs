//! Every table of `library.redb`, declared once, and the migration list.
//!
//! Keys are redb-native types; values are postcard-encoded structs (see [`super::encode`]).
//! A table added by a later issue is declared here, and the migration that creates it is
//! appended to [`MIGRATIONS`] with [`SCHEMA_VERSION`] raised by one.

use redb::{TableDefinition, WriteTransaction};

use super::StoreError;

/// The schema version this binary writes. A store with a higher version is refused
/// ([`StoreError::SchemaTooNew`]); a lower one is migrated by [`MIGRATIONS`] on open.
pub const SCHEMA_VERSION: u32 = 4;

/// Store-wide metadata: `"schema_version"` → postcard `u32`, `"next_job_id"` → postcard `u64`.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Meta key of the schema version (postcard `u32`).
pub const META_SCHEMA_VERSION: &str = "schema_version";

/// Meta key of the next job id to hand out (postcard `u64`, starts at 1).
pub const META_NEXT_JOB_ID: &str = "next_job_id";

/// Meta key of the next entry id to hand out (postcard `u64`, starts at 1; 0 means "none").
pub const META_NEXT_ENTRY_ID: &str = "next_entry_id";

/// Meta key of the next location id to hand out (postcard `u32`, starts at 1).
pub const META_NEXT_LOCATION_ID: &str = "next_location_id";

/// Meta key of the names generation (postcard `u64`): bumped by every transaction that changes
/// entries or their content links, so the search name index (`cache/names.idx`) knows it is
/// stale. See [`crate::vdfs::query::search::names`].
pub const META_NAMES_GENERATION: &str = "names_generation";

/// Locations: location id → postcard [`crate::vdfs::index::location::LocationRecord`].
pub const LOCATIONS: TableDefinition<u32, &[u8]> = TableDefinition::new("locations");

/// Entries: entry id → postcard [`crate::vdfs::index::EntryRecord`]. Ids are handed out in
/// walk order, so a first index inserts in key order.
pub const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");

/// Hierarchy: `(parent entry id, child entry id)`. A folder's listing is one range scan.
pub const CHILDREN: TableDefinition<(u64, u64), ()> = TableDefinition::new("children");

/// Closure relations over folders: `(ancestor folder, descendant folder)` → depth (0 for a
/// folder and itself). Every folder of a subtree is one range scan on the ancestor; files are
/// reached through [`CHILDREN`]. Kept over folders only, so it stays ~10× smaller than a full
/// closure table while subtree queries stay range scans.
pub const DIR_CLOSURE: TableDefinition<(u64, u64), u32> = TableDefinition::new("dir_closure");

/// Aggregates: folder entry id → postcard [`crate::vdfs::index::DirStats`] (bytes, files and
/// folders of the whole subtree).
pub const DIR_STATS: TableDefinition<u64, &[u8]> = TableDefinition::new("dir_stats");

/// Content identities: cas_id (as u64) → postcard [`crate::vdfs::index::ContentRecord`].
pub const CONTENT: TableDefinition<u64, &[u8]> = TableDefinition::new("content");

/// Every instance of each content: `(cas_id, entry id)`.
pub const CONTENT_INSTANCES: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("content_instances");

/// Durable jobs: job id → postcard [`crate::vdfs::jobs::JobRecord`].
pub const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");

/// Effects of the diagnostic job: `(job id, batch index)` → how many times that batch was
/// committed. Exactly-once processing across `kill -9` means every value is 1.
pub const DIAGNOSTIC_BATCHES: TableDefinition<(u64, u64), u32> =
    TableDefinition::new("diagnostic_batches");

/// Favourite folders: exact path bytes → postcard `i64` (when added, ms since the epoch).
pub const FAVOURITES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("favourites");

/// Folders that could not be listed at their last scan: folder entry id → postcard `i64` (since
/// when, ms since the epoch — the first failed scan of a run of failures). What the index knew
/// below them is kept; the row goes when a scan lists the folder again or the folder is
/// deleted.
pub const UNREADABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("unreadable");

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
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 1,
        description: "create meta, jobs and diagnostic_batches",
        apply: create_v1,
    },
    Migration {
        to: 2,
        description: "create the index: locations, entries, children, dir_closure, dir_stats, \
                      content, content_instances",
        apply: create_v2,
    },
    Migration {
        to: 3,
        description: "create favourites",
        apply: create_v3,
    },
    Migration {
        to: 4,
        description: "create unreadable",
        apply: create_v4,
    },
];

fn create_v1(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(META)?;
    tx.open_table(JOBS)?;
    tx.open_table(DIAGNOSTIC_BATCHES)?;
    Ok(())
}

fn create_v2(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(LOCATIONS)?;
    tx.open_table(ENTRIES)?;
    tx.open_table(CHILDREN)?;
    tx.open_table(DIR_CLOSURE)?;
    tx.open_table(DIR_STATS)?;
    tx.open_table(CONTENT)?;
    tx.open_table(CONTENT_INSTANCES)?;
    Ok(())
}

fn create_v3(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(FAVOURITES)?;
    Ok(())
}

fn create_v4(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(UNREADABLE)?;
    Ok(())
}
