//! `Library` methods for tags: the tag graph (create, rename, change, put under another tag,
//! delete), tagging entries and contents by path, a path's tags, and the entries a set of tags
//! selects for search. Stored by [`crate::vdfs::index::tags`]; every change is durable, stamped
//! with the library's HLC and logged for sync in the same transaction.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use redb::{ReadableTable, ReadableTableMetadata};
use uuid::Uuid;

use crate::store::schema::{CONTENT_UUIDS, ENTRY_UUIDS, TAG_ASSIGNMENTS};
use crate::vdfs::CoreError;
use crate::vdfs::events::Event;
use crate::vdfs::index::tags::{self, Privacy, TagRecord, Target};

/// A tag name as it is compared: the search module's folding (NFC, lower case) without
/// accents (`Ville lumière` = `ville lumiere`): the combining marks of the canonical
/// decomposition are dropped.
fn fold(s: &str, _case_sensitive: bool) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = crate::vdfs::query::search::fold(s, false);
    lower
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .nfc()
        .collect()
}

/// Target UUID (an entry's or a content's) → the tags on it.
pub type TagMap = std::sync::Arc<HashMap<Uuid, Vec<Uuid>>>;

/// Entry or content UUID → its label colour (see [`super::Library::label_map`]).
pub type LabelMap = std::sync::Arc<HashMap<Uuid, u8>>;

/// How many tag filters a library keeps for reuse.
const TAG_FILTERS_KEPT: usize = 8;

/// The entries a set of tags selects, and what they are current for.
pub(crate) struct TagFilter {
    tags: Vec<Uuid>,
    inherited: bool,
    tag_gen: u64,
    names_gen: u64,
    ids: std::sync::Arc<HashSet<u64>>,
}

/// The longest tag name, in bytes.
const NAME_MAX: usize = 200;

/// A tag as the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagInfo {
    /// Its UUID.
    pub id: Uuid,
    /// Its record.
    #[serde(flatten)]
    pub record: TagRecord,
    /// Its parent tags.
    pub parents: Vec<Uuid>,
    /// Entries it is on directly.
    pub entries: u64,
    /// Content identities it is on directly (every copy of each).
    pub contents: u64,
}

impl TagInfo {
    /// `namespace::name`, or the name.
    pub fn qualified(&self) -> String {
        match &self.record.namespace {
            Some(ns) => format!("{ns}::{}", self.record.name),
            None => self.record.name.clone(),
        }
    }
}

/// What a new tag is.
#[derive(Debug, Clone, Default)]
pub struct NewTag {
    /// Its display name (`namespace::name` sets the namespace too).
    pub name: String,
    /// Other names that find it.
    pub aliases: Vec<String>,
    /// `#rrggbb`.
    pub colour: Option<String>,
    /// Who may see it.
    pub privacy: Privacy,
    /// A tag to put it under (by name).
    pub parent: Option<String>,
}

/// Every field of a tag as the tag editor sets it ([`super::Library::edit_tag`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagEdit {
    /// Its display name.
    pub name: String,
    /// Its namespace (`None` or blank: none).
    pub namespace: Option<String>,
    /// Other names that find it (blank ones left out, repeats once).
    pub aliases: Vec<String>,
    /// `#rrggbb`, or none.
    pub colour: Option<String>,
    /// A short icon (an emoji or a symbol), or none.
    pub icon: Option<String>,
    /// Who may see it.
    pub privacy: Privacy,
    /// The tags it is directly under.
    pub parents: Vec<Uuid>,
}

/// How a path carries a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagVia {
    /// On the entry itself.
    Entry,
    /// On its content (every copy).
    Content,
}

/// `namespace::name` split; the name alone has no namespace.
fn split_qualified(s: &str) -> (Option<&str>, &str) {
    match s.split_once("::") {
        Some((ns, name)) => (Some(ns.trim()), name.trim()),
        None => (None, s.trim()),
    }
}

/// Checks a tag name, alias or namespace: not empty, at most [`NAME_MAX`] bytes, no control
/// characters, no `::`.
fn check_name(what: &str, s: &str) -> Result<String, CoreError> {
    let t = s.trim();
    let bad = |reason: &str| CoreError::Tag(format!("invalid tag {what} {s:?}: it {reason}"));
    if t.is_empty() {
        return Err(bad("cannot be empty"));
    }
    if t.len() > NAME_MAX {
        return Err(bad(&format!("can be at most {NAME_MAX} bytes")));
    }
    if t.chars().any(char::is_control) {
        return Err(bad("cannot hold control characters (such as a newline)"));
    }
    if t.contains("::") {
        return Err(bad(
            "cannot hold `::` (it separates a namespace from a name)",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a `#rrggbb` colour.
fn check_colour(c: &str) -> Result<String, CoreError> {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(CoreError::Tag(format!(
            "invalid colour {c:?}: a colour is written #rrggbb (e.g. #3b82f6)"
        )))
    }
}

impl super::Library {
    /// Says that tags or their assignments changed: the cached tag filter is stale, and the
    /// front ends learn of it.
    fn tags_changed(&self) {
        self.tag_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.events.publish(Event::TagsChanged);
    }

    /// [`Self::tagged_entry_ids`] of `wanted`, reused while no tag and no entry changed.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub(crate) fn tag_filter(
        &self,
        wanted: &[Uuid],
        inherited: bool,
    ) -> Result<std::sync::Arc<HashSet<u64>>, CoreError> {
        let tag_gen = self
            .tag_generation
            .load(std::sync::atomic::Ordering::SeqCst);
        let names_gen = crate::vdfs::index::names_generation(&self.store)?;
        {
            let mut cache = self.tag_filter.lock().expect("tag filter");
            cache.retain(|f| f.tag_gen == tag_gen && f.names_gen == names_gen);
            if let Some(i) = cache
                .iter()
                .position(|f| f.tags == wanted && f.inherited == inherited)
            {
                let f = cache.remove(i);
                let set = f.ids.clone();
                cache.push(f);
                return Ok(set);
            }
        }
        let ids = std::sync::Arc::new(self.tagged_entry_ids(wanted, inherited)?);
        let mut cache = self.tag_filter.lock().expect("tag filter");
        if cache.len() >= TAG_FILTERS_KEPT {
            cache.remove(0);
        }
        cache.push(TagFilter {
            tags: wanted.to_vec(),
            inherited,
            tag_gen,
            names_gen,
            ids: ids.clone(),
        });
        Ok(ids)
    }

    /// Every tag with its parents and how many entries and contents it is directly on, sorted
    /// by qualified name (folded).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn tags(&self) -> Result<Vec<TagInfo>, CoreError> {
        self.tag_list(true)
    }

    /// [`Self::tags`]; without `counts`, `entries` and `contents` are left 0 (the graph alone,
    /// for name checks and descendants: counting reads every assignment).
    fn tag_list(&self, counts: bool) -> Result<Vec<TagInfo>, CoreError> {
        let mut out = self.store.read(|tx| {
            let all = tags::all(tx)?;
            let edges = tags::edges(tx)?;
            let assigned = tx.open_table(TAG_ASSIGNMENTS)?;
            let mut out = Vec::with_capacity(all.len());
            for (id, record) in all {
                let u = id.as_u128();
                let count = |kind: u8| -> Result<u64, crate::store::StoreError> {
                    Ok(if counts {
                        assigned
                            .range((u, kind, 0u128)..=(u, kind, u128::MAX))?
                            .count() as u64
                    } else {
                        0
                    })
                };
                let (entries, contents) = (count(0)?, count(1)?);
                out.push(TagInfo {
                    id,
                    parents: edges
                        .iter()
                        .filter(|(c, _)| *c == id)
                        .map(|(_, p)| *p)
                        .collect(),
                    record,
                    entries,
                    contents,
                });
            }
            Ok(out)
        })?;
        out.sort_by_cached_key(|t| (fold(&t.qualified(), false), t.id));
        Ok(out)
    }

    /// The tag `query` names: `namespace::name`, a name, or an alias (case and accents
    /// ignored), or its UUID.
    ///
    /// # Errors
    /// [`CoreError::Tag`] naming it, or [`CoreError::Tag`] if several tags in
    /// different namespaces have that name (say `namespace::name`).
    pub fn find_tag(&self, query: &str) -> Result<TagInfo, CoreError> {
        let mut t = self.resolve_tag(query)?;
        let u = t.id.as_u128();
        (t.entries, t.contents) = self.store.read(|tx| {
            let assigned = tx.open_table(TAG_ASSIGNMENTS)?;
            let count = |kind: u8| -> Result<u64, crate::store::StoreError> {
                Ok(assigned
                    .range((u, kind, 0u128)..=(u, kind, u128::MAX))?
                    .count() as u64)
            };
            Ok((count(0)?, count(1)?))
        })?;
        Ok(t)
    }

    /// [`Self::find_tag`] without its counts (`entries` and `contents` 0).
    fn resolve_tag(&self, query: &str) -> Result<TagInfo, CoreError> {
        let all = self.tag_list(false)?;
        if let Ok(id) = query.trim().parse::<Uuid>()
            && let Some(t) = all.iter().find(|t| t.id == id)
        {
            return Ok(t.clone());
        }
        let (ns, name) = split_qualified(query);
        let want = fold(name, false);
        let hits: Vec<&TagInfo> = all
            .iter()
            .filter(|t| {
                ns.is_none_or(|ns| {
                    t.record
                        .namespace
                        .as_deref()
                        .is_some_and(|tn| fold(tn, false) == fold(ns, false))
                }) && (fold(&t.record.name, false) == want
                    || t.record.aliases.iter().any(|a| fold(a, false) == want))
            })
            .collect();
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(CoreError::Tag(format!(
                "no tag named \"{query}\" (`cairn tag ls` lists them)"
            ))),
            many => Err(CoreError::Tag(format!(
                "several tags are named \"{query}\" ({}); say which with namespace::name",
                many.iter()
                    .map(|t| t.qualified())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Refuses `name` (or an alias) if another tag of the same namespace has it as a name or
    /// an alias.
    fn check_free(
        &self,
        namespace: Option<&str>,
        names: &[&str],
        except: Option<Uuid>,
    ) -> Result<(), CoreError> {
        let ns = namespace.map(|n| fold(n, false));
        for t in self.tag_list(false)? {
            if Some(t.id) == except || t.record.namespace.as_deref().map(|n| fold(n, false)) != ns {
                continue;
            }
            let theirs: Vec<String> = std::iter::once(&t.record.name)
                .chain(&t.record.aliases)
                .map(|n| fold(n, false))
                .collect();
            if let Some(taken) = names.iter().find(|n| theirs.contains(&fold(n, false))) {
                return Err(CoreError::Tag(format!(
                    "the tag \"{}\" already has the name \"{taken}\"",
                    t.qualified()
                )));
            }
        }
        Ok(())
    }

    /// Makes a tag.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for a bad or taken name, alias or colour;
    /// [`CoreError::Tag`] for an unknown parent; [`CoreError::Store`].
    pub fn create_tag(&self, spec: &NewTag) -> Result<TagInfo, CoreError> {
        let (ns, name) = split_qualified(&spec.name);
        let name = check_name("name", name)?;
        let namespace = ns.map(|n| check_name("namespace", n)).transpose()?;
        let aliases = spec
            .aliases
            .iter()
            .map(|a| check_name("alias", a))
            .collect::<Result<Vec<_>, _>>()?;
        let colour = spec.colour.as_deref().map(check_colour).transpose()?;
        let mut names: Vec<&str> = vec![&name];
        names.extend(aliases.iter().map(String::as_str));
        self.check_free(namespace.as_deref(), &names, None)?;
        let parent = spec
            .parent
            .as_deref()
            .map(|p| self.find_tag(p))
            .transpose()?;
        let id = Uuid::new_v4();
        let record = TagRecord {
            name,
            namespace,
            aliases,
            colour,
            icon: None,
            privacy: spec.privacy,
            created_ms: crate::vdfs::jobs::now_ms(),
            hlc: self.clock.tick(),
        };
        let edge_hlc = parent.as_ref().map(|_| self.clock.tick());
        let rec = record.clone();
        self.store.write(move |tx| {
            tags::put(tx, id, &rec)?;
            if let (Some(p), Some(h)) = (&parent, edge_hlc) {
                tags::add_edge(tx, id, p.id, h)?;
            }
            Ok(())
        })?;
        self.tags_changed();
        self.find_tag(&id.to_string())
    }

    /// Changes a tag's record with `change` (a new name is checked to be free).
    fn change_tag(
        &self,
        query: &str,
        change: impl FnOnce(&mut TagRecord) -> Result<(), CoreError>,
    ) -> Result<TagInfo, CoreError> {
        let t = self.find_tag(query)?;
        let mut record = t.record.clone();
        change(&mut record)?;
        let mut names: Vec<&str> = vec![&record.name];
        names.extend(record.aliases.iter().map(String::as_str));
        self.check_free(record.namespace.as_deref(), &names, Some(t.id))?;
        record.hlc = self.clock.tick();
        let id = t.id;
        self.store.write(move |tx| tags::put(tx, id, &record))?;
        self.tags_changed();
        self.find_tag(&id.to_string())
    }

    /// Renames a tag (`namespace::name` moves it to that namespace).
    ///
    /// # Errors
    /// As [`Self::create_tag`].
    pub fn rename_tag(&self, query: &str, new_name: &str) -> Result<TagInfo, CoreError> {
        let (ns, name) = split_qualified(new_name);
        let name = check_name("name", name)?;
        let ns = ns.map(|n| check_name("namespace", n)).transpose()?;
        self.change_tag(query, |r| {
            r.name = name;
            if ns.is_some() {
                r.namespace = ns;
            }
            Ok(())
        })
    }

    /// Sets a tag's colour (`None` clears it), aliases (when given) and privacy (when given).
    ///
    /// # Errors
    /// As [`Self::create_tag`].
    pub fn set_tag(
        &self,
        query: &str,
        colour: Option<Option<String>>,
        aliases: Option<Vec<String>>,
        privacy: Option<Privacy>,
    ) -> Result<TagInfo, CoreError> {
        let colour = match colour {
            Some(Some(c)) => Some(Some(check_colour(&c)?)),
            other => other,
        };
        let aliases = aliases
            .map(|v| {
                v.iter()
                    .map(|a| check_name("alias", a))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        self.change_tag(query, |r| {
            if let Some(c) = colour {
                r.colour = c;
            }
            if let Some(a) = aliases {
                r.aliases = a;
            }
            if let Some(p) = privacy {
                r.privacy = p;
            }
            Ok(())
        })
    }

    /// Changes every field of a tag at once, as the window's tag editor does: its name,
    /// namespace, aliases, colour, icon, privacy and parents (edges added and removed to
    /// match). Checked whole before anything is written; the record and the edges are written
    /// in one transaction, each change logged for sync.
    ///
    /// # Errors
    /// As [`Self::create_tag`]; [`CoreError::Tag`] naming the cycle a parent would make or
    /// an unknown parent; [`CoreError::Store`].
    pub fn edit_tag(&self, query: &str, edit: &TagEdit) -> Result<TagInfo, CoreError> {
        let t = self.find_tag(query)?;
        let mut record = t.record.clone();
        record.name = check_name("name", &edit.name)?;
        record.namespace = edit
            .namespace
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| check_name("namespace", n))
            .transpose()?;
        let mut aliases = Vec::new();
        for a in &edit.aliases {
            let a = check_name("alias", a)?;
            if !aliases.contains(&a) {
                aliases.push(a);
            }
        }
        record.aliases = aliases;
        record.colour = edit.colour.as_deref().map(check_colour).transpose()?;
        record.icon = edit
            .icon
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| check_name("icon", i))
            .transpose()?;
        record.privacy = edit.privacy;
        let mut names: Vec<&str> = vec![&record.name];
        names.extend(record.aliases.iter().map(String::as_str));
        self.check_free(record.namespace.as_deref(), &names, Some(t.id))?;
        let all = self.tag_list(false)?;
        let below = descendants(&all, &[t.id]);
        for p in &edit.parents {
            let Some(parent) = all.iter().find(|x| x.id == *p) else {
                return Err(CoreError::Tag(format!(
                    "no tag {p} to put \"{}\" under",
                    t.qualified()
                )));
            };
            if below.contains(p) {
                return Err(CoreError::Tag(format!(
                    "\"{}\" is below \"{}\": putting \"{}\" under it would make a cycle",
                    parent.qualified(),
                    t.qualified(),
                    t.qualified()
                )));
            }
        }
        let added: Vec<Uuid> = edit
            .parents
            .iter()
            .filter(|p| !t.parents.contains(p))
            .copied()
            .collect();
        let removed: Vec<Uuid> = t
            .parents
            .iter()
            .filter(|p| !edit.parents.contains(p))
            .copied()
            .collect();
        let changed = record != t.record;
        let hlcs: Vec<crate::vdfs::clock::Hlc> = (0..1 + added.len() + removed.len())
            .map(|_| self.clock.tick())
            .collect();
        let id = t.id;
        self.store.write(move |tx| {
            let mut h = hlcs.iter().copied();
            let first = h.next().expect("an HLC for the record");
            if changed {
                record.hlc = first;
                tags::put(tx, id, &record)?;
            }
            for p in &added {
                tags::add_edge(tx, id, *p, h.next().expect("an HLC per change"))?;
            }
            for p in &removed {
                tags::remove_edge(tx, id, *p, h.next().expect("an HLC per change"))?;
            }
            Ok(())
        })?;
        self.tags_changed();
        self.find_tag(&id.to_string())
    }

    /// Puts tag `child` under tag `parent` (a tag may have several parents). Refused when it
    /// would make a cycle.
    ///
    /// # Errors
    /// [`CoreError::Tag`] naming the cycle; [`CoreError::Tag`];
    /// [`CoreError::Store`].
    pub fn add_tag_parent(&self, child: &str, parent: &str) -> Result<(), CoreError> {
        let c = self.find_tag(child)?;
        let p = self.find_tag(parent)?;
        let all = self.tag_list(false)?;
        // A cycle: the parent is the child or one of the child's descendants.
        if descendants(&all, &[c.id]).contains(&p.id) {
            return Err(CoreError::Tag(format!(
                "\"{}\" is below \"{}\": putting \"{}\" under it would make a cycle",
                p.qualified(),
                c.qualified(),
                c.qualified()
            )));
        }
        let hlc = self.clock.tick();
        self.store
            .write(move |tx| tags::add_edge(tx, c.id, p.id, hlc))?;
        self.tags_changed();
        Ok(())
    }

    /// Takes tag `child` from under tag `parent`.
    ///
    /// # Errors
    /// [`CoreError::Tag`] (also when `child` is not under `parent`); [`CoreError::Store`].
    pub fn remove_tag_parent(&self, child: &str, parent: &str) -> Result<(), CoreError> {
        let c = self.find_tag(child)?;
        let p = self.find_tag(parent)?;
        let hlc = self.clock.tick();
        let gone = self
            .store
            .write(move |tx| tags::remove_edge(tx, c.id, p.id, hlc))?;
        if !gone {
            return Err(CoreError::Tag(format!(
                "\"{child}\" is not under \"{parent}\""
            )));
        }
        self.tags_changed();
        Ok(())
    }

    /// Merges tag `from` into tag `into`: everything `from` is on gets `into`, `from`'s
    /// children and parents become `into`'s (an edge that would make a cycle is left out),
    /// `from`'s name and aliases become aliases of `into`, and `from` is deleted — one change
    /// per step, all in one transaction.
    ///
    /// # Errors
    /// [`CoreError::Tag`] if they are one tag or a name is unknown; [`CoreError::Store`].
    pub fn merge_tags(&self, from: &str, into: &str) -> Result<TagInfo, CoreError> {
        let f = self.find_tag(from)?;
        let t = self.find_tag(into)?;
        if f.id == t.id {
            return Err(CoreError::Tag(format!(
                "\"{from}\" and \"{into}\" are the same tag"
            )));
        }
        let all = self.tag_list(false)?;
        // The graph as it will be, to leave out edges that would make a cycle.
        let mut graph: Vec<TagInfo> = all.iter().filter(|x| x.id != f.id).cloned().collect();
        let mut edges = Vec::new();
        for p in &f.parents {
            if *p != t.id && !descendants(&graph, &[t.id]).contains(p) {
                edges.push((t.id, *p));
                if let Some(x) = graph.iter_mut().find(|x| x.id == t.id) {
                    x.parents.push(*p);
                }
            }
        }
        for c in all
            .iter()
            .filter(|c| c.parents.contains(&f.id) && c.id != t.id)
        {
            if !descendants(&graph, &[c.id]).contains(&t.id) {
                edges.push((c.id, t.id));
                if let Some(x) = graph.iter_mut().find(|x| x.id == c.id) {
                    x.parents.push(t.id);
                }
            }
        }
        let mut record = t.record.clone();
        for name in std::iter::once(&f.record.name).chain(&f.record.aliases) {
            if fold(name, false) != fold(&record.name, false)
                && !record
                    .aliases
                    .iter()
                    .any(|a| fold(a, false) == fold(name, false))
            {
                record.aliases.push(name.clone());
            }
        }
        // One HLC per step, in the order the steps are made (a replay in HLC order makes
        // them in this order too).
        let hlcs: Vec<crate::vdfs::clock::Hlc> =
            (0..edges.len() + 3).map(|_| self.clock.tick()).collect();
        record.hlc = hlcs[edges.len() + 2];
        let (fid, tid) = (f.id, t.id);
        self.store.write(move |tx| {
            let moved = tags::targets_of(&tx.open_table(TAG_ASSIGNMENTS)?, fid)?;
            tags::assign(tx, tid, &moved, hlcs[0])?;
            for (i, (c, p)) in edges.iter().enumerate() {
                tags::add_edge(tx, *c, *p, hlcs[1 + i])?;
            }
            tags::delete(tx, fid, hlcs[edges.len() + 1])?;
            tags::put(tx, tid, &record)?;
            Ok(())
        })?;
        self.tags_changed();
        self.find_tag(&tid.to_string())
    }

    /// Deletes a tag, its place in the graph and every assignment of it (the files are not
    /// touched). Its children stay, without it as a parent.
    ///
    /// # Errors
    /// [`CoreError::Tag`]; [`CoreError::Store`].
    pub fn delete_tag(&self, query: &str) -> Result<TagInfo, CoreError> {
        let t = self.find_tag(query)?;
        let (id, hlc) = (t.id, self.clock.tick());
        self.store.write(move |tx| tags::delete(tx, id, hlc))?;
        self.tags_changed();
        Ok(t)
    }

    /// The targets for `paths`: each indexed path's entry (with `recursive`, and everything
    /// below a folder), or with `content` the content identities of the files (folders and
    /// files not identified yet are refused then).
    fn targets_for(
        &self,
        paths: &[PathBuf],
        content: bool,
        recursive: bool,
    ) -> Result<Vec<Target>, CoreError> {
        let mut ids = Vec::new();
        for p in paths {
            let found = self.entry_at(p)?.ok_or_else(|| CoreError::Tag(format!(
                    "{} is not in the library's index (only indexed files can be tagged; add its folder as a location)",
                    p.display()
                )))?;
            ids.push(found.id);
        }
        self.store
            .read(|tx| {
                let mut out = Vec::new();
                for (id, path) in ids.iter().zip(paths) {
                    let recs = if recursive {
                        crate::vdfs::index::subtree(tx, *id)?
                    } else {
                        crate::vdfs::index::entry(tx, *id)?
                            .map(|r| vec![(*id, r)])
                            .unwrap_or_default()
                    };
                    for (_, r) in recs {
                        if !content {
                            out.push(Target::Entry(r.uuid));
                        } else if let Some(cas) = r.cas {
                            out.push(Target::Content(cas.content_uuid()));
                        } else if !recursive {
                            return Err(crate::store::StoreError::NotFound {
                                what: format!(
                                    "the content of {} (it is a folder, or not identified yet: index its location in content mode)",
                                    path.display()
                                ),
                            });
                        }
                    }
                }
                Ok(out)
            })
            .map_err(CoreError::from)
    }

    /// Puts `tag` on `paths` as one change; returns how many were not tagged yet.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for a path not indexed or an unknown tag; [`CoreError::Store`].
    pub fn tag_paths(
        &self,
        tag: &str,
        paths: &[PathBuf],
        content: bool,
        recursive: bool,
    ) -> Result<u64, CoreError> {
        self.set_tag_on(tag, paths, content, recursive, true)
    }

    /// Takes `tag` off `paths` as one change; returns how many carried it.
    ///
    /// # Errors
    /// As [`Self::tag_paths`].
    pub fn untag_paths(
        &self,
        tag: &str,
        paths: &[PathBuf],
        content: bool,
        recursive: bool,
    ) -> Result<u64, CoreError> {
        self.set_tag_on(tag, paths, content, recursive, false)
    }

    /// [`Self::tag_paths`] (`on`) or [`Self::untag_paths`].
    fn set_tag_on(
        &self,
        tag: &str,
        paths: &[PathBuf],
        content: bool,
        recursive: bool,
        on: bool,
    ) -> Result<u64, CoreError> {
        let t = self.resolve_tag(tag)?;
        let targets = self.targets_for(paths, content, recursive)?;
        let hlc = self.clock.tick();
        let n = self.store.write(move |tx| {
            if on {
                tags::assign(tx, t.id, &targets, hlc)
            } else {
                tags::unassign(tx, t.id, &targets, hlc)
            }
        })?;
        self.tags_changed();
        Ok(n)
    }

    /// The tags on the indexed `path`: on its entry, and on its content (every copy).
    ///
    /// # Errors
    /// [`CoreError::Tag`] if it is not indexed; [`CoreError::Store`].
    pub fn tags_of(&self, path: &Path) -> Result<Vec<(TagInfo, TagVia)>, CoreError> {
        let found = self.entry_at(path)?.ok_or_else(|| {
            CoreError::Tag(format!("{} is not in the library's index", path.display()))
        })?;
        let all = self.tags()?;
        let rec = found.record;
        let hits = self.store.read(|tx| {
            let t = tx.open_table(TAG_ASSIGNMENTS)?;
            let mut hits = Vec::new();
            for tag in &all {
                let u = tag.id.as_u128();
                if t.get((u, 0u8, rec.uuid.as_u128()))?.is_some() {
                    hits.push((tag.clone(), TagVia::Entry));
                }
                if let Some(cas) = rec.cas
                    && t.get((u, 1u8, cas.content_uuid().as_u128()))?.is_some()
                {
                    hits.push((tag.clone(), TagVia::Content));
                }
            }
            Ok(hits)
        })?;
        Ok(hits)
    }

    /// The entry ids carrying every one of `tags` (each with its descendants in the graph:
    /// a file tagged "Paris" is found by "France"), on the entry or on its content. With
    /// `inherited`, a tagged folder passes its tags to everything below it.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn tagged_entry_ids(
        &self,
        wanted: &[Uuid],
        inherited: bool,
    ) -> Result<HashSet<u64>, CoreError> {
        let all = self.tag_list(false)?;
        let mut result: Option<HashSet<u64>> = None;
        for &tag in wanted {
            let family = descendants(&all, &[tag]);
            let ids = self.store.read(|tx| {
                let t = tx.open_table(TAG_ASSIGNMENTS)?;
                let tables = TargetTables::open(tx)?;
                let mut ids = HashSet::new();
                for &member in &family {
                    for target in tags::targets_of(&t, member)? {
                        tables.add(target, &mut ids)?;
                    }
                }
                if inherited {
                    let folders: Vec<u64> = ids.iter().copied().collect();
                    for id in folders {
                        if crate::vdfs::index::entry(tx, id)?
                            .is_some_and(|r| r.kind == crate::vdfs::fs::entry::EntryKind::Dir)
                        {
                            ids.extend(
                                crate::vdfs::index::subtree(tx, id)?
                                    .into_iter()
                                    .map(|(i, _)| i),
                            );
                        }
                    }
                }
                Ok(ids)
            })?;
            result = Some(match result {
                None => ids,
                Some(prev) => prev.intersection(&ids).copied().collect(),
            });
        }
        Ok(result.unwrap_or_default())
    }

    /// Which tags each target carries directly: entry UUID or content UUID → tag ids (the
    /// front ends look up a row's entry and its content). Read whole (one pass over the
    /// assignments) and reused until a tag changes.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn tag_map(&self) -> Result<TagMap, CoreError> {
        let tag_gen = self
            .tag_generation
            .load(std::sync::atomic::Ordering::SeqCst);
        if let Some((g, map)) = &*self.tag_map.lock().expect("tag map")
            && *g == tag_gen
        {
            return Ok(map.clone());
        }
        let map = self.store.read(|tx| {
            let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            for row in tx.open_table(TAG_ASSIGNMENTS)?.iter()? {
                let (tag, _, target) = row?.0.value();
                map.entry(Uuid::from_u128(target))
                    .or_default()
                    .push(Uuid::from_u128(tag));
            }
            Ok(map)
        })?;
        let map = std::sync::Arc::new(map);
        *self.tag_map.lock().expect("tag map") = Some((tag_gen, map.clone()));
        Ok(map)
    }

    /// The label colour of every target that has one: entry UUID or content UUID → its
    /// [`tags::UserMeta::label`] (1 and up). One pass over the user metadata.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn label_map(&self) -> Result<LabelMap, CoreError> {
        Ok(std::sync::Arc::new(self.store.read(|tx| {
            let mut map = HashMap::new();
            for row in tx.open_table(crate::store::schema::USER_META)?.iter()? {
                let (k, v) = row?;
                let meta: tags::UserMeta = crate::store::record::decode_record(v.value())?;
                if meta.label > 0 {
                    map.insert(Uuid::from_u128(k.value().1), meta.label);
                }
            }
            Ok(map)
        })?))
    }

    /// Undoes the newest tagging or untagging made on this device that is not undone yet
    /// (one action, however many items): the tag comes off what it was put on, or back on what
    /// it was taken off. Durable and logged for sync; running it again undoes the action before.
    /// Returns the tag's name, how many items changed and whether the tag was taken off
    /// (`true`) or put back; `None` when there is nothing to undo.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn undo_tagging(&self) -> Result<Option<(String, u64, bool)>, CoreError> {
        let names: HashMap<Uuid, String> = self
            .tags()?
            .into_iter()
            .map(|t| (t.id, t.qualified()))
            .collect();
        let (inverse, marker) = (self.clock.tick(), self.clock.tick());
        let device = self.device;
        let done = self
            .store
            .write(move |tx| tags::undo_newest(tx, device, inverse, marker))?;
        self.tags_changed();
        Ok(done.map(|(tag, n, was_assign)| {
            (
                names.get(&tag).cloned().unwrap_or_else(|| tag.to_string()),
                n,
                was_assign,
            )
        }))
    }

    /// The sync log records after `after` (all with `None`), as `(key, record bytes)`: what
    /// a peer that has seen everything up to `after` is sent.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn sync_log_after(
        &self,
        after: Option<crate::vdfs::clock::Hlc>,
    ) -> Result<tags::LogRecords, CoreError> {
        let from = after.map(tags::hlc_key);
        Ok(self.store.read(|tx| {
            let t = tx.open_table(crate::store::schema::SYNC_LOG)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                if from.is_none_or(|f| k.value() > f.as_slice()) {
                    out.push((k.value().to_vec(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?)
    }

    /// Merges a peer's sync log records into this library ([`tags::merge_remote`]): the
    /// shared state becomes the replay of both logs; this device's clock moves past the newest
    /// record received. Returns how many records were new.
    ///
    /// # Errors
    /// [`CoreError::Store`] (a malformed record refuses the whole batch).
    pub fn merge_remote_changes(&self, records: tags::LogRecords) -> Result<u64, CoreError> {
        let (new, newest) = self
            .store
            .write(move |tx| tags::merge_remote(tx, &records))?;
        if let Some(h) = newest
            && let Err(e) = self.clock.observe(h)
        {
            tracing::warn!("{e}");
        }
        if new > 0 {
            self.tags_changed();
        }
        Ok(new)
    }

    /// Takes the `tag:NAME` words out of `q.text` (`tag:"two words"` for a name with spaces)
    /// and adds their tags to `q.tags`: the search box's way of saying `--tag`.
    ///
    /// # Errors
    /// [`CoreError::Tag`] naming a tag that does not exist.
    pub fn take_tags_from_text(
        &self,
        q: &mut crate::vdfs::query::search::Query,
    ) -> Result<(), CoreError> {
        if !q.text.contains("tag:") {
            return Ok(());
        }
        let mut rest = String::new();
        let mut text = q.text.as_str();
        while let Some(at) = text.find("tag:") {
            // Only at the start of a word.
            if at > 0 && !text[..at].ends_with(char::is_whitespace) {
                rest.push_str(&text[..at + 4]);
                text = &text[at + 4..];
                continue;
            }
            rest.push_str(&text[..at]);
            let after = &text[at + 4..];
            let (name, tail) = if let Some(quoted) = after.strip_prefix('"') {
                match quoted.find('"') {
                    Some(end) => (&quoted[..end], &quoted[end + 1..]),
                    None => (quoted, ""),
                }
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            if !name.trim().is_empty() {
                let t = self.find_tag(name)?;
                if !q.tags.contains(&t.id) {
                    q.tags.push(t.id);
                }
            }
            text = tail;
        }
        rest.push_str(text);
        q.text = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(())
    }

    /// How many tag assignments the library holds (for store-growth figures).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn tag_assignment_count(&self) -> Result<u64, CoreError> {
        Ok(self
            .store
            .read(|tx| Ok(tx.open_table(TAG_ASSIGNMENTS)?.len()?))?)
    }
}

/// What [`super::Library::set_meta`] changes: each `Some` field is set, each `None` kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaChange {
    /// The note (empty clears it; trailing white space is dropped).
    pub note: Option<String>,
    /// The rating, 0 (none) to 5.
    pub rating: Option<u8>,
    /// The label colour: 0 none, else 1 + its index in [`tags::LABELS`].
    pub label: Option<u8>,
    /// Favourite or not.
    pub favourite: Option<bool>,
}

/// The note and rating of an indexed file, on the file itself and on its content.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetaOf {
    /// On the entry (follows it through renames and moves).
    pub entry: Option<tags::UserMeta>,
    /// On its content (every copy).
    pub content: Option<tags::UserMeta>,
}

impl super::Library {
    /// The target of `path`: its entry, or with `content` its content identity.
    fn target_of(&self, path: &Path, content: bool) -> Result<Target, CoreError> {
        let found = self.entry_at(path)?.ok_or_else(|| {
            CoreError::Tag(format!(
                "{} is not in the library's index (only indexed files carry notes and ratings)",
                path.display()
            ))
        })?;
        if !content {
            return Ok(Target::Entry(found.record.uuid));
        }
        found
            .record
            .cas
            .map(|c| Target::Content(c.content_uuid()))
            .ok_or_else(|| {
                CoreError::Tag(format!(
                    "the content of {} is not identified (it is a folder, or its location is shallow)",
                    path.display()
                ))
            })
    }

    /// The note and rating of the indexed `path` (on it and on its content).
    ///
    /// # Errors
    /// [`CoreError::Tag`] if it is not indexed; [`CoreError::Store`].
    pub fn meta_of(&self, path: &Path) -> Result<MetaOf, CoreError> {
        let found = self.entry_at(path)?.ok_or_else(|| {
            CoreError::Tag(format!("{} is not in the library's index", path.display()))
        })?;
        let rec = found.record;
        Ok(self.store.read(|tx| {
            Ok(MetaOf {
                entry: tags::meta_of(tx, Target::Entry(rec.uuid))?,
                content: match rec.cas {
                    Some(c) => tags::meta_of(tx, Target::Content(c.content_uuid()))?,
                    None => None,
                },
            })
        })?)
    }

    /// Changes what `change` names (the others are kept) on the indexed `path`, or with
    /// `content` on its content (every copy). Durable, logged for sync.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for a path not indexed, a content not identified, a rating above 5
    /// or a label beyond [`tags::LABELS`]; [`CoreError::Store`].
    pub fn set_meta(
        &self,
        path: &Path,
        content: bool,
        change: MetaChange,
    ) -> Result<tags::UserMeta, CoreError> {
        if let Some(r) = change.rating
            && r > 5
        {
            return Err(CoreError::Tag(format!("a rating is 0 to 5 stars, not {r}")));
        }
        if let Some(l) = change.label
            && usize::from(l) > tags::LABELS.len()
        {
            return Err(CoreError::Tag(format!(
                "there is no label colour {l} (0 is none, 1 to {} are {})",
                tags::LABELS.len(),
                tags::LABELS.join(", ")
            )));
        }
        let target = self.target_of(path, content)?;
        let hlc = self.clock.tick();
        let meta = self.store.write(move |tx| {
            let mut meta = tags::meta_of_w(tx, target)?.unwrap_or(tags::UserMeta {
                note: String::new(),
                rating: 0,
                label: 0,
                favourite: false,
                hlc,
            });
            if let Some(n) = &change.note {
                meta.note = n.trim_end().to_owned();
            }
            if let Some(r) = change.rating {
                meta.rating = r;
            }
            if let Some(l) = change.label {
                meta.label = l;
            }
            if let Some(f) = change.favourite {
                meta.favourite = f;
            }
            meta.hlc = hlc;
            tags::set_meta(tx, target, &meta)?;
            Ok(meta)
        })?;
        self.tags_changed();
        Ok(meta)
    }

    /// The entry ids whose note (on the entry or on its content) contains `text` (case and
    /// accents ignored).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn noted_entry_ids(&self, text: &str) -> Result<HashSet<u64>, CoreError> {
        let want = fold(text.trim(), false);
        Ok(self.store.read(|tx| {
            let tables = TargetTables::open(tx)?;
            let mut ids = HashSet::new();
            for row in tx.open_table(crate::store::schema::USER_META)?.iter()? {
                let (k, v) = row?;
                let meta: tags::UserMeta = crate::store::record::decode_record(v.value())?;
                if meta.note.is_empty() || !fold(&meta.note, false).contains(&want) {
                    continue;
                }
                let (kind, uuid) = k.value();
                if let Some(t) = Target::from_key(kind, uuid) {
                    tables.add(t, &mut ids)?;
                }
            }
            Ok(ids)
        })?)
    }
}

/// A collection as the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CollectionInfo {
    /// Its UUID.
    pub id: Uuid,
    /// Its record (name, items in order).
    #[serde(flatten)]
    pub record: tags::CollectionRecord,
}

impl super::Library {
    /// Every collection, by name.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn collections(&self) -> Result<Vec<CollectionInfo>, CoreError> {
        let mut v: Vec<CollectionInfo> = self
            .store
            .read(tags::collections)?
            .into_iter()
            .map(|(id, record)| CollectionInfo { id, record })
            .collect();
        v.sort_by_cached_key(|c| (fold(&c.record.name, false), c.id));
        Ok(v)
    }

    /// The collection `query` names (its name, case and accents ignored, or its UUID).
    ///
    /// # Errors
    /// [`CoreError::Tag`] when none does.
    pub fn find_collection(&self, query: &str) -> Result<CollectionInfo, CoreError> {
        let all = self.collections()?;
        let id = query.trim().parse::<Uuid>().ok();
        all.into_iter()
            .find(|c| Some(c.id) == id || fold(&c.record.name, false) == fold(query, false))
            .ok_or_else(|| {
                CoreError::Tag(format!(
                    "no collection named \"{query}\" (`cairn collection ls` lists them)"
                ))
            })
    }

    /// Makes an empty collection.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for a bad or taken name; [`CoreError::Store`].
    pub fn create_collection(&self, name: &str) -> Result<CollectionInfo, CoreError> {
        let name = check_name("name", name)?;
        if self.find_collection(&name).is_ok() {
            return Err(CoreError::Tag(format!(
                "a collection named \"{name}\" exists already"
            )));
        }
        let id = Uuid::new_v4();
        let record = tags::CollectionRecord {
            name,
            items: Vec::new(),
            created_ms: crate::vdfs::jobs::now_ms(),
            hlc: self.clock.tick(),
        };
        let r = record.clone();
        self.store
            .write(move |tx| tags::set_collection(tx, id, Some(&r), r.hlc))?;
        self.tags_changed();
        Ok(CollectionInfo { id, record })
    }

    /// Adds `paths` (their entries, or with `content` their contents) to the end of a
    /// collection (`add`), or takes them out of it; returns how many changed.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for an unknown collection or a path not indexed;
    /// [`CoreError::Store`].
    pub fn change_collection(
        &self,
        query: &str,
        paths: &[std::path::PathBuf],
        content: bool,
        add: bool,
    ) -> Result<u64, CoreError> {
        let c = self.find_collection(query)?;
        let targets = self.targets_for(paths, content, false)?;
        let mut record = c.record.clone();
        let before = record.items.len();
        if add {
            for t in targets {
                if !record.items.contains(&t) {
                    record.items.push(t);
                }
            }
        } else {
            record.items.retain(|t| !targets.contains(t));
        }
        let n = record.items.len().abs_diff(before) as u64;
        record.hlc = self.clock.tick();
        let id = c.id;
        self.store
            .write(move |tx| tags::set_collection(tx, id, Some(&record), record.hlc))?;
        self.tags_changed();
        Ok(n)
    }

    /// Deletes a collection (its items are not touched).
    ///
    /// # Errors
    /// [`CoreError::Tag`] for an unknown collection; [`CoreError::Store`].
    pub fn delete_collection(&self, query: &str) -> Result<CollectionInfo, CoreError> {
        let c = self.find_collection(query)?;
        let (id, hlc) = (c.id, self.clock.tick());
        self.store
            .write(move |tx| tags::set_collection(tx, id, None, hlc))?;
        self.tags_changed();
        Ok(c)
    }

    /// The items of a collection in order: each with its path when this library has it
    /// (an entry's own path; a content's first copy), `None` when it is gone or not indexed.
    ///
    /// # Errors
    /// [`CoreError::Tag`] for an unknown collection; [`CoreError::Store`].
    pub fn collection_items(
        &self,
        query: &str,
    ) -> Result<Vec<(Target, Option<std::path::PathBuf>)>, CoreError> {
        let c = self.find_collection(query)?;
        Ok(self.store.read(|tx| {
            let uuids = tx.open_table(ENTRY_UUIDS)?;
            let cuuids = tx.open_table(CONTENT_UUIDS)?;
            let inst = tx.open_table(crate::store::schema::CONTENT_INSTANCES)?;
            let mut out = Vec::new();
            for t in &c.record.items {
                let id = match t {
                    Target::Entry(u) => uuids.get(u.as_u128())?.map(|v| v.value()),
                    Target::Content(u) => match cuuids.get(u.as_u128())? {
                        Some(cas) => {
                            let cas = cas.value();
                            let mut r = inst.range((cas, 0u64)..=(cas, u64::MAX))?;
                            r.next().transpose()?.map(|row| row.0.value().1)
                        }
                        None => None,
                    },
                };
                let path = id.map(|i| crate::vdfs::index::path_of(tx, i)).transpose()?;
                out.push((*t, path));
            }
            Ok(out)
        })?)
    }

    /// The entry ids of a collection's items (every copy of a content item).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn collection_entry_ids(&self, id: Uuid) -> Result<HashSet<u64>, CoreError> {
        let Some(c) = self.collections()?.into_iter().find(|c| c.id == id) else {
            return Ok(HashSet::new());
        };
        Ok(self.store.read(|tx| {
            let tables = TargetTables::open(tx)?;
            let mut ids = HashSet::new();
            for t in &c.record.items {
                tables.add(*t, &mut ids)?;
            }
            Ok(ids)
        })?)
    }
}

/// A tagged, noted or collected entry that is gone from the index: its marks are kept (an
/// entry that comes back under the same UUID finds them again) and listed here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingItem {
    /// The entry's UUID.
    pub entry: Uuid,
    /// When the index saw it go, ms since the epoch (its tombstone), if known.
    pub gone_ms: Option<i64>,
    /// Its name when it went (lossy for a name that is not UTF-8), if known.
    pub name: Option<String>,
    /// Where it was: the path of the nearest folder still indexed joined with the names of
    /// the folders that went with it, if known.
    pub path: Option<PathBuf>,
    /// The tags it carried (qualified names).
    pub tags: Vec<String>,
    /// Its note, if it had one.
    pub note: Option<String>,
    /// The collections it is in.
    pub collections: Vec<String>,
}

impl super::Library {
    /// Every entry that carries tags, a note or a rating, or is in a collection, and is gone
    /// from the index (deleted, or on a drive forgotten): what the person put on it is kept,
    /// never silently dropped; this lists it.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn missing_items(&self) -> Result<Vec<MissingItem>, CoreError> {
        let names: HashMap<Uuid, String> = self
            .tags()?
            .into_iter()
            .map(|t| (t.id, t.qualified()))
            .collect();
        let collections = self.collections()?;
        let mut out = self.store.read(|tx| {
            let uuids = tx.open_table(ENTRY_UUIDS)?;
            let mut found: std::collections::BTreeMap<u128, MissingItem> = Default::default();
            let item = |u: u128| -> MissingItem {
                MissingItem {
                    entry: Uuid::from_u128(u),
                    gone_ms: None,
                    name: None,
                    path: None,
                    tags: Vec::new(),
                    note: None,
                    collections: Vec::new(),
                }
            };
            for row in tx.open_table(TAG_ASSIGNMENTS)?.iter()? {
                let (tag, kind, target) = row?.0.value();
                if kind == 0 && uuids.get(target)?.is_none() {
                    let e = found.entry(target).or_insert_with(|| item(target));
                    e.tags.push(
                        names
                            .get(&Uuid::from_u128(tag))
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
            }
            for row in tx.open_table(crate::store::schema::USER_META)?.iter()? {
                let (k, v) = row?;
                let (kind, target) = k.value();
                if kind == 0 && uuids.get(target)?.is_none() {
                    let meta: tags::UserMeta = crate::store::record::decode_record(v.value())?;
                    let e = found.entry(target).or_insert_with(|| item(target));
                    e.note = (!meta.note.is_empty()).then_some(meta.note);
                }
            }
            for c in &collections {
                for t in &c.record.items {
                    if let Target::Entry(u) = t
                        && uuids.get(u.as_u128())?.is_none()
                    {
                        let e = found
                            .entry(u.as_u128())
                            .or_insert_with(|| item(u.as_u128()));
                        e.collections.push(c.record.name.clone());
                    }
                }
            }
            for (u, e) in found.iter_mut() {
                let Some(t) = crate::vdfs::index::write::tombstone(tx, Uuid::from_u128(*u))? else {
                    continue;
                };
                e.gone_ms = Some(t.deleted_ms);
                if !t.name.is_empty() {
                    e.name = Some(String::from_utf8_lossy(&t.name).into_owned());
                }
                e.path = last_path(tx, &uuids, t)?;
            }
            Ok(found.into_values().collect::<Vec<_>>())
        })?;
        out.sort_by_key(|m| std::cmp::Reverse(m.gone_ms));
        Ok(out)
    }
}

/// A day, in ms.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long the marks of a missing entry are kept (60 days, in ms): shorter than the 90 days
/// its tombstone (its name and folder) is kept, so the "Missing" view can always say what and
/// where it was. Marks on contents are never forgotten (a copy may come back).
pub const MISSING_RETENTION_MS: i64 = 60 * DAY_MS;

impl super::Library {
    /// Forgets what was put on the missing entries `entries` (see
    /// [`super::Library::missing_items`]): their tags, notes, ratings, labels, favourite marks
    /// and places in collections go, each change logged for sync. An entry that is in the
    /// index is left alone. Returns how many entries had marks forgotten.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn forget_missing(&self, entries: &[Uuid]) -> Result<u64, CoreError> {
        let gone: HashSet<u128> = {
            let want: HashSet<u128> = entries.iter().map(|u| u.as_u128()).collect();
            self.store.read(|tx| {
                let uuids = tx.open_table(ENTRY_UUIDS)?;
                let mut out = HashSet::new();
                for u in want {
                    if uuids.get(u)?.is_none() {
                        out.insert(u);
                    }
                }
                Ok(out)
            })?
        };
        if gone.is_empty() {
            return Ok(0);
        }
        // What carries them: (tag → targets), metas, collections.
        let (by_tag, metas) = self.store.read(|tx| {
            let mut by_tag: HashMap<Uuid, Vec<Target>> = HashMap::new();
            for row in tx.open_table(TAG_ASSIGNMENTS)?.iter()? {
                let (tag, kind, target) = row?.0.value();
                if kind == 0 && gone.contains(&target) {
                    by_tag
                        .entry(Uuid::from_u128(tag))
                        .or_default()
                        .push(Target::Entry(Uuid::from_u128(target)));
                }
            }
            let mut metas = Vec::new();
            for u in &gone {
                if tags::meta_of(tx, Target::Entry(Uuid::from_u128(*u)))?.is_some() {
                    metas.push(Target::Entry(Uuid::from_u128(*u)));
                }
            }
            Ok((by_tag, metas))
        })?;
        let (mut colls, mut in_collections) = (Vec::new(), Vec::new());
        for c in self.collections()? {
            let mut record = c.record;
            let before = record.items.len();
            record.items.retain(|t| match t {
                Target::Entry(u) if gone.contains(&u.as_u128()) => {
                    in_collections.push(u.as_u128());
                    false
                }
                _ => true,
            });
            if record.items.len() != before {
                colls.push((c.id, record));
            }
        }
        let mut touched: HashSet<u128> = HashSet::new();
        for targets in by_tag.values() {
            touched.extend(targets.iter().map(|t| t.key().1));
        }
        touched.extend(metas.iter().map(|t| t.key().1));
        touched.extend(in_collections);
        let hlcs: Vec<crate::vdfs::clock::Hlc> = (0..by_tag.len() + metas.len() + colls.len())
            .map(|_| self.clock.tick())
            .collect();
        self.store.write(move |tx| {
            let mut h = hlcs.iter().copied();
            for (tag, targets) in &by_tag {
                tags::unassign(tx, *tag, targets, h.next().expect("an HLC per change"))?;
            }
            for target in &metas {
                let empty = tags::UserMeta {
                    note: String::new(),
                    rating: 0,
                    label: 0,
                    favourite: false,
                    hlc: h.next().expect("an HLC per change"),
                };
                tags::set_meta(tx, *target, &empty)?;
            }
            for (id, record) in &colls {
                let mut record = record.clone();
                record.hlc = h.next().expect("an HLC per change");
                tags::set_collection(tx, *id, Some(&record), record.hlc)?;
            }
            Ok(())
        })?;
        self.tags_changed();
        Ok(touched.len() as u64)
    }

    /// Forgets the marks of every entry missing for longer than [`MISSING_RETENTION_MS`] at
    /// `now_ms` (by its tombstone; an entry whose going is not known is kept), at most once a
    /// day (meta `missing_forgotten_ms`). Returns how many entries had marks forgotten.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn forget_expired_missing(&self, now_ms: i64) -> Result<u64, CoreError> {
        use crate::store::schema::{META, META_MISSING_FORGOTTEN};
        let last: i64 = self.store.read(|tx| {
            Ok(match tx.open_table(META)?.get(META_MISSING_FORGOTTEN)? {
                Some(v) => postcard::from_bytes(v.value()).unwrap_or(0),
                None => 0,
            })
        })?;
        if now_ms.saturating_sub(last) < DAY_MS {
            return Ok(0);
        }
        let expired: Vec<Uuid> = self
            .missing_items()?
            .into_iter()
            .filter(|m| {
                m.gone_ms
                    .is_some_and(|g| now_ms.saturating_sub(g) > MISSING_RETENTION_MS)
            })
            .map(|m| m.entry)
            .collect();
        let n = self.forget_missing(&expired)?;
        let stamp = postcard::to_allocvec(&now_ms).expect("an i64 encodes");
        self.store.write(move |tx| {
            tx.open_table(META)?
                .insert(META_MISSING_FORGOTTEN, stamp.as_slice())?;
            Ok(())
        })?;
        Ok(n)
    }
}

/// Where the entry of tombstone `t` was: the path of its nearest ancestor still indexed,
/// joined with the names the tombstones of the ancestors gone with it keep. `None` when a
/// name or a folder is not known.
fn last_path(
    tx: &redb::ReadTransaction,
    uuids: &redb::ReadOnlyTable<u128, u64>,
    t: crate::vdfs::index::Tombstone,
) -> Result<Option<PathBuf>, crate::store::StoreError> {
    if t.name.is_empty() {
        return Ok(None);
    }
    let mut names = vec![t.name];
    let mut parent = t.parent;
    // A chain of deleted folders is finite; the bound guards against a damaged store.
    for _ in 0..4096 {
        let Some(p) = parent else {
            return Ok(None);
        };
        if let Some(id) = uuids.get(p.as_u128())? {
            let mut path = crate::vdfs::index::path_of(tx, id.value())?;
            for n in names.iter().rev() {
                path.push(crate::vdfs::fs::entry::os_from_bytes(n));
            }
            return Ok(Some(path));
        }
        match crate::vdfs::index::write::tombstone(tx, p)? {
            Some(up) if !up.name.is_empty() => {
                names.push(up.name);
                parent = up.parent;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// A saved search: a name and the query it runs (table `saved_searches`, keyed by the folded
/// name).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedSearch {
    /// Its name.
    pub name: String,
    /// The query.
    pub query: crate::vdfs::query::search::Query,
    /// When it was saved, ms since the epoch.
    pub saved_ms: i64,
}

impl crate::store::record::Record for SavedSearch {
    const TABLE: &'static str = "saved_searches";
    const VERSION: u8 = 1;
}

impl super::Library {
    /// Saves `query` under `name` (replacing a saved search of that name).
    ///
    /// # Errors
    /// [`CoreError::Tag`] for a bad name; [`CoreError::Store`].
    pub fn save_search(
        &self,
        name: &str,
        query: &crate::vdfs::query::search::Query,
    ) -> Result<SavedSearch, CoreError> {
        let name = check_name("name", name)?;
        let saved = SavedSearch {
            name: name.clone(),
            query: query.clone(),
            saved_ms: crate::vdfs::jobs::now_ms(),
        };
        let rec = crate::store::record::encode_record(&saved);
        let key = fold(&name, false);
        self.store.write(move |tx| {
            tx.open_table(crate::store::schema::SAVED_SEARCHES)?
                .insert(key.as_str(), rec.as_slice())?;
            Ok(())
        })?;
        self.tags_changed();
        Ok(saved)
    }

    /// Every saved search, by name.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>, CoreError> {
        Ok(self.store.read(|tx| {
            let mut out = Vec::new();
            for row in tx
                .open_table(crate::store::schema::SAVED_SEARCHES)?
                .iter()?
            {
                out.push(crate::store::record::decode_record(row?.1.value())?);
            }
            Ok(out)
        })?)
    }

    /// The saved search named `name` (case and accents ignored).
    ///
    /// # Errors
    /// [`CoreError::Tag`] when there is none; [`CoreError::Store`].
    pub fn saved_search(&self, name: &str) -> Result<SavedSearch, CoreError> {
        self.saved_searches()?
            .into_iter()
            .find(|s| fold(&s.name, false) == fold(name, false))
            .ok_or_else(|| {
                CoreError::Tag(format!(
                    "no saved search named \"{name}\" (`cairn search --list-saved` lists them)"
                ))
            })
    }

    /// Deletes a saved search.
    ///
    /// # Errors
    /// As [`Self::saved_search`].
    pub fn delete_saved_search(&self, name: &str) -> Result<SavedSearch, CoreError> {
        let s = self.saved_search(name)?;
        let key = fold(&s.name, false);
        self.store.write(move |tx| {
            tx.open_table(crate::store::schema::SAVED_SEARCHES)?
                .remove(key.as_str())?;
            Ok(())
        })?;
        self.tags_changed();
        Ok(s)
    }
}

/// The tables that say which entries a target stands for, opened once per read.
struct TargetTables {
    uuids: redb::ReadOnlyTable<u128, u64>,
    cuuids: redb::ReadOnlyTable<u128, u64>,
    inst: redb::ReadOnlyTable<(u64, u64), ()>,
}

impl TargetTables {
    fn open(tx: &redb::ReadTransaction) -> Result<TargetTables, crate::store::StoreError> {
        Ok(TargetTables {
            uuids: tx.open_table(ENTRY_UUIDS)?,
            cuuids: tx.open_table(CONTENT_UUIDS)?,
            inst: tx.open_table(crate::store::schema::CONTENT_INSTANCES)?,
        })
    }

    /// Adds to `ids` the entries `target` stands for: the entry itself, or every copy of a
    /// content (none when this library does not have it).
    fn add(&self, target: Target, ids: &mut HashSet<u64>) -> Result<(), crate::store::StoreError> {
        match target {
            Target::Entry(u) => {
                if let Some(id) = self.uuids.get(u.as_u128())? {
                    ids.insert(id.value());
                }
            }
            Target::Content(u) => {
                if let Some(cas) = self.cuuids.get(u.as_u128())? {
                    let cas = cas.value();
                    for row in self.inst.range((cas, 0u64)..=(cas, u64::MAX))? {
                        ids.insert(row?.0.value().1);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The entries marked as favourites in the user metadata (an entry, or one present copy of a
/// content: the oldest), each with the ms of its mark, for [`super::Library::favourites`].
///
/// # Errors
/// [`crate::store::StoreError`].
pub(super) fn favourite_marks(
    tx: &redb::ReadTransaction,
) -> Result<Vec<(i64, u64)>, crate::store::StoreError> {
    let tables = TargetTables::open(tx)?;
    let mut out = Vec::new();
    for row in tx.open_table(crate::store::schema::USER_META)?.iter()? {
        let (k, v) = row?;
        let meta: tags::UserMeta = crate::store::record::decode_record(v.value())?;
        let (kind, target) = k.value();
        if !meta.favourite {
            continue;
        }
        if let Some(t) = Target::from_key(kind, target) {
            let mut ids = HashSet::new();
            tables.add(t, &mut ids)?;
            if let Some(id) = ids.into_iter().min() {
                out.push((i64::try_from(meta.hlc.ms).unwrap_or(i64::MAX), id));
            }
        }
    }
    Ok(out)
}

/// `roots` and every tag below them in the graph.
fn descendants(all: &[TagInfo], roots: &[Uuid]) -> HashSet<Uuid> {
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for t in all {
        for p in &t.parents {
            children.entry(*p).or_default().push(t.id);
        }
    }
    let mut seen: HashSet<Uuid> = roots.iter().copied().collect();
    let mut stack = roots.to_vec();
    while let Some(t) = stack.pop() {
        for c in children.get(&t).into_iter().flatten() {
            if seen.insert(*c) {
                stack.push(*c);
            }
        }
    }
    seen
}

/// The format name of a tag export ([`TagExport::format`]).
pub const EXPORT_FORMAT: &str = "cairn-tags/1";

/// Every tag of a library and what carries it, as `cairn tag export` writes it (JSON): keyed
/// by UUIDs, with each tagged entry's path and content identity beside them, so an import into
/// another library finds the files again by content first, then by path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagExport {
    /// `cairn-tags/1`.
    pub format: String,
    /// The library it came from.
    pub library: Uuid,
    /// When, ms since the epoch.
    pub exported_ms: i64,
    /// The tags.
    pub tags: Vec<ExportedTag>,
    /// The assignments.
    pub assignments: Vec<ExportedAssignment>,
    /// Notes and ratings.
    #[serde(default)]
    pub meta: Vec<ExportedMeta>,
    /// Collections.
    #[serde(default)]
    pub collections: Vec<ExportedCollection>,
}

/// A tag in a [`TagExport`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedTag {
    /// Its UUID.
    pub id: Uuid,
    /// Its record.
    #[serde(flatten)]
    pub record: TagRecord,
    /// Its parents.
    pub parents: Vec<Uuid>,
}

/// Where an exported mark was: an entry (`entry` set, with its `path` and `content` when
/// known) or a content (`content` set, `entry` not).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedRef {
    /// The entry's UUID, for a mark on an entry.
    pub entry: Option<Uuid>,
    /// The content identity's UUID: the marked content, or the marked entry's content.
    pub content: Option<Uuid>,
    /// The entry's path when exported (lossy for a name that is not UTF-8).
    pub path: Option<String>,
}

/// An assignment in a [`TagExport`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedAssignment {
    /// The tag.
    pub tag: Uuid,
    /// What it is on.
    #[serde(flatten)]
    pub at: ExportedRef,
}

/// A note, rating, label and favourite mark in a [`TagExport`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedMeta {
    /// What they are on.
    #[serde(flatten)]
    pub at: ExportedRef,
    /// The note.
    pub note: String,
    /// The rating, 0–5.
    pub rating: u8,
    /// The label colour's name (see [`tags::LABELS`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Marked as a favourite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub favourite: bool,
}

/// A collection in a [`TagExport`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedCollection {
    /// Its UUID.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its items, in order.
    pub items: Vec<ExportedRef>,
}

/// How an exported mark was found in this library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Entry,
    Content,
    ByContent,
    ByPath,
    Nowhere,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Tags made.
    pub tags_created: u64,
    /// Tags that were here already (same UUID, or same name in the same namespace).
    pub tags_matched: u64,
    /// Assignments put back: to the same entry, to the entries with the same content, by path,
    /// or on a content.
    pub by_entry: u64,
    /// See `by_entry`.
    pub by_content: u64,
    /// See `by_entry`.
    pub by_path: u64,
    /// See `by_entry`.
    pub contents: u64,
    /// Assignments whose file is not in this library (by UUID, content or path).
    pub not_found: u64,
}

impl super::Library {
    /// Every tag, assignment, note, rating and collection of the library (see
    /// [`TagExport`]).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn export_tags(&self) -> Result<TagExport, CoreError> {
        let tags = self.tag_list(false)?;
        let collections = self.collections()?;
        let (assignments, meta, collections) = self.store.read(|tx| {
            let uuids = tx.open_table(ENTRY_UUIDS)?;
            // Where a target is: for an entry its path and content, when this library has it.
            let at = |t: Target| -> Result<ExportedRef, crate::store::StoreError> {
                Ok(match t {
                    Target::Entry(u) => {
                        let (path, content) = match uuids.get(u.as_u128())? {
                            Some(id) => {
                                let id = id.value();
                                let rec = crate::vdfs::index::entry(tx, id)?;
                                (
                                    Some(
                                        crate::vdfs::index::path_of(tx, id)?
                                            .to_string_lossy()
                                            .into_owned(),
                                    ),
                                    rec.and_then(|r| r.cas).map(|c| c.content_uuid()),
                                )
                            }
                            None => (None, None),
                        };
                        ExportedRef {
                            entry: Some(u),
                            content,
                            path,
                        }
                    }
                    Target::Content(u) => ExportedRef {
                        entry: None,
                        content: Some(u),
                        path: None,
                    },
                })
            };
            let mut assignments = Vec::new();
            for row in tx.open_table(TAG_ASSIGNMENTS)?.iter()? {
                let (tag, kind, target) = row?.0.value();
                if let Some(t) = Target::from_key(kind, target) {
                    assignments.push(ExportedAssignment {
                        tag: Uuid::from_u128(tag),
                        at: at(t)?,
                    });
                }
            }
            let mut meta = Vec::new();
            for row in tx.open_table(crate::store::schema::USER_META)?.iter()? {
                let (k, v) = row?;
                let (kind, target) = k.value();
                let m: tags::UserMeta = crate::store::record::decode_record(v.value())?;
                if let Some(t) = Target::from_key(kind, target) {
                    meta.push(ExportedMeta {
                        at: at(t)?,
                        note: m.note,
                        rating: m.rating,
                        label: (m.label > 0)
                            .then(|| tags::LABELS.get(usize::from(m.label) - 1))
                            .flatten()
                            .map(|l| (*l).to_owned()),
                        favourite: m.favourite,
                    });
                }
            }
            let mut out = Vec::new();
            for c in &collections {
                out.push(ExportedCollection {
                    id: c.id,
                    name: c.record.name.clone(),
                    items: c
                        .record
                        .items
                        .iter()
                        .map(|t| at(*t))
                        .collect::<Result<_, _>>()?,
                });
            }
            Ok((assignments, meta, out))
        })?;
        Ok(TagExport {
            format: EXPORT_FORMAT.to_owned(),
            library: self.config().id,
            exported_ms: crate::vdfs::jobs::now_ms(),
            tags: tags
                .into_iter()
                .map(|t| ExportedTag {
                    id: t.id,
                    record: t.record,
                    parents: t.parents,
                })
                .collect(),
            assignments,
            meta,
            collections,
        })
    }

    /// Where each exported mark goes in this library: the same entry when it is here, else
    /// the entries with its content, else the entry at its path; a mark on a content stays on
    /// that content.
    fn resolve_refs(&self, refs: &[&ExportedRef]) -> Result<Vec<(Vec<Target>, Found)>, CoreError> {
        let mut out: Vec<(Vec<Target>, Found)> = self.store.read(|tx| {
            let uuids = tx.open_table(ENTRY_UUIDS)?;
            let cuuids = tx.open_table(CONTENT_UUIDS)?;
            let inst = tx.open_table(crate::store::schema::CONTENT_INSTANCES)?;
            let entries = tx.open_table(crate::store::schema::ENTRIES)?;
            let mut out = Vec::with_capacity(refs.len());
            for r in refs {
                let Some(e) = r.entry else {
                    out.push(match r.content {
                        Some(c) => (vec![Target::Content(c)], Found::Content),
                        None => (Vec::new(), Found::Nowhere),
                    });
                    continue;
                };
                if uuids.get(e.as_u128())?.is_some() {
                    out.push((vec![Target::Entry(e)], Found::Entry));
                    continue;
                }
                let mut copies = Vec::new();
                if let Some(c) = r.content
                    && let Some(cas) = cuuids.get(c.as_u128())?
                {
                    let cas = cas.value();
                    for row in inst.range((cas, 0u64)..=(cas, u64::MAX))? {
                        let id = row?.0.value().1;
                        if let Some(v) = entries.get(id)? {
                            let rec: crate::vdfs::index::EntryRecord =
                                crate::store::record::decode_record(v.value())?;
                            copies.push(Target::Entry(rec.uuid));
                        }
                    }
                }
                out.push(if copies.is_empty() {
                    (Vec::new(), Found::ByPath)
                } else {
                    (copies, Found::ByContent)
                });
            }
            Ok(out)
        })?;
        for (r, (targets, how)) in refs.iter().zip(out.iter_mut()) {
            if *how != Found::ByPath {
                continue;
            }
            match r
                .path
                .as_deref()
                .map(|p| self.entry_at(Path::new(p)))
                .transpose()?
                .flatten()
            {
                Some(e) => targets.push(Target::Entry(e.record.uuid)),
                None => *how = Found::Nowhere,
            }
        }
        Ok(out)
    }

    /// Brings an export's tags and assignments into this library: a tag with the same UUID,
    /// or the same name in the same namespace, is the same tag (its fields are left as they
    /// are here); the others are made with their UUIDs. An assignment goes back on its entry
    /// when this library has it, else on the entries with its content, else on the entry at
    /// its path; one on a content goes back as it was. Nothing is removed. Running it twice
    /// changes nothing the second time.
    ///
    /// # Errors
    /// [`CoreError::Tag`] if it is not an export of this format; [`CoreError::Store`].
    pub fn import_tags(&self, export: &TagExport) -> Result<ImportReport, CoreError> {
        if export.format != EXPORT_FORMAT {
            return Err(CoreError::Tag(format!(
                "not a tag export of this Cairn (format {:?}, expected {EXPORT_FORMAT:?})",
                export.format
            )));
        }
        let mut report = ImportReport::default();
        // Tags: the same UUID, or the same qualified name (folded), is the same tag.
        let mut here: HashMap<Uuid, Uuid> = HashMap::new();
        let existing = self.tag_list(false)?;
        let mut new = Vec::new();
        for t in &export.tags {
            let same = existing.iter().find(|e| {
                e.id == t.id
                    || (fold(&e.record.name, false) == fold(&t.record.name, false)
                        && e.record.namespace.as_deref().map(|n| fold(n, false))
                            == t.record.namespace.as_deref().map(|n| fold(n, false)))
            });
            match same {
                Some(e) => {
                    here.insert(t.id, e.id);
                    report.tags_matched += 1;
                }
                None => {
                    here.insert(t.id, t.id);
                    let mut record = t.record.clone();
                    record.name = check_name("name", &record.name)?;
                    record.hlc = self.clock.tick();
                    new.push((t.id, record));
                    report.tags_created += 1;
                }
            }
        }
        let edges: Vec<(Uuid, Uuid)> = export
            .tags
            .iter()
            .flat_map(|t| t.parents.iter().map(move |p| (t.id, *p)))
            .filter_map(|(c, p)| Some((*here.get(&c)?, *here.get(&p)?)))
            .collect();
        // Assignments: resolved here, grouped per tag.
        let count = |report: &mut ImportReport, how: Found| match how {
            Found::Entry => report.by_entry += 1,
            Found::Content => report.contents += 1,
            Found::ByContent => report.by_content += 1,
            Found::ByPath => report.by_path += 1,
            Found::Nowhere => report.not_found += 1,
        };
        let mut targets: HashMap<Uuid, Vec<Target>> = HashMap::new();
        let wanted: Vec<&ExportedAssignment> = export
            .assignments
            .iter()
            .filter(|a| here.contains_key(&a.tag))
            .collect();
        let refs: Vec<&ExportedRef> = wanted.iter().map(|a| &a.at).collect();
        for (a, (t, how)) in wanted.iter().zip(self.resolve_refs(&refs)?) {
            count(&mut report, how);
            targets.entry(here[&a.tag]).or_default().extend(t);
        }
        // Notes and ratings: on each place found, unless it has its own already.
        let refs: Vec<&ExportedRef> = export.meta.iter().map(|m| &m.at).collect();
        let mut metas: Vec<(Target, ExportedMeta)> = Vec::new();
        for (m, (t, how)) in export.meta.iter().zip(self.resolve_refs(&refs)?) {
            count(&mut report, how);
            metas.extend(t.into_iter().map(|t| (t, m.clone())));
        }
        // Collections: the same UUID or name is the same collection; items are added.
        let here_collections = self.collections()?;
        let mut colls: Vec<(Uuid, tags::CollectionRecord)> = Vec::new();
        for c in &export.collections {
            let mut record = match here_collections
                .iter()
                .find(|h| h.id == c.id || fold(&h.record.name, false) == fold(&c.name, false))
            {
                Some(h) => (h.id, h.record.clone()),
                None => (
                    c.id,
                    tags::CollectionRecord {
                        name: check_name("name", &c.name)?,
                        items: Vec::new(),
                        created_ms: crate::vdfs::jobs::now_ms(),
                        hlc: self.clock.tick(),
                    },
                ),
            };
            let refs: Vec<&ExportedRef> = c.items.iter().collect();
            for (t, how) in self.resolve_refs(&refs)? {
                count(&mut report, how);
                for t in t {
                    if !record.1.items.contains(&t) {
                        record.1.items.push(t);
                    }
                }
            }
            record.1.hlc = self.clock.tick();
            colls.push(record);
        }
        let meta_hlcs: Vec<crate::vdfs::clock::Hlc> =
            (0..metas.len()).map(|_| self.clock.tick()).collect();
        let hlcs: Vec<crate::vdfs::clock::Hlc> = (0..edges.len() + targets.len())
            .map(|_| self.clock.tick())
            .collect();
        let all = self.tag_list(false)?;
        // Edges that would make a cycle here are left out.
        let mut kept_edges = Vec::new();
        {
            let mut graph: Vec<TagInfo> = all.clone();
            for (id, rec) in &new {
                graph.push(TagInfo {
                    id: *id,
                    record: rec.clone(),
                    parents: Vec::new(),
                    entries: 0,
                    contents: 0,
                });
            }
            for (c, p) in edges {
                if !descendants(&graph, &[c]).contains(&p) {
                    if let Some(t) = graph.iter_mut().find(|t| t.id == c)
                        && !t.parents.contains(&p)
                    {
                        t.parents.push(p);
                    }
                    kept_edges.push((c, p));
                }
            }
        }
        self.store.write(move |tx| {
            let mut h = hlcs.iter().copied();
            for (id, rec) in &new {
                tags::put(tx, *id, rec)?;
            }
            for (c, p) in &kept_edges {
                tags::add_edge(tx, *c, *p, h.next().expect("an HLC per change"))?;
            }
            for (tag, t) in &targets {
                tags::assign(tx, *tag, t, h.next().expect("an HLC per change"))?;
            }
            for ((target, m), hlc) in metas.iter().zip(&meta_hlcs) {
                if tags::meta_of_w(tx, *target)?.is_none() {
                    let meta = tags::UserMeta {
                        note: m.note.clone(),
                        rating: m.rating.min(5),
                        label: m.label.as_deref().and_then(tags::label_number).unwrap_or(0),
                        favourite: m.favourite,
                        hlc: *hlc,
                    };
                    tags::set_meta(tx, *target, &meta)?;
                }
            }
            for (id, record) in &colls {
                tags::set_collection(tx, *id, Some(record), record.hlc)?;
            }
            Ok(())
        })?;
        self.tags_changed();
        Ok(report)
    }
}
