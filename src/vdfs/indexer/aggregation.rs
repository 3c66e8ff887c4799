//! Phase 3, aggregation: every folder's total bytes, files and folders, bottom-up over the
//! walk's tree.

use super::processing::Plan;
use super::*;

impl Plan {
    /// Aggregates of every folder node, bottom-up.
    pub(super) fn dir_stats(&self, tree: &Tree) -> Vec<(u32, DirStats)> {
        let n = tree.len() as usize;
        let mut acc = vec![DirStats::default(); n];
        for i in (1..n as u32).rev() {
            let node = tree.node(i);
            let own = acc[i as usize];
            let p = &mut acc[node.parent as usize];
            p.bytes += own.bytes;
            p.files += own.files;
            p.dirs += own.dirs;
            if node.kind == EntryKind::Dir {
                p.dirs += 1;
            } else {
                p.files += 1;
                if node.kind == EntryKind::File {
                    p.bytes += node.size;
                }
            }
        }
        (0..n as u32)
            .filter(|&i| tree.node(i).kind == EntryKind::Dir)
            .map(|i| (i, acc[i as usize]))
            .collect()
    }
}
