//! Phase 3, aggregation: every folder's total bytes, files, folders and symbolic links, bottom-up over the
//! walk's tree. A folder that could not be listed keeps the totals the index knew for it (its
//! stored subtree is kept too), and they count in its ancestors'.

use super::discovery::Existing;
use super::processing::Plan;
use super::*;

impl Plan {
    /// Aggregates of every folder node, bottom-up.
    pub(super) fn dir_stats(&self, tree: &Tree, existing: &Existing) -> Vec<(u32, DirStats)> {
        let n = tree.len() as usize;
        let mut acc = vec![DirStats::default(); n];
        let stored = |i: u32| {
            tree.is_incomplete(i)
                .then(|| existing.dir_stats.get(&self.ids[i as usize]).copied())
                .flatten()
        };
        for i in (1..n as u32).rev() {
            let node = tree.node(i);
            if let Some(s) = stored(i) {
                acc[i as usize] = s;
            }
            let own = acc[i as usize];
            let p = &mut acc[node.parent as usize];
            p.bytes += own.bytes;
            p.files += own.files;
            p.dirs += own.dirs;
            p.symlinks += own.symlinks;
            match node.kind {
                EntryKind::Dir => p.dirs += 1,
                EntryKind::Symlink => p.symlinks += 1,
                EntryKind::File => {
                    p.files += 1;
                    p.bytes += node.size;
                }
                _ => p.files += 1,
            }
        }
        if n > 0
            && let Some(s) = stored(0)
        {
            acc[0] = s;
        }
        (0..n as u32)
            .filter(|&i| tree.node(i).kind == EntryKind::Dir)
            .map(|i| (i, acc[i as usize]))
            .collect()
    }
}

/// `s` with `old` taken out and `new` put in: a folder above a scoped scan's folder, whose
/// totals held that folder's `old` totals.
pub(super) fn shift(s: DirStats, old: DirStats, new: DirStats) -> DirStats {
    let f = |v: u64, o: u64, n: u64| v.saturating_sub(o).saturating_add(n);
    DirStats {
        bytes: f(s.bytes, old.bytes, new.bytes),
        files: f(s.files, old.files, new.files),
        dirs: f(s.dirs, old.dirs, new.dirs),
        symlinks: f(s.symlinks, old.symlinks, new.symlinks),
    }
}

/// A location's totals with a scoped scan's folder's `old` totals replaced by its `new` ones.
pub(super) fn shift_location(s: &mut LocationStats, old: DirStats, new: DirStats) {
    let shifted = shift(
        DirStats {
            bytes: s.bytes,
            files: s.files,
            dirs: s.dirs,
            symlinks: s.symlinks,
        },
        old,
        new,
    );
    s.bytes = shifted.bytes;
    s.files = shifted.files;
    s.dirs = shifted.dirs;
    s.symlinks = shifted.symlinks;
}
