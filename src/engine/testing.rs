//! Engine tests as tables: a model written inline in TOML, messages as rows of an
//! `event::Script`, and for each row the outcome expected, written as a short line.
//!
//! ```text
//! let m = model("viber", "[session]\nmax_consecutive = 2\n");
//! check(&m, &[
//!     // at      contact dir    kind   expected outcome
//!     ("08:00", "a", "in",  "",  "inbound - s1 opened until=03-03T08:00"),
//!     ("08:01", "a", "out", "",  "session session s1 until=03-03T08:00"),
//! ]);
//! ```
//!
//! An outcome reads `billed charge [meta details] [sN] [opened] [assumed] [blocked]
//! [until=MM-DDTHH:MM[:SS]] [why=Variant]`:
//! - `billed` is the ledger's name (`Billed::name`); `charge` is `-` (none), `session`, a
//!   category (a per-message charge) or a Meta card column;
//! - a Meta charge adds `per-conversation` (a conversation charge), `tier=COUNTS/N` (the monthly
//!   free tier it draws on first) and `priced=YYYY-MM-DD` (when not the message's own day);
//! - `sN` is the session, window session or conversation id; `until` when it (or the window) ends;
//! - `why=` is compared only when the expected line names it (explain's wording is tested
//!   elsewhere; a row names it where two rules would give the same bill).

use super::{for_model, Charge, Outcome};
use crate::event::{Event, Script};
use crate::rates::meta::FreeTierCounts;
use crate::rates::{Model, RateSource};

/// One price row per card, enough for a model to load: engines never read prices.
const VIBER_PRICES: &str = "country,effective_from,session,transactional,promotional,\
                            international\n\
                            *,,0.0300,0.0500,0.0700,0.0900\n";
const SESSION_PRICES: &str = "country,effective_from,user_initiated,business_initiated\n\
                              *,,0.0100,0.0400\n";
const META_PRICES: &str = "effective_from,market,currency,business_initiated,user_initiated,\
                           marketing,utility,authentication,service\n\
                           2022-02-01,Germany,USD,0.07,0.04,0.13,0.06,0.07,0.04\n";
const META_MARKETS: &str = "country,market,from,to\nDE,Germany,,\n";

/// A model of `rules` (`viber`, `whatsapp-session`, `whatsapp-meta`) with `body` appended to
/// its name, channel, currency and card: `body` holds what the test is about (`[session]`,
/// `[window]`, `[[era]]`, `default_category`).
pub fn model(rules: &str, body: &str) -> Model {
    let (channel, currency, prices, markets) = match rules {
        "viber" => ("viber", "EUR", VIBER_PRICES, ""),
        "whatsapp-session" => ("whatsapp", "EUR", SESSION_PRICES, ""),
        // top-level keys come before `body`'s first table
        "whatsapp-meta" => (
            "whatsapp",
            "USD",
            META_PRICES,
            "markets = \"markets.csv\"\n",
        ),
        _ => panic!("no such rules ({rules})"),
    };
    let text = format!(
        "name = \"test\"\nchannel = \"{channel}\"\nrules = \"{rules}\"\n\
         currency = \"{currency}\"\nprices = \"prices.csv\"\n{markets}{body}"
    );
    let files = [
        ("test.toml", text.as_str()),
        ("prices.csv", prices),
        ("markets.csv", META_MARKETS),
    ];
    let source = RateSource::Memory(
        (files.iter())
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    );
    Model::load(&source, "test.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Each event's outcome, replayed in order through the engine `model` calls for.
pub fn replay(model: &Model, as_of: Option<i32>, events: &[Event]) -> Vec<Outcome> {
    // engines assume time order; a table typo (08:50 for 09:50) would test something else
    for w in events.windows(2) {
        assert!(
            w[0].at <= w[1].at,
            "the script goes back in time at line {}",
            w[1].line
        );
    }
    let mut engine = for_model(model, as_of);
    events.iter().map(|ev| engine.replay(ev)).collect()
}

/// `o`, the outcome of `ev`, in the words of the expected column; `why` appended when asked.
pub fn describe(ev: &Event, o: &Outcome, why: bool) -> String {
    let mut words = vec![o.billed.name().to_string()];
    match o.charge {
        Charge::None => words.push("-".into()),
        Charge::Session => words.push("session".into()),
        Charge::Message(c) => words.push(c.name().into()),
        Charge::International => words.push("international".into()),
        Charge::Meta(m) => {
            words.push(m.column.name().into());
            if m.conversation {
                words.push("per-conversation".into());
            }
            if let Some((counts, n)) = m.free_tier {
                let counts = match counts {
                    FreeTierCounts::Conversations => "conversations",
                    FreeTierCounts::ServiceConversations => "service-conversations",
                    FreeTierCounts::ServiceMessages => "service-messages",
                };
                words.push(format!("tier={counts}/{n}"));
            }
            if m.price_day != ev.day {
                words.push(format!("priced={}", day_label(m.price_day)));
            }
        }
    }
    if let Some(s) = o.session {
        words.push(format!("s{s}"));
    }
    for (flag, word) in [
        (o.opened, "opened"),
        (o.assumed_category, "assumed"),
        (o.blocked, "blocked"),
    ] {
        if flag {
            words.push(word.into());
        }
    }
    if o.until != 0 {
        words.push(format!("until={}", until_label(o.until)));
    }
    if why {
        // the variant's name only: its fields are in the wording explain tests
        let name = format!("{:?}", o.why);
        let name = name.split([' ', '{', '(']).next().unwrap_or_default();
        words.push(format!("why={name}"));
    }
    words.join(" ")
}

fn day_label(day: i32) -> String {
    crate::calendar::date_from_days(day).to_string()
}

/// `MM-DDTHH:MM`, with `:SS` when not on a minute: an end is a day or so after its message.
fn until_label(at: i64) -> String {
    let t = chrono::DateTime::from_timestamp_micros(at).expect("an instant");
    t.format(if at % 60_000_000 == 0 {
        "%m-%dT%H:%M"
    } else {
        "%m-%dT%H:%M:%S%.f"
    })
    .to_string()
}

/// A table row: at, contact, direction, kind (as in `Script::table`), then the outcome expected.
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// Replays the rows through `model`'s engine and compares every outcome with its row's.
pub fn check(model: &Model, rows: &[Row]) {
    check_as_of(model, None, rows)
}

/// `check` with `--as-of DAY` (YYYY-MM-DD).
pub fn check_as_of(model: &Model, as_of: Option<&str>, rows: &[Row]) {
    let script = Script::table(
        &(rows.iter())
            .map(|r| (r.0, r.1, r.2, r.3))
            .collect::<Vec<_>>(),
    );
    let as_of = as_of.map(|d| {
        let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a YYYY-MM-DD date");
        crate::calendar::days_since_epoch(date)
    });
    let outcomes = replay(model, as_of, script.events());
    // Both sides as one table, so that a failure shows every row, the differing ones marked.
    let (mut expected, mut actual) = (String::new(), String::new());
    for ((ev, o), r) in script.events().iter().zip(&outcomes).zip(rows) {
        let want = r.4.split_whitespace().collect::<Vec<_>>().join(" ");
        let got = describe(ev, o, want.contains("why="));
        let row = format!("{} {} {} {:?}", r.0, r.1, r.2, r.3);
        let mark = if want == got { " " } else { ">" };
        expected.push_str(&format!("{mark} {row:<32} {want}\n"));
        actual.push_str(&format!("{mark} {row:<32} {got}\n"));
    }
    assert_eq!(
        actual, expected,
        "outcomes (left) differ from the table (right)"
    );
}
