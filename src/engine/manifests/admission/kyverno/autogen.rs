//! Kyverno's autogen (`pkg/autogen`): rules written for Pods also apply to
//! the controllers that create Pods.
//!
//! - The policy qualifies only if every rule's `match`/`exclude` filters
//!   have no `name`/`names`/`selector`/`annotations`, no kind list that
//!   mixes Pod with other kinds, no mutate `patchesJson6902` / generate
//!   rule, and at least one rule selects Pod (`CanAutoGen`).
//! - The controllers are DaemonSet, Deployment, Job, StatefulSet,
//!   ReplicaSet, ReplicationController and CronJob, or the list in the
//!   `pod-policies.kyverno.io/autogen-controllers` annotation (`none`
//!   disables autogen); the annotation only narrows a qualifying policy.
//! - A generated rule (`autogen-<rule>`, `autogen-cronjob-<rule>`) wraps the
//!   pattern in `spec.template` (`spec.jobTemplate.spec.template`) and
//!   rewrites `request.object.spec`/`.metadata` in every string.

use serde_json::Value as J;

/// The annotation that selects controllers.
pub const ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// All controllers autogen covers by default.
pub const CONTROLLERS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

/// Which form a generated rule takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `spec.template` controllers.
    Template,
    /// CronJob: `spec.jobTemplate.spec.template`.
    CronJob,
}

impl Form {
    /// The form for a controller kind.
    pub fn of(kind: &str) -> Form {
        if kind == "CronJob" {
            Form::CronJob
        } else {
            Form::Template
        }
    }

    /// Kyverno's generated rule name.
    pub fn rule_name(self, rule: &str) -> String {
        let n = match self {
            Form::Template => format!("autogen-{rule}"),
            Form::CronJob => format!("autogen-cronjob-{rule}"),
        };
        n.chars().take(63).collect()
    }
}

fn descriptions(block: Option<&J>) -> Vec<&J> {
    let Some(b) = block else { return Vec::new() };
    let mut out = Vec::new();
    for k in ["any", "all"] {
        if let Some(J::Array(items)) = b.get(k) {
            out.extend(items.iter().filter_map(|i| i.get("resources")));
        }
    }
    if let Some(r) = b.get("resources") {
        out.push(r);
    }
    out
}

fn kind_names(r: &J) -> Vec<String> {
    match r.get("kinds") {
        Some(J::Array(k)) => k
            .iter()
            .filter_map(J::as_str)
            .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// `CanAutoGen` over the raw rules of a policy.
pub fn can_autogen(rules: &[J]) -> bool {
    let mut needed = false;
    for rule in rules {
        if rule.pointer("/mutate/patchesJson6902").is_some() || rule.get("generate").is_some() {
            return false;
        }
        for r in descriptions(rule.get("match"))
            .into_iter()
            .chain(descriptions(rule.get("exclude")))
        {
            let kinds = kind_names(r);
            let has_pod = kinds.iter().any(|k| k == "Pod");
            if r.get("name").is_some()
                || r.get("names").is_some()
                || r.get("selector").is_some()
                || r.get("annotations").is_some()
                || (kinds.len() > 1 && has_pod)
            {
                return false;
            }
            needed |= has_pod;
        }
    }
    needed
}

/// The controllers a policy's Pod rules extend to.
pub fn controllers(rules: &[J], annotation: Option<&str>) -> Vec<String> {
    if !can_autogen(rules) {
        return Vec::new();
    }
    match annotation {
        None => CONTROLLERS.iter().map(|s| (*s).to_owned()).collect(),
        Some(a) if a.trim().eq_ignore_ascii_case("none") => Vec::new(),
        Some(a) if a.trim() == "all" => CONTROLLERS.iter().map(|s| (*s).to_owned()).collect(),
        Some(a) => a
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| CONTROLLERS.contains(&s.as_str()))
            .collect(),
    }
}

fn rewrite_strings(v: &J, form: Form) -> J {
    match v {
        J::String(s) => J::String(rewrite(s, form)),
        J::Array(items) => J::Array(items.iter().map(|i| rewrite_strings(i, form)).collect()),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), rewrite_strings(v, form)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Kyverno's `updateGenRuleByte` on one string.
pub fn rewrite(s: &str, form: Form) -> String {
    if !s.contains("request.") {
        return s.to_owned();
    }
    let t = match form {
        Form::Template => "spec.template",
        Form::CronJob => "spec.jobTemplate.spec.template",
    };
    let mut out = s.to_owned();
    for obj in ["request.object", "request.oldObject"] {
        out = out.replace(&format!("{obj}.spec"), &format!("{obj}.{t}.spec"));
        out = out.replace(&format!("{obj}.metadata"), &format!("{obj}.{t}.metadata"));
    }
    out
}

fn wrap(p: &J, form: Form) -> J {
    let inner = serde_json::json!({ "template": p });
    match form {
        Form::Template => serde_json::json!({ "spec": inner }),
        Form::CronJob => serde_json::json!({ "spec": { "jobTemplate": { "spec": inner } } }),
    }
}

/// The generated rule for one form: patterns wrapped, variables rewritten.
pub fn generate(rule: &J, form: Form) -> J {
    let mut r = rewrite_strings(rule, form);
    if let Some(v) = r.get_mut("validate") {
        if let Some(p) = v.get("pattern").cloned() {
            v["pattern"] = wrap(&p, form);
        }
        if let Some(J::Array(ps)) = v.get("anyPattern").cloned() {
            v["anyPattern"] = J::Array(ps.iter().map(|p| wrap(p, form)).collect());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_rule() -> J {
        json!({"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
               "validate": {"pattern": {"spec": {"hostPID": "false"}}}})
    }

    #[test]
    fn qualifying_policies() {
        assert!(can_autogen(&[pod_rule()]));
        assert_eq!(controllers(&[pod_rule()], None).len(), 7);
        assert!(controllers(&[pod_rule()], Some("none")).is_empty());
        assert_eq!(
            controllers(&[pod_rule()], Some("Deployment,CronJob")),
            ["Deployment", "CronJob"]
        );
        let named = json!({"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"], "names": ["x"]}}]}});
        assert!(!can_autogen(&[named]));
        let mixed = json!({"name": "r", "match": {"resources": {"kinds": ["Pod", "Deployment"]}}});
        assert!(!can_autogen(&[mixed]));
        let dep = json!({"name": "r", "match": {"resources": {"kinds": ["Deployment"]}}});
        assert!(!can_autogen(std::slice::from_ref(&dep)));
        assert!(can_autogen(&[dep, pod_rule()]));
        let sel = json!({"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"], "selector": {"matchLabels": {"a": "b"}}}}]}});
        assert!(!can_autogen(&[sel]));
    }

    #[test]
    fn generated_rules() {
        let g = generate(&pod_rule(), Form::Template);
        assert_eq!(
            g.pointer("/validate/pattern/spec/template/spec/hostPID"),
            Some(&json!("false"))
        );
        let g = generate(&pod_rule(), Form::CronJob);
        assert!(
            g.pointer("/validate/pattern/spec/jobTemplate/spec/template/spec")
                .is_some()
        );
        assert_eq!(
            rewrite(
                "{{ request.object.spec.containers[].image }}",
                Form::Template
            ),
            "{{ request.object.spec.template.spec.containers[].image }}"
        );
        assert_eq!(
            rewrite("{{ request.object.metadata.name }}", Form::CronJob),
            "{{ request.object.spec.jobTemplate.spec.template.metadata.name }}"
        );
        assert_eq!(Form::CronJob.rule_name("x"), "autogen-cronjob-x");
    }
}
