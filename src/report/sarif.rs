//! SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.
//!
//! It validates against the official OASIS schema (`tests/sarif_schema.rs`)
//! and follows GitHub's upload rules: every result has a physical location
//! with `startLine` ≥ 1, a `ruleId` that matches a `tool.driver.rules[]`
//! entry (and its `ruleIndex`), rule metadata with help text and
//! `security-severity`, `partialFingerprints` so alerts survive unrelated
//! edits, and at most [`MAX_RESULTS`] results per run.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ruledoc::{self, RuleDoc};
use super::summary::RunInfo;
use crate::engine::finding::{Finding, Severity};
use crate::engine::manifests::evaluate::Evaluation;

/// GitHub code scanning rejects runs with more results than this.
pub const MAX_RESULTS: usize = 25_000;

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where users read about the tool (`tool.driver.informationUri`).
pub fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://github.com/gitops-guard/gitops-guard",
        uri => uri,
    }
}

/// The `partialFingerprints` key (versioned: a change in how it is computed
/// needs a new key, or GitHub would close and reopen every alert).
pub const FINGERPRINT_KEY: &str = "gitopsGuardFinding/v1";

/// The SARIF log as a value.
pub fn to_value(ev: &Evaluation, info: &RunInfo) -> Value {
    let kept = keep_most_severe(&ev.findings, MAX_RESULTS);
    let omitted = ev.findings.len() - kept.len();

    // Rules: one descriptor per rule id that occurs, sorted by id.
    let ids: BTreeMap<&str, ()> = kept.iter().map(|f| (f.rule.as_str(), ())).collect();
    let docs: Vec<RuleDoc> = ids.keys().map(|id| ruledoc::lookup(id)).collect();
    let index: HashMap<&str, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let rules: Vec<Value> = docs.iter().map(rule_descriptor).collect();

    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<Value> = kept
        .iter()
        .map(|f| {
            let base = fingerprint(f);
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            result(f, index[f.rule.as_str()], format!("{base}:{n}"))
        })
        .collect();

    let mut notifications: Vec<Value> = ev
        .notes
        .iter()
        .map(|n| json!({"level": "note", "message": {"text": n}}))
        .collect();
    for src in &info.config_sources {
        notifications.push(json!({"level": "note", "message": {"text": format!("config: {src}")}}));
    }
    if omitted > 0 {
        notifications.push(json!({
            "level": "warning",
            "message": {"text": format!(
                "{omitted} less severe findings omitted: GitHub code scanning accepts at most {MAX_RESULTS} results per run"
            )}
        }));
    }
    let mut invocation = json!({"executionSuccessful": true});
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gitops-guard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": information_uri(),
                "rules": rules,
            }},
            "invocations": [invocation],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

/// The SARIF log, pretty-printed, with a trailing newline.
pub fn render(ev: &Evaluation, info: &RunInfo) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(ev, info)).unwrap_or_default();
    s.push('\n');
    s
}

/// SARIF `level` for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

fn rule_descriptor(d: &RuleDoc) -> Value {
    let full = format!("{} {}", d.summary, d.why);
    let text = format!("{}\n\nWhy: {}\n\nHow to fix: {}", d.summary, d.why, d.fix);
    let markdown = format!(
        "**{}** (`{}`)\n\n{}\n\n**Why it matters.** {}\n\n**How to fix.** {}",
        d.name, d.id, d.summary, d.why, d.fix
    );
    json!({
        "id": d.id,
        "name": d.name,
        "shortDescription": {"text": d.summary},
        "fullDescription": {"text": full},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(d.default_severity)},
        "properties": {
            "tags": d.tags,
            "precision": d.precision,
            "problem.severity": match d.default_severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Notice => "recommendation",
            },
            // GitHub reads a string holding a number in 0.0–10.0.
            "security-severity": format!("{:.1}", d.security_severity),
        }
    })
}

fn result(f: &Finding, rule_index: usize, fingerprint: String) -> Value {
    let mut r = json!({
        "ruleId": f.rule.as_str(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": message(f)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line.max(1)},
            }
        }],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    });
    let mut props = serde_json::Map::new();
    for (k, v) in [
        ("kind", &f.kind),
        ("name", &f.name),
        ("namespace", &f.namespace),
        ("root", &f.root),
    ] {
        if let Some(v) = v {
            props.insert(k.to_owned(), json!(v));
        }
    }
    if !props.is_empty() {
        r["properties"] = Value::Object(props);
    }
    r
}

/// The message, prefixed with the object it is about (code scanning shows
/// only the message and the line).
fn message(f: &Finding) -> String {
    let m = match (&f.kind, &f.name) {
        (Some(kind), Some(name)) if !name.is_empty() => match &f.namespace {
            Some(ns) => format!("{kind} {ns}/{name}: {}", f.message),
            None => format!("{kind} {name}: {}", f.message),
        },
        _ => f.message.clone(),
    };
    match &f.root {
        Some(root) => format!("{m} (rendered from {root})"),
        None => m,
    }
}

/// Line-independent identity of a finding: rule, file, object and message.
/// Moving an object within its file keeps the alert; the caller appends an
/// occurrence counter so identical findings stay distinct.
fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule.as_str(),
        &f.file,
        f.kind.as_deref().unwrap_or(""),
        f.namespace.as_deref().unwrap_or(""),
        f.name.as_deref().unwrap_or(""),
        &f.message,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    // Only rendered findings add their root, so other fingerprints stay.
    if let Some(root) = &f.root {
        h.update(root.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// A relative path as a URI reference: `/` kept, everything outside RFC 3986
/// unreserved characters percent-encoded (spaces, `#`, `?`, `%`, `:`…), so
/// the schema's `uri-reference` format holds and no segment is misread as a
/// scheme or fragment.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `max` most severe findings, in their original order.
fn keep_most_severe(findings: &[Finding], max: usize) -> Vec<&Finding> {
    if findings.len() <= max {
        return findings.iter().collect();
    }
    let mut idx: Vec<usize> = (0..findings.len()).collect();
    idx.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
    idx.truncate(max);
    idx.sort_unstable();
    idx.into_iter().map(|i| &findings[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, sev: Severity, file: &str, line: u32, msg: &str) -> Finding {
        Finding::at(rule, sev, file, line, msg)
    }

    #[test]
    fn results_reference_rules_by_id_and_index() {
        let mut ev = Evaluation::default();
        let mut p = finding("privileged", Severity::Error, "a b/x.yaml", 3, "priv");
        p.kind = Some("Pod".into());
        p.name = Some("web".into());
        p.namespace = Some("pay".into());
        ev.findings = vec![
            p,
            finding("seccomp", Severity::Notice, "x.yaml", 0, "s"),
            finding("kyverno/pol/rule", Severity::Warning, "x.yaml", 2, "k"),
        ];
        let v = to_value(&ev, &RunInfo::default());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["kyverno/pol/rule", "privileged", "seccomp"]);
        for r in run["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            let line = &r["locations"][0]["physicalLocation"]["region"]["startLine"];
            assert!(line.as_u64().unwrap() >= 1);
        }
        let r0 = &run["results"][0];
        assert_eq!(r0["level"], "error");
        assert_eq!(r0["message"]["text"], "Pod pay/web: priv");
        assert_eq!(
            r0["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "a%20b/x.yaml"
        );
        assert_eq!(run["results"][1]["level"], "note");
        assert_eq!(rules[1]["properties"]["security-severity"], "9.0");
    }

    #[test]
    fn fingerprints_ignore_line_and_disambiguate_duplicates() {
        let a = finding("privileged", Severity::Error, "x.yaml", 3, "m");
        let mut b = a.clone();
        b.line = 30;
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.file = "y.yaml".into();
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let ev = Evaluation {
            findings: vec![a, b],
            ..Evaluation::default()
        };
        let v = to_value(&ev, &RunInfo::default());
        let fp =
            |i: usize| v["runs"][0]["results"][i]["partialFingerprints"][FINGERPRINT_KEY].clone();
        assert_ne!(fp(0), fp(1));
        assert!(fp(0).as_str().unwrap().ends_with(":1"));
        assert!(fp(1).as_str().unwrap().ends_with(":2"));
    }

    #[test]
    fn truncation_keeps_errors() {
        let mut fs = vec![finding("a", Severity::Notice, "a.yaml", 1, "n"); 3];
        fs.push(finding("b", Severity::Error, "z.yaml", 1, "e"));
        let kept = keep_most_severe(&fs, 2);
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|f| f.severity == Severity::Error));
        assert_eq!(kept[1].file, "z.yaml"); // original order kept
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri("prod/app.yaml"), "prod/app.yaml");
        assert_eq!(uri("a:b#c?d%é"), "a%3Ab%23c%3Fd%25%C3%A9");
    }
}
