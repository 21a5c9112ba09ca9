//! Read-only Git access for the CLI (`check --base REV`, the default
//! `--repo`, repository-relative SARIF paths).
//!
//! We run the `git` binary rather than linking git2 (libgit2, a C library
//! with its own TLS/SSH stack) or gix (a large dependency tree): `git` is on
//! every CI runner and developer machine, it honours the user's own
//! configuration (safe.directory, worktrees, alternates, partial clones)
//! exactly, and we need only a handful of plumbing commands. Every command
//! uses NUL-separated output (`-z`) so no path is ever misparsed, runs in
//! the evaluated directory so paths come back relative to it, and every
//! output is read with a byte limit so a hostile repository cannot exhaust
//! memory.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::engine::ids::RepoName;

/// Most bytes accepted from one listing command (`ls-tree`, `diff`, …).
pub const MAX_LISTING_BYTES: usize = 128 * 1024 * 1024;
/// Most bytes of stderr kept for error messages.
const MAX_STDERR_BYTES: u64 = 16 * 1024;

/// What can go wrong talking to Git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The `git` binary could not be started.
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    /// The directory is not inside a Git work tree (or git refuses it, e.g.
    /// for dubious ownership); the second field is git's explanation.
    #[error("{} is not inside a Git work tree{}", .0.display(), if .1.is_empty() { String::new() } else { format!(" (git: {})", .1) })]
    NotARepo(PathBuf, String),
    /// The revision does not name a commit.
    #[error("{rev:?} does not name a commit in this repository{detail}")]
    BadRevision {
        /// The revision as given.
        rev: String,
        /// Git's explanation, if any (prefixed with `: `).
        detail: String,
    },
    /// A git command failed.
    #[error("git {command} failed: {stderr}")]
    Failed {
        /// The subcommand and arguments.
        command: String,
        /// Git's stderr (bounded).
        stderr: String,
    },
    /// A command printed more than we accept.
    #[error("git {command} printed more than {limit} bytes; refusing to continue")]
    TooLarge {
        /// The subcommand.
        command: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Git printed something we could not parse.
    #[error("unexpected output from git {command}: {detail}")]
    Parse {
        /// The subcommand.
        command: String,
        /// What was wrong.
        detail: String,
    },
    /// Reading or writing a pipe failed.
    #[error("I/O error talking to git: {0}")]
    Io(#[from] std::io::Error),
}

/// A Git work tree, seen from a directory inside it.
#[derive(Clone, Debug)]
pub struct GitRepo {
    dir: PathBuf,
    prefix: String,
}

/// One entry of `git ls-tree -r -l`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// File mode (`100644`, `100755`, `120000` symlink, `160000` submodule).
    pub mode: String,
    /// Object id.
    pub oid: String,
    /// Blob size in bytes (`None` for submodules).
    pub size: Option<u64>,
    /// Path relative to the directory the repository was opened at.
    pub path: String,
}

impl TreeEntry {
    /// A regular file (not a symlink or submodule).
    pub fn is_file(&self) -> bool {
        self.mode.starts_with("100")
    }
}

/// One entry of `git diff --raw` between a commit and the work tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawChange {
    /// Status letter: `A`, `M`, `D`, `R`, `C`, `T`, `U`, `X`.
    pub status: char,
    /// Mode at the commit (`000000` when added).
    pub old_mode: String,
    /// Mode in the work tree (`000000` when deleted).
    pub new_mode: String,
    /// Blob id at the commit (all zeros when added).
    pub old_oid: String,
    /// Path at the commit (equals `path` unless renamed or copied).
    pub old_path: String,
    /// Path in the work tree.
    pub path: String,
}

/// A blob read from the object database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blob {
    /// The content.
    Data(Vec<u8>),
    /// Larger than the limit (size in bytes); not read.
    TooLarge(u64),
    /// Not in the repository.
    Missing,
}

impl GitRepo {
    /// Opens the work tree containing `dir`.
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let probe = GitRepo {
            dir: dir.to_path_buf(),
            prefix: String::new(),
        };
        let out = probe.run(
            &["rev-parse", "--is-inside-work-tree", "--show-prefix"],
            64 * 1024,
        );
        match out {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut lines = text.lines();
                if lines.next() != Some("true") {
                    return Err(GitError::NotARepo(dir.to_path_buf(), String::new()));
                }
                Ok(GitRepo {
                    dir: dir.to_path_buf(),
                    prefix: lines.next().unwrap_or("").to_owned(),
                })
            }
            Err(GitError::Failed { stderr, .. }) => {
                let first = stderr.lines().next().unwrap_or("").to_owned();
                Err(GitError::NotARepo(dir.to_path_buf(), first))
            }
            Err(e) => Err(e),
        }
    }

    /// The directory's path from the top of the work tree, `/`-terminated
    /// (empty at the top).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The commit id a revision names.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, GitError> {
        // A revision starting with `-` would be parsed as an option.
        if rev.is_empty() || rev.starts_with('-') || rev.contains('\0') {
            return Err(GitError::BadRevision {
                rev: rev.to_owned(),
                detail: String::new(),
            });
        }
        let spec = format!("{rev}^{{commit}}");
        match self.run(&["rev-parse", "--verify", "--quiet", &spec], 4096) {
            Ok(out) => {
                let sha = String::from_utf8_lossy(&out).trim().to_owned();
                if sha.len() >= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(sha)
                } else {
                    Err(GitError::Parse {
                        command: "rev-parse".into(),
                        detail: format!("not a commit id: {sha:?}"),
                    })
                }
            }
            Err(GitError::Failed { stderr, .. }) => Err(GitError::BadRevision {
                rev: rev.to_owned(),
                detail: if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {stderr}")
                },
            }),
            Err(e) => Err(e),
        }
    }

    /// Every file of `commit` under the directory (recursive), with paths
    /// relative to it.
    pub fn ls_tree(&self, commit: &str) -> Result<Vec<TreeEntry>, GitError> {
        let out = self.run(
            &["ls-tree", "-r", "-z", "-l", "--full-tree", commit],
            MAX_LISTING_BYTES,
        );
        // `--full-tree` lists the whole commit with top-relative paths; we
        // keep what is under our directory and strip the prefix, so a
        // directory with unusual characters needs no pathspec quoting.
        let out = out?;
        let mut entries = Vec::new();
        for rec in split_z(&out) {
            let (meta, path) =
                split_once_byte(rec, b'\t').ok_or_else(|| parse_err("ls-tree", rec))?;
            let meta = std::str::from_utf8(meta).map_err(|_| parse_err("ls-tree", rec))?;
            let mut parts = meta.split_whitespace();
            let (Some(mode), Some(_kind), Some(oid), Some(size)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(parse_err("ls-tree", rec));
            };
            let path = String::from_utf8_lossy(path);
            let Some(rel) = path.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            entries.push(TreeEntry {
                mode: mode.to_owned(),
                oid: oid.to_owned(),
                size: size.parse().ok(),
                path: rel.to_owned(),
            });
        }
        Ok(entries)
    }

    /// Changes from `commit` to the work tree (tracked files, staged or
    /// not), under the directory, with renames detected.
    pub fn diff_worktree(&self, commit: &str) -> Result<Vec<RawChange>, GitError> {
        let out = self.run(
            &[
                "diff",
                "--raw",
                "-z",
                "-M",
                "--relative",
                "--no-abbrev",
                "--no-ext-diff",
                "--no-textconv",
                "--ignore-submodules=none",
                commit,
                "--",
            ],
            MAX_LISTING_BYTES,
        )?;
        let mut recs = split_z(&out);
        let mut changes = Vec::new();
        while let Some(head) = recs.next() {
            let head = std::str::from_utf8(head).map_err(|_| parse_err("diff", head))?;
            let head = head
                .strip_prefix(':')
                .ok_or_else(|| parse_err("diff", head.as_bytes()))?;
            let f: Vec<&str> = head.split(' ').collect();
            if f.len() != 5 {
                return Err(parse_err("diff", head.as_bytes()));
            }
            let status = f[4].chars().next().unwrap_or('X');
            let first = recs
                .next()
                .ok_or_else(|| parse_err("diff", head.as_bytes()))?;
            let first = String::from_utf8_lossy(first).into_owned();
            let (old_path, path) = if matches!(status, 'R' | 'C') {
                let second = recs
                    .next()
                    .ok_or_else(|| parse_err("diff", head.as_bytes()))?;
                (first, String::from_utf8_lossy(second).into_owned())
            } else {
                (first.clone(), first)
            };
            changes.push(RawChange {
                status,
                old_mode: f[0].to_owned(),
                new_mode: f[1].to_owned(),
                old_oid: f[2].to_owned(),
                old_path,
                path,
            });
        }
        Ok(changes)
    }

    /// Untracked files that are not ignored, under the directory.
    pub fn untracked(&self) -> Result<Vec<String>, GitError> {
        let out = self.run(
            &[
                "ls-files",
                "--others",
                "--exclude-standard",
                "-z",
                "--",
                ".",
            ],
            MAX_LISTING_BYTES,
        )?;
        Ok(split_z(&out)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            // A trailing `/` is a nested repository: git would commit it as
            // a gitlink, not as files.
            .filter(|p| !p.ends_with('/'))
            .collect())
    }

    /// Files of `commit` under the directory whose content contains `needle`
    /// (a fixed string), relative to the directory.
    pub fn grep_files(&self, commit: &str, needle: &str) -> Result<Vec<String>, GitError> {
        let args = [
            "grep", "-l", "-z", "-I", "-F", "-e", needle, commit, "--", ".",
        ];
        match self.run(&args, MAX_LISTING_BYTES) {
            Ok(out) => {
                let want = format!("{commit}:");
                Ok(split_z(&out)
                    .map(|p| {
                        let p = String::from_utf8_lossy(p);
                        p.strip_prefix(&want).unwrap_or(&p).to_owned()
                    })
                    .collect())
            }
            // `git grep` exits 1 when nothing matches.
            Err(GitError::Failed { stderr, .. }) if stderr.is_empty() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Reads blobs by object id in one `git cat-file --batch` process. Blobs
    /// larger than `max_size` are skipped (streamed to nowhere), so memory
    /// stays bounded by the number of ids times `max_size`.
    pub fn read_blobs(
        &self,
        oids: &[String],
        max_size: u64,
    ) -> Result<HashMap<String, Blob>, GitError> {
        let mut result = HashMap::new();
        if oids.is_empty() {
            return Ok(result);
        }
        for oid in oids {
            if oid.is_empty() || !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(parse_err("cat-file", oid.as_bytes()));
            }
        }
        let mut child = self
            .command(&["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(GitError::Spawn)?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let requests: Vec<u8> = oids
            .iter()
            .flat_map(|o| format!("{o}\n").into_bytes())
            .collect();
        // Write from a thread: git answers while we are still asking, and a
        // full pipe in both directions would deadlock.
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            stdin.write_all(&requests)?;
            drop(stdin);
            Ok(())
        });
        let stderr = drain_stderr(&mut child);
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        for oid in oids {
            let mut header = Vec::new();
            (&mut out).take(1024).read_until(b'\n', &mut header)?;
            let header = String::from_utf8_lossy(&header).trim_end().to_owned();
            let f: Vec<&str> = header.split(' ').collect();
            if f.len() == 2 && f[1] == "missing" {
                result.insert(oid.clone(), Blob::Missing);
                continue;
            }
            if f.len() != 3 {
                let _ = child.kill();
                let _ = child.wait();
                return Err(parse_err("cat-file", header.as_bytes()));
            }
            let size: u64 = f[2]
                .parse()
                .map_err(|_| parse_err("cat-file", header.as_bytes()))?;
            if size > max_size || f[1] != "blob" {
                std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink())?;
                result.insert(oid.clone(), Blob::TooLarge(size));
                continue;
            }
            let mut data = vec![0u8; size as usize];
            out.read_exact(&mut data)?;
            let mut nl = [0u8; 1];
            out.read_exact(&mut nl)?;
            result.insert(oid.clone(), Blob::Data(data));
        }
        let _ = writer.join();
        let status = child.wait()?;
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            return Err(GitError::Failed {
                command: "cat-file --batch".into(),
                stderr,
            });
        }
        Ok(result)
    }

    /// The URL of the `origin` remote, if any.
    pub fn origin_url(&self) -> Option<String> {
        let out = self.run(&["remote", "get-url", "origin"], 64 * 1024).ok()?;
        let url = String::from_utf8_lossy(&out).trim().to_owned();
        (!url.is_empty()).then_some(url)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            // Never run a filesystem monitor hook, never prompt, never take
            // optional locks on the user's index.
            .args(["-c", "core.fsmonitor=false", "-c", "core.quotePath=false"])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        cmd
    }

    /// Runs a git command and returns its stdout, at most `limit` bytes.
    fn run(&self, args: &[&str], limit: usize) -> Result<Vec<u8>, GitError> {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(GitError::Spawn)?;
        let stderr = drain_stderr(&mut child);
        let mut out = Vec::new();
        child
            .stdout
            .take()
            .expect("piped stdout")
            .take(limit as u64 + 1)
            .read_to_end(&mut out)?;
        let command = args.first().copied().unwrap_or("").to_owned();
        if out.len() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::TooLarge { command, limit });
        }
        let status = child.wait()?;
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            return Err(GitError::Failed {
                command: args.join(" "),
                stderr,
            });
        }
        Ok(out)
    }
}

/// Reads a child's stderr on a thread (bounded), so a chatty git cannot
/// block on a full pipe while we read stdout.
fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let err = child.stderr.take();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut e) = err {
            let _ = (&mut e).take(MAX_STDERR_BYTES).read_to_end(&mut buf);
            let _ = std::io::copy(&mut e, &mut std::io::sink());
        }
        String::from_utf8_lossy(&buf).trim().to_owned()
    })
}

fn split_z(out: &[u8]) -> impl Iterator<Item = &[u8]> {
    out.split(|&b| b == 0).filter(|r| !r.is_empty())
}

fn split_once_byte(s: &[u8], b: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&c| c == b)?;
    Some((&s[..i], &s[i + 1..]))
}

fn parse_err(command: &str, rec: &[u8]) -> GitError {
    let mut detail = String::from_utf8_lossy(rec).into_owned();
    detail.truncate(200);
    GitError::Parse {
        command: command.to_owned(),
        detail,
    }
}

/// The top of the Git work tree containing `dir` (canonical): the nearest
/// directory, `dir` itself included, holding a `.git` directory or a `.git`
/// file (linked worktrees and submodules). Found by looking at the file
/// system rather than running git, so it costs a few `stat` calls and works
/// where git would refuse the directory (dubious ownership). `None` outside
/// any work tree.
pub fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::symlink_metadata(d.join(".git")).is_ok_and(|m| m.is_dir() || m.is_file())
        })
        .map(Path::to_path_buf)
}

/// `OWNER/NAME` from a remote URL: `https://host/owner/name(.git)`,
/// `ssh://git@host[:port]/owner/name(.git)`, `git@host:owner/name(.git)`.
/// The last two path segments are taken, so GitHub Enterprise Server paths
/// work too.
pub fn parse_remote_url(url: &str) -> Option<RepoName> {
    let url = url.trim();
    let path = if let Some((scheme, rest)) = url.split_once("://") {
        // scheme://[user@]host[:port]/path; a `file://` remote names no
        // hosted repository.
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        rest.split_once('/')?.1
    } else if let Some((host, path)) = url.split_once(':') {
        // scp-like: [user@]host:path (a local path has no `:` before a `/`)
        if host.contains('/') {
            return None;
        }
        path
    } else {
        return None;
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut segs = path.rsplit('/').filter(|s| !s.is_empty());
    let name = segs.next()?;
    let owner = segs.next()?;
    RepoName::parse(&format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls() {
        for (url, want) in [
            ("https://github.com/acme/deploy.git", Some("acme/deploy")),
            ("https://github.com/acme/deploy", Some("acme/deploy")),
            (
                "https://x-access-token:t@github.com/acme/deploy.git/",
                Some("acme/deploy"),
            ),
            ("git@github.com:acme/deploy.git", Some("acme/deploy")),
            (
                "ssh://git@github.com:22/acme/deploy.git",
                Some("acme/deploy"),
            ),
            (
                "https://ghe.example.com/api/acme/deploy",
                Some("acme/deploy"),
            ),
            ("/srv/git/deploy.git", None),
            ("file:///srv/git/deploy.git", None),
            ("deploy", None),
            ("https://github.com/deploy", None),
        ] {
            assert_eq!(
                parse_remote_url(url).map(|r| r.0),
                want.map(str::to_owned),
                "{url}"
            );
        }
    }

    #[test]
    fn work_tree_top_is_the_nearest_git_dir_or_file() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("repo/.git")).unwrap();
        std::fs::create_dir_all(top.join("repo/apps/team")).unwrap();
        std::fs::create_dir_all(top.join("repo/sub/x")).unwrap();
        // A submodule or linked worktree has a `.git` file.
        std::fs::write(top.join("repo/sub/.git"), "gitdir: ../.git/modules/sub\n").unwrap();
        let repo = top.join("repo");
        assert_eq!(work_tree_top(&repo.join("apps/team")), Some(repo.clone()));
        assert_eq!(work_tree_top(&repo), Some(repo.clone()));
        assert_eq!(work_tree_top(&repo.join("sub/x")), Some(repo.join("sub")));
        std::fs::create_dir_all(top.join("plain/dir")).unwrap();
        let plain = work_tree_top(&top.join("plain/dir"));
        // The temporary directory itself may sit inside some work tree;
        // what matters is that `plain/` is not taken for one.
        assert!(
            plain.as_ref().is_none_or(|p| !p.starts_with(&top)),
            "{plain:?}"
        );
    }

    #[test]
    fn bad_revisions_are_refused_before_git_sees_them() {
        let repo = GitRepo {
            dir: PathBuf::from("."),
            prefix: String::new(),
        };
        for rev in ["", "--output=/tmp/x", "-p"] {
            assert!(matches!(
                repo.resolve_commit(rev),
                Err(GitError::BadRevision { .. })
            ));
        }
    }
}
