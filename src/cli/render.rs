//! `gitops-guard render [--format yaml|json] PATH`: prints what kustomize
//! would build for the kustomization directory PATH, rendered natively by
//! [`crate::engine::render`]. Files are read on demand relative to the
//! repository root (the Git work tree holding PATH, else PATH), so
//! `resources: [../base]` resolves as kustomize resolves it.
//!
//! Exit codes: 0 rendered, 1 the directory cannot be rendered (the reason
//! on stderr, naming file and line), 2 usage or I/O error.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::render::{Files, Limits, render};
use crate::engine::yaml::{Node, Value};

/// Output format of `render`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderFormat {
    /// A YAML stream, one document per object.
    Yaml,
    /// A JSON array of the objects.
    Json,
}

/// Most bytes read from the repository for one render.
const MAX_TOTAL_BYTES: u64 = 512 << 20;
/// Largest file read.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The work tree as the renderer's [`Files`]: read on demand, so a build
/// touches only what its kustomizations reference (never `target/` or other
/// unrelated trees). Like Argo CD and kustomize, symlinks are followed only
/// while they stay inside the root; anything that cannot be read is
/// recorded and turns the whole render into an error (never a quiet "file
/// not found" that could change what is built).
struct DiskFiles {
    root: PathBuf,
    total: Cell<u64>,
    problems: RefCell<Vec<String>>,
}

impl DiskFiles {
    /// The on-disk path for a repository-relative one, if it resolves
    /// inside the root.
    fn resolve(&self, rel: &str) -> Option<PathBuf> {
        if rel.split('/').any(|c| c == ".." || c == ".git") {
            return None;
        }
        let p = if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        };
        let real = std::fs::canonicalize(&p).ok()?;
        if real.starts_with(&self.root) {
            Some(real)
        } else {
            self.problem(format!(
                "{rel}: a symlink that leaves the repository is not followed"
            ));
            None
        }
    }

    fn problem(&self, msg: String) {
        self.problems.borrow_mut().push(msg);
    }
}

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        let real = self.resolve(path)?;
        let meta = std::fs::metadata(&real).ok()?;
        if !meta.is_file() {
            return None;
        }
        if meta.len() > MAX_FILE_BYTES {
            self.problem(format!("{path}: larger than {MAX_FILE_BYTES} bytes"));
            return None;
        }
        let total = self.total.get() + meta.len();
        if total > MAX_TOTAL_BYTES {
            self.problem(format!(
                "{path}: the build reads more than {MAX_TOTAL_BYTES} bytes"
            ));
            return None;
        }
        self.total.set(total);
        match std::fs::read(&real) {
            Ok(b) => Some(Cow::Owned(b)),
            Err(e) => {
                self.problem(format!("{path}: {e}"));
                None
            }
        }
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
    }

    fn is_dir(&self, dir: &str) -> bool {
        self.resolve(dir)
            .is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_dir()))
    }
}

/// Runs `render`; returns the exit code.
pub fn run(format: RenderFormat, path: &Path) -> u8 {
    let dir = match std::fs::canonicalize(path) {
        Ok(d) if d.is_dir() => d,
        Ok(_) => {
            eprintln!("gitops-guard render: {} is not a directory", path.display());
            return 2;
        }
        Err(e) => {
            eprintln!("gitops-guard render: {}: {e}", path.display());
            return 2;
        }
    };
    let root = crate::cli::gitrepo::work_tree_top(&dir).unwrap_or_else(|| dir.clone());
    let rel = dir
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let files = DiskFiles {
        root,
        total: Cell::new(0),
        problems: RefCell::new(Vec::new()),
    };
    let result = render(&files, &rel, &Limits::default());
    let problems = files.problems.into_inner();
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("gitops-guard render: cannot read {p}");
        }
        return 2;
    }
    let rendered = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gitops-guard render: cannot render {}: {e}", path.display());
            return 1;
        }
    };
    let text = match format {
        RenderFormat::Json => {
            let arr: Vec<serde_json::Value> = rendered.objects.iter().map(Node::to_json).collect();
            let mut s = serde_json::to_string_pretty(&arr).unwrap_or_default();
            s.push('\n');
            s
        }
        RenderFormat::Yaml => to_yaml_stream(&rendered.objects),
    };
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return 2;
    }
    0
}

/// A YAML stream of the objects (block style; strings quoted whenever a
/// plain scalar could be read as something else).
pub fn to_yaml_stream(objects: &[Node]) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit(o, 0, &mut out);
    }
    out
}

fn plain_ok(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
    ];
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/');
    first_ok
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !SPECIAL.contains(&s.to_ascii_lowercase().as_str())
        && matches!(crate::engine::yaml::resolve_plain(s), Value::Str(ref x) if x == s)
}

fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn inline(n: &Node) -> Option<String> {
    Some(match &n.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => serde_json::to_string(&n.to_json()).unwrap_or_else(|_| f.to_string()),
        Value::Str(s) => scalar(s),
        Value::Seq(s) if s.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn emit(n: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match &n.value {
        Value::Map(entries) if !entries.is_empty() => {
            for e in entries {
                out.push_str(&pad);
                out.push_str(&scalar(&e.key));
                out.push(':');
                match inline(&e.value) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        let child = if matches!(e.value.value, Value::Seq(_)) {
                            indent
                        } else {
                            indent + 2
                        };
                        emit(&e.value, child, out);
                    }
                }
            }
        }
        Value::Seq(items) if !items.is_empty() => {
            for it in items {
                out.push_str(&pad);
                out.push('-');
                match inline(it) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        // a nested collection starts on the dash's line
                        let mut sub = String::new();
                        emit(it, indent + 2, &mut sub);
                        out.push(' ');
                        out.push_str(sub.trim_start());
                    }
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&inline(n).unwrap_or_default());
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::yaml::load_documents;

    /// What we print reads back, with our own loader, as the same objects.
    #[test]
    fn yaml_stream_round_trips() {
        let src = "a:\n  b: [1, \"2\", yes, null, \"x: y\", {}, []]\n  c:\n  - d: 1\n    e: [{f: \"on\"}]\n  - - 1\n    - 2\n  g: \"multi\\nline\"\n  h: 1.5\n";
        let docs = load_documents(src, &Default::default()).docs;
        let out = to_yaml_stream(&docs);
        let back = load_documents(&out, &Default::default());
        assert!(back.error.is_none(), "{out}: {:?}", back.error);
        assert_eq!(back.docs[0].to_json(), docs[0].to_json(), "{out}");
    }
}
