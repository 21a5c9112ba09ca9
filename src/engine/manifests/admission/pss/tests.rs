//! Every control, violating and compliant, in every container list and in
//! Pod, Deployment and CronJob templates; YAML 1.1 spellings; anchors and
//! merge keys.

use super::*;
use crate::engine::manifests::object::load_objects;
use crate::engine::yaml::Limits;

const B: PssLevel = PssLevel::Baseline;
const R: PssLevel = PssLevel::Restricted;

fn load(text: &str) -> Object {
    let mut fo = load_objects("t.yaml", text, &Limits::default());
    assert!(fo.findings.is_empty(), "{:?}\n{text}", fo.findings);
    assert_eq!(fo.objects.len(), 1, "{text}");
    fo.objects.remove(0)
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A pod spec (YAML at column 0) as a Pod, a Deployment and a CronJob.
fn in_kinds(spec: &str, annotations: &str) -> Vec<(&'static str, String)> {
    let ann = |n| {
        if annotations.is_empty() {
            String::new()
        } else {
            format!(
                "\n{}",
                indent(&format!("annotations:\n{}", indent(annotations, 2)), n)
            )
        }
    };
    vec![
        (
            "Pod",
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{}\nspec:\n{}\n",
                ann(2),
                indent(spec, 2)
            ),
        ),
        (
            "Deployment",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      labels: {{app: a}}{}\n    spec:\n{}\n",
                ann(6),
                indent(spec, 6)
            ),
        ),
        (
            "CronJob",
            format!(
                "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {{app: a}}{}\n        spec:\n{}\n",
                ann(10),
                indent(spec, 10)
            ),
        ),
    ]
}

/// A container body (fields after `name`/`image`) in each container list,
/// next to a plain main container when the list is not `containers`.
fn in_lists(container: &str) -> Vec<(&'static str, String)> {
    let item = format!("- name: bad\n  image: x\n{}", indent(container, 2));
    let plain = "- name: ok\n  image: x";
    vec![
        ("containers", format!("containers:\n{item}")),
        (
            "initContainers",
            format!("containers:\n{plain}\ninitContainers:\n{item}"),
        ),
        (
            "ephemeralContainers",
            format!("containers:\n{plain}\nephemeralContainers:\n{item}"),
        ),
    ]
}

fn rules_at(obj: &Object, level: PssLevel) -> Vec<Violation> {
    check(obj, level)
}

fn fails(obj: &Object, level: PssLevel, rule: &str) -> bool {
    rules_at(obj, level).iter().any(|v| v.rule.as_str() == rule)
}

/// A container-level case: `body` in every list of every kind must (or
/// must not) fail `rule` at `level` for that container (the plain container
/// beside it is not judged).
fn container_case(body: &str, level: PssLevel, rule: &str, fail: bool) {
    for (list, spec) in in_lists(body) {
        for (kind, text) in in_kinds(&spec, "") {
            let obj = load(&text);
            let vs: Vec<_> = rules_at(&obj, level)
                .into_iter()
                .filter(|v| v.rule.as_str() == rule && v.container.as_deref() != Some("ok"))
                .collect();
            assert_eq!(
                !vs.is_empty(),
                fail,
                "{rule} at {level:?}, {kind}/{list}:\n{text}\n{vs:?}"
            );
            for v in &vs {
                assert_eq!(v.container.as_deref(), Some("bad"), "{v:?}\n{text}");
                assert!(v.message.contains("\"bad\""), "{v:?}");
                assert!(v.message.contains(list), "path names the list: {v:?}");
            }
        }
    }
}

/// A pod-level case in every kind.
fn pod_case(spec: &str, annotations: &str, level: PssLevel, rule: &str, fail: bool) {
    for (kind, text) in in_kinds(spec, annotations) {
        let obj = load(&text);
        let vs = rules_at(&obj, level);
        assert_eq!(
            vs.iter().any(|v| v.rule.as_str() == rule),
            fail,
            "{rule} at {level:?}, {kind}:\n{text}\n{vs:?}"
        );
    }
}

const OK_CONTAINERS: &str = "containers:\n- name: c\n  image: x";

// ---- host-process ------------------------------------------------------

#[test]
fn host_process() {
    for v in ["true", "yes", "On", "Y"] {
        container_case(
            &format!("securityContext:\n  windowsOptions:\n    hostProcess: {v}"),
            B,
            "host-process",
            true,
        );
    }
    container_case(
        "securityContext:\n  windowsOptions:\n    hostProcess: false",
        B,
        "host-process",
        false,
    );
    let pod = |v: &str| {
        format!("securityContext:\n  windowsOptions:\n    hostProcess: {v}\n{OK_CONTAINERS}")
    };
    pod_case(&pod("true"), "", B, "host-process", true);
    pod_case(&pod("\"true\""), "", B, "host-process", true); // wrong type: reported
    pod_case(&pod("false"), "", B, "host-process", false);
    pod_case(&pod("null"), "", B, "host-process", false);
}

// ---- host-namespaces ----------------------------------------------------

#[test]
fn host_namespaces() {
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        for v in ["true", "on", "yes", "TRUE", "y", "!!bool true"] {
            pod_case(
                &format!("{key}: {v}\n{OK_CONTAINERS}"),
                "",
                B,
                "host-namespaces",
                true,
            );
        }
        for v in ["false", "off", "no", "null", "~"] {
            pod_case(
                &format!("{key}: {v}\n{OK_CONTAINERS}"),
                "",
                B,
                "host-namespaces",
                false,
            );
        }
        // A string is not a boolean: the API server rejects it; reported.
        pod_case(
            &format!("{key}: \"true\"\n{OK_CONTAINERS}"),
            "",
            B,
            "host-namespaces",
            true,
        );
    }
    let obj = load(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: c, image: x}]\n  hostPID: on\n",
    );
    let v = check(&obj, B);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].line, 5);
    assert_eq!(v[0].container, None);
    assert!(
        v[0].message.contains("spec.hostPID is true"),
        "{}",
        v[0].message
    );
}

// ---- privileged ----------------------------------------------------------

#[test]
fn privileged() {
    for v in ["true", "yes", "on", "True", "!!bool yes"] {
        container_case(
            &format!("securityContext:\n  privileged: {v}"),
            B,
            "privileged",
            true,
        );
    }
    for v in ["false", "no", "off", "null"] {
        container_case(
            &format!("securityContext:\n  privileged: {v}"),
            B,
            "privileged",
            false,
        );
    }
    container_case(
        "securityContext:\n  privileged: 'true'",
        B,
        "privileged",
        true,
    );
    container_case("securityContext:\n  privileged: 1", B, "privileged", true);
    container_case("securityContext: {}", B, "privileged", false);
    // A securityContext that is not a mapping is reported, once.
    let obj = load(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext: privileged\n",
    );
    let v = check(&obj, R);
    let shape: Vec<_> = v
        .iter()
        .filter(|v| v.message.contains("not a mapping"))
        .collect();
    assert_eq!(shape.len(), 1, "{v:?}");
    assert_eq!(shape[0].line, 6);
    assert_eq!(shape[0].container.as_deref(), Some("c"));
}

#[test]
fn privileged_message_and_line() {
    let obj = load(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: ok\n        image: x\n      - name: web\n        image: x\n        securityContext:\n          privileged: yes\n",
    );
    let v = check(&obj, B);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].rule.as_str(), "privileged");
    assert_eq!(v[0].line, 13);
    assert_eq!(v[0].container.as_deref(), Some("web"));
    assert_eq!(
        v[0].message,
        "container \"web\": spec.template.spec.containers[1].securityContext.privileged is true; privileged containers have full access to the host"
    );
}

// ---- capabilities -------------------------------------------------------

#[test]
fn capabilities_baseline_allowlist() {
    for cap in [
        "SYS_ADMIN",
        "NET_RAW",
        "sys_admin",
        "CAP_SYS_ADMIN",
        "CAP_CHOWN",
        "chown",
        "ALL",
        "\"\"",
    ] {
        container_case(
            &format!("securityContext:\n  capabilities:\n    add: [{cap}]"),
            B,
            "capabilities",
            true,
        );
    }
    for cap in super::baseline::CAPABILITIES_BASELINE {
        container_case(
            &format!("securityContext:\n  capabilities:\n    add: [{cap}]"),
            B,
            "capabilities",
            false,
        );
    }
    // Non-string items are reported (YAML 1.1 `NO` is a boolean).
    container_case(
        "securityContext:\n  capabilities:\n    add: [NO]",
        B,
        "capabilities",
        true,
    );
    container_case(
        "securityContext:\n  capabilities:\n    add: SYS_ADMIN",
        B,
        "capabilities",
        true,
    );
    container_case(
        "securityContext:\n  capabilities:\n    drop: [ALL]",
        B,
        "capabilities",
        false,
    );
}

#[test]
fn capabilities_restricted() {
    let ok = "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]";
    container_case(ok, R, "capabilities", false);
    container_case(
        "securityContext:\n  capabilities:\n    drop: [ALL]",
        R,
        "capabilities",
        false,
    );
    container_case(
        "securityContext:\n  capabilities:\n    drop: [NET_RAW, ALL]",
        R,
        "capabilities",
        false,
    );
    // drop must contain exactly "ALL".
    for drop in ["[all]", "[All]", "[CAP_ALL]", "[NET_RAW]", "[]", "null"] {
        container_case(
            &format!("securityContext:\n  capabilities:\n    drop: {drop}"),
            R,
            "capabilities",
            true,
        );
    }
    container_case("securityContext: {}", R, "capabilities", true);
    container_case("args: [a]", R, "capabilities", true);
    // Adding a baseline-allowed capability other than NET_BIND_SERVICE.
    container_case(
        "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [CHOWN]",
        R,
        "capabilities",
        true,
    );
    container_case(
        "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [CHOWN]",
        B,
        "capabilities",
        false,
    );
}

#[test]
fn capability_violation_points_at_the_item() {
    let obj = load(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext:\n      capabilities:\n        add:\n        - CHOWN\n        - sys_admin\n",
    );
    let v = check(&obj, B);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].line, 10);
    assert!(
        v[0].message
            .contains("capabilities.add[1] is \"sys_admin\""),
        "{}",
        v[0].message
    );
}

// ---- host-path -----------------------------------------------------------

#[test]
fn host_path() {
    let vol = |v: &str| format!("{OK_CONTAINERS}\nvolumes:\n- name: v\n{}", indent(v, 2));
    pod_case(
        &vol("hostPath:\n  path: /var/run/docker.sock"),
        "",
        B,
        "host-path",
        true,
    );
    pod_case(&vol("hostPath: {path: /}"), "", R, "host-path", true);
    pod_case(&vol("hostPath: /etc"), "", B, "host-path", true); // wrong type, still reported
    pod_case(&vol("emptyDir: {}"), "", B, "host-path", false);
    pod_case(&vol("hostPath: null"), "", B, "host-path", false);
    // At restricted the hostPath volume is reported once, as host-path.
    let obj = load(&in_kinds(&vol("hostPath: {path: /}"), "")[0].1);
    let v = check(&obj, R);
    assert!(
        !v.iter().any(|v| v.rule.as_str() == "volume-types"),
        "{v:?}"
    );
}

// ---- host-ports ----------------------------------------------------------

#[test]
fn host_ports() {
    for p in ["80", "0x50", "8080.0", "65536", "-1", "\"80\"", "'0'"] {
        container_case(
            &format!("ports:\n- containerPort: 80\n  hostPort: {p}"),
            B,
            "host-ports",
            true,
        );
    }
    for p in ["0", "0.0", "null", "0x0"] {
        container_case(
            &format!("ports:\n- containerPort: 80\n  hostPort: {p}"),
            B,
            "host-ports",
            false,
        );
    }
    container_case("ports:\n- containerPort: 80", B, "host-ports", false);
}

// ---- apparmor -------------------------------------------------------------

#[test]
fn apparmor_fields() {
    for t in ["Unconfined", "runtime/default", "\"\"", "RUNTIMEDEFAULT"] {
        container_case(
            &format!("securityContext:\n  appArmorProfile:\n    type: {t}"),
            B,
            "apparmor",
            true,
        );
        pod_case(
            &format!("securityContext:\n  appArmorProfile:\n    type: {t}\n{OK_CONTAINERS}"),
            "",
            B,
            "apparmor",
            true,
        );
    }
    container_case(
        "securityContext:\n  appArmorProfile: {}",
        B,
        "apparmor",
        true,
    );
    for t in ["RuntimeDefault", "Localhost"] {
        container_case(
            &format!("securityContext:\n  appArmorProfile:\n    type: {t}"),
            B,
            "apparmor",
            false,
        );
        pod_case(
            &format!("securityContext:\n  appArmorProfile:\n    type: {t}\n{OK_CONTAINERS}"),
            "",
            B,
            "apparmor",
            false,
        );
    }
}

#[test]
fn apparmor_annotations() {
    let key = "container.apparmor.security.beta.kubernetes.io/c";
    for v in [
        "unconfined",
        "Unconfined",
        "runtime/defaults",
        "docker/default",
        "localhost",
    ] {
        pod_case(OK_CONTAINERS, &format!("{key}: {v}"), B, "apparmor", true);
    }
    for v in ["runtime/default", "localhost/my-profile", "''"] {
        pod_case(OK_CONTAINERS, &format!("{key}: {v}"), B, "apparmor", false);
    }
    // Other annotations are not AppArmor.
    pod_case(
        OK_CONTAINERS,
        "example.com/apparmor: unconfined",
        B,
        "apparmor",
        false,
    );
    // The annotation names its container.
    let obj = load(&in_kinds(OK_CONTAINERS, &format!("{key}: unconfined"))[1].1);
    let v = check(&obj, B);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].container.as_deref(), Some("c"));
    assert_eq!(v[0].line, 10);
    assert!(
        v[0].message.contains("spec.template.metadata.annotations"),
        "{}",
        v[0].message
    );
}

// ---- selinux --------------------------------------------------------------

#[test]
fn selinux() {
    for t in ["spc_t", "unconfined_t", "Container_t", "container_t:s0"] {
        container_case(
            &format!("securityContext:\n  seLinuxOptions:\n    type: {t}"),
            B,
            "selinux",
            true,
        );
    }
    for t in [
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
        "''",
    ] {
        container_case(
            &format!("securityContext:\n  seLinuxOptions:\n    type: {t}\n    level: s0:c1,c2"),
            B,
            "selinux",
            false,
        );
    }
    for k in ["user: system_u", "role: system_r"] {
        container_case(
            &format!("securityContext:\n  seLinuxOptions:\n    {k}"),
            B,
            "selinux",
            true,
        );
        pod_case(
            &format!("securityContext:\n  seLinuxOptions:\n    {k}\n{OK_CONTAINERS}"),
            "",
            B,
            "selinux",
            true,
        );
    }
    pod_case(
        &format!(
            "securityContext:\n  seLinuxOptions:\n    user: ''\n    role: ''\n{OK_CONTAINERS}"
        ),
        "",
        B,
        "selinux",
        false,
    );
    pod_case(
        &format!("securityContext:\n  seLinuxOptions:\n    type: spc_t\n{OK_CONTAINERS}"),
        "",
        B,
        "selinux",
        true,
    );
}

// ---- proc-mount -----------------------------------------------------------

#[test]
fn proc_mount() {
    container_case(
        "securityContext:\n  procMount: Unmasked",
        B,
        "proc-mount",
        true,
    );
    container_case(
        "securityContext:\n  procMount: default",
        B,
        "proc-mount",
        true,
    );
    container_case(
        "securityContext:\n  procMount: Default",
        R,
        "proc-mount",
        false,
    );
    // hostUsers: false relaxes baseline (v1.35+) but not restricted.
    let spec = "hostUsers: false\ncontainers:\n- name: c\n  image: x\n  securityContext:\n    procMount: Unmasked";
    pod_case(spec, "", B, "proc-mount", false);
    pod_case(spec, "", R, "proc-mount", true);
    pod_case(&spec.replace("false", "no"), "", B, "proc-mount", false);
    // Only a real boolean false relaxes.
    for hu in ["\"false\"", "true", "null"] {
        pod_case(&spec.replace("false", hu), "", B, "proc-mount", true);
    }
}

// ---- seccomp --------------------------------------------------------------

#[test]
fn seccomp_baseline() {
    for t in ["Unconfined", "runtime/default", "''"] {
        container_case(
            &format!("securityContext:\n  seccompProfile:\n    type: {t}"),
            B,
            "seccomp",
            true,
        );
        pod_case(
            &format!("securityContext:\n  seccompProfile:\n    type: {t}\n{OK_CONTAINERS}"),
            "",
            B,
            "seccomp",
            true,
        );
    }
    container_case("securityContext:\n  seccompProfile: {}", B, "seccomp", true);
    container_case(
        "securityContext:\n  seccompProfile:\n    type: Localhost\n    localhostProfile: p.json",
        B,
        "seccomp",
        false,
    );
    // Baseline allows an unset profile.
    container_case("securityContext: {}", B, "seccomp", false);
}

#[test]
fn seccomp_restricted_inheritance() {
    // Unset everywhere fails restricted.
    container_case("securityContext: {}", R, "seccomp", true);
    container_case(
        "securityContext:\n  seccompProfile:\n    type: RuntimeDefault",
        R,
        "seccomp",
        false,
    );
    // Pod-level RuntimeDefault covers containers that set nothing.
    pod_case(
        "securityContext:\n  seccompProfile:\n    type: RuntimeDefault\ncontainers:\n- name: a\n  image: x\ninitContainers:\n- name: b\n  image: x",
        "",
        R,
        "seccomp",
        false,
    );
    // Every container set, pod unset: passes.
    pod_case(
        "containers:\n- name: a\n  image: x\n  securityContext:\n    seccompProfile: {type: Localhost}\nephemeralContainers:\n- name: b\n  image: x\n  securityContext:\n    seccompProfile: {type: RuntimeDefault}",
        "",
        R,
        "seccomp",
        false,
    );
    // Pod unset and one container unset: fails, naming that container.
    let obj = load(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      seccompProfile: {type: RuntimeDefault}\n  - name: b\n    image: x\n",
    );
    let v: Vec<_> = check(&obj, R)
        .into_iter()
        .filter(|v| v.rule.as_str() == "seccomp")
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].container.as_deref(), Some("b"));
    assert_eq!(v[0].line, 8);
    // A container overriding a good pod profile with Unconfined fails.
    pod_case(
        "securityContext:\n  seccompProfile: {type: RuntimeDefault}\ncontainers:\n- name: a\n  securityContext:\n    seccompProfile: {type: Unconfined}",
        "",
        B,
        "seccomp",
        true,
    );
    // Pod Unconfined: the containers that inherit it fail restricted too.
    pod_case(
        "securityContext:\n  seccompProfile: {type: Unconfined}\ncontainers:\n- name: a",
        "",
        R,
        "seccomp",
        true,
    );
}

#[test]
fn seccomp_legacy_annotations_do_nothing_at_latest() {
    let pod_key = "seccomp.security.alpha.kubernetes.io/pod";
    let c_key = "container.seccomp.security.alpha.kubernetes.io/c";
    for v in ["unconfined", "runtime/default", "localhost/p.json"] {
        for key in [pod_key, c_key] {
            for (kind, text) in in_kinds(OK_CONTAINERS, &format!("{key}: {v}")) {
                let obj = load(&text);
                // Baseline: nothing forbidden (PSA allows `unconfined`, the
                // annotation no longer does anything)…
                assert!(check(&obj, B).is_empty(), "{kind}: {:?}", check(&obj, B));
                // …restricted: no profile is set, whatever the annotation says.
                assert!(fails(&obj, R, "seccomp"), "{kind} {key}: {v}");
                // One advisory, naming the annotation.
                let adv: Vec<_> = evaluate(&obj).into_iter().filter(|f| f.advisory).collect();
                assert_eq!(adv.len(), 1, "{kind}: {adv:?}");
                assert_eq!(adv[0].violation.rule.as_str(), "seccomp");
                assert!(adv[0].violation.message.contains("has no effect"));
                assert!(adv[0].violation.message.contains(key));
                assert_eq!(adv[0].violation.container.is_some(), key == c_key);
            }
        }
    }
    // A non-string value is still a manifest the API server rejects.
    pod_case(OK_CONTAINERS, &format!("{pod_key}: 7"), B, "seccomp", true);
    // Without annotations there is no advisory.
    let obj = load(&in_kinds(OK_CONTAINERS, "")[0].1);
    assert!(evaluate(&obj).iter().all(|f| !f.advisory));
}

// ---- sysctls --------------------------------------------------------------

#[test]
fn sysctls() {
    let sc = |name: &str| {
        format!("securityContext:\n  sysctls:\n  - name: {name}\n    value: '1'\n{OK_CONTAINERS}")
    };
    for n in super::baseline::safe_sysctls(super::version::LATEST_MINOR) {
        pod_case(&sc(n), "", B, "sysctls", false);
    }
    assert_eq!(
        super::baseline::safe_sysctls(super::version::LATEST_MINOR).count(),
        14
    );
    for n in [
        "kernel.msgmax",
        "net.core.somaxconn",
        "net/ipv4/ip_local_port_range",
        "NET.IPV4.TCP_SYNCOOKIES",
        "net.ipv4.ip_local_port_range ",
        "vm.swappiness",
    ] {
        pod_case(&sc(&format!("{n:?}")), "", B, "sysctls", true);
    }
    pod_case(
        &format!("securityContext:\n  sysctls:\n  - value: '1'\n{OK_CONTAINERS}"),
        "",
        B,
        "sysctls",
        true,
    );
}

// ---- host-probes ----------------------------------------------------------

#[test]
fn host_probes() {
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for action in ["httpGet", "tcpSocket"] {
            container_case(
                &format!("{probe}:\n  {action}:\n    host: 169.254.169.254\n    port: 80"),
                B,
                "host-probes",
                true,
            );
            container_case(
                &format!("{probe}:\n  {action}:\n    port: 80"),
                B,
                "host-probes",
                false,
            );
            container_case(
                &format!("{probe}:\n  {action}:\n    host: ''\n    port: 80"),
                B,
                "host-probes",
                false,
            );
        }
    }
    for hook in ["postStart", "preStop"] {
        container_case(
            &format!(
                "lifecycle:\n  {hook}:\n    httpGet:\n      host: example.com\n      port: 80"
            ),
            B,
            "host-probes",
            true,
        );
        container_case(
            &format!("lifecycle:\n  {hook}:\n    exec:\n      command: [true]"),
            B,
            "host-probes",
            false,
        );
    }
}

// ---- volume-types ---------------------------------------------------------

#[test]
fn volume_types() {
    let vol = |v: &str| format!("{OK_CONTAINERS}\nvolumes:\n- name: v\n{}", indent(v, 2));
    for ok in [
        "configMap: {name: c}",
        "csi: {driver: d}",
        "downwardAPI: {items: []}",
        "emptyDir: {}",
        "ephemeral: {volumeClaimTemplate: {spec: {}}}",
        "image: {reference: r}",
        "persistentVolumeClaim: {claimName: c}",
        "projected: {sources: []}",
        "secret: {secretName: s}",
        // No source: the API server defaults it to emptyDir.
        "",
    ] {
        pod_case(&vol(ok), "", R, "volume-types", false);
    }
    for bad in [
        "nfs: {server: s, path: /}",
        "gitRepo: {repository: r}",
        "awsElasticBlockStore: {volumeID: v}",
        "iscsi: {}",
        "rbd: {}",
        "cephfs: {}",
        "flexVolume: {driver: d}",
        "configMap: {name: c}\nnfs: {server: s, path: /}",
    ] {
        pod_case(&vol(bad), "", R, "volume-types", true);
        pod_case(&vol(bad), "", B, "volume-types", false);
    }
}

// ---- privilege-escalation -------------------------------------------------

#[test]
fn privilege_escalation() {
    for v in ["false", "no", "off", "N"] {
        container_case(
            &format!("securityContext:\n  allowPrivilegeEscalation: {v}"),
            R,
            "privilege-escalation",
            false,
        );
    }
    for v in ["true", "yes", "null", "\"false\"", "0"] {
        container_case(
            &format!("securityContext:\n  allowPrivilegeEscalation: {v}"),
            R,
            "privilege-escalation",
            true,
        );
    }
    container_case("args: [a]", R, "privilege-escalation", true);
    container_case(
        "securityContext:\n  allowPrivilegeEscalation: true",
        B,
        "privilege-escalation",
        false,
    );
}

// ---- run-as-non-root -----------------------------------------------------

#[test]
fn run_as_non_root() {
    let rule = "run-as-non-root";
    // Pod true covers containers that set nothing.
    pod_case(
        "securityContext:\n  runAsNonRoot: true\ncontainers:\n- name: a\ninitContainers:\n- name: b",
        "",
        R,
        rule,
        false,
    );
    // Container true everywhere.
    pod_case(
        "containers:\n- name: a\n  securityContext: {runAsNonRoot: yes}\ninitContainers:\n- name: b\n  securityContext: {runAsNonRoot: true}",
        "",
        R,
        rule,
        false,
    );
    // Unset everywhere.
    pod_case("containers:\n- name: a", "", R, rule, true);
    // Explicit false anywhere fails even with the other level true.
    pod_case(
        "securityContext:\n  runAsNonRoot: true\ncontainers:\n- name: a\n  securityContext: {runAsNonRoot: false}",
        "",
        R,
        rule,
        true,
    );
    pod_case(
        "securityContext:\n  runAsNonRoot: false\ncontainers:\n- name: a\n  securityContext: {runAsNonRoot: true}",
        "",
        R,
        rule,
        true,
    );
    container_case("securityContext: {runAsNonRoot: false}", R, rule, true);
    container_case("securityContext: {runAsNonRoot: 'true'}", R, rule, true);
    // hostUsers: false skips the control (v1.35+).
    pod_case(
        "hostUsers: false\ncontainers:\n- name: a\n  securityContext: {runAsNonRoot: false}",
        "",
        R,
        rule,
        false,
    );
    pod_case(
        "hostUsers: 'false'\ncontainers:\n- name: a",
        "",
        R,
        rule,
        true,
    );
    pod_case("containers:\n- name: a", "", B, rule, false);
}

// ---- run-as-user ------------------------------------------------------------

#[test]
fn run_as_user() {
    let rule = "run-as-user";
    for v in ["0", "0x0", "0.0", "00", "\"0\""] {
        container_case(
            &format!("securityContext: {{runAsUser: {v}}}"),
            R,
            rule,
            true,
        );
        pod_case(
            &format!("securityContext: {{runAsUser: {v}}}\n{OK_CONTAINERS}"),
            "",
            R,
            rule,
            true,
        );
    }
    for v in ["1000", "1", "null"] {
        container_case(
            &format!("securityContext: {{runAsUser: {v}}}"),
            R,
            rule,
            false,
        );
    }
    container_case("args: [a]", R, rule, false);
    pod_case(
        "hostUsers: false\nsecurityContext: {runAsUser: 0}\ncontainers:\n- name: a",
        "",
        R,
        rule,
        false,
    );
    container_case("securityContext: {runAsUser: 0}", B, rule, false);
}

// ---- Windows and the overall profile ---------------------------------------

#[test]
fn windows_pods_are_exempt_where_psa_exempts_them() {
    let spec = "os: {name: windows}\nsecurityContext: {runAsNonRoot: true}\ncontainers:\n- name: a\n  image: x";
    let obj = load(&in_kinds(spec, "")[0].1);
    assert!(check(&obj, R).is_empty(), "{:?}", check(&obj, R));
    // But not from baseline.
    pod_case(
        "os: {name: windows}\ncontainers:\n- name: a\n  securityContext:\n    capabilities: {add: [SYS_ADMIN]}",
        "",
        R,
        "capabilities",
        true,
    );
    // `Windows` is not `windows`.
    pod_case(
        &spec.replace("windows", "Windows"),
        "",
        R,
        "privilege-escalation",
        true,
    );
    // runAsNonRoot is not exempt.
    pod_case(
        "os: {name: windows}\ncontainers:\n- name: a",
        "",
        R,
        "run-as-non-root",
        true,
    );
}

const HARDENED: &str = "securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  seccompProfile:
    type: RuntimeDefault
  sysctls:
  - {name: net.ipv4.ip_unprivileged_port_start, value: '0'}
volumes:
- {name: tmp, emptyDir: {}}
- {name: cfg, configMap: {name: c}}
- name: token
  projected:
    sources:
    - serviceAccountToken: {path: token}
initContainers:
- name: init
  image: x
  securityContext: &sc
    allowPrivilegeEscalation: false
    capabilities:
      drop: [ALL]
      add: [NET_BIND_SERVICE]
    readOnlyRootFilesystem: true
    appArmorProfile: {type: RuntimeDefault}
    seLinuxOptions: {type: container_t, level: 's0:c1'}
    procMount: Default
containers:
- name: app
  image: x
  ports:
  - {containerPort: 8080, hostPort: 0}
  livenessProbe:
    httpGet: {path: /healthz, port: 8080}
  securityContext: *sc";

#[test]
fn a_hardened_pod_passes_restricted_in_every_kind() {
    for (kind, text) in in_kinds(
        HARDENED,
        "container.apparmor.security.beta.kubernetes.io/app: runtime/default",
    ) {
        let obj = load(&text);
        assert!(check(&obj, R).is_empty(), "{kind}: {:?}", check(&obj, R));
        assert!(evaluate(&obj).is_empty());
    }
}

#[test]
fn levels_nest_and_none_checks_nothing() {
    let obj = load(&in_kinds("hostNetwork: true\ncontainers:\n- name: a", "")[0].1);
    assert!(check(&obj, PssLevel::None).is_empty());
    let b = check(&obj, B);
    let r = check(&obj, R);
    assert_eq!(b.len(), 1);
    assert!(r.len() > b.len());
    assert!(b.iter().all(|v| r.contains(v)));
    for f in evaluate(&obj) {
        let base = BASELINE_RULES.contains(&f.violation.rule.as_str());
        let restr = RESTRICTED_RULES.contains(&f.violation.rule.as_str());
        assert!(base || restr, "{f:?}");
        if restr {
            assert_eq!(f.level, R);
        }
    }
}

// ---- YAML tricks -----------------------------------------------------------

#[test]
fn anchors_and_merge_keys_cannot_hide_a_value() {
    let text = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  initContainers:
  - name: i
    image: x
    securityContext: &sc
      privileged: yes
  containers:
  - name: c
    image: x
    securityContext:
      <<: *sc
      runAsNonRoot: true
";
    let obj = load(text);
    let v: Vec<_> = check(&obj, B)
        .into_iter()
        .filter(|v| v.rule.as_str() == "privileged")
        .collect();
    let who: Vec<_> = v.iter().map(|v| v.container.clone().unwrap()).collect();
    assert_eq!(who, vec!["i", "c"]);

    // A list of merged maps, the capability hidden in the second.
    let text = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels: &a {app: a}
  annotations: &caps
    add: [SYS_ADMIN]
spec:
  template:
    spec:
      hostPID: &on on
      containers:
      - name: c
        image: x
        securityContext:
          capabilities:
            <<: [*a, *caps]
";
    let obj = load(text);
    assert!(fails(&obj, B, "capabilities"), "{:?}", check(&obj, B));
    assert!(fails(&obj, B, "host-namespaces"));

    // An aliased scalar.
    let text = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: c
  labels: {x: &t true}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          hostIPC: *t
          containers: [{name: c, image: x}]
";
    assert!(fails(&load(text), B, "host-namespaces"));
}

#[test]
fn json_manifests_are_checked() {
    let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"hostNetwork":true,"containers":[{"name":"c","securityContext":{"privileged":true}}]}}"#;
    let obj = load(text);
    assert!(fails(&obj, B, "host-namespaces"));
    assert!(fails(&obj, B, "privileged"));
}

#[test]
fn crd_templates_are_checked() {
    let text = "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  template:
    spec:
      containers:
      - name: c
        securityContext: {privileged: true}
";
    assert!(fails(&load(text), B, "privileged"));
    let text = "apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: s}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          hostNetwork: true
          containers: [{name: c}]
";
    assert!(fails(&load(text), B, "host-namespaces"));
}

#[test]
fn wrongly_shaped_templates_are_reported() {
    let obj = load(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers: {name: c}\n",
    );
    let v = check(&obj, B);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].rule.as_str(), INVALID_MANIFEST);
    assert_eq!(v[0].line, 6);
}

#[test]
fn non_pod_objects_have_no_findings() {
    let obj = load(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  hostNetwork: 'true'\n",
    );
    assert!(evaluate(&obj).is_empty());
}

// ---- policy versions ---------------------------------------------------------

fn ver(v: u32) -> PsaVersion {
    PsaVersion::V1(u64::from(v))
}

/// Whether `rule` fails the pod spec (with annotations) at `level` and
/// version `v`, in every kind (all kinds must agree).
fn fails_at(spec: &str, annotations: &str, level: PssLevel, rule: &str, v: PsaVersion) -> bool {
    let verdicts: Vec<bool> = in_kinds(spec, annotations)
        .into_iter()
        .map(|(_, text)| {
            check_at(&load(&text), level, v)
                .iter()
                .any(|x| x.rule.as_str() == rule)
        })
        .collect();
    assert!(
        verdicts.iter().all(|b| *b == verdicts[0]),
        "kinds disagree on {rule} at {v}: {spec}"
    );
    verdicts[0]
}

/// `rule` passes before v1.`from` and fails from it on (a check added or
/// tightened at that version), and the compliant twin passes throughout.
fn added_at(spec: &str, twin: &str, annotations: &str, level: PssLevel, rule: &str, from: u32) {
    assert!(
        !fails_at(spec, annotations, level, rule, ver(from - 1)),
        "{rule} must not fail at v1.{}: {spec}",
        from - 1
    );
    for v in [ver(from), PsaVersion::Latest] {
        assert!(
            fails_at(spec, annotations, level, rule, v),
            "{rule} must fail at {v}: {spec}"
        );
    }
    for v in [ver(0), ver(from - 1), ver(from), PsaVersion::Latest] {
        assert!(
            !fails_at(twin, annotations, level, rule, v),
            "twin fails {rule} at {v}: {twin}"
        );
    }
}

/// `rule` fails before v1.`from` and passes from it on (a relaxation), and
/// the twin the relaxation does not cover fails throughout.
fn relaxed_at(spec: &str, twin: &str, level: PssLevel, rule: &str, from: u32) {
    assert!(
        fails_at(spec, "", level, rule, ver(from - 1)),
        "{rule} must fail at v1.{}: {spec}",
        from - 1
    );
    for v in [ver(from), PsaVersion::Latest] {
        assert!(
            !fails_at(spec, "", level, rule, v),
            "{rule} must pass at {v}: {spec}"
        );
    }
    for v in [ver(from - 1), ver(from), PsaVersion::Latest] {
        assert!(
            fails_at(twin, "", level, rule, v),
            "twin passes {rule} at {v}: {twin}"
        );
    }
}

#[test]
fn privilege_escalation_from_1_8() {
    added_at(
        "containers:\n- name: c\n  image: x",
        "containers:\n- name: c\n  image: x\n  securityContext: {allowPrivilegeEscalation: false}",
        "",
        R,
        "privilege-escalation",
        8,
    );
}

#[test]
fn seccomp_fields_required_from_1_19() {
    added_at(
        OK_CONTAINERS,
        &format!("securityContext:\n  seccompProfile: {{type: RuntimeDefault}}\n{OK_CONTAINERS}"),
        "",
        R,
        "seccomp",
        19,
    );
}

#[test]
fn capabilities_restricted_from_1_22() {
    // Not dropping ALL.
    added_at(
        OK_CONTAINERS,
        "containers:\n- name: c\n  image: x\n  securityContext: {capabilities: {drop: [ALL]}}",
        "",
        R,
        "capabilities",
        22,
    );
    // Adding a baseline capability other than NET_BIND_SERVICE.
    added_at(
        "containers:\n- name: c\n  securityContext: {capabilities: {drop: [ALL], add: [CHOWN]}}",
        "containers:\n- name: c\n  securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}",
        "",
        R,
        "capabilities",
        22,
    );
    // Baseline's own list applies at every version.
    for v in [ver(0), ver(21), PsaVersion::Latest] {
        let spec = "containers:\n- name: c\n  securityContext: {capabilities: {add: [SYS_ADMIN]}}";
        assert!(fails_at(spec, "", B, "capabilities", v));
        assert!(fails_at(spec, "", R, "capabilities", v));
    }
}

#[test]
fn run_as_user_from_1_23() {
    for sc in ["securityContext: {runAsUser: 0}\n", ""] {
        let (spec, twin) = if sc.is_empty() {
            (
                "containers:\n- name: c\n  securityContext: {runAsUser: 0}".to_owned(),
                "containers:\n- name: c\n  securityContext: {runAsUser: 1000}".to_owned(),
            )
        } else {
            (
                format!("{sc}{OK_CONTAINERS}"),
                format!("securityContext: {{runAsUser: 1000}}\n{OK_CONTAINERS}"),
            )
        };
        added_at(&spec, &twin, "", R, "run-as-user", 23);
    }
}

#[test]
fn windows_exemptions_from_1_25() {
    let windows = "os: {name: windows}\ncontainers:\n- name: c\n  image: x";
    let linux = "os: {name: linux}\ncontainers:\n- name: c\n  image: x";
    for rule in ["privilege-escalation", "capabilities", "seccomp"] {
        relaxed_at(windows, linux, R, rule, 25);
    }
    // PSA's minimal Windows pod of v1.25 passes restricted from then on only.
    let pod = "os: {name: windows}\nsecurityContext: {runAsNonRoot: true}\ncontainers:\n- name: c\n  image: x";
    let obj = load(&in_kinds(pod, "")[0].1);
    assert!(check_at(&obj, R, ver(25)).is_empty());
    assert_eq!(
        check_at(&obj, R, ver(24)).len(),
        3,
        "{:?}",
        check_at(&obj, R, ver(24))
    );
}

#[test]
fn sysctl_lists_per_version() {
    let sc = |name: &str| {
        format!("securityContext:\n  sysctls:\n  - name: {name}\n    value: '1'\n{OK_CONTAINERS}")
    };
    let unsafe_ = sc("kernel.msgmax");
    for (name, since) in [
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_fin_timeout", 29),
        ("net.ipv4.tcp_keepalive_intvl", 29),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_slow_start_after_idle", 37),
        ("net.ipv4.tcp_notsent_lowat", 37),
    ] {
        relaxed_at(&sc(name), &unsafe_, B, "sysctls", since);
        let obj = load(&in_kinds(&sc(name), "")[0].1);
        let msg = &check_at(&obj, B, ver(since - 1))[0].message;
        assert!(
            msg.contains(&format!("safe from Pod Security v1.{since}")),
            "{msg}"
        );
    }
    for name in [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ] {
        assert!(!fails_at(&sc(name), "", B, "sysctls", ver(0)));
    }
}

#[test]
fn selinux_container_engine_t_from_1_31() {
    let spec = |t: &str| {
        format!("containers:\n- name: c\n  securityContext:\n    seLinuxOptions: {{type: {t}}}")
    };
    relaxed_at(
        &spec("container_engine_t"),
        &spec("spc_t"),
        B,
        "selinux",
        31,
    );
    for t in ["container_t", "container_init_t", "container_kvm_t"] {
        assert!(!fails_at(&spec(t), "", B, "selinux", ver(0)));
    }
}

#[test]
fn host_probes_from_1_34() {
    for body in [
        "livenessProbe:\n    httpGet: {host: 10.0.0.1, port: 80}",
        "lifecycle:\n    preStop:\n      tcpSocket: {host: example.com, port: 80}",
    ] {
        let twin = body
            .replace("host: 10.0.0.1, ", "")
            .replace("host: example.com, ", "");
        added_at(
            &format!("containers:\n- name: c\n  {body}"),
            &format!("containers:\n- name: c\n  {twin}"),
            "",
            B,
            "host-probes",
            34,
        );
    }
}

#[test]
fn user_namespace_relaxations_from_1_35() {
    let userns = "hostUsers: false\n";
    // Baseline procMount: relaxed for hostUsers: false from v1.35…
    let pm = "containers:\n- name: c\n  securityContext: {procMount: Unmasked}";
    relaxed_at(&format!("{userns}{pm}"), pm, B, "proc-mount", 35);
    // …while restricted keeps forbidding it (procMount_restricted, v1.35).
    for v in [ver(34), ver(35), PsaVersion::Latest] {
        assert!(fails_at(&format!("{userns}{pm}"), "", R, "proc-mount", v));
    }
    // runAsNonRoot and runAsUser: relaxed from v1.35 (the earlier gate was
    // a perma-alpha feature, dropped from the policy).
    relaxed_at(
        &format!("{userns}{OK_CONTAINERS}"),
        OK_CONTAINERS,
        R,
        "run-as-non-root",
        35,
    );
    let root = "containers:\n- name: c\n  securityContext: {runAsUser: 0}";
    relaxed_at(&format!("{userns}{root}"), root, R, "run-as-user", 35);
}

#[test]
fn seccomp_annotations_before_1_19_are_psa_s_own_check() {
    let pod_key = "seccomp.security.alpha.kubernetes.io/pod";
    let c_key = "container.seccomp.security.alpha.kubernetes.io/c";
    for v in [ver(0), ver(18)] {
        for key in [pod_key, c_key] {
            let ann = |val: &str| format!("{key}: {val}");
            assert!(fails_at(OK_CONTAINERS, &ann("unconfined"), B, "seccomp", v));
            assert!(fails_at(OK_CONTAINERS, &ann("unconfined"), R, "seccomp", v));
            // `validSeccompAnnotationValue` is a prefix test: a bare
            // `localhost/` passes PSA before v1.19.
            for ok in [
                "runtime/default",
                "docker/default",
                "localhost/p.json",
                "localhost/",
            ] {
                assert!(
                    !fails_at(OK_CONTAINERS, &ann(ok), B, "seccomp", v),
                    "{ok} at {v}"
                );
            }
            // Restricted requires no profile yet.
            assert!(!fails_at(OK_CONTAINERS, "", R, "seccomp", v));
        }
        // Another container's annotation is ignored (PSA looks up visited
        // containers only).
        let other = "container.seccomp.security.alpha.kubernetes.io/other: unconfined";
        assert!(!fails_at(OK_CONTAINERS, other, B, "seccomp", v));
        // Stricter than PSA: an explicit Unconfined field is judged too.
        let field =
            format!("securityContext:\n  seccompProfile: {{type: Unconfined}}\n{OK_CONTAINERS}");
        assert!(fails_at(&field, "", B, "seccomp", v));
        assert!(!fails_at(
            &field.replace("Unconfined", "RuntimeDefault"),
            "",
            B,
            "seccomp",
            v
        ));
    }
}

#[test]
fn seccomp_annotations_are_copied_into_fields_until_1_26() {
    let pod_key = "seccomp.security.alpha.kubernetes.io/pod";
    let c_key = "container.seccomp.security.alpha.kubernetes.io/c";
    for key in [pod_key, c_key] {
        let ann = |val: &str| format!("{key}: {val}");
        for v in [ver(19), ver(26)] {
            // `unconfined` becomes Unconfined: baseline fails…
            assert!(fails_at(OK_CONTAINERS, &ann("unconfined"), B, "seccomp", v));
            // …`runtime/default` becomes RuntimeDefault: restricted passes.
            for ok in ["runtime/default", "docker/default", "localhost/p.json"] {
                assert!(
                    !fails_at(OK_CONTAINERS, &ann(ok), R, "seccomp", v),
                    "{ok} at {v}"
                );
            }
            // An empty localhost profile fails the API server's validation.
            assert!(fails_at(OK_CONTAINERS, &ann("localhost/"), B, "seccomp", v));
            // No advisory while the annotation still works.
            let obj = load(&in_kinds(OK_CONTAINERS, &ann("runtime/default"))[0].1);
            assert!(evaluate_at(&obj, v).iter().all(|f| !f.advisory));
        }
        // From v1.27 it does nothing: the twin of each case above flips.
        for v in [ver(27), PsaVersion::Latest] {
            assert!(!fails_at(
                OK_CONTAINERS,
                &ann("unconfined"),
                B,
                "seccomp",
                v
            ));
            assert!(fails_at(
                OK_CONTAINERS,
                &ann("runtime/default"),
                R,
                "seccomp",
                v
            ));
            let obj = load(&in_kinds(OK_CONTAINERS, &ann("runtime/default"))[0].1);
            assert_eq!(
                evaluate_at(&obj, v).iter().filter(|f| f.advisory).count(),
                1
            );
        }
    }
}

#[test]
fn v1_0_restricted_is_baseline_plus_run_as_non_root() {
    // PSA's minimal restricted pod of v1.0.
    let spec = "securityContext: {runAsNonRoot: true}\ncontainers:\n- name: c\n  image: x\ninitContainers:\n- name: i\n  image: x";
    let obj = load(&in_kinds(spec, "")[0].1);
    assert!(
        check_at(&obj, R, ver(0)).is_empty(),
        "{:?}",
        check_at(&obj, R, ver(0))
    );
    let rules: BTreeSet<String> = check(&obj, R).into_iter().map(|v| v.rule.0).collect();
    assert_eq!(
        rules,
        ["capabilities", "privilege-escalation", "seccomp"]
            .map(String::from)
            .into()
    );
}

// ---- policies: configured pair and namespace labels ------------------------

use std::collections::BTreeSet;

fn lv(level: PssLevel, version: PsaVersion) -> LevelVersion {
    LevelVersion { level, version }
}

fn namespace(labels: &str) -> Object {
    load(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n{}\n",
        indent(labels, 4)
    ))
}

fn labels_of(obj: &Object) -> NamespaceLabels {
    let (l, problems) = read_labels(obj);
    assert!(problems.is_empty(), "{problems:?}");
    l.expect("labelled namespace")
}

fn severities(obj: &Object, policy: &Policy) -> BTreeSet<(String, Severity)> {
    judge(obj, policy)
        .into_iter()
        .map(|(s, v)| (v.rule.0, s))
        .collect()
}

const LATEST: PsaVersion = PsaVersion::Latest;

#[test]
fn a_stricter_namespace_label_applies() {
    let pod = load(&in_kinds(OK_CONTAINERS, "")[0].1);
    let configured = lv(B, LATEST);
    // Config alone: restricted violations are warnings.
    let p = Policy::new(configured, R, &[]);
    assert!(severities(&pod, &p).contains(&("run-as-non-root".into(), Severity::Warning)));
    // enforce: restricted makes them errors.
    let ns = labels_of(&namespace("pod-security.kubernetes.io/enforce: restricted"));
    let p = Policy::new(configured, R, &[ns]);
    let s = severities(&pod, &p);
    assert!(
        s.contains(&("run-as-non-root".into(), Severity::Error)),
        "{s:?}"
    );
    assert!(
        !s.contains(&("run-as-non-root".into(), Severity::Warning)),
        "{s:?}"
    );
    // With warn off too.
    let p = Policy::new(configured, PssLevel::None, &[ns]);
    assert!(severities(&pod, &p).contains(&("run-as-non-root".into(), Severity::Error)));
}

#[test]
fn a_looser_namespace_label_does_not_weaken_the_config() {
    let pod = load(&in_kinds("hostNetwork: true\ncontainers:\n- name: c", "")[0].1);
    for label in [
        "pod-security.kubernetes.io/enforce: privileged",
        "pod-security.kubernetes.io/enforce: baseline",
        "pod-security.kubernetes.io/enforce: privileged\npod-security.kubernetes.io/enforce-version: v1.0",
    ] {
        let ns = labels_of(&namespace(label));
        let p = Policy::new(lv(R, LATEST), PssLevel::None, &[ns]);
        let s = severities(&pod, &p);
        for rule in [
            "host-namespaces",
            "run-as-non-root",
            "seccomp",
            "capabilities",
        ] {
            assert!(
                s.contains(&(rule.into(), Severity::Error)),
                "{label}: {rule} {s:?}"
            );
        }
    }
    // An old version on the label cannot drop a newer check either:
    // runAsUser (v1.23) still fails with the label at v1.22.
    let root = load(
        &in_kinds(
            "securityContext: {runAsUser: 0, runAsNonRoot: true}\ncontainers:\n- name: c",
            "",
        )[0]
        .1,
    );
    let ns = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce-version: v1.22",
    ));
    let p = Policy::new(lv(R, LATEST), PssLevel::None, &[ns]);
    assert!(severities(&root, &p).contains(&("run-as-user".into(), Severity::Error)));
}

#[test]
fn a_namespace_version_adds_that_version_s_checks() {
    // container_engine_t is allowed at latest but not before v1.31.
    let pod = load(&in_kinds(
        "containers:\n- name: c\n  securityContext:\n    seLinuxOptions: {type: container_engine_t}",
        "",
    )[0].1);
    let p = Policy::new(lv(B, LATEST), PssLevel::None, &[]);
    assert!(judge(&pod, &p).is_empty());
    // Only the version label: the level falls back to the configured one.
    let ns = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce-version: v1.30",
    ));
    assert_eq!(ns.level, None);
    let p = Policy::new(lv(B, LATEST), PssLevel::None, &[ns]);
    let j = judge(&pod, &p);
    assert_eq!(j.len(), 1, "{j:?}");
    assert_eq!((j[0].0, j[0].1.rule.as_str()), (Severity::Error, "selinux"));
    // Version above every known one: the same as latest.
    let ns = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce-version: v1.90",
    ));
    assert!(judge(&pod, &Policy::new(lv(B, LATEST), PssLevel::None, &[ns])).is_empty());
}

#[test]
fn findings_of_several_versions_are_merged_once() {
    // An unsafe sysctl fails at both versions: reported once, as an error.
    let pod = load(&in_kinds(
        &format!("securityContext:\n  sysctls:\n  - {{name: kernel.msgmax, value: '1'}}\n{OK_CONTAINERS}"),
        "",
    )[0].1);
    let ns = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce-version: v1.20",
    ));
    let j = judge(&pod, &Policy::new(lv(B, LATEST), PssLevel::None, &[ns]));
    assert_eq!(j.len(), 1, "{j:?}");
    // A warning at the configured version raised to an error by the label.
    let pod = load(&in_kinds("containers:\n- name: c\n  securityContext: {runAsUser: 0, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}", "")[0].1);
    let ns = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce: restricted\npod-security.kubernetes.io/enforce-version: v1.30",
    ));
    let s = severities(&pod, &Policy::new(lv(B, LATEST), R, &[ns]));
    assert!(
        s.contains(&("run-as-user".into(), Severity::Error)),
        "{s:?}"
    );
    assert!(
        !s.contains(&("run-as-user".into(), Severity::Warning)),
        "{s:?}"
    );
}

#[test]
fn advisories_are_warnings_and_only_when_judged() {
    let pod = load(
        &in_kinds(
            OK_CONTAINERS,
            "seccomp.security.alpha.kubernetes.io/pod: runtime/default",
        )[0]
        .1,
    );
    let j = judge(&pod, &Policy::new(lv(B, LATEST), PssLevel::None, &[]));
    assert_eq!(j.len(), 1, "{j:?}");
    assert_eq!(
        (j[0].0, j[0].1.rule.as_str()),
        (Severity::Warning, "seccomp")
    );
    assert!(
        judge(
            &pod,
            &Policy::new(lv(PssLevel::None, LATEST), PssLevel::None, &[])
        )
        .is_empty()
    );
    // At v1.26 the annotation works: no advisory, and restricted passes it.
    assert!(
        judge(&pod, &Policy::new(lv(R, ver(26)), PssLevel::None, &[]))
            .iter()
            .all(|(_, v)| v.rule.as_str() != "seccomp")
    );
    // Broken templates are errors even with Pod Security off.
    let bad = load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: 7\n");
    let j = judge(
        &bad,
        &Policy::new(lv(PssLevel::None, LATEST), PssLevel::None, &[]),
    );
    assert!(
        j.iter()
            .any(|(s, v)| *s == Severity::Error && v.rule.as_str() == INVALID_MANIFEST),
        "{j:?}"
    );
}

#[test]
fn namespace_labels_are_read_as_psa_reads_them() {
    let l = labels_of(&namespace(
        "pod-security.kubernetes.io/enforce: baseline\npod-security.kubernetes.io/enforce-version: v1.29\npod-security.kubernetes.io/warn: restricted",
    ));
    assert_eq!(
        l,
        NamespaceLabels {
            level: Some(B),
            version: Some(ver(29))
        }
    );
    assert_eq!(
        labels_of(&namespace("pod-security.kubernetes.io/enforce: privileged")).level,
        Some(PssLevel::None)
    );
    // Only warn/audit labels, or none: nothing enforced.
    let (l, p) = read_labels(&namespace("pod-security.kubernetes.io/warn: restricted"));
    assert!(l.is_none() && p.is_empty());
    // Not a Namespace: ignored.
    let cm = load(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n",
    );
    assert_eq!(read_labels(&cm), (None, vec![]));
    // Invalid values: the Namespace is reported, and PSA's fail-closed
    // reading (restricted, latest) applies to its pods.
    for (label, want) in [
        (
            "pod-security.kubernetes.io/enforce: strict",
            NamespaceLabels {
                level: Some(R),
                version: None,
            },
        ),
        (
            "pod-security.kubernetes.io/enforce: Baseline",
            NamespaceLabels {
                level: Some(R),
                version: None,
            },
        ),
        (
            "pod-security.kubernetes.io/enforce: 1",
            NamespaceLabels {
                level: Some(R),
                version: None,
            },
        ),
        (
            "pod-security.kubernetes.io/enforce-version: '1.25'",
            NamespaceLabels {
                level: None,
                version: Some(LATEST),
            },
        ),
        (
            "pod-security.kubernetes.io/enforce-version: v1.025",
            NamespaceLabels {
                level: None,
                version: Some(LATEST),
            },
        ),
        (
            "pod-security.kubernetes.io/enforce-version: 1.25",
            NamespaceLabels {
                level: None,
                version: Some(LATEST),
            },
        ),
    ] {
        let obj = namespace(label);
        let (l, problems) = read_labels(&obj);
        assert_eq!(l, Some(want), "{label}");
        assert_eq!(problems.len(), 1, "{label}: {problems:?}");
        assert_eq!(problems[0].rule.as_str(), INVALID_MANIFEST);
        assert_eq!(problems[0].line, 6, "{label}");
        assert!(
            problems[0]
                .message
                .contains("pod-security.kubernetes.io/enforce"),
            "{problems:?}"
        );
    }
    // A namespace declared twice keeps both declarations.
    let mut all = NamespacePolicies::default();
    all.add(&namespace("pod-security.kubernetes.io/enforce: baseline"));
    all.add(&namespace(
        "pod-security.kubernetes.io/enforce-version: v1.20",
    ));
    assert_eq!(all.labels("team").len(), 2);
    assert!(all.labels("other").is_empty());
}

#[test]
fn namespace_policies_load_only_labelled_namespaces() {
    let files = [
        (
            "a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
        ),
        (
            "c.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n",
        ),
    ];
    let p = NamespacePolicies::load(files.iter().copied(), &Limits::default());
    assert_eq!(
        p.labels("a"),
        &[NamespaceLabels {
            level: Some(R),
            version: None
        }]
    );
    assert!(p.labels("b").is_empty() && p.labels("c").is_empty());
    assert!(!p.is_empty());
}
