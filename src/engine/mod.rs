//! The pure policy engine: no async, no I/O, no GitHub or HTTP types, no
//! Markdown. It takes plain data (file contents, reviews, commits, push
//! events) and returns findings and outcomes as data; `report/` renders them.
//!
//! Grouped by product, as DESIGN.md ("Layout") lays out:
//! - [`manifests`]: the `gitops-guard/manifests` gate (tenants, admission,
//!   GitOps/RBAC hardening, secrets, templates, exceptions, change rules);
//! - [`gates`]: the PR gates (reviews, CODEOWNERS, signatures);
//! - [`pushes`]: push alerts and protection/ruleset diffs;
//! - shared below them: [`yaml`], [`config`], [`render`], ids, findings,
//!   globs and the rule catalogue.

pub mod catalog;
pub mod config;
pub mod finding;
pub mod gates;
pub mod glob;
pub mod ids;
pub mod input;
pub mod manifests;
pub mod pushes;
pub mod render;
pub mod yaml;
