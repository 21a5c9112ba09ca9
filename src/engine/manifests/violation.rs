//! What a rule module returns for one object: rule, line, message. The
//! orchestrator (`evaluate.rs`) turns it into a [`Finding`](crate::engine::finding::Finding)
//! by adding the file, the object's identity and the configured severity.

use crate::engine::ids::RuleId;

/// One rule violation on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Rule id (`privileged`, `tenant-namespace`, …).
    pub rule: RuleId,
    /// 1-based line of the offending key.
    pub line: u32,
    /// What is wrong, in one sentence, naming the field and the value.
    pub message: String,
    /// The container concerned, when the rule is per container (lets
    /// exceptions waive one container without waiving the pod).
    pub container: Option<String>,
}

impl Violation {
    /// A violation not tied to a container.
    pub fn new(rule: impl Into<RuleId>, line: u32, message: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            line,
            message: message.into(),
            container: None,
        }
    }

    /// Sets the container name.
    pub fn in_container(mut self, name: impl Into<String>) -> Self {
        self.container = Some(name.into());
        self
    }
}
