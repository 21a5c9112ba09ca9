//! `gitops-guard bench [DIR] [--objects N] [--runs R] [--threads T]`: times the engine on a
//! generated GitOps repository (or DIR) and reports objects/s, MB/s and the
//! process's peak resident memory. Run it pinned to one core
//! (`taskset -c 0`) to reproduce the published numbers.
//!
//! Without DIR the repository is made by [`corpus`] (seed [`SEED`],
//! violation rate [`VIOLATION_RATE`]) and written to a fresh temporary
//! directory, read back from disk like a real checkout, and removed at the
//! end: nothing outside that directory is written.

pub mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use self::corpus::{ScratchDir, generate, load_tree, policy_for_tree};
use super::EXIT_USAGE;
use crate::engine::manifests::evaluate::evaluate_tree_with;

/// Seed of the published benchmark corpus.
pub const SEED: u64 = 7;

/// Share of workloads with injected violations in the benchmark corpus.
pub const VIOLATION_RATE: f64 = 0.3;

/// Peak resident set size of this process in KiB (`VmHWM`), Linux only.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the benchmark.
pub fn run(dir: Option<PathBuf>, objects: usize, runs: usize, threads: usize) -> ExitCode {
    // Held to the end of the run: dropping it removes the generated corpus.
    let mut scratch = None;
    let dir = match dir {
        Some(d) => d,
        None => {
            let made = ScratchDir::new("gitops-guard-bench").and_then(|s| {
                generate(objects, SEED, VIOLATION_RATE).write_to(s.path())?;
                Ok(s)
            });
            match made {
                Ok(s) => scratch.insert(s).path().to_path_buf(),
                Err(e) => {
                    eprintln!("gitops-guard bench: cannot write the generated corpus: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        }
    };
    let read_start = Instant::now();
    let tree = match load_tree(&dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gitops-guard bench: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let read_time = read_start.elapsed();
    let policy = policy_for_tree(&tree);
    let bytes: usize = tree.files.iter().map(|f| f.text.len()).sum();
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let ev = evaluate_tree_with(&policy, &tree, threads.max(1));
        let d = t.elapsed();
        best = best.min(d);
        total += d;
        last = Some(ev);
    }
    let Some(ev) = last else {
        return ExitCode::from(EXIT_USAGE);
    };
    let secs = best.as_secs_f64();
    let origin = if scratch.is_some() {
        format!("generated, seed {SEED}, in {}", dir.display())
    } else {
        dir.display().to_string()
    };
    println!(
        "corpus: {origin} ({} files, {} objects, {:.1} MB)",
        ev.stats.files,
        ev.stats.objects,
        bytes as f64 / 1e6
    );
    println!(
        "read from disk: {:.3} s (not included below)",
        read_time.as_secs_f64()
    );
    println!(
        "evaluate ({} thread{}): best {:.3} s, mean {:.3} s over {} runs; {:.0} objects/s, {:.1} MB/s; {} findings",
        threads.max(1),
        if threads > 1 { "s" } else { "" },
        secs,
        total.as_secs_f64() / runs.max(1) as f64,
        runs.max(1),
        ev.stats.objects as f64 / secs,
        bytes as f64 / 1e6 / secs,
        ev.findings.len()
    );
    match peak_rss_kib() {
        Some(k) => println!("peak RSS: {:.1} MB", k as f64 / 1024.0),
        None => println!("peak RSS: unavailable on this platform"),
    }
    ExitCode::SUCCESS
}
