//! The pure policy engine: no async, no I/O, no GitHub types. It takes plain
//! data (file contents, reviews, commits, push events) and returns findings.

pub mod admission;
pub mod codeowners;
pub mod config;
pub mod evaluate;
pub mod finding;
pub mod ids;
pub mod input;
pub mod object;
pub mod protection;
pub mod pushes;
pub mod reviews;
pub mod signatures;
pub mod violation;
pub mod yaml;
