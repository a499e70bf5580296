use super::card::PriceCard;
use super::fx::{Conversion, FxTable};
use super::meta::{card_currencies, LocalCard, Markets, MetaCard, MetaSpec, MetaTiers};
use super::table::{check_money, MAX_FEE};
use super::RateSource;
use crate::channel::{CardKind, Settings};
use crate::error::{Error, Result};
use crate::event::{Category, Country};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use toml::{Table, Value};

pub use crate::channel::{AfterCap, Channel, OnLimit, Rules, SessionParams};

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

        // The channel's own sections, read by its rules (src/channel).
        let settings = (rules.settings)(&file, &Value::Table(t.clone()))?;
        let monthly = monthly(&k, &t)?;

        let card_file = source.display(&prices);
        let card_text = source.read(&prices)?;
        let card = match rules.card {
            CardKind::Meta => Card::Meta(meta_spec(
                &k, &t, source, &card_file, &card_text, &currency, &settings,
            )?),
            CardKind::Country => Card::Country(PriceCard::parse_with(
                &card_file,
                &card_text,
                rules.price_columns(),
                &["international"],
            )?),
        };
        let international = international(&k, settings.international_from, &card, &card_file)?;
        let optional = k.boolean(&t, "optional", "optional")?.unwrap_or(false);

        Ok(Model {
            name,
            file,
            channel,
            rules,
            currency,
            default_category,
            session: settings.session,
            window_hours: settings.window_hours,
            monthly,
            card,
            international,
            optional,
        })
    }
}

/// `[international] registered_from` (read by the viber rules, src/channel/viber.rs), with
/// the card's `international` column, which it needs (a card without one would leave every
/// international message unpriced without a word).
fn international(
    k: &Keys,
    registered_from: Option<NaiveDate>,
    card: &Card,
    card_file: &str,
) -> Result<Option<International>> {
    let Some(registered_from) = registered_from else {
        return Ok(None);
    };
    let column = match card {
        Card::Country(c) => c.column("international"),
        Card::Meta(_) => None,
    }
    .ok_or_else(|| {
        k.err(
            "international.registered_from",
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
    settings: &Settings,
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
    // Tiers switched on by an era but no tier card: every message would silently get its list
    // rate.
    if tiers.is_none() {
        if let Some(i) = settings.eras.iter().position(|e| e.volume_tiers) {
            return Err(k.err(
                &format!("era[{i}].volume_tiers"),
                "needs a tier card: the `tiers` key (e.g. whatsapp-meta-tiers.csv)",
            ));
        }
    }
    let mut eras = settings.eras.clone();
    eras.sort_by_key(|e| e.from_day);
    Ok(MetaSpec {
        locals,
        markets,
        card,
        usd,
        tiers,
        eras,
        conversation_hours: settings.conversation_hours,
    })
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
            "m.toml: era[0].marketing_paused[0]: not an ISO country code (USA)"
        );
        assert_eq!(
            meta_error("", "marketing_paused = \"US\""),
            "m.toml: era[0].marketing_paused: invalid type: string \"US\", expected a sequence"
        );
        assert_eq!(
            meta_error("", "free_tier_per = \"number\""),
            "m.toml: era[0].free_tier_per: unknown variant `number`, expected `account` or `business-number`"
        );
        assert_eq!(
            meta_error("", "free_tier_per = \"business-number\""),
            "loaded"
        );
        assert_eq!(
            meta_error("", "pricng = \"category\""),
            "m.toml: era[0].pricng: unknown key; did you mean `pricing`?"
        );
        assert_eq!(
            meta_error("[window]\nhours = 24\nlength = 3", ""),
            "m.toml: window.length: unknown key; known: hours"
        );
        assert_eq!(
            meta_error("", "free_entry_point_hours = 0"),
            "m.toml: era[0].free_entry_point_hours: must be at least 1 (0)"
        );
    }
}
