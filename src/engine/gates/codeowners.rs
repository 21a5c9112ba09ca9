//! CODEOWNERS with GitHub's semantics, our own implementation.
//!
//! The crates that exist get GitHub's rules wrong in ways that matter for a
//! security gate (bracket ranges, `docs/*` reaching grandchildren, unanchored
//! middle-slash patterns), so this module implements the documented rules:
//!
//! - gitignore-style patterns, case-sensitive; the **last** matching line wins
//!   and lines never add up;
//! - a leading or middle `/` anchors the pattern at the repository root; a
//!   pattern without one matches at any depth;
//! - a trailing `/` matches directories only (and so all their descendants);
//!   a pattern that matches a directory owns everything below it, **except**
//!   that a trailing lone `*` segment (`docs/*`, `/*`) matches direct children
//!   only;
//! - `**` segments: leading `**/x` matches at any depth including the root,
//!   `a/**` matches everything below `a` but not `a` itself, `a/**/b`
//!   matches `a/b`;
//! - `!` negation, unescaped `[`/`]` and `\#` escaping are not supported by
//!   GitHub: such lines are reported as errors (with line number and reason)
//!   and never apply, while the rest of the file applies — exactly what
//!   GitHub does with invalid lines;
//! - `\ ` escapes a space inside a pattern, `\[`/`\]` literal brackets;
//! - `#` at the start of a line or of a whitespace-separated token starts a
//!   comment (inline comments after the owners work);
//! - a line with a pattern and no owners is valid and *un-owns* what it
//!   matches;
//! - owners are `@user`, `@org/team` or an email address;
//! - the file is looked up at [`LOCATIONS`] in that order on the **base**
//!   commit ([`pick`]), and a file of 3 MB or more is ignored entirely
//!   ([`MAX_FILE_BYTES`]).

use std::fmt;

use crate::engine::input::SourceFile;

/// Where GitHub looks for the file, in order; the first one found wins.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// GitHub ignores a CODEOWNERS file of this size or larger ("must be under 3 MB").
pub const MAX_FILE_BYTES: usize = 3 * 1024 * 1024;

/// Longest raw line text kept in an error, so a hostile file cannot make
/// error lists huge (the file itself is already capped at 3 MB).
const MAX_ERROR_TEXT: usize = 200;

/// Returns the CODEOWNERS file GitHub would use among `files` (base-commit
/// files; any order): the first of [`LOCATIONS`] present. No fallback to a
/// later location when the first is too large or broken — GitHub does not
/// fall back either, it just uses the first file it finds.
pub fn pick(files: &[SourceFile]) -> Option<&SourceFile> {
    LOCATIONS
        .iter()
        .find_map(|loc| files.iter().find(|f| f.path == *loc))
}

/// One owner on a CODEOWNERS line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// `@login` (GitHub logins compare case-insensitively).
    User(String),
    /// `@org/team-slug`.
    Team {
        /// Organisation login.
        org: String,
        /// Team slug.
        slug: String,
    },
    /// An email address registered to an account.
    Email(String),
}

impl Owner {
    /// True when `login` is this user owner (case-insensitive, as GitHub logins are).
    pub fn is_user(&self, login: &str) -> bool {
        matches!(self, Owner::User(u) if u.eq_ignore_ascii_case(login))
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::User(u) => write!(f, "@{u}"),
            Owner::Team { org, slug } => write!(f, "@{org}/{slug}"),
            Owner::Email(e) => f.write_str(e),
        }
    }
}

/// One valid CODEOWNERS line.
#[derive(Clone, Debug)]
pub struct Rule {
    /// 1-based line number in the file.
    pub line: usize,
    /// The pattern as written (escapes kept).
    pub pattern: String,
    /// Owners in file order; empty means the line un-owns what it matches.
    pub owners: Vec<Owner>,
    matcher: Pattern,
}

impl Rule {
    /// True when this line's pattern matches the repository-relative `path`.
    pub fn matches(&self, path: &str) -> bool {
        let segs = split_path(path);
        self.matcher.matches(&segs)
    }
}

/// An invalid line: reported, never applied (GitHub skips it too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number; 0 for whole-file problems (size).
    pub line: usize,
    /// The line as written (truncated to a few hundred bytes).
    pub text: String,
    /// Why it is invalid, in words a repository owner can act on.
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

/// A parsed CODEOWNERS file.
#[derive(Clone, Debug, Default)]
pub struct CodeOwners {
    /// Valid lines in file order.
    pub rules: Vec<Rule>,
    /// Invalid lines (and whole-file problems), in file order.
    pub errors: Vec<ParseError>,
}

/// Who owns a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership<'a> {
    /// The last matching line names owners.
    Owned {
        /// Line number of the deciding rule.
        line: usize,
        /// Its owners (never empty).
        owners: &'a [Owner],
    },
    /// The last matching line has no owners: explicitly un-owned.
    Unowned {
        /// Line number of the deciding rule.
        line: usize,
    },
    /// No line matches.
    NoMatch,
}

impl CodeOwners {
    /// Parses a CODEOWNERS file. Never fails: invalid lines land in
    /// [`CodeOwners::errors`] and the rest of the file applies. A file of
    /// [`MAX_FILE_BYTES`] or more yields no rules (GitHub ignores it) and one
    /// error saying so.
    pub fn parse(text: &str) -> CodeOwners {
        let mut out = CodeOwners::default();
        if text.len() >= MAX_FILE_BYTES {
            out.errors.push(ParseError {
                line: 0,
                text: String::new(),
                reason: format!(
                    "the file is {} bytes; GitHub ignores CODEOWNERS files of 3 MB or more, so nothing is owned",
                    text.len()
                ),
            });
            return out;
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some((pattern, matcher, owners))) => out.rules.push(Rule {
                    line: line_no,
                    pattern,
                    owners,
                    matcher,
                }),
                Err(reason) => out.errors.push(ParseError {
                    line: line_no,
                    text: truncate(raw.trim(), MAX_ERROR_TEXT),
                    reason,
                }),
            }
        }
        out
    }

    /// Who owns `path` (repository-relative, `/`-separated): the last
    /// matching line decides.
    pub fn owners_of(&self, path: &str) -> Ownership<'_> {
        let segs = split_path(path);
        for rule in self.rules.iter().rev() {
            if rule.matcher.matches(&segs) {
                return if rule.owners.is_empty() {
                    Ownership::Unowned { line: rule.line }
                } else {
                    Ownership::Owned {
                        line: rule.line,
                        owners: &rule.owners,
                    }
                };
            }
        }
        Ownership::NoMatch
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn split_path(path: &str) -> Vec<Vec<char>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().collect())
        .collect()
}

type ParsedLine = Option<(String, Pattern, Vec<Owner>)>;

/// Parses one line: `Ok(None)` for blank and comment lines.
fn parse_line(raw: &str) -> Result<ParsedLine, String> {
    let line = raw.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r');
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let tokens = tokenize(line)?;
    let Some((pattern, owner_tokens)) = tokens.split_first() else {
        return Ok(None);
    };
    let matcher = Pattern::compile(pattern)?;
    let mut owners = Vec::with_capacity(owner_tokens.len());
    for t in owner_tokens {
        owners.push(parse_owner(t)?);
    }
    Ok(Some((pattern.clone(), matcher, owners)))
}

/// Splits a line into whitespace-separated tokens, stopping at a comment.
/// Only the first token (the pattern) may contain `\`-escaped whitespace.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let in_pattern = tokens.is_empty();
        match c {
            ' ' | '\t' => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            '#' if cur.is_empty() => break,
            '#' => {
                return Err(if in_pattern {
                    "`#` inside a pattern is not supported: GitHub reads it as the start of a comment, and escaping it with `\\` does not work".into()
                } else {
                    format!(
                        "`#` inside owner `{}#…`: separate comments from owners with a space",
                        cur
                    )
                });
            }
            '\\' if in_pattern => {
                cur.push(c);
                match chars.next() {
                    Some('#') => {
                        return Err(
                            "escaping `#` with `\\` is not supported by GitHub in CODEOWNERS; this line never applies".into(),
                        );
                    }
                    Some(n) => cur.push(n),
                    None => return Err("the pattern ends with a lone `\\`".into()),
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    Ok(tokens)
}

fn is_login_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn parse_owner(tok: &str) -> Result<Owner, String> {
    let bad = || {
        format!(
            "owner `{}` is not `@user`, `@org/team` or an email address",
            truncate(tok, 100)
        )
    };
    if let Some(name) = tok.strip_prefix('@') {
        if let Some((org, slug)) = name.split_once('/') {
            let ok = !org.is_empty()
                && org.len() <= 100
                && org.chars().all(is_login_char)
                && !slug.is_empty()
                && slug.len() <= 100
                && slug.chars().all(|c| is_login_char(c) || c == '.');
            return if ok {
                Ok(Owner::Team {
                    org: org.to_owned(),
                    slug: slug.to_owned(),
                })
            } else {
                Err(bad())
            };
        }
        return if !name.is_empty() && name.len() <= 100 && name.chars().all(is_login_char) {
            Ok(Owner::User(name.to_owned()))
        } else {
            Err(bad())
        };
    }
    if is_email(tok) {
        Ok(Owner::Email(tok.to_owned()))
    } else {
        Err(bad())
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || s.len() > 254 || domain.contains('@') {
        return false;
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._%+-'".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// One character class inside a path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// A literal character (escapes already resolved).
    Lit(char),
    /// `?`: any one character except `/`.
    One,
    /// `*`: any run of characters except `/`.
    Star,
}

/// One `/`-separated pattern segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// `**`: zero or more whole segments.
    Any,
    /// A glob for exactly one segment.
    Glob(Vec<Tok>),
}

/// A compiled pattern: one or two segment sequences matched against the
/// whole path (the second one covers "matched a directory, so owns its
/// descendants" by appending `*/**`).
#[derive(Clone, Debug)]
struct Pattern {
    variants: Vec<Vec<Seg>>,
}

impl Pattern {
    fn compile(raw: &str) -> Result<Pattern, String> {
        if raw.starts_with('!') {
            return Err("negation with `!` is not supported in CODEOWNERS".into());
        }
        // Resolve escapes into tokens while splitting on `/`.
        let mut segs_toks: Vec<(Vec<Tok>, bool)> = vec![(Vec::new(), false)];
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            let (cur, plain_stars) = segs_toks.last_mut().expect("non-empty");
            match c {
                '/' => segs_toks.push((Vec::new(), false)),
                '\\' => match chars.next() {
                    Some(n) => {
                        cur.push(Tok::Lit(n));
                        *plain_stars = true;
                    }
                    None => return Err("the pattern ends with a lone `\\`".into()),
                },
                '[' | ']' => {
                    return Err(
                        "both `[` and `]` must be escaped with a `\\`: character ranges are not supported in CODEOWNERS"
                            .into(),
                    );
                }
                '*' => cur.push(Tok::Star),
                '?' => {
                    cur.push(Tok::One);
                    *plain_stars = true;
                }
                _ => {
                    cur.push(Tok::Lit(c));
                    *plain_stars = true;
                }
            }
        }
        // Leading `/` anchors; trailing `/` means directories only.
        let anchored_lead = segs_toks.len() > 1 && segs_toks[0].0.is_empty();
        if anchored_lead {
            segs_toks.remove(0);
        }
        let dir_only = segs_toks.len() > 1 && segs_toks.last().is_some_and(|s| s.0.is_empty());
        if dir_only {
            segs_toks.pop();
        }
        if segs_toks.iter().all(|s| s.0.is_empty()) {
            return Err("the pattern matches no path".into());
        }
        if segs_toks.iter().any(|s| s.0.is_empty()) {
            return Err("the pattern has an empty path segment (`//`)".into());
        }
        // A slash anywhere but at the end anchors the pattern at the root.
        let anchored = anchored_lead || segs_toks.len() > 1;
        let mut segs: Vec<Seg> = Vec::with_capacity(segs_toks.len() + 3);
        if !anchored {
            segs.push(Seg::Any);
        }
        for (toks, has_other) in segs_toks {
            // Exactly two unescaped stars form `**`; anything else is a glob
            // (gitignore: "other consecutive asterisks are regular asterisks").
            if !has_other && toks.len() == 2 {
                if segs.last() != Some(&Seg::Any) {
                    segs.push(Seg::Any);
                }
            } else {
                segs.push(Seg::Glob(toks));
            }
        }
        // `a/**` must not match `a` itself: a trailing `**` needs at least one segment.
        if segs.last() == Some(&Seg::Any) {
            segs.pop();
            segs.push(Seg::Glob(vec![Tok::Star]));
            segs.push(Seg::Any);
        }
        let last_lone_star = segs.last() == Some(&Seg::Glob(vec![Tok::Star]));
        let mut descend = segs.clone();
        descend.push(Seg::Glob(vec![Tok::Star]));
        descend.push(Seg::Any);
        let variants = if dir_only {
            vec![descend]
        } else if last_lone_star {
            // `docs/*`, `/*`: direct children only.
            vec![segs]
        } else {
            vec![segs, descend]
        };
        Ok(Pattern { variants })
    }

    fn matches(&self, path: &[Vec<char>]) -> bool {
        !path.is_empty() && self.variants.iter().any(|v| match_segments(v, path))
    }
}

/// Wildcard matching over segments: `Seg::Any` is the only multi-element
/// wildcard, so the classic single-backtrack algorithm is exact and runs in
/// O(pattern × path) glob calls without recursion or memo tables.
fn match_segments(pat: &[Seg], path: &[Vec<char>]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    while i < path.len() {
        if p < pat.len() {
            match &pat[p] {
                Seg::Any => {
                    back = Some((p, i));
                    p += 1;
                    continue;
                }
                Seg::Glob(t) if match_glob(t, &path[i]) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                Seg::Glob(_) => {}
            }
        }
        match back {
            Some((bp, bi)) => {
                p = bp + 1;
                i = bi + 1;
                back = Some((bp, bi + 1));
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == Seg::Any {
        p += 1;
    }
    p == pat.len()
}

/// Glob matching within one segment (`*` and `?` never cross `/`, since
/// segments contain none). Same single-backtrack algorithm.
fn match_glob(toks: &[Tok], s: &[char]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < toks.len() {
            match toks[p] {
                Tok::Star => {
                    back = Some((p, i));
                    p += 1;
                    continue;
                }
                Tok::One => {
                    p += 1;
                    i += 1;
                    continue;
                }
                Tok::Lit(c) if c == s[i] => {
                    p += 1;
                    i += 1;
                    continue;
                }
                Tok::Lit(_) => {}
            }
        }
        match back {
            Some((bp, bi)) => {
                p = bp + 1;
                i = bi + 1;
                back = Some((bp, bi + 1));
            }
            None => return false,
        }
    }
    while p < toks.len() && toks[p] == Tok::Star {
        p += 1;
    }
    p == toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned_by(co: &CodeOwners, path: &str) -> Option<Vec<String>> {
        match co.owners_of(path) {
            Ownership::Owned { owners, .. } => Some(owners.iter().map(|o| o.to_string()).collect()),
            _ => None,
        }
    }

    #[test]
    fn last_match_wins_and_lines_do_not_add_up() {
        let co = CodeOwners::parse("* @all\n*.yaml @yaml\n/prod/ @prod\n");
        assert_eq!(owned_by(&co, "prod/app.yaml").unwrap(), vec!["@prod"]);
        assert_eq!(owned_by(&co, "dev/app.yaml").unwrap(), vec!["@yaml"]);
        assert_eq!(owned_by(&co, "README.md").unwrap(), vec!["@all"]);
        assert!(co.errors.is_empty());
    }

    #[test]
    fn empty_owner_list_unowns() {
        let co = CodeOwners::parse("/apps/ @octocat\n/apps/github\n");
        assert_eq!(
            co.owners_of("apps/github/x.js"),
            Ownership::Unowned { line: 2 }
        );
        assert_eq!(owned_by(&co, "apps/other.js").unwrap(), vec!["@octocat"]);
        assert_eq!(co.owners_of("lib/x"), Ownership::NoMatch);
    }

    #[test]
    fn inline_comments_and_comment_lines() {
        let co = CodeOwners::parse(
            "# header\n  # indented comment\n/a/ @x @y # who owns a\n/b/ @z #c\n",
        );
        assert!(co.errors.is_empty(), "{:?}", co.errors);
        assert_eq!(owned_by(&co, "a/f").unwrap(), vec!["@x", "@y"]);
        assert_eq!(owned_by(&co, "b/f").unwrap(), vec!["@z"]);
        assert_eq!(co.rules[0].line, 3);
    }

    #[test]
    fn invalid_lines_are_reported_with_line_and_rest_applies() {
        let text = "* @all\n!*.js @neg\n*.[ch] @c\nsrc/ owner-without-at\n/x/ @ok\n\\#notes.txt @h\ndocs/#x @d\n/y/ @a#b\n";
        let co = CodeOwners::parse(text);
        let lines: Vec<usize> = co.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 6, 7, 8]);
        assert!(co.errors[0].reason.contains('!'));
        assert!(co.errors[1].reason.contains("must be escaped"));
        assert!(co.errors[2].reason.contains("owner-without-at"));
        assert_eq!(owned_by(&co, "x/f").unwrap(), vec!["@ok"]);
        assert_eq!(owned_by(&co, "main.c").unwrap(), vec!["@all"]);
        assert_eq!(owned_by(&co, "src/a.js").unwrap(), vec!["@all"]);
    }

    #[test]
    fn escaped_space_and_brackets() {
        let co = CodeOwners::parse("/my\\ dir/ @a\n/apps/\\[id\\]/ @b\n");
        assert!(co.errors.is_empty(), "{:?}", co.errors);
        assert_eq!(owned_by(&co, "my dir/x").unwrap(), vec!["@a"]);
        assert_eq!(co.owners_of("my/x"), Ownership::NoMatch);
        assert_eq!(owned_by(&co, "apps/[id]/page.ts").unwrap(), vec!["@b"]);
        assert_eq!(co.owners_of("apps/i/page.ts"), Ownership::NoMatch);
    }

    #[test]
    fn owner_kinds() {
        let co = CodeOwners::parse("* @user @acme/platform-team dev@example.com\n");
        assert_eq!(
            co.rules[0].owners,
            vec![
                Owner::User("user".into()),
                Owner::Team {
                    org: "acme".into(),
                    slug: "platform-team".into()
                },
                Owner::Email("dev@example.com".into())
            ]
        );
        for bad in ["@", "@a/b/c", "user", "a@b", "@us er", "@org/", "x@-y.com"] {
            let co = CodeOwners::parse(&format!("* {bad}\n"));
            assert_eq!(co.errors.len(), 1, "{bad} should be invalid");
            assert!(co.rules.is_empty());
        }
    }

    #[test]
    fn direct_children_only_for_trailing_star() {
        let co = CodeOwners::parse("docs/* @d\n");
        assert!(owned_by(&co, "docs/a.md").is_some());
        assert!(owned_by(&co, "docs/a/b.md").is_none());
        let co = CodeOwners::parse("/* @r\n");
        assert!(owned_by(&co, "README").is_some());
        assert!(owned_by(&co, "a/README").is_none());
        // A wildcard segment that is not a lone `*` still owns descendants.
        let co = CodeOwners::parse("f* @f\n");
        assert!(owned_by(&co, "foo/bar").is_some());
    }

    #[test]
    fn case_sensitive_and_crlf_and_bom() {
        let co = CodeOwners::parse("\u{feff}/Docs/ @d\r\n*.JS @j\r\n");
        assert!(co.errors.is_empty());
        assert!(owned_by(&co, "docs/x").is_none());
        assert!(owned_by(&co, "Docs/x").is_some());
        assert!(owned_by(&co, "a.js").is_none());
        assert!(owned_by(&co, "a.JS").is_some());
    }

    #[test]
    fn too_large_file_is_ignored_and_reported() {
        let mut text = String::from("* @all\n");
        while text.len() < MAX_FILE_BYTES {
            text.push_str("# padding padding padding padding padding padding\n");
        }
        let co = CodeOwners::parse(&text);
        assert!(co.rules.is_empty());
        assert_eq!(co.errors.len(), 1);
        assert_eq!(co.errors[0].line, 0);
        let co = CodeOwners::parse("* @all\n");
        assert_eq!(co.rules.len(), 1);
    }

    #[test]
    fn odd_patterns_are_errors() {
        for line in ["/ @x", "// @x", "a//b @x", "foo\\"] {
            let co = CodeOwners::parse(line);
            assert_eq!(co.errors.len(), 1, "{line:?}");
            assert!(co.rules.is_empty());
        }
        // An escaped space keeps the owner-looking text inside the pattern.
        let co = CodeOwners::parse("foo\\ @x");
        assert!(co.errors.is_empty());
        assert_eq!(co.rules[0].pattern, "foo\\ @x");
        assert!(co.rules[0].owners.is_empty());
    }

    #[test]
    fn pick_follows_github_order() {
        let f = |p: &str| SourceFile::new(p, "");
        let files = vec![f("docs/CODEOWNERS"), f("CODEOWNERS")];
        assert_eq!(pick(&files).unwrap().path, "CODEOWNERS");
        let files = vec![f("CODEOWNERS"), f(".github/CODEOWNERS")];
        assert_eq!(pick(&files).unwrap().path, ".github/CODEOWNERS");
        let files = vec![f("docs/CODEOWNERS")];
        assert_eq!(pick(&files).unwrap().path, "docs/CODEOWNERS");
        assert!(pick(&[f("src/CODEOWNERS")]).is_none());
    }

    #[test]
    fn many_double_stars_stay_fast() {
        let pat = "/".to_owned() + &"**/a/".repeat(200) + "b";
        let co = CodeOwners::parse(&format!("{pat} @x\n"));
        let path = "a/".repeat(2000) + "c";
        let t = std::time::Instant::now();
        assert!(owned_by(&co, &path).is_none());
        assert!(t.elapsed().as_secs() < 2);
    }
}
