//! Runs every row of the vendored CODEOWNERS vector corpus
//! (`tests/data/codeowners/vectors.tsv`: pattern, path, expected match) through
//! our parser and matcher. A row is "matching" when a file consisting of the
//! single line `<pattern> @owner` makes the path owned.

use std::path::PathBuf;

use gitops_guard::engine::gates::codeowners::{CodeOwners, Ownership};

/// The vendored vectors (see `tests/data/codeowners/README.md`).
fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/codeowners/vectors.tsv")
}

#[test]
fn all_vectors_pass() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); it is part of the repository",
            path.display()
        )
    });
    let mut rows = 0;
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            3,
            "line {}: expected 3 tab-separated fields",
            i + 1
        );
        if cols == ["pattern", "path", "matches"] {
            continue;
        }
        let expected = match cols[2] {
            "true" => true,
            "false" => false,
            other => panic!("line {}: bad expectation {other:?}", i + 1),
        };
        rows += 1;
        let co = CodeOwners::parse(&format!("{} @owner\n", cols[0]));
        let got = matches!(co.owners_of(cols[1]), Ownership::Owned { .. });
        if got != expected {
            failures.push(format!(
                "line {}: pattern {:?} path {:?}: expected {expected}, got {got} (errors: {:?})",
                i + 1,
                cols[0],
                cols[1],
                co.errors
            ));
        }
    }
    assert_eq!(rows, 133, "the corpus should have 133 rows");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn shipped_sample_codeowners_is_valid() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/sample-repo/.github/CODEOWNERS");
    let text = std::fs::read_to_string(&path).expect("read sample CODEOWNERS");
    let co = CodeOwners::parse(&text);
    assert!(co.errors.is_empty(), "{:?}", co.errors);
    match co.owners_of("production/payments-api/deployment.yaml") {
        Ownership::Owned { owners, .. } => {
            assert_eq!(owners[0].to_string(), "@your-org/platform-team")
        }
        other => panic!("production is not owned: {other:?}"),
    }
    assert_eq!(co.owners_of("README.md"), Ownership::NoMatch);
}
