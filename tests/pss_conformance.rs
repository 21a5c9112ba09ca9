//! Conformance of the built-in Pod Security Standards against the Kyverno
//! community PSS policies' own test cases (`tests/data/kyverno-pss/cases.tsv`).
//!
//! Each Kyverno policy is mapped to our rule id(s) and its level; each case
//! document is evaluated at that level, restricted to those rules, and our
//! pass/fail is compared with Kyverno's expectation. Kyverno is not the
//! reference for PSS — upstream pod-security-admission is — so every
//! disagreement is listed in [`KNOWN`] with the reason PSA (latest) and
//! Kyverno differ, and the test asserts that exact set: a new disagreement
//! (a regression) and a vanished one (a stale entry) both fail.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use gitops_guard::engine::config::PssLevel;
use gitops_guard::engine::manifests::admission::pss::{self, PssFinding};
use gitops_guard::engine::manifests::object::{Object, load_objects};
use gitops_guard::engine::manifests::podspec::pod_templates;
use gitops_guard::engine::yaml::Limits;

/// The vendored corpus (`tests/data/kyverno-pss`, part of the repository).
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kyverno-pss")
}

/// How a Kyverno policy maps onto our rules.
struct Mapping {
    level: PssLevel,
    /// Our rule ids the policy covers; `None` = the whole level
    /// (`validate.podSecurity`).
    rules: Option<&'static [&'static str]>,
    /// `podSecurity.exclude`: (rule id, image globs; empty = every container
    /// and the pod).
    exclude: &'static [(&'static str, &'static [&'static str])],
}

fn mapping(policy: &str) -> Mapping {
    use PssLevel::{Baseline as B, Restricted as R};
    let m = |level, rules: &'static [&'static str]| Mapping {
        level,
        rules: Some(rules),
        exclude: &[],
    };
    match policy {
        "disallow-capabilities" => m(B, &["capabilities"]),
        "disallow-host-namespaces" => m(B, &["host-namespaces"]),
        "disallow-host-path" => m(B, &["host-path"]),
        "disallow-host-ports" | "disallow-host-ports-range" => m(B, &["host-ports"]),
        "disallow-host-process" => m(B, &["host-process"]),
        "disallow-privileged-containers" => m(B, &["privileged"]),
        "disallow-proc-mount" => m(B, &["proc-mount"]),
        "disallow-selinux" => m(B, &["selinux"]),
        "restrict-apparmor-profiles" => m(B, &["apparmor"]),
        "restrict-seccomp" => m(B, &["seccomp"]),
        "restrict-sysctls" => m(B, &["sysctls"]),
        "disallow-capabilities-strict" => m(R, &["capabilities"]),
        "disallow-privilege-escalation" => m(R, &["privilege-escalation"]),
        "require-run-as-non-root-user" => m(R, &["run-as-user"]),
        "require-run-as-nonroot" => m(R, &["run-as-non-root"]),
        "restrict-seccomp-strict" => m(R, &["seccomp"]),
        // PSA's restrictedVolumes also forbids hostPath; we report that as
        // `host-path` at every level.
        "restrict-volume-types" => m(R, &["volume-types", "host-path"]),
        "podsecurity-subrule-baseline" => Mapping {
            level: B,
            rules: None,
            exclude: &[],
        },
        "podsecurity-subrule-restricted" => Mapping {
            level: R,
            rules: None,
            exclude: &[],
        },
        "podsecurity-subrule-restricted-capabilities" => Mapping {
            level: R,
            rules: None,
            exclude: &[("capabilities", &["ghcr.io/kyverno/test-nginx*", "redis*"])],
        },
        // `controlName: Seccomp` (pod level) and `images: ['*']`: every
        // seccomp finding is excluded.
        "podsecurity-subrule-restricted-seccomp" => Mapping {
            level: R,
            rules: None,
            exclude: &[("seccomp", &[])],
        },
        other => panic!("cases.tsv names a policy with no mapping: {other}"),
    }
}

/// Kyverno's wildcard match (`*` any run, `?` one character).
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Container name → image, over every pod template of the object.
fn images(obj: &Object) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pod in pod_templates(obj).pods {
        for c in pod.containers().0 {
            if let Some(image) = c.node.get("image").and_then(|n| n.as_str()) {
                out.insert(c.name.clone(), image.to_owned());
            }
        }
    }
    out
}

/// Our verdict: the failing (rule, message) pairs (empty = pass).
fn verdict(obj: &Object, m: &Mapping) -> BTreeSet<(String, String)> {
    let imgs = images(obj);
    pss::evaluate(obj)
        .into_iter()
        .filter(|f: &PssFinding| f.level <= m.level)
        .map(|f| f.violation)
        .filter(|v| match m.rules {
            Some(rules) => rules.contains(&v.rule.as_str()),
            None => true,
        })
        .filter(|v| {
            !m.exclude.iter().any(|(rule, globs)| {
                v.rule.as_str() == *rule
                    && (globs.is_empty()
                        || v.container
                            .as_ref()
                            .and_then(|c| imgs.get(c))
                            .is_some_and(|img| globs.iter().any(|g| wildcard(g, img))))
            })
        })
        .map(|v| (v.rule.0, v.message))
        .collect()
}

/// Every case where we disagree with Kyverno, as
/// (policy, file, kind, name) → reason. Each is a place where upstream
/// pod-security-admission (latest) differs from the Kyverno policy.
const KNOWN: &[(&str, &str, &str, &str, &str)] = &[
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob01",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob02",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob03",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob04",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob05",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob06",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob07",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob08",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob09",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "CronJob",
        "addcap-goodcronjob10",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment01",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment02",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment03",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment04",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment05",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment06",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment07",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment08",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment09",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Deployment",
        "addcap-gooddeployment10",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod01",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod02",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod03",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod04",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod05",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod06",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod07",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod08",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod09",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-capabilities-strict",
        "restricted/disallow-capabilities-strict/kyverno-test/resource.yaml",
        "Pod",
        "addcap-goodpod10",
        CAPS_ADD_RULE_ONLY,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod02-new",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod04-new",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/pod-good.yaml",
        "Pod",
        "goodpod10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob01-new",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "CronJob",
        "goodcronjob10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment01-new",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/chainsaw-test/podcontroller-good.yaml",
        "Deployment",
        "gooddeployment10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "CronJob",
        "goodcronjob10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Deployment",
        "gooddeployment10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod02",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod03",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod05",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod06",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod08",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod09",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-host-ports-range",
        "baseline/disallow-host-ports-range/kyverno-test/resource.yaml",
        "Pod",
        "goodpod10",
        HOST_PORT_RANGE,
    ),
    (
        "disallow-proc-mount",
        "baseline/disallow-proc-mount/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod01",
        PROC_MOUNT_USERNS,
    ),
    (
        "disallow-proc-mount",
        "baseline/disallow-proc-mount/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod02",
        PROC_MOUNT_USERNS,
    ),
    (
        "disallow-proc-mount",
        "baseline/disallow-proc-mount/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod03",
        PROC_MOUNT_USERNS,
    ),
    (
        "disallow-proc-mount",
        "baseline/disallow-proc-mount/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod04",
        PROC_MOUNT_USERNS,
    ),
    (
        "disallow-proc-mount",
        "baseline/disallow-proc-mount/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod05",
        PROC_MOUNT_USERNS,
    ),
    (
        "disallow-selinux",
        "baseline/disallow-selinux/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod01-new",
        SELINUX_ENGINE_T,
    ),
    (
        "disallow-selinux",
        "baseline/disallow-selinux/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod03-new",
        SELINUX_ENGINE_T,
    ),
    (
        "disallow-selinux",
        "baseline/disallow-selinux/chainsaw-test/pod-bad.yaml",
        "Pod",
        "badpod04-new",
        SELINUX_ENGINE_T,
    ),
    (
        "disallow-selinux",
        "baseline/disallow-selinux/chainsaw-test/podcontroller-bad.yaml",
        "CronJob",
        "badcronjob01-new",
        SELINUX_ENGINE_T,
    ),
    (
        "disallow-selinux",
        "baseline/disallow-selinux/chainsaw-test/podcontroller-bad.yaml",
        "Deployment",
        "baddeployment01-new",
        SELINUX_ENGINE_T,
    ),
];

/// Kyverno's `disallow-host-ports-range` is an alternative policy that
/// admits host ports 5000-6000; PSA `hostPorts` forbids every non-zero one.
const HOST_PORT_RANGE: &str =
    "Kyverno admits hostPort 5000-6000; PSA hostPorts forbids any non-zero hostPort";

/// The kyverno-test results for the `addcap-*` resources name only the rule
/// `adding-capabilities-strict`; those containers add nothing forbidden but
/// do not drop ALL, which PSA `capabilities_restricted` forbids (as does the
/// same Kyverno policy's own `require-drop-all` rule, not evaluated there).
const CAPS_ADD_RULE_ONLY: &str = "kyverno-test judges only adding-capabilities-strict; the container does not drop ALL (PSA capabilities_restricted)";

/// The pod sets `hostUsers: false`; PSA baseline `procMount` allows any
/// proc mount for user-namespace pods since policy v1.35. Kyverno has no
/// such relaxation.
const PROC_MOUNT_USERNS: &str =
    "hostUsers: false relaxes PSA baseline procMount (v1.35+); Kyverno does not";

/// PSA allows SELinux type `container_engine_t` since policy v1.31;
/// Kyverno's `disallow-selinux` lacks it.
const SELINUX_ENGINE_T: &str =
    "container_engine_t is an allowed SELinux type in PSA v1.31+; Kyverno forbids it";

#[test]
fn kyverno_pss_corpus_agrees_except_known_psa_differences() {
    let root = corpus_dir();
    let tsv = root.join("cases.tsv");
    let text = std::fs::read_to_string(&tsv).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance corpus {} ({e}); it is part of the repository",
            tsv.display()
        )
    });
    let mut files: HashMap<String, Vec<Object>> = HashMap::new();
    let mut total = 0usize;
    let mut agree = 0usize;
    let mut disagreements: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "cases.tsv line {}: {line}", n + 1);
        let (policy, file, kind, name, expected) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
        let objects = files.entry(file.to_owned()).or_insert_with(|| {
            let text = std::fs::read_to_string(root.join(file))
                .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
            let fo = load_objects(file, &text, &Limits::default());
            assert!(fo.findings.is_empty(), "{file}: {:?}", fo.findings);
            fo.objects
        });
        let obj = objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .unwrap_or_else(|| panic!("{file}: no {kind}/{name}"));
        let failed = verdict(obj, &mapping(policy));
        let ours = if failed.is_empty() { "pass" } else { "fail" };
        total += 1;
        if ours == expected {
            agree += 1;
        } else {
            let key = (policy.into(), file.into(), kind.into(), name.into());
            // A known disagreement must be for its stated reason only.
            if let Some((.., why)) = KNOWN
                .iter()
                .find(|(p, f, k, n, _)| (*p, *f, *k, *n) == (policy, file, kind, name))
            {
                let only = |needle: &str| failed.iter().all(|(_, m)| m.contains(needle));
                let ok = match *why {
                    CAPS_ADD_RULE_ONLY => only("does not contain \"ALL\""),
                    HOST_PORT_RANGE => failed.iter().all(|(_, m)| {
                        m.contains("hostPort is ")
                            && m.split("hostPort is ")
                                .nth(1)
                                .and_then(|r| r.split(';').next())
                                .and_then(|n| n.parse::<i64>().ok())
                                .is_some_and(|n| (5000..=6000).contains(&n))
                    }),
                    _ => true,
                };
                assert!(
                    ok,
                    "{key:?} disagrees for another reason than {why:?}: {failed:?}"
                );
            }
            disagreements.insert(key, format!("kyverno {expected}, ours {ours} {failed:?}"));
        }
    }
    assert_eq!(total, 2232, "cases.tsv should hold 2232 cases");
    eprintln!("PSS conformance: {agree}/{total} agree with Kyverno");
    let known: BTreeMap<(String, String, String, String), &str> = KNOWN
        .iter()
        .map(|(p, f, k, n, why)| {
            (
                (p.to_string(), f.to_string(), k.to_string(), n.to_string()),
                *why,
            )
        })
        .collect();
    let unexpected: Vec<_> = disagreements
        .iter()
        .filter(|(k, _)| !known.contains_key(*k))
        .map(|(k, v)| format!("{k:?}: {v}"))
        .collect();
    let stale: Vec<_> = known
        .keys()
        .filter(|k| !disagreements.contains_key(*k))
        .map(|k| format!("{k:?}"))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "unexpected disagreements:\n{}\nstale KNOWN entries:\n{}",
        unexpected.join("\n"),
        stale.join("\n")
    );
    assert_eq!(agree + KNOWN.len(), total);
}

#[test]
fn wildcard_matches_like_kyverno() {
    assert!(wildcard("redis*", "redis:7"));
    assert!(wildcard(
        "ghcr.io/kyverno/test-nginx*",
        "ghcr.io/kyverno/test-nginx:1"
    ));
    assert!(!wildcard("redis*", "docker.io/redis"));
    assert!(wildcard("*", ""));
    assert!(wildcard("a?c", "abc"));
    assert!(!wildcard("a?c", "ac"));
}

/// The fixtures under `tests/data/pss/`: every object states, in the
/// annotation `gitops-guard.test/<level>`, the exact set of rule ids it must
/// produce at that level (evasion attempts and clean workloads).
#[test]
fn fixtures_produce_exactly_their_stated_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pss");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let fo = load_objects(&path.display().to_string(), &text, &Limits::default());
        assert!(
            fo.findings.is_empty(),
            "{}: {:?}",
            path.display(),
            fo.findings
        );
        for obj in &fo.objects {
            let ann = obj.root.path(&["metadata", "annotations"]);
            let mut stated = 0;
            for (level, key) in [
                (PssLevel::Baseline, "gitops-guard.test/baseline"),
                (PssLevel::Restricted, "gitops-guard.test/restricted"),
            ] {
                let Some(want) = ann.and_then(|a| a.get(key)).and_then(|v| v.as_str()) else {
                    continue;
                };
                stated += 1;
                let want: BTreeSet<&str> = want.split_whitespace().collect();
                let got = pss::check(obj, level);
                let got_ids: BTreeSet<&str> = got.iter().map(|v| v.rule.as_str()).collect();
                assert_eq!(
                    got_ids, want,
                    "{} {} at {level:?}: {got:#?}",
                    obj.kind, obj.name
                );
                for v in &got {
                    assert!(v.line >= obj.line && v.line < obj.line + 60, "{v:?}");
                }
                checked += 1;
            }
            assert!(
                stated > 0,
                "{}/{} states no expectation",
                obj.kind,
                obj.name
            );
        }
    }
    assert!(checked >= 20, "only {checked} fixture expectations");
}
