//! Shared machinery of the `fuzz_*` property fuzzers (proptest; cargo-fuzz
//! needs a nightly toolchain and a libFuzzer build, which CI does not
//! have): seed corpora from real fixtures, structure-aware mutations, the
//! case count (`FUZZ_CASES`, default 256; sustained runs set it high), and
//! a per-input time bound.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;

/// A seed corpus loaded once per test binary.
pub fn once(
    cell: &'static std::sync::OnceLock<Vec<Vec<u8>>>,
    load: fn() -> Vec<Vec<u8>>,
) -> &'static [Vec<u8>] {
    cell.get_or_init(load)
}

/// Cases per property (`FUZZ_CASES`).
pub fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Proptest config for a fuzzer: many cases, no persistence noise, and
/// no shrinking budget beyond what a crash report needs.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Longest one input may take (debug build, loaded machine).
pub const PER_INPUT: Duration = Duration::from_secs(5);

/// Runs `f` and fails if it took longer than [`PER_INPUT`].
pub fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < PER_INPUT,
        "{what} took {:?} (bound {PER_INPUT:?})",
        t.elapsed()
    );
    r
}

/// Files under the directories `dirs` (relative to the crate root, all
/// part of the repository) whose name ends in one of `exts`, recursively,
/// at most `max` of them. A missing directory is a broken checkout: the
/// fuzzer would silently lose its seeds, so it panics instead.
pub fn corpus(dirs: &[&str], exts: &[&str], max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in dirs {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        assert!(
            p.is_dir(),
            "seed directory {} is missing (it is part of the repository)",
            p.display()
        );
        walk(&p, exts, max, &mut out);
    }
    assert!(
        !out.is_empty(),
        "no seed files under {dirs:?} ending in {exts:?}"
    );
    out
}

fn walk(dir: &Path, exts: &[&str], max: usize, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= max {
            return;
        }
        if p.is_dir() {
            walk(&p, exts, max, out);
        } else if exts.iter().any(|e| p.to_string_lossy().ends_with(e))
            && let Ok(b) = std::fs::read(&p)
            && b.len() <= 256 * 1024
        {
            out.push(b);
        }
    }
}

/// One mutation of a seed.
#[derive(Clone, Debug)]
pub enum Op {
    /// Insert bytes at a relative position.
    Insert(usize, Vec<u8>),
    /// Insert a dictionary token at a relative position.
    Token(usize, usize),
    /// Delete a span.
    Delete(usize, usize),
    /// Copy a span somewhere else (repetition, nesting).
    Duplicate(usize, usize, usize),
    /// Overwrite one byte.
    Flip(usize, u8),
    /// Cut the input.
    Truncate(usize),
}

/// A mutation program of up to `max_ops` operations.
pub fn ops(max_ops: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Op::Insert(p, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(p, t)| Op::Token(p, t)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Op::Delete(p, n)),
        (any::<usize>(), 1usize..256, any::<usize>())
            .prop_map(|(p, n, to)| Op::Duplicate(p, n, to)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Op::Flip(p, b)),
        any::<usize>().prop_map(Op::Truncate),
    ];
    proptest::collection::vec(op, 1..max_ops)
}

/// Applies `ops` to `seed`, drawing tokens from `dict`. The result is
/// capped at 1 MiB so a program of duplications cannot exhaust memory.
pub fn mutate(seed: &[u8], ops: &[Op], dict: &[&str]) -> Vec<u8> {
    const CAP: usize = 1 << 20;
    let mut b = seed.to_vec();
    for op in ops {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
        match op {
            Op::Insert(p, bytes) => {
                let i = at(*p, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Op::Token(p, t) => {
                if !dict.is_empty() {
                    let i = at(*p, b.len());
                    let tok = dict[t % dict.len()].as_bytes();
                    b.splice(i..i, tok.iter().copied());
                }
            }
            Op::Delete(p, n) => {
                let i = at(*p, b.len());
                let j = (i + n).min(b.len());
                b.drain(i..j);
            }
            Op::Duplicate(p, n, to) => {
                let i = at(*p, b.len());
                let j = (i + n).min(b.len());
                let chunk = b[i..j].to_vec();
                let k = at(*to, b.len());
                b.splice(k..k, chunk);
            }
            Op::Flip(p, v) => {
                if !b.is_empty() {
                    let i = p % b.len();
                    b[i] = *v;
                }
            }
            Op::Truncate(p) => {
                let i = at(*p, b.len());
                b.truncate(i);
            }
        }
        b.truncate(CAP);
    }
    b
}

/// Bytes as text the way the product reads files (invalid UTF-8 is
/// rejected upstream; the fuzzers feed the lossy text to the parser).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
