use super::card::PriceCard;
use super::fx::{Conversion, FxTable};
use super::meta::{
    card_currencies, Era, FreeTierCounts, LocalCard, Markets, MetaCard, MetaSpec, MetaTiers,
    Pricing,
};
use super::table::{check_money, MAX_FEE};
use super::RateSource;
use crate::channel::CardKind;
use crate::error::{Error, Result};
use crate::event::{Category, Country};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use toml::{Table, Value};

pub use crate::channel::{Channel, Rules};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterCap {
    /// The session is over; the next one needs a customer message.
    End,
    /// A new session starts at the message over the cap.
    NewSession,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnLimit {
    /// Bill the message Viber rejects as a business-initiated message.
    BusinessInitiated,
    /// Count it and bill nothing.
    Drop,
}

#[derive(Clone, Debug)]
pub struct SessionParams {
    pub hours: i64,
    pub max_messages: u32,
    pub after_cap: AfterCap,
    pub max_consecutive: u32,
    pub on_consecutive_limit: OnLimit,
    /// Whether a session costs the country's session rate (at its first business message).
    pub charged: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeKind {
    /// Added every active month.
    Flat,
    /// The account pays max(spend, fee).
    Minimum,
}

#[derive(Clone, Debug, Default)]
pub struct Monthly {
    pub fee: Option<Decimal>,
    pub fee_kind: Option<FeeKind>,
    pub fee_by_country: BTreeMap<Country, Decimal>,
    pub free_business_initiated: u64,
    /// The account's active month (1 = its first in the log) from which a minimum commitment
    /// applies; earlier months pay only their spend (tyntec: 2). 1 when not given.
    pub minimum_from_month: u32,
}

impl Monthly {
    /// The fee an account pays when its country is `c` (`None`: the default tier).
    pub fn fee_for(&self, c: Option<Country>) -> Option<Decimal> {
        c.and_then(|c| self.fee_by_country.get(&c).copied())
            .or(self.fee)
    }
}

/// A model's prices: by country (Viber, whatsapp-session) or by Meta market and era.
pub enum Card {
    Country(PriceCard),
    Meta(MetaSpec),
}

/// One commercial model: its rules, parameters and price card.
pub struct Model {
    pub name: String,
    pub file: String,
    pub channel: Channel,
    pub rules: Rules,
    pub currency: String,
    pub default_category: Category,
    pub session: SessionParams,
    /// The WhatsApp customer service window, in hours.
    pub window_hours: i64,
    pub monthly: Monthly,
    pub card: Card,
    /// Viber `[international]`: accounts registered from a date pay international rates
    /// outside their home country (docs/billing-rules.md#viber-domestic-and-international).
    pub international: Option<International>,
    /// `optional = true`: replayed only when named (`--model`, `--channel`), not by default.
    pub optional: bool,
}

/// `[international]` of a Viber model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct International {
    /// Accounts registered on or after this date are billed international rates.
    pub registered_from: NaiveDate,
    /// The card's `international` column (index into its columns).
    pub column: usize,
}

/// Hours of a session, window or conversation: up to a leap year.
const HOURS: (i64, i64) = (1, 366 * 24);
/// Session message caps.
const COUNT: (i64, i64) = (1, 1_000_000);
/// Free messages or conversations a month.
const FREE: (i64, i64) = (0, 1_000_000_000);
/// `minimum_from_month`: from the first active month to 10 years of them (no source waives
/// more than a first month; the bound catches a typo such as 20 for 2).
const FROM_MONTH: (i64, i64) = (1, 120);

struct Keys<'a> {
    file: &'a str,
}

impl Keys<'_> {
    fn err(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::Rates {
            file: self.file.to_string(),
            line: 0,
            msg: format!("{key}: {}", msg.into()),
        }
    }

    fn string(&self, t: &Table, key: &str, path: &str) -> Result<Option<String>> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.err(path, format!("expected a string, found {}", v.type_str()))),
        }
    }

    fn required(&self, t: &Table, key: &str) -> Result<String> {
        self.string(t, key, key)?
            .ok_or_else(|| self.err(key, "missing (required)"))
    }

    /// An integer from `min` to `max` (the documented ranges of rates/README.md: a larger
    /// value would overflow a time or wrap when narrowed).
    fn integer(
        &self,
        t: &Table,
        key: &str,
        path: &str,
        (min, max): (i64, i64),
    ) -> Result<Option<i64>> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) if *i < min => {
                Err(self.err(path, format!("must be at least {min} ({i})")))
            }
            Some(Value::Integer(i)) if *i > max => {
                Err(self.err(path, format!("must be at most {max} ({i})")))
            }
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(v) => Err(self.err(path, format!("expected an integer, found {}", v.type_str()))),
        }
    }

    fn boolean(&self, t: &Table, key: &str, path: &str) -> Result<Option<bool>> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => Err(self.err(
                path,
                format!("expected true or false, found {}", v.type_str()),
            )),
        }
    }

    /// A monthly fee: a decimal string or an integer, never a float (floats cannot hold 0.0276
    /// exactly), within the documented range (rates/README.md).
    fn fee(&self, v: &Value, path: &str) -> Result<Decimal> {
        let d = match v {
            Value::String(s) => s
                .trim()
                .parse::<Decimal>()
                .map_err(|_| self.err(path, format!("not a decimal number ({s})")))?,
            Value::Integer(i) => Decimal::from(*i),
            Value::Float(f) => {
                return Err(self.err(
                    path,
                    format!("write money as a decimal string, e.g. \"{f}\""),
                ))
            }
            v => {
                return Err(self.err(
                    path,
                    format!("expected a decimal string, found {}", v.type_str()),
                ))
            }
        };
        check_money(d, MAX_FEE, "a monthly fee")
            .map_err(|m| self.err(path, format!("{m} ({d})")))?;
        Ok(d)
    }

    fn table<'t>(&self, t: &'t Table, key: &str) -> Result<Option<&'t Table>> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::Table(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(key, format!("expected a table, found {}", v.type_str()))),
        }
    }
}

impl Model {
    pub fn load(source: &RateSource, file_name: &str) -> Result<Model> {
        let file = source.display(file_name);
        let text = source.read(file_name)?;
        let k = Keys { file: &file };
        let t: Table = text.parse().map_err(|e: toml::de::Error| Error::Rates {
            file: file.clone(),
            // The line of the error's first byte.
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1)
                .unwrap_or(0),
            msg: format!("not valid TOML: {}", e.message().trim()),
        })?;
        super::schema::check_keys(&file, &t)?;

        let name = k.required(&t, "name")?;
        let (channel, rules) = channel_and_rules(&k, &t)?;
        let currency = k.required(&t, "currency")?;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(k.err("currency", format!("not an ISO 4217 code ({currency})")));
        }
        let prices = k.required(&t, "prices")?;
        let default_category = match k.string(&t, "default_category", "default_category")? {
            None => Category::Marketing,
            Some(s) => Category::parse(&s)
                .ok_or_else(|| k.err("default_category", format!("unknown category ({s})")))?,
        };

        let session = session_params(&k, &t)?;
        let w = k.table(&t, "window")?.cloned().unwrap_or_default();
        let window_hours = k.integer(&w, "hours", "window.hours", HOURS)?.unwrap_or(24);

        let monthly = monthly(&k, &t)?;

        let card_file = source.display(&prices);
        let card_text = source.read(&prices)?;
        let card = match rules.card {
            CardKind::Meta => Card::Meta(meta_spec(
                &k, &t, source, &card_file, &card_text, &currency,
            )?),
            CardKind::Country => Card::Country(PriceCard::parse_with(
                &card_file,
                &card_text,
                rules.price_columns(),
                &["international"],
            )?),
        };
        let international = international(&k, &t, &card, &card_file)?;
        let optional = k.boolean(&t, "optional", "optional")?.unwrap_or(false);

        Ok(Model {
            name,
            file,
            channel,
            rules,
            currency,
            default_category,
            session,
            window_hours,
            monthly,
            card,
            international,
            optional,
        })
    }
}

/// `[international] registered_from` (viber rules only: schema.rs), with the card's
/// `international` column, which it needs (a card without one would leave every
/// international message unpriced without a word).
fn international(
    k: &Keys,
    t: &Table,
    card: &Card,
    card_file: &str,
) -> Result<Option<International>> {
    let Some(s) = k.table(t, "international")? else {
        return Ok(None);
    };
    let path = "international.registered_from";
    let d = k
        .string(s, "registered_from", path)?
        .ok_or_else(|| k.err(path, "missing (required in [international])"))?;
    let registered_from = NaiveDate::parse_from_str(&d, "%Y-%m-%d")
        .map_err(|_| k.err(path, format!("not a YYYY-MM-DD date ({d})")))?;
    let column = match card {
        Card::Country(c) => c.column("international"),
        Card::Meta(_) => None,
    }
    .ok_or_else(|| {
        k.err(
            path,
            format!("the prices file {card_file} has no international column"),
        )
    })?;
    Ok(Some(International {
        registered_from,
        column,
    }))
}

/// `channel` and `rules`, and that the rules belong to the channel (the registry's,
/// src/channel).
fn channel_and_rules(k: &Keys, t: &Table) -> Result<(Channel, Rules)> {
    let name = k.required(t, "channel")?;
    let channel = crate::channel::named(&name).ok_or_else(|| {
        let names = crate::channel::CHANNELS.iter().map(|c| c.name);
        k.err(
            "channel",
            format!(
                "unknown channel ({name}); use {}",
                crate::channel::listed(names)
            ),
        )
    })?;
    let name = k.required(t, "rules")?;
    let (expected_channel, rules) = crate::channel::rules_named(&name).ok_or_else(|| {
        let names = crate::channel::listed(crate::channel::all_rules());
        k.err("rules", format!("unknown rules ({name}); use {names}"))
    })?;
    if channel != expected_channel {
        return Err(k.err(
            "rules",
            format!(
                "rules {:?} do not belong to channel {}",
                rules,
                channel.name()
            ),
        ));
    }
    Ok((channel, rules))
}

/// The `[session]` parameters (Viber), defaults where absent.
fn session_params(k: &Keys, t: &Table) -> Result<SessionParams> {
    let s = k.table(t, "session")?.cloned().unwrap_or_default();
    Ok(SessionParams {
        hours: k
            .integer(&s, "hours", "session.hours", HOURS)?
            .unwrap_or(24),
        max_messages: k
            .integer(&s, "max_messages", "session.max_messages", COUNT)?
            .unwrap_or(60) as u32,
        after_cap: match k.string(&s, "after_cap", "session.after_cap")?.as_deref() {
            None | Some("end") => AfterCap::End,
            Some("new-session") => AfterCap::NewSession,
            Some(o) => {
                return Err(k.err("session.after_cap", format!("use end or new-session ({o})")))
            }
        },
        max_consecutive: k
            .integer(&s, "max_consecutive", "session.max_consecutive", COUNT)?
            .unwrap_or(5) as u32,
        on_consecutive_limit: match k
            .string(&s, "on_consecutive_limit", "session.on_consecutive_limit")?
            .as_deref()
        {
            Some("business-initiated") => OnLimit::BusinessInitiated,
            // Viber rejects the message: not delivered, not billed (docs/billing-rules.md#viber-in-a-row).
            None | Some("drop") => OnLimit::Drop,
            Some(o) => {
                return Err(k.err(
                    "session.on_consecutive_limit",
                    format!("use business-initiated or drop ({o})"),
                ))
            }
        },
        charged: k.boolean(&s, "charged", "session.charged")?.unwrap_or(true),
    })
}

/// `[monthly]`: fee, fee kind (flat when a fee is given without one), fee per country and
/// the free allowance.
fn monthly(k: &Keys, t: &Table) -> Result<Monthly> {
    let m = k.table(t, "monthly")?.cloned().unwrap_or_default();
    let mut monthly = Monthly {
        fee: m.get("fee").map(|v| k.fee(v, "monthly.fee")).transpose()?,
        fee_kind: match k.string(&m, "fee_kind", "monthly.fee_kind")?.as_deref() {
            None => None,
            Some("flat") => Some(FeeKind::Flat),
            Some("minimum") => Some(FeeKind::Minimum),
            Some(o) => return Err(k.err("monthly.fee_kind", format!("use flat or minimum ({o})"))),
        },
        fee_by_country: BTreeMap::new(),
        free_business_initiated: k
            .integer(
                &m,
                "free_business_initiated",
                "monthly.free_business_initiated",
                FREE,
            )?
            .unwrap_or(0) as u64,
        minimum_from_month: 1,
    };
    if let Some(by) = k.table(&m, "fee_by_country")? {
        for (cc, v) in by {
            let path = format!("monthly.fee_by_country.{cc}");
            let c = Country::parse(cc).ok_or_else(|| k.err(&path, "not an ISO country code"))?;
            monthly.fee_by_country.insert(c, k.fee(v, &path)?);
        }
    }
    if (monthly.fee.is_some() || !monthly.fee_by_country.is_empty()) && monthly.fee_kind.is_none() {
        monthly.fee_kind = Some(FeeKind::Flat);
    }
    let path = "monthly.minimum_from_month";
    if let Some(n) = k.integer(&m, "minimum_from_month", path, FROM_MONTH)? {
        // A flat fee has no spend to fall back on: waiving it would be a free first month,
        // which no source offers, so the key is a mistake there rather than ignored.
        if monthly.fee_kind != Some(FeeKind::Minimum) {
            return Err(k.err(path, format!("only with fee_kind = \"minimum\" ({n})")));
        }
        monthly.minimum_from_month = n as u32;
    }
    Ok(monthly)
}

/// The `markets` file, `[conversation]` and the `[[era]]` list of a whatsapp-meta model.
fn meta_spec(
    k: &Keys,
    t: &Table,
    source: &RateSource,
    card_file: &str,
    card_text: &str,
    currency: &str,
) -> Result<MetaSpec> {
    let markets_name = k.required(t, "markets")?;
    let markets = Markets::parse(&source.display(&markets_name), &source.read(&markets_name)?)?;
    let card = MetaCard::parse(card_file, card_text, currency)?;
    let usd = usd_fallback(source, card_file, card_text, currency)?;
    let locals = local_cards(source, card_file, card_text, currency)?;
    let tiers = match k.string(t, "tiers", "tiers")? {
        Some(name) => {
            let text = source.read(&name)?;
            let mut tiers = MetaTiers::parse(&source.display(&name), &text, currency)?;
            tiers.resolve(&markets);
            Some(tiers)
        }
        None => None,
    };
    let c = k.table(t, "conversation")?.cloned().unwrap_or_default();
    let conversation_hours = k
        .integer(&c, "hours", "conversation.hours", HOURS)?
        .unwrap_or(24);
    let list = match t.get("era") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(v) if !v.is_array() => {
            return Err(k.err(
                "era",
                format!("expected [[era]] tables, found {}", v.type_str()),
            ))
        }
        _ => {
            return Err(k.err(
                "era",
                "missing: a whatsapp-meta model needs at least one [[era]]",
            ))
        }
    };
    let mut eras = Vec::new();
    for (i, v) in list.iter().enumerate() {
        eras.push(era(k, i, v)?);
    }
    eras.sort_by_key(|e| e.from_day);
    // Tiers switched on by an era but no tier card: every message would silently get its list
    // rate.
    if tiers.is_none() {
        if let Some(i) = eras.iter().position(|e| e.volume_tiers) {
            return Err(k.err(
                &format!("era[{i}].volume_tiers"),
                "needs a tier card: the `tiers` key (e.g. whatsapp-meta-tiers.csv)",
            ));
        }
    }
    Ok(MetaSpec {
        locals,
        markets,
        card,
        usd,
        tiers,
        eras,
        conversation_hours,
    })
}

/// The `i`-th `[[era]]` of a whatsapp-meta model.
fn era(k: &Keys, i: usize, v: &Value) -> Result<Era> {
    let path = |key: &str| format!("era[{i}].{key}");
    let Value::Table(e) = v else {
        return Err(k.err(&format!("era[{i}]"), "expected a table"));
    };
    let from_s = k
        .string(e, "from", &path("from"))?
        .ok_or_else(|| k.err(&path("from"), "missing (required)"))?;
    let from = NaiveDate::parse_from_str(&from_s, "%Y-%m-%d")
        .map_err(|_| k.err(&path("from"), format!("not a YYYY-MM-DD date ({from_s})")))?;
    let (pricing, free_tier_counts) = era_pricing(k, e, &path)?;
    let (auth_intl, threshold) = authentication_international(k, e, &path)?;
    let free_tier_per_number = match k
        .string(e, "free_tier_per", &path("free_tier_per"))?
        .as_deref()
    {
        None | Some("account") => false,
        Some("business-number") => true,
        Some(o) => {
            return Err(k.err(
                &path("free_tier_per"),
                format!("use account or business-number ({o})"),
            ))
        }
    };
    Ok(Era {
        free_entry_point_hours: k
            .integer(
                e,
                "free_entry_point_hours",
                &path("free_entry_point_hours"),
                HOURS,
            )?
            .unwrap_or(0) as u32,
        free_tier_per_number,
        marketing_paused: paused(k, e, &path("marketing_paused"))?,
        volume_tiers: k
            .boolean(e, "volume_tiers", &path("volume_tiers"))?
            .unwrap_or(false),
        authentication_international: auth_intl,
        authentication_international_threshold: threshold,
        from,
        from_day: crate::calendar::days_since_epoch(from),
        pricing,
        free_tier: k
            .integer(e, "free_tier", &path("free_tier"), FREE)?
            .unwrap_or(0) as u32,
        free_tier_counts,
        service_free: k
            .boolean(e, "service_free", &path("service_free"))?
            .unwrap_or(false),
        utility_in_window_free: k
            .boolean(e, "utility_in_window_free", &path("utility_in_window_free"))?
            .unwrap_or(false),
        service_charged: k
            .boolean(e, "service_charged", &path("service_charged"))?
            .unwrap_or(false),
    })
}

/// An era's `pricing` (required) and `free_tier_counts` (optional), by their words.
fn era_pricing(
    k: &Keys,
    e: &Table,
    path: &dyn Fn(&str) -> String,
) -> Result<(Pricing, Option<FreeTierCounts>)> {
    let pricing = match k.string(e, "pricing", &path("pricing"))?.as_deref() {
        Some("conversation") => Pricing::Conversation,
        Some("category") => Pricing::Category,
        Some("per-message") => Pricing::PerMessage,
        other => {
            return Err(k.err(
                &path("pricing"),
                format!(
                    "use conversation, category or per-message ({})",
                    other.unwrap_or("missing")
                ),
            ))
        }
    };
    let free_tier_counts = match k
        .string(e, "free_tier_counts", &path("free_tier_counts"))?
        .as_deref()
    {
        None => None,
        Some("conversations") => Some(FreeTierCounts::Conversations),
        Some("service-conversations") => Some(FreeTierCounts::ServiceConversations),
        Some("service-messages") => Some(FreeTierCounts::ServiceMessages),
        Some(o) => {
            return Err(k.err(
                &path("free_tier_counts"),
                format!("use conversations, service-conversations or service-messages ({o})"),
            ))
        }
    };
    Ok((pricing, free_tier_counts))
}

/// A model in another currency than USD: the USD cards of the same prices CSV, converted with
/// the latest rates of the directory's fx.csv (as `--fx-date` does by default), for what the
/// local-currency card does not price. `None` for a USD model, or without a rate (those
/// messages are then unpriced, as before).
fn usd_fallback(
    source: &RateSource,
    card_file: &str,
    card_text: &str,
    currency: &str,
) -> Result<Option<Box<(MetaCard, Conversion)>>> {
    if currency == "USD" || !source.has(super::FX_FILE) {
        return Ok(None);
    }
    let fx = FxTable::parse(
        &source.display(super::FX_FILE),
        &source.read(super::FX_FILE)?,
    )?;
    fx.conversion("USD", currency, None)
        .map(|c| Ok(Box::new((MetaCard::parse(card_file, card_text, "USD")?, c))))
        .transpose()
}

/// The cards of the prices CSV's other currencies, each with the latest rates of the rate
/// directory's fx.csv into the model's currency (as `--fx-date`'s default); a currency fx.csv
/// cannot convert has no card here (its accounts are priced from the model's card).
fn local_cards(
    source: &RateSource,
    card_file: &str,
    card_text: &str,
    currency: &str,
) -> Result<Vec<LocalCard>> {
    if !source.has(super::FX_FILE) {
        return Ok(Vec::new());
    }
    let fx = FxTable::parse(
        &source.display(super::FX_FILE),
        &source.read(super::FX_FILE)?,
    )?;
    let mut locals = Vec::new();
    for c in card_currencies(card_file, card_text)? {
        if c == currency {
            continue;
        }
        if let Some(to_model) = fx.conversion(&c, currency, None) {
            let card = MetaCard::parse(card_file, card_text, &c)?;
            locals.push(LocalCard {
                currency: c,
                card,
                to_model,
            });
        }
    }
    Ok(locals)
}

/// `marketing_paused`: ISO country codes whose numbers get no marketing templates.
fn paused(k: &Keys, e: &Table, path: &str) -> Result<Vec<Country>> {
    let Some(v) = e.get("marketing_paused") else {
        return Ok(Vec::new());
    };
    let Value::Array(a) = v else {
        return Err(k.err(
            path,
            format!("expected a list of country codes, found {}", v.type_str()),
        ));
    };
    a.iter()
        .map(|c| match c {
            Value::String(s) => Country::parse(s)
                .ok_or_else(|| k.err(path, format!("not an ISO country code ({s})"))),
            v => Err(k.err(
                path,
                format!("expected a country code, found {}", v.type_str()),
            )),
        })
        .collect()
}

/// `authentication_international` and its `authentication_international_threshold`: the rate
/// is applied only with Meta's threshold written beside it, so the assumption that the
/// business is above it is explicit in the model file.
fn authentication_international(
    k: &Keys,
    e: &Table,
    path: &dyn Fn(&str) -> String,
) -> Result<(bool, Option<u64>)> {
    let on = k
        .boolean(
            e,
            "authentication_international",
            &path("authentication_international"),
        )?
        .unwrap_or(false);
    let key = "authentication_international_threshold";
    let threshold = k.integer(e, key, &path(key), FREE)?.map(|n| n as u64);
    if on && threshold.is_none() {
        return Err(k.err(
            &path("authentication_international"),
            format!("needs `{key}` (Meta's eligibility threshold, e.g. 750000)"),
        ));
    }
    Ok((on, threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of loading a whatsapp-meta model whose one era has `era` keys.
    fn meta_error(top: &str, era: &str) -> String {
        let toml = format!(
            "name = \"m\"\nchannel = \"whatsapp\"\nrules = \"whatsapp-meta\"\ncurrency = \"USD\"\n\
             prices = \"p.csv\"\nmarkets = \"k.csv\"\n{top}\n[[era]]\nfrom = \"2025-07-01\"\n\
             pricing = \"per-message\"\n{era}\n"
        );
        let files = [
            ("m.toml", toml),
            ("p.csv", "effective_from,market,currency,business_initiated,user_initiated,marketing,utility,authentication,service\n".into()),
            ("k.csv", "country,market,from,to\n".into()),
            ("t.csv", "effective_from,market,currency,category,volume_from,volume_to,rate\n".into()),
        ];
        let source = RateSource::Memory(files.into_iter().map(|(n, t)| (n.into(), t)).collect());
        match Model::load(&source, "m.toml") {
            Ok(_) => "loaded".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn issue_20_era_keys_are_checked() {
        assert_eq!(
            meta_error("", "volume_tiers = true"),
            "m.toml: era[0].volume_tiers: needs a tier card: the `tiers` key (e.g. whatsapp-meta-tiers.csv)"
        );
        assert_eq!(
            meta_error("tiers = \"t.csv\"", "volume_tiers = true"),
            "loaded"
        );
        assert_eq!(
            meta_error("", "authentication_international = true"),
            "m.toml: era[0].authentication_international: needs \
             `authentication_international_threshold` (Meta's eligibility threshold, e.g. 750000)"
        );
        assert_eq!(
            meta_error("", "marketing_paused = [\"USA\"]"),
            "m.toml: era[0].marketing_paused: not an ISO country code (USA)"
        );
        assert_eq!(
            meta_error("", "marketing_paused = \"US\""),
            "m.toml: era[0].marketing_paused: expected a list of country codes, found string"
        );
        assert_eq!(
            meta_error("", "free_tier_per = \"number\""),
            "m.toml: era[0].free_tier_per: use account or business-number (number)"
        );
        assert_eq!(
            meta_error("", "free_tier_per = \"business-number\""),
            "loaded"
        );
        assert_eq!(
            meta_error("", "free_entry_point_hours = 0"),
            "m.toml: era[0].free_entry_point_hours: must be at least 1 (0)"
        );
    }
}
