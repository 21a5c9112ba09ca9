//! Deployed roots as the GitOps controllers see them: an Argo CD
//! `Application` (and each element of an `ApplicationSet` list generator)
//! or a Flux `Kustomization` whose source is this repository makes its path
//! a root, and renders it with the controller's own overrides.
//!
//! **Argo CD** (`reposerver/repository`, `util/kustomize/kustomize.go`): a
//! path with a kustomization is built after `kustomize edit set nameprefix
//! / namesuffix / image / replicas`, `edit add label / annotation`, `edit
//! set namespace`, the `patches` appended to the file and `edit add
//! component` — we make the same edits to the kustomization's tree and
//! render the edited file with the native renderer; a path without one is
//! a plain directory (`directory.recurse/include/exclude`, Argo's globs).
//! Namespaced objects without a namespace get `destination.namespace`.
//!
//! **Flux** (`fluxcd/pkg/kustomize/kustomize_generator.go`,
//! kustomize-controller's `build`/`apply`): the kustomization at `spec.path`
//! (or the one Flux generates from the YAML files there) gets
//! `targetNamespace`, `namePrefix`, `nameSuffix`, `patches`, `images` and
//! `components`; after the build every object gets `postBuild`
//! substitution ([`super::flux`]) and `commonMetadata`.
//!
//! **Provenance.** The edited kustomization is printed with a line map:
//! each line remembers the line it came from — the original
//! kustomization's, or the Application's / Kustomization's for an override
//! — so after the render every span is moved back onto a real file and
//! line (`Rendered::files` gains the controller's file).
//!
//! **Fail closed.** Helm, plugins, jsonnet, other ApplicationSet
//! generators, parameter-override files and any override field not
//! implemented here are [`RenderErrorKind::Unrenderable`] naming it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::engine::glob::argo_glob_match;
use crate::engine::ids::RepoName;
use crate::engine::yaml::{self, Entry, Node, Span, Value};

use super::flux::{self, StyleOf, SubstError, VarValue};
use super::resource::{Gvk, set_field, set_file, str_node};
use super::{Files, KUSTOMIZATION_FILE_NAMES, Limits, RenderError, RenderErrorKind, Rendered};

/// The repository's files with directory listing, which directory
/// sources and Flux's generated kustomization need.
pub trait Tree: Files {
    /// Every regular file under `dir` (repository-relative, any depth; `""`
    /// is the top), in any order.
    fn files_under(&self, dir: &str) -> Vec<String>;
}

impl Tree for BTreeMap<String, Vec<u8>> {
    fn files_under(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Which controller object defines a root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControllerKind {
    /// An Argo CD `Application`.
    Application,
    /// An element of an Argo CD `ApplicationSet`.
    ApplicationSet,
    /// A Flux `Kustomization` (kustomize.toolkit.fluxcd.io).
    FluxKustomization,
}

/// A deployed root defined by a controller object.
#[derive(Clone, Debug)]
pub struct ControllerRoot {
    /// The kind of controller object.
    pub kind: ControllerKind,
    /// Repository-relative file of the controller object.
    pub file: String,
    /// Line of the controller object (of the source entry for Argo).
    pub line: u32,
    /// The Application's name (generated for an ApplicationSet element) or
    /// the Kustomization's.
    pub name: String,
    /// The controller object's own `metadata.namespace` (`""` when unset).
    pub namespace: String,
    /// The directory rendered (repository-relative, `""` for the top).
    pub path: String,
    /// The source's `repoURL` / the GitRepository's `url`.
    pub repo_url: String,
    /// Argo: `spec.project` (`default` when unset).
    pub project: Option<String>,
    /// Argo: `spec.destination.namespace`.
    pub destination_namespace: Option<String>,
    /// Argo: `spec.destination.server`.
    pub destination_server: Option<String>,
    /// Argo: `spec.destination.name`.
    pub destination_name: Option<String>,
    /// Flux: `spec.targetNamespace`.
    pub target_namespace: Option<String>,
    /// Argo: index in `spec.sources` (`None` for `spec.source`).
    pub source_index: Option<usize>,
    /// Flux: substitute as kustomize-controller does with
    /// `--feature-gates=StrictPostBuildSubstitutions=true` (an unset
    /// variable without a default fails the build). A controller flag, not
    /// in the repository: `false` (Flux's default) unless the caller knows.
    pub flux_strict: bool,
    detail: Detail,
}

#[derive(Clone, Debug)]
enum Detail {
    /// Known at discovery not to be renderable (or invalid).
    Error(RenderError),
    Argo {
        /// The source entry (spans: the controller file).
        source: Node,
        /// The destination namespace node (for its span).
        dest_ns: Option<Node>,
    },
    Flux {
        /// The Kustomization's `spec` (spans: the controller file).
        spec: Node,
        /// Variables from `substituteFrom`, in order; an error when a
        /// source is not in the repository.
        vars_from: Result<Vec<(String, String, String, u32)>, RenderError>,
        /// GitRepository `spec.ignore` is set.
        source_ignore: bool,
    },
}

impl ControllerRoot {
    /// The error that makes this root unrenderable, known at discovery.
    pub fn error(&self) -> Option<&RenderError> {
        match &self.detail {
            Detail::Error(e) => Some(e),
            _ => None,
        }
    }

    /// A one-line description for messages and the `# root:` comment.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            ControllerKind::Application => "Application",
            ControllerKind::ApplicationSet => "ApplicationSet",
            ControllerKind::FluxKustomization => "Kustomization",
        };
        let src = self
            .source_index
            .map(|i| format!(" sources[{i}]"))
            .unwrap_or_default();
        format!(
            "{what} {} ({}:{}){src} path {}",
            self.name,
            self.file,
            self.line,
            if self.path.is_empty() {
                "."
            } else {
                &self.path
            }
        )
    }
}

// ---------------------------------------------------------------------------
// Repository identity
// ---------------------------------------------------------------------------

/// The `owner/name` a Git URL points at, lower-cased: `https://host/o/n`,
/// `http://`, `ssh://[user@]host[:port]/o/n`, `git://`, scp-like
/// `user@host:o/n`, each with or without `.git` and a trailing slash. The
/// host is not compared: a GitHub App knows its repository's name, not
/// which host alias a manifest uses, and matching more judges more.
pub fn repo_path_of_url(url: &str) -> Option<String> {
    let u = url.trim();
    let rest = if let Some((scheme, rest)) = u.split_once("://") {
        if !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        // drop user info and host
        let (_, path) = rest.split_once('/')?;
        path.to_owned()
    } else if let Some((host, path)) = u.split_once(':') {
        // scp-like: [user@]host:path (no slash before the colon)
        if host.contains('/') || host.is_empty() {
            return None;
        }
        path.to_owned()
    } else {
        return None;
    };
    let mut p = rest
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_matches('/')
        .to_owned();
    if p.to_ascii_lowercase().ends_with(".git") {
        p.truncate(p.len() - 4);
    }
    let p = p.trim_matches('/').to_ascii_lowercase();
    let parts: Vec<&str> = p.split('/').collect();
    if parts.len() < 2 || parts.iter().any(|s| s.is_empty()) {
        return None;
    }
    Some(p)
}

/// True when `url` names `repo`.
pub fn url_is_repo(url: &str, repo: &RepoName) -> bool {
    repo_path_of_url(url).is_some_and(|p| p == repo.as_str().to_ascii_lowercase())
}

/// Whether a source (url, path) is this repository: by name when known,
/// else when the path exists in the tree (judging more is the safe side).
fn is_this_repo(url: &str, path: &str, repo: Option<&RepoName>, files: &dyn Files) -> bool {
    match repo {
        Some(r) => url_is_repo(url, r),
        None => files.is_dir(path),
    }
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

fn api_group(doc: &Node) -> &str {
    doc.get("apiVersion")
        .and_then(Node::as_str)
        .map_or("", |a| a.rsplit_once('/').map_or("", |(g, _)| g))
}

fn kind_of(doc: &Node) -> &str {
    doc.get("kind").and_then(Node::as_str).unwrap_or("")
}

fn str_of<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    n.path(path).and_then(Node::as_str)
}

/// A repository-relative directory from a controller's path (`./apps/x`,
/// `apps/x/`, `/apps`); `None` when it leaves the repository.
fn clean_path(p: &str) -> Option<String> {
    super::normalize(p.trim_start_matches('/'))
}

fn err_at(kind: RenderErrorKind, file: &str, line: u32, message: impl Into<String>) -> RenderError {
    RenderError {
        kind,
        file: file.to_owned(),
        line: line.max(1),
        message: message.into(),
    }
}

fn unrenderable(file: &str, line: u32, reference: &str, message: impl Into<String>) -> RenderError {
    err_at(
        RenderErrorKind::Unrenderable {
            reference: reference.to_owned(),
        },
        file,
        line,
        message,
    )
}

/// The roots the controller objects among `objects` (each with its
/// repository-relative file) define, for repository `repo` (`None` when
/// unknown: then a source whose path exists in `files` counts as this
/// repository). Roots that cannot be rendered are returned too, with
/// [`ControllerRoot::error`] set: the caller reports them.
pub fn controller_roots(
    objects: &[(&str, &Node)],
    repo: Option<&RepoName>,
    files: &dyn Files,
) -> Vec<ControllerRoot> {
    let mut out = Vec::new();
    for &(file, doc) in objects {
        let group = api_group(doc);
        match (group, kind_of(doc)) {
            ("argoproj.io", "Application") => application_roots(
                file,
                doc,
                ControllerKind::Application,
                repo,
                files,
                &mut out,
            ),
            ("argoproj.io", "ApplicationSet") => {
                applicationset_roots(file, doc, repo, files, &mut out)
            }
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                flux_root(file, doc, objects, repo, files, &mut out)
            }
            _ => {}
        }
    }
    out
}

fn application_roots(
    file: &str,
    doc: &Node,
    kind: ControllerKind,
    repo: Option<&RepoName>,
    files: &dyn Files,
    out: &mut Vec<ControllerRoot>,
) {
    let spec = doc.get("spec");
    let name = str_of(doc, &["metadata", "name"]).unwrap_or("").to_owned();
    let namespace = str_of(doc, &["metadata", "namespace"])
        .unwrap_or("")
        .to_owned();
    let project = Some(
        spec.and_then(|s| s.get("project"))
            .and_then(Node::as_str)
            .filter(|p| !p.is_empty())
            .unwrap_or("default")
            .to_owned(),
    );
    let dest = spec.and_then(|s| s.get("destination"));
    let dest_ns = dest.and_then(|d| d.get("namespace")).cloned();
    let dstr = |k: &str| {
        dest.and_then(|d| d.get(k))
            .and_then(Node::as_str)
            .map(str::to_owned)
    };
    let mut sources: Vec<(Option<usize>, &Node)> = Vec::new();
    if let Some(list) = spec.and_then(|s| s.get("sources")).and_then(Node::as_seq)
        && !list.is_empty()
    {
        // Argo CD uses `sources` when it is set and ignores `source`
        sources.extend(list.iter().enumerate().map(|(i, s)| (Some(i), s)));
    } else if let Some(s) = spec.and_then(|s| s.get("source")) {
        sources.push((None, s));
    }
    for (idx, src) in sources {
        let url = str_of(src, &["repoURL"]).unwrap_or("");
        let Some(raw_path) = str_of(src, &["path"]) else {
            // a `ref`-only source (values for another source) or a chart
            continue;
        };
        if src.get("chart").is_some() {
            continue;
        }
        let line = src.span.line;
        let mut root = ControllerRoot {
            kind,
            file: file.to_owned(),
            line,
            name: name.clone(),
            namespace: namespace.clone(),
            path: String::new(),
            repo_url: url.to_owned(),
            project: project.clone(),
            destination_namespace: dest_ns.as_ref().and_then(Node::as_str).map(str::to_owned),
            destination_server: dstr("server"),
            destination_name: dstr("name"),
            target_namespace: None,
            source_index: idx,
            flux_strict: false,
            detail: Detail::Argo {
                source: src.clone(),
                dest_ns: dest_ns.clone(),
            },
        };
        match clean_path(raw_path) {
            Some(p) => {
                if !is_this_repo(url, &p, repo, files) {
                    continue;
                }
                root.path = p;
            }
            None => {
                if repo.is_some_and(|r| !url_is_repo(url, r)) {
                    continue;
                }
                root.detail = Detail::Error(err_at(
                    RenderErrorKind::OutsideRoot,
                    file,
                    src.key_line("path"),
                    format!("source path `{raw_path}` leaves the repository"),
                ));
            }
        }
        out.push(root);
    }
}

fn applicationset_roots(
    file: &str,
    doc: &Node,
    repo: Option<&RepoName>,
    files: &dyn Files,
    out: &mut Vec<ControllerRoot>,
) {
    let name = str_of(doc, &["metadata", "name"]).unwrap_or("").to_owned();
    let namespace = str_of(doc, &["metadata", "namespace"])
        .unwrap_or("")
        .to_owned();
    let fail = |line: u32, reference: &str, message: String| ControllerRoot {
        kind: ControllerKind::ApplicationSet,
        file: file.to_owned(),
        line,
        name: name.clone(),
        namespace: namespace.clone(),
        path: String::new(),
        repo_url: String::new(),
        project: None,
        destination_namespace: None,
        destination_server: None,
        destination_name: None,
        target_namespace: None,
        source_index: None,
        flux_strict: false,
        detail: Detail::Error(unrenderable(file, line, reference, message)),
    };
    let Some(spec) = doc.get("spec") else { return };
    if let Some(tp) = spec.get("templatePatch") {
        out.push(fail(
            tp.span.line,
            "spec.templatePatch",
            "ApplicationSet `templatePatch` is not rendered here".into(),
        ));
        return;
    }
    let go = spec
        .get("goTemplate")
        .and_then(Node::as_bool)
        .unwrap_or(false);
    let missing_error = spec
        .get("goTemplateOptions")
        .and_then(Node::as_seq)
        .is_some_and(|o| o.iter().any(|x| x.as_str() == Some("missingkey=error")));
    let Some(template) = spec.get("template") else {
        return;
    };
    let gens = spec.get("generators").and_then(Node::as_seq).unwrap_or(&[]);
    for g in gens {
        let Some(entries) = g.as_map() else { continue };
        for e in entries {
            match e.key.as_str() {
                "list" => {}
                "selector" | "template" => {
                    out.push(fail(
                        e.key_span.line,
                        &format!("generators.{}", e.key),
                        format!("ApplicationSet generator `{}` is not rendered here", e.key),
                    ));
                }
                other => {
                    out.push(fail(
                        e.key_span.line,
                        &format!("generators.{other}"),
                        format!(
                            "ApplicationSet generator `{other}` cannot be rendered offline: its parameters come from outside the repository"
                        ),
                    ));
                }
            }
        }
        if g.get("selector").is_some() || g.get("template").is_some() {
            continue;
        }
        let Some(list) = g.get("list") else { continue };
        let mut elements: Vec<Node> = list
            .get("elements")
            .and_then(Node::as_seq)
            .map(<[Node]>::to_vec)
            .unwrap_or_default();
        if let Some(y) = list.get("elementsYaml") {
            let text = y.as_str().unwrap_or("");
            let loaded = yaml::load_documents(text, &yaml::Limits::default());
            match (loaded.error, loaded.docs.into_iter().next()) {
                (None, Some(d)) => {
                    let mut d = d;
                    shift(&mut d, y.span.line.saturating_sub(1));
                    elements.extend(d.as_seq().map(<[Node]>::to_vec).unwrap_or_default());
                }
                (None, None) => {}
                (Some(err), _) => {
                    out.push(ControllerRoot {
                        detail: Detail::Error(err_at(
                            RenderErrorKind::Invalid,
                            file,
                            y.span.line,
                            format!("error unmarshling decoded ElementsYaml: {}", err.message),
                        )),
                        ..fail(y.span.line, "", String::new())
                    });
                    continue;
                }
            }
        }
        for el in &elements {
            match element_params(el, go) {
                Ok(params) => {
                    match substitute_template(template, &params, go, missing_error, file) {
                        Ok(app) => {
                            let before = out.len();
                            application_roots(
                                file,
                                &app,
                                ControllerKind::ApplicationSet,
                                repo,
                                files,
                                out,
                            );
                            for r in &mut out[before..] {
                                r.line = el.span.line;
                            }
                        }
                        Err(e) => out.push(ControllerRoot {
                            detail: Detail::Error(e),
                            ..fail(el.span.line, "", String::new())
                        }),
                    }
                }
                Err(m) => out.push(ControllerRoot {
                    detail: Detail::Error(err_at(RenderErrorKind::Invalid, file, el.span.line, m)),
                    ..fail(el.span.line, "", String::new())
                }),
            }
        }
    }
}

/// Moves every line of a parsed embedded text by `by`.
fn shift(n: &mut Node, by: u32) {
    super::shift_lines(n, 0, by);
}

/// The parameters of one list element: flat strings (`values.k` for the
/// `values` map) without goTemplate, the element itself with it.
fn element_params(el: &Node, go: bool) -> Result<Node, String> {
    if go {
        return Ok(el.clone());
    }
    let mut flat: Vec<Entry> = Vec::new();
    for e in el.as_map().unwrap_or(&[]) {
        if e.key == "values" {
            for v in e.value.as_map().ok_or("error parsing values map")? {
                let s = v.value.as_str().ok_or("error parsing value as string")?;
                flat.push(Entry {
                    key: format!("values.{}", v.key),
                    key_span: v.key_span,
                    value: str_node(s, v.value.span),
                });
            }
        } else {
            let s = e.value.as_str().ok_or("error parsing value as string")?;
            flat.push(Entry {
                key: e.key.clone(),
                key_span: e.key_span,
                value: str_node(s, e.value.span),
            });
        }
    }
    Ok(Node::new(Value::Map(flat), el.span))
}

/// Renders every string of the template with the element's parameters.
fn substitute_template(
    template: &Node,
    params: &Node,
    go: bool,
    missing_error: bool,
    file: &str,
) -> Result<Node, RenderError> {
    let mut t = template.clone();
    let mut stack: Vec<&mut Node> = vec![&mut t];
    while let Some(n) = stack.pop() {
        let line = n.span.line;
        match &mut n.value {
            Value::Str(s) if s.contains("{{") => {
                let r = if go {
                    go_template(s, params, missing_error)
                } else {
                    Ok(fast_template(s, params))
                };
                *s = r.map_err(|(unimpl, m)| {
                    if unimpl {
                        unrenderable(file, line, "ApplicationSet goTemplate", m)
                    } else {
                        err_at(RenderErrorKind::Invalid, file, line, m)
                    }
                })?;
            }
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => stack.extend(entries.iter_mut().map(|e| &mut e.value)),
            _ => {}
        }
    }
    Ok(t)
}

/// fasttemplate with `{{`/`}}`: a trimmed tag naming a string parameter is
/// replaced, anything else is left as written.
fn fast_template(s: &str, params: &Node) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let tag = &after[..j];
        match params.get(tag.trim()).and_then(Node::as_str) {
            Some(v) if !tag.trim().is_empty() => out.push_str(v),
            _ => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Go `text/template` for the one form list-generator templates use:
/// `{{ .a.b }}` (with `{{-`/`-}}` trimming). Anything else (functions,
/// pipelines, conditionals) is not evaluated here: `(true, message)`.
fn go_template(s: &str, params: &Node, missing_error: bool) -> Result<String, (bool, String)> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let mut before = &rest[..i];
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err((
                false,
                format!("failed to parse template {s}: unclosed action"),
            ));
        };
        let mut inner = &after[..j];
        let mut tail = &after[j + 2..];
        if let Some(x) = inner.strip_prefix("- ") {
            before = before.trim_end();
            inner = x;
        }
        if let Some(x) = inner.strip_suffix(" -") {
            tail = tail.trim_start();
            inner = x;
        }
        out.push_str(before);
        let expr = inner.trim();
        let path_ok = expr.starts_with('.')
            && expr.len() > 1
            && expr[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if !path_ok {
            return Err((
                true,
                format!("the goTemplate action `{{{{{inner}}}}}` is not evaluated here"),
            ));
        }
        let mut cur = Some(params);
        for p in expr[1..].split('.') {
            cur = cur.and_then(|n| n.get(p));
        }
        match cur.map(|n| &n.value) {
            Some(Value::Str(v)) => out.push_str(v),
            Some(Value::Bool(b)) => out.push_str(&b.to_string()),
            Some(Value::Int(v)) => out.push_str(&v.to_string()),
            Some(Value::UInt(v)) => out.push_str(&v.to_string()),
            Some(Value::Float(v)) => out.push_str(&v.to_string()),
            None if missing_error => {
                return Err((
                    false,
                    format!("failed to execute go template {s}: map has no entry for key {expr}"),
                ));
            }
            None | Some(Value::Null) => out.push_str("<no value>"),
            Some(_) => {
                return Err((
                    true,
                    format!("the goTemplate value `{expr}` is a collection; not printed here"),
                ));
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

fn flux_root(
    file: &str,
    doc: &Node,
    objects: &[(&str, &Node)],
    repo: Option<&RepoName>,
    files: &dyn Files,
    out: &mut Vec<ControllerRoot>,
) {
    let Some(spec) = doc.get("spec") else { return };
    let name = str_of(doc, &["metadata", "name"]).unwrap_or("").to_owned();
    let namespace = str_of(doc, &["metadata", "namespace"])
        .unwrap_or("")
        .to_owned();
    let Some(sref) = spec.get("sourceRef") else {
        return;
    };
    let skind = str_of(sref, &["kind"]).unwrap_or("GitRepository");
    if skind != "GitRepository" {
        return;
    }
    let sname = str_of(sref, &["name"]).unwrap_or("");
    let sns = str_of(sref, &["namespace"]).unwrap_or(&namespace);
    let same_ns = |o: &Node, ns: &str| {
        let ons = str_of(o, &["metadata", "namespace"]).unwrap_or("");
        ons.is_empty() || ns.is_empty() || ons == ns
    };
    let gitrepo = objects.iter().find(|(_, o)| {
        api_group(o) == "source.toolkit.fluxcd.io"
            && kind_of(o) == "GitRepository"
            && str_of(o, &["metadata", "name"]) == Some(sname)
            && same_ns(o, sns)
    });
    let Some((_, gitrepo)) = gitrepo else { return };
    let url = str_of(gitrepo, &["spec", "url"]).unwrap_or("");
    let raw_path = str_of(spec, &["path"]).unwrap_or("./");
    let path = clean_path(raw_path);
    match &path {
        Some(p) if !is_this_repo(url, p, repo, files) => return,
        None if repo.is_some_and(|r| !url_is_repo(url, r)) => return,
        _ => {}
    }
    // substituteFrom: ConfigMaps and Secrets of the repository, in the
    // Kustomization's namespace
    let mut vars_from: Result<Vec<(String, String, String, u32)>, RenderError> = Ok(Vec::new());
    for s in str_seq(spec, &["postBuild", "substituteFrom"]) {
        let k = str_of(s, &["kind"]).unwrap_or("");
        let n = str_of(s, &["name"]).unwrap_or("");
        let optional = s.get("optional").and_then(Node::as_bool).unwrap_or(false);
        let found: Vec<&(&str, &Node)> = objects
            .iter()
            .filter(|(_, o)| {
                api_group(o).is_empty()
                    && kind_of(o) == k
                    && str_of(o, &["metadata", "name"]) == Some(n)
                    && same_ns(o, &namespace)
            })
            .collect();
        let r = match (k, found.as_slice()) {
            ("ConfigMap" | "Secret", [(f, o)]) => object_vars(f, o, k == "Secret"),
            ("ConfigMap" | "Secret", []) if optional => Ok(Vec::new()),
            ("ConfigMap" | "Secret", []) => Err(unrenderable(
                file,
                s.span.line,
                &format!("{k}/{n}"),
                format!(
                    "postBuild.substituteFrom {k}/{n} is not in the repository; its values cannot be known offline"
                ),
            )),
            ("ConfigMap" | "Secret", _) => Err(err_at(
                RenderErrorKind::Invalid,
                file,
                s.span.line,
                format!(
                    "postBuild.substituteFrom {k}/{n} is defined more than once in the repository"
                ),
            )),
            _ => Err(err_at(
                RenderErrorKind::Invalid,
                file,
                s.span.line,
                format!("postBuild.substituteFrom kind `{k}` must be ConfigMap or Secret"),
            )),
        };
        if let (Ok(acc), Ok(mut v)) = (&mut vars_from, r.clone()) {
            acc.append(&mut v);
        } else if let (Ok(_), Err(e)) = (&vars_from, r) {
            vars_from = Err(e);
        }
    }
    let mut root = ControllerRoot {
        kind: ControllerKind::FluxKustomization,
        file: file.to_owned(),
        line: doc.span.line,
        name,
        namespace,
        path: path.clone().unwrap_or_default(),
        repo_url: url.to_owned(),
        project: None,
        destination_namespace: None,
        destination_server: None,
        destination_name: None,
        target_namespace: str_of(spec, &["targetNamespace"]).map(str::to_owned),
        source_index: None,
        flux_strict: false,
        detail: Detail::Flux {
            spec: spec.clone(),
            vars_from,
            source_ignore: gitrepo.path(&["spec", "ignore"]).is_some(),
        },
    };
    if path.is_none() {
        root.detail = Detail::Error(err_at(
            RenderErrorKind::OutsideRoot,
            file,
            spec.key_line("path"),
            format!("spec.path `{raw_path}` leaves the repository"),
        ));
    }
    out.push(root);
}

fn str_seq<'a>(n: &'a Node, path: &[&str]) -> &'a [Node] {
    n.path(path).and_then(Node::as_seq).unwrap_or(&[])
}

/// The variables a ConfigMap (`data`) or Secret (`data` decoded, then
/// `stringData`) defines, with their lines; newlines removed as Flux does.
fn object_vars(
    file: &str,
    o: &Node,
    secret: bool,
) -> Result<Vec<(String, String, String, u32)>, RenderError> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for e in o.get("data").and_then(Node::as_map).unwrap_or(&[]) {
        let text = super::resource::scalar_text(&e.value).unwrap_or_default();
        let value = if secret {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| {
                    err_at(
                        RenderErrorKind::Invalid,
                        file,
                        e.key_span.line,
                        format!("Secret data `{}` is not base64", e.key),
                    )
                })?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            text
        };
        out.push((
            e.key.clone(),
            value.replace('\n', ""),
            file.to_owned(),
            e.key_span.line,
        ));
    }
    if secret {
        for e in o.get("stringData").and_then(Node::as_map).unwrap_or(&[]) {
            let text = super::resource::scalar_text(&e.value).unwrap_or_default();
            out.push((
                e.key.clone(),
                text.replace('\n', ""),
                file.to_owned(),
                e.key_span.line,
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// Renders a root as its controller does.
pub fn render_controller_root(
    files: &dyn Tree,
    root: &ControllerRoot,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    match &root.detail {
        Detail::Error(e) => Err(e.clone()),
        Detail::Argo { source, dest_ns } => {
            render_argo(files, root, source, dest_ns.as_ref(), limits)
        }
        Detail::Flux {
            spec,
            vars_from,
            source_ignore,
        } => render_flux(files, root, spec, vars_from, *source_ignore, limits),
    }
}

fn find_kustomization(files: &dyn Files, dir: &str) -> Option<String> {
    KUSTOMIZATION_FILE_NAMES
        .iter()
        .map(|n| join_dir(dir, n))
        .find(|p| files.is_file(p))
}

fn join_dir(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Origin file of a node in an edited kustomization: the kustomization
/// itself, or the controller object.
const FROM_KUSTOMIZATION: u32 = 0;
const FROM_CONTROLLER: u32 = 1;

fn render_argo(
    files: &dyn Tree,
    root: &ControllerRoot,
    source: &Node,
    dest_ns: Option<&Node>,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    let cf = root.file.as_str();
    let path = root.path.as_str();
    // parameter overrides Argo CD reads from the path (mergeSourceParameters)
    for f in [
        ".argocd-source.yaml".to_owned(),
        format!(".argocd-source-{}.yaml", root.name),
    ] {
        let p = join_dir(path, &f);
        if files.is_file(&p) {
            return Err(unrenderable(
                &p,
                1,
                &p,
                "Argo CD parameter-override file: the overrides it sets are not applied here",
            ));
        }
    }
    let explicit: Vec<&str> = ["kustomize", "helm", "directory", "plugin"]
        .into_iter()
        .filter(|k| source.get(k).is_some())
        .collect();
    if explicit.len() > 1 {
        return Err(err_at(
            RenderErrorKind::Invalid,
            cf,
            source.span.line,
            format!(
                "multiple application sources defined: {}",
                explicit.join(",")
            ),
        ));
    }
    let kfile = find_kustomization(files, path);
    let kind = match explicit.first() {
        Some(k) => *k,
        None if kfile.is_some() => "kustomize",
        None if files.is_file(&join_dir(path, "Chart.yaml")) => "helm",
        None => "directory",
    };
    let mut rendered = match kind {
        "helm" | "plugin" => {
            let line = source
                .entry(kind)
                .map_or(source.span.line, |e| e.key_span.line);
            return Err(unrenderable(
                cf,
                line,
                &format!("source.{kind}"),
                format!("an Argo CD {kind} source cannot be rendered offline"),
            ));
        }
        "kustomize" => {
            let opts = source.get("kustomize");
            match (opts, &kfile) {
                (Some(o), Some(k)) if has_edits(o) => {
                    let (doc, kid) = load_kustomization(files, k, limits)?;
                    let mut doc = doc;
                    argo_edits(&mut doc, o, root, files, cf)?;
                    render_edited(files, path, k, &doc, kid, cf, limits)?
                }
                (Some(o), _) => {
                    check_known_kustomize_fields(o, cf)?;
                    super::render(files, path, limits)?
                }
                (None, _) => super::render(files, path, limits)?,
            }
        }
        _ => directory(files, path, source.get("directory"), cf, limits)?,
    };
    if let Some(ns) = dest_ns.filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) {
        let cid = file_index(&mut rendered.files, cf);
        let span = Span {
            file: cid,
            ..ns.span
        };
        for o in &mut rendered.objects {
            let gvk = Gvk::new(
                str_of(o, &["apiVersion"]).unwrap_or(""),
                str_of(o, &["kind"]).unwrap_or(""),
            );
            let has_ns = str_of(o, &["metadata", "namespace"]).is_some_and(|s| !s.is_empty());
            if !has_ns && !gvk.is_cluster_scoped() && o.get("metadata").is_some() {
                let meta = super::resource::ensure_map(o, "metadata", span);
                set_field(meta, "namespace", Node::new(ns.value.clone(), span), span);
            }
        }
    }
    Ok(rendered)
}

fn file_index(files: &mut Vec<String>, path: &str) -> u32 {
    if let Some(i) = files.iter().position(|f| f == path) {
        return i as u32;
    }
    files.push(path.to_owned());
    (files.len() - 1) as u32
}

const ARGO_KUSTOMIZE_FIELDS: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "images",
    "replicas",
    "commonLabels",
    "commonAnnotations",
    "commonAnnotationsEnvsubst",
    "forceCommonLabels",
    "forceCommonAnnotations",
    "labelWithoutSelector",
    "labelIncludeTemplates",
    "namespace",
    "patches",
    "components",
    "ignoreMissingComponents",
    // these choose the kustomize binary / Helm inputs: no effect on a build
    "version",
    "kubeVersion",
    "apiVersions",
];

fn check_known_kustomize_fields(o: &Node, cf: &str) -> Result<(), RenderError> {
    for e in o.as_map().unwrap_or(&[]) {
        if !ARGO_KUSTOMIZE_FIELDS.contains(&e.key.as_str()) {
            return Err(unrenderable(
                cf,
                e.key_span.line,
                &format!("kustomize.{}", e.key),
                format!("Argo CD kustomize option `{}` is not applied here", e.key),
            ));
        }
    }
    Ok(())
}

fn non_empty(n: Option<&Node>) -> bool {
    match n.map(|n| &n.value) {
        None | Some(Value::Null) => false,
        Some(Value::Str(s)) => !s.is_empty(),
        Some(Value::Seq(s)) => !s.is_empty(),
        Some(Value::Map(m)) => !m.is_empty(),
        Some(_) => true,
    }
}

fn has_edits(o: &Node) -> bool {
    [
        "namePrefix",
        "nameSuffix",
        "images",
        "replicas",
        "commonLabels",
        "commonAnnotations",
        "namespace",
        "patches",
        "components",
    ]
    .iter()
    .any(|k| non_empty(o.get(k)))
        || o.as_map()
            .unwrap_or(&[])
            .iter()
            .any(|e| !ARGO_KUSTOMIZE_FIELDS.contains(&e.key.as_str()))
}

fn load_kustomization(
    files: &dyn Files,
    kpath: &str,
    limits: &Limits,
) -> Result<(Node, u32), RenderError> {
    let bytes = files
        .read(kpath)
        .ok_or_else(|| err_at(RenderErrorKind::NotFound, kpath, 1, "file not found"))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| err_at(RenderErrorKind::Yaml, kpath, 1, "file is not UTF-8"))?;
    let loaded = yaml::load_documents(text, &limits.yaml);
    if let Some(e) = loaded.error {
        return Err(err_at(
            RenderErrorKind::Yaml,
            kpath,
            e.line,
            format!("cannot read YAML: {}", e.message),
        ));
    }
    let docs: Vec<Node> = loaded.docs.into_iter().filter(|d| !d.is_null()).collect();
    match <[Node; 1]>::try_from(docs) {
        Ok([d]) if d.as_map().is_some() => Ok((d, FROM_KUSTOMIZATION)),
        Ok([d]) => Err(err_at(
            RenderErrorKind::Invalid,
            kpath,
            d.span.line,
            "a kustomization must be a mapping",
        )),
        Err(docs) => Err(err_at(
            RenderErrorKind::Invalid,
            kpath,
            1,
            format!(
                "a kustomization must be one YAML document, not {}",
                docs.len()
            ),
        )),
    }
}

/// A copy of a controller node, marked as coming from the controller file.
fn from_controller(n: &Node) -> Node {
    let mut c = n.clone();
    set_file(&mut c, FROM_CONTROLLER);
    c
}

fn ctl_span(s: Span) -> Span {
    Span {
        file: FROM_CONTROLLER,
        ..s
    }
}

fn text_of(n: &Node) -> String {
    super::resource::scalar_text(n).unwrap_or_default()
}

/// Go's `os.Expand` as Argo CD's `Env.Envsubst` uses it (`$$` is `$`,
/// unknown variables are empty). Variables we cannot know offline (the
/// revision, the cluster's version) are refused.
fn argo_envsubst(
    s: &str,
    root: &ControllerRoot,
    cf: &str,
    line: u32,
) -> Result<String, RenderError> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let lookup = |name: &str| -> Result<String, RenderError> {
        Ok(match name {
            "$" => "$".into(),
            "ARGOCD_APP_NAME" => root.name.clone(),
            "ARGOCD_APP_NAMESPACE" => root.destination_namespace.clone().unwrap_or_default(),
            "ARGOCD_APP_PROJECT_NAME" => root.project.clone().unwrap_or_default(),
            "ARGOCD_APP_SOURCE_PATH" => root.path.clone(),
            "ARGOCD_APP_SOURCE_REPO_URL" => root.repo_url.clone(),
            "ARGOCD_APP_REVISION"
            | "ARGOCD_APP_REVISION_SHORT"
            | "ARGOCD_APP_REVISION_SHORT_8"
            | "ARGOCD_APP_SOURCE_TARGET_REVISION"
            | "KUBE_VERSION"
            | "KUBE_API_VERSIONS" => {
                return Err(unrenderable(
                    cf,
                    line,
                    &format!("${name}"),
                    format!("`${name}` is only known to Argo CD at sync time"),
                ));
            }
            _ => String::new(),
        })
    };
    let b = s.as_bytes();
    let special = |c: u8| b"*#$@!?-0123456789".contains(&c);
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let mut out = String::new();
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let rest = &s[j + 1..];
            let rb = rest.as_bytes();
            let (name, w): (&str, usize) = if rb[0] == b'{' {
                if rb.len() > 2 && special(rb[1]) && rb[2] == b'}' {
                    (&rest[1..2], 3)
                } else if let Some(k) = rest[1..].find('}') {
                    if k == 0 {
                        ("", 2)
                    } else {
                        (&rest[1..=k], k + 2)
                    }
                } else {
                    ("", 1)
                }
            } else if special(rb[0]) {
                (&rest[..1], 1)
            } else {
                let n = rb.iter().take_while(|&&c| alnum(c)).count();
                (&rest[..n], n)
            };
            if name.is_empty() && w == 0 {
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name)?);
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    if i < s.len() {
        out.push_str(&s[i..]);
    }
    Ok(out)
}

/// Applies Argo CD's `spec.source.kustomize` to the kustomization tree, as
/// its sequence of `kustomize edit` commands would.
fn argo_edits(
    doc: &mut Node,
    o: &Node,
    root: &ControllerRoot,
    files: &dyn Files,
    cf: &str,
) -> Result<(), RenderError> {
    check_known_kustomize_fields(o, cf)?;
    let flag = |k: &str| o.get(k).and_then(Node::as_bool).unwrap_or(false);
    let inv = |line: u32, m: String| err_at(RenderErrorKind::Invalid, cf, line, m);
    // kustfile.Read: legacy `bases` / `imageTags` are folded in first
    fold_legacy(doc);
    for key in ["namePrefix", "nameSuffix"] {
        if let Some(v) = o.get(key).filter(|v| non_empty(Some(v))) {
            let e = o.entry(key).expect("present");
            set_field(doc, key, from_controller(v), ctl_span(e.key_span));
        }
    }
    if let Some(imgs) = o
        .get("images")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        edit_images(doc, imgs, root, cf)?;
    }
    if let Some(reps) = o
        .get("replicas")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        edit_replicas(doc, reps, cf)?;
    }
    if let Some(labels) = o
        .get("commonLabels")
        .and_then(Node::as_map)
        .filter(|m| !m.is_empty())
    {
        let without = flag("labelWithoutSelector");
        let templates = flag("labelIncludeTemplates");
        if templates && !without {
            return Err(inv(
                o.key_line("labelIncludeTemplates"),
                "--without-selector flag must be specified for --include-templates to work".into(),
            ));
        }
        let mut pairs = Vec::new();
        for e in labels {
            let v = argo_envsubst(&text_of(&e.value), root, cf, e.key_span.line)?;
            pairs.push((e, v));
        }
        if without {
            edit_labels_without_selector(doc, &pairs, templates, flag("forceCommonLabels"), cf)?;
        } else {
            edit_map(
                doc,
                "commonLabels",
                "label",
                &pairs,
                flag("forceCommonLabels"),
                cf,
            )?;
        }
    }
    if let Some(ann) = o
        .get("commonAnnotations")
        .and_then(Node::as_map)
        .filter(|m| !m.is_empty())
    {
        let subst = flag("commonAnnotationsEnvsubst");
        let mut pairs = Vec::new();
        for e in ann {
            let raw = text_of(&e.value);
            let v = if subst {
                argo_envsubst(&raw, root, cf, e.key_span.line)?
            } else {
                raw
            };
            pairs.push((e, v));
        }
        edit_map(
            doc,
            "commonAnnotations",
            "annotation",
            &pairs,
            flag("forceCommonAnnotations"),
            cf,
        )?;
    }
    if let Some(v) = o.get("namespace").filter(|v| non_empty(Some(v))) {
        let e = o.entry("namespace").expect("present");
        set_field(doc, "namespace", from_controller(v), ctl_span(e.key_span));
    }
    if let Some(ps) = o
        .get("patches")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        let mut added = Vec::new();
        for p in ps {
            added.push(typed_patch(p, cf)?);
        }
        append_seq(
            doc,
            "patches",
            added,
            ctl_span(o.entry("patches").expect("present").key_span),
        )
        .map_err(|m| inv(o.key_line("patches"), m))?;
    }
    if let Some(cs) = o
        .get("components")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        let ignore_missing = flag("ignoreMissingComponents");
        let mut added = Vec::new();
        let existing: Vec<String> = doc
            .get("components")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(text_of)
            .collect();
        for c in cs {
            let rel = text_of(c);
            let target = super::join(&root.path, &rel);
            let exists = target
                .as_deref()
                .is_some_and(|t| files.is_dir(t) || files.is_file(t));
            if !exists {
                if ignore_missing {
                    continue;
                }
                return Err(err_at(
                    RenderErrorKind::NotFound,
                    cf,
                    c.span.line,
                    format!("kustomize edit add component: '{rel}' does not exist"),
                ));
            }
            if existing.contains(&rel) || added.iter().any(|n: &Node| text_of(n) == rel) {
                continue;
            }
            added.push(from_controller(c));
        }
        if !added.is_empty() {
            append_seq(
                doc,
                "components",
                added,
                ctl_span(o.entry("components").expect("present").key_span),
            )
            .map_err(|m| inv(o.key_line("components"), m))?;
        }
    }
    Ok(())
}

/// `bases` appended to `resources`, `imageTags` to `images`
/// (`Kustomization.FixKustomization`, which `kustomize edit` runs).
fn fold_legacy(doc: &mut Node) {
    for (old, new) in [("bases", "resources"), ("imageTags", "images")] {
        let Some(e) = doc.entry(old).cloned() else {
            continue;
        };
        super::resource::remove_field(doc, old);
        let items = e.value.as_seq().map(<[Node]>::to_vec).unwrap_or_default();
        let _ = append_seq(doc, new, items, e.key_span);
    }
}

fn append_seq(doc: &mut Node, key: &str, items: Vec<Node>, span: Span) -> Result<(), String> {
    match super::resource::get_mut(doc, key) {
        Some(n) if n.is_null() => {
            n.value = Value::Seq(items);
        }
        Some(n) => match &mut n.value {
            Value::Seq(s) => s.extend(items),
            _ => {
                return Err(format!(
                    "expected '{key}' field in kustomization.yaml to be a list"
                ));
            }
        },
        None => set_field(doc, key, Node::new(Value::Seq(items), span), span),
    }
    Ok(())
}

/// Argo CD's typed `KustomizePatch` as it marshals it: `path`, `patch`,
/// `target` (gvk, name, namespace, selectors) and `options`.
fn typed_patch(p: &Node, cf: &str) -> Result<Node, RenderError> {
    let mut out: Vec<Entry> = Vec::new();
    for e in p.as_map().unwrap_or(&[]) {
        match e.key.as_str() {
            "path" | "patch" | "options" => {}
            "target" => {
                for t in e.value.as_map().unwrap_or(&[]) {
                    if !matches!(
                        t.key.as_str(),
                        "group"
                            | "version"
                            | "kind"
                            | "name"
                            | "namespace"
                            | "labelSelector"
                            | "annotationSelector"
                    ) {
                        return Err(unrenderable(
                            cf,
                            t.key_span.line,
                            &format!("kustomize.patches.target.{}", t.key),
                            format!(
                                "patch target field `{}` is not part of Argo CD's KustomizeSelector",
                                t.key
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(unrenderable(
                    cf,
                    e.key_span.line,
                    &format!("kustomize.patches.{other}"),
                    format!("patch field `{other}` is not part of Argo CD's KustomizePatch"),
                ));
            }
        }
        out.push(Entry {
            key: e.key.clone(),
            key_span: ctl_span(e.key_span),
            value: from_controller(&e.value),
        });
    }
    Ok(Node::new(Value::Map(out), ctl_span(p.span)))
}

/// One image of the kustomization's `images`.
#[derive(Clone, Debug)]
struct Img {
    name: String,
    new_name: String,
    new_tag: String,
    digest: String,
    /// Other fields of an existing entry (`tagSuffix`), kept.
    extra: Vec<Entry>,
    span: Span,
}

fn parse_existing_image(n: &Node) -> Img {
    let g = |k: &str| n.get(k).map(text_of).unwrap_or_default();
    Img {
        name: g("name"),
        new_name: g("newName"),
        new_tag: g("newTag"),
        digest: g("digest"),
        extra: n
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter(|e| !matches!(e.key.as_str(), "name" | "newName" | "newTag" | "digest"))
            .cloned()
            .collect(),
        span: n.span,
    }
}

fn image_node(i: &Img) -> Node {
    let s = i.span;
    let mut entries = Vec::new();
    let mut push = |k: &str, v: &str| {
        if !v.is_empty() {
            entries.push(Entry {
                key: k.to_owned(),
                key_span: s,
                value: str_node(v, s),
            });
        }
    };
    // the field order kustomize writes (types.Image)
    push("name", &i.name);
    push("newName", &i.new_name);
    push("newTag", &i.new_tag);
    push("digest", &i.digest);
    entries.extend(i.extra.iter().cloned());
    Node::new(Value::Map(entries), s)
}

/// `kustomize edit set image ARG...`: each argument replaces the entry of
/// the same name (`*` keeps that part of the existing entry); the list is
/// then sorted by name.
fn edit_images(
    doc: &mut Node,
    imgs: &[Node],
    root: &ControllerRoot,
    cf: &str,
) -> Result<(), RenderError> {
    let mut map: BTreeMap<String, Img> = BTreeMap::new();
    for n in imgs {
        let arg = argo_envsubst(&text_of(n), root, cf, n.span.line)?;
        let (key, value) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (String::new(), arg.clone()),
        };
        let (name, tag, digest) = super::transform::split_image(&value);
        if name == arg {
            return Err(err_at(
                RenderErrorKind::Invalid,
                cf,
                n.span.line,
                format!("invalid format of image `{arg}` (kustomize edit set image)"),
            ));
        }
        let img = if key.is_empty() {
            Img {
                name,
                new_name: String::new(),
                new_tag: tag,
                digest,
                extra: Vec::new(),
                span: ctl_span(n.span),
            }
        } else {
            Img {
                name: key,
                new_name: name,
                new_tag: tag,
                digest,
                extra: Vec::new(),
                span: ctl_span(n.span),
            }
        };
        map.insert(img.name.clone(), img);
    }
    let existing: Vec<Img> = doc
        .get("images")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(parse_existing_image)
        .collect();
    for im in existing {
        if let Some(arg) = map.get_mut(&im.name) {
            if arg.new_name == "*" {
                arg.new_name = im.new_name.clone();
            }
            if arg.new_tag == "*" {
                arg.new_tag = im.new_tag.clone();
            }
            if arg.digest == "*" {
                arg.digest = im.digest.clone();
            }
            continue;
        }
        map.insert(im.name.clone(), im);
    }
    let items: Vec<Node> = map
        .into_values()
        .map(|mut v| {
            for f in [&mut v.new_name, &mut v.new_tag, &mut v.digest] {
                if f == "*" {
                    f.clear();
                }
            }
            image_node(&v)
        })
        .collect();
    let span = doc.entry("images").map_or(items[0].span, |e| e.key_span);
    set_field(doc, "images", Node::new(Value::Seq(items), span), span);
    Ok(())
}

/// `kustomize edit set replicas NAME=COUNT...`: replaces entries of the
/// same name; sorted by name.
fn edit_replicas(doc: &mut Node, reps: &[Node], cf: &str) -> Result<(), RenderError> {
    let mut map: BTreeMap<String, Node> = BTreeMap::new();
    for r in reps {
        let name = r.get("name").map(text_of).unwrap_or_default();
        let count_node = r.get("count");
        let count = count_node
            .and_then(|c| match &c.value {
                Value::Int(i) => Some(*i),
                Value::Str(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            })
            .ok_or_else(|| {
                err_at(
                    RenderErrorKind::Invalid,
                    cf,
                    r.span.line,
                    format!("replicas count of `{name}` is not an integer"),
                )
            })?;
        if name.contains('=') {
            return Err(err_at(
                RenderErrorKind::Invalid,
                cf,
                r.span.line,
                "invalid format of replica, use the following format: <name>=<count>",
            ));
        }
        let s = ctl_span(r.span);
        let cs = ctl_span(count_node.map_or(r.span, |c| c.span));
        map.insert(
            name.clone(),
            Node::new(
                Value::Map(vec![
                    Entry {
                        key: "name".into(),
                        key_span: s,
                        value: str_node(&name, s),
                    },
                    Entry {
                        key: "count".into(),
                        key_span: cs,
                        value: Node::new(Value::Int(count), cs),
                    },
                ]),
                s,
            ),
        );
    }
    for e in doc.get("replicas").and_then(Node::as_seq).unwrap_or(&[]) {
        let name = e.get("name").map(text_of).unwrap_or_default();
        map.entry(name).or_insert_with(|| e.clone());
    }
    let items: Vec<Node> = map.into_values().collect();
    let span = doc.entry("replicas").map_or(items[0].span, |e| e.key_span);
    set_field(doc, "replicas", Node::new(Value::Seq(items), span), span);
    Ok(())
}

/// `kustomize edit add label|annotation [--force] k:v...` into
/// `commonLabels` / `commonAnnotations`.
fn edit_map(
    doc: &mut Node,
    key: &str,
    what: &str,
    pairs: &[(&Entry, String)],
    force: bool,
    cf: &str,
) -> Result<(), RenderError> {
    let span = ctl_span(pairs[0].0.key_span);
    let target = super::resource::ensure_map(doc, key, span);
    for (e, v) in pairs {
        let (k, v) = split_kv(&e.key, v);
        if target.get(&k).is_some() && !force {
            return Err(err_at(
                RenderErrorKind::Invalid,
                cf,
                e.key_span.line,
                format!("{what} {k} already in kustomization file. Use --force to override."),
            ));
        }
        set_field(
            target,
            &k,
            str_node(&v, ctl_span(e.value.span)),
            ctl_span(e.key_span),
        );
    }
    Ok(())
}

/// Argo CD passes `k:v` arguments; kustomize splits at the first `:` and
/// drops one pair of surrounding double quotes from the value.
fn split_kv(k: &str, v: &str) -> (String, String) {
    let arg = format!("{k}:{v}");
    let c = arg.find(':').expect("has a colon");
    let (key, mut val) = (arg[..c].to_owned(), arg[c + 1..].to_owned());
    if val.len() >= 2 && val.starts_with('"') && val.ends_with('"') {
        val = val[1..val.len() - 1].to_owned();
    }
    (key, val)
}

/// `kustomize edit add label --without-selector [--include-templates]`:
/// into the first `labels` entry with the same settings, else a new one.
fn edit_labels_without_selector(
    doc: &mut Node,
    pairs: &[(&Entry, String)],
    templates: bool,
    force: bool,
    cf: &str,
) -> Result<(), RenderError> {
    let span = ctl_span(pairs[0].0.key_span);
    let settings = |l: &Node| {
        let b = |k: &str| l.get(k).and_then(Node::as_bool).unwrap_or(false);
        !b("includeSelectors") && b("includeTemplates") == templates
    };
    if super::resource::get_mut(doc, "labels").is_none() {
        set_field(doc, "labels", Node::new(Value::Seq(Vec::new()), span), span);
    }
    let labels = super::resource::get_mut(doc, "labels").expect("just set");
    if labels.is_null() {
        labels.value = Value::Seq(Vec::new());
    }
    let Value::Seq(list) = &mut labels.value else {
        return Err(err_at(
            RenderErrorKind::Invalid,
            cf,
            span.line,
            "`labels` must be a list",
        ));
    };
    let mut fresh: Option<Node> = None;
    for (e, v) in pairs {
        let (k, v) = split_kv(&e.key, v);
        let value = str_node(&v, ctl_span(e.value.span));
        let idx = list.iter().position(&settings);
        let target: &mut Node = match idx {
            Some(i) => list[i].get_mut_or_insert_pairs(span),
            None => fresh
                .get_or_insert_with(|| {
                    let mut entries = vec![Entry {
                        key: "pairs".into(),
                        key_span: span,
                        value: Node::new(Value::Map(Vec::new()), span),
                    }];
                    if templates {
                        entries.push(Entry {
                            key: "includeTemplates".into(),
                            key_span: span,
                            value: Node::new(Value::Bool(true), span),
                        });
                    }
                    Node::new(Value::Map(entries), span)
                })
                .get_mut_or_insert_pairs(span),
        };
        if target.get(&k).is_some() && !force {
            return Err(err_at(
                RenderErrorKind::Invalid,
                cf,
                e.key_span.line,
                format!("label {k} already in kustomization file. Use --force to override."),
            ));
        }
        set_field(target, &k, value, ctl_span(e.key_span));
    }
    if let Some(f) = fresh {
        list.push(f);
    }
    Ok(())
}

trait PairsExt {
    fn get_mut_or_insert_pairs(&mut self, span: Span) -> &mut Node;
}

impl PairsExt for Node {
    fn get_mut_or_insert_pairs(&mut self, span: Span) -> &mut Node {
        super::resource::ensure_map(self, "pairs", span)
    }
}

/// Renders `dir` with its kustomization replaced by the edited tree, and
/// moves every span back onto the file and line it came from.
fn render_edited(
    files: &dyn Files,
    dir: &str,
    kpath: &str,
    doc: &Node,
    _kid: u32,
    controller_file: &str,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    let em = emit_doc(doc);
    let overlay = Overlay {
        inner: files,
        path: kpath.to_owned(),
        text: em.text.into_bytes(),
    };
    let remap_err = |mut e: RenderError| {
        if e.file == kpath
            && let Some(o) = em.origins.get(e.line as usize - 1)
        {
            e.line = o.line.max(1);
            if o.file == FROM_CONTROLLER {
                e.file = controller_file.to_owned();
            }
        }
        e
    };
    let mut r = super::render(&overlay, dir, limits).map_err(remap_err)?;
    let Some(k) = r.files.iter().position(|f| f == kpath) else {
        return Ok(r);
    };
    let c = file_index(&mut r.files, controller_file);
    let map = |s: &mut Span| {
        if s.file as usize == k
            && let Some(o) = em.origins.get((s.line as usize).wrapping_sub(1))
        {
            s.line = o.line;
            s.col = o.col;
            s.file = if o.file == FROM_CONTROLLER {
                c
            } else {
                k as u32
            };
        }
    };
    for o in &mut r.objects {
        walk_spans(o, &map);
    }
    Ok(r)
}

fn walk_spans(n: &mut Node, f: &dyn Fn(&mut Span)) {
    let mut stack: Vec<&mut Node> = vec![n];
    while let Some(n) = stack.pop() {
        f(&mut n.span);
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    f(&mut e.key_span);
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// The repository with one file's content replaced (or added).
struct Overlay<'a> {
    inner: &'a dyn Files,
    path: String,
    text: Vec<u8>,
}

impl Files for Overlay<'_> {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        if path == self.path {
            return Some(Cow::Borrowed(&self.text));
        }
        self.inner.read(path)
    }

    fn is_file(&self, path: &str) -> bool {
        path == self.path || self.inner.is_file(path)
    }

    fn is_dir(&self, dir: &str) -> bool {
        self.inner.is_dir(dir) || dir.is_empty() || self.path.starts_with(&format!("{dir}/"))
    }
}

// ---------------------------------------------------------------------------
// The line-mapped emitter
// ---------------------------------------------------------------------------

/// YAML text and, for each of its lines, the span it came from.
struct Emitted {
    text: String,
    origins: Vec<Span>,
}

impl Emitted {
    fn line(&mut self, s: String, origin: Span) {
        self.text.push_str(&s);
        self.text.push('\n');
        self.origins.push(origin);
    }
}

fn emit_doc(doc: &Node) -> Emitted {
    let mut e = Emitted {
        text: String::new(),
        origins: Vec::new(),
    };
    emit_map(doc.as_map().unwrap_or(&[]), 0, &mut e);
    e
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A scalar or empty collection on one line.
fn inline_scalar(n: &Node) -> Option<String> {
    Some(match &n.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) if f.is_nan() => ".nan".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Value::Float(f) => {
            let s = format!("{f:?}");
            if s.contains('.') || s.contains('e') {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Str(s) => quoted(s),
        Value::Seq(s) if s.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// Whether a multi-line string can be written as a literal block.
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| {
            c == '\n'
                || c == '\t'
                || (!c.is_control()
                    && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
        })
}

fn emit_map(entries: &[Entry], indent: usize, e: &mut Emitted) {
    let pad = " ".repeat(indent);
    for en in entries {
        let key = quoted(&en.key);
        match &en.value.value {
            Value::Str(s) if literal_ok(s) => {
                let body = s.trim_end_matches('\n');
                let trailing = s.len() - body.len();
                let chomp = match trailing {
                    0 => "-",
                    1 => "",
                    _ => "+",
                };
                e.line(format!("{pad}{key}: |2{chomp}"), en.key_span);
                let mut lines: Vec<&str> = body.split('\n').collect();
                lines.extend(std::iter::repeat_n("", trailing.saturating_sub(1)));
                for (i, l) in lines.iter().enumerate() {
                    let origin = Span {
                        line: en.value.span.line + i as u32,
                        ..en.value.span
                    };
                    if l.is_empty() {
                        e.line(String::new(), origin);
                    } else {
                        e.line(format!("{pad}  {l}"), origin);
                    }
                }
            }
            _ => match inline_scalar(&en.value) {
                Some(v) => e.line(format!("{pad}{key}: {v}"), en.key_span),
                None => {
                    e.line(format!("{pad}{key}:"), en.key_span);
                    match &en.value.value {
                        Value::Map(m) => emit_map(m, indent + 2, e),
                        Value::Seq(s) => emit_seq(s, indent + 2, e),
                        _ => {}
                    }
                }
            },
        }
    }
}

fn emit_seq(items: &[Node], indent: usize, e: &mut Emitted) {
    let pad = " ".repeat(indent);
    for it in items {
        match inline_scalar(it) {
            Some(v) => e.line(format!("{pad}- {v}"), it.span),
            None => {
                e.line(format!("{pad}-"), it.span);
                match &it.value {
                    Value::Map(m) => emit_map(m, indent + 2, e),
                    Value::Seq(s) => emit_seq(s, indent + 2, e),
                    _ => {}
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Argo CD directory sources
// ---------------------------------------------------------------------------

/// Orders paths as Go's `filepath.Walk` visits them (by name within each
/// directory, depth first).
fn walk_order(paths: &mut [String]) {
    paths.sort_by(|a, b| a.split('/').cmp(b.split('/')));
}

const SKIP_MARKER: &str = "+argocd:skip-file-rendering";

fn directory(
    files: &dyn Tree,
    path: &str,
    opts: Option<&Node>,
    cf: &str,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    let get = |k: &str| opts.and_then(|o| o.get(k));
    for e in opts.and_then(Node::as_map).unwrap_or(&[]) {
        if !matches!(
            e.key.as_str(),
            "recurse" | "include" | "exclude" | "jsonnet" | "disableExtensionFilter"
        ) {
            return Err(unrenderable(
                cf,
                e.key_span.line,
                &format!("directory.{}", e.key),
                format!("Argo CD directory option `{}` is not applied here", e.key),
            ));
        }
    }
    let recurse = get("recurse").and_then(Node::as_bool).unwrap_or(false);
    let no_ext_filter = get("disableExtensionFilter")
        .and_then(Node::as_bool)
        .unwrap_or(false);
    let include = get("include").and_then(Node::as_str).unwrap_or("");
    let exclude = get("exclude").and_then(Node::as_str).unwrap_or("");
    if !files.is_dir(path) {
        return Err(err_at(
            RenderErrorKind::NotFound,
            cf,
            1,
            format!(
                "app path does not exist: {}",
                if path.is_empty() { "." } else { path }
            ),
        ));
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut list: Vec<String> = files
        .files_under(path)
        .into_iter()
        .filter(|f| {
            let rel = &f[prefix.len()..];
            recurse || !rel.contains('/')
        })
        .collect();
    walk_order(&mut list);
    let mut out = Rendered::default();
    for f in list {
        let rel = &f[prefix.len()..];
        let base = rel.rsplit('/').next().unwrap_or(rel);
        let ext_ok = [".yaml", ".yml", ".json", ".jsonnet"]
            .iter()
            .any(|x| base.len() > x.len() && base.ends_with(x));
        if !no_ext_filter && !ext_ok {
            continue;
        }
        if !exclude.is_empty() && argo_glob_match(exclude, rel, &[]) {
            continue;
        }
        if !include.is_empty() && !argo_glob_match(include, rel, &[]) {
            continue;
        }
        let Some(bytes) = files.read(&f) else {
            return Err(err_at(RenderErrorKind::NotFound, &f, 1, "file not found"));
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| err_at(RenderErrorKind::Yaml, &f, 1, "file is not UTF-8"))?;
        if text.contains(SKIP_MARKER) {
            continue;
        }
        if base.ends_with(".jsonnet") {
            return Err(unrenderable(
                &f,
                1,
                "directory.jsonnet",
                "a jsonnet file in an Argo CD directory source cannot be rendered here",
            ));
        }
        let loaded = yaml::load_documents(text, &limits.yaml);
        let looks_like_manifest =
            text.contains("apiVersion:") && text.contains("kind:") && text.contains("metadata:");
        if let Some(e) = loaded.error {
            if looks_like_manifest || base.ends_with(".json") {
                return Err(err_at(
                    RenderErrorKind::Yaml,
                    &f,
                    e.line,
                    format!("Failed to unmarshal {base}: {}", e.message),
                ));
            }
            continue;
        }
        let docs: Vec<Node> = loaded.docs.into_iter().filter(|d| !d.is_null()).collect();
        if base.ends_with(".json") && docs.len() > 1 {
            return Err(err_at(
                RenderErrorKind::Invalid,
                &f,
                1,
                format!(
                    "Found multiple objects in {base}. Only single objects are allowed in JSON files."
                ),
            ));
        }
        let bad = docs
            .iter()
            .position(|d| d.as_map().is_none() || str_of(d, &["kind"]).is_none_or(str::is_empty));
        if let Some(i) = bad {
            // Argo CD ignores a YAML file that does not decode unless it
            // decoded some objects first or looks like a manifest
            if i > 0 || looks_like_manifest {
                return Err(err_at(
                    RenderErrorKind::Invalid,
                    &f,
                    docs[i].span.line,
                    format!("Failed to unmarshal {base}: Object 'Kind' is missing"),
                ));
            }
            continue;
        }
        let id = file_index(&mut out.files, &f);
        for mut d in docs {
            set_file(&mut d, id);
            out.objects.extend(super::expand_list(d));
        }
        if out.objects.len() > limits.max_resources {
            return Err(err_at(
                RenderErrorKind::Limit,
                &f,
                1,
                format!(
                    "more than {} resources in the directory",
                    limits.max_resources
                ),
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Flux
// ---------------------------------------------------------------------------

/// source-controller's default exclusions (`sourceignore` VCS, extension,
/// CI and extra patterns) as they can hit a YAML file.
fn flux_default_ignored(rel_to_repo: &str) -> bool {
    let parts: Vec<&str> = rel_to_repo.split('/').collect();
    let base = parts.last().copied().unwrap_or("");
    let dirs = &parts[..parts.len().saturating_sub(1)];
    if dirs
        .iter()
        .any(|d| matches!(*d, ".git" | ".github" | ".circleci"))
    {
        return true;
    }
    if matches!(
        base,
        ".gitignore"
            | ".gitmodules"
            | ".gitattributes"
            | ".goreleaser.yml"
            | ".sops.yaml"
            | ".flux.yaml"
    ) {
        return true;
    }
    // root-anchored CI files (no leading `**/` in the patterns, but
    // gitignore matches a slash-free pattern at any depth)
    matches!(
        base,
        ".travis.yml"
            | ".gitlab-ci.yml"
            | "appveyor.yml"
            | ".drone.yml"
            | "cloudbuild.yaml"
            | "codeship-services.yml"
            | "codeship-steps.yml"
    )
}

const FLUX_SPEC_HANDLED: &[&str] = &[
    // rendering
    "path",
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "images",
    "components",
    "ignoreMissingComponents",
    "postBuild",
    "commonMetadata",
    "decryption",
    // reconciliation only: no effect on what is applied
    "sourceRef",
    "interval",
    "retryInterval",
    "timeout",
    "prune",
    "wait",
    "force",
    "suspend",
    "dependsOn",
    "healthChecks",
    "healthCheckExprs",
    "serviceAccountName",
    "kubeConfig",
    "deletionPolicy",
    "validation",
];

fn render_flux(
    files: &dyn Tree,
    root: &ControllerRoot,
    spec: &Node,
    vars_from: &Result<Vec<(String, String, String, u32)>, RenderError>,
    source_ignore: bool,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    let cf = root.file.as_str();
    let path = root.path.as_str();
    for e in spec.as_map().unwrap_or(&[]) {
        if !FLUX_SPEC_HANDLED.contains(&e.key.as_str()) {
            return Err(unrenderable(
                cf,
                e.key_span.line,
                &format!("spec.{}", e.key),
                format!("Flux Kustomization field `{}` is not applied here", e.key),
            ));
        }
    }
    if !files.is_dir(path) {
        return Err(err_at(
            RenderErrorKind::NotFound,
            cf,
            spec.key_line("path"),
            format!(
                "kustomization path not found: {}",
                if path.is_empty() { "." } else { path }
            ),
        ));
    }
    let (mut doc, kpath) = match find_kustomization(files, path) {
        Some(k) => (load_kustomization(files, &k, limits)?.0, k),
        None => (
            generated_kustomization(files, root, spec, source_ignore)?,
            join_dir(path, "kustomization.yaml"),
        ),
    };
    flux_edits(&mut doc, spec, root, files, cf)?;
    let mut r = render_edited(files, path, &kpath, &doc, 0, cf, limits)?;
    let cid = file_index(&mut r.files, cf);
    // SOPS: an encrypted value cannot be judged
    if spec.get("decryption").is_some() {
        for o in &r.objects {
            if o.get("sops").is_some() && str_of(o, &["kind"]) != Some("Secret") {
                return Err(unrenderable(
                    cf,
                    spec.key_line("decryption"),
                    "spec.decryption",
                    format!(
                        "{} {} is SOPS-encrypted: its values are only known after decryption",
                        str_of(o, &["kind"]).unwrap_or(""),
                        str_of(o, &["metadata", "name"]).unwrap_or("")
                    ),
                ));
            }
        }
    }
    if let Some(pb) = spec.get("postBuild") {
        post_build(&mut r, files, pb, vars_from, cf, cid, root.flux_strict)?;
    }
    if let Some(cm) = spec.get("commonMetadata") {
        for key in ["labels", "annotations"] {
            let Some(entries) = cm.get(key).and_then(Node::as_map) else {
                continue;
            };
            for o in &mut r.objects {
                let span = Span {
                    file: cid,
                    ..cm.span
                };
                let meta = super::resource::ensure_map(o, "metadata", span);
                let m = super::resource::ensure_map(meta, key, span);
                for e in entries {
                    let mut v = Node::new(Value::Str(text_of(&e.value)), e.value.span);
                    v.span.file = cid;
                    set_field(
                        m,
                        &e.key,
                        v,
                        Span {
                            file: cid,
                            ..e.key_span
                        },
                    );
                }
            }
        }
    }
    Ok(r)
}

/// The kustomization Flux writes when the path has none: every YAML file
/// below it, and every directory that has a kustomization (not looking
/// inside), in walk order; `namespace: _placeholder` when there is none.
fn generated_kustomization(
    files: &dyn Tree,
    root: &ControllerRoot,
    spec: &Node,
    source_ignore: bool,
) -> Result<Node, RenderError> {
    let cf = root.file.as_str();
    let path = root.path.as_str();
    let line = spec.key_line("path").max(root.line);
    let span = Span {
        line,
        col: 1,
        file: FROM_CONTROLLER,
    };
    if source_ignore {
        return Err(unrenderable(
            cf,
            line,
            "GitRepository spec.ignore",
            "the GitRepository's `ignore` rules decide which files Flux's generated kustomization lists; not applied here",
        ));
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut list = files.files_under(path);
    walk_order(&mut list);
    let mut resources: Vec<Node> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for f in &list {
        let rel = &f[prefix.len()..];
        if skipped.iter().any(|d| rel.starts_with(&format!("{d}/"))) {
            continue;
        }
        // every ancestor directory of the file below the path, outermost first
        let segs: Vec<&str> = rel.split('/').collect();
        let mut found_dir = None;
        for i in 1..segs.len() {
            let d = segs[..i].join("/");
            if find_kustomization(files, &join_dir(path, &d)).is_some() {
                found_dir = Some(d);
                break;
            }
        }
        if let Some(d) = found_dir {
            resources.push(str_node(&format!("./{d}"), span));
            skipped.push(d);
            continue;
        }
        let sourceignore = (0..segs.len()).any(|i| {
            let d = join_dir(path, &segs[..i].join("/"));
            files.is_file(&join_dir(d.trim_end_matches('/'), ".sourceignore"))
        }) || files.is_file(".sourceignore");
        if sourceignore {
            return Err(unrenderable(
                cf,
                line,
                ".sourceignore",
                "a `.sourceignore` decides which files Flux's generated kustomization lists; not applied here",
            ));
        }
        if !(rel.ends_with(".yaml") || rel.ends_with(".yml")) || flux_default_ignored(f) {
            continue;
        }
        resources.push(str_node(&format!("./{rel}"), span));
    }
    let mut entries = vec![
        Entry {
            key: "apiVersion".into(),
            key_span: span,
            value: str_node("kustomize.config.k8s.io/v1beta1", span),
        },
        Entry {
            key: "kind".into(),
            key_span: span,
            value: str_node("Kustomization", span),
        },
    ];
    if resources.is_empty() {
        entries.push(Entry {
            key: "namespace".into(),
            key_span: span,
            value: str_node("_placeholder", span),
        });
    } else {
        entries.push(Entry {
            key: "resources".into(),
            key_span: span,
            value: Node::new(Value::Seq(resources), span),
        });
    }
    Ok(Node::new(Value::Map(entries), span))
}

/// Flux's generator edits: `targetNamespace` → `namespace`, `namePrefix`,
/// `nameSuffix`, `patches` appended, `components` appended, `images`
/// merged by name.
fn flux_edits(
    doc: &mut Node,
    spec: &Node,
    root: &ControllerRoot,
    files: &dyn Files,
    cf: &str,
) -> Result<(), RenderError> {
    fold_legacy(doc);
    for (from, to) in [
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
    ] {
        if let Some(e) = spec.entry(from) {
            set_field(doc, to, from_controller(&e.value), ctl_span(e.key_span));
        }
    }
    if let Some(ps) = spec
        .get("patches")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        let mut added = Vec::new();
        for p in ps {
            let mut entries = Vec::new();
            for e in p.as_map().unwrap_or(&[]) {
                if !matches!(e.key.as_str(), "patch" | "target") {
                    return Err(unrenderable(
                        cf,
                        e.key_span.line,
                        &format!("spec.patches.{}", e.key),
                        format!("Flux patch field `{}` is not part of Flux's Patch", e.key),
                    ));
                }
                entries.push(Entry {
                    key: e.key.clone(),
                    key_span: ctl_span(e.key_span),
                    value: from_controller(&e.value),
                });
            }
            added.push(Node::new(Value::Map(entries), ctl_span(p.span)));
        }
        append_seq(
            doc,
            "patches",
            added,
            ctl_span(spec.entry("patches").expect("present").key_span),
        )
        .map_err(|m| err_at(RenderErrorKind::Invalid, cf, spec.key_line("patches"), m))?;
    }
    if let Some(cs) = spec
        .get("components")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        let ignore_missing = spec
            .get("ignoreMissingComponents")
            .and_then(Node::as_bool)
            .unwrap_or(false);
        let mut added = Vec::new();
        for c in cs {
            let rel = text_of(c);
            // IsLocalRelativePath
            if rel.starts_with('/')
                || rel.contains("://")
                || super::join(&root.path, &rel).is_none()
            {
                return Err(err_at(
                    RenderErrorKind::Invalid,
                    cf,
                    c.span.line,
                    format!("component path '{rel}' must be local and relative"),
                ));
            }
            let exists = super::join(&root.path, &rel)
                .is_some_and(|t| files.is_dir(&t) || files.is_file(&t));
            if !exists && ignore_missing {
                continue;
            }
            added.push(from_controller(c));
        }
        if !added.is_empty() {
            append_seq(
                doc,
                "components",
                added,
                ctl_span(spec.entry("components").expect("present").key_span),
            )
            .map_err(|m| err_at(RenderErrorKind::Invalid, cf, spec.key_line("components"), m))?;
        }
    }
    if let Some(imgs) = spec
        .get("images")
        .and_then(Node::as_seq)
        .filter(|s| !s.is_empty())
    {
        let mut list: Vec<Node> = doc
            .get("images")
            .and_then(Node::as_seq)
            .map(<[Node]>::to_vec)
            .unwrap_or_default();
        for n in imgs {
            let im = parse_existing_image(n);
            let im = Img {
                span: ctl_span(im.span),
                extra: Vec::new(),
                ..im
            };
            match list
                .iter()
                .position(|x| x.get("name").map(text_of).as_deref() == Some(im.name.as_str()))
            {
                Some(i) => {
                    let mut cur = parse_existing_image(&list[i]);
                    if !im.new_name.is_empty() {
                        cur.new_name = im.new_name.clone();
                    }
                    if !im.new_tag.is_empty() || !im.digest.is_empty() {
                        cur.new_tag = im.new_tag.clone();
                        cur.digest = im.digest.clone();
                    }
                    cur.span = im.span;
                    list[i] = image_node(&cur);
                }
                None => list.push(image_node(&im)),
            }
        }
        let span = ctl_span(spec.entry("images").expect("present").key_span);
        set_field(doc, "images", Node::new(Value::Seq(list), span), span);
    }
    Ok(())
}

/// Looks at the source line of a scalar to tell whether it was quoted.
struct SourceStyle<'a> {
    files: &'a dyn Files,
    table: &'a [String],
    cache: std::cell::RefCell<BTreeMap<u32, Option<String>>>,
}

impl StyleOf for SourceStyle<'_> {
    fn quoted(&self, span: Span, s: &str) -> bool {
        let mut cache = self.cache.borrow_mut();
        let text = cache.entry(span.file).or_insert_with(|| {
            let path = self.table.get(span.file as usize)?;
            let bytes = self.files.read(path)?;
            String::from_utf8(bytes.into_owned()).ok()
        });
        let Some(text) = text else { return false };
        let Some(line) = text.lines().nth((span.line as usize).wrapping_sub(1)) else {
            return false;
        };
        line.contains(&format!("\"{s}")) || line.contains(&format!("'{s}"))
    }
}

fn post_build(
    r: &mut Rendered,
    files: &dyn Files,
    pb: &Node,
    vars_from: &Result<Vec<(String, String, String, u32)>, RenderError>,
    cf: &str,
    cid: u32,
    strict: bool,
) -> Result<(), RenderError> {
    for e in pb.as_map().unwrap_or(&[]) {
        if !matches!(
            e.key.as_str(),
            "substitute" | "substituteFrom" | "substituteStrategy"
        ) {
            return Err(unrenderable(
                cf,
                e.key_span.line,
                &format!("postBuild.{}", e.key),
                format!("Flux postBuild field `{}` is not applied here", e.key),
            ));
        }
    }
    let from = vars_from.clone()?;
    let mut vars: BTreeMap<String, VarValue> = BTreeMap::new();
    for (name, value, file, line) in from {
        let id = file_index(&mut r.files, &file);
        vars.insert(
            name,
            VarValue {
                value,
                span: Span {
                    line,
                    col: 1,
                    file: id,
                },
            },
        );
    }
    for e in pb.get("substitute").and_then(Node::as_map).unwrap_or(&[]) {
        vars.insert(
            e.key.clone(),
            VarValue {
                value: text_of(&e.value).replace('\n', ""),
                span: Span {
                    file: cid,
                    ..e.key_span
                },
            },
        );
    }
    if let Some((bad, v)) = vars.iter().find(|(k, _)| !flux::valid_var_name(k)) {
        return Err(err_at(
            RenderErrorKind::Invalid,
            r.files.get(v.span.file as usize).map_or(cf, String::as_str),
            v.span.line,
            format!(
                "'{bad}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            ),
        ));
    }
    let always = pb.get("substituteStrategy").and_then(Node::as_str) == Some("Always");
    if vars.is_empty() && !always {
        return Ok(());
    }
    let table = r.files.clone();
    let style = SourceStyle {
        files,
        table: &table,
        cache: Default::default(),
    };
    for o in &mut r.objects {
        if flux::substitution_disabled(o) {
            continue;
        }
        let kind = str_of(o, &["kind"]).unwrap_or("").to_owned();
        let name = str_of(o, &["metadata", "name"]).unwrap_or("").to_owned();
        flux::substitute(o, &vars, strict, &style).map_err(|e| match e {
            SubstError::Invalid(m) => err_at(
                RenderErrorKind::Invalid,
                cf,
                pb.span.line,
                format!("post build failed for '{kind}/{name}': {m}"),
            ),
            SubstError::Unrenderable(reference, m) => unrenderable(
                cf,
                pb.span.line,
                &reference,
                format!("post build of '{kind}/{name}': {m}"),
            ),
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "controllers_tests.rs"]
mod tests;
