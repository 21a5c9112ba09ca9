//! The orchestrator: selects manifest files, loads objects, runs every rule
//! module, applies levels and exceptions, and returns an [`Evaluation`].
//! Both shells (CLI and App) call [`evaluate_tree`] or [`evaluate_change`].

use super::finding::{Finding, sort_findings};
use super::input::{ChangeInput, PolicyInputs, TreeInput};
use super::object::load_objects;
use super::yaml::Limits;

/// Counters for reports and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Manifest files read.
    pub files: usize,
    /// Objects evaluated.
    pub objects: usize,
    /// Bytes of manifest text read.
    pub bytes: usize,
}

/// The result of one evaluation.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Every finding, sorted by file, line, rule.
    pub findings: Vec<Finding>,
    /// Counters.
    pub stats: Stats,
    /// Human-readable notes for summaries (exceptions applied or expired,
    /// policy changes), one line each.
    pub notes: Vec<String>,
}

/// Evaluates every manifest in a tree.
pub fn evaluate_tree(_policy: &PolicyInputs, tree: &TreeInput) -> Evaluation {
    // Integration point: rule modules are wired in as they land.
    let limits = Limits::default();
    let mut ev = Evaluation::default();
    for f in &tree.files {
        let fo = load_objects(&f.path, &f.text, &limits);
        ev.stats.files += 1;
        ev.stats.bytes += f.text.len();
        ev.stats.objects += fo.objects.len();
        ev.findings.extend(fo.findings);
    }
    sort_findings(&mut ev.findings);
    ev
}

/// Evaluates a change (a PR, or `check --base REV`).
pub fn evaluate_change(policy: &PolicyInputs, change: &ChangeInput) -> Evaluation {
    let tree = TreeInput {
        files: change
            .changed
            .iter()
            .filter_map(|c| {
                c.head
                    .as_ref()
                    .map(|t| super::input::SourceFile::new(&c.path, t))
            })
            .collect(),
    };
    evaluate_tree(policy, &tree)
}
