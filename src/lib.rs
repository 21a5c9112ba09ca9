//! gitops-guard: a GitHub App and CLI that guards GitOps deployment
//! repositories. The pure [`engine`] evaluates data; everything else is the
//! I/O shell around it.

pub mod bench_support;
pub mod engine;
pub mod queue;
