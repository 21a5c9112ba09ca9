//! `admission.exceptions`: documented, expiring waivers of one rule for the
//! objects (and optionally the container) they name.
//!
//! An exception applies to a finding when the rule id is equal and every
//! `match` field it gives matches (globs: namespace, kind, name and
//! container without separators; path with `/` separators, see
//! [`globs`](crate::engine::config::globs)). A field the exception gives but the
//! finding lacks (a `container` for a pod-level finding, a `namespace` for a
//! cluster-scoped object) does not match: an exception is never wider than
//! it reads. Expired exceptions (`today > expires`) stop applying and are
//! reported as `config` warnings at their line; exceptions that waived
//! nothing are reported as notices so stale ones get removed. Rules the
//! catalogue marks as not waivable are never waived, whatever the config,
//! and neither is anything by an exception whose `match` names none of
//! namespace, kind, name (validation refuses those; this keeps a config
//! built in code from waiving a rule everywhere). Which exceptions a
//! repository may add under an organisation default is decided by the
//! merge ([`crate::engine::config::merge_org`]).

use chrono::NaiveDate;
use globset::GlobMatcher;

use crate::engine::catalog;
use crate::engine::config::Exception;
use crate::engine::config::globs::{GlobKind, glob};
use crate::engine::finding::{Finding, Severity};

/// A finding waived by an exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The waived finding.
    pub finding: Finding,
    /// Index of the exception in the slice given to [`apply`].
    pub exception: usize,
    /// The exception's reason.
    pub reason: String,
}

impl Applied {
    /// One line for summaries: what was waived, where, and why.
    pub fn note(&self) -> String {
        format!(
            "exception waived `{}` at {}:{}{}: {}",
            self.finding.rule,
            self.finding.file,
            self.finding.line,
            object_label(&self.finding),
            self.reason
        )
    }
}

fn object_label(f: &Finding) -> String {
    match (&f.kind, &f.name) {
        (Some(k), Some(n)) => match &f.namespace {
            Some(ns) => format!(" ({k} {ns}/{n})"),
            None => format!(" ({k} {n})"),
        },
        _ => String::new(),
    }
}

/// What applying the exceptions did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Findings no exception waived, in input order.
    pub kept: Vec<Finding>,
    /// Findings waived, with the exception that waived them.
    pub applied: Vec<Applied>,
    /// One `config` warning per expired exception, at its config line.
    pub expired: Vec<Finding>,
    /// One `config` notice per live exception that waived nothing. In change
    /// mode (only changed files evaluated) these are expected and may be
    /// dropped by the caller.
    pub unused: Vec<Finding>,
}

struct Compiled<'a> {
    ex: &'a Exception,
    /// Past its `expires` day (or with an unreadable date: fail closed).
    expired: bool,
    /// Not expired and of a waivable rule.
    live: bool,
    namespace: Option<Option<GlobMatcher>>,
    kind: Option<Option<GlobMatcher>>,
    name: Option<Option<GlobMatcher>>,
    path: Option<Option<GlobMatcher>>,
    container: Option<Option<GlobMatcher>>,
}

/// `None`: the field is not given (matches anything). `Some(None)`: given
/// but not a valid glob (config validation rejects that; match nothing).
fn field(p: &Option<String>, kind: GlobKind) -> Option<Option<GlobMatcher>> {
    p.as_deref().map(|p| glob(p, kind))
}

/// True when the given field matches the finding's value.
fn matches(m: &Option<Option<GlobMatcher>>, value: Option<&str>) -> bool {
    match m {
        None => true,
        Some(None) => false,
        Some(Some(g)) => value.is_some_and(|v| g.is_match(v)),
    }
}

impl Compiled<'_> {
    fn waives(&self, f: &Finding, container: Option<&str>) -> bool {
        self.ex.rule == f.rule.as_str()
            && matches(&self.namespace, f.namespace.as_deref())
            && matches(&self.kind, f.kind.as_deref())
            && matches(&self.name, f.name.as_deref())
            && matches(&self.path, Some(&f.file))
            && matches(&self.container, container)
    }
}

/// Does the match name the workload: at least one of namespace, kind,
/// name (DESIGN.md "Configuration")?
fn names_workload(m: &crate::engine::config::ExceptionMatch) -> bool {
    m.namespace.is_some() || m.kind.is_some() || m.name.is_some()
}

/// True when `today` is after the exception's last day. An unreadable
/// date counts as expired (fail closed; config validation rejects it).
fn is_expired(ex: &Exception, today: NaiveDate) -> bool {
    match &ex.expires {
        None => false,
        Some(s) => crate::engine::config::parse_expires(s).is_none_or(|last| today > last),
    }
}

/// Applies `exceptions` to findings paired with the container they concern
/// (`Violation::container`; `None` for object-level findings). `today` is
/// passed in because the engine reads no clock.
pub fn apply(
    exceptions: &[Exception],
    findings: Vec<(Finding, Option<String>)>,
    today: NaiveDate,
) -> Outcome {
    let compiled: Vec<Compiled<'_>> = exceptions
        .iter()
        .map(|ex| {
            let m = &ex.match_;
            let expired = is_expired(ex, today);
            Compiled {
                ex,
                expired,
                // An exception that names no workload (validation refuses
                // it; configs built in code could still hold one) waives
                // nothing rather than everything.
                live: !expired && catalog::is_waivable(&ex.rule) && names_workload(m),
                namespace: field(&m.namespace, GlobKind::Name),
                kind: field(&m.kind, GlobKind::Name),
                name: field(&m.name, GlobKind::Name),
                path: field(&m.path, GlobKind::Path),
                container: field(&m.container, GlobKind::Name),
            }
        })
        .collect();
    let mut used = vec![0usize; compiled.len()];
    let mut would_have = vec![0usize; compiled.len()];
    let mut out = Outcome::default();
    for (f, container) in findings {
        let mut waived_by = None;
        for (i, c) in compiled.iter().enumerate() {
            if !c.waives(&f, container.as_deref()) {
                continue;
            }
            if c.live {
                waived_by = Some(i);
                break;
            }
            would_have[i] += 1;
        }
        match waived_by {
            Some(i) => {
                used[i] += 1;
                out.applied.push(Applied {
                    finding: f,
                    exception: i,
                    reason: compiled[i].ex.reason.clone(),
                });
            }
            None => out.kept.push(f),
        }
    }
    for (i, c) in compiled.iter().enumerate() {
        let (file, line) =
            c.ex.source
                .as_ref()
                .map_or(("<config>", 1), |s| (s.file.as_str(), s.line));
        if c.expired {
            let when = c.ex.expires.as_deref().unwrap_or_default();
            out.expired.push(Finding::at(
                "config",
                Severity::Warning,
                file,
                line,
                format!(
                    "exception for `{}` expired on {when} and no longer applies ({} finding(s) it matched are reported again); renew it with a new `expires` or remove it. Reason given: {}",
                    c.ex.rule, would_have[i], c.ex.reason
                ),
            ));
        } else if c.live && used[i] == 0 {
            out.unused.push(Finding::at(
                "config",
                Severity::Notice,
                file,
                line,
                format!(
                    "exception for `{}` matched no finding; remove it if the workload it was written for is gone",
                    c.ex.rule
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{ConfigSite, ExceptionMatch, parse_config};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn finding(rule: &str, file: &str, kind: &str, ns: Option<&str>, name: &str) -> Finding {
        let mut f = Finding::at(rule, Severity::Error, file, 7, format!("{rule} violated"));
        f.kind = Some(kind.into());
        f.namespace = ns.map(Into::into);
        f.name = Some(name.into());
        f
    }

    fn ex(rule: &str, m: ExceptionMatch, expires: Option<&str>) -> Exception {
        Exception {
            rule: rule.into(),
            match_: m,
            reason: "node metrics".into(),
            expires: expires.map(Into::into),
            source: Some(ConfigSite {
                file: ".github/gitops-guard.yml".into(),
                line: 12,
            }),
        }
    }

    fn node_exporter() -> ExceptionMatch {
        ExceptionMatch {
            namespace: Some("monitoring".into()),
            kind: Some("DaemonSet".into()),
            name: Some("node-exporter".into()),
            ..Default::default()
        }
    }

    #[test]
    fn applies_only_when_rule_and_every_field_match() {
        let exs = [ex("host-namespaces", node_exporter(), Some("2027-03-31"))];
        let hit = finding(
            "host-namespaces",
            "mon/ds.yaml",
            "DaemonSet",
            Some("monitoring"),
            "node-exporter",
        );
        let other_rule = finding(
            "privileged",
            "mon/ds.yaml",
            "DaemonSet",
            Some("monitoring"),
            "node-exporter",
        );
        let other_ns = finding(
            "host-namespaces",
            "x/ds.yaml",
            "DaemonSet",
            Some("payments"),
            "node-exporter",
        );
        let other_kind = finding(
            "host-namespaces",
            "mon/d.yaml",
            "Deployment",
            Some("monitoring"),
            "node-exporter",
        );
        let other_name = finding(
            "host-namespaces",
            "mon/ds.yaml",
            "DaemonSet",
            Some("monitoring"),
            "node-exporter-2",
        );
        let no_ns = finding(
            "host-namespaces",
            "mon/ds.yaml",
            "DaemonSet",
            None,
            "node-exporter",
        );
        let input = [
            &hit,
            &other_rule,
            &other_ns,
            &other_kind,
            &other_name,
            &no_ns,
        ]
        .into_iter()
        .map(|f| (f.clone(), None))
        .collect();
        let out = apply(&exs, input, day("2026-01-01"));
        assert_eq!(out.applied.len(), 1);
        assert_eq!(out.applied[0].finding, hit);
        assert_eq!(out.applied[0].exception, 0);
        assert!(
            out.applied[0]
                .note()
                .contains("DaemonSet monitoring/node-exporter")
        );
        assert_eq!(
            out.kept,
            vec![other_rule, other_ns, other_kind, other_name, no_ns]
        );
        assert!(out.expired.is_empty() && out.unused.is_empty());
    }

    #[test]
    fn globs_and_path() {
        let m = ExceptionMatch {
            namespace: Some("team-*".into()),
            path: Some("legacy/*.yaml".into()),
            ..Default::default()
        };
        let exs = [ex("image-tag", m, None)];
        let a = finding(
            "image-tag",
            "legacy/a.yaml",
            "Deployment",
            Some("team-a"),
            "a",
        );
        let nested = finding(
            "image-tag",
            "legacy/sub/a.yaml",
            "Deployment",
            Some("team-a"),
            "a",
        );
        let out = apply(
            &exs,
            vec![(a, None), (nested.clone(), None)],
            day("2030-01-01"),
        );
        assert_eq!(out.applied.len(), 1);
        assert_eq!(out.kept, vec![nested]);
    }

    #[test]
    fn container_waivers_are_per_container() {
        let m = ExceptionMatch {
            name: Some("web".into()),
            container: Some("istio-*".into()),
            ..Default::default()
        };
        let exs = [ex("capabilities", m, None)];
        let f = finding("capabilities", "a.yaml", "Deployment", Some("a"), "web");
        let out = apply(
            &exs,
            vec![
                (f.clone(), Some("istio-init".into())),
                (f.clone(), Some("app".into())),
                // A pod-level finding is not waived by a container exception.
                (f.clone(), None),
            ],
            day("2030-01-01"),
        );
        assert_eq!(out.applied.len(), 1);
        assert_eq!(out.kept.len(), 2);
        // Without a container field the exception covers every container.
        let exs = [ex(
            "capabilities",
            ExceptionMatch {
                name: Some("web".into()),
                ..Default::default()
            },
            None,
        )];
        let out = apply(
            &exs,
            vec![(f.clone(), Some("app".into())), (f, None)],
            day("2030-01-01"),
        );
        assert_eq!(out.applied.len(), 2);
    }

    #[test]
    fn expiry_is_inclusive_and_expired_exceptions_are_reported() {
        let exs = [ex("host-namespaces", node_exporter(), Some("2027-03-31"))];
        let f = finding(
            "host-namespaces",
            "ds.yaml",
            "DaemonSet",
            Some("monitoring"),
            "node-exporter",
        );
        let on_last_day = apply(&exs, vec![(f.clone(), None)], day("2027-03-31"));
        assert_eq!(on_last_day.applied.len(), 1);
        assert!(on_last_day.expired.is_empty());
        let after = apply(&exs, vec![(f.clone(), None)], day("2027-04-01"));
        assert!(after.applied.is_empty());
        assert_eq!(after.kept, vec![f]);
        assert_eq!(after.expired.len(), 1);
        let w = &after.expired[0];
        assert_eq!(
            (w.rule.as_str(), w.severity, w.line),
            ("config", Severity::Warning, 12)
        );
        assert_eq!(w.file, ".github/gitops-guard.yml");
        assert!(
            w.message.contains("expired on 2027-03-31") && w.message.contains("1 finding"),
            "{}",
            w.message
        );
        assert!(after.unused.is_empty(), "expired, not unused");
    }

    #[test]
    fn a_later_live_exception_still_applies_after_an_expired_one() {
        let exs = [
            ex("host-namespaces", node_exporter(), Some("2020-01-01")),
            ex("host-namespaces", node_exporter(), Some("2030-01-01")),
        ];
        let f = finding(
            "host-namespaces",
            "ds.yaml",
            "DaemonSet",
            Some("monitoring"),
            "node-exporter",
        );
        let out = apply(&exs, vec![(f, None)], day("2026-01-01"));
        assert_eq!(out.applied[0].exception, 1);
        assert_eq!(out.expired.len(), 1);
    }

    #[test]
    fn unused_exceptions_are_notices() {
        let exs = [ex("privileged", node_exporter(), None)];
        let out = apply(&exs, vec![], day("2026-01-01"));
        assert_eq!(out.unused.len(), 1);
        assert_eq!(out.unused[0].severity, Severity::Notice);
    }

    #[test]
    fn unwaivable_rules_and_bad_dates_never_waive() {
        let f = Finding::at("invalid-manifest", Severity::Error, "a.yaml", 1, "bad");
        let exs = [ex("invalid-manifest", ExceptionMatch::default(), None)];
        let out = apply(&exs, vec![(f.clone(), None)], day("2026-01-01"));
        assert_eq!(out.kept, vec![f]);
        let g = finding("privileged", "a.yaml", "Pod", Some("a"), "p");
        let exs = [ex("privileged", ExceptionMatch::default(), Some("someday"))];
        let out = apply(&exs, vec![(g.clone(), None)], day("2026-01-01"));
        assert_eq!(out.kept, vec![g]);
        assert_eq!(out.expired.len(), 1);
    }

    #[test]
    fn a_match_naming_no_workload_waives_nothing() {
        let g = finding("privileged", "a.yaml", "Pod", Some("a"), "p");
        for m in [
            ExceptionMatch::default(),
            ExceptionMatch {
                path: Some("**".into()),
                container: Some("*".into()),
                ..Default::default()
            },
        ] {
            let out = apply(
                &[ex("privileged", m, None)],
                vec![(g.clone(), None)],
                day("2026-01-01"),
            );
            assert_eq!(out.kept, vec![g.clone()]);
            assert!(out.applied.is_empty());
        }
        // Twin: naming the kind is enough.
        let m = ExceptionMatch {
            kind: Some("Pod".into()),
            ..Default::default()
        };
        let out = apply(
            &[ex("privileged", m, None)],
            vec![(g.clone(), None)],
            day("2026-01-01"),
        );
        assert_eq!(out.applied.len(), 1);
    }

    #[test]
    fn end_to_end_with_parsed_config() {
        let cfg = parse_config(
            ".github/gitops-guard.yml",
            "admission:\n  exceptions:\n    - rule: kyverno/block-privileged/check\n      match: {kind: DaemonSet, path: \"platform/**\"}\n      reason: CSI driver\n      expires: 2026-06-30\n",
        )
        .unwrap();
        let f = finding(
            "kyverno/block-privileged/check",
            "platform/csi/ds.yaml",
            "DaemonSet",
            Some("kube-system"),
            "csi",
        );
        let out = apply(
            &cfg.admission.exceptions,
            vec![(f.clone(), None)],
            day("2026-07-01"),
        );
        assert_eq!(out.kept, vec![f]);
        assert_eq!(out.expired[0].line, 3);
    }
}
