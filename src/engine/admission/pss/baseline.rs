//! The baseline controls of pod-security-admission (policy version v1.37,
//! i.e. `latest`): each function mirrors one `check_*.go`, reading every
//! container of all three lists as PSA's `visitContainers` does.

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

/// `check_sysctls.go` at v1.37: the safe sysctls (1.0 set, +1.27, +1.29,
/// +1.32, +1.37). Compared as exact strings, as PSA does.
pub(super) const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// `check_seLinuxOptions.go` at v1.31+: allowed `seLinuxOptions.type`.
pub(super) const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
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
/// (drop `ALL`; add nothing but `NET_BIND_SERVICE`; Windows pods exempt
/// from the restricted part since v1.25).
pub(super) fn capabilities(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "capabilities";
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
                    if !cx.windows {
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
        if cx.windows {
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
            let mut v = crate::engine::violation::Violation::new(RULE, e.key_span.line, msg);
            v = match idx {
                Some(i) => v.in_container(cx.containers[i].name.clone()),
                None => v.in_container(container),
            };
            cx.out.push(super::PssFinding {
                level: B,
                violation: v,
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
    if let Some((t, line)) = string_leaf(cx, B, RULE, Some(opts), "type", &place)
        && !SELINUX_TYPES.contains(&t)
    {
        let msg = format!(
            "{} is {}; allowed SELinux types are container_t, container_init_t, container_kvm_t and container_engine_t",
            place.path("type"),
            quote(t)
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
/// `procMount_restricted` (never relaxed).
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

/// True for the seccomp profile types PSA accepts.
fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// `seccompProfile_baseline` (a set type must be RuntimeDefault or
/// Localhost) and, at restricted, `seccompProfile_restricted` (a container
/// without its own profile needs a valid pod-level one; Windows pods exempt
/// since v1.25).
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
        if field.or(legacy).is_none() && !pod_valid && !cx.windows {
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

/// The deprecated pod seccomp annotation.
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// The deprecated per-container seccomp annotation prefix.
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// A deprecated seccomp annotation. PSA reads only the fields since v1.19,
/// but the API server copies an annotation into an unset field when it
/// creates the pod (`applySeccompVersionSkew`), before admission — so
/// `unconfined` there becomes `Unconfined` and `runtime/default` counts as
/// set. `None` when absent, else whether the value is allowed; values the
/// API server would not accept are reported too.
fn legacy_seccomp(cx: &mut Ctx<'_, '_>, key: &str, container: Option<usize>) -> Option<bool> {
    let meta = cx.pod.metadata?;
    let annotations = meta.get("annotations")?;
    let entry = annotations.entry(key)?;
    let ok = match &entry.value.value {
        Value::Str(v) => {
            v == "runtime/default"
                || v == "docker/default"
                || v.strip_prefix("localhost/").is_some_and(|p| !p.is_empty())
        }
        Value::Null => return None,
        _ => false,
    };
    if !ok {
        let path = format!("{}[{}]", cx.pod.metadata_path("annotations"), quote(key));
        let msg = format!(
            "{path} is {}; seccomp profiles must be runtime/default or localhost/<profile> (the API server turns this annotation into the seccompProfile field)",
            show(&entry.value)
        );
        cx.report(B, "seccomp", entry.key_span.line, container, msg);
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
        match string_leaf(cx, B, RULE, Some(item), "name", &iplace) {
            Some((name, _)) if SAFE_SYSCTLS.contains(&name) => {}
            Some((name, line)) => {
                let msg = format!(
                    "{} is {}; only the safe sysctls are allowed ({})",
                    iplace.path("name"),
                    quote(name),
                    SAFE_SYSCTLS.join(", ")
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
