//! The pure policy engine: no async, no I/O, no GitHub types. It takes plain
//! data (file contents, reviews, commits, push events) and returns findings.

pub mod admission;
pub mod appproject;
pub mod argocd_rbac;
pub mod catalog;
pub mod change;
pub mod codeowners;
pub mod config;
pub mod evaluate;
pub mod exceptions;
pub mod finding;
pub mod gitops;
pub mod glob;
pub mod ids;
pub mod input;
pub mod kinds;
pub mod kustomize;
pub mod object;
pub mod podspec;
pub mod protection;
pub mod pushes;
pub mod rbac;
pub mod render;
pub mod reviews;
pub mod secrets;
pub mod signatures;
pub mod templates;
pub mod tenants;
pub mod violation;
pub mod yaml;
