//! No dead links in what we ship to readers:
//! (a) every relative link in every Markdown file of the repository (tracked
//!     or about to be: `git ls-files --cached --others --exclude-standard`)
//!     names an existing file or directory, and every `#anchor` — in the
//!     same file or in `OTHER.md#anchor` — is a heading of the target (by
//!     GitHub's slug rules) or an explicit `<a id>`/`<a name>`;
//! (b) every `--help` text of the binary (top level, each subcommand, each
//!     nested subcommand) names only repository files that exist: `*.md`
//!     documents and paths under the repository's own directories, and
//!     README sections (`README: "Section"`) that are headings there.
//!
//! The checker itself is tested on a small tree with dead links, so it
//! cannot pass by finding nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files Git knows of (tracked, or untracked and not ignored).
fn markdown_files(repo: &Path) -> Vec<PathBuf> {
    let out = Command::new("git")
        .current_dir(repo)
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "*.md",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "git is needed to list the Markdown files ({e}); install it: apt-get install git"
            )
        });
    assert!(
        out.status.success(),
        "git ls-files failed in {}: {}",
        repo.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<PathBuf> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        // Listed but deleted in the work tree: nothing to read.
        .filter(|p| repo.join(p).is_file())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// The lines of a Markdown text outside fenced code blocks, with inline
/// code spans blanked (links and headings in code are examples, not links).
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker: String = t.chars().take_while(|c| *c == '`' || *c == '~').collect();
        if marker.len() >= 3 {
            match &fence {
                Some(open) if t.starts_with(open.as_str()) && t.trim() == marker => fence = None,
                Some(_) => {}
                None => fence = Some(marker),
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        out.push((n + 1, blank_code_spans(line)));
    }
    out
}

fn blank_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            out.push(' ');
        } else if in_code {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// GitHub's heading anchor: lower case; letters, digits, `-` and `_` kept,
/// spaces become `-`, everything else dropped.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    // Rendered text: `[label](url)` shows the label; code ticks and
    // emphasis stars are markup.
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if close < end => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| *c != '`' && *c != '*')
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor a Markdown file defines: heading slugs (with GitHub's
/// `-1`, `-2` suffixes for repeats) and `<a id=…>` / `<a name=…>`.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let hashes = t.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let base = slug(t[hashes..].trim().trim_end_matches('#').trim());
            let n = seen.entry(base.clone()).or_insert(0);
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
        for attr in ["id=\"", "name=\""] {
            for (at, _) in line.match_indices(attr) {
                if line[..at].contains("<a ") {
                    let v = &line[at + attr.len()..];
                    if let Some(end) = v.find('"') {
                        out.insert(v[..end].to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Link targets on one line: `[text](target)`, `![alt](target)`,
/// `[label]: target` definitions and `href="target"`.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let t = line.trim_start();
    if t.starts_with('[')
        && let Some(close) = t.find("]:")
    {
        let target = t[close + 2..].split_whitespace().next().unwrap_or("");
        if !target.is_empty() && !t[..close].contains('(') {
            out.push(target.trim_matches(['<', '>']).to_owned());
        }
    }
    let b = line.as_bytes();
    let mut i = 0;
    while let Some(pos) = line[i..].find("](") {
        let start = i + pos + 2;
        // Balanced parentheses, as GitHub parses them.
        let mut depth = 1;
        let mut j = start;
        while j < b.len() {
            match b[j] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if j < b.len() {
            let raw = line[start..j].trim();
            // `(target "title")`
            let target = raw.split_whitespace().next().unwrap_or("");
            out.push(target.trim_matches(['<', '>']).to_owned());
        }
        i = j.min(b.len());
        if i >= b.len() {
            break;
        }
    }
    for (at, _) in line.match_indices("href=\"") {
        let v = &line[at + 6..];
        if let Some(end) = v.find('"') {
            out.push(v[..end].to_owned());
        }
    }
    out
}

fn is_external(target: &str) -> bool {
    let scheme: String = target
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .collect();
    !scheme.is_empty() && target[scheme.len()..].starts_with(':')
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every dead relative link and unknown anchor in the Markdown files of
/// `repo`, as `file:line: what`.
fn dead_links(repo: &Path) -> (usize, Vec<String>) {
    let files = markdown_files(repo);
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut anchor_cache: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut anchors_of = |p: &Path| -> BTreeSet<String> {
        anchor_cache
            .entry(p.to_owned())
            .or_insert_with(|| anchors(&std::fs::read_to_string(p).unwrap_or_default()))
            .clone()
    };
    for file in &files {
        let text = std::fs::read_to_string(repo.join(file)).unwrap();
        let dir = repo.join(file).parent().unwrap().to_owned();
        for (line_no, line) in prose_lines(&text) {
            for target in link_targets(&line) {
                if target.is_empty() || is_external(&target) {
                    continue;
                }
                checked += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let path = path.split('?').next().unwrap();
                let resolved = if path.is_empty() {
                    repo.join(file)
                } else if let Some(abs) = path.strip_prefix('/') {
                    // GitHub resolves `/x` from the repository root.
                    repo.join(percent_decode(abs))
                } else {
                    dir.join(percent_decode(path))
                };
                let here = format!("{}:{line_no}", file.display());
                if !resolved.exists() {
                    problems.push(format!("{here}: {target}: no such file"));
                    continue;
                }
                let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
                    continue;
                };
                let is_md = resolved.extension().is_some_and(|e| e == "md");
                if is_md && !anchors_of(&resolved).contains(&percent_decode(anchor).to_lowercase())
                {
                    problems.push(format!("{here}: {target}: no heading or anchor #{anchor}"));
                }
            }
        }
    }
    (checked, problems)
}

#[test]
fn every_relative_link_in_every_markdown_file_resolves() {
    let files = markdown_files(&root());
    for must in [
        "README.md",
        "CHANGELOG.md",
        "vendor/saphyr-parser/PATCHES.md",
    ] {
        assert!(
            files.iter().any(|f| f == Path::new(must)),
            "{must} not found among {files:?}"
        );
    }
    let (checked, problems) = dead_links(&root());
    assert!(checked >= 5, "only {checked} relative links found");
    assert!(problems.is_empty(), "dead links:\n{}", problems.join("\n"));
}

#[test]
fn the_link_checker_finds_dead_links_and_anchors() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .current_dir(repo)
            .args(args)
            .output()
            .expect("git is needed (apt-get install git)")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::write(repo.join("docs/exists.txt"), "x").unwrap();
    std::fs::write(
        repo.join("README.md"),
        "# Title\n\n## Environment variables\n\n## `check --org-config` and more!\n\n\
         <a id=\"runbook-x\"></a>\n\n\
         [ok](docs/exists.txt) [ok](#environment-variables) [ok](#check---org-config-and-more)\n\
         [ok](#runbook-x) [ok](https://example.com/x.md) [ok](docs/)\n\
         [dead](install.md) [dead](#no-such-heading) ![img](docs/missing.png)\n\
         [def]: permissions.md\n\
         `[not a link](in-code.md)`\n\
         ```\n[not a link](in-fence.md)\n```\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("docs/other.md"),
        "[ok](../README.md#environment-variables) [dead](../README.md#gone) [ok](exists.txt)\n",
    )
    .unwrap();
    let (checked, problems) = dead_links(repo);
    assert_eq!(checked, 12, "{problems:#?}");
    let expected = [
        "README.md:11: install.md: no such file",
        "README.md:11: #no-such-heading: no heading or anchor #no-such-heading",
        "README.md:11: docs/missing.png: no such file",
        "README.md:12: permissions.md: no such file",
        "docs/other.md:1: ../README.md#gone: no heading or anchor #gone",
    ];
    let mut got = problems.clone();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    // GitHub's slugs.
    assert_eq!(slug("Security alert runbook"), "security-alert-runbook");
    assert_eq!(
        slug("`push.alert.revert_pr`: a deliberate trade-off"),
        "pushalertrevert_pr-a-deliberate-trade-off"
    );
    assert_eq!(slug("[Link](x.md) text"), "link-text");
    assert_eq!(
        slug("Migrating from policy-bot / Kyverno CLI in CI"),
        "migrating-from-policy-bot--kyverno-cli-in-ci"
    );
    let a = anchors("# A\n## A\n```\n# not\n```\n");
    assert_eq!(a, BTreeSet::from(["a".to_owned(), "a-1".to_owned()]));
}

// ------------------------------------------------------------ --help texts

fn help(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Subcommand names of a clap help text (the `Commands:` section).
fn subcommands(help: &str) -> Vec<String> {
    help.split_once("Commands:")
        .map(|(_, rest)| {
            rest.lines()
                // The rest of the `Commands:` line itself.
                .skip(1)
                .take_while(|l| !l.trim().is_empty())
                .filter_map(|l| l.split_whitespace().next())
                .filter(|n| *n != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Repository paths and README sections a help text names that do not
/// exist: `*.md` files, paths under the repository's own top-level
/// directories, and `README: "Section"` / `README "Section"` references.
fn dead_help_references(text: &str, repo: &Path) -> Vec<String> {
    let own_dirs: BTreeSet<String> = std::fs::read_dir(repo)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (e.path().is_dir() && !name.starts_with('.') && name != "target").then_some(name)
        })
        .collect();
    let readme_anchors =
        anchors(&std::fs::read_to_string(repo.join("README.md")).unwrap_or_default());
    let mut out = Vec::new();
    for raw in text.split(|c: char| {
        c.is_whitespace() || matches!(c, '`' | '\'' | ',' | ';' | '(' | ')' | '[' | ']')
    }) {
        let token = raw.trim_end_matches(['.', ':']).trim_start_matches("./");
        if token.is_empty() || token.contains("://") {
            continue;
        }
        let first = token.split('/').next().unwrap();
        let repo_path = token.ends_with(".md") || (token.contains('/') && own_dirs.contains(first));
        if repo_path && !repo.join(token.split('#').next().unwrap()).exists() {
            out.push(format!("{token}: no such file in the repository"));
        }
    }
    // README sections.
    let mut rest = text;
    while let Some(at) = rest.find("README") {
        rest = &rest[at + 6..];
        let after = rest.trim_start_matches([':', ' ', ',']);
        if let Some(q) = after.strip_prefix('"')
            && let Some(end) = q.find('"')
        {
            let section = q[..end].replace('\n', " ");
            let section = section.split_whitespace().collect::<Vec<_>>().join(" ");
            if !readme_anchors.contains(&slug(&section)) {
                out.push(format!("README section \"{section}\": no such heading"));
            }
        }
    }
    out
}

#[test]
fn help_texts_name_only_files_and_sections_that_exist() {
    let mut seen = 0;
    let mut problems = Vec::new();
    let mut queue: Vec<Vec<String>> = vec![vec![]];
    while let Some(args) = queue.pop() {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = help(&argv);
        seen += 1;
        for p in dead_help_references(&text, &root()) {
            problems.push(format!("gitops-guard {} --help: {p}", args.join(" ")));
        }
        for sub in subcommands(&text) {
            let mut next = args.clone();
            next.push(sub);
            queue.push(next);
        }
    }
    // Top level, check, serve, bench, check-pr, register, healthcheck,
    // deliveries and its three subcommands at least.
    assert!(seen >= 11, "only {seen} help texts found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_help_checker_finds_dead_references() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("rules")).unwrap();
    std::fs::write(tmp.path().join("rules/restricted.yml"), "").unwrap();
    std::fs::write(
        tmp.path().join("README.md"),
        "# x\n## Environment variables\n",
    )
    .unwrap();
    let text = "Policy: see install.md and DESIGN.md. Uses rules/restricted.yml, \
                rules/gone.yml and .github/gitops-guard.yml (the user's).\n\
                See README: \"Environment variables\" and README \"Nope\".";
    let mut got = dead_help_references(text, tmp.path());
    got.sort();
    assert_eq!(
        got,
        [
            "DESIGN.md: no such file in the repository",
            "README section \"Nope\": no such heading",
            "install.md: no such file in the repository",
            "rules/gone.yml: no such file in the repository",
        ]
    );
    assert_eq!(
        subcommands("Usage: x\n\nCommands:\n  check  Evaluate\n  help   Print\n\nOptions:\n"),
        ["check"]
    );
}
