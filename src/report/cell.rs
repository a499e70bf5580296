//! Text cells that a spreadsheet would evaluate ("CSV injection", OWASP).
//!
//! Excel, LibreOffice Calc and Google Sheets read a CSV cell that starts with `=` (and Excel and
//! Sheets one that starts with `+`, `-` or `@`, also after a TAB or CR) as a formula: a log whose
//! account is `=HYPERLINK(...)` would put a live link, or worse, into the finance team's sheet.
//! Every text cell that simcost copies from user data (log, accounts file, model files) goes
//! through [`text`]; amounts and counts are simcost's own decimal strings and never do, so they
//! stay numbers in a spreadsheet.

use std::borrow::Cow;

/// The text of a CSV cell, made inert for a spreadsheet: a cell that starts with `=`, `+`, `-`,
/// `@`, TAB, CR or LF gets a `'` in front, which spreadsheets take as "this is text" (OWASP's
/// advice; LibreOffice shows the `'`). A cell that already starts with `'` gets one too, so a
/// program gets any cell back by dropping one leading `'`. A plus sign followed by digits only (a
/// phone number as simcost writes it, `+4915112345678`) is left as it is: a signed number has
/// nothing to evaluate, and the ledger's contacts keep their bytes. Anything else is returned as
/// it came, without a copy (`&str`, `String` or `Cow`, so a writer pays nothing for ordinary
/// cells).
pub fn text<'a>(cell: impl Into<Cow<'a, str>>) -> Cow<'a, str> {
    let cell = cell.into();
    if needs_quote(&cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        cell
    }
}

/// Whether [`text`] puts a `'` in front of `cell`: a spreadsheet could read it as a formula, or
/// it starts with `'`. One byte is looked at unless the cell starts with `+`.
pub fn needs_quote(cell: &str) -> bool {
    bytes_need_quote(cell.as_bytes())
}

/// [`text`] for a cell kept as the bytes it had in the log (the rejects file: not always UTF-8).
pub fn bytes(cell: &[u8]) -> Cow<'_, [u8]> {
    if bytes_need_quote(cell) {
        let mut quoted = Vec::with_capacity(cell.len() + 1);
        quoted.push(b'\'');
        quoted.extend_from_slice(cell);
        Cow::Owned(quoted)
    } else {
        Cow::Borrowed(cell)
    }
}

fn bytes_need_quote(cell: &[u8]) -> bool {
    match cell {
        [b'=' | b'-' | b'@' | b'\t' | b'\r' | b'\n' | b'\'', ..] => true,
        [b'+', digits @ ..] => digits.is_empty() || !digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_get_a_quote_in_front() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x.example\",\"pay\")",
                "'=HYPERLINK(\"http://x.example\",\"pay\")",
            ),
            ("=1+1", "'=1+1"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("-2+3", "'-2+3"),
            ("+1+1", "'+1+1"),
            ("+", "'+"),
            ("+49 151", "'+49 151"),
            ("-", "'-"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("\n=1+1", "'\n=1+1"),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("'=1+1", "''=1+1"),
            ("'shop", "''shop"),
        ] {
            assert_eq!(text(cell), written, "{cell:?}");
            assert_eq!(text(cell.to_string()), written, "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_and_phone_numbers_are_unchanged() {
        for cell in [
            "",
            "shopA",
            "default",
            "(default)",
            "TOTAL",
            "all accounts",
            "viber-2024",
            "DE",
            "*",
            "EUR",
            "2026-03",
            "+4915112345678",
            "+1",
            "4915112345678",
            "a=b",
            "shop-1",
            " =1+1",
            "shop's",
            "Zürich",
        ] {
            assert!(
                matches!(text(cell), Cow::Borrowed(c) if c == cell),
                "{cell:?}"
            );
            assert_eq!(text(cell.to_string()), cell);
        }
    }
}
