//! WhatsApp: the customer service window, priced by session (whatsapp-session) or by Meta's
//! market cards (whatsapp-meta) (docs/billing-rules.md, WhatsApp).

use super::{CardKind, ChannelDef, RuleDef, Settings};
use crate::engine::{Charge, Engine, WhatsAppMetaEngine, WhatsAppSessionEngine};
use crate::error::{Error, Result};
use crate::rates::meta::{Era, FreeTierCounts, Pricing};
use crate::rates::setting::{self, CountryCode, Date, Free, Hours};
use crate::rates::{Card, Model};
use serde::Deserialize;

pub static CHANNEL: ChannelDef = ChannelDef {
    name: "whatsapp",
    rules: &[&SESSION, &META],
    table_count: Some(("outside window", |s| s.outside_window)),
    warn_outside_window: true,
    unread_columns: &[],
    advise_sessions: false,
};

static SESSION: RuleDef = RuleDef {
    name: "whatsapp-session",
    card: CardKind::Country,
    price_columns: &["user_initiated", "business_initiated"],
    session_column: 0,     // user_initiated
    message_column: |_| 1, // business_initiated
    engine: session_engine,
    same_engine: |a, b| a.window_hours == b.window_hours,
    settings: session_settings,
    keys: &["window", "monthly.free_business_initiated"],
    cards_default_countries: false,
    session_vs_message: false,
    charged_for_lateness: |o| o.charge != Charge::None,
    updates_note: "every message inside an open window is free already",
};

static META: RuleDef = RuleDef {
    name: "whatsapp-meta",
    // Meta cards have their own format (see rates/meta.rs)
    card: CardKind::Meta,
    price_columns: &[],
    session_column: 0,
    message_column: |_| 1,
    engine: meta_engine,
    // A Meta engine carries its markets and eras.
    same_engine: |_, _| false,
    settings: meta_settings,
    keys: &["window", "conversation", "era", "markets", "tiers"],
    cards_default_countries: false,
    session_vs_message: false,
    charged_for_lateness: |o| o.charge != Charge::None,
    updates_note: "a marketing template inside an open window is charged by its category (a utility one is free there until 2026-10-01); sent as free-form messages of the window",
};

fn meta_engine(model: &Model, as_of: Option<i32>) -> Box<dyn Engine + '_> {
    match &model.card {
        Card::Meta(spec) => Box::new(WhatsAppMetaEngine::new(
            spec,
            model.window_hours,
            model.default_category,
            as_of,
        )),
        // A whatsapp-meta model always carries a Meta card (rates/model.rs).
        Card::Country(_) => session_engine(model, as_of),
    }
}

fn session_engine(model: &Model, _as_of: Option<i32>) -> Box<dyn Engine + '_> {
    Box::new(WhatsAppSessionEngine::new(
        model.window_hours,
        model.default_category,
    ))
}

/// `[window]` and `[conversation]`: a length in hours.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursSection {
    hours: Option<Hours>,
}

fn hours(section: Option<HoursSection>) -> i64 {
    section.and_then(|s| s.hours).map_or(24, |h| h.0)
}

/// The model-file sections whatsapp-session reads.
#[derive(Deserialize)]
struct SessionSections {
    window: Option<HoursSection>,
}

fn session_settings(file: &str, model: &toml::Value) -> Result<Settings> {
    let s: SessionSections = setting::read(file, "", model)?;
    Ok(Settings {
        window_hours: hours(s.window),
        ..Settings::default()
    })
}

/// The model-file sections whatsapp-meta reads (docs/billing-rules.md, WhatsApp (Meta)).
#[derive(Deserialize)]
struct MetaSections {
    window: Option<HoursSection>,
    conversation: Option<HoursSection>,
    era: Option<Vec<EraSection>>,
}

/// One `[[era]]`: Meta's rules in force from `from` until the next era.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EraSection {
    from: Date,
    pricing: Pricing,
    free_tier: Option<Free>,
    free_tier_counts: Option<FreeTierCounts>,
    #[serde(default)]
    service_free: bool,
    #[serde(default)]
    utility_in_window_free: bool,
    #[serde(default)]
    service_charged: bool,
    #[serde(default)]
    marketing_paused: Vec<CountryCode>,
    /// Needs a tier card (the model's `tiers`): checked with the card.
    #[serde(default)]
    volume_tiers: bool,
    /// Applied only with Meta's threshold written beside it, so the assumption that the
    /// business is above it is explicit in the model file.
    #[serde(default)]
    authentication_international: bool,
    authentication_international_threshold: Option<Free>,
    free_entry_point_hours: Option<Hours>,
    free_tier_per: Option<FreeTierPer>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum FreeTierPer {
    Account,
    BusinessNumber,
}

fn meta_settings(file: &str, model: &toml::Value) -> Result<Settings> {
    let s: MetaSections = setting::read(file, "", model)?;
    let err = |key: String, msg: &str| Error::Rates {
        file: file.to_string(),
        line: 0,
        msg: format!("{key}: {msg}"),
    };
    let list = s.era.filter(|l| !l.is_empty()).ok_or_else(|| {
        err(
            "era".into(),
            "missing: a whatsapp-meta model needs at least one [[era]]",
        )
    })?;
    let mut eras = Vec::with_capacity(list.len());
    for (i, e) in list.into_iter().enumerate() {
        if e.authentication_international && e.authentication_international_threshold.is_none() {
            return Err(err(
                format!("era[{i}].authentication_international"),
                "needs `authentication_international_threshold` (Meta's eligibility threshold, e.g. 750000)",
            ));
        }
        eras.push(era(e));
    }
    Ok(Settings {
        window_hours: hours(s.window),
        conversation_hours: hours(s.conversation),
        eras,
        ..Settings::default()
    })
}

fn era(e: EraSection) -> Era {
    Era {
        from: e.from.0,
        from_day: crate::calendar::days_since_epoch(e.from.0),
        pricing: e.pricing,
        free_tier: e.free_tier.map_or(0, |n| n.0 as u32),
        free_tier_counts: e.free_tier_counts,
        service_free: e.service_free,
        utility_in_window_free: e.utility_in_window_free,
        service_charged: e.service_charged,
        marketing_paused: e.marketing_paused.into_iter().map(|c| c.0).collect(),
        volume_tiers: e.volume_tiers,
        authentication_international: e.authentication_international,
        authentication_international_threshold: (e.authentication_international_threshold)
            .map(|n| n.0 as u64),
        free_entry_point_hours: e.free_entry_point_hours.map_or(0, |h| h.0 as u32),
        free_tier_per_number: e.free_tier_per == Some(FreeTierPer::BusinessNumber),
    }
}
