//! The accounts file (`--accounts FILE`, docs/billing-rules.md#accounts-file): each business
//! account's home country, registration date, time zone, currency and portfolio, and where
//! each property of an account of the log came from (the file, a flag, or the default).
//!
//! Read and checked once, before the log; every stage that needs an account's properties
//! (the reader for its months, billing for its fee tier and domestic/international, the
//! reports) asks this table by account name, once per account, never per row.

use crate::error::{Error, Result};
use crate::event::Country;
use crate::input::phone::CallingCodes;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The columns of the accounts file; every one but `account` optional.
pub const COLUMNS: [&str; 6] = [
    "account",
    "country",
    "registered",
    "tz",
    "currency",
    "portfolio",
];

/// One account as the file gives it (`None`: the cell is empty or the column absent).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileAccount {
    pub country: Option<Country>,
    pub registered: Option<NaiveDate>,
    pub tz: Option<Tz>,
    pub currency: Option<String>,
    pub portfolio: Option<String>,
    /// The file's line of the account's row.
    pub line: u64,
}

/// Where an account's property came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The accounts file.
    File,
    /// A command-line flag (`--tz`, `--account-country`).
    Flag,
    /// Neither: the rule that applies without one (UTC; the highest tier of the month's
    /// countries; no currency; one portfolio for all accounts).
    Default,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Flag => "flag",
            Origin::Default => "default",
        }
    }
}

/// An account's properties, resolved: the file's, else a flag's, else the default.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountProps {
    /// Home (headquarters) country: the fee tier and domestic/international.
    pub country: Option<Country>,
    pub country_from: Origin,
    /// When the Viber sender or bot was registered (the file only).
    pub registered: Option<NaiveDate>,
    /// The zone its calendar months are cut in.
    pub tz: Tz,
    pub tz_from: Origin,
    /// WhatsApp billing currency (carried for the WhatsApp currency cards; not billed yet).
    pub currency: Option<String>,
    pub currency_from: Origin,
    /// WhatsApp business portfolio pooling volume tiers (`None`: the one default portfolio).
    pub portfolio: Option<String>,
    pub portfolio_from: Origin,
    /// The account has a row in the accounts file.
    pub in_file: bool,
}

/// The accounts of a run: the file's (if any) and the flags that stand in for it. Cheap to
/// clone (shared).
#[derive(Clone, Debug)]
pub struct Accounts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The file's name, `None` without `--accounts`.
    file: Option<String>,
    /// By account name as the log spells it (the default account is "").
    rows: BTreeMap<String, FileAccount>,
    /// `--tz`, and whether it was given.
    tz: (Tz, bool),
    /// `--account-country`.
    account_country: Option<Country>,
    /// Some row gives a time zone: months may then differ between accounts.
    zoned: bool,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts::new(None, chrono_tz::UTC, false, None)
    }
}

impl Accounts {
    /// The flags alone (no file): `tz` (`given`: `--tz` was on the command line) and
    /// `--account-country` apply to every account.
    pub fn new(
        file: Option<(String, BTreeMap<String, FileAccount>)>,
        tz: Tz,
        tz_given: bool,
        account_country: Option<Country>,
    ) -> Accounts {
        let (file, rows) = match file {
            Some((f, rows)) => (Some(f), rows),
            None => (None, BTreeMap::new()),
        };
        let zoned = rows.values().any(|r| r.tz.is_some_and(|z| z != tz));
        Accounts {
            inner: Arc::new(Inner {
                file,
                rows,
                tz: (tz, tz_given),
                account_country,
                zoned,
            }),
        }
    }

    /// Reads and checks the accounts file at `path`; `tz`, `tz_given` and `account_country`
    /// as for `new`. A bad file is an input error (exit 3) `FILE:LINE: what (value)`.
    pub fn load(
        path: &str,
        tz: Tz,
        tz_given: bool,
        account_country: Option<Country>,
    ) -> Result<Accounts> {
        let text = std::fs::read(path).map_err(|e| Error::Input {
            file: path.to_string(),
            line: 0,
            msg: format!("cannot open the accounts file ({e})"),
        })?;
        let rows = parse(path, &text)?;
        Ok(Accounts::new(
            Some((path.to_string(), rows)),
            tz,
            tz_given,
            account_country,
        ))
    }

    /// The accounts file's name, if one was given.
    pub fn file(&self) -> Option<&str> {
        self.inner.file.as_deref()
    }

    /// The file's accounts, by name.
    pub fn file_accounts(&self) -> &BTreeMap<String, FileAccount> {
        &self.inner.rows
    }

    /// Whether some account's months are cut in a zone other than `--tz`.
    pub fn zoned(&self) -> bool {
        self.inner.zoned
    }

    /// Whether some account of the file has a registration date on or after `date` and a
    /// country (its own, or `--account-country`): without one, a model's `[international]`
    /// cannot apply to any message.
    pub fn any_registered_from(&self, date: NaiveDate) -> bool {
        let i = &*self.inner;
        (i.rows.values()).any(|r| {
            r.registered.is_some_and(|d| d >= date)
                && (r.country.is_some() || i.account_country.is_some())
        })
    }

    /// The zone of `account`'s months: the file's, else `--tz`.
    pub fn tz_of(&self, account: &str) -> Tz {
        self.inner
            .rows
            .get(account)
            .and_then(|r| r.tz)
            .unwrap_or(self.inner.tz.0)
    }

    /// The properties of `account` (a name as the log gives it; "" is the default account).
    pub fn props(&self, account: &str) -> AccountProps {
        let i = &*self.inner;
        let row = i.rows.get(account);
        let get = |f: fn(&FileAccount) -> bool| row.is_some_and(f);
        let (country, country_from) = match (row.and_then(|r| r.country), i.account_country) {
            (Some(c), _) => (Some(c), Origin::File),
            (None, Some(c)) => (Some(c), Origin::Flag),
            (None, None) => (None, Origin::Default),
        };
        let (tz, tz_from) = match row.and_then(|r| r.tz) {
            Some(z) => (z, Origin::File),
            None if i.tz.1 => (i.tz.0, Origin::Flag),
            None => (i.tz.0, Origin::Default),
        };
        let from_file = |given: bool| if given { Origin::File } else { Origin::Default };
        AccountProps {
            country,
            country_from,
            registered: row.and_then(|r| r.registered),
            tz,
            tz_from,
            currency: row.and_then(|r| r.currency.clone()),
            currency_from: from_file(get(|r| r.currency.is_some())),
            portfolio: row.and_then(|r| r.portfolio.clone()),
            portfolio_from: from_file(get(|r| r.portfolio.is_some())),
            in_file: row.is_some(),
        }
    }

    /// The properties of each of `names` (account ids in order), resolved once.
    pub fn table(&self, names: &[String]) -> Vec<AccountProps> {
        names.iter().map(|n| self.props(n)).collect()
    }
}

/// The accounts file's rows by account name; the first bad row is an error.
fn parse(file: &str, text: &[u8]) -> Result<BTreeMap<String, FileAccount>> {
    let err = |line: u64, msg: String| Error::Input {
        file: file.to_string(),
        line,
        msg,
    };
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = rdr.byte_records();
    let header = match records.next() {
        None => return Err(err(0, "empty file: a header row is required".into())),
        Some(h) => h.map_err(|e| err(1, format!("cannot read CSV ({e})")))?,
    };
    let columns = locate(&header).map_err(|m| err(1, m))?;
    let codes = CallingCodes::load();
    let mut rows: BTreeMap<String, FileAccount> = BTreeMap::new();
    for rec in records {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("cannot read CSV ({e})"))
        })?;
        // The line from the byte offset: the csv crate counts no blank line it skips, and
        // its offset is that of the blank lines before the record.
        let line = rec.position().map_or(0, |p| {
            let from = (p.byte() as usize).min(text.len());
            let blank = text[from..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'));
            let at = from + blank.count();
            1 + memchr::memchr_iter(b'\n', &text[..at]).count() as u64
        });
        if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let (name, account) = row(&rec, &columns, &codes, line).map_err(|m| err(line, m))?;
        if let Some(first) = rows.get(&name) {
            let shown = if name.is_empty() { "(default)" } else { &name };
            return Err(err(
                line,
                format!(
                    "duplicate account, first on line {} ({})",
                    first.line,
                    crate::input::shown(shown)
                ),
            ));
        }
        rows.insert(name, account);
    }
    Ok(rows)
}

/// The column of each of `COLUMNS` (names trimmed, any case); `account` is required. A column
/// named twice or a column of another name is an error: the file is simcost's own format, and a
/// typo (`contry`) would silently leave every account's country out, changing fees.
fn locate(header: &csv::ByteRecord) -> std::result::Result<[Option<usize>; 6], String> {
    let mut at = [None; 6];
    for (i, h) in header.iter().enumerate() {
        let h = String::from_utf8_lossy(h);
        let h = h.trim();
        let Some(k) = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(h)) else {
            return Err(format!(
                "unknown column ({}); the columns are {}",
                crate::input::shown(h),
                COLUMNS.join(",")
            ));
        };
        if at[k].is_some() {
            return Err(format!("column {} appears twice", COLUMNS[k]));
        }
        at[k] = Some(i);
    }
    if at[0].is_none() {
        return Err(format!(
            "missing column account; the columns are {}",
            COLUMNS.join(",")
        ));
    }
    Ok(at)
}

/// One row: the account's name (as the log spells it) and its properties.
fn row(
    rec: &csv::ByteRecord,
    columns: &[Option<usize>; 6],
    codes: &CallingCodes,
    line: u64,
) -> std::result::Result<(String, FileAccount), String> {
    let field = |k: usize| -> std::result::Result<&str, String> {
        let Some(c) = columns[k] else { return Ok("") };
        let b = rec.get(c).unwrap_or_default();
        std::str::from_utf8(b).map(str::trim).map_err(|_| {
            format!(
                "{} is not valid UTF-8 ({})",
                COLUMNS[k],
                crate::input::shown_bytes(b)
            )
        })
    };
    let shown = |v: &str| crate::input::shown(v).into_owned();
    let name = match field(0)? {
        "" => return Err("empty account (the default account is written (default))".into()),
        // The reports' name for the default account, as the log reader takes it.
        "(default)" => String::new(),
        n => n.to_string(),
    };
    let country = match field(1)? {
        "" => None,
        c => Some(
            Country::parse(c)
                .filter(|k| codes.is_known(*k))
                .ok_or_else(|| format!("unknown country code ({})", shown(c)))?,
        ),
    };
    let registered = match field(2)? {
        "" => None,
        d => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| format!("registered is not a YYYY-MM-DD date ({})", shown(d)))?,
        ),
    };
    let tz = match field(3)? {
        "" => None,
        z => Some(
            z.parse::<Tz>()
                .map_err(|_| format!("unknown time zone ({}); use an IANA name", shown(z)))?,
        ),
    };
    let currency = match field(4)? {
        "" => None,
        c if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        c => return Err(format!("currency is not an ISO 4217 code ({})", shown(c))),
    };
    let portfolio = Some(field(5)?).filter(|p| !p.is_empty()).map(String::from);
    Ok((
        name,
        FileAccount {
            country,
            registered,
            tz,
            currency,
            portfolio,
            line,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<BTreeMap<String, FileAccount>> {
        parse("a.csv", text.as_bytes())
    }

    fn error(text: &str) -> String {
        let e = load(text).unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e}");
        e.to_string()
    }

    #[test]
    fn columns_in_any_case_and_order_every_one_but_account_optional() {
        let rows = load(
            "\u{feff}TZ , Account,Country\n\
             Asia/Kolkata,shop,in\n\
             ,(default),\n\
             \n\
             America/New_York,us,\n",
        )
        .unwrap();
        let shop = &rows["shop"];
        assert_eq!(shop.tz, Some(chrono_tz::Asia::Kolkata));
        assert_eq!(shop.country, Country::parse("IN"));
        assert_eq!((shop.registered, shop.line), (None, 2));
        assert_eq!(rows[""].tz, None);
        assert_eq!(rows["us"].line, 5);
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn bad_rows_are_named_with_file_and_line() {
        let head = "account,country,registered,tz,currency,portfolio\n";
        assert_eq!(
            error(&format!("{head}a,UA,,Europe/Kyiv,,\nb,,,Mars/Base,,\n")),
            "a.csv:3: unknown time zone (Mars/Base); use an IANA name"
        );
        assert_eq!(
            error(&format!("{head}a,ZZ,,,,\n")),
            "a.csv:2: unknown country code (ZZ)"
        );
        assert_eq!(
            error(&format!("{head}a,UA,2024-13-01,,,\n")),
            "a.csv:2: registered is not a YYYY-MM-DD date (2024-13-01)"
        );
        assert_eq!(
            error(&format!("{head}a,UA,,,,\nb,,,,,\n a ,DE,,,,\n")),
            "a.csv:4: duplicate account, first on line 2 (a)"
        );
        assert_eq!(
            error(&format!("{head}a,UA,,,EURO,\n")),
            "a.csv:2: currency is not an ISO 4217 code (EURO)"
        );
        assert_eq!(
            error(&format!("{head},UA,,,,\n")),
            "a.csv:2: empty account (the default account is written (default))"
        );
        assert_eq!(
            error("country,tz\nUA,UTC\n"),
            "a.csv:1: missing column account; the columns are \
             account,country,registered,tz,currency,portfolio"
        );
        assert_eq!(error("account,tz,TZ\n"), "a.csv:1: column tz appears twice");
        assert_eq!(
            error("account,contry\nx,UA\n"),
            "a.csv:1: unknown column (contry); the columns are \
             account,country,registered,tz,currency,portfolio"
        );
        assert_eq!(error(""), "a.csv: empty file: a header row is required");
    }

    #[test]
    fn properties_come_from_the_file_then_the_flags_then_the_default() {
        let rows =
            load("account,country,tz,currency,portfolio\nshop,UA,Asia/Kolkata,uah,p1\n").unwrap();
        let given = Accounts::new(
            Some(("a.csv".into(), rows.clone())),
            chrono_tz::Europe::Berlin,
            true,
            Country::parse("DE"),
        );
        let shop = given.props("shop");
        assert_eq!(
            (
                shop.country_from,
                shop.tz_from,
                shop.currency_from,
                shop.portfolio_from
            ),
            (Origin::File, Origin::File, Origin::File, Origin::File)
        );
        assert_eq!(shop.currency.as_deref(), Some("UAH"));
        assert!(shop.in_file && given.zoned());
        // An account the file lacks takes the flags.
        let other = given.props("other");
        assert_eq!(other.country, Country::parse("DE"));
        assert_eq!(
            (other.country_from, other.tz_from),
            (Origin::Flag, Origin::Flag)
        );
        assert_eq!(other.tz, chrono_tz::Europe::Berlin);
        assert!(!other.in_file);
        // No flags: the defaults.
        let plain = Accounts::new(Some(("a.csv".into(), rows)), chrono_tz::UTC, false, None);
        let other = plain.props("other");
        assert_eq!(
            (
                other.country,
                other.country_from,
                other.tz_from,
                other.portfolio_from
            ),
            (None, Origin::Default, Origin::Default, Origin::Default)
        );
        assert_eq!(plain.tz_of("shop"), chrono_tz::Asia::Kolkata);
        assert_eq!(plain.tz_of("other"), chrono_tz::UTC);
    }
}
