//! The PR gates besides manifests: [`reviews`] (approvals and CODEOWNERS
//! review as GitHub counts them, with [`codeowners`] resolving owners) and
//! [`signatures`] (commit signature verification). They return outcomes as
//! data; `report/` turns them into check-run text.

pub mod codeowners;
pub mod reviews;
pub mod signatures;
