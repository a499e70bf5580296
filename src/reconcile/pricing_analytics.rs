//! The `meta-pricing-analytics` bill.

/// The Graph API's `pricing_analytics` shape: data points under `data`.
pub fn looks_like(text: &str) -> bool {
    text.contains("\"data_points\"")
}
