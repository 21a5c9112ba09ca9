//! The repository stands alone: no source, test, bench, script or deploy
//! file names a path of the machine it was written on (a work, home or
//! root folder), a folder beside the checkout (the old shared folder), the
//! variable that pointed at it, or a fixed file in the system temporary
//! folder (which any local user can pre-create or link; tests use
//! `tempfile`, the bench a fresh directory it removes). The exact fragments
//! are in [`needles`]. Vendored data under `tests/data/` is third-party
//! text and is not checked.

use std::path::{Path, PathBuf};

/// Folders checked, relative to the crate root.
const CHECKED: [&str; 6] = ["src", "tests", "benches", "scripts", "deploy", ".ci"];

/// Lines allowed to match, each with the reason. Keep this short.
const ALLOWED: [(&str, &str, &str); 2] = [
    (
        "src/cli/check.rs",
        concat!("normalize_display(Path::new(\"/t", "mp/a\"))"),
        "a display-string unit test: the path is formatted, never opened",
    ),
    (
        "src/cli/gitrepo.rs",
        concat!("\"--output=/t", "mp/x\""),
        "an option-injection revision that the test asserts is refused before git runs",
    ),
];

/// The forbidden fragments, assembled at run time so this file does not
/// match itself.
fn needles() -> Vec<String> {
    vec![
        ["/wo", "rk/"].concat(),
        ["/ho", "me/"].concat(),
        ["/ro", "ot/"].concat(),
        ["../sha", "red"].concat(),
        ["GITOPS_GUARD_", "SHARED"].concat(),
    ]
}

/// What is wrong with one line, if anything.
fn offence(line: &str) -> Option<String> {
    for n in needles() {
        if line.contains(&n) {
            return Some(format!("names {n:?}"));
        }
    }
    let tmp = ["/t", "mp/"].concat();
    let mut rest = line;
    while let Some(i) = rest.find(&tmp) {
        let after = &rest[i + tmp.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        // `mktemp -d /tmp/name.XXXXXX` is a template for a fresh unique
        // name, not a fixed path.
        if !name.is_empty() && !name.ends_with("XXXXXX") {
            return Some(format!("names the fixed path {tmp}{name}"));
        }
        rest = after;
    }
    None
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let rd =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {} ({e})", dir.display()));
    for entry in rd {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_machine_paths_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("tests/data");
    let mut files = Vec::new();
    for d in CHECKED {
        let dir = root.join(d);
        assert!(dir.is_dir(), "{} is missing", dir.display());
        walk(&dir, &mut files);
    }
    files.retain(|p| !p.starts_with(&data));
    assert!(files.len() > 50, "only {} files checked", files.len());
    let mut found = Vec::new();
    let mut allowed_used = vec![false; ALLOWED.len()];
    let mut text_files = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            // Binary files (none today) cannot name a path as text.
            continue;
        };
        text_files += 1;
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        for (n, line) in text.lines().enumerate() {
            let Some(why) = offence(line) else {
                continue;
            };
            let allowed = ALLOWED
                .iter()
                .position(|(p, frag, _)| *p == rel && line.contains(frag));
            match allowed {
                Some(i) => allowed_used[i] = true,
                None => found.push(format!("{rel}:{}: {why}: {}", n + 1, line.trim())),
            }
        }
    }
    assert!(text_files > 50, "only {text_files} text files read");
    assert!(
        found.is_empty(),
        "machine-specific paths (use env!(\"CARGO_MANIFEST_DIR\") + tests/data, or tempfile):\n{}",
        found.join("\n")
    );
    // A stale allowance hides the next real offence on that line: drop it.
    for (i, used) in allowed_used.iter().enumerate() {
        assert!(used, "allow-list entry no longer needed: {:?}", ALLOWED[i]);
    }
}

#[test]
fn the_check_catches_each_kind_of_path() {
    let bad = [
        format!("let p = \"{}\";", ["/wo", "rk/shared/x"].concat()),
        format!("cd {}/corpus", ["../sha", "red"].concat()),
        format!(
            "std::env::var(\"{}\")",
            ["GITOPS_GUARD_", "SHARED"].concat()
        ),
        format!("open(\"{}bench\")", ["/t", "mp/"].concat()),
        format!("HOME={}me", ["/ho", "me/"].concat()),
        format!("{}.cargo", ["/ro", "ot/"].concat()),
    ];
    for line in &bad {
        assert!(offence(line).is_some(), "not caught: {line}");
    }
    let good = [
        "let d = tempfile::tempdir()?;",
        "mountPath: /tmp",
        "dir=\"$(mktemp -d /tmp/gitops-guard-pg.XXXXXX)\"",
        "Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/data\")",
    ];
    for line in good {
        assert_eq!(offence(line), None, "false alarm: {line}");
    }
}
