//! Embeds the shipped rate directory: every `.toml` and `.csv` file of `rates/` (not its
//! README or `research/`), so a new model or card is embedded by adding the file.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rates");
    println!("cargo:rerun-if-changed=rates");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("rates/ is readable")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") || n.ends_with(".csv"))
        .collect();
    names.sort();
    let mut out = String::from("&[\n");
    for n in &names {
        let path = dir.join(n);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({n:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    let target = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_rates.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
