//! Manifest YAML, read the way Kubernetes reads it.
//!
//! Kubernetes, kubectl and Argo CD decode manifests with sigs.k8s.io/yaml, a
//! fork of go-yaml **v2**: YAML 1.1 scalars (`yes`, `on`, `y` are booleans,
//! `0777` is octal), explicit core tags, anchors, aliases and `<<` merge keys,
//! multi-document streams, then a conversion to JSON (map keys stringified).
//! If we read a file differently from the cluster, an attacker hides a
//! privileged container behind a spelling, so this loader mirrors go-yaml v2
//! scalar by scalar (see `scalar.rs`) and is tested differentially against
//! it. It is built on saphyr-parser events (positions on every node) rather
//! than a tree loader, because tree loaders expand aliases without limit.
//!
//! Where tools disagree, we refuse instead of guessing: duplicate keys
//! (including keys that only collide once stringified for JSON, like `true`
//! and `"true"`), a merge key that would override a key set explicitly
//! before it, non-core tags, and the few flow-context plain scalars that
//! YAML 1.1 and 1.2 split differently (`[x:]`, `[?x]`) are errors. An
//! explicit key *after* `<<` overrides the merged value, as in the
//! cluster's non-strict decoder (strict go-yaml would call it a duplicate).
//!
//! saphyr-parser is a YAML 1.2 parser; where it differs from libyaml (the
//! parser inside go-yaml) the loader closes the gap (see `loader.rs`): it
//! refuses what libyaml refuses (control characters, `\/` escapes, anchor
//! names outside `[A-Za-z0-9_-]`, a bare document after `...`, a leading
//! `...`), keeps a byte order mark inside the stream as content, and
//! re-parses after a minimal repair where saphyr alone refuses what libyaml
//! reads (`key:\tvalue`, `"\'"`, `[-]`, `*a: v`). go-yaml's own alias-bomb
//! guard ("excessive aliasing") is replayed exactly, and our node budget
//! ([`Limits::max_nodes`]) bounds memory beyond it.
//!
//! `tests/yaml_differential.rs` checks all of this against go-yaml v2 itself
//! and lists, with reasons, every input where we deliberately differ.

mod loader;
mod node;
mod scalar;

pub use loader::{LoadError, Loaded, load_documents};
pub use node::{Entry, Node, Span, Value};
pub use scalar::{ScalarTag, resolve_plain, resolve_tagged};

/// Bounds on what an attacker-controlled file may cost us.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes a file may produce after alias expansion (billion laughs).
    pub max_nodes: usize,
    /// Most documents in one file.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 2_000_000,
            max_documents: 10_000,
        }
    }
}
