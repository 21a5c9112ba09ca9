//! End-to-end tests of loading and evaluating policies.

use super::*;
use crate::engine::object::load_objects;
use crate::engine::yaml::Limits;

fn objects(y: &str) -> Vec<Object> {
    load_objects("x.yaml", y, &Limits::default()).objects
}
