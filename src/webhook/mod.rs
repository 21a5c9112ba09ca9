//! HTTP intake only: signature check ([`verify`]) and the routes
//! ([`routes`]) that verify, deduplicate and hand each delivery to the
//! journal ([`crate::queue::journal`]) before answering 2xx. Payload types
//! live in [`crate::github::event`]; the workers in [`crate::queue::pool`].

pub mod routes;
pub mod verify;
