//! Our SARIF validates against the official OASIS SARIF 2.1.0 schema
//! (`tests/data/sarif/sarif-schema-2.1.0.json`, see the README there) and
//! meets GitHub code scanning's extra upload rules.

use std::path::Path;
use std::process::Command;

use gitops_guard::engine::finding::{Finding, Severity};
use gitops_guard::engine::manifests::evaluate::Evaluation;
use gitops_guard::report::sarif::{self, MAX_RESULTS};
use gitops_guard::report::summary::RunInfo;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the official schema compiles")
}

fn assert_valid(v: &Value) {
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

/// The schema declares `artifactLocation.uri` as `format: uri-reference`,
/// a format draft-04 validators do not know; check it with the validator's
/// draft-07 format checker (RFC 3986).
fn is_uri_reference(s: &str) -> bool {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&serde_json::json!({"type": "string", "format": "uri-reference"}))
            .unwrap()
    })
    .is_valid(&Value::String(s.to_owned()))
}

/// GitHub code scanning's upload rules beyond the schema.
fn assert_github_accepts(v: &Value) {
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.len() <= 20);
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(driver["name"].as_str().is_some_and(|s| !s.is_empty()));
        let rules = driver["rules"].as_array().unwrap();
        assert!(rules.len() <= 25_000);
        let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "rule ids are unique");
        for r in rules {
            assert!(
                r["shortDescription"]["text"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            assert!(
                r["fullDescription"]["text"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            assert!(r["help"]["text"].as_str().is_some_and(|s| !s.is_empty()));
            assert!(
                r["help"]["markdown"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            assert!(
                ["error", "warning", "note"]
                    .contains(&r["defaultConfiguration"]["level"].as_str().unwrap())
            );
            let tags = r["properties"]["tags"].as_array().unwrap();
            assert!(tags.len() <= 20 && tags.iter().any(|t| t == "security"));
            let sev: f64 = r["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&sev));
            assert!(
                ["very-high", "high", "medium", "low"]
                    .contains(&r["properties"]["precision"].as_str().unwrap())
            );
        }
        let results = run["results"].as_array().unwrap();
        assert!(results.len() <= MAX_RESULTS);
        for res in results {
            let id = res["ruleId"].as_str().unwrap();
            let i = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                rules[i]["id"], id,
                "ruleIndex points at the ruleId's descriptor"
            );
            assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
            assert!(
                res["message"]["text"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            let locs = res["locations"].as_array().unwrap();
            assert!(!locs.is_empty() && locs.len() <= 1000);
            let pl = &locs[0]["physicalLocation"];
            let uri = pl["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.is_empty() && !uri.starts_with('/'));
            assert!(is_uri_reference(uri), "{uri} is not a URI reference");
            assert!(pl["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(
                res["partialFingerprints"]
                    .as_object()
                    .is_some_and(|m| !m.is_empty())
            );
        }
    }
}

fn finding(rule: &str, sev: Severity, file: &str, line: u32) -> Finding {
    let mut f = Finding::at(rule, sev, file, line, format!("{rule} at {file}:{line}"));
    f.line = line; // keep 0 to check the renderer clamps it
    f
}

#[test]
fn library_output_validates_for_every_rule_and_odd_input() {
    // Every catalogued rule, a Kyverno rule and an id no catalogue knows.
    let mut rules: Vec<&str> = gitops_guard::engine::catalog::all()
        .iter()
        .map(|r| r.id)
        .collect();
    rules.extend(["kyverno/block-privileged/no-privileged", "some-future-rule"]);
    let sevs = [Severity::Error, Severity::Warning, Severity::Notice];
    let files = [
        "prod/app.yaml",
        "dir with space/a#b?.yaml",
        "ünïcode/%x.yml",
        "a:b.json",
    ];
    let mut ev = Evaluation::default();
    for (i, rule) in rules.iter().enumerate() {
        let mut f = finding(rule, sevs[i % 3], files[i % files.len()], (i as u32) % 4);
        if i % 2 == 0 {
            f.kind = Some("Deployment".into());
            f.name = Some("web".into());
            f.namespace = (i % 4 == 0).then(|| "payments".to_owned());
        }
        ev.findings.push(f.clone());
        ev.findings.push(f); // exact duplicates keep distinct fingerprints
    }
    ev.notes = vec!["exception for host-network expired on 2026-01-31".into()];
    let info = RunInfo {
        config_sources: vec![".github/gitops-guard.yml at main (0123456789ab)".into()],
        ..RunInfo::default()
    };
    let v = sarif::to_value(&ev, &info);
    assert_valid(&v);
    assert_github_accepts(&v);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), ev.findings.len());
    let mut fps: Vec<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    fps.sort_unstable();
    fps.dedup();
    assert_eq!(fps.len(), results.len(), "fingerprints are unique");
}

#[test]
fn empty_run_validates() {
    let v = sarif::to_value(&Evaluation::default(), &RunInfo::default());
    assert_valid(&v);
    assert_github_accepts(&v);
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn too_many_results_are_cut_to_githubs_limit_keeping_errors() {
    let mut ev = Evaluation::default();
    for i in 0..(MAX_RESULTS + 10) {
        ev.findings.push(finding(
            "seccomp",
            Severity::Notice,
            "a.yaml",
            (i % 1000) as u32 + 1,
        ));
    }
    ev.findings
        .push(finding("privileged", Severity::Error, "z.yaml", 1));
    let v = sarif::to_value(&ev, &RunInfo::default());
    assert_github_accepts(&v);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), MAX_RESULTS);
    assert!(results.iter().any(|r| r["ruleId"] == "privileged"));
    let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| {
        n["message"]["text"]
            .as_str()
            .unwrap()
            .contains("11 less severe findings omitted")
    }));
}

#[test]
fn a_schema_violation_is_detected() {
    // The validator is not vacuous: a result without a message fails.
    let mut v = sarif::to_value(&Evaluation::default(), &RunInfo::default());
    v["runs"][0]["results"] = serde_json::json!([{"ruleId": "x", "level": "fatal"}]);
    assert!(schema().iter_errors(&v).next().is_some());
    // The URI check is not vacuous either: a raw space is not a URI
    // reference, which is why paths are percent-encoded.
    assert!(!is_uri_reference("a b.yaml"));
    assert!(!is_uri_reference("a%zz.yaml"));
    assert!(is_uri_reference("a%20b.yaml"));
}

#[test]
fn binary_output_validates() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("dir with space");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("dup.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
    )
    .unwrap();
    std::fs::write(t.path().join("broken.yaml"), "a: [\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .args(["check", "--format", "sarif", "."])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    assert_github_accepts(&v);
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 2);
}
