//! The controls only the restricted standard has, each with the policy
//! versions that introduced or relaxed it (`cx.v`). The stricter variants of
//! `capabilities`, `seccomp` and `proc-mount` live beside their baseline
//! halves in `baseline.rs`.

use crate::engine::config::PssLevel;

use super::baseline::volume_name;
use super::read::{Ctx, Field, Place, bool_at, int_at, wrong_type};

const R: PssLevel = PssLevel::Restricted;

/// `check_restrictedVolumes.go`: the volume sources restricted allows. PSA
/// added `image` to its only (v1.0) implementation, so it is allowed at
/// every version.
pub(super) const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// `restrictedVolumes`: only the allowed volume sources. Every source key
/// present is checked (the API allows one, but a checker that stops at the
/// first allowed key lets `{configMap: …, nfs: …}` hide a second source).
/// `hostPath` is left to `host-path`, which restricted includes. A volume
/// with no source is defaulted to `emptyDir` by the API server, so it passes.
pub(super) fn volume_types(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "volume-types";
    let place = cx.pod_place();
    let Some(volumes) = cx.pod.spec.get("volumes").and_then(|v| v.as_seq()) else {
        return;
    };
    for (k, vol) in volumes.iter().enumerate() {
        let Some(entries) = vol.as_map() else {
            continue; // reported by host-path
        };
        let vplace = place.item("volumes", k);
        for e in entries {
            if e.key == "name" || e.key == "hostPath" || e.value.is_null() {
                continue;
            }
            if ALLOWED_VOLUMES.contains(&e.key.as_str()) {
                continue;
            }
            let msg = format!(
                "{}{} uses the {} volume type; restricted allows only {}",
                vplace.path(&e.key),
                volume_name(vol),
                e.key,
                ALLOWED_VOLUMES.join(", ")
            );
            cx.report(R, RULE, e.key_span.line, None, msg);
        }
    }
}

/// `allowPrivilegeEscalation` (v1.8+, the field's first release): must be
/// explicitly false on every container (Windows pods exempt since v1.25).
pub(super) fn privilege_escalation(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "privilege-escalation";
    if cx.v < 8 || cx.windows {
        return;
    }
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, R, RULE);
        let path = || place.path("allowPrivilegeEscalation");
        match bool_at(sc, "allowPrivilegeEscalation") {
            Field::Ok { value: false, .. } => {}
            Field::Ok { value: true, line } => {
                let msg = format!("{} is true; restricted requires false", path());
                cx.report(R, RULE, line, Some(i), msg);
            }
            Field::Wrong { line, node } => {
                let msg = format!("{} {}", path(), wrong_type(node, "a boolean"));
                cx.report(R, RULE, line, Some(i), msg);
            }
            Field::Absent => {
                let line = cx.missing_line(i, &["securityContext"]);
                let msg = format!("{} is not set; restricted requires false", path());
                cx.report(R, RULE, line, Some(i), msg);
            }
        }
    }
}

/// `runAsNonRoot`: true at pod or container level, never explicitly false
/// (skipped for `hostUsers: false` pods since v1.35).
pub(super) fn run_as_non_root(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "run-as-non-root";
    if cx.user_ns {
        return;
    }
    let pplace = cx.pod_place().child("securityContext");
    let psc = cx.pod_sc(R, RULE);
    let ppath = || pplace.path("runAsNonRoot");
    let pod_true = match bool_at(psc, "runAsNonRoot") {
        Field::Ok { value: true, .. } => true,
        Field::Ok { value: false, line } => {
            cx.report(
                R,
                RULE,
                line,
                None,
                format!("{} is false; restricted requires true", ppath()),
            );
            false
        }
        Field::Wrong { line, node } => {
            let msg = format!("{} {}", ppath(), wrong_type(node, "a boolean"));
            cx.report(R, RULE, line, None, msg);
            false
        }
        Field::Absent => false,
    };
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, R, RULE);
        let path = || place.path("runAsNonRoot");
        match bool_at(sc, "runAsNonRoot") {
            Field::Ok { value: true, .. } => {}
            Field::Ok { value: false, line } => {
                let msg = format!("{} is false; restricted requires true", path());
                cx.report(R, RULE, line, Some(i), msg);
            }
            Field::Wrong { line, node } => {
                let msg = format!("{} {}", path(), wrong_type(node, "a boolean"));
                cx.report(R, RULE, line, Some(i), msg);
            }
            Field::Absent if pod_true => {}
            Field::Absent => {
                let line = cx.missing_line(i, &["securityContext"]);
                let msg = format!(
                    "{} is not set and {} is not true; restricted requires runAsNonRoot: true",
                    path(),
                    ppath()
                );
                cx.report(R, RULE, line, Some(i), msg);
            }
        }
    }
}

/// `runAsUser` (v1.23+): never 0 at pod or container level (skipped for
/// `hostUsers: false` pods since v1.35).
pub(super) fn run_as_user(cx: &mut Ctx<'_, '_>) {
    const RULE: &str = "run-as-user";
    if cx.v < 23 || cx.user_ns {
        return;
    }
    let pplace = cx.pod_place().child("securityContext");
    let psc = cx.pod_sc(R, RULE);
    check_uid(cx, psc, &pplace, None);
    for i in 0..cx.containers.len() {
        let place = cx.container_place(i).child("securityContext");
        let sc = cx.container_sc(i, R, RULE);
        check_uid(cx, sc, &place, Some(i));
    }
}

fn check_uid(
    cx: &mut Ctx<'_, '_>,
    sc: Option<&crate::engine::yaml::Node>,
    place: &Place,
    container: Option<usize>,
) {
    const RULE: &str = "run-as-user";
    let path = || place.path("runAsUser");
    match int_at(sc, "runAsUser") {
        Field::Ok { value: 0, line } => {
            let msg = format!("{} is 0; restricted forbids running as root", path());
            cx.report(R, RULE, line, container, msg);
        }
        Field::Wrong { line, node } => {
            let msg = format!("{} {}", path(), wrong_type(node, "an integer"));
            cx.report(R, RULE, line, container, msg);
        }
        _ => {}
    }
}
