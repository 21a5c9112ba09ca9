//! The `gitops-guard/manifests` gate: what the repository would deploy,
//! judged object by object ([`evaluate`]) against tenant scoping
//! ([`tenants`], [`appproject`]), admission ([`admission`]: Pod Security,
//! Kyverno, images), GitOps and RBAC hardening ([`gitops`], [`rbac`],
//! [`argocd_rbac`]), secrets, unrendered templates, exceptions, and the
//! change-level rules of a PR or `check --base` ([`change`]).

pub mod admission;
pub mod application;
pub mod appproject;
pub mod argocd_rbac;
pub mod change;
pub mod evaluate;
pub mod exceptions;
pub mod gitops;
pub mod kinds;
pub mod kustomize;
pub mod object;
pub mod podspec;
pub mod rbac;
pub mod secrets;
pub mod templates;
pub mod tenants;
pub mod violation;
