//! Kyverno policy evaluation throughput: the 17 upstream baseline and
//! restricted Pod Security policies (vendored in `tests/data/kyverno-pss`)
//! over a generated repository of manifests (10,000 objects; the project's
//! own generator, written to a temporary directory this bench removes).
//! Under `cargo test --benches` it runs once on a small corpus.

use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use gitops_guard::cli::bench::corpus::{ScratchDir, generate, load_tree};
use gitops_guard::cli::bench::{SEED, VIOLATION_RATE};
use gitops_guard::engine::manifests::admission::kyverno::{Policy, evaluate, load_policies};
use gitops_guard::engine::manifests::object::{Object, load_objects};
use gitops_guard::engine::yaml::Limits;

/// Criterion passes `--bench` only to a real benchmark run.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn policies() -> Vec<Policy> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kyverno-pss");
    let mut objs = Vec::new();
    for group in ["baseline", "restricted"] {
        let dir = root.join(group);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {} ({e})", dir.display()))
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            // The upstream baseline set: the -range variant is an alternative.
            if name == "disallow-host-ports-range" {
                continue;
            }
            let f = e.path().join(format!("{name}.yaml"));
            let text = std::fs::read_to_string(&f)
                .unwrap_or_else(|e| panic!("cannot read {} ({e})", f.display()));
            objs.extend(load_objects(&name, &text, &Limits::default()).objects);
        }
    }
    let (p, problems) = load_policies(&objs);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(p.len(), 17);
    p
}

fn objects(n: usize) -> Vec<Object> {
    let scratch = ScratchDir::new("gitops-guard-bench-kyverno").expect("create a temp dir");
    generate(n, SEED, VIOLATION_RATE)
        .write_to(scratch.path())
        .expect("write the corpus");
    let tree = load_tree(scratch.path()).expect("read the corpus");
    let mut objs = Vec::new();
    for f in &tree.files {
        objs.extend(load_objects(&f.path, &f.text, &Limits::default()).objects);
    }
    assert_eq!(objs.len(), n, "every generated object loads");
    objs
}

fn bench(c: &mut Criterion) {
    let ps = policies();
    let objs = objects(if measuring() { 10_000 } else { 300 });
    let t = Instant::now();
    let findings: usize = objs.iter().map(|o| evaluate(&ps, o).len()).sum();
    let secs = t.elapsed().as_secs_f64();
    assert!(findings > 0, "the corpus has injected violations");
    eprintln!(
        "{} policies x {} objects: {findings} results in {secs:.3}s = {:.0} objects/s",
        ps.len(),
        objs.len(),
        objs.len() as f64 / secs
    );
    c.bench_function("kyverno_17_policies_repo", |b| {
        b.iter(|| objs.iter().map(|o| evaluate(&ps, o).len()).sum::<usize>())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
