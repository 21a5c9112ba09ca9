//! Precision and recall on the generated GitOps corpus (`gen-corpus`): every
//! injected violation must be found under its rule id, and clean objects
//! (which pass Pod Security "restricted" and stay in their namespace) must
//! get no finding at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gitops_guard::bench_support::{corpus_dir, load_tree, policy_for_corpus};
use gitops_guard::engine::evaluate::evaluate_tree;

/// gen-corpus violation id → the rule ids that may report it.
fn rules_for(violation: &str) -> &'static [&'static str] {
    match violation {
        "host-pid" | "host-ipc" | "host-network" => &["host-namespaces"],
        "host-port" => &["host-ports"],
        "run-as-root" => &["run-as-non-root", "run-as-user"],
        "latest-tag" => &["image-tag"],
        "namespace-scope" => &["tenant-namespace"],
        "privileged" => &["privileged"],
        "host-path" => &["host-path"],
        "capabilities" => &["capabilities"],
        "privilege-escalation" => &["privilege-escalation"],
        "proc-mount" => &["proc-mount"],
        "seccomp" => &["seccomp"],
        other => panic!("unknown violation id in expected.tsv: {other}"),
    }
}

#[test]
fn generated_corpus_precision_and_recall() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = corpus_dir(&target, 3000).expect("generate the corpus");
    let tree = load_tree(&dir).expect("read the corpus");
    let policy = policy_for_corpus(&dir);
    let ev = evaluate_tree(&policy, &tree);

    // (file, kind, name) → rule ids found.
    let mut found: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for f in &ev.findings {
        let key = (
            f.file.clone(),
            f.kind.clone().unwrap_or_default(),
            f.name.clone().unwrap_or_default(),
        );
        found.entry(key).or_default().insert(f.rule.to_string());
    }
    let expected_text = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut expected: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for line in expected_text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let key = (cols[0].to_owned(), cols[2].to_owned(), cols[3].to_owned());
        expected.entry(key).or_default().insert(cols[4].to_owned());
    }

    let mut missed = Vec::new();
    let mut true_pos = 0usize;
    for (key, violations) in &expected {
        for v in violations {
            let ok = found
                .get(key)
                .is_some_and(|rules| rules_for(v).iter().any(|r| rules.contains(*r)));
            if ok {
                true_pos += 1;
            } else {
                missed.push(format!("{key:?} {v}: found {:?}", found.get(key)));
            }
        }
    }
    let mut false_pos = Vec::new();
    for (key, rules) in &found {
        let allowed: BTreeSet<&str> = expected
            .get(key)
            .map(|vs| {
                vs.iter()
                    .flat_map(|v| rules_for(v).iter().copied())
                    .collect()
            })
            .unwrap_or_default();
        for r in rules {
            if !allowed.contains(r.as_str()) {
                false_pos.push(format!("{key:?}: {r}"));
            }
        }
    }
    let total: usize = expected.values().map(BTreeSet::len).sum();
    eprintln!(
        "corpus: {} objects, {total} expected violations, {true_pos} found, {} missed, {} unexpected findings",
        ev.stats.objects,
        missed.len(),
        false_pos.len()
    );
    assert!(ev.stats.objects >= 3000, "objects: {}", ev.stats.objects);
    assert!(
        missed.is_empty(),
        "missed {} violations, e.g.:\n{}",
        missed.len(),
        missed
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        false_pos.is_empty(),
        "{} false positives, e.g.:\n{}",
        false_pos.len(),
        false_pos
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
