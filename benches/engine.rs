//! Engine throughput on a generated 10,000-object GitOps repository
//! (`shared/tools/gen-corpus`): objects/s and MB/s on one core.
//!
//! The corpus is generated once into the target directory (Python 3, standard
//! library only). `GITOPS_GUARD_SHARED` points at the shared folder when it is
//! not beside the repository.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gitops_guard::bench_support::{corpus_dir, load_tree, policy_for_corpus};
use gitops_guard::engine::evaluate::evaluate_tree;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn bench_engine(c: &mut Criterion) {
    for n in [2_500usize, 10_000] {
        let dir = corpus_dir(&target_dir(), n).expect("generate corpus");
        let tree = load_tree(&dir).expect("read corpus");
        let policy = policy_for_corpus(&dir);
        let bytes: usize = tree.files.iter().map(|f| f.text.len()).sum();
        let objects = evaluate_tree(&policy, &tree).stats.objects;
        let mut g = c.benchmark_group(format!("evaluate_tree/{n}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(objects as u64));
        g.bench_function("objects", |b| b.iter(|| evaluate_tree(&policy, &tree)));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("bytes", |b| b.iter(|| evaluate_tree(&policy, &tree)));
        g.finish();
    }
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
