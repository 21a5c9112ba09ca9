//! `validate.podSecurity`: Kyverno evaluates the Pod Security Standards
//! with `level`, `version` and `exclude`; we map it onto the built-in PSS
//! engine through the [`PssCheck`] seam.
//!
//! Approximations (all reported when the policy loads where they apply):
//! - `version` other than `latest` is evaluated at the built-in engine's
//!   version (latest).
//! - `exclude` with `images` waives a control for the containers whose image
//!   matches; without `images` it waives the control's pod-level
//!   violations (Kyverno's rule). An exclusion with `restrictedField` /
//!   `values` cannot be matched against our violations, so it is not
//!   applied (the control stays enforced: fail closed).

use serde_json::Value as J;

use super::operators::wildcard_match;
use crate::engine::config::PssLevel;
use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::Node;

/// The PSS engine: violations of an object at a level (restricted includes
/// baseline). `crate::engine::manifests::admission::pss::check` has this shape.
pub type PssCheck<'a> = &'a dyn Fn(&Object, PssLevel) -> Vec<Violation>;

/// One `exclude` entry.
#[derive(Clone, Debug)]
pub struct Exclusion {
    /// Our rule id for the control.
    pub rule: &'static str,
    /// Image globs; empty = pod-level fields.
    pub images: Vec<String>,
}

/// A parsed `podSecurity` block.
#[derive(Clone, Debug)]
pub struct PodSecurity {
    /// `level`.
    pub level: PssLevel,
    /// `version` as written.
    pub version: String,
    /// `exclude`.
    pub exclude: Vec<Exclusion>,
}

/// PSS control names (as Kyverno/PSA spell them) → our rule ids.
pub const CONTROLS: &[(&str, &str)] = &[
    ("HostProcess", "host-process"),
    ("Host Namespaces", "host-namespaces"),
    ("Privileged Containers", "privileged"),
    ("Capabilities", "capabilities"),
    ("HostPath Volumes", "host-path"),
    ("Host Ports", "host-ports"),
    ("AppArmor", "apparmor"),
    ("SELinux", "selinux"),
    ("/proc Mount Type", "proc-mount"),
    ("Seccomp", "seccomp"),
    ("Sysctls", "sysctls"),
    ("Host Probes / Lifecycle Hooks", "host-probes"),
    ("Volume Types", "volume-types"),
    ("Privilege Escalation", "privilege-escalation"),
    ("Running as Non-root", "run-as-non-root"),
    ("Running as Non-root user", "run-as-user"),
];

impl PodSecurity {
    /// Parses the block, noting approximations in `out`.
    pub fn parse(v: &J, out: &mut Vec<String>) -> Option<PodSecurity> {
        let level = match v.get("level").and_then(J::as_str) {
            Some("baseline") => PssLevel::Baseline,
            Some("restricted") => PssLevel::Restricted,
            Some("privileged") => PssLevel::None,
            other => {
                out.push(format!("podSecurity level {other:?} is not supported"));
                return None;
            }
        };
        let version = v
            .get("version")
            .and_then(J::as_str)
            .unwrap_or("latest")
            .to_owned();
        if version != "latest" {
            out.push(format!(
                "podSecurity version `{version}` is evaluated with the built-in engine's latest version"
            ));
        }
        let mut exclude = Vec::new();
        if let Some(J::Array(list)) = v.get("exclude") {
            for e in list {
                let name = e.get("controlName").and_then(J::as_str).unwrap_or_default();
                let Some((_, rule)) = CONTROLS.iter().find(|(n, _)| *n == name) else {
                    out.push(format!(
                        "podSecurity exclude controlName `{name}` is unknown; the exclusion is not applied"
                    ));
                    continue;
                };
                if e.get("restrictedField").is_some() || e.get("values").is_some() {
                    out.push(format!(
                        "podSecurity exclude `{name}` with restrictedField/values cannot be matched precisely; the exclusion is not applied"
                    ));
                    continue;
                }
                let images = match e.get("images") {
                    Some(J::Array(i)) => i
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                exclude.push(Exclusion { rule, images });
            }
        }
        Some(PodSecurity {
            level,
            version,
            exclude,
        })
    }

    /// The violations that survive the exclusions.
    pub fn evaluate(&self, obj: &Object, pss: PssCheck<'_>) -> Vec<Violation> {
        pss(obj, self.level)
            .into_iter()
            .filter(|v| !self.excluded(obj, v))
            .collect()
    }

    fn excluded(&self, obj: &Object, v: &Violation) -> bool {
        self.exclude.iter().any(|e| {
            if e.rule != v.rule.as_str() {
                return false;
            }
            match (&v.container, e.images.is_empty()) {
                (None, true) => true,
                (Some(c), false) => container_images(obj, c)
                    .iter()
                    .any(|img| e.images.iter().any(|g| wildcard_match(g, img))),
                _ => false,
            }
        })
    }
}

/// Images of containers named `name` in every pod spec of the object.
fn container_images(obj: &Object, name: &str) -> Vec<String> {
    let specs = [
        obj.root.path(&["spec"]),
        obj.root.path(&["spec", "template", "spec"]),
        obj.root
            .path(&["spec", "jobTemplate", "spec", "template", "spec"]),
    ];
    let mut out = Vec::new();
    for spec in specs.into_iter().flatten() {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in spec.get(list).and_then(Node::as_seq).unwrap_or_default() {
                if c.get("name").and_then(Node::as_str) == Some(name)
                    && let Some(img) = c.get("image").and_then(Node::as_str)
                {
                    out.push(img.to_owned());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;
    use serde_json::json;

    fn fake(_: &Object, level: PssLevel) -> Vec<Violation> {
        let mut v = vec![
            Violation::new("capabilities", 5, "adds NET_RAW").in_container("nginx"),
            Violation::new("seccomp", 3, "pod seccomp unset"),
        ];
        if level == PssLevel::Restricted {
            v.push(Violation::new("run-as-non-root", 4, "not non-root").in_container("nginx"));
        }
        v
    }

    #[test]
    fn exclusions() {
        let obj = load_objects(
            "p.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: nginx\n    image: ghcr.io/kyverno/test-nginx:1\n",
            &Limits::default(),
        )
        .objects
        .remove(0);
        let mut out = Vec::new();
        let ps = PodSecurity::parse(
            &json!({"level": "restricted", "version": "latest", "exclude": [
                {"controlName": "Capabilities", "images": ["ghcr.io/kyverno/test-nginx*"]},
                {"controlName": "Seccomp"}]}),
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty());
        let left = ps.evaluate(&obj, &fake);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].rule.as_str(), "run-as-non-root");

        let ps = PodSecurity::parse(
            &json!({"level": "baseline", "exclude": [{"controlName": "Capabilities", "images": ["redis*"]}]}),
            &mut out,
        )
        .unwrap();
        assert_eq!(ps.evaluate(&obj, &fake).len(), 2);
        let ps = PodSecurity::parse(
            &json!({"level": "baseline", "version": "v1.24", "exclude": [{"controlName": "Capabilities", "restrictedField": "x", "values": ["y"]}]}),
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(ps.evaluate(&obj, &fake).len(), 2);
    }
}
