//! gitops-guard: a GitHub App and CLI that guards GitOps deployment
//! repositories. The pure [`engine`] evaluates data; everything else is the
//! I/O shell around it.

pub mod cli;
pub mod engine;
pub mod github;
pub mod pipeline;
pub mod queue;
pub mod report;
pub mod webhook;
