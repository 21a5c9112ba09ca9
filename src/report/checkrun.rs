//! Check-run output for `gitops-guard/manifests`: a pure function of the
//! engine's [`Evaluation`]. Conclusion, a one-line verdict title, a
//! Markdown summary (counts by rule, top findings, notes) and annotations,
//! all cut safely under GitHub's limits (summary/text ≤ 65535 characters,
//! annotation message ≤ 64 KB, title ≤ 255) with a note saying what was cut.
//! Annotations are sent in batches of 50 ([`batches`]), GitHub's
//! per-request limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::engine::finding::{Finding, Severity};
use crate::engine::manifests::evaluate::Evaluation;

/// Check-run name (stable: branch protection requires it by name).
pub const MANIFESTS_CHECK: &str = "gitops-guard/manifests";
/// GitHub's limit for `output.summary` and `output.text`, in characters.
pub const MAX_SUMMARY_CHARS: usize = 65_535;
/// GitHub's limit for an annotation message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Limit we apply to titles.
pub const MAX_TITLE_CHARS: usize = 255;
/// Annotations per request.
pub const BATCH: usize = 50;
/// Annotations we send per run at most (20 requests); the rest are listed
/// as cut in the summary. Bounds API calls for a PR with huge findings.
pub const MAX_ANNOTATIONS: usize = 1000;
/// Findings listed in the summary's "top findings" table.
const TOP_FINDINGS: usize = 20;

/// A check-run conclusion we set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    /// No error findings.
    Success,
    /// Error findings, or the evaluation could not be completed.
    Failure,
    /// Not a deployment repository.
    Neutral,
}

impl Conclusion {
    /// GitHub's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
        }
    }
}

/// `annotation_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    /// Notice.
    Notice,
    /// Warning.
    Warning,
    /// Failure.
    Failure,
}

impl From<Severity> for AnnotationLevel {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Error => AnnotationLevel::Failure,
            Severity::Warning => AnnotationLevel::Warning,
            Severity::Notice => AnnotationLevel::Notice,
        }
    }
}

/// One check-run annotation (GitHub's field names).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Annotation {
    /// Repository-relative path.
    pub path: String,
    /// 1-based start line.
    pub start_line: u32,
    /// 1-based end line.
    pub end_line: u32,
    /// Level.
    pub annotation_level: AnnotationLevel,
    /// Rule id.
    #[serde(default)]
    pub title: Option<String>,
    /// Explanation.
    pub message: String,
}

/// Everything the check run will hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRunOutput {
    /// Conclusion.
    pub conclusion: Conclusion,
    /// One-line verdict.
    pub title: String,
    /// Markdown summary.
    pub summary: String,
    /// Optional details.
    pub text: Option<String>,
    /// All annotations to send (already capped at [`MAX_ANNOTATIONS`]).
    pub annotations: Vec<Annotation>,
}

/// Context the summary mentions.
#[derive(Clone, Debug, Default)]
pub struct RenderContext {
    /// Where the config came from.
    pub config_source: String,
    /// Base commit the policy was read at.
    pub base_sha: String,
    /// Extra notes from the shell (e.g. "this PR edits the config").
    pub notes: Vec<String>,
}

/// Renders an evaluation.
pub fn render(ev: &Evaluation, ctx: &RenderContext) -> CheckRunOutput {
    let count = |s: Severity| ev.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, notices) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Notice),
    );
    let conclusion = if errors > 0 {
        Conclusion::Failure
    } else {
        Conclusion::Success
    };
    let title = if errors > 0 {
        format!(
            "{} blocking {} in {} {}",
            errors,
            plural(errors, "violation", "violations"),
            ev.stats.files,
            plural(ev.stats.files, "manifest file", "manifest files")
        )
    } else if warnings > 0 {
        format!(
            "Passed with {warnings} {}",
            plural(warnings, "warning", "warnings")
        )
    } else {
        format!(
            "Passed: {} {} checked",
            ev.stats.files,
            plural(ev.stats.files, "manifest file", "manifest files")
        )
    };

    let mut annotations: Vec<Annotation> = ev.findings.iter().map(annotation).collect();
    let cut_annotations = annotations.len().saturating_sub(MAX_ANNOTATIONS);
    // Keep the most severe ones when cutting: errors first.
    annotations.sort_by_key(|a| std::cmp::Reverse(a.annotation_level));
    annotations.truncate(MAX_ANNOTATIONS);
    annotations
        .sort_by(|a, b| (&a.path, a.start_line, &a.title).cmp(&(&b.path, b.start_line, &b.title)));

    let mut s = String::new();
    let _ = writeln!(
        s,
        "**{}** — {errors} {}, {warnings} {}, {notices} {} in {} {} ({} {}).\n",
        match conclusion {
            Conclusion::Failure => "Blocked",
            _ => "Passed",
        },
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
        plural(notices, "notice", "notices"),
        ev.stats.files,
        plural(ev.stats.files, "file", "files"),
        ev.stats.objects,
        plural(ev.stats.objects, "object", "objects"),
    );
    if !ctx.config_source.is_empty() {
        let _ = writeln!(
            s,
            "Policy: `{}` at base commit `{}` (changes in this PR to the policy do not apply to it).\n",
            md_code(&ctx.config_source),
            short(&ctx.base_sha)
        );
    }
    let notes: Vec<&String> = ctx.notes.iter().chain(ev.notes.iter()).collect();
    if !notes.is_empty() {
        s.push_str("### Notes\n\n");
        for n in notes {
            let _ = writeln!(s, "- {}", md_line(n));
        }
        s.push('\n');
    }
    if !ev.findings.is_empty() {
        let mut by_rule: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
        for f in &ev.findings {
            *by_rule.entry((f.rule.as_str(), f.severity)).or_default() += 1;
        }
        s.push_str("### Findings by rule\n\n| Rule | Severity | Count |\n|---|---|---|\n");
        for ((rule, sev), n) in &by_rule {
            let _ = writeln!(s, "| `{}` | {} | {n} |", md_code(rule), sev.as_str());
        }
        s.push_str(
            "\n### Top findings\n\n| Severity | Rule | Location | Message |\n|---|---|---|---|\n",
        );
        let mut top: Vec<&Finding> = ev.findings.iter().collect();
        top.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in top.iter().take(TOP_FINDINGS) {
            let _ = writeln!(
                s,
                "| {} | `{}` | `{}:{}` | {} |",
                f.severity.as_str(),
                md_code(f.rule.as_str()),
                md_code(&f.file),
                f.line,
                md_cell(&f.message, 300)
            );
        }
        if ev.findings.len() > TOP_FINDINGS {
            let _ = writeln!(
                s,
                "\n…and {} more; every finding is annotated on its line.",
                ev.findings.len() - TOP_FINDINGS
            );
        }
    }
    if cut_annotations > 0 {
        let _ = writeln!(
            s,
            "\n> {cut_annotations} of {} findings were not annotated (limit {MAX_ANNOTATIONS} \
             annotations per run); run `gitops-guard check` locally for the full list.",
            ev.findings.len()
        );
    }
    CheckRunOutput {
        conclusion,
        title: truncate_chars(&title, MAX_TITLE_CHARS),
        summary: truncate_with_note(&s, MAX_SUMMARY_CHARS),
        text: None,
        annotations,
    }
}

/// Output for a repository without gitops-guard config.
pub fn not_a_deployment_repo(config_path: &str) -> CheckRunOutput {
    CheckRunOutput {
        conclusion: Conclusion::Neutral,
        title: "Not a deployment repository: no gitops-guard config".into(),
        summary: format!(
            "This repository has no `{}` on the base branch and the organisation has no \
             default `gitops-guard.yml` in its `.github` repository, so gitops-guard does not \
             treat it as a GitOps deployment repository. Add the config to enable checks.",
            md_code(config_path)
        ),
        text: None,
        annotations: Vec::new(),
    }
}

/// Output for an evaluation that could not be completed (internal error,
/// config error, GitHub limits): always `failure`, never `success`.
pub fn could_not_evaluate(headline: &str, reason: &str) -> CheckRunOutput {
    let mut summary = format!(
        "gitops-guard could not complete the evaluation, so this check fails closed.\n\n\
         **Reason:**\n\n```\n{}\n```\n\nFix the cause and re-run the check from the Checks tab.",
        reason.replace("```", "`\u{200b}``")
    );
    summary = truncate_with_note(&summary, MAX_SUMMARY_CHARS);
    CheckRunOutput {
        conclusion: Conclusion::Failure,
        title: truncate_chars(headline, MAX_TITLE_CHARS),
        summary,
        text: None,
        annotations: Vec::new(),
    }
}

/// One pull request's verdict on a head commit (a check run belongs to
/// the commit, which several open PRs may share).
#[derive(Clone, Debug)]
pub struct PrVerdict {
    /// PR number.
    pub number: u64,
    /// Its base branch.
    pub base_ref: String,
    /// What its run would say on its own.
    pub output: CheckRunOutput,
}

/// How bad a conclusion is; the worst of a head's PRs wins. `neutral` from
/// a judged PR ranks above `success`: it never says "allowed".
pub fn badness(c: Conclusion) -> u8 {
    match c {
        Conclusion::Success => 0,
        Conclusion::Neutral => 1,
        Conclusion::Failure => 2,
    }
}

/// The verdict on a head commit over the open PRs that have it as head.
/// `judged` are the PRs into deployment branches: the worst conclusion
/// wins and the summary names each PR with its result. `ignored` are the
/// PRs into other branches: named, never counted, so a PR into a
/// non-deployment branch cannot change the run a deployment PR needs.
/// With no judged PR the run is `neutral`.
pub fn head_verdict(mut judged: Vec<PrVerdict>, ignored: &[(u64, String)]) -> CheckRunOutput {
    let ignored_line = || {
        let list = ignored
            .iter()
            .map(|(n, b)| format!("#{n} into `{}`", md_code(b)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "Not judged, because their base is not a deployment branch (no gitops-guard config \
             on it, and not in the organisation default's `push.branches`): {list}.\n\n"
        )
    };
    judged.sort_by_key(|v| (std::cmp::Reverse(badness(v.output.conclusion)), v.number));
    if judged.is_empty() {
        let mut summary = String::from(
            "No open pull request with this commit as its head targets a deployment branch, so \
             gitops-guard does not judge it.\n\n",
        );
        if !ignored.is_empty() {
            summary.push_str(&ignored_line());
        }
        return CheckRunOutput {
            conclusion: Conclusion::Neutral,
            title: "Not a deployment repository or branch: no open pull request with this head \
                    targets a branch gitops-guard guards"
                .into(),
            summary: truncate_with_note(&summary, MAX_SUMMARY_CHARS),
            text: None,
            annotations: Vec::new(),
        };
    }
    if judged.len() == 1 {
        let v = judged.remove(0);
        let mut summary = format!(
            "Judged for pull request #{} into `{}`: **{}**.\n\n",
            v.number,
            md_code(&v.base_ref),
            v.output.conclusion.as_str()
        );
        if !ignored.is_empty() {
            summary.push_str(&ignored_line());
        }
        summary.push_str(&v.output.summary);
        return CheckRunOutput {
            summary: truncate_with_note(&summary, MAX_SUMMARY_CHARS),
            ..v.output
        };
    }
    let worst = &judged[0];
    let mut summary = format!(
        "This commit is the head of {} open pull requests into deployment branches. A check \
         run belongs to the commit, not to one pull request, so it carries the worst of their \
         verdicts.\n\n| Pull request | Base | Result |\n|---|---|---|\n",
        judged.len()
    );
    for v in &judged {
        let _ = writeln!(
            summary,
            "| #{} | `{}` | **{}**: {} |",
            v.number,
            md_cell(&md_code(&v.base_ref), 100),
            v.output.conclusion.as_str(),
            md_cell(&v.output.title, 200)
        );
    }
    summary.push('\n');
    if !ignored.is_empty() {
        summary.push_str(&ignored_line());
    }
    let budget = MAX_SUMMARY_CHARS.saturating_sub(summary.chars().count() + 400) / judged.len();
    for v in &judged {
        let _ = write!(
            summary,
            "### #{} into `{}`\n\n{}\n\n",
            v.number,
            md_code(&v.base_ref),
            truncate_with_note(&v.output.summary, budget.max(200))
        );
    }
    let mut annotations: Vec<Annotation> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in judged.iter().flat_map(|v| v.output.annotations.iter()) {
        if annotations.len() < MAX_ANNOTATIONS && seen.insert(a.clone()) {
            annotations.push(a.clone());
        }
    }
    let texts: Vec<String> = judged
        .iter()
        .filter_map(|v| {
            v.output
                .text
                .as_ref()
                .map(|t| format!("### #{}\n\n{t}", v.number))
        })
        .collect();
    CheckRunOutput {
        conclusion: worst.output.conclusion,
        title: truncate_chars(
            &format!(
                "#{}: {} (worst of {} pull requests)",
                worst.number,
                worst.output.title,
                judged.len()
            ),
            MAX_TITLE_CHARS,
        ),
        summary: truncate_with_note(&summary, MAX_SUMMARY_CHARS),
        text: (!texts.is_empty())
            .then(|| truncate_with_note(&texts.join("\n\n"), MAX_SUMMARY_CHARS)),
        annotations,
    }
}

fn annotation(f: &Finding) -> Annotation {
    let mut message = f.message.clone();
    if let (Some(kind), Some(name)) = (&f.kind, &f.name) {
        let ns = f
            .namespace
            .as_deref()
            .map(|n| format!(" in namespace {n}"))
            .unwrap_or_default();
        message = format!("{kind}/{name}{ns}: {message}");
    }
    if let Some(root) = &f.root {
        message = format!("{message} (rendered from {root})");
    }
    Annotation {
        path: f.file.clone(),
        start_line: f.line.max(1),
        end_line: f.line.max(1),
        annotation_level: f.severity.into(),
        title: Some(truncate_chars(f.rule.as_str(), MAX_TITLE_CHARS)),
        message: truncate_bytes_with_note(&message, MAX_MESSAGE_BYTES),
    }
}

/// Splits annotations into request-sized batches.
pub fn batches(annotations: &[Annotation]) -> impl Iterator<Item = &[Annotation]> {
    annotations.chunks(BATCH)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// Backticks cannot be escaped inside inline code: replace them.
fn md_code(s: &str) -> String {
    s.replace('`', "'").replace(['\n', '\r'], " ")
}

fn md_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn md_cell(s: &str, max: usize) -> String {
    truncate_chars(&md_line(s).replace('|', "\\|"), max)
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Cuts `s` to at most `max` characters, ending with a note of how much
/// was cut.
pub fn truncate_with_note(s: &str, max: usize) -> String {
    let total = s.chars().count();
    if total <= max {
        return s.to_owned();
    }
    // Reserve room for the note (its length is bounded by the digits).
    let note_room = 120;
    let keep = max.saturating_sub(note_room);
    let mut out: String = s.chars().take(keep).collect();
    let _ = write!(
        out,
        "\n\n> (truncated: {} of {total} characters cut to fit GitHub's limit)",
        total - keep
    );
    debug_assert!(out.chars().count() <= max);
    out
}

/// Cuts `s` to at most `max` bytes on a character boundary, with a note.
pub fn truncate_bytes_with_note(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let note = format!(" … (truncated: {} bytes cut)", s.len());
    let mut end = max.saturating_sub(note.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::evaluate::Stats;

    fn finding(sev: Severity, file: &str, line: u32, rule: &str) -> Finding {
        Finding::at(rule, sev, file, line, format!("{rule} at {file}:{line}"))
    }

    fn ev(findings: Vec<Finding>) -> Evaluation {
        Evaluation {
            findings,
            stats: Stats {
                files: 3,
                objects: 5,
                bytes: 100,
            },
            notes: vec!["exception for host-network expired on 2026-01-01".into()],
        }
    }

    #[test]
    fn error_fails_warning_passes() {
        let ctx = RenderContext::default();
        let out = render(
            &ev(vec![finding(Severity::Error, "a.yaml", 3, "privileged")]),
            &ctx,
        );
        assert_eq!(out.conclusion, Conclusion::Failure);
        assert_eq!(out.title, "1 blocking violation in 3 manifest files");
        assert_eq!(out.annotations.len(), 1);
        let a = &out.annotations[0];
        assert_eq!((a.start_line, a.end_line), (3, 3));
        assert_eq!(a.annotation_level, AnnotationLevel::Failure);
        assert_eq!(a.title.as_deref(), Some("privileged"));
        assert!(out.summary.contains("| `privileged` | error | 1 |"));
        assert!(out.summary.contains("exception for host-network expired"));

        let out = render(
            &ev(vec![finding(Severity::Warning, "a.yaml", 1, "seccomp")]),
            &ctx,
        );
        assert_eq!(out.conclusion, Conclusion::Success);
        assert_eq!(out.title, "Passed with 1 warning");
        assert_eq!(
            out.annotations[0].annotation_level,
            AnnotationLevel::Warning
        );

        let out = render(&ev(vec![]), &ctx);
        assert_eq!(out.conclusion, Conclusion::Success);
        assert!(out.annotations.is_empty());
    }

    #[test]
    fn batches_of_fifty() {
        let findings: Vec<Finding> = (1..=120)
            .map(|i| finding(Severity::Error, "a.yaml", i, "invalid-manifest"))
            .collect();
        let out = render(&ev(findings), &RenderContext::default());
        let sizes: Vec<usize> = batches(&out.annotations).map(|b| b.len()).collect();
        assert_eq!(sizes, [50, 50, 20]);
    }

    #[test]
    fn annotation_cap_keeps_errors_and_says_so() {
        let mut findings: Vec<Finding> = (1..=(MAX_ANNOTATIONS as u32 + 10))
            .map(|i| finding(Severity::Warning, "w.yaml", i, "seccomp"))
            .collect();
        findings.push(finding(Severity::Error, "z.yaml", 1, "privileged"));
        let out = render(&ev(findings), &RenderContext::default());
        assert_eq!(out.annotations.len(), MAX_ANNOTATIONS);
        assert!(
            out.annotations
                .iter()
                .any(|a| a.annotation_level == AnnotationLevel::Failure)
        );
        assert!(
            out.summary
                .contains("11 of 1011 findings were not annotated")
        );
    }

    #[test]
    fn limits_respected_with_notes() {
        let huge = "x".repeat(200_000);
        let mut f = finding(Severity::Error, "a.yaml", 1, &"r".repeat(400));
        f.message = "é".repeat(70_000);
        let e = Evaluation {
            findings: vec![f],
            stats: Stats::default(),
            notes: vec![huge],
        };
        let out = render(&e, &RenderContext::default());
        assert!(out.summary.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(out.summary.contains("truncated:"));
        let a = &out.annotations[0];
        assert!(a.message.len() <= MAX_MESSAGE_BYTES);
        assert!(a.message.contains("truncated"));
        assert!(a.title.as_ref().unwrap().chars().count() <= MAX_TITLE_CHARS);
        let fail = could_not_evaluate(&"t".repeat(1000), &"y".repeat(100_000));
        assert_eq!(fail.conclusion, Conclusion::Failure);
        assert!(fail.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(fail.summary.chars().count() <= MAX_SUMMARY_CHARS);
    }

    #[test]
    fn object_identity_in_message_and_markdown_escaped() {
        let mut f = finding(Severity::Error, "a|b.yaml", 2, "privileged");
        f.kind = Some("Deployment".into());
        f.name = Some("web".into());
        f.namespace = Some("prod".into());
        f.message = "container `app` | is privileged".into();
        let out = render(&ev(vec![f]), &RenderContext::default());
        assert_eq!(
            out.annotations[0].message,
            "Deployment/web in namespace prod: container `app` | is privileged"
        );
        assert!(out.summary.contains("container `app` \\| is privileged"));
    }

    fn verdict(number: u64, base: &str, c: Conclusion, title: &str) -> PrVerdict {
        PrVerdict {
            number,
            base_ref: base.into(),
            output: CheckRunOutput {
                conclusion: c,
                title: title.into(),
                summary: format!("summary of #{number}"),
                text: None,
                annotations: Vec::new(),
            },
        }
    }

    #[test]
    fn the_worst_pr_on_a_head_wins_and_every_pr_is_named() {
        let out = head_verdict(
            vec![
                verdict(8, "evil", Conclusion::Success, "approved"),
                verdict(7, "main", Conclusion::Failure, "1 more approval needed"),
            ],
            &[(9, "sandbox".into())],
        );
        assert_eq!(out.conclusion, Conclusion::Failure);
        assert!(
            out.title.starts_with("#7: 1 more approval needed"),
            "{}",
            out.title
        );
        for needle in [
            "| #7 | `main` | **failure**",
            "| #8 | `evil` | **success**",
            "#9 into `sandbox`",
            "summary of #7",
            "summary of #8",
        ] {
            assert!(out.summary.contains(needle), "{needle}: {}", out.summary);
        }
        let both_pass = head_verdict(
            vec![
                verdict(7, "main", Conclusion::Success, "ok"),
                verdict(8, "prod", Conclusion::Success, "ok"),
            ],
            &[],
        );
        assert_eq!(both_pass.conclusion, Conclusion::Success);
    }

    #[test]
    fn non_deployment_prs_never_count_and_neutral_needs_no_judged_pr() {
        let one = head_verdict(
            vec![verdict(7, "main", Conclusion::Success, "ok")],
            &[(8, "sandbox".into())],
        );
        assert_eq!(
            (one.conclusion, one.title.as_str()),
            (Conclusion::Success, "ok")
        );
        assert!(one.summary.contains("pull request #7 into `main`"));
        let none = head_verdict(Vec::new(), &[(8, "sandbox".into())]);
        assert_eq!(none.conclusion, Conclusion::Neutral);
        assert!(none.summary.contains("#8 into `sandbox`"));
        // A judged PR's neutral never reads better than another's success.
        assert!(badness(Conclusion::Neutral) > badness(Conclusion::Success));
        assert!(badness(Conclusion::Failure) > badness(Conclusion::Neutral));
    }
}
