//! The `gitops-guard/signatures` decision: every PR commit must carry a
//! signature GitHub verified (`commit.verification.verified == true`).
//!
//! - All commits are judged, however many: GitHub's list-PR-commits endpoint
//!   stops at 250, so the shell pages the compare/commits API and hands over
//!   the full list; nothing here truncates.
//! - `signer_is_author`: a verified signature must also be by the commit's
//!   author (GitHub only checks that the *committer* email belongs to the
//!   key), so one person cannot sign commits written under another's name.
//!   The shell provides the signer login where GitHub reports one; when it is
//!   unknown the commit fails (fail closed).
//! - `trusted_bots`: unsigned commits are accepted only when **both** the
//!   author and the committer are linked to listed bot logins. Those logins
//!   are derived by GitHub from commit emails, which anyone can write into an
//!   unsigned commit, so listing a bot trusts whoever can push a commit
//!   claiming to be it; the summary says so whenever an exemption applies.
//! - GitHub's `verification.reason` is translated into plain words for every
//!   documented value; unknown values are shown verbatim.

use std::fmt::Write as _;

use crate::engine::config::SignaturesConfig;
use crate::engine::ids::CommitSha;

/// GitHub caps check-run summaries at 65535 characters; we stay below.
const MAX_SUMMARY: usize = 60_000;
/// Failing commits listed in full; the rest is counted.
const MAX_LIST: usize = 200;

/// `commit.verification` as GitHub reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// GitHub verified the signature.
    pub verified: bool,
    /// GitHub's `reason` (`valid`, `unsigned`, `bad_email`, …).
    pub reason: String,
    /// Login of the account that owns the signing key, when known (GraphQL
    /// `signature.signer`); needed for `signer_is_author`.
    pub signer: Option<String>,
}

/// One PR commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Commit SHA.
    pub sha: CommitSha,
    /// Author login, when GitHub linked the author email to an account.
    pub author_login: Option<String>,
    /// Git author name.
    pub author_name: Option<String>,
    /// Git author email.
    pub author_email: Option<String>,
    /// Committer login, when linked.
    pub committer_login: Option<String>,
    /// GitHub's verification record; `None` when GitHub gave none.
    pub verification: Option<Verification>,
}

/// Why a commit fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not verified; GitHub's `reason` attached.
    Unverified {
        /// GitHub's `verification.reason`.
        reason: String,
    },
    /// GitHub returned no verification record.
    NoVerification,
    /// Verified, but not signed by the author (`signer_is_author`).
    SignerNotAuthor {
        /// Who signed, if known.
        signer: Option<String>,
    },
}

/// A commit that fails the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailingCommit {
    /// Commit SHA (render with [`CommitSha::short`]).
    pub sha: CommitSha,
    /// Who wrote it, for the reader (`@login`, or `name <email>`).
    pub author: String,
    /// What is wrong.
    pub problem: Problem,
}

/// An unsigned commit accepted because its author and committer are trusted bots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExemptCommit {
    /// Commit SHA.
    pub sha: CommitSha,
    /// The bot login.
    pub bot: String,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignaturesOutcome {
    /// The check passes.
    pub passed: bool,
    /// `signatures.required` (when false the check always passes).
    pub required: bool,
    /// Commits examined.
    pub checked: usize,
    /// Failing commits in the order given.
    pub failing: Vec<FailingCommit>,
    /// Unverified commits accepted through `trusted_bots`.
    pub exempted: Vec<ExemptCommit>,
}

/// GitHub's `verification.reason` in plain words (documented values from
/// the REST "Get a commit" reference; anything else is quoted back).
pub fn explain_reason(reason: &str) -> String {
    let s = match reason {
        "expired_key" => "the key that made the signature has expired",
        "not_signing_key" => "the key is not marked for signing (its usage flags lack \"sign\")",
        "gpgverify_error" => {
            "GitHub could not reach its signature verification service; re-run the check later"
        }
        "gpgverify_unavailable" => {
            "GitHub's signature verification service was unavailable; re-run the check later"
        }
        "unsigned" => "the commit is not signed",
        "unknown_signature_type" => "the signature is of a type GitHub does not recognise",
        "no_user" => "the committer email is not linked to any GitHub account",
        "unverified_email" => {
            "the committer email belongs to a GitHub account but is not verified on it"
        }
        "bad_email" => "the committer email is not one of the identities on the signing key",
        "unknown_key" => "the signing key is not registered on any GitHub account",
        "malformed_signature" => "the signature could not be parsed",
        "invalid" => "the signature does not verify against the key it names",
        "valid" => "GitHub reported the signature as valid but did not mark the commit verified",
        other => {
            return format!(
                "GitHub reported `{}`",
                other
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect::<String>()
            );
        }
    };
    s.to_owned()
}

fn same_login(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

fn author_display(c: &Commit) -> String {
    if let Some(l) = &c.author_login {
        return login(l);
    }
    let id = match (&c.author_name, &c.author_email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => format!("<{e}>"),
        (None, None) => return "an unknown author".into(),
    };
    code(&id)
}

/// Evaluates the signatures gate over **all** PR commits.
pub fn evaluate(commits: &[Commit], config: &SignaturesConfig) -> SignaturesOutcome {
    let mut failing = Vec::new();
    let mut exempted = Vec::new();
    if config.required {
        let trusted = |l: &Option<String>| {
            l.as_deref().is_some_and(|l| {
                config
                    .trusted_bots
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(l))
            })
        };
        for c in commits {
            let problem = match &c.verification {
                None => Some(Problem::NoVerification),
                Some(v) if !v.verified => Some(Problem::Unverified {
                    reason: v.reason.clone(),
                }),
                Some(v) if config.signer_is_author && !same_login(&v.signer, &c.author_login) => {
                    Some(Problem::SignerNotAuthor {
                        signer: v.signer.clone(),
                    })
                }
                Some(_) => None,
            };
            let Some(problem) = problem else { continue };
            let bot_exempt = !matches!(problem, Problem::SignerNotAuthor { .. })
                && trusted(&c.author_login)
                && trusted(&c.committer_login);
            if bot_exempt {
                exempted.push(ExemptCommit {
                    sha: c.sha.clone(),
                    bot: c.author_login.clone().unwrap_or_default(),
                });
            } else {
                failing.push(FailingCommit {
                    sha: c.sha.clone(),
                    author: author_display(c),
                    problem,
                });
            }
        }
    }
    SignaturesOutcome {
        passed: failing.is_empty(),
        required: config.required,
        checked: commits.len(),
        failing,
        exempted,
    }
}

fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

fn login(l: &str) -> String {
    let clean: String = l
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '[' | ']'))
        .collect();
    format!("@{clean}")
}

fn problem_text(p: &Problem) -> String {
    match p {
        Problem::Unverified { reason } => {
            let tag: String = reason
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            format!("{} (`{}`)", explain_reason(reason), tag)
        }
        Problem::NoVerification => "GitHub returned no verification information".into(),
        Problem::SignerNotAuthor { signer: Some(s) } => format!(
            "signed by {}, not by its author (`signatures.signer_is_author`)",
            login(s)
        ),
        Problem::SignerNotAuthor { signer: None } => {
            "GitHub did not say who signed it, so the signer cannot be confirmed as the author (`signatures.signer_is_author`)".into()
        }
    }
}

/// Renders the check-run output: `(title, summary)` in Markdown, under
/// GitHub's 65535-character cap.
pub fn render_summary(o: &SignaturesOutcome) -> (String, String) {
    if !o.required {
        return (
            "Signature check disabled".into(),
            "`signatures.required` is `false` in the base branch's configuration; commits were not checked.\n".into(),
        );
    }
    let title = if o.passed {
        match o.checked {
            1 => "The commit is verified".to_owned(),
            n => format!("All {n} commits are verified"),
        }
    } else {
        format!(
            "{} of {} {} not verified",
            o.failing.len(),
            o.checked,
            if o.checked == 1 {
                "commit is"
            } else {
                "commits are"
            }
        )
    };
    let mut s = String::new();
    if !o.failing.is_empty() {
        s.push_str("### Commits that fail\n");
        for f in o.failing.iter().take(MAX_LIST) {
            let _ = writeln!(
                s,
                "- {} by {}: {}",
                code(f.sha.short()),
                f.author,
                problem_text(&f.problem)
            );
        }
        if o.failing.len() > MAX_LIST {
            let _ = writeln!(s, "- …and {} more", o.failing.len() - MAX_LIST);
        }
        s.push_str(
            "\nSign the commits (GPG, SSH or S/MIME) with a key registered on the author's GitHub account, using a verified email, then force-push the rewritten branch.\n",
        );
    } else {
        let _ = writeln!(
            s,
            "Every commit in this PR ({}) has a signature GitHub verified.",
            o.checked
        );
    }
    if !o.exempted.is_empty() {
        s.push_str("\n### Accepted without a verified signature (`signatures.trusted_bots`)\n");
        for e in o.exempted.iter().take(MAX_LIST) {
            let _ = writeln!(s, "- {} by {}", code(e.sha.short()), login(&e.bot));
        }
        if o.exempted.len() > MAX_LIST {
            let _ = writeln!(s, "- …and {} more", o.exempted.len() - MAX_LIST);
        }
        s.push_str("\nBot identities on unsigned commits come from commit emails, which anyone can write; keep `trusted_bots` short.\n");
    }
    if s.len() > MAX_SUMMARY {
        let mut end = MAX_SUMMARY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n\n…(truncated)\n");
    }
    (title, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(i: usize, author: Option<&str>, verified: bool, reason: &str) -> Commit {
        Commit {
            sha: CommitSha::new(format!("{i:040x}")),
            author_login: author.map(str::to_owned),
            author_name: Some("Some One".into()),
            author_email: Some("some@one.test".into()),
            committer_login: author.map(str::to_owned),
            verification: Some(Verification {
                verified,
                reason: reason.into(),
                signer: author.map(str::to_owned),
            }),
        }
    }

    #[test]
    fn all_verified_passes() {
        let c: Vec<Commit> = (1..=3)
            .map(|i| commit(i, Some("alice"), true, "valid"))
            .collect();
        let o = evaluate(&c, &SignaturesConfig::default());
        assert!(o.passed);
        assert_eq!(render_summary(&o).0, "All 3 commits are verified");
    }

    #[test]
    fn unsigned_and_bad_email_fail_with_plain_reasons() {
        let c = vec![
            commit(0xabcdef1, Some("alice"), true, "valid"),
            commit(0x1234567, Some("bob"), false, "unsigned"),
            commit(0x7654321, None, false, "bad_email"),
        ];
        let o = evaluate(&c, &SignaturesConfig::default());
        assert!(!o.passed);
        assert_eq!(o.failing.len(), 2);
        let (title, summary) = render_summary(&o);
        assert_eq!(title, "2 of 3 commits are not verified");
        assert!(
            summary.contains("`0000000` by @bob: the commit is not signed (`unsigned`)"),
            "{summary}"
        );
        assert!(summary.contains("`Some One <some@one.test>`"), "{summary}");
        assert!(summary.contains("not one of the identities on the signing key (`bad_email`)"));
    }

    #[test]
    fn every_documented_reason_has_words() {
        for r in [
            "expired_key",
            "not_signing_key",
            "gpgverify_error",
            "gpgverify_unavailable",
            "unsigned",
            "unknown_signature_type",
            "no_user",
            "unverified_email",
            "bad_email",
            "unknown_key",
            "malformed_signature",
            "invalid",
            "valid",
        ] {
            let t = explain_reason(r);
            assert!(!t.contains("GitHub reported `"), "{r} untranslated");
        }
        assert_eq!(explain_reason("new_thing"), "GitHub reported `new_thing`");
    }

    #[test]
    fn missing_verification_fails() {
        let mut c = commit(1, Some("a"), true, "valid");
        c.verification = None;
        assert!(!evaluate(&[c], &SignaturesConfig::default()).passed);
    }

    #[test]
    fn signer_must_be_author_when_configured() {
        let mut c = commit(1, Some("alice"), true, "valid");
        c.verification.as_mut().unwrap().signer = Some("mallory".into());
        let cfg = SignaturesConfig {
            signer_is_author: true,
            ..SignaturesConfig::default()
        };
        let o = evaluate(std::slice::from_ref(&c), &cfg);
        assert!(!o.passed);
        assert!(
            render_summary(&o)
                .1
                .contains("signed by @mallory, not by its author")
        );
        assert!(evaluate(std::slice::from_ref(&c), &SignaturesConfig::default()).passed);
        c.verification.as_mut().unwrap().signer = None;
        assert!(!evaluate(std::slice::from_ref(&c), &cfg).passed);
        c.verification.as_mut().unwrap().signer = Some("ALICE".into());
        assert!(evaluate(&[c], &cfg).passed);
    }

    #[test]
    fn trusted_bots_exempt_only_when_listed() {
        let c = commit(1, Some("renovate[bot]"), false, "unsigned");
        assert!(!evaluate(std::slice::from_ref(&c), &SignaturesConfig::default()).passed);
        let cfg = SignaturesConfig {
            trusted_bots: vec!["renovate[bot]".into()],
            ..SignaturesConfig::default()
        };
        let o = evaluate(std::slice::from_ref(&c), &cfg);
        assert!(o.passed);
        assert_eq!(o.exempted.len(), 1);
        assert!(render_summary(&o).1.contains("trusted_bots"));
        // A human committer pushing a "bot-authored" commit is not exempt.
        let mut mixed = c.clone();
        mixed.committer_login = Some("mallory".into());
        assert!(!evaluate(&[mixed], &cfg).passed);
    }

    #[test]
    fn not_required_passes_everything() {
        let c = commit(1, Some("a"), false, "unsigned");
        let cfg = SignaturesConfig {
            required: false,
            ..SignaturesConfig::default()
        };
        let o = evaluate(&[c], &cfg);
        assert!(o.passed && !o.required);
        assert_eq!(render_summary(&o).0, "Signature check disabled");
    }

    #[test]
    fn more_than_250_commits_are_all_checked() {
        let mut c: Vec<Commit> = (1..=300)
            .map(|i| commit(i, Some("a"), true, "valid"))
            .collect();
        assert!(evaluate(&c, &SignaturesConfig::default()).passed);
        c[299].verification.as_mut().unwrap().verified = false;
        c[299].verification.as_mut().unwrap().reason = "unknown_key".into();
        let o = evaluate(&c, &SignaturesConfig::default());
        assert!(!o.passed);
        assert_eq!(o.checked, 300);
        assert_eq!(o.failing[0].sha.as_str(), format!("{:040x}", 300));
    }

    #[test]
    fn huge_failure_lists_stay_under_the_cap() {
        let c: Vec<Commit> = (1..=5000)
            .map(|i| commit(i, Some("a"), false, "unsigned"))
            .collect();
        let o = evaluate(&c, &SignaturesConfig::default());
        let (_, s) = render_summary(&o);
        assert!(s.len() < 65_535);
        assert!(s.contains("…and 4800 more"));
    }
}
