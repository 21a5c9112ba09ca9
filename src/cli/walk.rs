//! Walking a directory and reading files the way a GitOps controller would
//! see them: `.git` is skipped, symlinks inside the tree are followed (Argo
//! CD and Kustomize follow them), symlinks that leave the tree are never
//! followed and are reported (Argo CD refuses a repository with
//! out-of-bounds symlinks), and nothing but regular files is ever read (a
//! FIFO would block us forever).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Most directory entries one walk visits before giving up.
pub const MAX_ENTRIES: usize = 1_000_000;

/// A file found by the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedFile {
    /// Path relative to the walked root, `/`-separated (the link's path for
    /// a followed symlink).
    pub rel: String,
    /// Where to read it (the resolved target for a symlink).
    pub path: PathBuf,
}

/// Something the walk did not follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A symlink whose target is outside the root.
    OutOfTree {
        /// The link's relative path.
        rel: String,
        /// What it points at, as written.
        target: String,
    },
    /// A symlink whose target does not exist.
    Dangling {
        /// The link's relative path.
        rel: String,
    },
    /// Neither a file, a directory nor a symlink (FIFO, socket, device).
    Special {
        /// Its relative path.
        rel: String,
    },
    /// A directory symlink that leads back to one of its own ancestors.
    Cycle {
        /// The link's relative path.
        rel: String,
    },
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files (and in-tree file symlinks), sorted by `rel`.
    pub files: Vec<WalkedFile>,
    /// What was not followed.
    pub problems: Vec<Problem>,
}

/// Walks `root` (a directory).
pub fn walk(root: &Path) -> std::io::Result<Walk> {
    let canon = root.canonicalize()?;
    let mut out = Walk::default();
    let mut budget = MAX_ENTRIES;
    let mut stack = vec![canon.clone()];
    visit(&canon, &canon, "", &mut stack, &mut out, &mut budget)?;
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

fn visit(
    root: &Path,
    dir: &Path,
    prefix: &str,
    stack: &mut Vec<PathBuf>,
    out: &mut Walk,
    budget: &mut usize,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if *budget == 0 {
            return Err(std::io::Error::other(format!(
                "more than {MAX_ENTRIES} directory entries; refusing to walk further"
            )));
        }
        *budget -= 1;
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let rel = join(prefix, &name.to_string_lossy());
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            stack.push(path.clone());
            visit(root, &path, &rel, stack, out, budget)?;
            stack.pop();
        } else if ft.is_file() {
            out.files.push(WalkedFile { rel, path });
        } else if ft.is_symlink() {
            let target = match path.canonicalize() {
                Ok(t) => t,
                Err(_) => {
                    out.problems.push(Problem::Dangling { rel });
                    continue;
                }
            };
            if !target.starts_with(root) {
                let written = fs::read_link(&path)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.problems.push(Problem::OutOfTree {
                    rel,
                    target: written,
                });
                continue;
            }
            let meta = fs::metadata(&target)?;
            if meta.is_dir() {
                // Following a link to an ancestor of where we are would
                // never end.
                if stack.iter().any(|a| a.starts_with(&target)) {
                    out.problems.push(Problem::Cycle { rel });
                    continue;
                }
                stack.push(target.clone());
                visit(root, &target, &rel, stack, out, budget)?;
                stack.pop();
            } else if meta.is_file() {
                out.files.push(WalkedFile { rel, path: target });
            } else {
                out.problems.push(Problem::Special { rel });
            }
        } else {
            out.problems.push(Problem::Special { rel });
        }
    }
    Ok(())
}

/// The outcome of reading one file.
#[derive(Debug, PartialEq, Eq)]
pub enum FileRead {
    /// UTF-8 text.
    Text(String),
    /// Larger than the limit (size in bytes).
    TooLarge(u64),
    /// Not valid UTF-8.
    NotUtf8,
}

/// Reads a regular file, at most `max` bytes (the size is checked against
/// what was actually read, not only the metadata, which can lie for files
/// that grow).
pub fn read_text(path: &Path, max: usize) -> std::io::Result<FileRead> {
    let f = fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > max as u64 {
        return Ok(FileRead::TooLarge(len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > max {
        return Ok(FileRead::TooLarge(buf.len() as u64));
    }
    match String::from_utf8(buf) {
        Ok(s) => Ok(FileRead::Text(
            s.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(s),
        )),
        Err(_) => Ok(FileRead::NotUtf8),
    }
}

/// Resolves `rel` under `root` (canonical) for reading, with the walk's
/// symlink rules: `Ok(None)` when it does not exist.
pub fn resolve_in_tree(root: &Path, rel: &str) -> Result<Option<PathBuf>, Problem> {
    let path = root.join(rel);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return Ok(None);
    };
    let target = match path.canonicalize() {
        Ok(t) => t,
        Err(_) if meta.file_type().is_symlink() => {
            return Err(Problem::Dangling {
                rel: rel.to_owned(),
            });
        }
        Err(_) => return Ok(None),
    };
    if !target.starts_with(root) {
        let written = fs::read_link(&path)
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(Problem::OutOfTree {
            rel: rel.to_owned(),
            target: written,
        });
    }
    match fs::metadata(&target) {
        Ok(m) if m.is_file() => Ok(Some(target)),
        Ok(_) => Err(Problem::Special {
            rel: rel.to_owned(),
        }),
        Err(_) => Ok(None),
    }
}

/// The work tree as the renderer reads it ([`Files`]): lazily, only what
/// a build references, with the walk's rules — nothing under `.git`, no
/// symlink out of the tree, regular files only, each within `max` bytes
/// and all of them within `max_total`. What it cannot read is absent to the
/// renderer (which then fails the render) and kept in [`problems`](Self::problems)
/// for the caller to report.
pub struct DiskTree {
    root: PathBuf,
    max: usize,
    max_total: u64,
    total: std::sync::atomic::AtomicU64,
    problems: std::sync::Mutex<Vec<(String, String)>>,
}

impl DiskTree {
    /// A reader of the tree at `root` (canonical).
    pub fn new(root: &Path, max: usize, max_total: u64) -> Self {
        DiskTree {
            root: root.to_path_buf(),
            max,
            max_total,
            total: std::sync::atomic::AtomicU64::new(0),
            problems: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// (path, what went wrong) for every file a render wanted and could
    /// not read.
    pub fn problems(&self) -> Vec<(String, String)> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn problem(&self, rel: &str, msg: String) {
        if let Ok(mut p) = self.problems.lock()
            && !p.iter().any(|(r, _)| r == rel)
        {
            p.push((rel.to_owned(), msg));
        }
    }

    /// The on-disk path of `rel` when it resolves inside the tree.
    fn resolve(&self, rel: &str) -> Option<PathBuf> {
        if rel.split('/').any(|c| c == ".." || c == ".git") {
            return None;
        }
        let p = if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        };
        fs::symlink_metadata(&p).ok()?;
        match p.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Some(real),
            Ok(_) => {
                self.problem(
                    rel,
                    "symlink points outside the repository tree and was not followed".into(),
                );
                None
            }
            Err(_) => {
                self.problem(rel, "dangling symlink: cannot be read".into());
                None
            }
        }
    }
}

impl crate::engine::render::Files for DiskTree {
    fn read(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        let real = self.resolve(path)?;
        if !fs::metadata(&real).is_ok_and(|m| m.is_file()) {
            return None;
        }
        let f = fs::File::open(&real).ok()?;
        let mut buf = Vec::new();
        if let Err(e) = f.take(self.max as u64 + 1).read_to_end(&mut buf) {
            self.problem(path, format!("cannot read: {e}"));
            return None;
        }
        if buf.len() > self.max {
            self.problem(
                path,
                format!("file is larger than the {}-byte limit; not read", self.max),
            );
            return None;
        }
        let total = self
            .total
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed)
            + buf.len() as u64;
        if total > self.max_total {
            self.problem(
                path,
                format!(
                    "renders read more than {} bytes in all; not read",
                    self.max_total
                ),
            );
            return None;
        }
        if buf.starts_with(b"\xef\xbb\xbf") {
            buf.drain(..3);
        }
        Some(std::borrow::Cow::Owned(buf))
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .is_some_and(|p| fs::metadata(p).is_ok_and(|m| m.is_file()))
    }

    fn is_dir(&self, dir: &str) -> bool {
        self.resolve(dir)
            .is_some_and(|p| fs::metadata(p).is_ok_and(|m| m.is_dir()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_skips_git_and_reports_escaping_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = t.path();
        fs::create_dir_all(r.join(".git/objects")).unwrap();
        fs::write(r.join(".git/config"), "x").unwrap();
        fs::create_dir_all(r.join("a/b")).unwrap();
        fs::write(r.join("a/b/x.yaml"), "k: v").unwrap();
        fs::write(outside.path().join("secret.yaml"), "s").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(outside.path().join("secret.yaml"), r.join("a/evil.yaml")).unwrap();
            symlink("b/x.yaml", r.join("a/good.yaml")).unwrap();
            symlink("..", r.join("a/b/loop")).unwrap();
            symlink("nope.yaml", r.join("dangling.yaml")).unwrap();
            symlink("a/b", r.join("linkdir")).unwrap();
        }
        let w = walk(r).unwrap();
        let rels: Vec<&str> = w.files.iter().map(|f| f.rel.as_str()).collect();
        #[cfg(unix)]
        {
            assert_eq!(rels, ["a/b/x.yaml", "a/good.yaml", "linkdir/x.yaml"]);
            assert!(
                w.problems
                    .iter()
                    .any(|p| matches!(p, Problem::OutOfTree { rel, .. } if rel == "a/evil.yaml"))
            );
            assert!(
                w.problems
                    .iter()
                    .any(|p| matches!(p, Problem::Cycle { rel } if rel == "a/b/loop"))
            );
            assert!(
                w.problems
                    .iter()
                    .any(|p| matches!(p, Problem::Dangling { rel } if rel == "dangling.yaml"))
            );
            let canon = r.canonicalize().unwrap();
            assert!(matches!(
                resolve_in_tree(&canon, "a/evil.yaml"),
                Err(Problem::OutOfTree { .. })
            ));
            assert!(resolve_in_tree(&canon, "a/good.yaml").unwrap().is_some());
            assert_eq!(resolve_in_tree(&canon, "missing.yaml"), Ok(None));
        }
        #[cfg(not(unix))]
        assert_eq!(rels, ["a/b/x.yaml"]);
    }

    #[test]
    fn read_limits_and_encoding() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        fs::write(&p, "\u{feff}abc").unwrap();
        assert_eq!(read_text(&p, 10).unwrap(), FileRead::Text("abc".into()));
        assert_eq!(read_text(&p, 2).unwrap(), FileRead::TooLarge(6));
        fs::write(&p, [0xff, 0xfe, 0x00]).unwrap();
        assert_eq!(read_text(&p, 10).unwrap(), FileRead::NotUtf8);
    }
}
