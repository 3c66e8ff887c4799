//! Concatenates the file-type definitions in `assets/filetypes/*.toml` into one TOML document
//! (each file is a `[[file_types]]` array, so concatenation is valid TOML) that
//! `src/vdfs/filetype.rs` embeds with `include_str!`.

use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new("assets/filetypes");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("assets/filetypes exists")
        .map(|e| e.expect("readable assets/filetypes").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut all = String::new();
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.display());
        all.push_str(&format!("# ---- {} ----\n", f.display()));
        all.push_str(&fs::read_to_string(f).expect("readable definition file"));
        all.push('\n');
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("filetypes.toml");
    fs::write(out, all).expect("write filetypes.toml");
}
