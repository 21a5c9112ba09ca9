//! gitops-guard: a GitHub App and CLI that guards GitOps deployment
//! repositories. The pure [`engine`] evaluates data; everything else is the
//! I/O shell around it.

pub mod alerts;
pub mod cli;
pub mod deliveries_cli;
pub mod engine;
pub mod github;
pub mod gitrepo;
pub mod healthcheck;
pub mod metrics;
pub mod pipeline;
pub mod queue;
pub mod register;
pub mod report;
pub mod server;
pub mod settings;
pub mod webhook;
