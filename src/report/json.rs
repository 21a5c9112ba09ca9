//! JSON output, the DESIGN.md contract:
//! `{"findings":[{"rule","severity","file","line","kind","name","namespace","message"}], "summary":{...}}`.
//! Absent `kind`/`name`/`namespace` are `null`, never omitted, so consumers
//! can rely on the shape.

use serde_json::{Map, Value, json};

use super::summary::{RunInfo, Summary};
use crate::engine::finding::Finding;
use crate::engine::manifests::evaluate::Evaluation;

/// The JSON document as a value (for tests and embedding).
pub fn to_value(ev: &Evaluation, info: &RunInfo) -> Value {
    let findings: Vec<Value> = ev.findings.iter().map(finding).collect();
    let s = Summary::of(ev);
    let by_rule: Map<String, Value> = s
        .by_rule
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "findings": findings,
        "summary": {
            "findings": s.total(),
            "by_severity": {"error": s.errors, "warning": s.warnings, "notice": s.notices},
            "by_rule": by_rule,
            "files": s.files,
            "objects": s.objects,
            "exit_status": s.exit_status,
            "config": info.config_sources,
            "base": info.base.as_ref().map(|(rev, sha)| json!({"rev": rev, "commit": sha})),
            "repository": info.repo,
            "notes": ev.notes,
        }
    })
}

/// The JSON document, pretty-printed, with a trailing newline.
pub fn render(ev: &Evaluation, info: &RunInfo) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(ev, info)).unwrap_or_default();
    s.push('\n');
    s
}

fn finding(f: &Finding) -> Value {
    let mut v = json!({
        "rule": f.rule.as_str(),
        "severity": f.severity.as_str(),
        "file": f.file,
        "line": f.line,
        "kind": f.kind,
        "name": f.name,
        "namespace": f.namespace,
        "message": f.message,
    });
    // Only findings on rendered objects carry `root` (the file that
    // defines the render root); the contract's fields stay as they are.
    if let Some(root) = &f.root {
        v["root"] = json!(root);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::finding::Severity;

    #[test]
    fn contract_shape() {
        let mut a = Finding::at("privileged", Severity::Error, "x.yaml", 4, "m");
        a.kind = Some("Pod".into());
        let mut ev = Evaluation {
            findings: vec![
                a,
                Finding::at("seccomp", Severity::Warning, "x.yaml", 5, "n"),
            ],
            ..Evaluation::default()
        };
        ev.stats.files = 1;
        ev.stats.objects = 1;
        let v = to_value(&ev, &RunInfo::default());
        let keys: Vec<&str> = v["findings"][0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "rule",
                "severity",
                "file",
                "line",
                "kind",
                "name",
                "namespace",
                "message"
            ]
        );
        assert_eq!(v["findings"][0]["kind"], "Pod");
        assert!(v["findings"][0]["name"].is_null());
        assert_eq!(v["findings"][1]["severity"], "warning");
        assert_eq!(v["summary"]["by_severity"]["error"], 1);
        assert_eq!(v["summary"]["by_rule"]["seccomp"], 1);
        assert_eq!(v["summary"]["exit_status"], 1);
        assert_eq!(v["summary"]["files"], 1);
        assert!(render(&ev, &RunInfo::default()).ends_with("}\n"));
    }
}
