//! Tags (issue "Tags, notes, ratings and collections"): the graph, tagging entries and
//! contents, search by tag with the tags below it, and tags that survive what happens to files.

use std::path::Path;

use crate::common::{cairn, fails, json, ok};

/// A content location of a few files: two photos in `Photos/Paris`, a copy of one elsewhere, a
/// report.
fn library(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = root.join("data");
    let tree = root.join("tree");
    std::fs::create_dir_all(tree.join("Photos/Paris")).unwrap();
    std::fs::create_dir_all(tree.join("Docs")).unwrap();
    std::fs::write(tree.join("Photos/Paris/eiffel.jpg"), b"the tower").unwrap();
    std::fs::write(tree.join("Photos/Paris/louvre.jpg"), b"the museum").unwrap();
    std::fs::write(tree.join("Docs/eiffel copy.jpg"), b"the tower").unwrap();
    std::fs::write(tree.join("Docs/report.pdf"), b"a report").unwrap();
    ok(cairn(&data)
        .args(["location", "add", "--mode", "content"])
        .arg(&tree));
    (data, tree)
}

/// The paths `search --tag` finds (with `tags` joined as several `--tag`s), relative to
/// `tree`, sorted.
fn tagged(data: &Path, tree: &Path, tags: &[&str]) -> Vec<String> {
    let mut cmd = cairn(data);
    cmd.args(["--json", "search", "--limit", "1000"]);
    for t in tags {
        cmd.args(["--tag", t]);
    }
    let v = json(&ok(&mut cmd));
    let mut out: Vec<String> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["path"]
                .as_str()
                .unwrap()
                .strip_prefix(tree.to_str().unwrap())
                .unwrap()
                .trim_start_matches('/')
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_tag_graph_names_namespaces_and_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, _) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "Travel", "--colour", "#3B82F6"]));
    ok(cairn(&data).args(["tag", "create", "France", "--parent", "travel"]));
    ok(cairn(&data).args([
        "tag",
        "create",
        "Paris",
        "--parent",
        "France",
        "--alias",
        "Ville lumière",
    ]));
    // Names are unique per namespace, case and accents ignored; aliases count.
    let err = fails(cairn(&data).args(["tag", "create", "PARIS"]));
    assert!(err.contains("already has the name"), "{err}");
    let err = fails(cairn(&data).args(["tag", "create", "ville lumiere"]));
    assert!(err.contains("already has the name"), "{err}");
    ok(cairn(&data).args(["tag", "create", "work::Project"]));
    ok(cairn(&data).args(["tag", "create", "home::Project"]));
    let err = fails(cairn(&data).args(["tag", "show", "x"]));
    assert!(!err.is_empty());
    let err = fails(cairn(&data).args(["search", "--tag", "project"]));
    assert!(
        err.contains("home::Project") && err.contains("work::Project"),
        "{err}"
    );
    // A cycle is refused, naming both.
    let err = fails(cairn(&data).args(["tag", "parent", "Travel", "Paris"]));
    assert!(err.contains("cycle") && err.contains("Travel"), "{err}");
    let err = fails(cairn(&data).args(["tag", "parent", "Paris", "Paris"]));
    assert!(err.contains("cycle"), "{err}");
    // Bad names and colours say what is wrong with the value.
    let err = fails(cairn(&data).args(["tag", "create", "a\nb"]));
    assert!(err.contains("control characters"), "{err}");
    let err = fails(cairn(&data).args(["tag", "create", "x", "--colour", "blue"]));
    assert!(err.contains("\"blue\"") && err.contains("#rrggbb"), "{err}");
    // The tree.
    let ls = ok(cairn(&data).args(["tag", "ls"]));
    assert!(ls.contains("Travel  #3b82f6\n  France\n    Paris"), "{ls}");
    // Rename keeps everything else; a hidden tag leaves the default list.
    ok(cairn(&data).args(["tag", "rename", "ville lumiere", "Paris, France"]));
    ok(cairn(&data).args(["tag", "set", "home::Project", "--privacy", "hidden"]));
    let ls = ok(cairn(&data).args(["tag", "ls"]));
    assert!(
        ls.contains("    Paris, France") && !ls.contains("home::Project"),
        "{ls}"
    );
    let all = ok(cairn(&data).args(["tag", "ls", "--all"]));
    assert!(all.contains("home::Project  (hidden)"), "{all}");
    // Merging: the tag that goes leaves its name as an alias of the one that stays, and its
    // place in the tree.
    ok(cairn(&data).args(["tag", "create", "Voyages"]));
    ok(cairn(&data).args(["tag", "create", "Lyon", "--parent", "Voyages"]));
    let out = ok(cairn(&data).args(["tag", "merge", "Voyages", "Travel"]));
    assert!(out.contains("Merged \"Voyages\" into \"Travel\""), "{out}");
    let ls = ok(cairn(&data).args(["tag", "ls"]));
    assert!(
        ls.contains("Travel  #3b82f6\n  France\n    Paris, France\n  Lyon"),
        "{ls}"
    );
    let v = json(&ok(cairn(&data).args(["--json", "tag", "ls"])));
    let travel = v
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Travel")
        .unwrap();
    assert_eq!(travel["aliases"], serde_json::json!(["Voyages"]));
    let err = fails(cairn(&data).args(["tag", "merge", "Travel", "travel"]));
    assert!(err.contains("same tag"), "{err}");
}

#[test]
fn tags_on_entries_and_contents_are_found_with_the_tags_below_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "Travel"]));
    ok(cairn(&data).args(["tag", "create", "Paris", "--parent", "Travel"]));
    ok(cairn(&data).args(["tag", "create", "Favourite shot"]));
    let out = ok(cairn(&data)
        .args(["tag", "add", "Paris", "-r"])
        .arg(tree.join("Photos/Paris")));
    assert!(out.contains("Tagged 3 items"), "{out}");
    // On the content: every copy, here and elsewhere.
    ok(cairn(&data)
        .args(["tag", "add", "--content", "Favourite shot"])
        .arg(tree.join("Photos/Paris/eiffel.jpg")));
    assert_eq!(
        tagged(&data, &tree, &["Travel"]),
        [
            "Photos/Paris",
            "Photos/Paris/eiffel.jpg",
            "Photos/Paris/louvre.jpg"
        ]
    );
    assert_eq!(
        tagged(&data, &tree, &["favourite shot"]),
        ["Docs/eiffel copy.jpg", "Photos/Paris/eiffel.jpg"]
    );
    // `tag:NAME` in the text is a tag filter (the search box's way); quotes for spaces.
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "louvre tag:travel",
    ])));
    assert_eq!(v["total"], 1, "{v}");
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "tag:\"favourite shot\"",
    ])));
    assert_eq!(v["total"], 2, "{v}");
    let err = fails(cairn(&data).args(["search", "tag:nosuch"]));
    assert!(err.contains("no tag named \"nosuch\""), "{err}");
    // A tag on a folder passes to what is below it when asked ("inherited").
    ok(cairn(&data).args(["tag", "create", "Project X"]));
    ok(cairn(&data)
        .args(["tag", "add", "Project X"])
        .arg(tree.join("Docs")));
    assert_eq!(tagged(&data, &tree, &["Project X"]), ["Docs"]);
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--limit",
        "100",
        "--tag",
        "Project X",
        "--inherited",
    ])));
    assert_eq!(v["total"], 3, "Docs and the two files in it: {v}");
    // An archive tag keeps its files out of a search that names no tag (a tagged folder's
    // contents too); naming it finds them.
    ok(cairn(&data).args(["tag", "create", "Old stuff", "--privacy", "archive"]));
    ok(cairn(&data)
        .args(["tag", "add", "Old stuff"])
        .arg(tree.join("Docs/report.pdf")));
    let v = json(&ok(cairn(&data).args(["--json", "search", "report"])));
    assert_eq!(v["total"], 0, "archived: {v}");
    assert_eq!(tagged(&data, &tree, &["Old stuff"]), ["Docs/report.pdf"]);
    ok(cairn(&data).args(["tag", "delete", "Old stuff"]));
    let v = json(&ok(cairn(&data).args(["--json", "search", "report"])));
    assert_eq!(v["total"], 1, "{v}");
    // Several tags: all must match.
    assert_eq!(
        tagged(&data, &tree, &["Travel", "Favourite shot"]),
        ["Photos/Paris/eiffel.jpg"]
    );
    let show = ok(cairn(&data)
        .args(["tag", "show"])
        .arg(tree.join("Docs/eiffel copy.jpg")));
    assert!(show.contains("Favourite shot  (on its content"), "{show}");
    // Taking it off, and deleting a tag, touch no file.
    let out = ok(cairn(&data)
        .args(["tag", "rm", "Paris"])
        .arg(tree.join("Photos/Paris/louvre.jpg")));
    assert!(out.contains("off 1 item"), "{out}");
    assert_eq!(
        tagged(&data, &tree, &["Travel"]),
        ["Photos/Paris", "Photos/Paris/eiffel.jpg"]
    );
    ok(cairn(&data).args(["tag", "delete", "Paris"]));
    assert!(tagged(&data, &tree, &["Travel"]).is_empty());
    assert!(tree.join("Photos/Paris/louvre.jpg").is_file());
    // A file outside the index cannot be tagged, and says why.
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, b"x").unwrap();
    let err = fails(cairn(&data).args(["tag", "add", "Travel"]).arg(&outside));
    assert!(err.contains("not in the library's index"), "{err}");
}

/// Tags survive a rename and a move made outside Cairn (seen by a rescan), a move made by
/// Cairn, a deleted file re-created with the same content (its content's tag comes back), and
/// a repair of the catalogue.
#[test]
fn tags_survive_renames_moves_rescans_and_repairs() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "Keep"]));
    ok(cairn(&data).args(["tag", "create", "Same bytes"]));
    ok(cairn(&data)
        .args(["tag", "add", "Keep", "-r"])
        .arg(tree.join("Photos")));
    ok(cairn(&data)
        .args(["tag", "add", "--content", "Same bytes"])
        .arg(tree.join("Docs/report.pdf")));
    // Renamed and moved outside Cairn, then rescanned.
    std::fs::rename(tree.join("Photos"), tree.join("Pictures")).unwrap();
    std::fs::rename(
        tree.join("Pictures/Paris/louvre.jpg"),
        tree.join("Docs/louvre.jpg"),
    )
    .unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    assert_eq!(
        tagged(&data, &tree, &["Keep"]),
        [
            "Docs/louvre.jpg",
            "Pictures",
            "Pictures/Paris",
            "Pictures/Paris/eiffel.jpg"
        ]
    );
    // Moved by Cairn.
    ok(cairn(&data)
        .arg("mv")
        .arg(tree.join("Docs/louvre.jpg"))
        .arg(tree.join("Pictures")));
    assert!(tagged(&data, &tree, &["Keep"]).contains(&"Pictures/louvre.jpg".to_owned()));
    // Deleted, then made again with the same bytes: the content's tag is back.
    assert!(ok(cairn(&data).args(["tag", "missing"])).contains("Nothing missing"));
    ok(cairn(&data)
        .args(["note"])
        .arg(tree.join("Docs/report.pdf"))
        .arg("the signed one"));
    std::fs::remove_file(tree.join("Docs/report.pdf")).unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    assert!(tagged(&data, &tree, &["Same bytes"]).is_empty());
    // What was on the gone file is kept and listed, never silently dropped.
    let missing = ok(cairn(&data).args(["tag", "missing"]));
    assert!(
        missing.contains("gone since") && missing.contains("note \"the signed one\""),
        "{missing}"
    );
    std::fs::write(tree.join("Docs/report again.pdf"), b"a report").unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    assert_eq!(
        tagged(&data, &tree, &["Same bytes"]),
        ["Docs/report again.pdf"]
    );
    // A repair keeps the tags (the catalogue is rebuilt from a damaged one).
    let before = tagged(&data, &tree, &["Keep"]);
    assert_eq!(before.len(), 4, "{before:?}");
    let store = data.join("libraries/My Library.cairnlib/library.redb");
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[1] ^= 0x20;
    std::fs::write(&store, &bytes).unwrap();
    let out = ok(cairn(&data).args(["library", "repair", "--no-rescan"]));
    assert!(
        out.contains("tags") && out.contains("tag_assignments"),
        "{out}"
    );
    assert_eq!(tagged(&data, &tree, &["Keep"]), before);
    ok(cairn(&data).args(["library", "check"]));
}

/// `tag export` then `tag import` into another library over a copy of the files: the tags
/// come back with their tree; files are found by content (any copy), then by path; importing
/// twice changes nothing; an export file is never written over without --force.
#[test]
fn tags_are_exported_and_imported_into_another_library() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "Travel", "--colour", "#3b82f6"]));
    ok(cairn(&data).args(["tag", "create", "Paris", "--parent", "Travel"]));
    ok(cairn(&data).args(["tag", "create", "Work"]));
    ok(cairn(&data)
        .args(["tag", "add", "Paris"])
        .arg(tree.join("Photos/Paris/louvre.jpg")));
    ok(cairn(&data)
        .args(["tag", "add", "Work"])
        .arg(tree.join("Docs/report.pdf")));
    ok(cairn(&data)
        .args(["tag", "add", "--content", "Travel"])
        .arg(tree.join("Docs/eiffel copy.jpg")));
    ok(cairn(&data)
        .args(["note"])
        .arg(tree.join("Docs/report.pdf"))
        .arg("Signed copy"));
    ok(cairn(&data).args(["collection", "create", "Best of"]));
    ok(cairn(&data)
        .args(["collection", "add", "Best of"])
        .arg(tree.join("Photos/Paris/louvre.jpg")));
    let export = tmp.path().join("tags.json");
    ok(cairn(&data)
        .args(["tag", "export", "--output"])
        .arg(&export));
    let err = fails(
        cairn(&data)
            .args(["tag", "export", "--output"])
            .arg(&export),
    );
    assert!(err.contains("--force"), "{err}");

    // Another data folder and library over the same folder, after one file was renamed
    // (found by its content) and another rewritten (found by its path).
    let other = tmp.path().join("other-data");
    let copy = tree.clone();
    std::fs::rename(
        tree.join("Photos/Paris/louvre.jpg"),
        tree.join("Photos/the louvre.jpg"),
    )
    .unwrap();
    std::fs::write(tree.join("Docs/report.pdf"), b"a report, edited").unwrap();
    ok(cairn(&other)
        .args(["location", "add", "--mode", "content"])
        .arg(&copy));
    let out = ok(cairn(&other).args(["tag", "import"]).arg(&export));
    // Found: louvre by content (its tag and its place in the collection), the report by path
    // (its tag and its note), the tower's content as it was.
    assert!(
        out.contains("3 made")
            && out.contains("2 found by content")
            && out.contains("2 by path")
            && out.contains("1 on contents")
            && out.contains("0 not found"),
        "{out}"
    );
    let note = ok(cairn(&other)
        .args(["note"])
        .arg(tree.join("Docs/report.pdf")));
    assert!(note.contains("Signed copy"), "{note}");
    let show = ok(cairn(&other).args(["collection", "show", "Best of"]));
    assert!(show.trim().ends_with("Photos/the louvre.jpg"), "{show}");
    let ls = ok(cairn(&other).args(["tag", "ls"]));
    assert!(
        ls.contains("Travel  1 content  #3b82f6\n  Paris  1"),
        "{ls}"
    );
    assert_eq!(
        tagged(&other, &copy, &["Travel"]),
        [
            "Docs/eiffel copy.jpg",
            "Photos/Paris/eiffel.jpg",
            "Photos/the louvre.jpg"
        ]
    );
    assert_eq!(tagged(&other, &copy, &["Work"]), ["Docs/report.pdf"]);
    // Twice: the same.
    let again = ok(cairn(&other).args(["tag", "import"]).arg(&export));
    assert!(again.contains("0 made, 3 here already"), "{again}");
    assert_eq!(
        ok(cairn(&other).args(["tag", "ls"])),
        ls,
        "a second import changes nothing"
    );
    // Garbage is refused, naming the file.
    let junk = tmp.path().join("junk.json");
    std::fs::write(&junk, b"{\"format\": 3}").unwrap();
    let err = fails(cairn(&other).args(["tag", "import"]).arg(&junk));
    assert!(err.contains("junk.json is not a tag export"), "{err}");
}

/// Notes and ratings (issue "Tags, notes…"): on a file (following it through a rename) or on
/// its content (every copy); searchable, case and accents ignored; cleared by an empty note.
#[test]
fn notes_and_ratings_follow_their_file_and_are_searchable() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    let eiffel = tree.join("Photos/Paris/eiffel.jpg");
    ok(cairn(&data)
        .args(["note"])
        .arg(&eiffel)
        .arg("Taken from the Trocadéro at dawn"));
    ok(cairn(&data).args(["rate"]).arg(&eiffel).arg("4"));
    ok(cairn(&data)
        .args(["note", "--content"])
        .arg(tree.join("Docs/report.pdf"))
        .arg("Signed copy"));
    let err = fails(cairn(&data).args(["rate"]).arg(&eiffel).arg("6"));
    assert!(err.contains("0 to 5"), "{err}");
    // Renamed outside Cairn: the note and rating follow.
    std::fs::rename(&eiffel, tree.join("Photos/Paris/tower.jpg")).unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    let shown = ok(cairn(&data)
        .args(["note"])
        .arg(tree.join("Photos/Paris/tower.jpg")));
    assert!(
        shown.contains("Rating: 4 of 5") && shown.contains("Trocadéro at dawn"),
        "{shown}"
    );
    // Searchable, accents ignored.
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--note",
        "trocadero",
    ])));
    assert_eq!(v["total"], 1, "{v}");
    // A note on the content is found on every copy made later.
    std::fs::write(tree.join("Docs/report copy.pdf"), b"a report").unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--note", "signed"])
    ));
    assert_eq!(v["total"], 2, "{v}");
    // Cleared.
    ok(cairn(&data)
        .args(["note"])
        .arg(tree.join("Photos/Paris/tower.jpg"))
        .arg(""));
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--note",
        "trocadero",
    ])));
    assert_eq!(v["total"], 0, "{v}");
    ok(cairn(&data).args(["library", "check"]));
}

/// Tagging is undone as one action, however many items (issue "Tags…": bulk tag and untag,
/// undoable); undo again undoes the action before; a removal is undone by putting the tag
/// back.
#[test]
fn taggings_are_undone_one_action_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    for i in 0..300 {
        std::fs::write(tree.join(format!("Docs/page-{i:03}.txt")), format!("{i}")).unwrap();
    }
    ok(cairn(&data).args(["location", "rescan", "1"]));
    ok(cairn(&data).args(["tag", "create", "Bulk"]));
    let out = ok(cairn(&data)
        .args(["tag", "add", "Bulk", "-r"])
        .arg(tree.join("Docs")));
    assert!(out.contains("Tagged 303 items"), "{out}");
    ok(cairn(&data)
        .args(["tag", "rm", "Bulk"])
        .arg(tree.join("Docs/report.pdf")));
    assert_eq!(tagged(&data, &tree, &["Bulk"]).len(), 302);
    // The newest first: the removal is undone.
    let out = ok(cairn(&data).args(["tag", "undo"]));
    assert!(out.contains("put \"Bulk\" back on 1 item"), "{out}");
    assert_eq!(tagged(&data, &tree, &["Bulk"]).len(), 303);
    // Then the bulk tagging, as one.
    let out = ok(cairn(&data).args(["tag", "undo"]));
    assert!(out.contains("took \"Bulk\" off 303 items"), "{out}");
    assert!(tagged(&data, &tree, &["Bulk"]).is_empty());
    let out = ok(cairn(&data).args(["tag", "undo"]));
    assert!(out.contains("Nothing to undo"), "{out}");
}

/// Collections (issue "Tags, notes…"): ordered sets of files and contents from anywhere in the
/// library; an item whose file is gone stays in the collection and says so; search within one.
#[test]
fn collections_keep_their_items_in_order_and_survive_a_vanished_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    ok(cairn(&data).args(["collection", "create", "Trip slides"]));
    let err = fails(cairn(&data).args(["collection", "create", "trip slides"]));
    assert!(err.contains("exists already"), "{err}");
    ok(cairn(&data)
        .args(["collection", "add", "Trip slides"])
        .arg(tree.join("Photos/Paris/louvre.jpg"))
        .arg(tree.join("Docs/report.pdf")));
    ok(cairn(&data)
        .args(["collection", "add", "Trip slides", "--content"])
        .arg(tree.join("Photos/Paris/eiffel.jpg")));
    let show = ok(cairn(&data).args(["collection", "show", "trip slides"]));
    let lines: Vec<&str> = show.lines().collect();
    assert_eq!(lines.len(), 3, "{show}");
    assert!(lines[0].ends_with("Photos/Paris/louvre.jpg"), "{show}");
    assert!(lines[1].ends_with("Docs/report.pdf"), "{show}");
    assert!(
        lines[2].contains("eiffel") && lines[2].contains("(content: a copy)"),
        "{show}"
    );
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--collection",
        "Trip slides",
        "jpg",
    ])));
    assert_eq!(v["total"], 3, "louvre and both copies of the tower: {v}");
    // A file that goes stays in the collection, said as gone.
    std::fs::remove_file(tree.join("Docs/report.pdf")).unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    let show = ok(cairn(&data).args(["collection", "show", "Trip slides"]));
    assert!(show.lines().nth(1).unwrap().contains("not here"), "{show}");
    let ls = ok(cairn(&data).args(["collection", "ls"]));
    assert!(ls.contains("Trip slides  3 items"), "{ls}");
    ok(cairn(&data)
        .args(["collection", "rm", "Trip slides"])
        .arg(tree.join("Photos/Paris/louvre.jpg")));
    let ls = ok(cairn(&data).args(["collection", "ls"]));
    assert!(ls.contains("Trip slides  2 items"), "{ls}");
    ok(cairn(&data).args(["collection", "delete", "Trip slides"]));
    assert!(ok(cairn(&data).args(["collection", "ls"])).contains("No collections"));
    ok(cairn(&data).args(["library", "check"]));
}

/// Saved searches (issue "Tags, notes…": a named query): saved with the search, run again by
/// name (with more filters added), listed, kept by a repair, deleted.
#[test]
fn searches_are_saved_run_again_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "Travel"]));
    ok(cairn(&data)
        .args(["tag", "add", "Travel", "-r"])
        .arg(tree.join("Photos")));
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "jpg",
        "--tag",
        "Travel",
        "--save",
        "Trip photos",
    ])));
    assert_eq!(v["total"], 2, "{v}");
    let again = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--saved",
        "trip photos",
    ])));
    assert_eq!(again["total"], 2, "{again}");
    let narrower = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--saved",
        "Trip photos",
        "louvre",
    ])));
    assert_eq!(narrower["total"], 1, "{narrower}");
    let list = ok(cairn(&data).args(["search", "--list-saved"]));
    assert!(list.contains("Trip photos  \"jpg\""), "{list}");
    let err = fails(cairn(&data).args(["search", "--saved", "nope"]));
    assert!(err.contains("no saved search named \"nope\""), "{err}");
    // Kept by a repair.
    let store = data.join("libraries/My Library.cairnlib/library.redb");
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[1] ^= 0x20;
    std::fs::write(&store, &bytes).unwrap();
    ok(cairn(&data).args(["library", "repair", "--no-rescan"]));
    assert!(ok(cairn(&data).args(["search", "--list-saved"])).contains("Trip photos"));
    ok(cairn(&data).args(["search", "--delete-saved", "Trip photos"]));
    assert!(ok(cairn(&data).args(["search", "--list-saved"])).contains("No saved searches"));
}

/// Label colours and favourite marks: on a file and on a content (every copy, the favourites
/// list showing one of them); bad values are refused naming them; they travel in an export.
#[test]
fn labels_and_favourites_mark_files_and_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, tree) = library(tmp.path());
    let report = tree.join("Docs/report.pdf");
    let out = ok(cairn(&data).arg("label").arg(&report).arg("Green"));
    assert!(out.contains("Labelled") && out.contains("green"), "{out}");
    let err = fails(cairn(&data).arg("label").arg(&report).arg("teal"));
    assert!(err.contains("teal") && err.contains("purple"), "{err}");
    let err = fails(cairn(&data).arg("favourite").arg(&report).arg("maybe"));
    assert!(err.contains("maybe"), "{err}");
    // Every copy of the tower is a favourite: the library's favourites show one copy.
    ok(cairn(&data)
        .arg("favourite")
        .arg(tree.join("Docs/eiffel copy.jpg"))
        .args(["on", "--content"]));
    ok(cairn(&data).arg("rate").arg(&report).arg("4"));
    let shown = ok(cairn(&data).arg("label").arg(&report));
    assert!(
        shown.contains("Label: green") && shown.contains("Rating: 4"),
        "{shown}"
    );
    let shown = ok(cairn(&data)
        .arg("favourite")
        .arg(tree.join("Photos/Paris/eiffel.jpg")));
    assert!(shown.contains("Favourite (on its content"), "{shown}");
    // The marks are exported with the file, by name.
    let export = tmp.path().join("marks.json");
    ok(cairn(&data)
        .args(["tag", "export", "--output"])
        .arg(&export));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let meta = v["meta"].as_array().unwrap();
    assert!(
        meta.iter()
            .any(|m| m["label"] == "green" && m["rating"] == 4),
        "{meta:?}"
    );
    assert!(meta.iter().any(|m| m["favourite"] == true), "{meta:?}");
    // Cleared again: nothing is left on the report but its rating.
    ok(cairn(&data).arg("label").arg(&report).arg("none"));
    let shown = ok(cairn(&data).arg("label").arg(&report));
    assert!(
        !shown.contains("Label") && shown.contains("Rating: 4"),
        "{shown}"
    );
}

/// `tag set` changes a tag's icon and namespace (and clears them with `none`); an icon too
/// long or a namespace that makes two tags one name is refused naming it.
#[test]
fn a_tags_icon_and_namespace_are_set_and_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, _tree) = library(tmp.path());
    ok(cairn(&data).args(["tag", "create", "work::Project"]));
    ok(cairn(&data).args(["tag", "create", "Project"]));
    ok(cairn(&data).args(["tag", "set", "work::Project", "--icon", "\u{1F4BC}"]));
    let tag = |ns: &str| {
        let v = json(&ok(cairn(&data).args(["--json", "tag", "ls"])));
        let v = v
            .as_array()
            .or_else(|| v["tags"].as_array())
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Project" && t["namespace"] == ns)
            .cloned();
        v.unwrap_or_else(|| panic!("no tag {ns}::Project"))
    };
    let v = tag("work");
    assert_eq!(v["icon"], "\u{1F4BC}", "{v}");
    // Out of its namespace it would be a second "Project": refused, naming it.
    let err = fails(cairn(&data).args(["tag", "set", "work::Project", "--namespace", "none"]));
    assert!(err.contains("Project"), "{err}");
    ok(cairn(&data).args([
        "tag",
        "set",
        "work::Project",
        "--namespace",
        "job",
        "--icon",
        "none",
    ]));
    let v = tag("job");
    assert!(v["icon"].is_null(), "{v}");
    let err = fails(cairn(&data).args(["tag", "set", "job::Project", "--icon", &"x".repeat(300)]));
    assert!(err.contains("icon"), "{err}");
}

/// A folder deleted with a tagged, noted, collected file in it: the "missing" list says the
/// file's name and where it was (through the folder that went with it); its marks are kept
/// until forgotten by hand or 60 days on, never before; a file still indexed is never
/// forgotten.
#[test]
fn missing_items_say_where_they_were_and_are_forgotten_after_their_retention() {
    use cairn::vdfs::jobs::JobStatus;
    use cairn::vdfs::library::NewTag;
    let l = crate::common::library();
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    std::fs::create_dir_all(root.join("Trip/Day 1")).unwrap();
    std::fs::write(root.join("Trip/Day 1/beach.jpg"), b"sand").unwrap();
    std::fs::write(root.join("kept.txt"), b"kept").unwrap();
    let (rec, h) = l
        .lib
        .add_location(
            &root,
            cairn::vdfs::index::location::IndexMode::Shallow,
            cairn::vdfs::fs::rules::Rules::none(),
        )
        .unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    l.lib
        .create_tag(&NewTag {
            name: "Holiday".into(),
            ..Default::default()
        })
        .unwrap();
    let beach = root.join("Trip/Day 1/beach.jpg");
    l.lib
        .tag_paths(
            "Holiday",
            &[beach.clone(), root.join("kept.txt")],
            false,
            false,
        )
        .unwrap();
    l.lib
        .set_meta(
            &beach,
            false,
            cairn::vdfs::library::MetaChange {
                note: Some("the best day".into()),
                label: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    l.lib.create_collection("Best").unwrap();
    l.lib
        .change_collection("Best", std::slice::from_ref(&beach), false, true)
        .unwrap();
    std::fs::remove_dir_all(root.join("Trip")).unwrap();
    assert_eq!(l.lib.rescan(rec.id).unwrap().wait(), JobStatus::Completed);
    let missing = l.lib.missing_items().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    let m = &missing[0];
    assert_eq!(m.name.as_deref(), Some("beach.jpg"));
    assert_eq!(
        m.path.as_deref(),
        Some(beach.as_path()),
        "through the gone folders"
    );
    assert_eq!(m.tags, ["Holiday"]);
    assert_eq!(m.note.as_deref(), Some("the best day"));
    assert_eq!(m.collections, ["Best"]);
    // Not forgotten within the retention, nor twice in a day.
    let now = cairn::vdfs::jobs::now_ms();
    let day = cairn::vdfs::library::DAY_MS;
    assert_eq!(l.lib.forget_expired_missing(now + 59 * day).unwrap(), 0);
    assert_eq!(l.lib.missing_items().unwrap().len(), 1);
    assert_eq!(l.lib.forget_expired_missing(now + 59 * day + 1).unwrap(), 0);
    // After it: forgotten, each change logged for sync; the file still here keeps its tag.
    let log_before = l.lib.sync_log_after(None).unwrap().len();
    assert_eq!(l.lib.forget_expired_missing(now + 61 * day).unwrap(), 1);
    assert!(l.lib.missing_items().unwrap().is_empty());
    assert!(l.lib.sync_log_after(None).unwrap().len() >= log_before + 3);
    assert_eq!(l.lib.tags_of(&root.join("kept.txt")).unwrap().len(), 1);
    assert!(
        l.lib.collection_items("Best").unwrap().is_empty(),
        "its place in the collection went too"
    );
    // By hand: a kept file is never forgotten.
    assert_eq!(
        l.lib
            .forget_missing(&[l
                .lib
                .entry_at(&root.join("kept.txt"))
                .unwrap()
                .unwrap()
                .record
                .uuid])
            .unwrap(),
        0
    );
}
