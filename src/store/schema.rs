//! Every table of `library.redb`, declared once, and the migration list.
//!
//! Keys are redb-native types. Record values are versioned, checksummed envelopes around a
//! postcard struct ([`super::record`]); `meta` values are bare postcard scalars
//! ([`super::encode`]).
//! A table added by a later issue is declared here, and the migration that creates it is
//! appended to [`MIGRATIONS`] with [`SCHEMA_VERSION`] raised by one.

use redb::{TableDefinition, WriteTransaction};

use super::StoreError;

/// The schema version this binary writes. A store with a higher version is refused
/// ([`StoreError::SchemaTooNew`]); a lower one is migrated by [`MIGRATIONS`] on open.
pub const SCHEMA_VERSION: u32 = 7;

/// Store-wide metadata: `"schema_version"` → postcard `u32`, `"next_job_id"` → postcard `u64`.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Meta key of the schema version (postcard `u32`).
pub const META_SCHEMA_VERSION: &str = "schema_version";

/// Meta key of the next job id to hand out (postcard `u64`, starts at 1).
pub const META_NEXT_JOB_ID: &str = "next_job_id";

/// Meta key of the next entry id to hand out (postcard `u64`) in schema versions 2–4, when ids
/// were one counter for the library. From version 5 each location has its own range of ids and
/// its own counter (see [`crate::vdfs::index::entry_ids`]).
pub const META_NEXT_ENTRY_ID_V4: &str = "next_entry_id";

/// Entries of location `loc` have ids in `loc << 40 | 1 ..= loc << 40 | (2^40 - 1)`; the next
/// one to hand out is stored under meta key `"next_entry_id/<loc>"` (postcard `u64`).
pub const META_NEXT_ENTRY_ID_PREFIX: &str = "next_entry_id/";

/// Meta key of the next location id to hand out (postcard `u32`, starts at 1).
pub const META_NEXT_LOCATION_ID: &str = "next_location_id";

/// Meta key of the next entry change sequence number (postcard `u64`, starts at 1): every
/// write of an entry stamps it with the next number ([`crate::vdfs::index::EntryRecord`]'s
/// `updated_seq`), the watermark of "changed since".
pub const META_NEXT_SEQ: &str = "next_seq";

/// Meta key of when old tombstones were last pruned (postcard `i64`, ms since the epoch); see
/// [`crate::vdfs::index::write::prune_tombstones_if_due`].
pub const META_TOMBSTONES_PRUNED: &str = "tombstones_pruned_ms";

/// Meta key of when the marks of long-missing entries were last forgotten (postcard `i64`, ms
/// since the epoch); see `Library::forget_expired_missing`.
pub const META_MISSING_FORGOTTEN: &str = "missing_forgotten_ms";

/// Meta key of the names generation (postcard `u64`): a new random value with every
/// transaction that changes entries or their content links, so the search name index
/// (`cache/names.idx`) knows it is stale — never a value it had before, even after commits were
/// lost. See [`crate::vdfs::query::search::names`].
pub const META_NAMES_GENERATION: &str = "names_generation";

/// Locations: location id → postcard [`crate::vdfs::index::location::LocationRecord`].
pub const LOCATIONS: TableDefinition<u32, &[u8]> = TableDefinition::new("locations");

/// Entries: entry id → record [`crate::vdfs::index::EntryRecord`]. Each location has its own
/// range of ids ([`crate::vdfs::index::entry_ids`]), so a location's entries are one range
/// scan however large the library; ids are handed out in walk order, so a first index inserts
/// in key order.
pub const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");

/// Hierarchy of schema versions 2–4: `(parent entry id, child entry id)`. Replaced by
/// [`CHILD_NAMES`] in version 5 (the records upgrade moves its rows and deletes it).
pub const CHILDREN_V4: TableDefinition<(u64, u64), ()> = TableDefinition::new("children");

/// Closure relations of schema versions 2–4 (`(ancestor folder, descendant folder)` → depth).
/// Nothing read them; deleted in version 5 (one write less per folder and no relation that a
/// kill between two transactions could leave wrong).
pub const DIR_CLOSURE_V4: TableDefinition<(u64, u64), u32> = TableDefinition::new("dir_closure");

/// Hierarchy and the unique name key: parent entry id (8 bytes, big-endian) followed by the
/// exact name bytes → child entry id (see [`crate::vdfs::index::name_key`]): one flat byte
/// string, so keys compare with one `memcmp` and sort as `(parent, name)`. A folder's listing
/// is one range scan (in name-byte order); a path resolves with one `get` per component; a
/// folder cannot hold two entries of one name (a second writer gets
/// [`super::StoreError::Conflict`]). Location roots are keyed `(0, root path bytes)`.
pub const CHILD_NAMES: TableDefinition<&[u8], u64> = TableDefinition::new("child_names");

/// Entry UUID (as u128) → entry id: one `get` per lookup by UUID.
pub const ENTRY_UUIDS: TableDefinition<u128, u64> = TableDefinition::new("entry_uuids");

/// Content UUID (as u128) → cas_id (as u64): one `get` per lookup by content UUID.
pub const CONTENT_UUIDS: TableDefinition<u128, u64> = TableDefinition::new("content_uuids");

/// Deleted device-owned records, for peers to learn of: UUID (as u128) → record
/// [`crate::vdfs::index::Tombstone`]. Pruned by the rule in
/// [`crate::vdfs::index::write::prune_tombstones`].
pub const TOMBSTONES: TableDefinition<u128, &[u8]> = TableDefinition::new("tombstones");

/// Volumes (file systems) known to the library: volume UUID (as u128) → record
/// [`crate::vdfs::index::volume::VolumeRecord`].
pub const VOLUMES: TableDefinition<u128, &[u8]> = TableDefinition::new("volumes");

/// Favourites, by the entry UUID (as u128) of an indexed folder or file → record
/// [`crate::vdfs::index::FavouriteRecord`]. A favourite follows its entry through renames and
/// moves.
pub const FAVOURITE_ENTRIES: TableDefinition<u128, &[u8]> =
    TableDefinition::new("favourite_entries");

/// This device's runtime state of a location: location id → its indexing job running or last
/// run (job id). Never synced.
pub const LOCATION_JOBS: TableDefinition<u32, u64> = TableDefinition::new("location_jobs");

/// Pinned places that are not indexed, by SdPath (`device UUID (16 bytes) ++ path bytes`) →
/// record [`crate::vdfs::index::FavouriteRecord`].
pub const PINNED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("pinned");

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

/// Favourite folders of schema versions 3–4: exact path bytes → postcard `i64` (when added).
/// Moved to [`FAVOURITE_ENTRIES`] and [`PINNED`] by the version-5 records upgrade.
pub const FAVOURITES_V4: TableDefinition<&[u8], &[u8]> = TableDefinition::new("favourites");

/// Folders that could not be listed at their last scan: folder entry id → record
/// [`crate::vdfs::index::UnreadableRecord`] (since when — the first failed scan of a run of
/// failures). What the index knew
/// below them is kept; the row goes when a scan lists the folder again or the folder is
/// deleted.
pub const UNREADABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("unreadable");

/// The audit log of file operations: audit id (a per-library sequence) → `AuditRecord`
/// (`vdfs::actions::audit`).
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// The items of file-operation jobs: (job id, part, index) → record. Part 0 holds the top-level
/// items (`vdfs::actions::Top`, kept for undo), part 1 the expanded steps
/// (`vdfs::actions::Step`, removed when the job ends).
pub const OP_ITEMS: TableDefinition<(u64, u8, u64), &[u8]> = TableDefinition::new("op_items");

/// Tags: tag UUID → `TagRecord` (`vdfs::index::tags`).
pub const TAGS: TableDefinition<u128, &[u8]> = TableDefinition::new("tags");

/// The tag graph's edges: (child tag UUID, parent tag UUID) → `TagEdge`.
pub const TAG_PARENTS: TableDefinition<(u128, u128), &[u8]> = TableDefinition::new("tag_parents");

/// Tag assignments: (tag UUID, target kind — 0 an entry, 1 a content identity, target UUID) →
/// nothing. Keyed by UUIDs, so an assignment follows its entry through renames, moves and
/// rescans, and a content's to every copy.
pub const TAG_ASSIGNMENTS: TableDefinition<(u128, u8, u128), ()> =
    TableDefinition::new("tag_assignments");

/// User metadata (a note, a rating) on an entry or a content: (target kind — 0 an entry, 1 a
/// content identity, target UUID) → `UserMeta` (`vdfs::index::tags`).
pub const USER_META: TableDefinition<(u8, u128), &[u8]> = TableDefinition::new("user_meta");

/// Collections: collection UUID → `CollectionRecord` (`vdfs::index::tags`): a named, ordered
/// set of entries and contents from anywhere in the library.
pub const COLLECTIONS: TableDefinition<u128, &[u8]> = TableDefinition::new("collections");

/// Saved searches: name (folded) → `SavedSearch` (`vdfs::library`): a named query.
pub const SAVED_SEARCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("saved_searches");

/// The sync log of shared changes (tags, edges, assignments): the change's HLC as 28 bytes
/// (ms and counter big-endian, then the device UUID, so the key order is the HLC order) →
/// `SyncRecord`.
pub const SYNC_LOG: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sync_log");

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
    Migration {
        to: 5,
        description: "create child_names, entry_uuids, content_uuids, tombstones, volumes, \
                      favourite_entries, pinned and location_jobs (the index's records upgrade fills them and \
                      deletes children, dir_closure and favourites)",
        apply: create_v5,
    },
    Migration {
        to: 6,
        description: "create audit and op_items (file operations)",
        apply: create_v6,
    },
    Migration {
        to: 7,
        description: "create tags, tag_parents, tag_assignments, user_meta, collections, saved_searches and sync_log",
        apply: create_v7,
    },
];

/// The tables a store of the current schema always has (those of older layouts that an
/// upgrade removes are not among them).
pub const REQUIRED_TABLES: [&str; 26] = [
    "meta",
    "jobs",
    "diagnostic_batches",
    "locations",
    "entries",
    "dir_stats",
    "content",
    "content_instances",
    "unreadable",
    "child_names",
    "entry_uuids",
    "content_uuids",
    "tombstones",
    "volumes",
    "favourite_entries",
    "pinned",
    "location_jobs",
    "audit",
    "op_items",
    "tags",
    "tag_parents",
    "tag_assignments",
    "user_meta",
    "collections",
    "saved_searches",
    "sync_log",
];

/// The [`REQUIRED_TABLES`] a store lacks (a damaged table tree can lose a table's name).
///
/// # Errors
/// [`StoreError`] if the table list cannot be read.
pub fn missing_tables(tx: &redb::ReadTransaction) -> Result<Vec<&'static str>, StoreError> {
    use redb::TableHandle as _;
    let present: std::collections::HashSet<String> =
        tx.list_tables()?.map(|t| t.name().to_owned()).collect();
    Ok(REQUIRED_TABLES
        .iter()
        .copied()
        .filter(|t| !present.contains(*t))
        .collect())
}

fn create_v1(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(META)?;
    tx.open_table(JOBS)?;
    tx.open_table(DIAGNOSTIC_BATCHES)?;
    Ok(())
}

fn create_v2(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(LOCATIONS)?;
    tx.open_table(ENTRIES)?;
    tx.open_table(CHILDREN_V4)?;
    tx.open_table(DIR_CLOSURE_V4)?;
    tx.open_table(DIR_STATS)?;
    tx.open_table(CONTENT)?;
    tx.open_table(CONTENT_INSTANCES)?;
    Ok(())
}

fn create_v3(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(FAVOURITES_V4)?;
    Ok(())
}

fn create_v4(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(UNREADABLE)?;
    Ok(())
}

fn create_v5(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(CHILD_NAMES)?;
    tx.open_table(ENTRY_UUIDS)?;
    tx.open_table(CONTENT_UUIDS)?;
    tx.open_table(TOMBSTONES)?;
    tx.open_table(VOLUMES)?;
    tx.open_table(FAVOURITE_ENTRIES)?;
    tx.open_table(PINNED)?;
    tx.open_table(LOCATION_JOBS)?;
    Ok(())
}

fn create_v6(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(AUDIT)?;
    tx.open_table(OP_ITEMS)?;
    Ok(())
}

fn create_v7(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(TAGS)?;
    tx.open_table(TAG_PARENTS)?;
    tx.open_table(TAG_ASSIGNMENTS)?;
    tx.open_table(USER_META)?;
    tx.open_table(COLLECTIONS)?;
    tx.open_table(SAVED_SEARCHES)?;
    tx.open_table(SYNC_LOG)?;
    Ok(())
}
