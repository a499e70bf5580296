//! The `twilio` bill.
