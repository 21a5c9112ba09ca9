//! The pure policy engine: no async, no I/O, no GitHub types. It takes plain
//! data (file contents, reviews, commits, push events) and returns findings.

pub mod appproject;
pub mod config;
pub mod evaluate;
pub mod finding;
pub mod glob;
pub mod ids;
pub mod input;
pub mod kinds;
pub mod kustomize;
pub mod object;
pub mod tenants;
pub mod violation;
pub mod yaml;
