//! The baseline controls of pod-security-admission: each function mirrors
//! one `check_*.go` with its versioned implementations (`cx.v` is the policy
//! minor version), reading every container of all three lists as PSA's
//! `visitContainers` does.

use crate::engine::config::PssLevel;
use crate::engine::yaml::{Node, Value};

use super::read::{Ctx, Field, Place, bool_at, present, quote, show, str_at, wrong_type};

const B: PssLevel = PssLevel::Baseline;
const R: PssLevel = PssLevel::Restricted;

/// `check_capabilities_baseline.go`: the only capabilities baseline lets a
/// container add. PSA compares exact strings, so `sys_admin` or
/// `CAP_CHOWN` are outside the list and fail.
pub(super) const CAPABILITIES_BASELINE: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `check_sysctls.go`: each safe sysctl with the policy minor version that
/// added it (`sysctlsAllowedV1Dot0`, then the unions of v1.27, v1.29, v1.32
/// and v1.37; every list extends the one before). Compared as exact
/// strings, as PSA does.
pub(super) const SYSCTLS: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// The safe sysctls at policy minor version `v`.
pub(super) fn safe_sysctls(v: u32) -> impl Iterator<Item = &'static str> {
    SYSCTLS
        .iter()
        .filter(move |(_, since)| *since <= v)
        .map(|(n, _)| *n)
}

/// `check_seLinuxOptions.go`: allowed `seLinuxOptions.type`, each with the
/// version that allowed it (`selinuxAllowedTypes1_0`; `container_engine_t`
/// since v1.31).
pub(super) const SELINUX_TYPES: &[(&str, u32)] = &[
    ("", 0),
    ("container_t", 0),
    ("container_init_t", 0),
    ("container_kvm_t", 0),
    ("container_engine_t", 31),
];

/// The AppArmor annotation prefix (`DeprecatedAppArmorBetaContainerAnnotationKeyPrefix`).
pub(super) const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Reports `key: true` (or a non-boolean) under `parent`.
#[allow(clippy::too_many_arguments)]
pub(super) fn forbid_true(
    cx: &mut Ctx<'_, '_>,
    level: PssLevel,
    rule: &str,
    parent: Option<&Node>,
    key: &str,
    at: &Place,
    why: &str,
) {
    match bool_at(parent, key) {
        Field::Ok { value: true, line } => {
            let msg = format!("{} is true; {why}", at.path(key));
            cx.report(level, rule, line, at.container, msg);
        }
        Field::Wrong { line, node } => {
            let msg = format!("{} {}", at.path(key), wrong_type(node, "a boolean"));
            cx.report(level, rule, line, at.container, msg);
        }
        _ => {}
    }
}

/// Reads a string leaf; a non-string is reported and read as `None`.
pub(super) fn string_leaf<'a>(
    cx: &mut Ctx<'_, '_>,
    level: PssLevel,
    rule: &str,
    parent: Option<&'a Node>,
    key: &str,
    at: &Place,
) -> Option<(&'a str, u32)> {
    match str_at(parent, key) {
        Field::Ok { value, line } => Some((value, line)),
        Field::Wrong { line, node } => {
            let msg = format!("{} {}", at.path(key), wrong_type(node, "a string"));
            cx.report(level, rule, line, at.container, msg);
            None
        }
        Field::Absent => None,
    }
}

/// `windowsHostProcess`: `windowsOptions.hostProcess` must not be true.
pub(super) fn host_process(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "host-process";
    const WHY: &str = "Windows HostProcess containers have full access to the host";
    let place = cx.pod_place().child("securityContext");
    let sc = cx.pod_sc(B, RULE);
    let wo = cx.map_at(sc, "windowsOptions", &place, B, RULE);
    forbid_true(
        cx,
        B,
        RULE,
        wo,
        "hostProcess",
        &place.child("windowsOptions"),
        WHY,
    );
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, RULE);
        let wo = cx.map_at(sc, "windowsOptions", &place, B, RULE);
        forbid_true(
            cx,
            B,
            RULE,
            wo,
            "hostProcess",
            &place.child("windowsOptions"),
            WHY,
        );
    }
}

/// `hostNamespaces`: `hostNetwork`, `hostPID`, `hostIPC` must not be true.
pub(super) fn host_namespaces(cx: &mut Ctx<'_, '_>) {
    let spec = Some(cx.pod.spec);
    let place = cx.pod_place();
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        forbid_true(
            cx,
            B,
            "host-namespaces",
            spec,
            key,
            &place,
            "sharing the host's namespaces breaks pod isolation",
        );
    }
}

/// `privileged`: `securityContext.privileged` must not be true.
pub(super) fn privileged(cx: &mut Ctx<'_, '_>) {
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, "privileged");
        forbid_true(
            cx,
            B,
            "privileged",
            sc,
            "privileged",
            &place,
            "privileged containers have full access to the host",
        );
    }
}

/// `capabilities_baseline` and, at restricted, `capabilities_restricted`
/// (v1.22+: drop `ALL`; add nothing but `NET_BIND_SERVICE`; Windows pods
/// exempt from it since v1.25). Before v1.22 restricted checks capabilities
/// as baseline does.
pub(super) fn capabilities(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "capabilities";
    let restricted = cx.v >= 22 && !cx.windows;
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, RULE);
        let caps = cx.map_at(sc, "capabilities", &place, B, RULE);
        let place = place.child("capabilities");
        let add = cx.seq_at(caps, "add", &place, B, RULE);
        for (k, item) in add.iter().enumerate() {
            let path = format!("{}[{k}]", place.path("add"));
            match &item.value {
                Value::Str(s) if s == "NET_BIND_SERVICE" => {}
                Value::Str(s) if CAPABILITIES_BASELINE.contains(&s.as_str()) => {
                    if restricted {
                        let msg = format!(
                            "{path} is {}; restricted allows adding only NET_BIND_SERVICE",
                            quote(s)
                        );
                        cx.report(R, RULE, item.span.line, Some(i), msg);
                    }
                }
                Value::Str(s) => {
                    let msg = format!(
                        "{path} is {}; baseline allows adding only {} (exact, case-sensitive names without the CAP_ prefix)",
                        quote(s),
                        CAPABILITIES_BASELINE.join(", ")
                    );
                    cx.report(B, RULE, item.span.line, Some(i), msg);
                }
                Value::Null => {
                    let msg = format!("{path} is null; capability names must be strings");
                    cx.report(B, RULE, item.span.line, Some(i), msg);
                }
                _ => {
                    let msg = format!("{path} {}", wrong_type(item, "a string"));
                    cx.report(B, RULE, item.span.line, Some(i), msg);
                }
            }
        }
        if !restricted {
            continue;
        }
        let drop = cx.seq_at(caps, "drop", &place, R, RULE);
        let mut has_all = false;
        for (k, item) in drop.iter().enumerate() {
            match &item.value {
                Value::Str(s) if s == "ALL" => has_all = true,
                Value::Str(_) => {}
                _ => {
                    let msg = format!(
                        "{}[{k}] {}",
                        place.path("drop"),
                        wrong_type(item, "a string")
                    );
                    cx.report(R, RULE, item.span.line, Some(i), msg);
                }
            }
        }
        if !has_all {
            let line = cx.missing_line(i, &["securityContext", "capabilities", "drop"]);
            let msg = format!(
                "{} does not contain \"ALL\"; restricted requires dropping ALL capabilities",
                place.path("drop")
            );
            cx.report(R, RULE, line, Some(i), msg);
        }
    }
}

/// `hostPathVolumes`: no `hostPath` volumes. (At restricted PSA reports them
/// under `restrictedVolumes`; we keep `host-path` so one exception covers
/// both levels.)
pub(super) fn host_path(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "host-path";
    let place = cx.pod_place();
    let spec = Some(cx.pod.spec);
    let volumes = cx.seq_at(spec, "volumes", &place, B, RULE);
    for (k, vol) in volumes.iter().enumerate() {
        let vplace = place.item("volumes", k);
        if vol.as_map().is_none() {
            let path = format!("{}volumes[{k}]", place.path(""));
            cx.shape(vol, vol.span.line, &path, "a mapping", B, RULE, None);
            continue;
        }
        if let Some((line, node)) = present(Some(vol), "hostPath") {
            let target = node
                .get("path")
                .map(show)
                .unwrap_or_else(|| "no path".into());
            let msg = format!(
                "{}{} mounts the host path {target}{}; hostPath volumes are forbidden",
                vplace.path("hostPath"),
                volume_name(vol),
                if node.as_map().is_some() {
                    String::new()
                } else {
                    format!(" ({})", wrong_type(node, "a mapping"))
                }
            );
            cx.report(B, RULE, line, None, msg);
        }
    }
}

/// ` (volume "x")`, for messages.
pub(super) fn volume_name(vol: &Node) -> String {
    match vol.get("name").and_then(Node::as_str) {
        Some(n) => format!(" (volume {})", quote(n)),
        None => String::new(),
    }
}

/// `hostPorts`: `ports[*].hostPort` must be unset or 0.
pub(super) fn host_ports(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "host-ports";
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i);
        let node = Some(cx.containers[i].node);
        let ports = cx.seq_at(node, "ports", &place, B, RULE);
        for (k, port) in ports.iter().enumerate() {
            let pplace = place.item("ports", k);
            if port.as_map().is_none() {
                let path = format!("{}ports[{k}]", place.path(""));
                cx.shape(port, port.span.line, &path, "a mapping", B, RULE, Some(i));
                continue;
            }
            match super::read::int_at(Some(port), "hostPort") {
                Field::Ok { value: 0, .. } | Field::Absent => {}
                Field::Ok { value, line } => {
                    let msg = format!(
                        "{} is {value}; host ports are forbidden (use 0 or remove it)",
                        pplace.path("hostPort")
                    );
                    cx.report(B, RULE, line, Some(i), msg);
                }
                Field::Wrong { line, node } => {
                    let msg = format!(
                        "{} {}",
                        pplace.path("hostPort"),
                        wrong_type(node, "an integer")
                    );
                    cx.report(B, RULE, line, Some(i), msg);
                }
            }
        }
    }
}

/// `appArmorProfile`: the beta annotations and the `appArmorProfile`
/// fields (pod and containers) must be RuntimeDefault or Localhost.
pub(super) fn apparmor(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "apparmor";
    // Annotations on the pod (template) metadata.
    let meta = cx.pod.metadata;
    let mplace = cx.meta_place();
    let annotations = cx.map_at(meta, "annotations", &mplace, B, RULE);
    for e in annotations.and_then(Node::as_map).unwrap_or_default() {
        let Some(container) = e.key.strip_prefix(APPARMOR_PREFIX) else {
            continue;
        };
        let path = format!("{}[{}]", mplace.path("annotations"), quote(&e.key));
        let idx = cx.containers.iter().position(|c| c.name == container);
        let bad = match &e.value.value {
            Value::Str(v)
                if v.is_empty() || v == "runtime/default" || v.starts_with("localhost/") =>
            {
                None
            }
            Value::Str(v) => Some(format!(
                "is {}; AppArmor profiles must be runtime/default or localhost/<profile>",
                quote(v)
            )),
            Value::Null => None,
            _ => Some(wrong_type(&e.value, "a string")),
        };
        if let Some(why) = bad {
            let msg = format!("container {}: {path} {why}", quote(container));
            let mut v =
                crate::engine::manifests::violation::Violation::new(RULE, e.key_span.line, msg);
            v = match idx {
                Some(i) => v.in_container(cx.containers[i].name.clone()),
                None => v.in_container(container),
            };
            cx.out.push(super::PssFinding {
                level: B,
                violation: v,
                advisory: false,
            });
        }
    }
    // Fields.
    let place = cx.pod_place().child("securityContext");
    let sc = cx.pod_sc(B, RULE);
    apparmor_profile(cx, sc, &place);
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, RULE);
        apparmor_profile(cx, sc, &place);
    }
}

fn apparmor_profile<'a>(cx: &mut Ctx<'a, '_>, sc: Option<&'a Node>, place: &Place) {
    const RULE: &str = "apparmor";
    let Some(profile) = cx.map_at(sc, "appArmorProfile", place, B, RULE) else {
        return;
    };
    let place = place.child("appArmorProfile");
    match string_leaf(cx, B, RULE, Some(profile), "type", &place) {
        Some(("RuntimeDefault" | "Localhost", _)) => {}
        Some((t, line)) => {
            let msg = format!(
                "{} is {}; AppArmor profiles must be RuntimeDefault or Localhost",
                place.path("type"),
                quote(t)
            );
            cx.report(B, RULE, line, place.container, msg);
        }
        None if present(Some(profile), "type").is_none() => {
            let line = sc.map_or(1, |s| s.key_line("appArmorProfile"));
            let msg = format!(
                "{} is not set; AppArmor profiles must be RuntimeDefault or Localhost",
                place.path("type")
            );
            cx.report(B, RULE, line, place.container, msg);
        }
        None => {}
    }
}

/// `seLinuxOptions`: type from the allowed set; no user, no role.
pub(super) fn selinux(cx: &mut Ctx<'_, '_>) {
    let place = cx.pod_place().child("securityContext");
    let sc = cx.pod_sc(B, "selinux");
    selinux_options(cx, sc, &place);
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, "selinux");
        selinux_options(cx, sc, &place);
    }
}

fn selinux_options<'a>(cx: &mut Ctx<'a, '_>, sc: Option<&'a Node>, place: &Place) {
    const RULE: &str = "selinux";
    let Some(opts) = cx.map_at(sc, "seLinuxOptions", place, B, RULE) else {
        return;
    };
    let place = place.child("seLinuxOptions");
    let v = cx.v;
    if let Some((t, line)) = string_leaf(cx, B, RULE, Some(opts), "type", &place)
        && !SELINUX_TYPES
            .iter()
            .any(|(name, since)| *name == t && *since <= v)
    {
        let allowed: Vec<&str> = SELINUX_TYPES
            .iter()
            .filter(|(name, since)| !name.is_empty() && *since <= v)
            .map(|(name, _)| *name)
            .collect();
        let msg = format!(
            "{} is {}; allowed SELinux types are {}{}",
            place.path("type"),
            quote(t),
            allowed.join(", "),
            if t == "container_engine_t" {
                " (container_engine_t only from Pod Security v1.31)"
            } else {
                ""
            }
        );
        cx.report(B, RULE, line, place.container, msg);
    }
    for key in ["user", "role"] {
        if let Some((v, line)) = string_leaf(cx, B, RULE, Some(opts), key, &place)
            && !v.is_empty()
        {
            let msg = format!(
                "{} is {}; setting a custom SELinux {key} is forbidden",
                place.path(key),
                quote(v)
            );
            cx.report(B, RULE, line, place.container, msg);
        }
    }
}

/// `procMount` (baseline, relaxed for `hostUsers: false` since v1.35) and
/// `procMount_restricted` (v1.35+, never relaxed; before v1.35 the baseline
/// check was unconditional, so restricted forbade the same).
pub(super) fn proc_mount(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "proc-mount";
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, RULE);
        let level = if cx.user_ns { R } else { B };
        match string_leaf(cx, level, RULE, sc, "procMount", &place) {
            Some(("Default", _)) | None => {}
            Some((v, line)) => {
                let msg = format!(
                    "{} is {}; only the Default proc mount is allowed{}",
                    place.path("procMount"),
                    quote(v),
                    if cx.user_ns {
                        " in restricted (baseline allows it because the pod sets hostUsers: false)"
                    } else {
                        ""
                    }
                );
                cx.report(level, RULE, line, Some(i), msg);
            }
        }
    }
}

/// `seccompProfile_baseline` and, at restricted, `seccompProfile_restricted`,
/// with the legacy annotations (`seccomp.security.alpha.kubernetes.io/pod`,
/// `container.seccomp.security.alpha.kubernetes.io/<name>`) as each version
/// sees them:
///
/// - v1.0–v1.18: PSA reads only the annotations (`seccompProfileBaseline_1_0`:
///   `runtime/default`, `docker/default`, `localhost/*`). Restricted has no
///   seccomp requirement of its own yet. We judge the fields too, by the
///   v1.19 rule (stricter than PSA): every cluster that knows the field
///   applies it, and v1.19–v1.26 API servers copied it into the annotation
///   PSA reads.
/// - v1.19–v1.26: PSA reads only the fields, but those API servers copied an
///   annotation into the unset field when creating the pod
///   (`applySeccompVersionSkew`, before admission), so `unconfined` there
///   becomes `Unconfined` and `runtime/default` counts as set.
/// - v1.27+: the API server no longer copies them; the annotations do
///   nothing. Each is reported as a warning that says so, and satisfies
///   nothing (a restricted pod relying on one has no profile).
///
/// At restricted (v1.19+) a container without its own valid profile needs a
/// valid pod-level one; Windows pods are exempt since v1.25.
pub(super) fn seccomp(cx: &mut Ctx<'_, '_>) {
    let place = cx.pod_place().child("securityContext");
    let sc = cx.pod_sc(B, "seccomp");
    let field = seccomp_profile(cx, sc, &place);
    let legacy = legacy_seccomp(cx, SECCOMP_POD_ANNOTATION, None);
    let pod_valid = field.or(legacy) == Some(true);
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, B, "seccomp");
        let field = seccomp_profile(cx, sc, &place);
        let key = format!(
            "{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}",
            cx.containers[i].name
        );
        let legacy = legacy_seccomp(cx, &key, Some(i));
        if cx.v >= 19 && field.or(legacy).is_none() && !pod_valid && !cx.windows {
            let line = cx.missing_line(i, &["securityContext"]);
            let msg = format!(
                "{} is not set and the pod sets no valid {}; restricted requires RuntimeDefault or Localhost",
                place.path("seccompProfile.type"),
                cx.pod_place().path("securityContext.seccompProfile.type")
            );
            cx.report(R, "seccomp", line, Some(i), msg);
        }
    }
}

/// True for the seccomp profile types PSA accepts.
fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// The deprecated pod seccomp annotation.
pub(super) const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// The deprecated per-container seccomp annotation prefix.
pub(super) const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str =
    "container.seccomp.security.alpha.kubernetes.io/";

/// A deprecated seccomp annotation at the policy version (see [`seccomp`]).
/// `None` when absent or without effect, else whether the value is allowed;
/// a disallowed value is reported.
fn legacy_seccomp(cx: &mut Ctx<'_, '_>, key: &str, container: Option<usize>) -> Option<bool> {
    let meta = cx.pod.metadata?;
    let annotations = meta.get("annotations")?;
    let entry = annotations.entry(key)?;
    let path = || format!("{}[{}]", cx.pod.metadata_path("annotations"), quote(key));
    let value = match &entry.value.value {
        Value::Null => return None,
        Value::Str(v) => v.as_str(),
        _ => {
            // Annotation values are strings; the API server rejects others.
            let msg = format!("{} {}", path(), wrong_type(&entry.value, "a string"));
            cx.report(B, "seccomp", entry.key_span.line, container, msg);
            return Some(false);
        }
    };
    let line = entry.key_span.line;
    if cx.v >= 27 {
        let msg = format!(
            "{} is {} and has no effect: since Kubernetes v1.27 the API server no longer copies the seccomp annotations into securityContext.seccompProfile, and Pod Security ignores them; set {} instead",
            path(),
            quote(value),
            match container {
                Some(_) => "the container's securityContext.seccompProfile",
                None => "spec.securityContext.seccompProfile",
            }
        );
        cx.advise("seccomp", line, container, msg);
        return None;
    }
    let ok = if cx.v < 19 {
        // `validSeccompAnnotationValue`: a bare prefix test.
        value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
    } else {
        // What the API server copies into the field and then validates:
        // `localhost/` must name a profile.
        value == "runtime/default"
            || value == "docker/default"
            || value
                .strip_prefix("localhost/")
                .is_some_and(|p| !p.is_empty())
    };
    if !ok {
        let how = if cx.v < 19 {
            format!("Pod Security v1.{} reads this annotation", cx.v)
        } else {
            "the API server before v1.27 turns this annotation into the seccompProfile field".into()
        };
        let msg = format!(
            "{} is {}; seccomp profiles must be runtime/default or localhost/<profile> ({how})",
            path(),
            quote(value),
        );
        cx.report(B, "seccomp", line, container, msg);
    }
    Some(ok)
}

/// Checks one `seccompProfile`; `None` when unset, else whether it is valid.
fn seccomp_profile<'a>(cx: &mut Ctx<'a, '_>, sc: Option<&'a Node>, place: &Place) -> Option<bool> {
    const RULE: &str = "seccomp";
    present(sc, "seccompProfile")?;
    let Some(profile) = cx.map_at(sc, "seccompProfile", place, B, RULE) else {
        return Some(false);
    };
    let place = place.child("seccompProfile");
    match string_leaf(cx, B, RULE, Some(profile), "type", &place) {
        Some((t, _)) if valid_seccomp(t) => Some(true),
        Some((t, line)) => {
            let msg = format!(
                "{} is {}; seccomp profiles must be RuntimeDefault or Localhost",
                place.path("type"),
                quote(t)
            );
            cx.report(B, RULE, line, place.container, msg);
            Some(false)
        }
        None => {
            if present(Some(profile), "type").is_none() {
                let line = sc.map_or(1, |s| s.key_line("seccompProfile"));
                let msg = format!(
                    "{} is not set; seccomp profiles must be RuntimeDefault or Localhost",
                    place.path("type")
                );
                cx.report(B, RULE, line, place.container, msg);
            }
            Some(false)
        }
    }
}

/// `sysctls`: pod-level sysctls must be in the safe set.
pub(super) fn sysctls(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "sysctls";
    let place = cx.pod_place().child("securityContext");
    let sc = cx.pod_sc(B, RULE);
    let list = cx.seq_at(sc, "sysctls", &place, B, RULE);
    for (k, item) in list.iter().enumerate() {
        let iplace = place.item("sysctls", k);
        if item.as_map().is_none() {
            let path = format!("{}sysctls[{k}]", place.path(""));
            cx.shape(item, item.span.line, &path, "a mapping", B, RULE, None);
            continue;
        }
        let v = cx.v;
        match string_leaf(cx, B, RULE, Some(item), "name", &iplace) {
            Some((name, _)) if safe_sysctls(v).any(|s| s == name) => {}
            Some((name, line)) => {
                let later = SYSCTLS
                    .iter()
                    .find(|(s, _)| *s == name)
                    .map(|(_, since)| format!(" ({name} is safe from Pod Security v1.{since})"))
                    .unwrap_or_default();
                let msg = format!(
                    "{} is {}; only the safe sysctls are allowed ({}){later}",
                    iplace.path("name"),
                    quote(name),
                    safe_sysctls(v).collect::<Vec<_>>().join(", ")
                );
                cx.report(B, RULE, line, None, msg);
            }
            None if present(Some(item), "name").is_none() => {
                let msg = format!(
                    "{} has no name; the API server rejects it",
                    place.path(&format!("sysctls[{k}]"))
                );
                cx.report(B, RULE, item.span.line, None, msg);
            }
            None => {}
        }
    }
}

/// `hostProbesAndHostLifecycle` (v1.34+): probes and lifecycle handlers must
/// not target another host.
pub(super) fn host_probes(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "host-probes";
    if cx.v < 34 {
        return;
    }
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i);
        let node = Some(cx.containers[i].node);
        let mut handlers: Vec<(&Node, Place)> = Vec::new();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(h) = cx.map_at(node, probe, &place, B, RULE) {
                handlers.push((h, place.child(probe)));
            }
        }
        if let Some(lc) = cx.map_at(node, "lifecycle", &place, B, RULE) {
            let lplace = place.child("lifecycle");
            for hook in ["postStart", "preStop"] {
                if let Some(h) = cx.map_at(Some(lc), hook, &lplace, B, RULE) {
                    handlers.push((h, lplace.child(hook)));
                }
            }
        }
        for (h, hplace) in handlers {
            for action in ["httpGet", "tcpSocket"] {
                let Some(a) = cx.map_at(Some(h), action, &hplace, B, RULE) else {
                    continue;
                };
                let aplace = hplace.child(action);
                if let Some((host, line)) = string_leaf(cx, B, RULE, Some(a), "host", &aplace)
                    && !host.is_empty()
                {
                    let msg = format!(
                        "{} is {}; probes and lifecycle hooks must not target another host",
                        aplace.path("host"),
                        quote(host)
                    );
                    cx.report(B, RULE, line, Some(i), msg);
                }
            }
        }
    }
}
