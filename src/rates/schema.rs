//! The keys a model file may hold (docs/billing-rules.md §1: an unknown key or section is an error, never a
//! silent change of money). Serde structs with `deny_unknown_fields` list the top-level keys and
//! `[monthly]`'s, whose values `model.rs` then reads with its own messages; the sections a
//! channel's rules own are serde structs of the channel's module (src/channel), read with
//! `setting::read`, which names the closest known key the same way. Which rules read which keys
//! is the registry's (`RuleDef::keys`).

use crate::error::{Error, Result};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use toml::{Table, Value};

type Any = Option<IgnoredAny>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Top {
    name: Any,
    channel: Any,
    rules: Any,
    currency: Any,
    prices: Any,
    markets: Any,
    tiers: Any,
    default_category: Any,
    optional: Any,
    session: Any,
    window: Any,
    monthly: Any,
    conversation: Any,
    era: Any,
    international: Any,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Monthly {
    fee: Any,
    fee_kind: Any,
    fee_by_country: Any,
    free_business_initiated: Any,
    minimum_from_month: Any,
}

/// Every top-level and `[monthly]` key of the model file is one `model.rs` reads (the
/// channels' sections are their rules' serde structs, src/channel); else a rates error naming the file,
/// the key with its section, and the closest known key.
pub fn check_keys(file: &str, t: &Table) -> Result<()> {
    check::<Top>(file, "", t)?;
    // A section of the wrong type is reported by model.rs ("expected a table"); the channels'
    // sections are checked by the serde structs of their rules (src/channel).
    if let Some(Value::Table(s)) = t.get("monthly") {
        check::<Monthly>(file, "monthly.", s)?;
    }
    check_used(file, t)
}

/// Keys that only some rules read; which rules read each is the channel registry's
/// (`RuleDef::keys`, src/channel): under other rules the key would be ignored, which is a
/// silent change of money too.
const RULE_KEYS: [&str; 8] = [
    "session",
    "international",
    "window",
    "conversation",
    "era",
    "markets",
    "tiers",
    "monthly.free_business_initiated",
];

/// Every key present is read by the model's rules (an unknown `rules` is left to model.rs).
fn check_used(file: &str, t: &Table) -> Result<()> {
    let Some(Value::String(rules)) = t.get("rules") else {
        return Ok(());
    };
    let Some((_, own)) = crate::channel::rules_named(rules) else {
        return Ok(());
    };
    for path in RULE_KEYS {
        let present = match path.split_once('.') {
            Some((section, key)) => t
                .get(section)
                .and_then(Value::as_table)
                .is_some_and(|s| s.contains_key(key)),
            None => t.contains_key(path),
        };
        if present && !own.keys.contains(&path) {
            let readers: Vec<_> = (crate::channel::CHANNELS.iter())
                .flat_map(|c| c.rules.iter())
                .filter(|r| r.keys.contains(&path))
                .map(|r| r.name)
                .collect();
            return Err(Error::Rates {
                file: file.to_string(),
                line: 0,
                msg: format!(
                    "{path}: not read by rules {rules}, only by {} (remove it, or change rules)",
                    readers.join(", ")
                ),
            });
        }
    }
    Ok(())
}

fn check<T: DeserializeOwned>(file: &str, section: &str, t: &Table) -> Result<()> {
    let Err(e) = Value::Table(t.clone()).try_into::<T>() else {
        return Ok(());
    };
    let msg = e.message().trim().to_string();
    let Some((key, known)) = unknown_field(&msg) else {
        return Err(Error::Rates {
            file: file.to_string(),
            line: 0,
            msg: format!("{}: {msg}", section.trim_end_matches('.')),
        });
    };
    let what = match t.get(&key) {
        Some(Value::Table(_)) => "unknown section",
        Some(Value::Array(a)) if a.iter().all(Value::is_table) && !a.is_empty() => {
            "unknown section"
        }
        _ => "unknown key",
    };
    let hint = match closest(&key, &known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("known: {}", known.join(", ")),
    };
    Err(Error::Rates {
        file: file.to_string(),
        line: 0,
        msg: format!("{section}{}: {what}; {hint}", shown(&key)),
    })
}

/// For serde's "unknown field" message, the hint that follows "unknown key; " (the closest
/// known key, or every known one).
pub(super) fn unknown_key(msg: &str) -> Option<String> {
    let (key, known) = unknown_field(msg)?;
    Some(match closest(&key, &known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("known: {}", known.join(", ")),
    })
}

/// The key a user wrote, escaped (a TOML key may be any quoted string) and cut short.
fn shown(key: &str) -> String {
    let s: String = key.escape_debug().collect();
    if s.chars().count() > 60 {
        s.chars().take(60).collect::<String>() + "..."
    } else {
        s
    }
}

/// The unknown key and the known ones from serde's message
/// "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (key, rest) = rest
        .rsplit_once(", expected")
        .or(rest.rsplit_once(", there are"))?;
    let key = key.strip_suffix('`')?;
    let known = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    Some((key.to_string(), known))
}

/// The known key nearest to `key`: at most 2 edits (a transposition is one), and fewer than
/// a third of the key's length, so that unrelated short keys are not offered.
fn closest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), k))
        .filter(|&(d, k)| d <= 2 && d * 3 <= k.chars().count().max(3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k.as_str())
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions (`buisness` is one edit from `business`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let t: Table = text.parse().unwrap();
        check_keys("m.toml", &t).err().unwrap().to_string()
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("monthy", "monthly"), 1);
        assert_eq!(edit_distance("fee_knd", "fee_kind"), 1);
        assert_eq!(
            edit_distance("free_buisness_initiated", "free_business_initiated"),
            1
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_sections_and_keys_name_the_closest_known_key() {
        assert_eq!(
            err("name = \"m\"\n[monthy]\nfee = \"100\"\n"),
            "m.toml: monthy: unknown section; did you mean `monthly`?"
        );
        assert_eq!(
            err("[monthly]\nfee = \"100\"\nfee_knd = \"flat\"\n"),
            "m.toml: monthly.fee_knd: unknown key; did you mean `fee_kind`?"
        );
        assert_eq!(
            err("[monthly]\nfree_buisness_initiated = 10000\n"),
            "m.toml: monthly.free_buisness_initiated: unknown key; \
             did you mean `free_business_initiated`?"
        );
        assert_eq!(
            err("nmae = \"m\"\n"),
            "m.toml: nmae: unknown key; did you mean `name`?"
        );
    }

    #[test]
    fn keys_the_rules_do_not_read_are_errors() {
        assert_eq!(
            err("rules = \"whatsapp-session\"\n[session]\nhours = 12\n"),
            "m.toml: session: not read by rules whatsapp-session, only by viber (remove it, or \
             change rules)"
        );
        assert_eq!(
            err("rules = \"viber\"\n[window]\nhours = 12\n"),
            "m.toml: window: not read by rules viber, only by whatsapp-session, whatsapp-meta \
             (remove it, or change rules)"
        );
        assert_eq!(
            err("rules = \"whatsapp-meta\"\n[monthly]\nfree_business_initiated = 5\n"),
            "m.toml: monthly.free_business_initiated: not read by rules whatsapp-meta, only by \
             viber, whatsapp-session (remove it, or change rules)"
        );
        let t: Table = "rules = \"whatsapp-meta\"\nmarkets = \"m.csv\"\n[window]\nhours = 1\n\
                        [monthly]\nfee = \"1\"\n"
            .parse()
            .unwrap();
        assert!(check_keys("m.toml", &t).is_ok());
    }

    #[test]
    fn known_keys_and_country_fees_pass() {
        let t: Table =
            "name = \"m\"\n[monthly]\nfee = \"1\"\n[monthly.fee_by_country]\nUA = \"2\"\n"
                .parse()
                .unwrap();
        assert!(check_keys("m.toml", &t).is_ok());
    }
}
