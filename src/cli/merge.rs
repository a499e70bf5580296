//! `simcost merge A.json B.json...`: the JSON reports of parts of one log (split by business
//! portfolio or account, docs/scaling.md) summed into the report of the whole. Every count and
//! amount is an exact sum (amounts as decimals); reports of different models, currencies, time
//! zones or account files are refused.

use crate::error::{Error, Result};
use clap::Args;
use rust_decimal::Decimal;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// JSON reports (`replay --format json`) of parts of one log whose accounts do not overlap.
    #[arg(required = true, num_args = 2.., value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Write the merged report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Row lists of a model merged by their key (the rows of one account, country or month).
const ROWS: [(&str, &str); 3] = [
    ("accounts", "account"),
    ("countries", "country"),
    ("months", "month"),
];

/// Keys whose values must be the same in every part.
const SAME: [&str; 3] = ["model", "channel", "currency"];

pub(crate) fn run(a: MergeArgs) -> Result<()> {
    let mut parts = Vec::new();
    for path in &a.reports {
        let name = path.display().to_string();
        let text = crate::input::read_text(path)?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| bad(&name, &e.to_string()))?;
        parts.push((name, doc));
    }
    let (first_name, mut whole) = parts.remove(0);
    check_shape(&first_name, &whole)?;
    for (name, part) in &parts {
        check_shape(name, part)?;
        merge_doc(&mut whole, part).map_err(|msg| bad(name, &msg))?;
    }
    let out_path = a.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    let mut out = crate::output::OutputFile::create("--output", &out_path)?;
    super::reported(
        serde_json::to_writer_pretty(&mut out, &whole)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out))
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("writing the merged report", e)),
    )?;
    super::reported(out.commit())
}

fn bad(file: &str, msg: &str) -> Error {
    Error::Input {
        file: file.to_string(),
        line: 0,
        msg: msg.to_string(),
    }
}

/// A `replay --format json` report: `input` and `models`.
fn check_shape(name: &str, doc: &Value) -> Result<()> {
    match (
        doc.get("input"),
        doc.get("models").and_then(Value::as_array),
    ) {
        (Some(Value::Object(_)), Some(_)) => Ok(()),
        _ => Err(bad(
            name,
            "not a `replay --format json` report (no `input` and `models`)",
        )),
    }
}

/// `part` added into `whole`.
fn merge_doc(whole: &mut Value, part: &Value) -> std::result::Result<(), String> {
    let (w, p) = (&whole["models"], &part["models"]);
    let names = |v: &Value| -> Vec<Value> {
        (v.as_array().into_iter().flatten())
            .map(|m| Value::Array(SAME.iter().map(|k| m[*k].clone()).collect()))
            .collect()
    };
    if names(w) != names(p) {
        return Err(format!(
            "other models, channels or currencies ({}) than the first report ({})",
            Value::Array(names(p)),
            Value::Array(names(w))
        ));
    }
    shared_account(w, p)?;
    merge_input(&mut whole["input"], &part["input"])?;
    match (whole.get_mut("accounts"), part.get("accounts")) {
        (None, None) => {}
        (Some(w), Some(p)) => merge_account_table(w, p)?,
        _ => return Err("one report was made with --accounts, the other without".into()),
    }
    let models = whole["models"].as_array_mut().ok_or("no models")?;
    for (w, p) in models
        .iter_mut()
        .zip(part["models"].as_array().ok_or("no models")?)
    {
        merge_model(w, p)?;
    }
    Ok(())
}

/// An account in both `whole` and `part` would be counted twice (the same report given twice,
/// or a log split across an account's traffic, whose allowances and fees cannot be summed).
fn shared_account(w: &Value, p: &Value) -> std::result::Result<(), String> {
    let accounts = |v: &Value| -> Vec<Value> {
        (v[0]["accounts"].as_array().into_iter().flatten())
            .map(|a| a["account"].clone())
            .collect()
    };
    let known = accounts(w);
    match accounts(p).into_iter().find(|a| known.contains(a)) {
        Some(a) => Err(format!(
            "account {a} is in an earlier report too: the parts of a log must not share an \
             account (docs/scaling.md), and summing them would count it twice"
        )),
        None => Ok(()),
    }
}

/// The log's counts summed; the files named one after the other; the same zone.
fn merge_input(w: &mut Value, p: &Value) -> std::result::Result<(), String> {
    if w["tz"] != p["tz"] {
        return Err(format!(
            "--tz {} differs from the first report's {}",
            p["tz"], w["tz"]
        ));
    }
    let file = format!(
        "{} + {}",
        w["file"].as_str().unwrap_or_default(),
        p["file"].as_str().unwrap_or_default()
    );
    sum_object(w, p, &["file", "tz", "warnings"])?;
    w["file"] = file.into();
    if let Some(Value::Array(more)) = p.get("warnings") {
        let list = w.as_object_mut().ok_or("bad input")?;
        let list = list
            .entry("warnings")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(l) = list {
            l.extend(more.iter().cloned());
        }
    }
    Ok(())
}

/// `--accounts`: the same file; each account once; the file's accounts absent from the
/// whole log: the file's count (in the log + not in the log, the same in every part) less
/// those in the merged log.
fn merge_account_table(w: &mut Value, p: &Value) -> std::result::Result<(), String> {
    if w["file"] != p["file"] {
        return Err(format!(
            "accounts file {} differs from the first report's {}",
            p["file"], w["file"]
        ));
    }
    let in_file = |v: &Value| {
        (v["accounts"].as_array().into_iter().flatten())
            .filter(|a| a["in_file"] == Value::Bool(true))
            .count() as u64
    };
    let file_accounts = in_file(w) + w["file_accounts_not_in_log"].as_u64().unwrap_or(0);
    merge_rows(&mut w["accounts"], &p["accounts"], "account", false)?;
    w["file_accounts_not_in_log"] = file_accounts.saturating_sub(in_file(w)).into();
    w["log_accounts_not_in_file"] = (w["accounts"].as_array().into_iter().flatten())
        .filter(|a| a["in_file"] == Value::Bool(false))
        .count()
        .into();
    Ok(())
}

/// One model's report: rows merged by key, fee items one after the other, the rest summed;
/// `complete` again from the merged count of unpriced messages.
fn merge_model(w: &mut Value, p: &Value) -> std::result::Result<(), String> {
    for (list, key) in ROWS {
        merge_rows(&mut w[list], &p[list], key, true)?;
    }
    if let (Some(Value::Array(wf)), Some(Value::Array(pf))) =
        (w.get_mut("fee_items"), p.get("fee_items"))
    {
        wf.extend(pf.iter().cloned());
        wf.sort_by(|a, b| {
            (a["account"].to_string(), a["month"].to_string())
                .cmp(&(b["account"].to_string(), b["month"].to_string()))
        });
    }
    let mut skip: Vec<&str> = ROWS.iter().map(|(l, _)| *l).collect();
    skip.extend(SAME);
    skip.extend(["fee_items", "complete"]);
    sum_object(w, p, &skip)?;
    w["complete"] = (w["totals"]["unpriced"].as_u64() == Some(0)).into();
    Ok(())
}

/// Rows of `p` added into `w`: a row whose key `w` has is summed into it (`sum`) or must be
/// equal to it; the rows sorted by key, as a report lists them.
fn merge_rows(w: &mut Value, p: &Value, key: &str, sum: bool) -> std::result::Result<(), String> {
    let (Value::Array(wr), Value::Array(pr)) = (w, p) else {
        return Err(format!("no `{key}` rows"));
    };
    for row in pr {
        match wr.iter_mut().find(|r| r[key] == row[key]) {
            Some(r) if sum => sum_object(r, row, &[key])?,
            Some(r) if r == row => {}
            Some(_) => {
                return Err(format!(
                    "{key} {} differs from the first report's",
                    row[key]
                ))
            }
            None => wr.push(row.clone()),
        }
    }
    wr.sort_by_key(|r| {
        r[key]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| r[key].to_string())
    });
    Ok(())
}

/// Every value of `p` added into `w`'s of the same key, but `skip`'s: integers as integers,
/// amounts (decimal strings) as decimals, objects key by key; a key only one has is kept.
fn sum_object(w: &mut Value, p: &Value, skip: &[&str]) -> std::result::Result<(), String> {
    let (Value::Object(wo), Value::Object(po)) = (w, p) else {
        return Err("expected an object".into());
    };
    for (k, pv) in po {
        if skip.contains(&k.as_str()) {
            continue;
        }
        match wo.get_mut(k) {
            None => {
                wo.insert(k.clone(), pv.clone());
            }
            Some(wv) => *wv = sum_value(k, wv, pv)?,
        }
    }
    Ok(())
}

fn sum_value(k: &str, w: &Value, p: &Value) -> std::result::Result<Value, String> {
    match (w, p) {
        (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => a
                .checked_add(b)
                .map(Value::from)
                .ok_or(format!("`{k}` overflows")),
            _ => Err(format!("`{k}`: not a count ({a}, {b})")),
        },
        (Value::String(a), Value::String(b)) => {
            let (x, y) = (a.parse::<Decimal>(), b.parse::<Decimal>());
            match (x, y) {
                (Ok(x), Ok(y)) => x
                    .checked_add(y)
                    .map(|s| Value::String(s.to_string()))
                    .ok_or(format!("`{k}` overflows")),
                _ if a == b => Ok(w.clone()),
                _ => Err(format!(
                    "`{k}`: {a:?} and {b:?} are neither amounts nor equal"
                )),
            }
        }
        (Value::Object(_), Value::Object(_)) => {
            let mut w = w.clone();
            sum_object(&mut w, p, &[])?;
            Ok(w)
        }
        (Value::Null, Value::Null) => Ok(Value::Null),
        (Value::Bool(a), Value::Bool(b)) if a == b => Ok(w.clone()),
        _ if w == p => Ok(w.clone()),
        _ => Err(format!("`{k}`: {w} and {p} cannot be summed")),
    }
}
