//! CSV cells a spreadsheet would evaluate (issue 16): the CSV report and the ledger of a log whose
//! accounts and contacts are formulas (tests/fixtures/hostile_cells.csv), opened by LibreOffice
//! and saved as xlsx, hold no formula; their text reads as simcost wrote it and amounts stay
//! numbers. Needs `soffice` (CI installs libreoffice-calc-nogui); without it the test fails under
//! CI and is skipped, with a notice, elsewhere.

use super::*;
use std::path::Path;
use std::process::Command;

/// The report's account column, in key order: each formula, and the name that starts with `'`,
/// with a `'` in front.
const REPORT_ACCOUNTS: [&str; 8] = [
    "''shop",
    "'+1+1",
    "'-2+3",
    "'=1+1",
    "'=HYPERLINK(\"http://x.example/?leak\",\"pay\")",
    "'@SUM(1+1)",
    "shopA",
    "TOTAL",
];

/// (account, contact) of each ledger row, in the log's order.
const LEDGER_CELLS: [(&str, &str); 7] = [
    (
        "'=HYPERLINK(\"http://x.example/?leak\",\"pay\")",
        "'=HYPERLINK(\"http://x.example/?c\",\"c\")",
    ),
    ("'@SUM(1+1)", "'@SUM(1+1)"),
    ("'-2+3", "'-2+3"),
    ("'+1+1", "'+1+1"),
    // A phone number as a `tel:` URI: text to a spreadsheet, every digit kept (issue 21).
    ("'=1+1", "tel:+4915112345678"),
    ("shopA", "'=cmd|' /C calc'!A0"),
    ("''shop", "''=2+2"),
];

/// One cell of a sheet as LibreOffice saved it.
#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) formula: Option<String>,
    /// `float`, `string`, ... or empty for an empty cell.
    pub(crate) kind: String,
    pub(crate) value: Option<String>,
    pub(crate) text: String,
}

/// The report and ledger simcost writes for the hostile log, in `dir`.
fn write_outputs(dir: &Path) {
    let ledger = dir.join("ledger.csv");
    let (f, r) = (fixture("hostile_cells.csv"), test_rates());
    let report = sim(&[
        "replay",
        &f,
        "--rates",
        &r,
        "--model",
        "plain",
        "--format",
        "csv",
        "--by",
        "account",
        "--ledger",
        ledger.to_str().unwrap(),
    ])
    .succeeds();
    std::fs::write(dir.join("report.csv"), report).unwrap();
    // A formula left as it is: shows that the check below sees one when there is one.
    std::fs::write(dir.join("control.csv"), "name,amount\n=1+1,0.0400\n").unwrap();
}

/// A cell of LibreOffice's sheet or of its CSV, by its text.
pub(crate) trait Text {
    fn text(&self) -> &str;
}

impl Text for Cell {
    fn text(&self) -> &str {
        &self.text
    }
}

impl Text for String {
    fn text(&self) -> &str {
        self
    }
}

/// The column `name` of a table whose first row is its header.
pub(crate) fn column<'a, T: Text>(rows: &'a [Vec<T>], name: &str) -> Vec<&'a T> {
    let i = (rows[0].iter().position(|c| c.text() == name))
        .unwrap_or_else(|| panic!("no column {name}"));
    rows[1..].iter().map(|r| &r[i]).collect()
}

/// The text of the column `name`.
fn texts<'a, T: Text>(rows: &'a [Vec<T>], name: &str) -> Vec<&'a str> {
    column(rows, name).into_iter().map(|c| c.text()).collect()
}

#[test]
fn no_formula_survives_a_spreadsheet_and_amounts_stay_numbers() {
    if Command::new("soffice").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "soffice is missing: CI must install libreoffice-calc-nogui (.ci/run)"
        );
        eprintln!(
            "SKIPPED no_formula_survives_a_spreadsheet: soffice (LibreOffice) is not installed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_outputs(d);
    let csvs = ["report.csv", "ledger.csv", "control.csv"].map(|n| d.join(n));
    convert(d, &csvs, "xlsx", "xlsx");
    let xlsx = ["report", "ledger", "control"].map(|n| d.join("xlsx").join(format!("{n}.xlsx")));
    convert(d, &xlsx, "fods", "fods");
    convert(d, &xlsx, "csv", "back");

    let control = sheet(&d.join("fods/control.fods"));
    assert_eq!(
        control[1][0].formula.as_deref(),
        Some("of:=1+1"),
        "{control:?}"
    );

    let report = sheet(&d.join("fods/report.fods"));
    let ledger = sheet(&d.join("fods/ledger.fods"));
    for (name, rows) in [("report", &report), ("ledger", &ledger)] {
        let formulas: Vec<&Cell> = rows
            .iter()
            .flatten()
            .filter(|c| c.formula.is_some())
            .collect();
        assert!(formulas.is_empty(), "{name}: formulas {formulas:?}");
    }
    assert_eq!(texts(&report, "account"), REPORT_ACCOUNTS);
    // Amounts are numbers: 0.0400 EUR a promotional DE message, 7 of them in all.
    for (col, each, all) in [("cost", "0.04", "0.28"), ("total", "0.04", "0.28")] {
        let cells = column(&report, col);
        for (i, c) in cells.iter().enumerate() {
            assert_eq!(c.kind, "float", "{col} {c:?}");
            let want = if i + 1 == cells.len() { all } else { each };
            assert_eq!(d_of(c), super::d(want), "{col} {c:?}");
        }
    }
    let ledger_accounts = column(&ledger, "account");
    let contacts = column(&ledger, "contact");
    for (i, (account, contact)) in LEDGER_CELLS.iter().enumerate() {
        assert_eq!(
            (
                ledger_accounts[i].text.as_str(),
                ledger_accounts[i].kind.as_str()
            ),
            (*account, "string")
        );
        assert_eq!(
            (contacts[i].text.as_str(), contacts[i].kind.as_str()),
            (*contact, "string")
        );
    }
    for c in column(&ledger, "amount") {
        assert_eq!(
            (c.kind.as_str(), d_of(c)),
            ("float", super::d("0.04")),
            "{c:?}"
        );
    }
    back_to_csv_reads_as_written(d);
}

/// The xlsx saved back as CSV shows the text simcost wrote, not a value a formula computed.
fn back_to_csv_reads_as_written(d: &Path) {
    let read = |n: &str| -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(d.join("back").join(n))
            .unwrap();
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let (report, ledger) = (read("report.csv"), read("ledger.csv"));
    assert_eq!(texts(&report, "account"), REPORT_ACCOUNTS);
    let (accounts, contacts) = (texts(&ledger, "account"), texts(&ledger, "contact"));
    let want_contacts = LEDGER_CELLS.map(|(_, c)| c);
    assert_eq!(accounts, LEDGER_CELLS.map(|(a, _)| a));
    assert_eq!(contacts, want_contacts);
}

fn d_of(c: &Cell) -> Decimal {
    super::d(
        c.value
            .as_deref()
            .unwrap_or_else(|| panic!("no value in {c:?}")),
    )
}

/// `soffice --convert-to TO` of `files` into `d/OUT`, with a profile of its own.
fn convert(d: &Path, files: &[std::path::PathBuf], to: &str, out: &str) {
    let profile = format!(
        "-env:UserInstallation=file://{}",
        d.join("profile").display()
    );
    let o = Command::new("soffice")
        .arg(profile)
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(d.join(out))
        .args(files)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in files {
        let stem = f.file_stem().unwrap().to_str().unwrap();
        let made = d.join(out).join(format!("{stem}.{to}"));
        assert!(
            made.exists(),
            "soffice made no {}: {}",
            made.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The first sheet of a flat ODS file, row by row (repeated cells written out, empty rows left
/// out).
pub(crate) fn sheet(path: &Path) -> Vec<Vec<Cell>> {
    const TABLE: &str = "urn:oasis:names:tc:opendocument:xmlns:table:1.0";
    const OFFICE: &str = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
    let xml = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let table = (doc.descendants())
        .find(|n| n.has_tag_name((TABLE, "table")))
        .expect("a sheet");
    let mut rows = Vec::new();
    for row in table
        .descendants()
        .filter(|n| n.has_tag_name((TABLE, "table-row")))
    {
        let mut cells = Vec::new();
        for c in row.children().filter(|n| n.is_element()) {
            let repeat: usize =
                (c.attribute((TABLE, "number-columns-repeated"))).map_or(1, |n| n.parse().unwrap());
            for _ in 0..repeat.min(64) {
                cells.push(Cell {
                    formula: c.attribute((TABLE, "formula")).map(String::from),
                    kind: c
                        .attribute((OFFICE, "value-type"))
                        .unwrap_or("")
                        .to_string(),
                    value: c.attribute((OFFICE, "value")).map(String::from),
                    text: cell_text(c),
                });
            }
        }
        // LibreOffice pads the sheet with empty rows.
        if cells
            .iter()
            .any(|c| !c.kind.is_empty() || c.formula.is_some())
        {
            rows.push(cells);
        }
    }
    rows
}

/// The text of a cell: its paragraphs' text, `<text:s c="N"/>` read as N spaces (the file is
/// indented between elements, so only text inside `<text:p>` counts).
fn cell_text(cell: roxmltree::Node) -> String {
    const TEXT: &str = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
    let paragraphs = cell.descendants().filter(|n| n.has_tag_name((TEXT, "p")));
    let mut lines = Vec::new();
    for p in paragraphs {
        let mut s = String::new();
        for n in p.descendants() {
            if n.is_text() {
                s.push_str(n.text().unwrap_or(""));
            } else if n.has_tag_name((TEXT, "s")) {
                let k: usize = n.attribute((TEXT, "c")).map_or(1, |c| c.parse().unwrap());
                s.push_str(&" ".repeat(k));
            }
        }
        lines.push(s);
    }
    lines.join("\n")
}

/// A rate directory with the test card's `plain` model and a copy of it named `=1+1`.
fn rates_with_a_formula_model(dir: &Path) -> String {
    let from = Path::new(&test_rates()).to_path_buf();
    std::fs::copy(from.join("viber.csv"), dir.join("viber.csv")).unwrap();
    let plain = std::fs::read_to_string(from.join("plain.toml")).unwrap();
    std::fs::write(dir.join("plain.toml"), &plain).unwrap();
    let hostile = plain.replace("name = \"plain\"", "name = \"=1+1\"");
    assert_ne!(hostile, plain);
    std::fs::write(dir.join("hostile.toml"), hostile).unwrap();
    dir.display().to_string()
}

/// Every cell of `csv`, row by row.
fn cells(csv: &str) -> Vec<String> {
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    let rows = r.records().map(|x| x.unwrap());
    rows.flat_map(|x| x.iter().map(String::from).collect::<Vec<_>>())
        .collect()
}

/// Every cell of `csv` that starts like a formula: none may, but numbers and phone numbers.
fn formula_like_cells(csv: &str) -> Vec<String> {
    let number =
        |c: &str| c.parse::<Decimal>().is_ok() || c[1..].bytes().all(|b| b.is_ascii_digit());
    (cells(csv).into_iter())
        .filter(|c| c.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']) && !number(c))
        .collect()
}

#[test]
fn every_csv_writer_quotes_model_names_and_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let r = rates_with_a_formula_model(dir.path());
    let ledger = dir.path().join("ledger.csv");
    let f = fixture("hostile_cells.csv");
    let l = ledger.to_str().unwrap();
    let outputs = [
        sim(&[
            "replay", &f, "--rates", &r, "--format", "csv", "--ledger", l,
        ])
        .succeeds(),
        sim(&[
            "replay", &f, "--rates", &r, "--format", "csv", "--by", "account",
        ])
        .succeeds(),
        sim(&["compare", &f, "--rates", &r, "--format", "csv"]).succeeds(),
        sim(&["compare", "--cards", "--rates", &r, "--format", "csv"]).succeeds(),
        sim(&["breakeven", &f, "--rates", &r, "--format", "csv"]).succeeds(),
    ];
    let ledger = std::fs::read_to_string(&ledger).unwrap();
    for out in outputs.iter().chain([&ledger]) {
        assert_eq!(formula_like_cells(out), Vec::<String>::new(), "{out}");
        assert!(
            cells(out).contains(&"'=1+1".into()),
            "the model's name, quoted: {out}"
        );
    }
    // The ledger's phone number and the breakeven's accounts, as written.
    assert!(ledger.contains(",tel:+4915112345678,DE,"), "{ledger}");
    assert!(
        outputs[4].contains("models,EUR,'@SUM(1+1),"),
        "{}",
        outputs[4]
    );
}
