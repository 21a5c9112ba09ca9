//! Conformance with Kubernetes' own pod-security-admission fixtures
//! (`tests/data/pod-security-admission/<level>/v1.N/{pass,fail}/*.yaml`,
//! byte copies of upstream `test/testdata`, see its README).
//!
//! Every fixture is evaluated by the whole engine ([`evaluate_tree`]) with a
//! config that sets `admission.level` to the fixture's level and
//! `admission.version` to its version (warnings off, image rules off), and
//! must fail exactly when it sits in `fail/`. Disagreements are listed in
//! [`KNOWN`] with the reason, and the test asserts that exact set, so a new
//! disagreement and a vanished one both fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use gitops_guard::engine::config::parse_config;
use gitops_guard::engine::finding::Severity;
use gitops_guard::engine::input::{PolicyInputs, SourceFile, TreeInput};
use gitops_guard::engine::manifests::admission::pss::{
    BASELINE_RULES, INVALID_MANIFEST, RESTRICTED_RULES,
};
use gitops_guard::engine::manifests::evaluate::evaluate_tree;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pod-security-admission")
}

/// Fixtures where we disagree with PSA, as (level, version, pass|fail,
/// file stem) → why. Empty: every fixture agrees.
const KNOWN: &[(&str, &str, &str, &str, &str)] = &[];

/// One fixture.
struct Case {
    level: String,
    version: String,
    expect_fail: bool,
    path: PathBuf,
}

fn cases() -> Vec<Case> {
    let root = corpus_dir();
    let mut out = Vec::new();
    for level in ["baseline", "restricted"] {
        let dir = root.join(level);
        let versions = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; the PSA fixtures are part of the repository (tests/data/pod-security-admission)",
                dir.display()
            )
        });
        for v in versions {
            let v = v.expect("readable fixture directory");
            let version = v.file_name().to_string_lossy().into_owned();
            for outcome in ["pass", "fail"] {
                let d = v.path().join(outcome);
                let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
                    .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                    .map(|e| e.expect("readable fixture").path())
                    .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                    .collect();
                files.sort();
                assert!(!files.is_empty(), "{} holds no fixture", d.display());
                out.extend(files.into_iter().map(|path| Case {
                    level: level.to_owned(),
                    version: version.clone(),
                    expect_fail: outcome == "fail",
                    path,
                }));
            }
        }
    }
    out
}

fn policy(level: &str, version: &str) -> PolicyInputs {
    let text = format!(
        "admission:\n  level: {level}\n  warn: none\n  version: {version}\n  images:\n    forbid_latest: false\n"
    );
    let config = parse_config("gitops-guard.yml", &text)
        .unwrap_or_else(|e| panic!("config {text:?} must parse: {e:?}"));
    PolicyInputs {
        config,
        config_source: "gitops-guard.yml".into(),
        support: Vec::new(),
        repo: None,
        today: NaiveDate::from_ymd_opt(2026, 7, 1).expect("valid date"),
    }
}

/// The file name a fixture is evaluated under (its path below the corpus).
fn name(case: &Case) -> String {
    case.path
        .strip_prefix(corpus_dir())
        .expect("fixture under the corpus")
        .to_string_lossy()
        .replace('\\', "/")
}

/// Which of `cases` (all of one level) the engine fails at `version`, by
/// [`name`]. They are evaluated as one tree, one file each (findings name
/// their file). Any error finding outside Pod Security is a harness mistake
/// and panics.
fn failing(cases: &[&Case], version: &str) -> BTreeSet<String> {
    let level = &cases[0].level;
    assert!(cases.iter().all(|c| &c.level == level));
    let files = cases
        .iter()
        .map(|c| {
            let text = std::fs::read_to_string(&c.path)
                .unwrap_or_else(|e| panic!("{}: {e}", c.path.display()));
            SourceFile::new(name(c), text)
        })
        .collect();
    let ev = evaluate_tree(&policy(level, version), &TreeInput { files });
    assert_eq!(ev.stats.files, cases.len(), "every fixture is selected");
    let mut out = BTreeSet::new();
    for f in ev.findings.iter().filter(|f| f.severity == Severity::Error) {
        let r = f.rule.as_str();
        assert!(
            BASELINE_RULES.contains(&r) || RESTRICTED_RULES.contains(&r) || r == INVALID_MANIFEST,
            "unexpected non-Pod-Security finding {f:?}"
        );
        out.insert(f.file.clone());
    }
    out
}

/// The cases grouped by (level, minor version).
fn by_version(cases: &[Case]) -> BTreeMap<(String, u32), Vec<&Case>> {
    let mut out: BTreeMap<(String, u32), Vec<&Case>> = BTreeMap::new();
    for c in cases {
        let minor: u32 = c.version["v1.".len()..].parse().expect("v1.N directory");
        out.entry((c.level.clone(), minor)).or_default().push(c);
    }
    out
}

#[test]
fn psa_fixtures_agree_at_every_version() {
    let cases = cases();
    let groups = by_version(&cases);
    let mut disagree: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    let mut agreed = 0;
    for ((level, minor), group) in &groups {
        let failed = failing(group, &format!("v1.{minor}"));
        let mut agree = 0;
        for case in group {
            if failed.contains(&name(case)) == case.expect_fail {
                agree += 1;
            } else {
                disagree.insert((
                    case.level.clone(),
                    case.version.clone(),
                    if case.expect_fail { "fail" } else { "pass" }.to_owned(),
                    case.path
                        .file_stem()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                ));
            }
        }
        eprintln!("{level} v1.{minor}: {agree}/{} agree", group.len());
        agreed += agree;
    }
    eprintln!("total: {agreed}/{} agree", cases.len());
    let known: BTreeSet<(String, String, String, String)> = KNOWN
        .iter()
        .map(|(l, v, o, f, _)| (l.to_string(), v.to_string(), o.to_string(), f.to_string()))
        .collect();
    let new: Vec<_> = disagree.difference(&known).collect();
    let stale: Vec<_> = known.difference(&disagree).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "new disagreements with PSA: {new:#?}\nlisted but now agreeing: {stale:#?}"
    );
    assert_eq!(agreed + KNOWN.len(), cases.len());
    // Every upstream version directory v1.0 … v1.37, at both levels.
    assert_eq!(groups.len(), 2 * 38, "{:?}", groups.keys());
    assert_eq!(cases.len(), 4537, "fixture count changed");
}

/// PSA evaluates a version newer than its newest check as `latest`, and so
/// do we: the newest fixtures give the same verdicts at `latest` and at a
/// version no PSA release has reached.
#[test]
fn newest_fixtures_same_at_latest_and_future_versions() {
    let cases = cases();
    for ((level, minor), group) in by_version(&cases) {
        if minor != 37 {
            continue;
        }
        let want: BTreeSet<String> = group
            .iter()
            .filter(|c| c.expect_fail)
            .map(|c| name(c))
            .collect();
        for version in ["latest", "v1.38", "v1.200"] {
            assert_eq!(failing(&group, version), want, "{level} at {version}");
        }
    }
}

/// The versions matter: judged at `latest` (all this engine could do
/// before `admission.version`), 441 fixtures of v1.0–v1.36 get the wrong
/// verdict, so the per-version agreement above is not an accident.
#[test]
fn older_fixtures_differ_at_latest() {
    let cases = cases();
    let groups = by_version(&cases);
    let mut differ = 0;
    for ((_, minor), group) in &groups {
        if *minor == 37 {
            continue;
        }
        let failed = failing(group, "latest");
        differ += group
            .iter()
            .filter(|c| failed.contains(&name(c)) != c.expect_fail)
            .count();
    }
    // Exact, so a change in either the fixtures or the version handling
    // shows here too.
    assert_eq!(
        differ, 441,
        "older fixtures whose verdict changes at latest"
    );
}

// ---- the engine wiring: config key, namespace labels, advisories ----------

fn tree(files: &[(&str, &str)]) -> TreeInput {
    TreeInput {
        files: files.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect(),
    }
}

fn policy_text(text: &str) -> PolicyInputs {
    PolicyInputs {
        config: parse_config("gitops-guard.yml", text).expect("config parses"),
        config_source: "gitops-guard.yml".into(),
        support: Vec::new(),
        repo: None,
        today: NaiveDate::from_ymd_opt(2026, 7, 1).expect("valid date"),
    }
}

/// (file, rule, severity) of every finding.
fn summary(
    ev: &gitops_guard::engine::manifests::evaluate::Evaluation,
) -> BTreeSet<(String, String, Severity)> {
    ev.findings
        .iter()
        .map(|f| (f.file.clone(), f.rule.as_str().to_owned(), f.severity))
        .collect()
}

const POD_IN: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: NS\nspec:\n  containers:\n  - name: c\n    image: registry.example/app:1.0\n";

#[test]
fn admission_version_is_a_config_key_with_psa_spelling() {
    let c = parse_config("g.yml", "admission:\n  version: v1.25\n").expect("v1.25");
    assert_eq!(
        c.admission.version,
        gitops_guard::engine::manifests::admission::pss::PsaVersion::V1(25)
    );
    let d = parse_config("g.yml", "").expect("empty config");
    assert_eq!(
        d.admission.version,
        gitops_guard::engine::manifests::admission::pss::PsaVersion::Latest
    );
    for bad in ["1.25", "v1.025", "'v2.0'", "Latest"] {
        let e = parse_config(
            "g.yml",
            &format!("admission:\n  level: baseline\n  version: {bad}\n"),
        )
        .expect_err(bad);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 3, "{bad}: {e:?}");
        assert!(e[0].to_string().contains("admission.version"), "{}", e[0]);
    }
}

#[test]
fn a_stricter_namespace_label_turns_warnings_into_errors() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
    let ev = evaluate_tree(
        &policy_text("admission:\n  level: baseline\n  warn: restricted\n"),
        &tree(&[
            ("ns.yaml", ns),
            ("team.yaml", &POD_IN.replace("NS", "team")),
            ("other.yaml", &POD_IN.replace("NS", "other")),
        ]),
    );
    let s = summary(&ev);
    assert!(
        s.contains(&(
            "team.yaml".into(),
            "run-as-non-root".into(),
            Severity::Error
        )),
        "{s:#?}"
    );
    assert!(
        s.contains(&(
            "other.yaml".into(),
            "run-as-non-root".into(),
            Severity::Warning
        )),
        "{s:#?}"
    );
    assert!(
        !s.contains(&(
            "other.yaml".into(),
            "run-as-non-root".into(),
            Severity::Error
        )),
        "{s:#?}"
    );
    assert!(ev.has_errors());
}

#[test]
fn a_looser_namespace_label_leaves_the_config_in_force() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n    pod-security.kubernetes.io/enforce-version: v1.0\n";
    let pod = POD_IN
        .replace("NS", "team")
        .replace("spec:\n", "spec:\n  hostNetwork: true\n");
    let ev = evaluate_tree(
        &policy_text("admission:\n  level: baseline\n  warn: none\n"),
        &tree(&[("ns.yaml", ns), ("team.yaml", &pod)]),
    );
    let s = summary(&ev);
    assert!(
        s.contains(&(
            "team.yaml".into(),
            "host-namespaces".into(),
            Severity::Error
        )),
        "{s:#?}"
    );
    // The compliant twin: no host network, no finding.
    let ev = evaluate_tree(
        &policy_text("admission:\n  level: baseline\n  warn: none\n"),
        &tree(&[
            ("ns.yaml", ns),
            ("team.yaml", &POD_IN.replace("NS", "team")),
        ]),
    );
    assert!(ev.findings.is_empty(), "{:#?}", ev.findings);
}

#[test]
fn an_invalid_namespace_label_is_an_error_and_reads_as_restricted() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: strict\n";
    let ev = evaluate_tree(
        &policy_text("admission:\n  level: baseline\n  warn: none\n"),
        &tree(&[
            ("ns.yaml", ns),
            ("team.yaml", &POD_IN.replace("NS", "team")),
        ]),
    );
    let s = summary(&ev);
    assert!(
        s.contains(&("ns.yaml".into(), "invalid-manifest".into(), Severity::Error)),
        "{s:#?}"
    );
    assert!(
        s.contains(&(
            "team.yaml".into(),
            "run-as-non-root".into(),
            Severity::Error
        )),
        "{s:#?}"
    );
}

#[test]
fn legacy_seccomp_annotation_is_a_warning_from_1_27() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\nspec:\n  containers:\n  - name: c\n    image: registry.example/app:1.0\n";
    for (version, want) in [
        ("latest", Some(Severity::Warning)),
        ("v1.27", Some(Severity::Warning)),
        ("v1.26", Some(Severity::Error)),
        ("v1.18", Some(Severity::Error)),
    ] {
        let ev = evaluate_tree(
            &policy_text(&format!(
                "admission:\n  level: baseline\n  warn: none\n  version: {version}\n"
            )),
            &tree(&[("p.yaml", pod)]),
        );
        let got: Vec<_> = ev
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == "seccomp")
            .collect();
        assert_eq!(got.len(), 1, "{version}: {got:#?}");
        assert_eq!(Some(got[0].severity), want, "{version}: {got:#?}");
        assert_eq!(got[0].line, 6);
    }
    // The twin without the annotation: nothing at any version.
    let clean = pod.replace(
        "  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n",
        "",
    );
    for version in ["latest", "v1.26", "v1.18"] {
        let ev = evaluate_tree(
            &policy_text(&format!(
                "admission:\n  level: baseline\n  warn: none\n  version: {version}\n"
            )),
            &tree(&[("p.yaml", &clean)]),
        );
        assert!(ev.findings.is_empty(), "{version}: {:#?}", ev.findings);
    }
}
