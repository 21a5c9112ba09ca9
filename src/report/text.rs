//! Human-readable output: findings grouped by file as
//! `file:line rule [severity] message (Kind namespace/name)`, one fix hint
//! per rule that fired, and a summary line. Colour is the caller's decision
//! (on a TTY and without `NO_COLOR`); this module only applies it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::ruledoc;
use super::summary::{RunInfo, Summary, plural};
use crate::engine::finding::{Finding, Severity};
use crate::engine::manifests::evaluate::Evaluation;

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Style {
    on: bool,
}

impl Style {
    fn paint(self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn severity(self, sev: Severity) -> String {
        let code = match sev {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Notice => "1;36",
        };
        self.paint(code, sev.as_str())
    }
}

/// Renders the evaluation as text. `color` adds ANSI colours.
pub fn render(ev: &Evaluation, info: &RunInfo, color: bool) -> String {
    let st = Style { on: color };
    let mut out = String::new();
    for src in &info.config_sources {
        let _ = writeln!(out, "config: {src}");
    }
    if let Some((rev, sha)) = &info.base {
        let short = &sha[..sha.len().min(12)];
        let _ = writeln!(out, "change: {rev} ({short}) -> work tree");
    }
    if let Some(repo) = &info.repo {
        let _ = writeln!(out, "repository: {repo}");
    }

    let mut current: Option<&str> = None;
    for f in &ev.findings {
        if current != Some(f.file.as_str()) {
            out.push('\n');
            let _ = writeln!(out, "{}", st.paint("1", &f.file));
            current = Some(&f.file);
        }
        let _ = writeln!(out, "  {}", finding_line(f, st));
    }

    let rules: BTreeSet<&str> = ev.findings.iter().map(|f| f.rule.as_str()).collect();
    if !rules.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", st.paint("1", "How to fix:"));
        for rule in rules {
            let doc = ruledoc::lookup(rule);
            let _ = writeln!(out, "  {}: {}", st.paint("1", rule), doc.fix);
        }
    }

    if !ev.notes.is_empty() {
        out.push('\n');
        for n in &ev.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }

    let s = Summary::of(ev);
    out.push('\n');
    let verdict = if s.errors > 0 {
        st.paint("1;31", "FAIL")
    } else {
        st.paint("1;32", "PASS")
    };
    let _ = writeln!(
        out,
        "{verdict}: {}, {}, {} in {} ({})",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notices, "notice"),
        plural(s.files, "file"),
        plural(s.objects, "object"),
    );
    out
}

fn finding_line(f: &Finding, st: Style) -> String {
    let mut line = format!(
        "{}:{} {} [{}] {}",
        f.file,
        f.line,
        st.paint("1", f.rule.as_str()),
        st.severity(f.severity),
        one_line(&f.message)
    );
    if let Some(kind) = &f.kind {
        let name = f.name.as_deref().unwrap_or("");
        match &f.namespace {
            Some(ns) => {
                let _ = write!(line, " ({kind} {ns}/{name})");
            }
            None => {
                let _ = write!(line, " ({kind} {name})");
            }
        }
    }
    if let Some(root) = &f.root {
        let _ = write!(line, " [rendered from {}]", one_line(root));
    }
    line
}

/// Messages may quote attacker-controlled text: keep each finding on one
/// line and strip control characters (no terminal escape injection).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Evaluation {
        let mut a = Finding::at(
            "privileged",
            Severity::Error,
            "b.yaml",
            7,
            "container \"x\" is privileged",
        );
        a.kind = Some("Deployment".into());
        a.name = Some("web".into());
        a.namespace = Some("pay".into());
        let b = Finding::at(
            "seccomp",
            Severity::Warning,
            "b.yaml",
            9,
            "no seccomp\x1b[2J",
        );
        let c = Finding::at("privileged", Severity::Error, "c.yaml", 3, "again");
        let mut e = Evaluation {
            findings: vec![a, b, c],
            notes: vec!["exception expired".into()],
            ..Evaluation::default()
        };
        e.stats.files = 2;
        e.stats.objects = 3;
        e
    }

    #[test]
    fn grouped_with_hints_and_summary() {
        let info = RunInfo {
            config_sources: vec!["built-in defaults".into()],
            ..RunInfo::default()
        };
        let t = render(&ev(), &info, false);
        assert!(t.starts_with("config: built-in defaults\n"));
        assert!(t.contains("\nb.yaml\n  b.yaml:7 privileged [error] container \"x\" is privileged (Deployment pay/web)\n"));
        assert!(
            t.contains("  b.yaml:9 seccomp [warning] no seccomp [2J\n"),
            "{t}"
        );
        assert!(t.contains("\nc.yaml\n  c.yaml:3 privileged [error] again\n"));
        // One hint per rule, not per finding.
        assert_eq!(t.matches("  privileged: ").count(), 1);
        assert_eq!(t.matches("  seccomp: ").count(), 1);
        assert!(t.contains("note: exception expired"));
        assert!(
            t.trim_end()
                .ends_with("FAIL: 2 errors, 1 warning, 0 notices in 2 files (3 objects)")
        );
        assert!(!t.contains('\x1b'));
    }

    #[test]
    fn colour_only_when_asked_and_pass_line() {
        let t = render(&ev(), &RunInfo::default(), true);
        assert!(t.contains("\x1b[1;31merror\x1b[0m"));
        let t = render(&Evaluation::default(), &RunInfo::default(), false);
        assert_eq!(
            t.trim(),
            "PASS: 0 errors, 0 warnings, 0 notices in 0 files (0 objects)"
        );
    }
}
