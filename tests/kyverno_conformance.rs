//! Conformance with Kyverno over the kyverno-pss corpus
//! (`tests/data/kyverno-pss/`, see its README): each policy FILE is
//! loaded with our Kyverno engine (not the built-in PSS rules) and applied
//! to its test resources; the verdict must agree with `cases.tsv`.
//!
//! `validate.podSecurity` policies (the `subrule/` folders) are evaluated
//! through the built-in PSS engine (`evaluate_with_pss`), as the
//! orchestrator does in production.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use gitops_guard::engine::manifests::admission::kyverno::{
    Policy, evaluate, evaluate_with_pss, load_policies,
};
use gitops_guard::engine::manifests::object::{Object, load_objects};
use gitops_guard::engine::yaml::{Limits, Node, load_documents};

/// The vendored corpus (part of the repository).
fn corpus() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kyverno-pss");
    assert!(
        d.join("cases.tsv").is_file(),
        "kyverno-pss corpus not found at {} (it is part of the repository)",
        d.display()
    );
    d
}

fn read_objects(path: &Path, rel: &str) -> Vec<Object> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = load_objects(rel, &text, &Limits::default());
    assert!(f.findings.is_empty(), "{rel}: {:?}", f.findings);
    f.objects
}

struct Case {
    policy: String,
    file: String,
    kind: String,
    name: String,
    fail: bool,
}

fn cases(root: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(root.join("cases.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 5, "bad cases.tsv line: {l}");
            Case {
                policy: c[0].into(),
                file: c[1].into(),
                kind: c[2].into(),
                name: c[3].into(),
                fail: match c[4] {
                    "fail" => true,
                    "pass" => false,
                    other => panic!("bad expectation {other}"),
                },
            }
        })
        .collect()
}

/// The rules a kyverno-test.yaml lists per (kind, resource name). The
/// Kyverno CLI checks only the listed rules, so an expectation derived from
/// it says nothing about the policy's other rules.
fn listed_rules(path: &Path) -> HashMap<(String, String), Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = load_documents(&text, &Limits::default()).docs;
    let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
    for d in &docs {
        for r in d.get("results").and_then(Node::as_seq).unwrap_or_default() {
            let s = |k: &str| {
                r.get(k)
                    .and_then(Node::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (kind, rule) = (s("kind"), s("rule"));
            for n in r
                .get("resources")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                let name = n.as_str().unwrap_or_default().to_owned();
                out.entry((kind.clone(), name))
                    .or_default()
                    .push(rule.clone());
            }
        }
    }
    out
}

/// `baseline/<folder>/...` → `baseline/<folder>/<folder>.yaml`.
fn policy_file(case_file: &str) -> String {
    let parts: Vec<&str> = case_file.split('/').collect();
    format!("{}/{}/{}.yaml", parts[0], parts[1], parts[1])
}

#[test]
fn agrees_with_kyverno_on_the_corpus() {
    let root = corpus();
    let all = cases(&root);
    assert_eq!(all.len(), 2232, "corpus changed");
    let mut policies: HashMap<String, Vec<Policy>> = HashMap::new();
    let mut resources: HashMap<String, Vec<Object>> = HashMap::new();
    let mut agree: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut disagreements: Vec<String> = Vec::new();
    let mut not_covered = 0usize; // podSecurity subrule cases, evaluated via PSS
    let mut listed: HashMap<String, HashMap<(String, String), Vec<String>>> = HashMap::new();
    let mut other_rule_fails = 0usize;
    for c in &all {
        let pf = policy_file(&c.file);
        let ps = policies.entry(pf.clone()).or_insert_with(|| {
            let objs = read_objects(&root.join(&pf), &pf);
            let (ps, problems) = load_policies(&objs);
            // The corpus uses only supported constructs, except that
            // podSecurity rules are evaluated through the PSS seam.
            assert!(problems.is_empty(), "{pf}: {problems:?}");
            ps
        });
        assert_eq!(ps.len(), 1, "{pf}");
        assert_eq!(ps[0].name, c.policy, "{pf}");
        let subrule = c.file.starts_with("subrule/");
        if subrule {
            not_covered += 1;
        }
        let objs = resources
            .entry(c.file.clone())
            .or_insert_with(|| read_objects(&root.join(&c.file), &c.file));
        let obj = objs
            .iter()
            .find(|o| o.kind == c.kind && o.name == c.name)
            .unwrap_or_else(|| panic!("{} {}/{} not found", c.file, c.kind, c.name));
        // podSecurity subrules go through the built-in PSS engine, as in
        // production (`evaluate.rs` passes `pss::check`).
        let mut results = if subrule {
            evaluate_with_pss(
                ps,
                obj,
                &gitops_guard::engine::manifests::admission::pss::check,
            )
        } else {
            evaluate(ps, obj)
        };
        if c.file.contains("/kyverno-test/") {
            let test = c.file.replace("resource.yaml", "kyverno-test.yaml");
            let rules = listed
                .entry(test.clone())
                .or_insert_with(|| listed_rules(&root.join(&test)));
            let names = rules
                .get(&(c.kind.clone(), c.name.clone()))
                .unwrap_or_else(|| panic!("{test}: no result for {}/{}", c.kind, c.name));
            let before = results.len();
            results.retain(|r| {
                names
                    .iter()
                    .any(|n| r.rule.as_str() == format!("kyverno/{}/{n}", c.policy))
            });
            if before > results.len() && results.is_empty() {
                other_rule_fails += 1;
            }
        }
        let got_fail = !results.is_empty();
        let e = agree.entry(c.policy.clone()).or_default();
        e.1 += 1;
        if got_fail == c.fail {
            e.0 += 1;
        } else {
            disagreements.push(format!(
                "{} {} {}/{}: expected {}, got {} {:?}",
                c.policy,
                c.file,
                c.kind,
                c.name,
                if c.fail { "fail" } else { "pass" },
                if got_fail { "fail" } else { "pass" },
                results.iter().map(|r| &r.message).collect::<Vec<_>>()
            ));
        }
    }
    let total: usize = agree.values().map(|v| v.1).sum();
    let ok: usize = agree.values().map(|v| v.0).sum();
    for (p, (a, n)) in &agree {
        println!("{p}: {a}/{n}");
    }
    println!(
        "agreement: {ok}/{total} cases ({not_covered} of them podSecurity subrule cases through the built-in PSS engine)"
    );
    // kyverno-test checks only the rules it lists: the addcap-good* resources
    // of disallow-capabilities-strict are listed for adding-capabilities-strict
    // only; they also violate require-drop-all (no `drop: [ALL]`), which we
    // (and Kyverno) report for the policy as a whole.
    println!("{other_rule_fails} cases fail only an unlisted rule of their policy");
    assert_eq!(other_rule_fails, 30);
    // Every disagreement would be listed here with its cause; there are none.
    let expected: Vec<String> = Vec::new();
    assert_eq!(
        disagreements,
        expected,
        "disagreements:\n{}",
        disagreements.join("\n")
    );
    // Every case of the corpus is evaluated, the 255 podSecurity subrule
    // cases through the built-in PSS engine.
    assert_eq!(total, 2232);
    assert_eq!(not_covered, 255);
}
