//! Kyverno policy evaluation throughput: the 17 corpus baseline and
//! restricted policies over a generated repository of manifests.
//! Generate it first:
//! `python3 ../shared/tools/gen-corpus/gen-corpus.py --out /tmp/kyv-bench --manifests 10000 --seed 7`
//! and point `KYVERNO_BENCH_DIR` at it (default `/tmp/kyv-bench`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use gitops_guard::engine::admission::kyverno::{Policy, evaluate, load_policies};
use gitops_guard::engine::object::{Object, load_objects};
use gitops_guard::engine::yaml::Limits;

fn shared() -> PathBuf {
    if let Ok(d) = std::env::var("GITOPS_GUARD_SHARED") {
        return PathBuf::from(d);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if beside.join("corpus/kyverno-pss").is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn policies() -> Vec<Policy> {
    let root = shared().join("corpus/kyverno-pss");
    let mut objs = Vec::new();
    for group in ["baseline", "restricted"] {
        for e in std::fs::read_dir(root.join(group))
            .expect("corpus")
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            // the upstream baseline set: the -range variant is an alternative
            if name == "disallow-host-ports-range" {
                continue;
            }
            let f = e.path().join(format!("{name}.yaml"));
            let text = std::fs::read_to_string(&f).expect("policy");
            objs.extend(load_objects(&name, &text, &Limits::default()).objects);
        }
    }
    let (p, problems) = load_policies(&objs);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(p.len(), 17);
    p
}

fn objects() -> Vec<Object> {
    let dir = std::env::var("KYVERNO_BENCH_DIR").unwrap_or_else(|_| "/tmp/kyv-bench".into());
    let mut files = Vec::new();
    yaml_files(Path::new(&dir), &mut files);
    let mut objs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        objs.extend(load_objects(&f.to_string_lossy(), &text, &Limits::default()).objects);
    }
    objs
}

fn bench(c: &mut Criterion) {
    let ps = policies();
    let objs = objects();
    assert!(
        !objs.is_empty(),
        "no manifests: generate them first (see the header)"
    );
    let t = Instant::now();
    let findings: usize = objs.iter().map(|o| evaluate(&ps, o).len()).sum();
    let secs = t.elapsed().as_secs_f64();
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
