//! Batch renames: the checks of a list of new names, shared by the core's preview (with the
//! disk's answers) and the window's live preview (with the names of the listing it holds),
//! and the order the renames run in so that none ever needs a name still taken.
//!
//! **Order.** Renames whose new name is free go first; each frees its old name for the one
//! waiting on it, so a chain (`file1 → file2`, `file2 → file3`) runs from its end. What is
//! left is cycles (`a → b`, `b → a`): one item of each goes to a temporary name first
//! (`a → T`, `b → a`, `T → b`). Every step is a rename that refuses to replace anything, so
//! a name the preview thought free and that was taken since is an error, never an overwrite.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::vdfs::fs::ops::name_problem;

/// One item of a batch rename: its folder, its name and its new name (equal when it keeps
/// it), exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameRow {
    /// The folder it is in.
    pub folder: PathBuf,
    /// Its name now.
    pub old: Vec<u8>,
    /// Its new name.
    pub new: Vec<u8>,
}

/// Why each row's new name cannot be used (`None`: it can, or the row keeps its name), in
/// the rows' order:
/// - the name itself: empty, `.` or `..`, a `/` or a NUL, over 255 bytes, or what the file
///   system (`fs_type(folder)`, e.g. `vfat`; `""` when not known) cannot hold;
/// - two rows of one folder ending with one name (a row that keeps its name included);
/// - a name `taken(folder, name)` says is there and that no renamed row of that folder
///   leaves (a name another row leaves is free by the time it is used: see the module docs).
///
/// Pure: the window passes its listing, the preview the disk.
pub fn row_problems(
    rows: &[RenameRow],
    mut taken: impl FnMut(&Path, &[u8]) -> bool,
    mut fs_type: impl FnMut(&Path) -> String,
) -> Vec<Option<String>> {
    // The names that free up: the old names of the rows that change.
    let leaving: HashSet<(&Path, &[u8])> = rows
        .iter()
        .filter(|r| r.old != r.new)
        .map(|r| (r.folder.as_path(), r.old.as_slice()))
        .collect();
    // Which rows end with each name.
    let mut ending: HashMap<(&Path, &[u8]), Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        ending
            .entry((r.folder.as_path(), r.new.as_slice()))
            .or_default()
            .push(i);
    }
    let mut types: HashMap<&Path, String> = HashMap::new();
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            if r.old == r.new {
                return None;
            }
            let shown = String::from_utf8_lossy(&r.new);
            let fs = types
                .entry(r.folder.as_path())
                .or_insert_with(|| fs_type(&r.folder));
            if let Some(why) = name_problem(&r.new, fs) {
                return Some(why);
            }
            let same = &ending[&(r.folder.as_path(), r.new.as_slice())];
            if let Some(&other) = same.iter().find(|&&j| j != i) {
                let o = &rows[other];
                return Some(if o.old == o.new {
                    format!("“{shown}” is the name of an item that keeps it")
                } else {
                    format!(
                        "“{shown}” is also the new name of “{}”",
                        String::from_utf8_lossy(&o.old)
                    )
                });
            }
            if !leaving.contains(&(r.folder.as_path(), r.new.as_slice()))
                && taken(&r.folder, &r.new)
            {
                return Some(format!("“{shown}” is taken by another item in the folder"));
            }
            None
        })
        .collect()
}

/// The steps that carry out `moves` (`from → to`, distinct `to`s, each `to` free or the
/// `from` of another move), as `(move index, from, to)`: first every move whose `to` is free,
/// each freeing its `from` for the move waiting on it; a cycle is broken by moving one of its
/// items to `temp(index)` first (its last step then goes from there). A move appears once,
/// or twice when it goes through a temporary name; the temporary name's step comes first.
pub fn rename_order(
    moves: &[(PathBuf, PathBuf)],
    mut temp: impl FnMut(usize) -> PathBuf,
) -> Vec<(usize, PathBuf, PathBuf)> {
    // The move whose item is now at each name, and the move waiting for each name.
    let mut at: HashMap<PathBuf, usize> = HashMap::new();
    let mut waits: HashMap<&Path, usize> = HashMap::new();
    let mut from: Vec<PathBuf> = Vec::with_capacity(moves.len());
    for (i, (f, t)) in moves.iter().enumerate() {
        at.insert(f.clone(), i);
        waits.insert(t.as_path(), i);
        from.push(f.clone());
    }
    let mut done = vec![false; moves.len()];
    let mut ready: Vec<usize> = (0..moves.len())
        .filter(|&i| !at.contains_key(&moves[i].1))
        .rev()
        .collect();
    let mut steps = Vec::with_capacity(moves.len() + moves.len() / 2);
    let mut next_cycle = 0;
    loop {
        while let Some(i) = ready.pop() {
            let f = std::mem::take(&mut from[i]);
            at.remove(&f);
            steps.push((i, f.clone(), moves[i].1.clone()));
            done[i] = true;
            if let Some(&w) = waits.get(f.as_path())
                && !done[w]
            {
                ready.push(w);
            }
        }
        // What is left waits in cycles: the first one's item steps aside.
        while next_cycle < moves.len() && done[next_cycle] {
            next_cycle += 1;
        }
        let Some(i) = (next_cycle < moves.len()).then_some(next_cycle) else {
            break;
        };
        let t = temp(i);
        let f = std::mem::replace(&mut from[i], t.clone());
        at.remove(&f);
        at.insert(t.clone(), i);
        steps.push((i, f.clone(), t));
        if let Some(&w) = waits.get(f.as_path()) {
            ready.push(w);
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn row(old: &str, new: &str) -> RenameRow {
        RenameRow {
            folder: p("/d"),
            old: old.into(),
            new: new.into(),
        }
    }

    /// Runs `steps` on a model folder (name → content), refusing any step whose source is
    /// missing or whose target is taken (a rename that never replaces).
    fn run(model: &mut BTreeMap<PathBuf, u32>, steps: &[(usize, PathBuf, PathBuf)]) {
        for (_, f, t) in steps {
            assert!(!model.contains_key(t), "{} would be replaced", t.display());
            let v = model.remove(f).expect("the source is there");
            model.insert(t.clone(), v);
        }
    }

    #[test]
    fn chains_run_from_their_end_and_cycles_go_through_a_temporary_name() {
        let moves = vec![(p("f1"), p("f2")), (p("f2"), p("f3"))];
        let steps = rename_order(&moves, |_| unreachable!());
        assert_eq!(steps, vec![(1, p("f2"), p("f3")), (0, p("f1"), p("f2"))]);
        let moves = vec![(p("a"), p("b")), (p("b"), p("a"))];
        let steps = rename_order(&moves, |i| p(&format!(".tmp{i}")));
        assert_eq!(
            steps,
            vec![
                (0, p("a"), p(".tmp0")),
                (1, p("b"), p("a")),
                (0, p(".tmp0"), p("b"))
            ]
        );
    }

    #[test]
    fn problems_name_what_is_wrong_and_let_chains_through() {
        let rows = vec![
            row("a", "b"),
            row("b", "c"),
            row("c", "a"),
            row("x", "same"),
            row("y", "same"),
            row("keep", "keep"),
            row("z", "keep"),
            row("w", "on disk"),
            row("v", ""),
            row("u", "s/t"),
        ];
        let disk = [
            "a", "b", "c", "x", "y", "keep", "z", "w", "v", "u", "on disk",
        ];
        let got = row_problems(
            &rows,
            |_, n| disk.iter().any(|d| d.as_bytes() == n),
            |_| String::new(),
        );
        assert_eq!(got[..3], [None, None, None]);
        assert!(
            got[3]
                .as_deref()
                .unwrap()
                .contains("also the new name of “y”")
        );
        assert!(
            got[4]
                .as_deref()
                .unwrap()
                .contains("also the new name of “x”")
        );
        assert_eq!(got[5], None);
        assert!(got[6].as_deref().unwrap().contains("keeps it"));
        assert!(got[7].as_deref().unwrap().contains("taken"));
        assert!(got[8].as_deref().unwrap().contains("not a valid name"));
        assert!(got[9].as_deref().unwrap().contains("“/”"));
        // What a volume cannot hold.
        let got = row_problems(&[row("a", "a:b")], |_, _| false, |_| "vfat".into());
        assert!(got[0].as_deref().unwrap().contains("vfat"), "{got:?}");
        let long = "x".repeat(256);
        let got = row_problems(&[row("a", &long)], |_, _| false, |_| String::new());
        assert!(got[0].as_deref().unwrap().contains("255"));
    }

    proptest! {
        /// Any set of distinct new names over a folder (permutations with cycles, chains,
        /// names new to the folder) ends with exactly the expected names and contents, never
        /// replacing anything and leaving no temporary name.
        #[test]
        fn any_batch_of_distinct_names_ends_as_expected(
            n in 1usize..24,
            seed in proptest::collection::vec(0usize..1000, 48),
            moved in proptest::collection::vec(any::<bool>(), 24),
        ) {
            // Items 0..n, each named `iK`; the targets: a shuffle of the pool of names
            // `i0..i(2n)` (half of them new), given to the moved items.
            let mut pool: Vec<usize> = (0..2 * n).collect();
            for k in (1..pool.len()).rev() {
                pool.swap(k, seed[k % seed.len()] % (k + 1));
            }
            let name = |k: usize| p(&format!("i{k}"));
            // A target must be free or left by a moved item: moved items take targets from the
            // pool minus the names of the items that stay.
            let stays: HashSet<usize> = (0..n).filter(|&k| !moved[k]).collect();
            let mut free = pool.into_iter().filter(|k| !stays.contains(k));
            let mut moves = Vec::new();
            let mut want = BTreeMap::new();
            let mut model = BTreeMap::new();
            for (k, &m) in moved.iter().enumerate().take(n) {
                model.insert(name(k), k as u32);
                if m {
                    let to = free.next().unwrap();
                    moves.push((name(k), name(to)));
                    want.insert(name(to), k as u32);
                } else {
                    want.insert(name(k), k as u32);
                }
            }
            let steps = rename_order(&moves, |i| p(&format!(".cairn-tmp-{i}")));
            run(&mut model, &steps);
            prop_assert_eq!(model, want);
            let temps = steps.iter().filter(|s| s.2.to_string_lossy().starts_with(".cairn")).count();
            prop_assert!(steps.len() == moves.len() + temps);
        }
    }
}
