//! The synthetic GitOps repository behind `gitops-guard bench`, the criterion
//! benches and the precision/recall test: N Kubernetes objects in a
//! realistic tenant layout, with injected Pod Security (restricted) and
//! namespace violations and the ground truth of every one of them.
//!
//! Layout (each `tenants/<team>/<env>/` folder owns namespace `<team>-<env>`):
//!
//! ```text
//! tenants/<team>/<env>/namespace.yaml         Namespace (+ RoleBindings sometimes)
//! tenants/<team>/<env>/<app>.yaml             multi-document app bundle
//! tenants/<team>/<env>/<app>/<part>.yaml      the same bundle split per part
//! tenants/<team>/<env>/jobs/<name>.yaml       standalone Job / CronJob
//! tenants/<team>/<env>/network-policies.yaml  multi-document NetworkPolicies
//! tenants/<team>/<env>/rbac.yaml              multi-document RoleBindings
//! platform/rbac/clusterroles-<n>.yaml         ClusterRoles (platform-owned)
//! expected.tsv                                the ground truth (see [`Expected`])
//! objects.tsv, corpus-info.tsv                every object; summary counts
//! ```
//!
//! Clean workloads pass Pod Security "restricted" and stay in their
//! namespace, so any finding on them is a false positive. A share of the
//! workloads (the violation rate) gets one to three of [`VIOLATIONS`],
//! injected at the pod level or into the main, sidecar or init container.
//! The text varies the way real repositories do: block, flow and JSON
//! documents, anchors, aliases and merge keys, quoted scalars, comments,
//! empty documents, and booleans written `"true"` (a string: schema-invalid,
//! so a fail-closed checker must still flag it), `True` or YAML 1.1 `yes`/`on`.
//!
//! Deterministic: the same (objects, seed, rate) gives byte-identical files
//! on every platform (our own SplitMix64, no library RNG whose sequence
//! could change between versions).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;

use crate::engine::config::{Binding, Config, PssLevel};
use crate::engine::input::{PolicyInputs, SourceFile, TreeInput};

/// Violation ids of the ground truth, in the order rows are written.
pub const VIOLATIONS: [&str; 13] = [
    "privileged",
    "host-pid",
    "host-ipc",
    "host-network",
    "host-path",
    "capabilities",
    "host-port",
    "privilege-escalation",
    "run-as-root",
    "seccomp",
    "proc-mount",
    "latest-tag",
    "namespace-scope",
];

/// The rule ids that report a violation id of [`VIOLATIONS`].
pub fn rules_for(violation: &str) -> &'static [&'static str] {
    match violation {
        "host-pid" | "host-ipc" | "host-network" => &["host-namespaces"],
        "host-port" => &["host-ports"],
        "run-as-root" => &["run-as-non-root", "run-as-user"],
        "latest-tag" => &["image-tag"],
        "namespace-scope" => &["tenant-namespace"],
        "privileged" => &["privileged"],
        "host-path" => &["host-path"],
        "capabilities" => &["capabilities"],
        "privilege-escalation" => &["privilege-escalation"],
        "proc-mount" => &["proc-mount"],
        "seccomp" => &["seccomp"],
        _ => &[],
    }
}

/// One injected violation: a row of `expected.tsv`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// Repository-relative file.
    pub file: String,
    /// 0-based position of the document in the file's YAML stream,
    /// counting empty documents.
    pub doc_index: usize,
    /// The object's `kind`.
    pub kind: String,
    /// The object's `metadata.name`.
    pub name: String,
    /// One of [`VIOLATIONS`].
    pub violation: &'static str,
}

/// One generated object: a row of `objects.tsv`.
#[derive(Clone, Debug)]
pub struct ObjectRow {
    /// Repository-relative file.
    pub file: String,
    /// Position in the file's YAML stream.
    pub doc_index: usize,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` as written (empty for cluster-scoped objects).
    pub namespace: String,
    /// The namespace the object's folder owns (empty under `platform/`).
    pub tenant_namespace: String,
    /// The file's style: `block`, `anchors`, `flow` or `json`.
    pub style: &'static str,
    /// YAML features and clean variants the object exercises.
    pub tags: Vec<&'static str>,
    /// Injected violation ids.
    pub violations: Vec<&'static str>,
}

/// A generated corpus, in memory.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The parameters it was made with.
    pub objects: usize,
    /// Seed.
    pub seed: u64,
    /// Share of workloads with injected violations.
    pub violation_rate: f64,
    /// The manifests, sorted by path.
    pub files: Vec<SourceFile>,
    /// The ground truth, in file order.
    pub expected: Vec<Expected>,
    /// Every object.
    pub rows: Vec<ObjectRow>,
}

/// Generates `objects` objects from `seed`; `violation_rate` (0..=1) is the
/// share of workloads that get violations.
pub fn generate(objects: usize, seed: u64, violation_rate: f64) -> Corpus {
    Generator::new(objects, seed, violation_rate.clamp(0.0, 1.0)).run()
}

impl Corpus {
    /// The manifests as a tree to evaluate (no disk involved).
    pub fn tree(&self) -> TreeInput {
        TreeInput {
            files: self.files.clone(),
        }
    }

    /// `expected.tsv`: header, then one row per (object, violation).
    pub fn expected_tsv(&self) -> String {
        let mut out = String::from("file\tdoc_index\tkind\tname\tviolation\n");
        for e in &self.expected {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                e.file, e.doc_index, e.kind, e.name, e.violation
            ));
        }
        out
    }

    /// `objects.tsv`: every object with its style tags and violations.
    pub fn objects_tsv(&self) -> String {
        let mut out = String::from(
            "file\tdoc_index\tkind\tname\tnamespace\ttenant_namespace\tfile_style\ttags\tviolations\n",
        );
        let dash = |s: String| if s.is_empty() { "-".to_owned() } else { s };
        for r in &self.rows {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.file,
                r.doc_index,
                r.kind,
                r.name,
                dash(r.namespace.clone()),
                dash(r.tenant_namespace.clone()),
                r.style,
                dash(r.tags.join(",")),
                dash(r.violations.join(","))
            ));
        }
        out
    }

    /// `corpus-info.tsv`: parameters and counts.
    pub fn info_tsv(&self) -> String {
        let mut info: Vec<(String, String)> = vec![
            ("seed".into(), self.seed.to_string()),
            ("manifests".into(), self.rows.len().to_string()),
            ("violation_rate".into(), self.violation_rate.to_string()),
            ("files".into(), self.files.len().to_string()),
            ("expected_rows".into(), self.expected.len().to_string()),
        ];
        for v in VIOLATIONS {
            let n = self.expected.iter().filter(|e| e.violation == v).count();
            info.push((format!("violations.{v}"), n.to_string()));
        }
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &self.rows {
            *kinds.entry(&r.kind).or_default() += 1;
        }
        for (k, n) in kinds {
            info.push((format!("kind.{k}"), n.to_string()));
        }
        info.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect()
    }

    /// Writes the manifests and the three `.tsv` files under `dir` (which
    /// must exist). The `.tsv` files are neither YAML nor JSON, so tree
    /// readers skip them.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        for f in &self.files {
            let path = dir.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &f.text)?;
        }
        std::fs::write(dir.join("expected.tsv"), self.expected_tsv())?;
        std::fs::write(dir.join("objects.tsv"), self.objects_tsv())?;
        std::fs::write(dir.join("corpus-info.tsv"), self.info_tsv())?;
        Ok(())
    }
}

/// A fresh directory under the system temporary directory, removed with
/// everything in it when dropped. Created with `create_dir` under a name
/// nobody else holds, so a planted file or link of the same name makes it
/// fail instead of being written through.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/<prefix>-<pid>-<nanos>-<n>`.
    pub fn new(prefix: &str) -> io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let base = std::env::temp_dir();
        let mut last = None;
        for n in 0..64 {
            let path = base.join(format!("{prefix}-{}-{nanos}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free scratch directory name")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Nothing to report to: a leftover directory in tmp is harmless.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Reads every `.yaml`/`.yml`/`.json` file under `dir` (sorted, relative paths).
pub fn load_tree(dir: &Path) -> Result<TreeInput, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in rd {
            let entry = entry.map_err(|e| format!("{}: {e}", d.display()))?;
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file()
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SourceFile::new(rel, text));
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(TreeInput { files })
}

/// The tenant folders `tenants/<team>/<env>` of a tree.
fn tenant_folders(tree: &TreeInput) -> BTreeSet<(String, String)> {
    tree.files
        .iter()
        .filter_map(|f| {
            let mut p = f.path.split('/');
            match (p.next(), p.next(), p.next(), p.next()) {
                (Some("tenants"), Some(team), Some(env), Some(_)) => {
                    Some((team.to_owned(), env.to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Policy matching the corpus layout: one AppProject and one binding per
/// tenant folder, restricted PSS as errors, platform RBAC platform-owned.
pub fn policy_for_tree(tree: &TreeInput) -> PolicyInputs {
    let mut config = Config::default();
    config.admission.level = PssLevel::Restricted;
    let mut support = Vec::new();
    for (team, env) in tenant_folders(tree) {
        let ns = format!("{team}-{env}");
        let project = format!("tenant-{ns}");
        support.push(SourceFile::new(
            format!("projects/{project}.yaml"),
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: {project}\n  namespace: argocd\nspec:\n  sourceRepos: ['*']\n  destinations:\n    - server: https://kubernetes.default.svc\n      namespace: {ns}\n  clusterResourceWhitelist:\n    - group: ''\n      kind: Namespace\n      name: {ns}\n"
            ),
        ));
        config.tenants.bindings.push(Binding {
            project,
            paths: vec![format!("tenants/{team}/{env}/**")],
            namespace: Some(ns),
            ..Binding::default()
        });
    }
    config.tenants.projects = vec!["projects/*.yaml".into()];
    config.tenants.bindings.push(Binding {
        project: "platform".into(),
        paths: vec!["platform/**".into()],
        namespace: Some("platform".into()),
        platform: true,
        ..Binding::default()
    });
    support.push(SourceFile::new(
        "projects/platform.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: platform\n  namespace: argocd\nspec:\n  sourceRepos: ['*']\n  destinations:\n    - server: https://kubernetes.default.svc\n      namespace: '*'\n  clusterResourceWhitelist:\n    - group: '*'\n      kind: '*'\n",
    ));
    PolicyInputs {
        config,
        config_source: "generated for the bench corpus layout".into(),
        support,
        repo: crate::engine::ids::RepoName::parse("acme/gitops"),
        today: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): a few lines, full period, the same
/// sequence everywhere. Not for secrets; only for reproducible corpora.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in 0..n (n > 0; the modulo bias is far below what a corpus notices).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in lo..=hi.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total as usize) as u32;
        for &(item, w) in items {
            if r < w {
                return item;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }

    /// `k` distinct items, in random order.
    fn sample<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        let k = k.min(idx.len());
        for i in 0..k {
            let j = i + self.below(idx.len() - i);
            idx.swap(i, j);
        }
        idx[..k].iter().map(|&i| items[i].clone()).collect()
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

// ---------------------------------------------------------------------------
// A YAML document model with explicit style
// ---------------------------------------------------------------------------

/// A value of a generated document. `Flow`, `Anchor`, `Alias` only appear
/// after a style pass, on the copy that is rendered.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Bool(bool),
    /// `true` spelled as only some loaders read it: `True`, `TRUE` (YAML
    /// 1.1 and 1.2) or `yes`, `on` (YAML 1.1, which Kubernetes reads).
    Spelled(&'static str),
    /// A multi-line string, rendered as a `|` block scalar.
    Text(String),
    /// Render in flow style; `true` = JSON-like (quoted keys and strings).
    Flow(bool, Box<Node>),
    /// `&name` on the value.
    Anchor(String, Box<Node>),
    /// `*name`.
    Alias(String),
}

fn s(v: impl Into<String>) -> Node {
    Node::Str(v.into())
}

fn map(pairs: Vec<(&str, Node)>) -> Node {
    Node::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn seq(items: Vec<Node>) -> Node {
    Node::Seq(items)
}

fn strs(items: &[&str]) -> Node {
    Node::Seq(items.iter().map(|x| s(*x)).collect())
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Replaces the value of `key` in place, or appends it.
    fn set(&mut self, key: &str, value: Node) {
        if let Node::Map(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => m.push((key.to_owned(), value)),
            }
        }
    }

    /// Inserts `key` at `at` (clamped) unless it is already present.
    fn insert_at(&mut self, at: usize, key: &str, value: Node) {
        if let Node::Map(m) = self
            && !m.iter().any(|(k, _)| k == key)
        {
            m.insert(at.min(m.len()), (key.to_owned(), value));
        }
    }

    fn remove(&mut self, key: &str) -> Option<Node> {
        match self {
            Node::Map(m) => {
                let i = m.iter().position(|(k, _)| k == key)?;
                Some(m.remove(i).1)
            }
            _ => None,
        }
    }

    /// The value of `key`, inserted as `default` when absent.
    fn entry(&mut self, key: &str, default: Node) -> &mut Node {
        if self.get(key).is_none() {
            self.set(key, default);
        }
        match self {
            Node::Map(m) => {
                let i = m.iter().position(|(k, _)| k == key).unwrap_or(0);
                &mut m[i].1
            }
            other => other,
        }
    }

    fn push(&mut self, item: Node) {
        if let Node::Seq(v) = self {
            v.push(item);
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Node::Map(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(v) => Some(v),
            _ => None,
        }
    }

    /// The same value as JSON (style markers dropped; `Spelled` is `true`).
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Node::Seq(v) => J::Array(v.iter().map(Node::to_json).collect()),
            Node::Str(v) | Node::Text(v) => J::String(v.clone()),
            Node::Int(i) => J::from(*i),
            Node::Bool(b) => J::Bool(*b),
            Node::Spelled(_) => J::Bool(true),
            Node::Flow(_, n) | Node::Anchor(_, n) => n.to_json(),
            Node::Alias(_) => J::Null,
        }
    }
}

/// Keys whose values are booleans in a pod spec or security context: a
/// quoted `"true"` under them is worth a tag.
const SECURITY_BOOL_KEYS: [&str; 8] = [
    "privileged",
    "hostPID",
    "hostIPC",
    "hostNetwork",
    "allowPrivilegeEscalation",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "hostUsers",
];

/// Whether a string must be quoted to read back as that string. Errs on the
/// side of quoting: anything a YAML 1.1 loader could take for a boolean,
/// null or number, or that holds an indicator.
fn needs_quote(v: &str, flow: bool) -> bool {
    const WORDS: [&str; 10] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let Some(first) = v.chars().next() else {
        return true;
    };
    if WORDS.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        return true;
    }
    if !(first.is_ascii_alphabetic() || matches!(first, '_' | '/' | '$' | '(')) {
        return true;
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./:@=+$()*, -".contains(c))
    {
        return true;
    }
    if v.ends_with([' ', ':']) || v.contains(": ") || v.contains(" #") {
        return true;
    }
    flow && v.contains([',', '[', ']', '{', '}', ':'])
}

fn quote(v: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::Value::String(v.to_owned()).to_string()
}

/// Renders one document; collects the style tags it used.
struct Emitter {
    indent_seq: bool,
    tags: BTreeSet<&'static str>,
}

impl Emitter {
    fn scalar(&mut self, key: &str, n: &Node, flow: bool, json: bool) -> String {
        match n {
            Node::Str(v) => {
                if SECURITY_BOOL_KEYS.contains(&key)
                    && (v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"))
                {
                    self.tags.insert("bool-quoted");
                }
                if json || needs_quote(v, flow) {
                    quote(v)
                } else {
                    v.clone()
                }
            }
            Node::Text(v) => quote(v),
            Node::Int(i) => i.to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Spelled(t) => {
                if json {
                    // JSON has one spelling.
                    return "true".into();
                }
                self.tags.insert(if t.eq_ignore_ascii_case("true") {
                    "bool-capitalized"
                } else {
                    "bool-yaml11"
                });
                (*t).to_owned()
            }
            Node::Alias(a) => format!("*{a}"),
            Node::Map(_) | Node::Seq(_) | Node::Flow(..) | Node::Anchor(..) => {
                self.flow(key, n, json)
            }
        }
    }

    fn key(&self, k: &str, flow: bool, json: bool) -> String {
        if json || needs_quote(k, flow) {
            quote(k)
        } else {
            k.to_owned()
        }
    }

    fn flow(&mut self, key: &str, n: &Node, json: bool) -> String {
        match n {
            Node::Map(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k, true, json), self.flow(k, v, json)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            Node::Seq(v) => {
                let parts: Vec<String> = v.iter().map(|x| self.flow(key, x, json)).collect();
                format!("[{}]", parts.join(", "))
            }
            Node::Flow(j, inner) => self.flow(key, inner, json || *j),
            Node::Anchor(_, inner) => self.flow(key, inner, json),
            other => self.scalar(key, other, true, json),
        }
    }

    fn mapping(&mut self, pairs: &[(String, Node)], ind: usize, out: &mut Vec<String>) {
        for (k, v) in pairs {
            match (k.as_str(), v) {
                // The merge key is a plain `<<`; quoted it is an ordinary key.
                ("<<", Node::Alias(a)) => out.push(format!("{}<<: *{a}", " ".repeat(ind))),
                _ => self.entry(k, v, ind, out),
            }
        }
    }

    fn entry(&mut self, k: &str, v: &Node, ind: usize, out: &mut Vec<String>) {
        let pad = " ".repeat(ind);
        let key = self.key(k, false, false);
        let (anchor, v) = match v {
            Node::Anchor(a, inner) => (format!(" &{a}"), inner.as_ref()),
            other => (String::new(), other),
        };
        match v {
            Node::Flow(j, inner) => {
                let text = self.flow(k, inner, *j);
                out.push(format!("{pad}{key}:{anchor} {text}"));
            }
            Node::Text(t) => {
                out.push(format!("{pad}{key}:{anchor} |"));
                for line in t.trim_end_matches('\n').split('\n') {
                    if line.is_empty() {
                        out.push(String::new());
                    } else {
                        out.push(format!("{pad}  {line}"));
                    }
                }
            }
            Node::Map(m) if m.is_empty() => out.push(format!("{pad}{key}:{anchor} {{}}")),
            Node::Map(m) => {
                out.push(format!("{pad}{key}:{anchor}"));
                self.mapping(m, ind + 2, out);
            }
            Node::Seq(items) if items.is_empty() => out.push(format!("{pad}{key}:{anchor} []")),
            Node::Seq(items) => {
                out.push(format!("{pad}{key}:{anchor}"));
                let ind = if self.indent_seq { ind + 2 } else { ind };
                self.sequence(k, items, ind, out);
            }
            other => {
                let text = self.scalar(k, other, false, false);
                out.push(format!("{pad}{key}:{anchor} {text}"));
            }
        }
    }

    fn sequence(&mut self, key: &str, items: &[Node], ind: usize, out: &mut Vec<String>) {
        let pad = " ".repeat(ind);
        for item in items {
            match item {
                Node::Map(m) if !m.is_empty() => {
                    let start = out.len();
                    self.mapping(m, ind + 2, out);
                    // The first entry moves up onto the dash line.
                    out[start] = format!("{pad}- {}", &out[start][ind + 2..]);
                }
                Node::Flow(j, inner) => {
                    let text = self.flow(key, inner, *j);
                    out.push(format!("{pad}- {text}"));
                }
                Node::Seq(v) if !v.is_empty() => {
                    let text = self.flow(key, item, false);
                    out.push(format!("{pad}- {text}"));
                }
                Node::Anchor(a, inner) => {
                    out.push(format!("{pad}- &{a}"));
                    if let Node::Map(m) = inner.as_ref() {
                        self.mapping(m, ind + 2, out);
                    }
                }
                other => {
                    let text = self.scalar(key, other, false, false);
                    out.push(format!("{pad}- {text}"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Style passes
// ---------------------------------------------------------------------------

/// A step from a node to a child.
#[derive(Clone, Copy, Debug)]
enum Step {
    Entry(usize),
    Item(usize),
}

fn at_path<'a>(root: &'a mut Node, path: &[Step]) -> Option<&'a mut Node> {
    let mut cur = root;
    for step in path {
        cur = match (cur, *step) {
            (Node::Map(m), Step::Entry(i)) => &mut m.get_mut(i)?.1,
            (Node::Seq(v), Step::Item(i)) => v.get_mut(i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Which repeated sub-mappings may share an anchor: labels with labels,
/// pod with pod security contexts, container with container ones,
/// resources with resources.
fn anchor_class(key: &str, v: &Node) -> Option<&'static str> {
    match key {
        "labels" | "matchLabels" => Some("labels"),
        "resources" => Some("res"),
        "securityContext" => {
            let keys = v.keys();
            Some(
                if keys.contains(&"capabilities") || keys.contains(&"allowPrivilegeEscalation") {
                    "sc"
                } else {
                    "podsc"
                },
            )
        }
        _ => None,
    }
}

/// Rewrites repeated sub-mappings of `doc` as aliases of their first
/// occurrence, and supersets of one as a merge key (`<<: *a`) plus the keys
/// that differ. Returns the tags used.
fn apply_anchors(doc: &mut Node) -> BTreeSet<&'static str> {
    struct Cand {
        path: Vec<Step>,
        class: &'static str,
        value: Node,
    }
    fn walk(n: &Node, path: &mut Vec<Step>, out: &mut Vec<Cand>) {
        match n {
            Node::Map(m) => {
                for (i, (k, v)) in m.iter().enumerate() {
                    path.push(Step::Entry(i));
                    if let Node::Map(inner) = v
                        && !inner.is_empty()
                        && let Some(class) = anchor_class(k, v)
                    {
                        out.push(Cand {
                            path: path.clone(),
                            class,
                            value: v.clone(),
                        });
                    }
                    walk(v, path, out);
                    path.pop();
                }
            }
            Node::Seq(v) => {
                for (i, x) in v.iter().enumerate() {
                    path.push(Step::Item(i));
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut cands = Vec::new();
    walk(doc, &mut Vec::new(), &mut cands);

    enum Plan {
        Keep,
        Alias(usize),
        Merge(usize),
    }
    let mut plan: Vec<Plan> = Vec::with_capacity(cands.len());
    for (j, c) in cands.iter().enumerate() {
        let earlier = |i: &usize| cands[*i].class == c.class && !matches!(plan[*i], Plan::Alias(_));
        let same = (0..j).filter(earlier).find(|&i| cands[i].value == c.value);
        let p = match same {
            Some(i) => Plan::Alias(i),
            // Pod security contexts never merge: their keys differ in meaning
            // from the container's, and a merged pod context reads poorly.
            None if c.class != "podsc" => {
                let keys = c.value.keys();
                (0..j)
                    .filter(earlier)
                    .find(|&i| {
                        let base = cands[i].value.keys();
                        base.len() >= 2 && base.iter().all(|k| keys.contains(k))
                    })
                    .map_or(Plan::Keep, Plan::Merge)
            }
            None => Plan::Keep,
        };
        plan.push(p);
    }
    let mut names: HashMap<usize, String> = HashMap::new();
    let mut used: HashMap<&str, usize> = HashMap::new();
    for p in &plan {
        if let Plan::Alias(t) | Plan::Merge(t) = *p
            && !names.contains_key(&t)
        {
            let base = match cands[t].class {
                "labels" => "labels",
                "sc" => "sc",
                "podsc" => "podsc",
                _ => "res",
            };
            let n = used.entry(base).or_default();
            *n += 1;
            names.insert(
                t,
                if *n == 1 {
                    base.to_owned()
                } else {
                    format!("{base}{n}")
                },
            );
        }
    }
    let mut tags = BTreeSet::new();
    // Deepest-last order is document order; replacing from the end keeps
    // every earlier path valid.
    for (j, c) in cands.iter().enumerate().rev() {
        let Some(slot) = at_path(doc, &c.path) else {
            continue;
        };
        match plan[j] {
            Plan::Alias(t) => {
                *slot = Node::Alias(names[&t].clone());
                tags.insert("anchors");
            }
            Plan::Merge(t) => {
                let base = &cands[t].value;
                let mut pairs = vec![("<<".to_owned(), Node::Alias(names[&t].clone()))];
                if let Node::Map(m) = &c.value {
                    pairs.extend(m.iter().filter(|(k, v)| base.get(k) != Some(v)).cloned());
                }
                *slot = Node::Map(pairs);
                tags.insert("anchors");
                tags.insert("merge-key");
            }
            Plan::Keep => {}
        }
        if let Some(name) = names.get(&j) {
            let inner = std::mem::replace(slot, Node::Bool(false));
            *slot = Node::Anchor(name.clone(), Box::new(inner));
        }
    }
    tags
}

/// Keys whose mapping values the flow style writes inline.
const FLOW_KEYS: [&str; 14] = [
    "labels",
    "matchLabels",
    "securityContext",
    "resources",
    "capabilities",
    "seccompProfile",
    "requests",
    "limits",
    "selector",
    "scaleTargetRef",
    "configMapRef",
    "emptyDir",
    "hostPath",
    "annotations",
];

/// Wraps some sub-mappings (and the items of some lists) in flow style.
fn apply_flow(n: &mut Node, rng: &mut Rng, json: bool) -> bool {
    let mut changed = false;
    match n {
        Node::Map(m) => {
            for (k, v) in m.iter_mut() {
                if FLOW_KEYS.contains(&k.as_str()) && matches!(v, Node::Map(_)) && rng.chance(0.7) {
                    let inner = std::mem::replace(v, Node::Bool(false));
                    *v = Node::Flow(json, Box::new(inner));
                    changed = true;
                } else if matches!(k.as_str(), "ports" | "env" | "volumeMounts")
                    && matches!(v, Node::Seq(_))
                    && rng.chance(0.6)
                {
                    if let Node::Seq(items) = v {
                        for x in items.iter_mut() {
                            if matches!(x, Node::Map(_)) {
                                let inner = std::mem::replace(x, Node::Bool(false));
                                *x = Node::Flow(json, Box::new(inner));
                            }
                        }
                    }
                    changed = true;
                } else {
                    changed |= apply_flow(v, rng, json);
                }
            }
        }
        Node::Seq(items) => {
            for x in items.iter_mut() {
                changed |= apply_flow(x, rng, json);
            }
        }
        _ => {}
    }
    changed
}

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

const TEAMS: [&str; 40] = [
    "payments",
    "checkout",
    "search",
    "identity",
    "catalog",
    "billing",
    "ledger",
    "shipping",
    "inventory",
    "pricing",
    "reviews",
    "notifications",
    "analytics",
    "ml-platform",
    "recommendations",
    "fraud",
    "support",
    "marketing",
    "growth",
    "mobile-api",
    "web",
    "partners",
    "reporting",
    "data-ingest",
    "media",
    "messaging",
    "loyalty",
    "orders",
    "returns",
    "tax",
    "kyc",
    "onboarding",
    "observability",
    "edge",
    "maps",
    "booking",
    "crm",
    "docs",
    "forms",
    "storage",
];
const ENVS: [&str; 3] = ["dev", "staging", "prod"];
const COMPONENTS: [&str; 28] = [
    "api",
    "web",
    "worker",
    "gateway",
    "scheduler",
    "indexer",
    "ingest",
    "cache",
    "consumer",
    "notifier",
    "auth",
    "reports",
    "exporter",
    "sync",
    "renderer",
    "backend",
    "frontend",
    "processor",
    "router",
    "collector",
    "publisher",
    "resolver",
    "validator",
    "webhook",
    "importer",
    "archiver",
    "mailer",
    "cdn-purge",
];
const JOB_NAMES: [&str; 12] = [
    "db-migrate",
    "backup",
    "cleanup",
    "report-nightly",
    "reindex",
    "rotate-keys",
    "sync-catalog",
    "compact",
    "vacuum",
    "export-csv",
    "warm-cache",
    "gc-orphans",
];
const SIDECARS: [(&str, &str, i64); 4] = [
    ("envoy", "envoyproxy/envoy:v1.29.2", 9901),
    ("fluent-bit", "fluent/fluent-bit:3.0.4", 2020),
    (
        "oauth2-proxy",
        "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0",
        4180,
    ),
    ("statsd-exporter", "prom/statsd-exporter:v0.26.1", 9102),
];
const DANGEROUS_CAPS: [&str; 8] = [
    "SYS_ADMIN",
    "NET_RAW",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
    "SYS_TIME",
    "ALL",
];
const HOST_PATHS: [&str; 8] = [
    "/var/run/docker.sock",
    "/var/log",
    "/",
    "/etc",
    "/proc",
    "/var/lib/kubelet",
    "/run/containerd/containerd.sock",
    "/sys",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Pod,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::Pod => "Pod",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::Pod => "v1",
            _ => "apps/v1",
        }
    }

    fn long_running(self) -> bool {
        !matches!(self, Kind::Job | Kind::CronJob)
    }

    /// Where the pod spec sits in the object.
    fn pod_spec_path(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &["spec"],
            Kind::CronJob => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => &["spec", "template", "spec"],
        }
    }
}

/// Which container a violation lands in.
#[derive(Clone, Copy)]
enum Site {
    Main,
    Sidecar,
    Init,
}

// ---------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------

/// A workload under construction: the object without its pod spec, and the
/// pod spec, which the violation injection edits before they are joined.
struct Workload {
    kind: Kind,
    ns: String,
    name: String,
    obj: Node,
    spec: Node,
    tags: BTreeSet<&'static str>,
    violations: Vec<&'static str>,
}

impl Workload {
    fn container(&mut self, site: Site) -> Option<&mut Node> {
        let (list, i) = match site {
            Site::Main => ("containers", 0),
            Site::Sidecar => ("containers", 1),
            Site::Init => ("initContainers", 0),
        };
        match self.spec.get_mut(list)? {
            Node::Seq(v) => v.get_mut(i),
            _ => None,
        }
    }

    fn container_sc(&mut self, site: Site) -> Option<&mut Node> {
        self.container(site)?.get_mut("securityContext")
    }

    fn has(&self, list: &str, i: usize) -> bool {
        matches!(self.spec.get(list), Some(Node::Seq(v)) if v.len() > i)
    }

    /// Joins the pod spec into the object.
    fn finish(mut self) -> (Node, Vec<&'static str>, BTreeSet<&'static str>) {
        let path = self.kind.pod_spec_path();
        let mut cur = &mut self.obj;
        for key in path {
            cur = cur.entry(key, Node::Map(Vec::new()));
        }
        *cur = self.spec;
        (self.obj, self.violations, self.tags)
    }
}

struct Generator {
    rng: Rng,
    objects: usize,
    seed: u64,
    rate: f64,
    namespaces: Vec<(String, String)>,
    /// Names used per namespace ("" = cluster scope), across kinds, so no
    /// two objects of one kind ever share a name in a namespace.
    names: HashMap<String, HashSet<String>>,
}

/// A file being filled, with its rendering style.
struct FileBuf {
    path: String,
    style: &'static str,
    json_keys: bool,
    indent_seq: bool,
    leading_marker: bool,
    trailing_marker: bool,
    seed: u64,
    docs: Vec<Doc>,
}

/// The files being filled, and how many objects may still be added.
struct Files {
    files: Vec<FileBuf>,
    index: HashMap<String, usize>,
    budget: usize,
}

impl Files {
    /// Adds a document to `path` (opening the file with a random style the
    /// first time); false once the object budget is spent, so a bundle may
    /// end half written, as the last commit of a real repository may.
    fn emit(&mut self, rng: &mut Rng, path: String, doc: Doc) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        let i = match self.index.get(&path) {
            Some(&i) => i,
            None => {
                let r = rng.unit();
                let style = if r < 0.60 {
                    "block"
                } else if r < 0.75 {
                    "anchors"
                } else if r < 0.90 {
                    "flow"
                } else {
                    "json"
                };
                self.index.insert(path.clone(), self.files.len());
                self.files.push(FileBuf {
                    path,
                    style,
                    json_keys: rng.chance(0.4),
                    indent_seq: rng.chance(0.5),
                    leading_marker: rng.chance(0.5),
                    trailing_marker: rng.chance(0.05),
                    seed: rng.next_u64(),
                    docs: Vec::new(),
                });
                self.files.len() - 1
            }
        };
        self.files[i].docs.push(doc);
        true
    }
}

struct Doc {
    obj: Node,
    tenant_ns: String,
    violations: Vec<&'static str>,
    tags: BTreeSet<&'static str>,
}

fn version_tag(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}",
        rng.between(0, 4),
        rng.between(0, 30),
        rng.between(0, 15)
    )
}

fn resources(rng: &mut Rng, small: bool) -> Node {
    let (cpu_req, mem_req, cpu_lim, mem_lim): (&[&str], &[&str], &[&str], &[&str]) = if small {
        (
            &["25m", "50m"],
            &["32Mi", "64Mi"],
            &["100m", "200m"],
            &["64Mi", "128Mi"],
        )
    } else {
        (
            &["100m", "200m", "250m", "500m"],
            &["128Mi", "256Mi", "512Mi"],
            &["500m", "1", "2"],
            &["256Mi", "512Mi", "1Gi"],
        )
    };
    map(vec![
        (
            "requests",
            map(vec![
                ("cpu", s(rng.pick(cpu_req))),
                ("memory", s(rng.pick(mem_req))),
            ]),
        ),
        (
            "limits",
            map(vec![
                ("cpu", s(rng.pick(cpu_lim))),
                ("memory", s(rng.pick(mem_lim))),
            ]),
        ),
    ])
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Main,
    Job,
    Sidecar,
    Init,
}

fn container(
    rng: &mut Rng,
    name: &str,
    image: String,
    port: Option<i64>,
    role: Role,
    config_map: Option<&str>,
) -> Node {
    let mut c = map(vec![
        ("name", s(name)),
        ("image", s(image)),
        ("imagePullPolicy", s("IfNotPresent")),
    ]);
    match role {
        Role::Init => c.set(
            "command",
            strs(&[
                "/bin/sh",
                "-c",
                "until nc -z -w 2 postgres 5432; do sleep 2; done",
            ]),
        ),
        Role::Job => c.set(
            "args",
            seq(vec![
                s("--mode=batch"),
                s(format!("--parallelism={}", rng.between(1, 8))),
            ]),
        ),
        _ => {}
    }
    if let Some(port) = port {
        let port_name = if role == Role::Main {
            "http"
        } else {
            "metrics"
        };
        c.set(
            "ports",
            seq(vec![map(vec![
                ("name", s(port_name)),
                ("containerPort", Node::Int(port)),
                ("protocol", s("TCP")),
            ])]),
        );
    }
    if matches!(role, Role::Main | Role::Job) {
        let mut env = vec![
            map(vec![
                ("name", s("LOG_LEVEL")),
                ("value", s(rng.pick(&["info", "debug", "warn"]))),
            ]),
            map(vec![
                ("name", s("FEATURE_FLAGS_ENABLED")),
                ("value", s(rng.pick(&["true", "false"]))),
            ]),
        ];
        if rng.chance(0.5) {
            env.push(map(vec![
                ("name", s("POD_NAMESPACE")),
                (
                    "valueFrom",
                    map(vec![(
                        "fieldRef",
                        map(vec![("fieldPath", s("metadata.namespace"))]),
                    )]),
                ),
            ]));
        }
        c.set("env", seq(env));
        if let Some(cm) = config_map
            && rng.chance(0.6)
        {
            c.set(
                "envFrom",
                seq(vec![map(vec![(
                    "configMapRef",
                    map(vec![("name", s(cm))]),
                )])]),
            );
        }
    }
    c.set(
        "resources",
        resources(rng, matches!(role, Role::Init | Role::Sidecar)),
    );
    c.set(
        "securityContext",
        map(vec![
            ("allowPrivilegeEscalation", Node::Bool(false)),
            ("readOnlyRootFilesystem", Node::Bool(true)),
            ("capabilities", map(vec![("drop", strs(&["ALL"]))])),
        ]),
    );
    if role == Role::Main && port.is_some() {
        let probe = |path: &str| map(vec![("path", s(path)), ("port", s("http"))]);
        c.set(
            "readinessProbe",
            map(vec![
                ("httpGet", probe("/healthz")),
                ("periodSeconds", Node::Int(10)),
            ]),
        );
        if rng.chance(0.7) {
            c.set(
                "livenessProbe",
                map(vec![
                    ("httpGet", probe("/livez")),
                    ("initialDelaySeconds", Node::Int(15)),
                    ("periodSeconds", Node::Int(20)),
                ]),
            );
        }
    }
    let mut mounts = vec![map(vec![("name", s("tmp")), ("mountPath", s("/tmp"))])];
    if role == Role::Main && config_map.is_some() {
        mounts.push(map(vec![
            ("name", s("config")),
            ("mountPath", s("/etc/app")),
            ("readOnly", Node::Bool(true)),
        ]));
    }
    c.set("volumeMounts", seq(mounts));
    c
}

/// `true`, mostly plainly; sometimes as a quoted string or another spelling.
fn bool_true(rng: &mut Rng) -> Node {
    let r = rng.unit();
    if r < 0.75 {
        Node::Bool(true)
    } else if r < 0.85 {
        s("true")
    } else if r < 0.90 {
        Node::Spelled(rng.pick(&["True", "TRUE"]))
    } else {
        Node::Spelled(rng.pick(&["yes", "on", "Yes", "ON"]))
    }
}

impl Generator {
    fn new(objects: usize, seed: u64, rate: f64) -> Self {
        let n_teams = (objects as f64 / 150.0)
            .round()
            .clamp(1.0, (TEAMS.len() * 4) as f64) as usize;
        let mut namespaces = Vec::new();
        for i in 0..n_teams {
            let base = TEAMS[i % TEAMS.len()];
            let team = if i < TEAMS.len() {
                base.to_owned()
            } else {
                format!("{base}-{}", i / TEAMS.len() + 1)
            };
            for env in ENVS {
                namespaces.push((team.clone(), env.to_owned()));
            }
        }
        Self {
            rng: Rng::new(seed),
            objects,
            seed,
            rate,
            namespaces,
            names: HashMap::new(),
        }
    }

    fn unique_name(&mut self, ns: &str, base: &str) -> String {
        let used = self.names.entry(ns.to_owned()).or_default();
        let mut name = base.to_owned();
        let mut n = 1;
        while used.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        used.insert(name.clone());
        name
    }

    fn app_image(&mut self, team: &str, comp: &str, tags: &mut BTreeSet<&'static str>) -> String {
        let r = self.rng.unit();
        if r < 0.05 {
            tags.insert("image-digest");
            let digest: String = (0..64)
                .map(|_| char::from(b"0123456789abcdef"[self.rng.below(16)]))
                .collect();
            format!("registry.example.com/{team}/{comp}@sha256:{digest}")
        } else if r < 0.12 {
            tags.insert("image-registry-port");
            format!(
                "registry.internal:5000/{team}/{comp}:{}",
                version_tag(&mut self.rng)
            )
        } else if r < 0.2 {
            format!(
                "ghcr.io/example-org/{team}-{comp}:v{}",
                version_tag(&mut self.rng)
            )
        } else {
            format!(
                "registry.example.com/{team}/{comp}:{}",
                version_tag(&mut self.rng)
            )
        }
    }

    fn workload(
        &mut self,
        kind: Kind,
        team: &str,
        env: &str,
        comp: &str,
        config_map: Option<&str>,
    ) -> Workload {
        let ns = format!("{team}-{env}");
        let base = if kind == Kind::Pod {
            format!("{comp}-debug")
        } else {
            comp.to_owned()
        };
        let name = self.unique_name(&ns, &base);
        let labels = map(vec![
            ("app.kubernetes.io/name", s(&name)),
            ("app.kubernetes.io/part-of", s(team)),
            ("app.kubernetes.io/managed-by", s("argocd")),
        ]);
        let mut template_labels = labels.clone();
        if self.rng.chance(0.4) {
            template_labels.set("app.kubernetes.io/version", s(version_tag(&mut self.rng)));
        }
        let long_running = kind.long_running();
        let port = long_running.then(|| self.rng.pick(&[8080, 8443, 9000, 3000, 5000]));
        let mut tags = BTreeSet::new();

        let mut pod_sc = map(vec![
            ("runAsNonRoot", Node::Bool(true)),
            ("runAsUser", Node::Int(10001)),
            ("runAsGroup", Node::Int(10001)),
            ("fsGroup", Node::Int(10001)),
            ("seccompProfile", map(vec![("type", s("RuntimeDefault"))])),
        ]);
        let mut spec = map(vec![]);
        if self.rng.chance(0.7) {
            spec.set("serviceAccountName", s(&name));
        }
        if self.rng.chance(0.5) {
            spec.set("automountServiceAccountToken", Node::Bool(false));
        }
        let role = if long_running { Role::Main } else { Role::Job };
        let image = self.app_image(team, comp, &mut tags);
        let mut containers = vec![container(
            &mut self.rng,
            comp,
            image,
            port,
            role,
            config_map,
        )];
        if long_running && self.rng.chance(0.25) {
            let (sc_name, sc_image, sc_port) = self.rng.pick(&SIDECARS);
            containers.push(container(
                &mut self.rng,
                sc_name,
                sc_image.to_owned(),
                Some(sc_port),
                Role::Sidecar,
                None,
            ));
        }
        let mut init = Vec::new();
        if self.rng.chance(0.15) {
            init.push(container(
                &mut self.rng,
                "wait-for-db",
                "busybox:1.36.1".into(),
                None,
                Role::Init,
                None,
            ));
        }

        // Clean variants that still pass "restricted".
        let r = self.rng.unit();
        if r < 0.10 {
            tags.insert("seccomp-container-level");
            pod_sc.remove("seccompProfile");
            for c in containers.iter_mut().chain(init.iter_mut()) {
                if let Some(sc) = c.get_mut("securityContext") {
                    sc.set("seccompProfile", map(vec![("type", s("RuntimeDefault"))]));
                }
            }
        } else if r < 0.13 {
            tags.insert("seccomp-localhost");
            pod_sc.set(
                "seccompProfile",
                map(vec![
                    ("type", s("Localhost")),
                    ("localhostProfile", s("profiles/restricted.json")),
                ]),
            );
        }
        let r = self.rng.unit();
        if r < 0.10 {
            tags.insert("runasnonroot-container-level");
            pod_sc.remove("runAsNonRoot");
            for c in containers.iter_mut().chain(init.iter_mut()) {
                if let Some(sc) = c.get_mut("securityContext") {
                    sc.set("runAsNonRoot", Node::Bool(true));
                }
            }
        } else if r < 0.30 {
            tags.insert("no-pod-runasuser");
            pod_sc.remove("runAsUser");
            pod_sc.remove("runAsGroup");
        }
        if long_running && matches!(port, Some(8080 | 8443)) && self.rng.chance(0.12) {
            tags.insert("net-bind-service");
            if let Some(sc) = containers[0].get_mut("securityContext") {
                sc.set(
                    "capabilities",
                    map(vec![
                        ("drop", strs(&["ALL"])),
                        ("add", strs(&["NET_BIND_SERVICE"])),
                    ]),
                );
            }
        }
        if kind == Kind::StatefulSet
            && let Some(mounts) = containers[0].get_mut("volumeMounts")
        {
            mounts.push(map(vec![
                ("name", s("data")),
                ("mountPath", s("/var/lib/data")),
            ]));
        }

        spec.set("securityContext", pod_sc);
        if !init.is_empty() {
            spec.set("initContainers", seq(init));
        }
        spec.set("containers", seq(containers));
        let mut volumes = vec![map(vec![("name", s("tmp")), ("emptyDir", map(vec![]))])];
        if let Some(cm) = config_map {
            volumes.push(map(vec![
                ("name", s("config")),
                ("configMap", map(vec![("name", s(cm))])),
            ]));
        }
        spec.set("volumes", seq(volumes));
        if !long_running {
            spec.set("restartPolicy", s(self.rng.pick(&["OnFailure", "Never"])));
        }
        if kind == Kind::DaemonSet && self.rng.chance(0.6) {
            spec.set(
                "tolerations",
                seq(vec![map(vec![
                    ("key", s("node-role.kubernetes.io/control-plane")),
                    ("operator", s("Exists")),
                    ("effect", s("NoSchedule")),
                ])]),
            );
        }
        if self.rng.chance(0.2) {
            spec.set("nodeSelector", map(vec![("kubernetes.io/os", s("linux"))]));
        }

        let mut meta = map(vec![
            ("name", s(&name)),
            ("namespace", s(&ns)),
            (
                "labels",
                if kind == Kind::Pod {
                    template_labels.clone()
                } else {
                    labels.clone()
                },
            ),
        ]);
        if self.rng.chance(0.3) {
            meta.set(
                "annotations",
                map(vec![
                    (
                        "argocd.argoproj.io/sync-wave",
                        s(self.rng.between(-1, 3).to_string()),
                    ),
                    ("prometheus.io/scrape", s("true")),
                ]),
            );
        }
        let mut pod_meta = map(vec![("labels", template_labels)]);
        if self.rng.chance(0.3) {
            pod_meta.set(
                "annotations",
                map(vec![
                    ("prometheus.io/scrape", s("true")),
                    ("prometheus.io/port", s(port.unwrap_or(9090).to_string())),
                ]),
            );
        }
        // The pod spec itself is joined in `Workload::finish`.
        let template = map(vec![("metadata", pod_meta), ("spec", map(vec![]))]);
        let top = match kind {
            Kind::Deployment => Some(map(vec![
                ("replicas", Node::Int(self.rng.pick(&[1, 2, 3, 4, 6]))),
                ("revisionHistoryLimit", Node::Int(5)),
                ("selector", map(vec![("matchLabels", labels.clone())])),
                (
                    "strategy",
                    map(vec![
                        ("type", s("RollingUpdate")),
                        (
                            "rollingUpdate",
                            map(vec![
                                ("maxSurge", s("25%")),
                                ("maxUnavailable", Node::Int(0)),
                            ]),
                        ),
                    ]),
                ),
                ("template", template),
            ])),
            Kind::StatefulSet => Some(map(vec![
                ("serviceName", s(&name)),
                ("replicas", Node::Int(self.rng.pick(&[1, 3]))),
                ("selector", map(vec![("matchLabels", labels.clone())])),
                ("template", template),
                (
                    "volumeClaimTemplates",
                    seq(vec![map(vec![
                        ("metadata", map(vec![("name", s("data"))])),
                        (
                            "spec",
                            map(vec![
                                ("accessModes", strs(&["ReadWriteOnce"])),
                                (
                                    "resources",
                                    map(vec![(
                                        "requests",
                                        map(vec![(
                                            "storage",
                                            s(self.rng.pick(&["1Gi", "10Gi", "50Gi"])),
                                        )]),
                                    )]),
                                ),
                            ]),
                        ),
                    ])]),
                ),
            ])),
            Kind::DaemonSet => Some(map(vec![
                ("selector", map(vec![("matchLabels", labels.clone())])),
                ("updateStrategy", map(vec![("type", s("RollingUpdate"))])),
                ("template", template),
            ])),
            Kind::Job => Some(map(vec![
                ("backoffLimit", Node::Int(self.rng.pick(&[0, 2, 4]))),
                ("ttlSecondsAfterFinished", Node::Int(3600)),
                ("template", template),
            ])),
            Kind::CronJob => Some(map(vec![
                (
                    "schedule",
                    s(self
                        .rng
                        .pick(&["*/15 * * * *", "0 3 * * *", "30 1 * * 0", "@hourly"])),
                ),
                (
                    "concurrencyPolicy",
                    s(self.rng.pick(&["Forbid", "Replace"])),
                ),
                ("successfulJobsHistoryLimit", Node::Int(3)),
                (
                    "jobTemplate",
                    map(vec![(
                        "spec",
                        map(vec![("backoffLimit", Node::Int(2)), ("template", template)]),
                    )]),
                ),
            ])),
            Kind::Pod => None,
        };
        let mut obj = map(vec![
            ("apiVersion", s(kind.api_version())),
            ("kind", s(kind.name())),
            ("metadata", meta),
        ]);
        if let Some(top) = top {
            obj.set("spec", top);
        }
        Workload {
            kind,
            ns,
            name,
            obj,
            spec,
            tags,
            violations: Vec::new(),
        }
    }

    fn pick_site(&mut self, w: &Workload) -> Site {
        let mut sites = vec![Site::Main, Site::Main, Site::Main];
        if w.has("containers", 1) {
            sites.push(Site::Sidecar);
        }
        if w.has("initContainers", 0) {
            sites.push(Site::Init);
        }
        self.rng.pick(&sites)
    }

    fn site_tag(site: Site) -> &'static str {
        match site {
            Site::Main => "site-main",
            Site::Sidecar => "site-sidecar",
            Site::Init => "site-init",
        }
    }

    /// Applies violation `vid` to `w`; returns the violation ids it produced
    /// (none when it could not be placed).
    fn inject(&mut self, w: &mut Workload, vid: &'static str) -> Vec<&'static str> {
        let mut out = vec![vid];
        match vid {
            "privileged" => {
                let site = self.pick_site(w);
                w.tags.insert(Self::site_tag(site));
                let value = bool_true(&mut self.rng);
                let flip = self.rng.chance(0.5);
                if let Some(sc) = w.container_sc(site) {
                    sc.set("privileged", value);
                    // The API refuses privileged with allowPrivilegeEscalation
                    // false, so the key goes or turns true: also an escalation.
                    if flip {
                        sc.remove("allowPrivilegeEscalation");
                    } else {
                        sc.set("allowPrivilegeEscalation", Node::Bool(true));
                    }
                }
                out.push("privilege-escalation");
            }
            "host-pid" | "host-ipc" | "host-network" => {
                let key = match vid {
                    "host-pid" => "hostPID",
                    "host-ipc" => "hostIPC",
                    _ => "hostNetwork",
                };
                w.tags.insert("site-pod");
                // Near the top of the pod spec, where people write it.
                let value = bool_true(&mut self.rng);
                w.spec.insert_at(0, key, value);
                if vid == "host-network" && self.rng.chance(0.7) {
                    w.spec
                        .insert_at(1, "dnsPolicy", s("ClusterFirstWithHostNet"));
                }
            }
            "host-path" => {
                w.tags.insert("site-pod");
                let path = self.rng.pick(&HOST_PATHS);
                let slug = path.trim_matches('/').replace(['/', '.'], "-");
                let vol_name = format!("host-{}", if slug.is_empty() { "root" } else { &slug });
                let mut host_path = map(vec![("path", s(path))]);
                if self.rng.chance(0.6) {
                    let t = if path.ends_with(".sock") {
                        "Socket"
                    } else {
                        "Directory"
                    };
                    host_path.set("type", s(t));
                }
                if let Some(vols) = w.spec.get_mut("volumes") {
                    vols.push(map(vec![("name", s(&vol_name)), ("hostPath", host_path)]));
                }
                let read_only = self.rng.chance(0.5);
                let mount_path = if path == "/" {
                    "/host".to_owned()
                } else {
                    format!("/host{path}")
                };
                if let Some(c) = w.container(Site::Main) {
                    c.entry("volumeMounts", seq(vec![])).push(map(vec![
                        ("name", s(vol_name)),
                        ("mountPath", s(mount_path)),
                        ("readOnly", Node::Bool(read_only)),
                    ]));
                }
            }
            "capabilities" => {
                let site = self.pick_site(w);
                w.tags.insert(Self::site_tag(site));
                let n = self.rng.pick(&[1, 1, 1, 2]);
                let added = self.rng.sample(&DANGEROUS_CAPS, n);
                if let Some(sc) = w.container_sc(site) {
                    let caps = sc.entry("capabilities", map(vec![("drop", strs(&["ALL"]))]));
                    let mut add: Vec<Node> = match caps.get("add") {
                        Some(Node::Seq(v)) => v
                            .iter()
                            .filter(|x| x.as_str() == Some("NET_BIND_SERVICE"))
                            .cloned()
                            .collect(),
                        _ => Vec::new(),
                    };
                    add.extend(added.into_iter().map(s));
                    caps.set("add", seq(add));
                }
            }
            "host-port" => {
                w.tags.insert("site-main");
                let host_port = self.rng.pick(&[80, 443, 8080, 9100, 30080]);
                if let Some(c) = w.container(Site::Main) {
                    if !matches!(c.get("ports"), Some(Node::Seq(v)) if !v.is_empty()) {
                        c.set(
                            "ports",
                            seq(vec![map(vec![
                                ("name", s("metrics")),
                                ("containerPort", Node::Int(9100)),
                                ("protocol", s("TCP")),
                            ])]),
                        );
                    }
                    if let Some(Node::Seq(ports)) = c.get_mut("ports")
                        && let Some(first) = ports.first_mut()
                    {
                        first.set("hostPort", Node::Int(host_port));
                    }
                }
            }
            "privilege-escalation" => {
                let site = self.pick_site(w);
                w.tags.insert(Self::site_tag(site));
                let explicit = self.rng.chance(0.7);
                let value = bool_true(&mut self.rng);
                if !explicit {
                    // Restricted requires an explicit false; absent fails too.
                    w.tags.insert("ape-absent");
                }
                if let Some(sc) = w.container_sc(site) {
                    if explicit {
                        sc.set("allowPrivilegeEscalation", value);
                    } else {
                        sc.remove("allowPrivilegeEscalation");
                    }
                }
            }
            "run-as-root" => {
                let r = self.rng.unit();
                // 40%: pod root user and runAsNonRoot false; 25%: pod
                // runAsNonRoot false only; 35%: one container's runAsUser 0.
                if !(0.4..0.75).contains(&r) {
                    w.tags.insert("site-pod");
                    if let Some(psc) = w.spec.get_mut("securityContext") {
                        psc.set("runAsNonRoot", Node::Bool(false));
                        if r < 0.4 {
                            psc.set("runAsUser", Node::Int(0));
                        }
                    }
                } else {
                    let site = self.pick_site(w);
                    w.tags.insert(Self::site_tag(site));
                    if let Some(sc) = w.container_sc(site) {
                        sc.set("runAsUser", Node::Int(0));
                    }
                }
            }
            "seccomp" => {
                let unconfined = map(vec![("type", s("Unconfined"))]);
                if self.rng.chance(0.5) {
                    w.tags.insert("site-pod");
                    if let Some(psc) = w.spec.get_mut("securityContext") {
                        psc.set("seccompProfile", unconfined);
                    }
                } else {
                    // A container override of a RuntimeDefault pod default
                    // is still a violation.
                    let site = self.pick_site(w);
                    w.tags.insert(Self::site_tag(site));
                    if let Some(sc) = w.container_sc(site) {
                        sc.set("seccompProfile", unconfined);
                    }
                }
            }
            "proc-mount" => {
                let site = self.pick_site(w);
                w.tags.insert(Self::site_tag(site));
                if let Some(sc) = w.container_sc(site) {
                    sc.set("procMount", s("Unmasked"));
                }
                // An unmasked /proc is only admitted in a user namespace.
                w.spec.set("hostUsers", Node::Bool(false));
            }
            "latest-tag" => {
                let site = self.pick_site(w);
                w.tags.insert(Self::site_tag(site));
                let bare = self.rng.chance(0.4);
                if let Some(c) = w.container(site)
                    && let Some(image) = c.get("image").and_then(Node::as_str)
                {
                    let repo = image.split('@').next().unwrap_or(image);
                    // Strip a tag (a colon after the last slash), keep a registry port.
                    let slash = repo.rfind('/').map_or(0, |i| i + 1);
                    let repo = match repo[slash..].rfind(':') {
                        Some(i) => repo[..slash + i].to_owned(),
                        None => repo.to_owned(),
                    };
                    let image = if bare { repo } else { format!("{repo}:latest") };
                    c.set("image", s(image));
                }
            }
            "namespace-scope" => {
                let others: Vec<String> = self
                    .namespaces
                    .iter()
                    .map(|(t, e)| format!("{t}-{e}"))
                    .filter(|ns| *ns != w.ns)
                    .collect();
                let mut choices = vec!["kube-system".to_owned(), "default".to_owned()];
                choices.extend(self.rng.sample(&others, 3));
                self.rng.shuffle(&mut choices);
                let free = choices.into_iter().find(|ns| {
                    !self
                        .names
                        .get(ns)
                        .is_some_and(|used| used.contains(&w.name))
                });
                let Some(ns) = free else {
                    return Vec::new();
                };
                // Reserve the name there, so no later object collides with it.
                self.names
                    .entry(ns.clone())
                    .or_default()
                    .insert(w.name.clone());
                if let Some(meta) = w.obj.get_mut("metadata") {
                    meta.set("namespace", s(ns));
                }
            }
            _ => out.clear(),
        }
        out
    }

    fn maybe_violate(&mut self, w: &mut Workload) {
        if !self.rng.chance(self.rate) {
            return;
        }
        let k = self.rng.weighted(&[(1usize, 70), (2, 20), (3, 10)]);
        let chosen = self.rng.sample(&VIOLATIONS, k);
        let mut got: Vec<&'static str> = Vec::new();
        for vid in chosen {
            for v in self.inject(w, vid) {
                if !got.contains(&v) {
                    got.push(v);
                }
            }
        }
        // Pod Security Admission v1.35+ relaxes runAsNonRoot/runAsUser for
        // pods in a user namespace (hostUsers: false, set by proc-mount).
        if w.spec.get("hostUsers") == Some(&Node::Bool(false)) {
            got.retain(|v| *v != "run-as-root");
        }
        w.violations = VIOLATIONS.into_iter().filter(|v| got.contains(v)).collect();
    }

    fn config_map(&mut self, ns: &str, name: &str, team: &str) -> Node {
        let mut data = map(vec![
            ("LOG_FORMAT", s("json")),
            ("CACHE_ENABLED", s(self.rng.pick(&["true", "false"]))),
            (
                "MAX_CONNECTIONS",
                s(self.rng.pick(&[16, 32, 64, 128]).to_string()),
            ),
            (
                "UPSTREAM_URL",
                s(format!("http://{team}-api.{ns}.svc.cluster.local:80")),
            ),
        ]);
        if self.rng.chance(0.5) {
            let flag = self.rng.pick(&["true", "false"]);
            data.set(
                "app.yaml",
                Node::Text(format!(
                    "server:\n  port: 8080\n  gracefulShutdown: true\nfeatures:\n  newCheckout: {flag}\n  region: eu-west-1\n"
                )),
            );
        }
        map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("ConfigMap")),
            (
                "metadata",
                map(vec![("name", s(name)), ("namespace", s(ns))]),
            ),
            ("data", data),
        ])
    }

    fn service(w: &Workload, port: i64) -> Node {
        map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("Service")),
            (
                "metadata",
                map(vec![
                    ("name", s(&w.name)),
                    ("namespace", s(&w.ns)),
                    ("labels", map(vec![("app.kubernetes.io/name", s(&w.name))])),
                ]),
            ),
            (
                "spec",
                map(vec![
                    ("type", s("ClusterIP")),
                    (
                        "selector",
                        map(vec![("app.kubernetes.io/name", s(&w.name))]),
                    ),
                    (
                        "ports",
                        seq(vec![map(vec![
                            ("name", s("http")),
                            ("port", Node::Int(if port == 8443 { 443 } else { 80 })),
                            ("targetPort", s("http")),
                            ("protocol", s("TCP")),
                        ])]),
                    ),
                ]),
            ),
        ])
    }

    fn hpa(&mut self, w: &Workload) -> Node {
        map(vec![
            ("apiVersion", s("autoscaling/v2")),
            ("kind", s("HorizontalPodAutoscaler")),
            (
                "metadata",
                map(vec![("name", s(&w.name)), ("namespace", s(&w.ns))]),
            ),
            (
                "spec",
                map(vec![
                    (
                        "scaleTargetRef",
                        map(vec![
                            ("apiVersion", s("apps/v1")),
                            ("kind", s(w.kind.name())),
                            ("name", s(&w.name)),
                        ]),
                    ),
                    ("minReplicas", Node::Int(self.rng.pick(&[1, 2, 3]))),
                    ("maxReplicas", Node::Int(self.rng.pick(&[5, 10, 20]))),
                    (
                        "metrics",
                        seq(vec![map(vec![
                            ("type", s("Resource")),
                            (
                                "resource",
                                map(vec![
                                    ("name", s("cpu")),
                                    (
                                        "target",
                                        map(vec![
                                            ("type", s("Utilization")),
                                            (
                                                "averageUtilization",
                                                Node::Int(self.rng.pick(&[60, 70, 80])),
                                            ),
                                        ]),
                                    ),
                                ]),
                            ),
                        ])]),
                    ),
                ]),
            ),
        ])
    }

    fn ingress(w: &Workload, team: &str, env: &str) -> Node {
        let host = format!("{}.{team}.{env}.example.com", w.name);
        map(vec![
            ("apiVersion", s("networking.k8s.io/v1")),
            ("kind", s("Ingress")),
            (
                "metadata",
                map(vec![
                    ("name", s(&w.name)),
                    ("namespace", s(&w.ns)),
                    (
                        "annotations",
                        map(vec![
                            ("cert-manager.io/cluster-issuer", s("letsencrypt")),
                            ("nginx.ingress.kubernetes.io/ssl-redirect", s("true")),
                        ]),
                    ),
                ]),
            ),
            (
                "spec",
                map(vec![
                    ("ingressClassName", s("nginx")),
                    (
                        "tls",
                        seq(vec![map(vec![
                            ("hosts", seq(vec![s(&host)])),
                            ("secretName", s(format!("{}-tls", w.name))),
                        ])]),
                    ),
                    (
                        "rules",
                        seq(vec![map(vec![
                            ("host", s(&host)),
                            (
                                "http",
                                map(vec![(
                                    "paths",
                                    seq(vec![map(vec![
                                        ("path", s("/")),
                                        ("pathType", s("Prefix")),
                                        (
                                            "backend",
                                            map(vec![(
                                                "service",
                                                map(vec![
                                                    ("name", s(&w.name)),
                                                    ("port", map(vec![("name", s("http"))])),
                                                ]),
                                            )]),
                                        ),
                                    ])]),
                                )]),
                            ),
                        ])]),
                    ),
                ]),
            ),
        ])
    }

    fn namespace(team: &str, env: &str) -> Node {
        map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("Namespace")),
            (
                "metadata",
                map(vec![
                    ("name", s(format!("{team}-{env}"))),
                    (
                        "labels",
                        map(vec![
                            ("tenant", s(team)),
                            ("environment", s(env)),
                            ("pod-security.kubernetes.io/enforce", s("restricted")),
                            ("pod-security.kubernetes.io/enforce-version", s("latest")),
                        ]),
                    ),
                ]),
            ),
        ])
    }

    fn network_policies(&mut self, ns: &str) -> Vec<Node> {
        let n = self.rng.between(1, 3) as usize;
        let bases = self.rng.sample(
            &[
                "default-deny",
                "allow-same-namespace",
                "allow-ingress-controller",
                "allow-prometheus",
                "allow-dns-egress",
            ],
            n,
        );
        let ns_selector = |name: &str| {
            map(vec![(
                "namespaceSelector",
                map(vec![(
                    "matchLabels",
                    map(vec![("kubernetes.io/metadata.name", s(name))]),
                )]),
            )])
        };
        let mut out = Vec::new();
        for base in bases {
            let name = self.unique_name(ns, base);
            let spec = match base {
                "default-deny" => map(vec![
                    ("podSelector", map(vec![])),
                    ("policyTypes", strs(&["Ingress", "Egress"])),
                ]),
                "allow-dns-egress" => {
                    let port =
                        |proto: &str| map(vec![("protocol", s(proto)), ("port", Node::Int(53))]);
                    map(vec![
                        ("podSelector", map(vec![])),
                        ("policyTypes", strs(&["Egress"])),
                        (
                            "egress",
                            seq(vec![map(vec![
                                ("to", seq(vec![ns_selector("kube-system")])),
                                ("ports", seq(vec![port("UDP"), port("TCP")])),
                            ])]),
                        ),
                    ])
                }
                other => {
                    let from = match other {
                        "allow-same-namespace" => map(vec![("podSelector", map(vec![]))]),
                        "allow-ingress-controller" => ns_selector("ingress-nginx"),
                        _ => ns_selector("monitoring"),
                    };
                    map(vec![
                        ("podSelector", map(vec![])),
                        ("policyTypes", strs(&["Ingress"])),
                        ("ingress", seq(vec![map(vec![("from", seq(vec![from]))])])),
                    ])
                }
            };
            out.push(map(vec![
                ("apiVersion", s("networking.k8s.io/v1")),
                ("kind", s("NetworkPolicy")),
                (
                    "metadata",
                    map(vec![("name", s(name)), ("namespace", s(ns))]),
                ),
                ("spec", spec),
            ]));
        }
        out
    }

    fn role_bindings(&mut self, team: &str, ns: &str) -> Vec<Node> {
        let deployer = format!("tenant-{team}-deployer");
        let n = self.rng.between(1, 2) as usize;
        let roles = self
            .rng
            .sample(&["edit".to_owned(), "view".to_owned(), deployer], n);
        let mut out = Vec::new();
        for role in roles {
            let short = if role.starts_with("tenant-") {
                "deployer"
            } else {
                role.as_str()
            };
            let name = self.unique_name(ns, &format!("{team}-{short}"));
            let group = if role == "view" { "readers" } else { "devs" };
            out.push(map(vec![
                ("apiVersion", s("rbac.authorization.k8s.io/v1")),
                ("kind", s("RoleBinding")),
                (
                    "metadata",
                    map(vec![("name", s(name)), ("namespace", s(ns))]),
                ),
                (
                    "roleRef",
                    map(vec![
                        ("apiGroup", s("rbac.authorization.k8s.io")),
                        ("kind", s("ClusterRole")),
                        ("name", s(role)),
                    ]),
                ),
                (
                    "subjects",
                    seq(vec![map(vec![
                        ("kind", s("Group")),
                        ("name", s(format!("{team}-{group}"))),
                        ("apiGroup", s("rbac.authorization.k8s.io")),
                    ])]),
                ),
            ]));
        }
        out
    }

    fn cluster_role(&mut self) -> Node {
        let team = self.namespaces[self.rng.below(self.namespaces.len())]
            .0
            .clone();
        let what = self
            .rng
            .pick(&["deployer", "reader", "crd-viewer", "metrics"]);
        let name = self.unique_name("", &format!("tenant-{team}-{what}"));
        let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| {
            map(vec![
                ("apiGroups", strs(groups)),
                ("resources", strs(resources)),
                ("verbs", strs(verbs)),
            ])
        };
        let mut rules = vec![
            rule(
                &["apps"],
                &["deployments", "statefulsets"],
                &["get", "list", "watch", "update", "patch"],
            ),
            rule(
                &[""],
                &["configmaps", "services"],
                &["get", "list", "watch"],
            ),
        ];
        if self.rng.chance(0.4) {
            rules.push(rule(
                &["monitoring.coreos.com"],
                &["servicemonitors"],
                &["get", "list", "watch", "create", "update"],
            ));
        }
        map(vec![
            ("apiVersion", s("rbac.authorization.k8s.io/v1")),
            ("kind", s("ClusterRole")),
            (
                "metadata",
                map(vec![
                    ("name", s(name)),
                    (
                        "labels",
                        map(vec![("rbac.example.com/aggregate-to-tenants", s("true"))]),
                    ),
                ]),
            ),
            ("rules", seq(rules)),
        ])
    }

    fn run(mut self) -> Corpus {
        let mut out = Files {
            files: Vec::new(),
            index: HashMap::new(),
            budget: self.objects,
        };
        let plain = |obj: Node, tenant_ns: &str| Doc {
            obj,
            tenant_ns: tenant_ns.to_owned(),
            violations: Vec::new(),
            tags: BTreeSet::new(),
        };

        for (team, env) in self.namespaces.clone() {
            let ns = format!("{team}-{env}");
            self.names
                .entry(String::new())
                .or_default()
                .insert(ns.clone());
            out.emit(
                &mut self.rng,
                format!("tenants/{team}/{env}/namespace.yaml"),
                plain(Self::namespace(&team, &env), &ns),
            );
        }

        let mut cluster_roles = 0usize;
        let mut next_component: HashMap<String, usize> = HashMap::new();
        while out.budget > 0 {
            let (team, env) = self.namespaces[self.rng.below(self.namespaces.len())].clone();
            let ns = format!("{team}-{env}");
            let base = format!("tenants/{team}/{env}");
            let r = self.rng.unit();
            if r < 0.07 {
                for o in self.network_policies(&ns) {
                    out.emit(
                        &mut self.rng,
                        format!("{base}/network-policies.yaml"),
                        plain(o, &ns),
                    );
                }
                continue;
            }
            if r < 0.13 {
                let path = if self.rng.chance(0.7) {
                    format!("{base}/rbac.yaml")
                } else {
                    format!("{base}/namespace.yaml")
                };
                for o in self.role_bindings(&team, &ns) {
                    out.emit(&mut self.rng, path.clone(), plain(o, &ns));
                }
                continue;
            }
            if r < 0.16 {
                cluster_roles += 1;
                let o = self.cluster_role();
                out.emit(
                    &mut self.rng,
                    format!(
                        "platform/rbac/clusterroles-{}.yaml",
                        (cluster_roles - 1) / 8 + 1
                    ),
                    plain(o, ""),
                );
                continue;
            }
            // An application bundle.
            let kind = self.rng.weighted(&[
                (Kind::Deployment, 52),
                (Kind::StatefulSet, 10),
                (Kind::DaemonSet, 6),
                (Kind::Job, 9),
                (Kind::CronJob, 14),
                (Kind::Pod, 9),
            ]);
            let comp = if kind.long_running() {
                let start = self.rng.below(COMPONENTS.len());
                let i = next_component.entry(ns.clone()).or_insert(start);
                let c = COMPONENTS[*i % COMPONENTS.len()];
                *i += 1;
                c
            } else {
                self.rng.pick(&JOB_NAMES)
            };
            let cm_name = self
                .rng
                .chance(0.55)
                .then(|| self.unique_name(&ns, &format!("{comp}-config")));
            let mut w = self.workload(kind, &team, &env, comp, cm_name.as_deref());
            self.maybe_violate(&mut w);
            let mut bundle: Vec<(&str, Doc)> = Vec::new();
            if let Some(cm) = &cm_name {
                let o = self.config_map(&ns, cm, &team);
                bundle.push(("configmap", plain(o, &ns)));
            }
            let port = match w.spec.get("containers") {
                Some(Node::Seq(cs)) => cs
                    .first()
                    .and_then(|c| c.get("ports"))
                    .and_then(|p| match p {
                        Node::Seq(v) => v.first(),
                        _ => None,
                    })
                    .and_then(|p| match p.get("containerPort") {
                        Some(Node::Int(i)) => Some(*i),
                        _ => None,
                    }),
                _ => None,
            };
            let mut extra = Vec::new();
            if matches!(kind, Kind::Deployment | Kind::StatefulSet)
                && let Some(port) = port
            {
                extra.push(("service", plain(Self::service(&w, port), &ns)));
                if kind == Kind::Deployment && self.rng.chance(0.35) {
                    extra.push(("ingress", plain(Self::ingress(&w, &team, &env), &ns)));
                }
                if self.rng.chance(0.4) {
                    let o = self.hpa(&w);
                    extra.push(("hpa", plain(o, &ns)));
                }
            }
            let name = w.name.clone();
            let (obj, violations, tags) = w.finish();
            bundle.push((
                kind_part(kind),
                Doc {
                    obj,
                    tenant_ns: ns.clone(),
                    violations,
                    tags,
                },
            ));
            bundle.extend(extra);
            let layout = self.rng.unit();
            for (part, doc) in bundle {
                let path = if !kind.long_running() && layout < 0.5 {
                    format!("{base}/jobs/{name}.yaml")
                } else if layout < 0.55 {
                    format!("{base}/{name}.yaml")
                } else {
                    format!("{base}/{name}/{part}.yaml")
                };
                out.emit(&mut self.rng, path, doc);
            }
        }
        let mut files = out.files;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut corpus = Corpus {
            objects: self.objects,
            seed: self.seed,
            violation_rate: self.rate,
            files: Vec::with_capacity(files.len()),
            expected: Vec::new(),
            rows: Vec::new(),
        };
        for fb in files {
            render_file(fb, &mut corpus);
        }
        corpus
    }
}

fn kind_part(kind: Kind) -> &'static str {
    match kind {
        Kind::Deployment => "deployment",
        Kind::StatefulSet => "statefulset",
        Kind::DaemonSet => "daemonset",
        Kind::Job => "job",
        Kind::CronJob => "cronjob",
        Kind::Pod => "pod",
    }
}

/// Renders one file and records its objects and ground truth.
fn render_file(fb: FileBuf, corpus: &mut Corpus) {
    let mut rng = Rng::new(fb.seed);
    let n = fb.docs.len();
    // Sometimes an empty document (a comment only) between two others: it
    // still takes a position in the stream.
    let empty_at = (n > 1 && rng.chance(0.06)).then(|| 1 + rng.below(n - 1));
    let mut parts: Vec<String> = Vec::new();
    let mut stream_index = 0usize;
    for (i, doc) in fb.docs.into_iter().enumerate() {
        if empty_at == Some(i) {
            parts.push("# (this document intentionally left empty)\n".into());
            stream_index += 1;
        }
        let kind = doc
            .obj
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let meta = doc.obj.get("metadata");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let namespace = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let mut header = String::new();
        if rng.chance(0.2) {
            let owner = match fb.path.strip_prefix("tenants/") {
                Some(rest) => rest.split('/').next().unwrap_or("platform"),
                None => "platform",
            };
            header = format!("# {kind} {name} - owned by {owner}\n");
        }
        let mut tags = doc.tags.clone();
        let body = if fb.style == "json" {
            tags.insert("json-doc");
            // Only the quoted-string tag survives into JSON.
            let mut probe = Emitter {
                indent_seq: false,
                tags: BTreeSet::new(),
            };
            probe.flow("", &doc.obj, true);
            if probe.tags.contains("bool-quoted") {
                tags.insert("bool-quoted");
            }
            let text = serde_json::to_string_pretty(&doc.obj.to_json()).unwrap_or_default();
            format!("{text}\n")
        } else {
            let mut work = doc.obj.clone();
            if fb.style == "anchors" {
                tags.extend(apply_anchors(&mut work));
            } else if fb.style == "flow" && apply_flow(&mut work, &mut rng, fb.json_keys) {
                tags.insert("flow");
            }
            let mut em = Emitter {
                indent_seq: fb.indent_seq,
                tags: BTreeSet::new(),
            };
            let mut lines = Vec::new();
            if let Node::Map(m) = &work {
                em.mapping(m, 0, &mut lines);
            }
            tags.extend(em.tags);
            lines.join("\n") + "\n"
        };
        parts.push(header + &body);
        for v in &doc.violations {
            corpus.expected.push(Expected {
                file: fb.path.clone(),
                doc_index: stream_index,
                kind: kind.clone(),
                name: name.clone(),
                violation: v,
            });
        }
        corpus.rows.push(ObjectRow {
            file: fb.path.clone(),
            doc_index: stream_index,
            kind,
            name,
            namespace,
            tenant_namespace: doc.tenant_ns,
            style: fb.style,
            tags: tags.into_iter().collect(),
            violations: doc.violations,
        });
        stream_index += 1;
    }
    let mut text = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 || fb.leading_marker {
            text.push_str("---\n");
        }
        text.push_str(p);
    }
    if fb.trailing_marker {
        text.push_str("---\n");
    }
    corpus.files.push(SourceFile::new(fb.path, text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate(400, 7, 0.3);
        let b = generate(400, 7, 0.3);
        assert_eq!(a.files, b.files);
        assert_eq!(a.expected, b.expected);
        let c = generate(400, 8, 0.3);
        assert_ne!(a.files, c.files);
    }

    #[test]
    fn exactly_the_requested_objects_and_every_style() {
        let c = generate(1000, 3, 0.3);
        assert_eq!(c.rows.len(), 1000);
        let tags: BTreeSet<&str> = c.rows.iter().flat_map(|r| r.tags.iter().copied()).collect();
        for t in [
            "anchors",
            "merge-key",
            "flow",
            "json-doc",
            "bool-quoted",
            "bool-yaml11",
            "site-pod",
            "site-main",
        ] {
            assert!(tags.contains(t), "no object tagged {t}: {tags:?}");
        }
        let kinds: BTreeSet<&str> = c.rows.iter().map(|r| r.kind.as_str()).collect();
        for k in [
            "CronJob",
            "Job",
            "RoleBinding",
            "NetworkPolicy",
            "ClusterRole",
            "Namespace",
        ] {
            assert!(kinds.contains(k), "no {k}");
        }
        // Merge keys are real merge keys (a quoted `"<<"` is a plain key).
        assert!(c.files.iter().any(|f| f.text.contains("<<: *")));
        assert!(c.files.iter().all(|f| !f.text.contains("\"<<\"")));
        // Violations only on workloads, and none at rate 0.
        assert!(!c.expected.is_empty());
        assert!(generate(500, 3, 0.0).expected.is_empty());
    }

    #[test]
    fn quoting_keeps_strings_strings() {
        for v in [
            "",
            "yes",
            "No",
            "ON",
            "~",
            "null",
            "0777",
            "1.5",
            "25%",
            "@hourly",
            "*/15 * * * *",
            "-x",
            ".inf",
            "a: b",
            "a #b",
            "x:",
        ] {
            assert!(needs_quote(v, false), "{v:?} must be quoted");
        }
        for v in [
            "api",
            "registry.internal:5000/a/b:1.2.3",
            "/bin/sh",
            "eu-west-1",
        ] {
            assert!(!needs_quote(v, false), "{v:?} reads as itself unquoted");
        }
        assert!(needs_quote("registry.internal:5000/a", true));
    }

    #[test]
    fn scratch_dir_is_removed_on_drop() {
        let d = ScratchDir::new("gitops-guard-test").unwrap();
        let p = d.path().to_path_buf();
        std::fs::write(p.join("x.yaml"), "a: 1\n").unwrap();
        assert!(p.is_dir());
        drop(d);
        assert!(!p.exists());
    }
}
