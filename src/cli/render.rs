//! `gitops-guard render [--format yaml|json] PATH`: prints what would be
//! applied for PATH, rendered natively by [`crate::engine::render`]: for a
//! kustomization directory what kustomize builds; for an Argo CD
//! `Application` / `ApplicationSet` or a Flux `Kustomization` file what
//! the controller applies for each root it defines
//! ([`crate::engine::render::controllers`]), each preceded by a
//! `# root: …` comment (YAML) or all in one array (JSON). Files are read
//! on demand relative to the repository root (the Git work tree holding
//! PATH, else PATH), so `resources: [../base]` resolves as kustomize
//! resolves it. For a controller file the repository is the Git work tree
//! holding it, else the current directory; its YAML files are read once to
//! find the GitRepository and substitution ConfigMaps it names.
//!
//! Exit codes: 0 rendered, 1 PATH cannot be rendered (the reason on
//! stderr, naming file and line), 2 usage or I/O error.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::render::controllers::{self, ControllerRoot, Tree};
use crate::engine::render::{Files, Limits, Rendered, render};
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

/// Most files listed under one directory (directory sources, Flux's
/// generated kustomization, the repository scan for a controller file).
const MAX_LISTED: usize = 100_000;

impl Tree for DiskFiles {
    fn files_under(&self, dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(start) = self.resolve(dir) else {
            return out;
        };
        let mut stack = vec![(start, dir.to_owned())];
        while let Some((abs, rel)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&abs) else {
                self.problem(format!("{rel}: cannot list the directory"));
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name == ".git" {
                    continue;
                }
                let r = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let Some(real) = self.resolve(&r) else {
                    continue;
                };
                match std::fs::metadata(&real) {
                    Ok(m) if m.is_dir() => stack.push((real, r)),
                    Ok(m) if m.is_file() => out.push(r),
                    _ => {}
                }
                if out.len() > MAX_LISTED {
                    self.problem(format!("{dir}: more than {MAX_LISTED} files"));
                    return out;
                }
            }
        }
        out
    }
}

/// Runs `render`; returns the exit code.
pub fn run(format: RenderFormat, path: &Path) -> u8 {
    let dir = match std::fs::canonicalize(path) {
        Ok(d) if d.is_dir() => d,
        Ok(f) if f.is_file() => return run_controller_file(format, path, &f),
        Ok(_) => {
            eprintln!(
                "gitops-guard render: {} is neither a directory nor a file",
                path.display()
            );
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
        RenderFormat::Json => json_array(rendered.objects.iter()),
        RenderFormat::Yaml => to_yaml_stream(&rendered.objects),
    };
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return 2;
    }
    0
}

fn json_array<'a>(objects: impl Iterator<Item = &'a Node>) -> String {
    let arr: Vec<serde_json::Value> = objects.map(Node::to_json).collect();
    let mut s = serde_json::to_string_pretty(&arr).unwrap_or_default();
    s.push('\n');
    s
}

/// Most bytes of one YAML file read while scanning for controller inputs.
const MAX_SCAN_FILE_BYTES: u64 = 4 << 20;

/// `render FILE`: the roots the controller objects in FILE define.
fn run_controller_file(format: RenderFormat, shown: &Path, file: &Path) -> u8 {
    let parent = file.parent().unwrap_or(Path::new("/"));
    // outside a Git work tree the repository is the current directory
    // (paths in a controller object are relative to the repository root,
    // not to the file)
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()
        .filter(|c| file.starts_with(c));
    let root = crate::cli::gitrepo::work_tree_top(parent)
        .or(cwd)
        .unwrap_or_else(|| parent.to_path_buf());
    let rel = file
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let git = crate::cli::gitrepo::GitRepo::open(&root).ok();
    let repo = crate::cli::check::repo_for(None, git.as_ref());
    let files = DiskFiles {
        root,
        total: Cell::new(0),
        problems: RefCell::new(Vec::new()),
    };
    // every YAML document of the repository: the GitRepository a Flux
    // Kustomization names and the ConfigMaps it substitutes from can be
    // anywhere
    let limits = Limits::default();
    let mut loaded: Vec<(String, Node)> = Vec::new();
    let mut own = 0usize;
    for p in files.files_under("") {
        if !(p.ends_with(".yaml") || p.ends_with(".yml")) {
            continue;
        }
        let Some(real) = files.resolve(&p) else {
            continue;
        };
        if std::fs::metadata(&real).map_or(true, |m| m.len() > MAX_SCAN_FILE_BYTES) && p != rel {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&real) else {
            continue;
        };
        let docs = crate::engine::yaml::load_documents(&text, &limits.yaml);
        if p == rel {
            if let Some(e) = &docs.error {
                eprintln!(
                    "gitops-guard render: {rel}:{}: cannot read YAML: {}",
                    e.line, e.message
                );
                return 1;
            }
            own = docs.docs.len();
        }
        for d in docs.docs {
            loaded.push((p.clone(), d));
        }
    }
    // a symlink leaving the tree is only a problem if the render reads it
    files.problems.borrow_mut().clear();
    let objects: Vec<(&str, &Node)> = loaded.iter().map(|(p, d)| (p.as_str(), d)).collect();
    let roots: Vec<ControllerRoot> = controllers::controller_roots(&objects, repo.as_ref(), &files)
        .into_iter()
        .filter(|r| r.file == rel)
        .collect();
    if roots.is_empty() {
        let what = if own == 0 {
            "has no documents"
        } else {
            "defines no root in this repository (no Argo CD Application/ApplicationSet or Flux Kustomization whose source is this repository)"
        };
        eprintln!("gitops-guard render: {}: {what}", shown.display());
        return 1;
    }
    let mut outputs: Vec<(String, Rendered)> = Vec::new();
    let mut failed = false;
    for r in &roots {
        match controllers::render_controller_root(&files, r, &limits) {
            Ok(out) => outputs.push((r.describe(), out)),
            Err(e) => {
                eprintln!("gitops-guard render: cannot render {}: {e}", r.describe());
                failed = true;
            }
        }
    }
    let problems = files.problems.into_inner();
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("gitops-guard render: cannot read {p}");
        }
        return 2;
    }
    if failed {
        return 1;
    }
    let text = match format {
        RenderFormat::Json => json_array(outputs.iter().flat_map(|(_, r)| r.objects.iter())),
        RenderFormat::Yaml => {
            let mut s = String::new();
            for (i, (what, r)) in outputs.iter().enumerate() {
                if i > 0 {
                    s.push_str("---\n");
                }
                s.push_str(&format!("# root: {}\n", what.replace('\n', " ")));
                s.push_str(&to_yaml_stream(&r.objects));
            }
            s
        }
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
