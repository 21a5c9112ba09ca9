//! The kustomization graph of a tree: which directories include which
//! (`resources`, `bases`, `components`), so the evaluator knows the
//! **roots** it renders with [`crate::engine::render`] ([`Kustomizations::roots`])
//! and which files a root can read ([`Kustomizations::closure`]). Rendering
//! itself is the renderer's; what remains here of the old partial handling
//! is the `namespace:` override below, which the tenant rules still apply to
//! raw files no render consumed.
//!
//! Semantics (kustomize `api/filters/namespace`, the `namespace:` field's
//! builtin NamespaceTransformer): every **namespaced** resource of the build
//! gets `metadata.namespace` set to the value, **overriding** a namespace the
//! resource already names; cluster-scoped resources are untouched. Nested
//! kustomizations are built inner first, so when a base sets `namespace: a`
//! and an overlay including it sets `namespace: b`, building the overlay
//! yields `b`: the outermost `namespace:` wins.
//!
//! We do not know which kustomization directory an Argo CD Application
//! points at, so for a manifest we return every namespace it can end up with:
//! one per kustomization that (transitively) includes it, taking the
//! outermost `namespace:` along each path, or `None` where no kustomization
//! on the way sets one (the object's own namespace, else the Application's
//! destination, then applies). Remote resources (URLs) are ignored.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::engine::yaml::{Limits, Node, load_documents};

/// File names Kustomize recognises, in the order it looks for them.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// True when `path`'s file name is a kustomization file.
pub fn is_kustomization_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    KUSTOMIZATION_FILE_NAMES.contains(&name)
}

/// One parsed kustomization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kustomization {
    /// Repository-relative path of the file.
    pub file: String,
    /// Its directory (`""` for the repository root).
    pub dir: String,
    /// `namespace:`, when set and non-empty.
    pub namespace: Option<String>,
    /// Line of the `namespace:` key (or 1).
    pub namespace_line: u32,
    /// `resources:`, `bases:` and `components:` entries, resolved against
    /// `dir` and normalised; remote entries are left out.
    pub resources: Vec<String>,
    /// `kind: Component`: only meaningful when included by another.
    pub component: bool,
}

/// A problem reading a kustomization file (reported by the caller; the
/// file's `namespace:` is then unknown, so it must not be silently passed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct KustomizeError {
    /// File.
    pub file: String,
    /// Line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// Joins `dir` and a relative `entry`, resolving `.` and `..`. `None` when
/// the result would leave the repository.
pub fn join_path(dir: &str, entry: &str) -> Option<String> {
    let mut parts: Vec<&str> = if entry.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in entry.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Remote bases/resources: URLs, `github.com/...` shorthand, scp-like git.
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}

impl Kustomization {
    /// Parses a kustomization file's text.
    pub fn parse(file: &str, text: &str, limits: &Limits) -> Result<Self, KustomizeError> {
        let err = |line: u32, message: String| KustomizeError {
            file: file.to_owned(),
            line,
            message,
        };
        let loaded = load_documents(text, limits);
        if let Some(e) = loaded.error {
            return Err(err(e.line, format!("cannot read YAML: {}", e.message)));
        }
        let dir = parent_dir(file).to_owned();
        let mut k = Kustomization {
            file: file.to_owned(),
            dir: dir.clone(),
            namespace: None,
            namespace_line: 1,
            resources: Vec::new(),
            component: false,
        };
        let Some(root) = loaded.docs.into_iter().find(|d| !d.is_null()) else {
            return Ok(k); // empty kustomization
        };
        if root.as_map().is_none() {
            return Err(err(root.span.line, "kustomization is not a mapping".into()));
        }
        k.component = root.get("kind").and_then(Node::as_str) == Some("Component");
        if let Some(ns) = root.get("namespace") {
            match ns.as_str() {
                Some(s) if !s.is_empty() => {
                    k.namespace = Some(s.to_owned());
                    k.namespace_line = root.key_line("namespace");
                }
                Some(_) => {}
                None if ns.is_null() => {}
                None => {
                    return Err(err(
                        root.key_line("namespace"),
                        format!("`namespace:` is a {}, not a string", ns.type_name()),
                    ));
                }
            }
        }
        for key in ["resources", "bases", "components"] {
            let Some(list) = root.get(key) else { continue };
            if list.is_null() {
                continue;
            }
            let Some(items) = list.as_seq() else {
                return Err(err(root.key_line(key), format!("`{key}:` is not a list")));
            };
            for item in items {
                let Some(entry) = item.as_str() else {
                    return Err(err(
                        item.span.line,
                        format!("`{key}:` entry is a {}, not a string", item.type_name()),
                    ));
                };
                let entry = entry.trim();
                if entry.is_empty() || is_remote(entry) {
                    continue;
                }
                match join_path(&dir, entry) {
                    Some(p) => k.resources.push(p),
                    None => {
                        return Err(err(
                            item.span.line,
                            format!("`{key}:` entry {entry:?} leaves the repository"),
                        ));
                    }
                }
            }
        }
        Ok(k)
    }
}

/// A namespace a manifest can be rendered into by Kustomize.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KustomizeNamespace {
    /// The namespace set (`None`: built from a kustomization where no
    /// `namespace:` applies, so the object's own/destination namespace stays).
    pub namespace: Option<String>,
    /// The kustomization file whose `namespace:` applies (or the build root
    /// when none applies).
    pub via: String,
}

/// Every kustomization of a tree, indexed by directory.
#[derive(Clone, Debug, Default)]
pub struct Kustomizations {
    by_dir: BTreeMap<String, Kustomization>,
    /// Reverse index: resource path → directories of the kustomizations
    /// listing it (keeps lookups O(1) per object on large repositories).
    listed_by: HashMap<String, Vec<String>>,
}

impl Kustomizations {
    /// No kustomizations.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and adds every kustomization file among `files` (path, text);
    /// other files are skipped. Returns the problems found.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        limits: &Limits,
    ) -> (Self, Vec<KustomizeError>) {
        let mut ks = Self::new();
        let mut errors = Vec::new();
        let mut files: Vec<(&str, &str)> = files
            .into_iter()
            .filter(|(p, _)| is_kustomization_file(p))
            .collect();
        // Kustomize's lookup order decides which file of a directory counts.
        files.sort_by_key(|(p, _)| {
            let name = p.rsplit('/').next().unwrap_or(p);
            (
                parent_dir(p).to_owned(),
                KUSTOMIZATION_FILE_NAMES.iter().position(|n| *n == name),
            )
        });
        for (path, text) in files {
            match Kustomization::parse(path, text, limits) {
                Ok(k) => {
                    if let Some(prev) = ks.by_dir.get(&k.dir) {
                        errors.push(KustomizeError {
                            file: path.to_owned(),
                            line: 1,
                            message: format!(
                                "more than one kustomization file in one directory ({} wins); kustomize refuses to build it",
                                prev.file
                            ),
                        });
                        continue;
                    }
                    ks.insert(k);
                }
                Err(e) => errors.push(e),
            }
        }
        (ks, errors)
    }

    /// Adds a parsed kustomization (replacing one in the same directory).
    pub fn insert(&mut self, k: Kustomization) {
        if let Some(old) = self.by_dir.remove(&k.dir) {
            for r in &old.resources {
                if let Some(v) = self.listed_by.get_mut(r) {
                    v.retain(|d| *d != old.dir);
                }
            }
        }
        for r in &k.resources {
            let v = self.listed_by.entry(r.clone()).or_default();
            if !v.contains(&k.dir) {
                v.push(k.dir.clone());
                v.sort();
            }
        }
        self.by_dir.insert(k.dir.clone(), k);
    }

    /// The kustomization of a directory.
    pub fn in_dir(&self, dir: &str) -> Option<&Kustomization> {
        self.by_dir.get(dir)
    }

    /// True when no kustomization was found.
    pub fn is_empty(&self) -> bool {
        self.by_dir.is_empty()
    }

    /// Every kustomization file that includes `path`, directly or through
    /// other kustomizations (a base included by an overlay). When any of
    /// them changes, `path` may render differently (another namespace).
    pub fn includers(&self, path: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack: Vec<String> = vec![path.to_owned()];
        while let Some(target) = stack.pop() {
            for k in self.listers(&target) {
                if out.insert(k.file.clone()) && seen.insert(k.dir.clone()) {
                    stack.push(k.dir.clone());
                }
            }
        }
        out
    }

    /// Kustomizations listing `target` (a file, or a directory holding a
    /// kustomization) in their resources.
    pub fn listers<'a>(
        &'a self,
        target: &str,
    ) -> impl Iterator<Item = &'a Kustomization> + use<'a> {
        self.listed_by
            .get(target)
            .into_iter()
            .flatten()
            .filter_map(|d| self.by_dir.get(d))
    }

    /// The nearest kustomization that renders `path` and sets `namespace:`:
    /// a direct lister (its own directory's first), else, breadth-first, a
    /// kustomization including a lister's directory, transitively.
    pub fn nearest_namespace(&self, path: &str) -> Option<KustomizeNamespace> {
        let own_dir = parent_dir(path);
        let mut level: Vec<&Kustomization> = self.listers(path).collect();
        level.sort_by_key(|k| k.dir != own_dir);
        let mut seen: HashSet<&str> = HashSet::new();
        while !level.is_empty() {
            if let Some(k) = level.iter().find(|k| k.namespace.is_some()) {
                return Some(KustomizeNamespace {
                    namespace: k.namespace.clone(),
                    via: k.file.clone(),
                });
            }
            let mut next = Vec::new();
            for k in level {
                if seen.insert(k.dir.as_str()) {
                    next.extend(self.listers(&k.dir));
                }
            }
            level = next;
        }
        None
    }

    /// Every namespace Kustomize can render the manifest at `path` into,
    /// one per kustomization build root that includes it (see the module
    /// docs). Empty when no kustomization lists the file.
    pub fn namespaces_for(&self, path: &str) -> Vec<KustomizeNamespace> {
        if !self.listed_by.contains_key(path) {
            return Vec::new();
        }
        let mut out: BTreeSet<KustomizeNamespace> = BTreeSet::new();
        // (kustomization dir, namespace in force below it, file that set it)
        let mut stack: Vec<(String, Option<(String, String)>)> = Vec::new();
        let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
        for k in self.listers(path) {
            stack.push((k.dir.clone(), None));
        }
        while let Some((dir, below)) = stack.pop() {
            let Some(k) = self.by_dir.get(&dir) else {
                continue;
            };
            // The outermost `namespace:` wins: this kustomization's, if set.
            let here = match &k.namespace {
                Some(ns) => Some((ns.clone(), k.file.clone())),
                None => below,
            };
            if !seen.insert((dir.clone(), here.as_ref().map(|(n, _)| n.clone()))) {
                continue; // already explored (also stops cycles)
            }
            out.insert(match &here {
                Some((ns, via)) => KustomizeNamespace {
                    namespace: Some(ns.clone()),
                    via: via.clone(),
                },
                None => KustomizeNamespace {
                    namespace: None,
                    via: k.file.clone(),
                },
            });
            for parent in self.listers(&dir) {
                stack.push((parent.dir.clone(), here.clone()));
            }
        }
        // Collapse duplicates that differ only in `via` for `None`.
        let mut dedup: Vec<KustomizeNamespace> = Vec::new();
        for n in out {
            if !dedup.iter().any(|d| d.namespace == n.namespace) {
                dedup.push(n);
            }
        }
        dedup
    }

    /// The kustomization directories a build of `dir` can enter: `dir`
    /// and, transitively, every listed entry that is a kustomization
    /// directory of this tree. Every file a build reads is in or below one
    /// of them (kustomize's root-only load restriction).
    pub fn closure(&self, dir: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            if !out.insert(d.clone()) {
                continue;
            }
            if let Some(k) = self.by_dir.get(&d) {
                stack.extend(
                    k.resources
                        .iter()
                        .filter(|r| self.by_dir.contains_key(r.as_str()))
                        .cloned(),
                );
            }
        }
        out
    }

    /// The directories to render on their own, from the paths of every
    /// kustomization file of the tree (`files`, including any that did not
    /// parse): each directory no other kustomization includes, plus any a
    /// cycle keeps out of reach of those (rendering it reports the cycle).
    /// Directories in `claimed` (built by a controller root) are not roots.
    /// A `kind: Component` no one includes is returned in the second list:
    /// kustomize cannot build it alone and it deploys nothing.
    pub fn roots<'a>(
        &self,
        files: impl IntoIterator<Item = &'a str>,
        claimed: &BTreeSet<String>,
    ) -> (Vec<String>, Vec<String>) {
        let dirs: BTreeSet<String> = files
            .into_iter()
            .filter(|p| is_kustomization_file(p))
            .map(|p| parent_dir(p).to_owned())
            .collect();
        let mut roots = Vec::new();
        let mut components = Vec::new();
        let mut reached: BTreeSet<String> = BTreeSet::new();
        for d in &dirs {
            if claimed.contains(d) {
                reached.extend(self.closure(d));
                continue;
            }
            if self.listers(d).any(|k| k.dir != *d) {
                continue;
            }
            if self.by_dir.get(d).is_some_and(|k| k.component) {
                components.push(d.clone());
                continue;
            }
            reached.extend(self.closure(d));
            roots.push(d.clone());
        }
        // Cycles: nothing outside includes them, yet every member is
        // listed. Render one member per cycle so the error is reported.
        for d in &dirs {
            if !reached.contains(d) && !components.contains(d) {
                reached.extend(self.closure(d));
                roots.push(d.clone());
            }
        }
        roots.sort();
        (roots, components)
    }

    /// Files a root that failed to render is taken to consume (so they are
    /// not judged as raw objects: the failure itself fails the check):
    /// among `paths`, those below a kustomization directory of its closure,
    /// and, for the repository's top, those a kustomization there lists.
    pub fn closure_files<'a>(
        &self,
        dir: &str,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> BTreeSet<String> {
        let closure = self.closure(dir);
        let listed: BTreeSet<&str> = closure
            .iter()
            .filter_map(|d| self.by_dir.get(d))
            .flat_map(|k| k.resources.iter().map(String::as_str))
            .collect();
        paths
            .into_iter()
            .filter(|p| {
                listed.contains(p)
                    || closure.iter().any(|d| {
                        !d.is_empty() && p.starts_with(d.as_str()) && p[d.len()..].starts_with('/')
                    })
                    || (closure.contains("") && is_kustomization_file(p) && !p.contains('/'))
            })
            .map(str::to_owned)
            .collect()
    }

    /// True when the manifest's own directory holds a kustomization that
    /// does not list it: Argo CD renders that directory with Kustomize, so
    /// the file is not deployed from there.
    pub fn is_unlisted_in_own_dir(&self, path: &str) -> bool {
        let dir = parent_dir(path);
        self.by_dir.contains_key(dir) && !self.listers(path).any(|k| k.dir == dir)
    }
}

/// True for a kustomize config object (the content of a kustomization
/// file): build input, not something deployed to the cluster.
pub fn node_is_kustomization(root: &Node) -> bool {
    root.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(files: &[(&str, &str)]) -> Kustomizations {
        let (k, errors) = Kustomizations::from_files(files.iter().copied(), &Limits::default());
        assert!(errors.is_empty(), "{errors:?}");
        k
    }

    fn names(v: Vec<KustomizeNamespace>) -> Vec<Option<String>> {
        v.into_iter().map(|n| n.namespace).collect()
    }

    #[test]
    fn paths() {
        assert_eq!(
            join_path("a/b", "../c/d.yaml").as_deref(),
            Some("a/c/d.yaml")
        );
        assert_eq!(join_path("a", "./x").as_deref(), Some("a/x"));
        assert_eq!(join_path("", "x/").as_deref(), Some("x"));
        assert_eq!(join_path("a", "../../x"), None);
        assert!(is_kustomization_file("a/kustomization.yaml"));
        assert!(is_kustomization_file("Kustomization"));
        assert!(!is_kustomization_file("a/kustomization.json"));
    }

    #[test]
    fn same_dir_namespace_applies_to_listed_files_only() {
        let k = ks(&[(
            "app/kustomization.yaml",
            "namespace: payments\nresources:\n- deploy.yaml\n- ./svc.yaml\n",
        )]);
        assert_eq!(
            names(k.namespaces_for("app/deploy.yaml")),
            vec![Some("payments".into())]
        );
        assert_eq!(
            names(k.namespaces_for("app/svc.yaml")),
            vec![Some("payments".into())]
        );
        assert!(k.namespaces_for("app/other.yaml").is_empty());
        assert!(k.is_unlisted_in_own_dir("app/other.yaml"));
        assert!(!k.is_unlisted_in_own_dir("app/deploy.yaml"));
    }

    #[test]
    fn outermost_namespace_wins_and_every_root_counts() {
        let k = ks(&[
            ("base/kustomization.yaml", "resources: [deploy.yaml]\n"),
            (
                "overlays/prod/kustomization.yaml",
                "namespace: prod\nresources: [../../base]\n",
            ),
            (
                "overlays/dev/kustomization.yml",
                "namespace: dev\nbases: [../../base]\n",
            ),
        ]);
        assert_eq!(
            names(k.namespaces_for("base/deploy.yaml")),
            vec![None, Some("dev".into()), Some("prod".into())]
        );
        let k = ks(&[
            (
                "base/kustomization.yaml",
                "namespace: inner\nresources: [d.yaml]\n",
            ),
            (
                "top/kustomization.yaml",
                "namespace: outer\nresources: [../base]\n",
            ),
        ]);
        assert_eq!(
            names(k.namespaces_for("base/d.yaml")),
            vec![Some("inner".into()), Some("outer".into())]
        );
    }

    #[test]
    fn roots_are_the_kustomizations_no_other_includes() {
        let files = [
            ("base/kustomization.yaml", "resources: [deploy.yaml]\n"),
            (
                "overlays/prod/kustomization.yaml",
                "resources: [../../base]\ncomponents: [../../comp]\n",
            ),
            ("comp/kustomization.yaml", "kind: Component\n"),
            ("lonely/kustomization.yaml", "kind: Component\n"),
            ("a/kustomization.yaml", "resources: [../b]\n"),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ];
        let k = ks(&files);
        let paths = files.iter().map(|(p, _)| *p);
        let (roots, components) = k.roots(paths.clone(), &BTreeSet::new());
        // The cycle a <-> b has no outside includer: one member renders
        // (and reports the cycle); an unused Component is set aside.
        assert_eq!(roots, ["a", "overlays/prod"]);
        assert_eq!(components, ["lonely"]);
        assert_eq!(
            k.closure("overlays/prod").into_iter().collect::<Vec<_>>(),
            ["base", "comp", "overlays/prod"]
        );
        // A directory a controller root builds is not a root again.
        let claimed: BTreeSet<String> = ["overlays/prod".to_owned()].into();
        let (roots, _) = k.roots(paths, &claimed);
        assert_eq!(roots, ["a"]);
        let consumed = k.closure_files(
            "overlays/prod",
            [
                "base/deploy.yaml",
                "base/kustomization.yaml",
                "other/x.yaml",
            ],
        );
        assert_eq!(
            consumed.into_iter().collect::<Vec<_>>(),
            ["base/deploy.yaml", "base/kustomization.yaml"]
        );
    }

    #[test]
    fn cycles_and_remote_and_errors() {
        let k = ks(&[
            (
                "a/kustomization.yaml",
                "resources: [../b, x.yaml, https://github.com/o/r//x]\n",
            ),
            ("b/kustomization.yaml", "namespace: b\nresources: [../a]\n"),
        ]);
        let got = names(k.namespaces_for("a/x.yaml"));
        assert!(got.contains(&None) && got.contains(&Some("b".into())));
        let (_, errors) = Kustomizations::from_files(
            [("k/kustomization.yaml", "namespace: [a]\n")],
            &Limits::default(),
        );
        assert_eq!(errors.len(), 1);
        let (_, errors) = Kustomizations::from_files(
            [
                ("k/kustomization.yaml", "namespace: a\n"),
                ("k/Kustomization", "namespace: b\n"),
            ],
            &Limits::default(),
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file == "k/Kustomization");
    }
}
