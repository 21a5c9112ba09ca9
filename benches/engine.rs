//! Engine throughput on a generated GitOps repository (the project's own
//! generator, `gitops_guard::cli::bench::corpus`): objects/s and MB/s on one
//! core, for 2,500 and 10,000 objects.
//!
//! The corpus is written to a temporary directory this bench creates and
//! removes, and read back like a checkout. Under `cargo test --benches`
//! (criterion's test mode, no `--bench` argument) each benchmark runs once
//! on a small corpus, as a smoke test.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gitops_guard::cli::bench::corpus::{ScratchDir, generate, load_tree, policy_for_tree};
use gitops_guard::cli::bench::{SEED, VIOLATION_RATE};
use gitops_guard::engine::manifests::evaluate::evaluate_tree;

/// Criterion passes `--bench` only to a real benchmark run.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn bench_engine(c: &mut Criterion) {
    let sizes: &[usize] = if measuring() {
        &[2_500, 10_000]
    } else {
        &[300]
    };
    for &n in sizes {
        let scratch = ScratchDir::new("gitops-guard-bench-engine").expect("create a temp dir");
        generate(n, SEED, VIOLATION_RATE)
            .write_to(scratch.path())
            .expect("write the corpus");
        let tree = load_tree(scratch.path()).expect("read the corpus");
        let policy = policy_for_tree(&tree);
        let bytes: usize = tree.files.iter().map(|f| f.text.len()).sum();
        let ev = evaluate_tree(&policy, &tree);
        assert_eq!(ev.stats.objects, n, "the corpus has every generated object");
        assert!(
            !ev.findings.is_empty(),
            "the corpus has injected violations"
        );
        let mut g = c.benchmark_group(format!("evaluate_tree/{n}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("objects", |b| b.iter(|| evaluate_tree(&policy, &tree)));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("bytes", |b| b.iter(|| evaluate_tree(&policy, &tree)));
        g.finish();
    }
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
