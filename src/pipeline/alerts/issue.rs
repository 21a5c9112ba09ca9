//! The GitHub issue sink: one open issue per incident.
//!
//! The engine's fingerprint is embedded in the body as an HTML comment
//! (`<!-- gitops-guard:fingerprint=… -->`, invisible when rendered). Before
//! opening an issue we list the open issues labelled `gitops-guard` (the
//! list endpoint, not search: search is eventually consistent, so a repeat
//! seconds later could miss the first issue) and comment on the one
//! carrying the fingerprint. Nothing is cached: a closed issue means the
//! incident was handled, and the next occurrence opens a new one.

use super::{
    EnvLookup, Extras, LABEL, SECURITY_LABEL, SinkOutcome, SinkRetry, github_retryable, kind_label,
    runbook_reference, truncate, with_retries,
};
use crate::engine::ids::RepoName;
use crate::engine::pushes::Alert;
use crate::github::{GitHub, GitHubError, NewIssue};

/// GitHub's issue title limit (characters).
const MAX_TITLE_CHARS: usize = 256;
/// GitHub's issue and comment body limit is 65,536 characters; leave room.
const MAX_BODY_BYTES: usize = 60_000;

/// The marker that identifies an incident's issue.
pub fn fingerprint_marker(fingerprint: &str) -> String {
    format!("<!-- gitops-guard:fingerprint={fingerprint} -->")
}

/// Issue title: the kind, the engine's headline and the full SHA the alert
/// is about (the pushed `after` SHA first), so the issue list is searchable
/// by SHA.
pub fn title(alert: &Alert) -> String {
    let sha = alert
        .shas
        .first()
        .map(|s| format!(" — {s}"))
        .unwrap_or_default();
    let prefix = format!("[{}] ", kind_label(alert.kind));
    let room = MAX_TITLE_CHARS.saturating_sub(prefix.chars().count() + sha.chars().count());
    let mut headline: String = alert.title.chars().take(room).collect();
    if headline.len() < alert.title.len() {
        headline.pop();
        headline.push('…');
    }
    format!("{prefix}{headline}{sha}")
}

fn details(env: &EnvLookup, alert: &Alert, extras: &Extras) -> String {
    let mut s = String::new();
    s.push_str(&alert.body);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if !extras.notes.is_empty() {
        s.push_str(
            "\n**Limits while gathering facts** (the unchecked parts are treated as suspicious):\n",
        );
        for n in &extras.notes {
            s.push_str(&format!("- {n}\n"));
        }
    }
    if !alert.rollback.is_empty() {
        s.push_str(
            "\n### Roll back through a reviewed pull request\n\nNo cluster access is needed: Argo CD / Flux deploys the restored state once the PR is merged.\n\n```sh\n",
        );
        for c in &alert.rollback {
            s.push_str(c);
            s.push('\n');
        }
        s.push_str("```\n");
    }
    if let Some(url) = &extras.revert_pr {
        s.push_str(&format!(
            "\ngitops-guard opened the rollback pull request: {url} (it needs the usual reviews).\n"
        ));
    }
    s.push_str(&format!(
        "\nRunbook: {}\n",
        runbook_reference(env, alert.kind, true)
    ));
    s
}

/// The body of a new alert issue.
pub fn body(env: &EnvLookup, alert: &Alert, extras: &Extras) -> String {
    let marker = fingerprint_marker(&alert.fingerprint);
    // The marker goes first so truncation can never cut it off.
    let text = format!(
        "{marker}\n**gitops-guard security alert: `{}`**\n\n{}",
        kind_label(alert.kind),
        details(env, alert, extras)
    );
    truncate(&text, MAX_BODY_BYTES)
}

/// The comment added when the incident happens again.
pub fn repeat_comment(env: &EnvLookup, alert: &Alert, extras: &Extras) -> String {
    let text = format!(
        "**This incident happened again** ({}).\n\n{}",
        alert.title,
        details(env, alert, extras)
    );
    truncate(&text, MAX_BODY_BYTES)
}

async fn attempt(
    gh: &dyn GitHub,
    repo: &RepoName,
    env: &EnvLookup,
    alert: &Alert,
    extras: &Extras,
) -> Result<SinkOutcome, GitHubError> {
    let marker = fingerprint_marker(&alert.fingerprint);
    let existing = match gh.find_open_issue(repo, LABEL, &marker).await {
        Ok(found) => found,
        // Listing failed (after the client's own retries) but creating may
        // work: a duplicate issue is better than a silent incident.
        Err(e) => {
            tracing::warn!(error = %e, "cannot list open alert issues; opening a new one");
            None
        }
    };
    if let Some(issue) = existing {
        gh.comment_issue(repo, issue.number, &repeat_comment(env, alert, extras))
            .await?;
        return Ok(SinkOutcome::IssueCommented(issue.html_url));
    }
    let created = gh
        .create_issue(
            repo,
            &NewIssue {
                title: title(alert),
                body: body(env, alert, extras),
                labels: vec![LABEL.to_owned(), SECURITY_LABEL.to_owned()],
            },
        )
        .await?;
    Ok(SinkOutcome::IssueOpened(created.html_url))
}

/// Opens the incident's issue in `repo`, or comments on its open issue.
pub async fn open_or_comment(
    gh: &dyn GitHub,
    repo: &RepoName,
    env: &EnvLookup,
    alert: &Alert,
    extras: &Extras,
    retry: &SinkRetry,
) -> SinkOutcome {
    match with_retries("issue", retry, github_retryable, || {
        attempt(gh, repo, env, alert, extras)
    })
    .await
    {
        Ok(o) => o,
        Err(e) => SinkOutcome::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::CommitSha;
    use crate::engine::pushes::AlertKind;
    use std::sync::Arc;

    fn alert() -> Alert {
        Alert {
            kind: AlertKind::ForcePush,
            repo: RepoName::parse("acme/deploy").unwrap(),
            git_ref: "refs/heads/main".into(),
            fingerprint: "0123456789abcdef".into(),
            title: "Force-push to `main` in acme/deploy by @eve (2222222)".into(),
            body: "History was rewritten.".into(),
            shas: vec![CommitSha::new("2222222222222222222222222222222222222222")],
            rollback: vec!["git read-tree -u --reset 1111".into()],
            revert_branch: Some("gitops-guard/revert-2222222".into()),
        }
    }

    #[test]
    fn title_names_kind_and_full_sha() {
        let t = title(&alert());
        assert!(t.starts_with("[force-push] "));
        assert!(t.ends_with("2222222222222222222222222222222222222222"));
        let mut long = alert();
        long.title = "x".repeat(1000);
        let t = title(&long);
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
        assert!(t.ends_with("2222222222222222222222222222222222222222"));
    }

    #[test]
    fn body_has_marker_rollback_and_runbook() {
        let env: EnvLookup = Arc::new(|_| None);
        let extras = Extras {
            revert_pr: Some("https://github.com/acme/deploy/pull/9".into()),
            notes: vec!["checked 100 of 300 commits".into()],
        };
        let b = body(&env, &alert(), &extras);
        assert!(b.starts_with("<!-- gitops-guard:fingerprint=0123456789abcdef -->"));
        assert!(b.contains("```sh\ngit read-tree -u --reset 1111\n```"));
        assert!(
            b.contains("Runbook: `force-push` (`#runbook-force-push`)"),
            "{b}"
        );
        assert!(b.contains("pull/9"));
        assert!(b.contains("checked 100 of 300 commits"));
        let mut big = alert();
        big.body = "y".repeat(200_000);
        let b = body(&env, &big, &Extras::default());
        assert!(b.len() <= MAX_BODY_BYTES);
        assert!(b.starts_with("<!-- gitops-guard:fingerprint="));
        let c = repeat_comment(&env, &alert(), &Extras::default());
        assert!(c.contains("happened again"));
        assert!(!c.contains("fingerprint="));
    }
}
