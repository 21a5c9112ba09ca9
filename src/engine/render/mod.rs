//! A native kustomize renderer: what `kustomize build DIR` (kustomize
//! v5.8, as embedded in kubectl 1.37) outputs, computed from the
//! repository's files as data — no I/O, no processes.
//!
//! The build follows kustomize's `KustTarget` step by step: `resources`
//! (files, and directories built as their own kustomizations first),
//! generators, `components` (applied to what has been accumulated), then
//! the builtin transformers in kustomize's fixed order (strategic-merge
//! patches, `patches`, namespace, prefix, suffix, labels, annotations,
//! JSON 6902 patches, replicas, images); at the top only: hash suffixes,
//! name references, and the output order. Semantics, field specs and
//! error conditions are read from kustomize's source (see each module).
//!
//! **Provenance.** Every node of a rendered object carries a
//! [`Span`](crate::engine::yaml::Span) whose `file` indexes
//! [`Rendered::files`]: values from a base point at the base's line, a
//! value a patch set points at the patch's line (inline patches: the line
//! inside `kustomization.yaml`), a namespace, label, image or replica
//! count set by a transformer points at that entry of the kustomization.
//! We chose a file index in `Span` over a side table because findings are
//! built from nodes: a side table keyed by node would need node identity,
//! and a path-keyed one would be lost by every patch that moves values.
//! The loader only writes a constant 0 there, so its hot path is
//! unchanged; `Span` grows from 8 to 12 bytes.
//!
//! **Fail closed.** What cannot be rendered offline (remote resources,
//! `helmCharts`, generator/transformer/validator plugins) and the
//! kustomize features not implemented here (`replacements`, `vars`,
//! custom `configurations`, `crds`, `openapi`, `buildMetadata`) are
//! [`RenderErrorKind::Unrenderable`] errors naming the reference: the
//! caller reports them, it never judges a partial render.
//!
//! **Bounds.** [`Limits`] caps kustomization nesting, resources, files
//! read and output nodes; `resources` cycles are errors.

pub mod controllers;
mod fieldspec;
pub mod flux;
mod generate;
mod kustomization;
mod patch;
mod resource;
mod transform;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::yaml::{self, Node, Span, Value};

pub use kustomization::KUSTOMIZATION_FILE_NAMES;
pub use resource::{Gvk, ResId};

use kustomization::{Kustomization, PatchEntry};
use resource::Resource;

/// Bounds on one render.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of kustomizations (resources and components).
    pub max_depth: usize,
    /// Most resources in the build.
    pub max_resources: usize,
    /// Most distinct files read.
    pub max_files: usize,
    /// Most YAML nodes in the output.
    pub max_output_nodes: usize,
    /// Limits of the YAML loader for each file.
    pub yaml: yaml::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_resources: 10_000,
            max_files: 10_000,
            max_output_nodes: 4_000_000,
            yaml: yaml::Limits::default(),
        }
    }
}

/// What kind of problem stopped a render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderErrorKind {
    /// Needs something we cannot or do not render offline (the caller
    /// reports `unrendered-template`): `reference` names it.
    Unrenderable {
        /// The URL, plugin or field.
        reference: String,
    },
    /// A YAML file that does not load.
    Yaml,
    /// A kustomization that kustomize would reject.
    Invalid,
    /// A file or directory that is not in the repository.
    NotFound,
    /// A file outside the kustomization's root (kustomize's
    /// `LoadRestrictionsRootOnly`).
    OutsideRoot,
    /// A cycle of kustomizations.
    Cycle,
    /// Over a [`Limits`] bound.
    Limit,
}

/// Why a directory could not be rendered, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RenderError {
    /// What kind of problem.
    pub kind: RenderErrorKind,
    /// Repository-relative file the problem is in.
    pub file: String,
    /// 1-based line (1 when not tied to a line).
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// The output of a render.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The file table: `Span::file` of every node indexes it.
    pub files: Vec<String>,
    /// The objects, in kustomize's output order.
    pub objects: Vec<Node>,
}

impl Rendered {
    /// The file a node's span points into.
    pub fn file_of(&self, span: Span) -> &str {
        self.files
            .get(span.file as usize)
            .map_or("", String::as_str)
    }
}

/// The repository's files as the renderer sees them: repository-relative,
/// `/`-separated paths. A map of path to content is the plain case (tests,
/// the App's fetched blobs); the CLI reads lazily from disk so a build reads
/// only the files it references, as kustomize does. Reading is the caller's
/// business: an implementation that cannot read a file it has must say so
/// itself (fail closed) — to the renderer the file is then absent.
pub trait Files {
    /// The content of the file at `path`, if there is a regular file there.
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>>;
    /// True when `path` is a file.
    fn is_file(&self, path: &str) -> bool {
        self.read(path).is_some()
    }
    /// True when `dir` is a directory holding at least one file.
    fn is_dir(&self, dir: &str) -> bool;
}

impl Files for BTreeMap<String, Vec<u8>> {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.get(path).map(|v| Cow::Borrowed(v.as_slice()))
    }

    fn is_file(&self, path: &str) -> bool {
        self.contains_key(path)
    }

    fn is_dir(&self, dir: &str) -> bool {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

/// Renders the kustomization in directory `root` (repository-relative, `""`
/// for the top) from `files` (repository-relative path to content).
pub fn render(files: &dyn Files, root: &str, limits: &Limits) -> Result<Rendered, RenderError> {
    let root = normalize(root).ok_or_else(|| RenderError {
        kind: RenderErrorKind::OutsideRoot,
        file: root.to_owned(),
        line: 1,
        message: "path leaves the repository".into(),
    })?;
    let mut b = Builder {
        files,
        limits,
        table: Vec::new(),
        ids: BTreeMap::new(),
        stack: Vec::new(),
    };
    let (k, mut res) = b.build(&root, Span::default(), false)?;
    // the top-level only steps (makeCustomizedResMap)
    let kfile = b.table[k.file as usize].clone();
    let err = |line: u32, message: String| RenderError {
        kind: RenderErrorKind::Invalid,
        file: kfile.clone(),
        line,
        message,
    };
    for r in res.iter_mut() {
        if r.needs_hash {
            let h = generate::hash(&r.node);
            r.store_previous_id();
            let name = format!("{}-{h}", r.name());
            let span = r
                .node
                .path(&["metadata", "name"])
                .map(|n| n.span)
                .unwrap_or_default();
            if let Some(meta) = resource::get_mut(&mut r.node, "metadata") {
                resource::set_field(meta, "name", resource::str_node(&name, span), span);
            }
            r.needs_hash = false;
        }
    }
    transform::fix_name_references(&mut res).map_err(|m| err(1, m))?;
    match &k.sort {
        Some(kustomization::Sort::Fifo) => {}
        Some(kustomization::Sort::Legacy(first, last)) => {
            transform::legacy_sort(&mut res, first, last)
        }
        None => {
            let first: Vec<String> = transform::DEFAULT_ORDER_FIRST
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            let last: Vec<String> = transform::DEFAULT_ORDER_LAST
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            transform::legacy_sort(&mut res, &first, &last);
        }
    }
    let nodes: usize = res.iter().map(|r| r.node.count()).sum();
    if nodes > limits.max_output_nodes {
        return Err(RenderError {
            kind: RenderErrorKind::Limit,
            file: kfile,
            line: 1,
            message: format!(
                "output has {nodes} nodes, over the limit of {}",
                limits.max_output_nodes
            ),
        });
    }
    Ok(Rendered {
        files: b.table,
        objects: res.into_iter().map(|r| r.node).collect(),
    })
}

/// Normalises a repository-relative path (`.`/`..`); `None` when it
/// leaves the repository.
fn normalize(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
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

fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    if dir.is_empty() {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// Remote references kustomize would fetch: URLs, `github.com/...`
/// shorthand, scp-like git addresses.
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
}

/// The repository path of a `resources`/`components` entry of the
/// kustomization in `dir`: a remote reference cannot be rendered offline
/// (fail closed, naming it), and a path may not leave the repository.
fn local_entry(
    dir: &str,
    entry: &str,
    span: Span,
    what: &str,
    at: &At<'_>,
) -> Result<String, RenderError> {
    if is_remote(entry) {
        return Err(at.err(
            RenderErrorKind::Unrenderable {
                reference: entry.to_owned(),
            },
            span.line,
            format!("remote {what} `{entry}` cannot be rendered offline"),
        ));
    }
    join(dir, entry).ok_or_else(|| {
        at.err(
            RenderErrorKind::OutsideRoot,
            span.line,
            format!("`{entry}` is outside the repository"),
        )
    })
}

struct Builder<'a> {
    files: &'a dyn Files,
    limits: &'a Limits,
    table: Vec<String>,
    ids: BTreeMap<String, u32>,
    stack: Vec<String>,
}

/// Error helpers bound to a file.
struct At<'a> {
    file: &'a str,
}

impl At<'_> {
    fn err(&self, kind: RenderErrorKind, line: u32, message: impl Into<String>) -> RenderError {
        RenderError {
            kind,
            file: self.file.to_owned(),
            line: line.max(1),
            message: message.into(),
        }
    }
}

impl Builder<'_> {
    fn file_id(&mut self, path: &str) -> Result<u32, RenderError> {
        if let Some(&id) = self.ids.get(path) {
            return Ok(id);
        }
        if self.table.len() >= self.limits.max_files {
            return Err(RenderError {
                kind: RenderErrorKind::Limit,
                file: path.to_owned(),
                line: 1,
                message: format!("more than {} files in the build", self.limits.max_files),
            });
        }
        let id = self.table.len() as u32;
        self.table.push(path.to_owned());
        self.ids.insert(path.to_owned(), id);
        Ok(id)
    }

    /// Loads a YAML file: its documents, spans pointing at it.
    fn load_yaml(&mut self, path: &str) -> Result<(u32, Vec<Node>), RenderError> {
        let id = self.file_id(path)?;
        let at = At { file: path };
        let bytes = self
            .files
            .read(path)
            .ok_or_else(|| at.err(RenderErrorKind::NotFound, 1, "file not found"))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| at.err(RenderErrorKind::Yaml, 1, "file is not UTF-8"))?;
        let loaded = yaml::load_documents(text, &self.limits.yaml);
        if let Some(e) = loaded.error {
            return Err(at.err(
                RenderErrorKind::Yaml,
                e.line,
                format!("cannot read YAML: {}", e.message),
            ));
        }
        let mut docs = loaded.docs;
        for d in docs.iter_mut() {
            resource::set_file(d, id);
        }
        Ok((id, docs))
    }

    /// Reads a file named by a kustomization in `dir` (root-only: it must
    /// be in `dir` or below).
    fn restricted(
        &self,
        dir: &str,
        rel: &str,
        at: &At<'_>,
        line: u32,
    ) -> Result<String, RenderError> {
        let p = join(dir, rel).ok_or_else(|| {
            at.err(
                RenderErrorKind::OutsideRoot,
                line,
                format!("`{rel}` is outside the repository"),
            )
        })?;
        let inside = dir.is_empty() || p == dir || p.starts_with(&format!("{dir}/"));
        if !inside {
            return Err(at.err(
                RenderErrorKind::OutsideRoot,
                line,
                format!(
                    "security; file '{p}' is not in or below '{}' (kustomize's default load restrictions)",
                    if dir.is_empty() { "." } else { dir }
                ),
            ));
        }
        Ok(p)
    }

    /// Builds one kustomization directory; `into` is the accumulator of
    /// the includer for components.
    fn build(
        &mut self,
        dir: &str,
        from: Span,
        component: bool,
    ) -> Result<(Kustomization, Vec<Resource>), RenderError> {
        let mut res = Vec::new();
        let k = self.accumulate(dir, from, component, &mut res)?;
        Ok((k, res))
    }

    fn find_kustomization(&self, dir: &str) -> Vec<String> {
        KUSTOMIZATION_FILE_NAMES
            .iter()
            .map(|n| {
                if dir.is_empty() {
                    (*n).to_owned()
                } else {
                    format!("{dir}/{n}")
                }
            })
            .filter(|p| self.files.is_file(p))
            .collect()
    }

    fn accumulate(
        &mut self,
        dir: &str,
        from: Span,
        component: bool,
        res: &mut Vec<Resource>,
    ) -> Result<Kustomization, RenderError> {
        let from_file = self
            .table
            .get(from.file as usize)
            .cloned()
            .unwrap_or_else(|| dir.to_owned());
        let from_at = At { file: &from_file };
        if self.stack.len() >= self.limits.max_depth {
            return Err(from_at.err(
                RenderErrorKind::Limit,
                from.line,
                format!(
                    "kustomizations nested deeper than {}",
                    self.limits.max_depth
                ),
            ));
        }
        if self.stack.iter().any(|d| d == dir) {
            let mut chain = self.stack.clone();
            chain.push(dir.to_owned());
            return Err(from_at.err(
                RenderErrorKind::Cycle,
                from.line,
                format!("cycle of kustomizations: {}", chain.join(" -> ")),
            ));
        }
        let found = self.find_kustomization(dir);
        let kpath = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(from_at.err(
                    RenderErrorKind::NotFound,
                    from.line,
                    format!(
                        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                        if dir.is_empty() { "." } else { dir }
                    ),
                ));
            }
            _ => {
                return Err(from_at.err(
                    RenderErrorKind::Invalid,
                    from.line,
                    format!("found multiple kustomization files under: {dir}"),
                ));
            }
        };
        let (fid, docs) = self.load_yaml(&kpath)?;
        let at = At { file: &kpath };
        let k = Kustomization::parse(fid, dir, docs, &|line, kind, m| at.err(kind, line, m))?;
        if component && !k.is_component {
            return Err(from_at.err(
                RenderErrorKind::Invalid,
                from.line,
                format!("expected kind 'Component' for path '{dir}' but got 'Kustomization'"),
            ));
        }
        if !component && k.is_component {
            return Err(from_at.err(
                RenderErrorKind::Invalid,
                from.line,
                format!("expected kind != 'Component' for path '{dir}'"),
            ));
        }
        self.stack.push(dir.to_owned());
        // resources
        for (entry, span) in &k.resources {
            let p = local_entry(dir, entry, *span, "resource", &at)?;
            if self.files.is_file(&p) {
                let p = self.restricted(dir, entry, &at, span.line)?;
                let (_, docs) = self.load_yaml(&p)?;
                let fat = At { file: &p };
                for d in docs {
                    for obj in expand_list(d) {
                        let r = checked_resource(obj, &fat)?;
                        append(res, r, &fat, self.limits)?;
                    }
                }
            } else if self.files.is_dir(&p) {
                let (_, sub) = self.build(&p, *span, false)?;
                for r in sub {
                    let id_at = At { file: &kpath };
                    append(res, r, &id_at, self.limits)?;
                }
            } else {
                return Err(at.err(
                    RenderErrorKind::NotFound,
                    span.line,
                    format!("accumulating resources: '{p}' must be a file or a directory with a kustomization"),
                ));
            }
        }
        // generators
        for g in &k.generators {
            let mut load = |rel: &str| -> Result<Vec<u8>, String> {
                let p = match join(dir, rel) {
                    Some(p) if dir.is_empty() || p.starts_with(&format!("{dir}/")) => p,
                    _ => {
                        return Err(format!(
                            "security; file '{rel}' is not in or below '{}'",
                            if dir.is_empty() { "." } else { dir }
                        ));
                    }
                };
                let data = self
                    .files
                    .read(&p)
                    .map(Cow::into_owned)
                    .ok_or_else(|| format!("file '{p}' not found"))?;
                if !self.ids.contains_key(&p) {
                    let id = self.table.len() as u32;
                    self.table.push(p.clone());
                    self.ids.insert(p, id);
                }
                Ok(data)
            };
            let r = generate::generate(g, &mut load)
                .map_err(|m| at.err(RenderErrorKind::Invalid, g.span.line, m))?;
            absorb(res, r, g.behavior)
                .map_err(|m| at.err(RenderErrorKind::Invalid, g.span.line, m))?;
        }
        // components
        for (entry, span) in &k.components {
            let p = local_entry(dir, entry, *span, "component", &at)?;
            if !self.files.is_dir(&p) {
                return Err(at.err(
                    RenderErrorKind::NotFound,
                    span.line,
                    format!("component '{p}' must be a directory with a kustomization"),
                ));
            }
            self.accumulate(&p, *span, true, res)?;
        }
        self.transform(&k, dir, &at, res)?;
        self.stack.pop();
        Ok(k)
    }

    /// Reads a patch's documents: inline text (spans mapped onto the
    /// kustomization's lines) or a file.
    fn patch_docs(
        &mut self,
        k: &Kustomization,
        dir: &str,
        p: &PatchEntry,
        at: &At<'_>,
    ) -> Result<Vec<Node>, RenderError> {
        if let Some(path) = &p.path {
            let f = self.restricted(dir, path, at, p.span.line)?;
            if !self.files.is_file(&f) {
                return Err(at.err(
                    RenderErrorKind::NotFound,
                    p.span.line,
                    format!("failed to get the patch file from path({path}): not found"),
                ));
            }
            return Ok(self.load_yaml(&f)?.1);
        }
        let text = p.inline.as_deref().unwrap_or("");
        let loaded = yaml::load_documents(text, &self.limits.yaml);
        if let Some(e) = loaded.error {
            return Err(at.err(
                RenderErrorKind::Yaml,
                p.inline_line + e.line,
                format!("cannot read inline patch: {}", e.message),
            ));
        }
        let mut docs: Vec<Node> = loaded.docs.into_iter().filter(|d| !d.is_null()).collect();
        for d in docs.iter_mut() {
            shift_lines(d, k.file, p.inline_line);
        }
        Ok(docs)
    }

    fn transform(
        &mut self,
        k: &Kustomization,
        dir: &str,
        at: &At<'_>,
        res: &mut Vec<Resource>,
    ) -> Result<(), RenderError> {
        let inv = |line: u32, m: String| at.err(RenderErrorKind::Invalid, line, m);
        // patchesStrategicMerge
        for p in &k.patches_sm {
            let docs = self.patch_docs(k, dir, p, at)?;
            for d in docs {
                apply_smp_by_id(res, &d).map_err(|m| inv(p.span.line, m))?;
            }
        }
        // patches
        for p in &k.patches {
            let docs = self.patch_docs(k, dir, p, at)?;
            if patch::is_json_patch(&docs) {
                let sel = p.target.as_ref().ok_or_else(|| {
                    inv(p.span.line, "must specify a target for JSON patch".into())
                })?;
                let idx = sel.select(res).map_err(|m| inv(p.span.line, m))?;
                for i in idx {
                    res[i].store_previous_id();
                    patch::json_patch(&mut res[i].node, &docs[0])
                        .map_err(|m| inv(p.span.line, m))?;
                }
            } else if let Some(sel) = &p.target {
                if docs.len() > 1 {
                    return Err(inv(
                        p.span.line,
                        "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field".into(),
                    ));
                }
                let Some(d) = docs.first() else { continue };
                let idx = sel.select(res).map_err(|m| inv(p.span.line, m))?;
                let mut keep = vec![true; res.len()];
                for i in idx {
                    let mut pc = d.clone();
                    // the patch takes the target's type (ApplySmPatch)
                    let av = res[i].gvk().api_version();
                    let span = pc.span;
                    resource::set_field(&mut pc, "apiVersion", resource::str_node(&av, span), span);
                    if !apply_smp(&mut res[i], &pc, p.allow_name_change, p.allow_kind_change)
                        .map_err(|m| inv(p.span.line, m))?
                    {
                        keep[i] = false;
                    }
                }
                let mut it = keep.iter();
                res.retain(|_| *it.next().expect("same length"));
            } else {
                for d in docs {
                    apply_smp_by_id(res, &d).map_err(|m| inv(p.span.line, m))?;
                }
            }
        }
        if let Some(ns) = &k.namespace {
            transform::namespace(res, ns).map_err(|m| inv(ns.1.line, m))?;
        }
        if let Some(p) = &k.name_prefix {
            transform::rename(res, p, true);
        }
        if let Some(s) = &k.name_suffix {
            transform::rename(res, s, false);
        }
        for l in &k.labels {
            let mut specs: Vec<fieldspec::FieldSpec> = l.fields.clone();
            if l.include_selectors {
                specs.extend(fieldspec::COMMON_LABELS.iter().cloned());
            } else {
                if l.include_templates {
                    specs.extend(fieldspec::TEMPLATE_LABELS.iter().cloned());
                }
                if l.include_volume_claim_templates {
                    specs.extend(fieldspec::VOLUME_CLAIM_TEMPLATE_LABELS.iter().cloned());
                }
                specs.push(fieldspec::METADATA_LABELS);
            }
            dedup_specs(&mut specs);
            transform::set_entries(res, &l.pairs, &specs).map_err(|m| inv(l.span.line, m))?;
        }
        if !k.common_labels.is_empty() {
            transform::set_entries(res, &k.common_labels, fieldspec::COMMON_LABELS)
                .map_err(|m| inv(1, m))?;
        }
        if !k.common_annotations.is_empty() {
            transform::set_entries(res, &k.common_annotations, fieldspec::COMMON_ANNOTATIONS)
                .map_err(|m| inv(1, m))?;
        }
        for p in &k.patches_json {
            let docs = self.patch_docs(k, dir, p, at)?;
            let sel = p
                .target
                .as_ref()
                .ok_or_else(|| inv(p.span.line, "patchesJson6902 needs a target".into()))?;
            let ops = docs
                .first()
                .ok_or_else(|| inv(p.span.line, "empty json patch operations".into()))?;
            let idx = sel.select(res).map_err(|m| inv(p.span.line, m))?;
            for i in idx {
                patch::json_patch(&mut res[i].node, ops).map_err(|m| inv(p.span.line, m))?;
            }
        }
        for r in &k.replicas {
            transform::replicas(res, r).map_err(|m| inv(r.span.line, m))?;
        }
        for img in &k.images {
            transform::images(res, img).map_err(|m| inv(img.span.line, m))?;
        }
        Ok(())
    }
}

/// kustomize's `FsSlice.MergeAll`: one spec per path and type.
fn dedup_specs(specs: &mut Vec<fieldspec::FieldSpec>) {
    let mut seen = BTreeSet::new();
    specs.retain(|s| {
        seen.insert((
            s.group.to_string(),
            s.version.to_string(),
            s.kind.to_string(),
            s.path.to_string(),
        ))
    });
}

/// Moves a parsed inline patch onto the kustomization file's lines.
fn shift_lines(n: &mut Node, file: u32, base: u32) {
    let mut stack: Vec<&mut Node> = vec![n];
    while let Some(n) = stack.pop() {
        n.span.file = file;
        n.span.line += base;
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key_span.file = file;
                    e.key_span.line += base;
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// A `kind: List` document stands for its items.
fn expand_list(d: Node) -> Vec<Node> {
    if d.is_null() {
        return Vec::new();
    }
    let is_list = d.get("kind").and_then(Node::as_str) == Some("List") && d.get("items").is_some();
    if !is_list {
        return vec![d];
    }
    let mut d = d;
    match resource::get_mut(&mut d, "items").map(|i| std::mem::replace(&mut i.value, Value::Null)) {
        Some(Value::Seq(items)) => items,
        _ => Vec::new(),
    }
}

fn checked_resource(obj: Node, at: &At<'_>) -> Result<Resource, RenderError> {
    let line = obj.span.line;
    if obj.as_map().is_none() {
        return Err(at.err(
            RenderErrorKind::Invalid,
            line,
            format!("a resource must be a mapping, not a {}", obj.type_name()),
        ));
    }
    if obj
        .get("kind")
        .and_then(Node::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(at.err(
            RenderErrorKind::Invalid,
            line,
            "missing Resource metadata: no `kind`",
        ));
    }
    if obj
        .path(&["metadata", "name"])
        .and_then(Node::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(at.err(
            RenderErrorKind::Invalid,
            line,
            "missing metadata.name in object",
        ));
    }
    Ok(Resource::new(obj))
}

fn append(
    res: &mut Vec<Resource>,
    r: Resource,
    at: &At<'_>,
    limits: &Limits,
) -> Result<(), RenderError> {
    let id = r.cur_id();
    if res.iter().any(|x| x.cur_id().equals(&id)) {
        return Err(at.err(
            RenderErrorKind::Invalid,
            r.node.span.line,
            format!("may not add resource with an already registered id: {id}"),
        ));
    }
    if res.len() >= limits.max_resources {
        return Err(at.err(
            RenderErrorKind::Limit,
            r.node.span.line,
            format!("more than {} resources in the build", limits.max_resources),
        ));
    }
    res.push(r);
    Ok(())
}

/// Adds a generated object (kustomize's `AbsorbAll` with its behaviour).
fn absorb(
    res: &mut Vec<Resource>,
    r: Resource,
    behavior: resource::Behavior,
) -> Result<(), String> {
    use resource::Behavior as B;
    let id = r.cur_id();
    let existing = res.iter().position(|x| x.any_id(|i| i.equals(&id)));
    match (behavior, existing) {
        (B::Create, None) => {
            res.push(r);
            Ok(())
        }
        (B::Create, Some(_)) => Err(format!(
            "may not add resource with an already registered id: {id}"
        )),
        (_, None) => Err(format!("id {id} does not exist; cannot merge or replace")),
        (b, Some(i)) => {
            let old = &mut res[i];
            for key in ["labels", "annotations"] {
                if let Some(Value::Map(entries)) =
                    r.node.path(&["metadata", key]).map(|n| n.value.clone())
                {
                    let span = r.node.span;
                    let meta = resource::ensure_map(&mut old.node, "metadata", span);
                    let m = resource::ensure_map(meta, key, span);
                    for e in entries {
                        resource::set_field(m, &e.key, e.value, e.key_span);
                    }
                }
            }
            for key in ["data", "binaryData"] {
                let new = r.node.get(key).cloned();
                if b == B::Replace {
                    resource::remove_field(&mut old.node, key);
                    if let Some(n) = new {
                        let span = n.span;
                        resource::set_field(&mut old.node, key, n, span);
                    }
                } else if let Some(mut n) = new
                    && let Value::Map(entries) = std::mem::replace(&mut n.value, Value::Null)
                {
                    let m = resource::ensure_map(&mut old.node, key, n.span);
                    for e in entries {
                        resource::set_field(m, &e.key, e.value, e.key_span);
                    }
                }
            }
            old.needs_hash = old.needs_hash || r.needs_hash;
            Ok(())
        }
    }
}

/// Applies a strategic-merge patch to the resource it names.
fn apply_smp_by_id(res: &mut Vec<Resource>, patch: &Node) -> Result<(), String> {
    let pr = Resource::new(patch.clone());
    let id = pr.cur_id();
    let matches: Vec<usize> = (0..res.len())
        .filter(|&i| res[i].any_id(|x| x.equals(&id)))
        .collect();
    let i = match matches.as_slice() {
        [i] => *i,
        [] => {
            return Err(format!(
                "no resource matches strategic merge patch \"{id}\""
            ));
        }
        _ => {
            return Err(format!(
                "multiple resources match strategic merge patch \"{id}\""
            ));
        }
    };
    if !apply_smp(&mut res[i], patch, false, false)? {
        res.remove(i);
    }
    Ok(())
}

/// kustomize's `Resource.ApplySmPatch`; false when the patch deleted it.
fn apply_smp(
    r: &mut Resource,
    patch: &Node,
    allow_name: bool,
    allow_kind: bool,
) -> Result<bool, String> {
    let (name, ns, kind) = (r.name().to_owned(), r.namespace().to_owned(), r.gvk().kind);
    let name_node = r.node.path(&["metadata", "name"]).cloned();
    let ns_node = r.node.path(&["metadata", "namespace"]).cloned();
    let kind_node = r.node.get("kind").cloned();
    if allow_name || allow_kind {
        r.store_previous_id();
    }
    let dest = std::mem::replace(&mut r.node, Node::new(Value::Null, Span::default()));
    let Some(merged) = patch::strategic_merge(dest, patch)? else {
        return Ok(false);
    };
    r.node = merged;
    if r.node.as_map().is_none_or(<[_]>::is_empty) {
        return Ok(false);
    }
    let span = r.node.span;
    if !allow_kind {
        let k = kind_node.unwrap_or_else(|| resource::str_node(&kind, span));
        let ks = k.span;
        resource::set_field(&mut r.node, "kind", k, ks);
    }
    let meta = resource::ensure_map(&mut r.node, "metadata", span);
    if !allow_name {
        let n = name_node.unwrap_or_else(|| resource::str_node(&name, span));
        let s = n.span;
        resource::set_field(meta, "name", n, s);
    }
    match ns_node {
        Some(n) => {
            let s = n.span;
            resource::set_field(meta, "namespace", n, s);
        }
        None if ns.is_empty() => {
            resource::remove_field(meta, "namespace");
        }
        None => {}
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
