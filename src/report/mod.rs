//! Renderers: pure functions from an [`Evaluation`](crate::engine::manifests::evaluate::Evaluation)
//! to text, JSON and SARIF, and to check-run output for the App.

pub mod checkrun;
pub mod json;
pub mod ruledoc;
pub mod sarif;
pub mod summary;
pub mod text;
