//! Property tests for the reviews gate: approvals that must not count never
//! help (author, contributor, stale, no write access, bots, before a base
//! change), removing approvals or taking a team's write access away never
//! helps, and comments never change anything.

use std::collections::HashMap;

use gitops_guard::engine::config::{ReviewsConfig, Unowned};
use gitops_guard::engine::gates::codeowners::CodeOwners;
use gitops_guard::engine::gates::reviews::{
    Access, BaseCodeOwners, PrCommit, PrFile, Review, ReviewState, ReviewsInput, ReviewsOutcome,
    TeamMembers, evaluate,
};
use gitops_guard::engine::ids::CommitSha;
use gitops_guard::engine::input::ChangeStatus;
use proptest::prelude::*;

const HEAD: &str = "1111111111111111111111111111111111111111";
const OLD: &str = "2222222222222222222222222222222222222222";
const USERS: [&str; 7] = ["author", "alice", "bob", "carol", "dave", "eve", "mallory"];
const PATHS: [&str; 6] = [
    "production/app.yaml",
    "staging/app.yaml",
    "platform/argocd.yaml",
    "README.md",
    "docs/guide.md",
    ".github/CODEOWNERS",
];
const LINES: [&str; 8] = [
    "* @alice @bob",
    "/production/ @acme/platform",
    "/staging/ @eve dev@example.com",
    "*.md @carol",
    "/docs/",
    "platform/ @dave",
    "!bad @x",
    "/production/app.yaml @bob @acme/platform",
];

fn teams() -> TeamMembers {
    let mut t = TeamMembers::new();
    t.insert("acme/platform", ["carol", "dave"]);
    t
}

fn state_strategy() -> impl Strategy<Value = ReviewState> {
    prop_oneof![
        4 => Just(ReviewState::Approved),
        1 => Just(ReviewState::ChangesRequested),
        1 => Just(ReviewState::Dismissed),
        2 => Just(ReviewState::Commented),
    ]
}

fn review_strategy() -> impl Strategy<Value = (usize, ReviewState, bool)> {
    (0..USERS.len(), state_strategy(), prop::bool::weighted(0.8))
}

fn config_strategy() -> impl Strategy<Value = ReviewsConfig> {
    (
        0u32..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                required_approvals,
                require_code_owners,
                dismiss_stale,
                ignore_contributors,
                deny,
            )| {
                ReviewsConfig {
                    required_approvals,
                    require_code_owners,
                    dismiss_stale,
                    ignore_contributors,
                    unowned: if deny { Unowned::Deny } else { Unowned::Allow },
                }
            },
        )
}

#[derive(Clone, Debug)]
struct Case {
    input: ReviewsInput,
    config: ReviewsConfig,
}

fn review(i: usize, user: &str, state: ReviewState, on_head: bool) -> Review {
    Review {
        id: 1000 + i as u64,
        user: user.to_owned(),
        state,
        commit_id: Some(CommitSha::new(if on_head { HEAD } else { OLD })),
        // One review a minute, in order, so "before the base change" is
        // well defined.
        submitted_at: Some(format!("2026-01-01T{:02}:{:02}:00Z", i / 60 % 24, i % 60)),
        order: i as u64,
        bot: false,
    }
}

/// Every user has write access and the team is granted push.
fn all_write() -> (HashMap<String, Access>, HashMap<String, Access>) {
    let users = USERS
        .iter()
        .map(|u| ((*u).to_owned(), Access::Write("write".into())))
        .collect();
    let teams = HashMap::from([("acme/platform".to_owned(), Access::Write("push".into()))]);
    (users, teams)
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(0..LINES.len(), 0..6),
        prop::collection::btree_set(0..PATHS.len(), 1..4),
        prop::collection::vec(review_strategy(), 0..10),
        prop::collection::vec(0..USERS.len(), 0..3),
        config_strategy(),
        any::<bool>(),
    )
        .prop_map(|(lines, paths, reviews, contributors, config, has_co)| {
            let text: String = lines.iter().map(|&i| format!("{}\n", LINES[i])).collect();
            let mut commits = vec![PrCommit {
                author_login: Some("author".into()),
                committer_login: Some("web-flow".into()),
                ..PrCommit::new(CommitSha::new(HEAD))
            }];
            for c in contributors {
                commits.push(PrCommit {
                    author_login: Some("author".into()),
                    committer_login: Some(USERS[c].into()),
                    ..PrCommit::new(CommitSha::new(OLD))
                });
            }
            let mut email_logins = HashMap::new();
            email_logins.insert("dev@example.com".to_owned(), "mallory".to_owned());
            let (permissions, team_access) = all_write();
            let input = ReviewsInput {
                author: "author".into(),
                head_sha: CommitSha::new(HEAD),
                files: paths
                    .into_iter()
                    .map(|i| PrFile {
                        path: PATHS[i].into(),
                        previous_path: None,
                        status: ChangeStatus::Modified,
                    })
                    .collect(),
                reviews: reviews
                    .into_iter()
                    .enumerate()
                    .map(|(i, (u, s, h))| review(i, USERS[u], s, h))
                    .collect(),
                commits,
                codeowners: has_co.then(|| BaseCodeOwners {
                    path: ".github/CODEOWNERS".into(),
                    file: CodeOwners::parse(&text),
                }),
                email_logins,
                permissions,
                team_access,
                base_changed_at: None,
            };
            Case { input, config }
        })
}

fn run(c: &Case) -> ReviewsOutcome {
    evaluate(&c.input, &c.config, &teams())
}

fn push_review(c: &mut Case, user: &str, state: ReviewState, on_head: bool) {
    let i = c.input.reviews.len() + 100;
    c.input.reviews.push(review(i, user, state, on_head));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn author_approval_never_helps(c in case_strategy(), on_head in any::<bool>()) {
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, "Author", ReviewState::Approved, on_head);
        prop_assert!(before.passed || !run(&after).passed);
    }

    #[test]
    fn contributor_approval_never_helps(c in case_strategy(), who in 1..USERS.len(), on_head in any::<bool>()) {
        let mut c = c;
        c.config.ignore_contributors = true;
        c.input.commits.push(PrCommit {
            author_login: Some(USERS[who].into()),
            committer_login: Some("web-flow".into()),
            ..PrCommit::new(CommitSha::new(OLD))
        });
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Approved, on_head);
        prop_assert!(before.passed || !run(&after).passed);
    }

    #[test]
    fn stale_approval_never_helps(c in case_strategy(), who in 0..USERS.len()) {
        let mut c = c;
        c.config.dismiss_stale = true;
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Approved, false);
        prop_assert!(before.passed || !run(&after).passed);
    }

    #[test]
    fn approval_without_write_access_never_helps(c in case_strategy(), who in 1..USERS.len(), role in prop::sample::select(vec!["read", "triage", "none"]), on_head in any::<bool>()) {
        let mut c = c;
        c.input.permissions.insert(USERS[who].into(), Access::NoWrite(role.into()));
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Approved, on_head);
        prop_assert!(before.passed || !run(&after).passed);
        // Nor does one whose permission could not be learned.
        after.input.permissions.insert(USERS[who].into(), Access::Unknown("GitHub API error".into()));
        prop_assert!(before.passed || !run(&after).passed);
    }

    #[test]
    fn revoking_write_access_never_helps(c in case_strategy(), who in 0..USERS.len(), team in any::<bool>()) {
        let before = run(&c);
        let mut after = c.clone();
        if team {
            after.input.team_access.insert("acme/platform".into(), Access::NoWrite("pull".into()));
        } else {
            after.input.permissions.insert(USERS[who].into(), Access::NoWrite("read".into()));
        }
        prop_assert!(!run(&after).passed || before.passed);
    }

    #[test]
    fn bot_approval_never_helps(c in case_strategy(), who in 1..USERS.len(), on_head in any::<bool>()) {
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Approved, on_head);
        let last = after.input.reviews.len() - 1;
        after.input.reviews[last].bot = true;
        prop_assert!(before.passed || !run(&after).passed);
        let mut app = c.clone();
        push_review(&mut app, "gitops-guard[bot]", ReviewState::Approved, on_head);
        app.input.permissions.insert("gitops-guard[bot]".into(), Access::Write("write".into()));
        prop_assert!(before.passed || !run(&app).passed);
    }

    #[test]
    fn a_base_change_never_helps(c in case_strategy(), minute in 0u32..12) {
        let before = run(&c);
        let mut after = c.clone();
        after.input.base_changed_at = Some(
            chrono::DateTime::parse_from_rfc3339(&format!("2026-01-01T00:{minute:02}:30Z"))
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        let o = run(&after);
        prop_assert!(before.passed || !o.passed);
        // Every counted approver approved after the change.
        if c.config.dismiss_stale {
            for login in &o.approvals_counted {
                prop_assert!(after.input.reviews.iter().any(|r| r.user.eq_ignore_ascii_case(login)
                    && r.state == ReviewState::Approved
                    && r.order as u32 > minute));
            }
        }
    }

    #[test]
    fn counted_approvers_all_have_write_access(c in case_strategy(), who in 0..USERS.len()) {
        let mut c = c;
        c.input.permissions.insert(USERS[who].into(), Access::NoWrite("read".into()));
        let o = run(&c);
        prop_assert!(!o.approvals_counted.iter().any(|l| l.eq_ignore_ascii_case(USERS[who])));
        prop_assert!(o.permissions_needed.is_empty(), "every user is known");
    }

    #[test]
    fn removing_an_approval_never_helps(c in case_strategy(), pick in any::<prop::sample::Index>()) {
        let approvals: Vec<usize> = c.input.reviews.iter().enumerate()
            .filter(|(_, r)| r.state == ReviewState::Approved).map(|(i, _)| i).collect();
        prop_assume!(!approvals.is_empty());
        let before = run(&c);
        let mut after = c.clone();
        after.input.reviews.remove(approvals[pick.index(approvals.len())]);
        prop_assert!(before.passed || !run(&after).passed);
    }

    #[test]
    fn later_comment_changes_nothing(c in case_strategy(), who in 0..USERS.len(), on_head in any::<bool>()) {
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Commented, on_head);
        prop_assert_eq!(before, run(&after));
    }

    #[test]
    fn fresh_head_approval_never_hurts(c in case_strategy(), who in 0..USERS.len()) {
        let before = run(&c);
        let mut after = c.clone();
        push_review(&mut after, USERS[who], ReviewState::Approved, true);
        prop_assert!(!before.passed || run(&after).passed);
    }

    #[test]
    fn review_order_in_the_input_does_not_matter(c in case_strategy()) {
        let before = run(&c);
        let mut after = c.clone();
        after.input.reviews.reverse();
        prop_assert_eq!(before, run(&after));
    }

    #[test]
    fn outcome_is_consistent(c in case_strategy()) {
        let o = run(&c);
        let expect = o.approvals_missing == 0
            && o.files_needing_owners.is_empty()
            && o.blocking_change_requests.is_empty()
            && !(c.config.require_code_owners && c.config.unowned == Unowned::Deny && !o.unowned_files.is_empty());
        prop_assert_eq!(o.passed, expect);
        prop_assert!(!o.approvals_counted.iter().any(|l| l.eq_ignore_ascii_case("author")));
        let (title, summary) = gitops_guard::engine::gates::reviews::render_summary(&o);
        prop_assert!(!title.is_empty());
        prop_assert!(summary.len() < 65_535);
    }
}
