//! Argo CD `Application`s (and `ApplicationSet` templates) judged against
//! their **own** AppProject (`spec.project`), as Argo CD's
//! `util/argo.ValidatePermissions` and the controller's project lookup do:
//!
//! - the project exists among the repository's AppProjects (the files
//!   `tenants.projects` selects). An empty `spec.project` is `default`
//!   (`ApplicationSpec.GetProject`); a `default` project that is not in the
//!   repository is unknown too: its real contents live in the cluster, so
//!   nothing proves what it allows (fail closed). Rule `unbound-path`: what
//!   the Application deploys is checked against no project.
//! - every source `repoURL` (`source`, every `sources[]`, or
//!   `sourceHydrator.drySource` and its `syncSource`) is permitted by
//!   `sourceRepos` ([`AppProject::is_source_permitted`]: globs, `!`,
//!   `NormalizeGitURL`'s case/`.git`/scp-form normalisation; a trailing
//!   slash is significant, as in Argo CD). Rule `tenant-source-repo`.
//! - the destination is permitted by `destinations`
//!   ([`DestinationMatcher`], Argo CD's `isDestinationMatched`). A
//!   destination names a server or a cluster name, not both
//!   (`GetDestinationServer`); the server loses trailing slashes. Argo CD
//!   resolves the other half from its cluster secrets, which are not in the
//!   repository: only the in-cluster cluster is known (`in-cluster` ⇔
//!   `https://kubernetes.default.svc`); otherwise the unknown half is empty,
//!   which can only make the check stricter (an empty value matches no
//!   pattern and leaves `!` entries armed). Rule `tenant-namespace`.
//! - the Application's own namespace is permitted by `sourceNamespaces`
//!   (`IsAppNamespacePermitted`) unless it is the control-plane namespace.
//!   The control-plane namespace is the project's `metadata.namespace`
//!   (Argo CD reads AppProjects only from its own namespace), else
//!   `argocd`, Argo CD's install default. Rule `tenant-namespace`.
//!
//! ApplicationSets: the template's fields are checked after substituting
//! each `list` generator element (`{{key}}` / `{{values.key}}`, or with
//! `goTemplate` `{{.key}}`); the generated Applications live in the
//! ApplicationSet's namespace. With other generators (git, cluster,
//! matrix, …) literal fields are still checked, and a checked field that is
//! templated (or still templated after substitution: expressions, unknown
//! keys), or a `templatePatch` touching those fields, cannot be judged:
//! `unrendered-template`. No generator, or only empty lists, generates no
//! Application.
//!
//! Only active when `tenants.projects` is configured: without it the
//! repository holds no projects to check against.

use std::collections::BTreeMap;

use crate::engine::config::TenantsConfig;
use crate::engine::manifests::appproject::{AppProject, DestinationMatcher};
use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Node, Value};

/// Argo CD's in-cluster API server.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
/// Argo CD's name for the in-cluster cluster.
pub const IN_CLUSTER_NAME: &str = "in-cluster";
/// Argo CD's default install (control-plane) namespace.
pub const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "argocd";

const UNKNOWN_PROJECT: &str = "unbound-path";
const SOURCE: &str = "tenant-source-repo";
const DESTINATION: &str = "tenant-namespace";
const UNRENDERED: &str = "unrendered-template";

/// The repository's AppProjects, prepared once per evaluation.
#[derive(Clone, Debug, Default)]
pub struct Applications {
    enabled: bool,
    projects: Vec<(AppProject, DestinationMatcher)>,
}

/// A string field of the Application spec: its value and the line that
/// introduced it (the template key, or the list element's key).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    value: String,
    line: u32,
}

/// One list-generator element: parameter name → (value, line).
type Params = BTreeMap<String, (String, u32)>;

/// How template strings are resolved.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// An Application: values are literal.
    Literal,
    /// An ApplicationSet element (`go`: `goTemplate: true`).
    Element { params: &'a Params, go: bool },
    /// An ApplicationSet field with no list element to substitute.
    Unknown,
}

/// What a spec check reports against.
struct Target<'a> {
    /// `Application \`x\`` or `ApplicationSet \`x\` element 2`, for messages.
    what: String,
    /// The Application's namespace (generated ones: the ApplicationSet's).
    app_namespace: Option<&'a str>,
    /// Line of `metadata.namespace`, or of the object.
    namespace_line: u32,
    /// Line of the object (fallback for absent fields).
    line: u32,
}

impl Applications {
    /// Prepares the projects. Disabled (checks nothing) when
    /// `tenants.projects` is empty.
    pub fn new(config: &TenantsConfig, projects: &[AppProject]) -> Self {
        Self {
            enabled: !config.projects.is_empty(),
            projects: projects
                .iter()
                .map(|p| (p.clone(), DestinationMatcher::new(p)))
                .collect(),
        }
    }

    /// Checks one object; anything but an `argoproj.io` Application or
    /// ApplicationSet yields nothing. `app_namespace` is the namespace the
    /// object will live in (its own, or the one kustomize or the binding
    /// gives it); `None` is the control-plane namespace.
    pub fn check(&self, obj: &Object, app_namespace: Option<&str>) -> Vec<Violation> {
        let mut out = Vec::new();
        if !self.enabled || obj.group() != "argoproj.io" {
            return out;
        }
        let namespace_line = if obj.namespace.is_some() {
            obj.line_of(&["metadata", "namespace"])
        } else {
            obj.line
        };
        let app_namespace = app_namespace.filter(|n| !n.is_empty());
        match obj.kind.as_str() {
            "Application" => {
                let target = Target {
                    what: format!("Application `{}`", obj.name),
                    app_namespace,
                    namespace_line,
                    line: obj.line,
                };
                match obj.root.get("spec").filter(|s| s.as_map().is_some()) {
                    Some(spec) => self.check_spec(spec, &target, Mode::Literal, &mut out),
                    None => self.check_spec(&empty_map(obj.line), &target, Mode::Literal, &mut out),
                }
            }
            "ApplicationSet" => self.check_set(obj, app_namespace, namespace_line, &mut out),
            _ => {}
        }
        dedup(&mut out);
        out
    }

    fn check_set(
        &self,
        obj: &Object,
        app_namespace: Option<&str>,
        namespace_line: u32,
        out: &mut Vec<Violation>,
    ) {
        let Some(spec) = obj.root.get("spec") else {
            return;
        };
        let go = spec.get("goTemplate").and_then(Node::as_bool) == Some(true);
        if let Some(e) = spec.entry("templatePatch")
            && e.value.as_str().is_some_and(|t| {
                ["project", "destination", "repoURL", "source", "namespace"]
                    .iter()
                    .any(|k| t.contains(k))
            })
        {
            out.push(Violation::new(
                UNRENDERED,
                e.key_span.line,
                format!(
                    "ApplicationSet `{}`: templatePatch changes the project, source or destination of the generated Applications, which cannot be checked against their AppProject before rendering; set them in `template`",
                    obj.name
                ),
            ));
        }
        let Some(template_spec) = spec.path(&["template", "spec"]) else {
            return;
        };
        let (elements, others) = list_elements(spec, go);
        let name = &obj.name;
        let target = |what: String| Target {
            what,
            app_namespace,
            namespace_line,
            line: obj.line,
        };
        for (i, params) in elements.iter().enumerate() {
            let t = target(format!("ApplicationSet `{name}` (list element {})", i + 1));
            self.check_spec(template_spec, &t, Mode::Element { params, go }, out);
        }
        // Other generators' values are unknown offline: literal fields are
        // still checked, templated ones reported. (No generator, or only
        // empty lists, generates no Application at all.)
        if !others.is_empty() {
            let t = target(format!(
                "ApplicationSet `{name}` (values from the {} generator)",
                others.join(", ")
            ));
            self.check_spec(template_spec, &t, Mode::Unknown, out);
        }
    }

    /// `ValidatePermissions` for one Application spec.
    fn check_spec(&self, spec: &Node, t: &Target<'_>, mode: Mode<'_>, out: &mut Vec<Violation>) {
        let what = &t.what;
        // The project.
        let project = match resolve(spec, "project", t.line, mode) {
            Resolved::Field(f) if f.value.is_empty() => Field {
                value: "default".into(),
                line: f.line,
            },
            Resolved::Field(f) => f,
            Resolved::Absent => Field {
                value: "default".into(),
                line: t.line,
            },
            Resolved::Templated(f) => {
                out.push(templated(what, "spec.project", &f));
                return;
            }
            Resolved::NotString(line, ty) => {
                out.push(Violation::new(
                    UNKNOWN_PROJECT,
                    line,
                    format!("{what}: spec.project is a {ty}, not a project name"),
                ));
                return;
            }
        };
        let projects: Vec<&(AppProject, DestinationMatcher)> = self
            .projects
            .iter()
            .filter(|(p, _)| p.name == project.value)
            .collect();
        if projects.is_empty() {
            let known: Vec<&str> = self.projects.iter().map(|(p, _)| p.name.as_str()).collect();
            out.push(Violation::new(
                UNKNOWN_PROJECT,
                project.line,
                format!(
                    "{what} names AppProject `{}`, which no file matched by tenants.projects defines (known: [{}]): Argo CD refuses it, or uses a project this repository cannot see, so what it deploys is checked against no project; name a project defined in the repository",
                    project.value,
                    known.join(", ")
                ),
            ));
            return;
        }

        // The Application's own namespace.
        if let Some(ns) = t.app_namespace {
            for (p, _) in &projects {
                let control = p
                    .namespace
                    .as_deref()
                    .unwrap_or(DEFAULT_CONTROL_PLANE_NAMESPACE);
                if !p.is_app_namespace_permitted(ns, control) {
                    out.push(Violation::new(
                        DESTINATION,
                        t.namespace_line,
                        format!(
                            "{what} lives in namespace `{ns}`, outside the control-plane namespace `{control}`, and spec.sourceNamespaces of {} does not permit it (sourceNamespaces: [{}]); Argo CD ignores it. Move it to `{control}` or add the namespace to sourceNamespaces",
                            describe(p),
                            p.source_namespaces.join(", ")
                        ),
                    ));
                }
            }
        }

        // Sources.
        for src in sources(spec, t.line, mode) {
            match src {
                Resolved::Field(f) if f.value.is_empty() => out.push(Violation::new(
                    SOURCE,
                    f.line,
                    format!("{what}: a source has an empty repoURL (Argo CD requires one)"),
                )),
                Resolved::Field(f) => {
                    for (p, _) in &projects {
                        if !p.is_source_permitted(&f.value) {
                            out.push(Violation::new(
                                SOURCE,
                                f.line,
                                format!(
                                    "{what}: application repo `{}` is not permitted in project '{}': spec.sourceRepos of {} is [{}]",
                                    f.value,
                                    p.name,
                                    describe(p),
                                    p.source_repos.join(", ")
                                ),
                            ));
                        }
                    }
                }
                Resolved::Absent => out.push(Violation::new(
                    SOURCE,
                    t.line,
                    format!("{what}: a source has no repoURL (Argo CD requires one)"),
                )),
                Resolved::Templated(f) => out.push(templated(what, "repoURL", &f)),
                Resolved::NotString(line, ty) => out.push(Violation::new(
                    SOURCE,
                    line,
                    format!("{what}: repoURL is a {ty}, not a URL"),
                )),
            }
        }

        // Destination.
        self.check_destination(spec, t, mode, &projects, out);
    }

    fn check_destination(
        &self,
        spec: &Node,
        t: &Target<'_>,
        mode: Mode<'_>,
        projects: &[&(AppProject, DestinationMatcher)],
        out: &mut Vec<Violation>,
    ) {
        let what = &t.what;
        let Some(dest) = spec.get("destination").filter(|d| d.as_map().is_some()) else {
            out.push(Violation::new(
                DESTINATION,
                spec.entry("destination").map_or(t.line, |e| e.key_span.line),
                format!("{what} has no spec.destination, so its destination cannot be checked (Argo CD refuses it)"),
            ));
            return;
        };
        let dest_line = spec.key_line("destination");
        let mut get = |key: &str| -> Option<Field> {
            match resolve(dest, key, dest_line, mode) {
                Resolved::Field(f) => Some(f),
                Resolved::Absent => Some(Field {
                    value: String::new(),
                    line: dest_line,
                }),
                Resolved::Templated(f) => {
                    out.push(templated(what, &format!("destination.{key}"), &f));
                    None
                }
                Resolved::NotString(line, ty) => {
                    out.push(Violation::new(
                        DESTINATION,
                        line,
                        format!("{what}: destination.{key} is a {ty}, not a string"),
                    ));
                    None
                }
            }
        };
        let (Some(server), Some(name), Some(namespace)) =
            (get("server"), get("name"), get("namespace"))
        else {
            return;
        };
        let server_value = server.value.trim_end_matches('/').to_owned();
        let (server_value, name_value) = match (server_value.is_empty(), name.value.is_empty()) {
            (false, false) => {
                out.push(Violation::new(
                    DESTINATION,
                    name.line,
                    format!(
                        "{what}: application destination can't have both name and server defined: {} {}",
                        name.value, server.value
                    ),
                ));
                return;
            }
            (true, true) => {
                out.push(Violation::new(
                    DESTINATION,
                    dest_line,
                    format!("{what}: destination names neither a server nor a cluster name, so it cannot be checked (Argo CD refuses it)"),
                ));
                return;
            }
            (false, true) => {
                let name = if server_value == IN_CLUSTER_SERVER {
                    IN_CLUSTER_NAME.to_owned()
                } else {
                    String::new()
                };
                (server_value, name)
            }
            (true, false) => {
                let server = if name.value == IN_CLUSTER_NAME {
                    IN_CLUSTER_SERVER.to_owned()
                } else {
                    String::new()
                };
                (server, name.value.clone())
            }
        };
        let shown = if name.value.is_empty() {
            &server_value
        } else {
            &name_value
        };
        for (p, matcher) in projects {
            if !matcher.is_permitted(&server_value, &name_value, &namespace.value) {
                let dests: Vec<String> = p
                    .destinations
                    .iter()
                    .map(|d| {
                        let mut s = String::from("{");
                        if !d.server.is_empty() {
                            s.push_str(&format!("server: '{}', ", d.server));
                        }
                        if !d.name.is_empty() {
                            s.push_str(&format!("name: '{}', ", d.name));
                        }
                        s.push_str(&format!("namespace: '{}'}}", d.namespace));
                        s
                    })
                    .collect();
                out.push(Violation::new(
                    DESTINATION,
                    namespace.line,
                    format!(
                        "{what}: application destination server '{shown}' and namespace '{}' do not match any of the allowed destinations in project '{}' ({}: destinations [{}])",
                        namespace.value,
                        p.name,
                        describe(p),
                        dests.join(", ")
                    ),
                ));
            }
        }
    }
}

fn describe(p: &AppProject) -> String {
    format!("AppProject `{}` ({}:{})", p.name, p.file, p.line)
}

fn templated(what: &str, field: &str, f: &Field) -> Violation {
    Violation::new(
        UNRENDERED,
        f.line,
        format!(
            "{what}: {field} `{}` is templated and cannot be checked against its AppProject before the ApplicationSet controller renders it; use a list generator with literal elements, or a literal value",
            f.value
        ),
    )
}

fn empty_map(line: u32) -> Node {
    Node::new(
        Value::Map(Vec::new()),
        crate::engine::yaml::Span {
            line,
            ..Default::default()
        },
    )
}

fn dedup(out: &mut Vec<Violation>) {
    let mut seen = std::collections::HashSet::new();
    out.retain(|v| seen.insert((v.rule.clone(), v.line, v.message.clone())));
}

/// A spec field after template resolution.
enum Resolved {
    Field(Field),
    Absent,
    /// Still holds `{{`: cannot be judged.
    Templated(Field),
    /// Not a string (line, type name).
    NotString(u32, &'static str),
}

fn resolve(map: &Node, key: &str, fallback_line: u32, mode: Mode<'_>) -> Resolved {
    let Some(e) = map.entry(key) else {
        return Resolved::Absent;
    };
    // A key always has a line; the fallback only guards a synthetic node.
    let line = if e.key_span.line == 0 {
        fallback_line
    } else {
        e.key_span.line
    };
    let raw = match &e.value.value {
        Value::Null => return Resolved::Absent,
        Value::Str(s) => s.clone(),
        _ => return Resolved::NotString(line, e.value.type_name()),
    };
    match mode {
        Mode::Literal => Resolved::Field(Field { value: raw, line }),
        Mode::Unknown if raw.contains("{{") => Resolved::Templated(Field { value: raw, line }),
        Mode::Unknown => Resolved::Field(Field { value: raw, line }),
        Mode::Element { params, go } => {
            let (value, from) = substitute(&raw, params, go);
            let f = Field {
                value,
                line: from.unwrap_or(line),
            };
            if f.value.contains("{{") {
                Resolved::Templated(Field { value: raw, line })
            } else {
                Resolved::Field(f)
            }
        }
    }
}

/// The `repoURL`s `ValidatePermissions` checks: the hydrator's dry and sync
/// sources, else every `sources[]`, else `source`.
fn sources(spec: &Node, line: u32, mode: Mode<'_>) -> Vec<Resolved> {
    if let Some(h) = spec.get("sourceHydrator").filter(|h| h.as_map().is_some()) {
        let mut out = Vec::new();
        let dry = h.get("drySource").filter(|d| d.as_map().is_some());
        let dry_url = dry.map(|d| resolve(d, "repoURL", line, mode));
        let sync_url = h
            .get("syncSource")
            .filter(|s| s.as_map().is_some())
            .map(|s| resolve(s, "repoURL", line, mode));
        match dry_url {
            Some(u) => out.push(u),
            None => out.push(Resolved::Absent),
        }
        // syncSource.repoURL defaults to the dry source's.
        if let Some(u @ (Resolved::Field(_) | Resolved::Templated(_) | Resolved::NotString(..))) =
            sync_url
        {
            out.push(u);
        }
        return out;
    }
    if let Some(list) = spec.get("sources").and_then(Node::as_seq)
        && !list.is_empty()
    {
        return list
            .iter()
            .map(|s| {
                if s.as_map().is_some() {
                    resolve(s, "repoURL", s.span.line, mode)
                } else {
                    Resolved::NotString(s.span.line, s.type_name())
                }
            })
            .collect();
    }
    match spec.get("source").filter(|s| s.as_map().is_some()) {
        Some(s) => vec![resolve(s, "repoURL", spec.key_line("source"), mode)],
        None => vec![Resolved::Absent],
    }
}

/// The list generators' elements (each a parameter set) and the names of
/// the other generators (whose values cannot be known offline).
fn list_elements(spec: &Node, go: bool) -> (Vec<Params>, Vec<String>) {
    let mut elements = Vec::new();
    let mut others = Vec::new();
    for g in spec
        .get("generators")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        for e in g.as_map().unwrap_or_default() {
            if e.key == "selector" {
                continue;
            }
            let literal = e
                .value
                .get("elements")
                .and_then(Node::as_seq)
                .filter(|_| e.key == "list" && e.value.get("elementsYaml").is_none());
            match literal {
                Some(items) => {
                    for item in items {
                        match element_params(item, go) {
                            Some(p) => elements.push(p),
                            None => others.push("list (non-string element)".to_owned()),
                        }
                    }
                }
                None => others.push(format!("`{}`", e.key)),
            }
        }
    }
    others.dedup();
    (elements, others)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// One element's parameters. Without goTemplate, Argo CD requires string
/// values except `values`, a map flattened to `values.<key>`; with it,
/// nested maps are reachable as `.a.b`.
fn element_params(item: &Node, go: bool) -> Option<Params> {
    let mut out = Params::new();
    fn walk(prefix: &str, node: &Node, out: &mut Params, depth: usize) {
        for e in node.as_map().unwrap_or_default() {
            let key = format!("{prefix}{}", e.key);
            if let Some(s) = scalar(&e.value.value) {
                out.insert(key, (s, e.key_span.line));
            } else if depth < 8 && e.value.as_map().is_some() {
                walk(&format!("{key}."), &e.value, out, depth + 1);
            }
        }
    }
    for e in item.as_map()? {
        if let Value::Str(s) = &e.value.value {
            out.insert(e.key.clone(), (s.clone(), e.key_span.line));
        } else if e.key == "values" || go {
            if let Some(s) = scalar(&e.value.value) {
                out.insert(e.key.clone(), (s, e.key_span.line));
            } else if e.value.as_map().is_some() {
                walk(&format!("{}.", e.key), &e.value, &mut out, 0);
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// Replaces the `{{ … }}` tags `params` can fill (fasttemplate: the tag
/// trimmed; goTemplate: `{{ .path }}` with optional `-` trim markers);
/// other tags stay, so the result still contains `{{`. Returns the line of
/// the first parameter used.
fn substitute(raw: &str, params: &Params, go: bool) -> (String, Option<u32>) {
    let mut out = String::new();
    let mut from = None;
    let mut rest = raw;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        let tag = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        let key = if go {
            let t = tag.strip_prefix('-').unwrap_or(tag);
            let t = t.strip_suffix('-').unwrap_or(t).trim();
            t.strip_prefix('.')
                .filter(|k| !k.is_empty() && !k.contains(char::is_whitespace))
        } else {
            Some(tag.trim()).filter(|k| !k.is_empty())
        };
        match key.and_then(|k| params.get(k)) {
            Some((v, line)) => {
                out.push_str(v);
                from.get_or_insert(*line);
            }
            None => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    (out, from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        load_objects("apps/app.yaml", text, &Limits::default())
            .objects
            .remove(0)
    }

    fn project(name: &str, spec: &str) -> AppProject {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n{spec}"
        );
        AppProject::from_object(
            &load_objects("projects/p.yaml", &text, &Limits::default())
                .objects
                .remove(0),
        )
        .unwrap()
    }

    fn lab() -> AppProject {
        project(
            "team-lab",
            "  sourceRepos: ['https://github.com/acme/lab-manifests']\n  destinations:\n  - server: https://kubernetes.default.svc\n    namespace: 'lab-*'\n  sourceNamespaces: ['team-lab', '/^ci-(?!prod)[a-z]+$/']\n",
        )
    }

    fn apps(projects: &[AppProject]) -> Applications {
        let config = TenantsConfig {
            projects: vec!["projects/*.yaml".into()],
            bindings: Vec::new(),
        };
        Applications::new(&config, projects)
    }

    fn app(project: &str, repo: &str, dest: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n  namespace: argocd\nspec:\n  project: {project}\n  source:\n    repoURL: {repo}\n    path: k8s\n  destination:\n{dest}"
        )
    }

    const REPO: &str = "https://github.com/acme/lab-manifests";
    const SVC_LAB: &str = "    server: https://kubernetes.default.svc\n    namespace: lab-a\n";

    fn rules(vs: &[Violation]) -> Vec<(&str, u32)> {
        vs.iter().map(|v| (v.rule.as_str(), v.line)).collect()
    }

    #[test]
    fn legitimate_application_passes() {
        let a = apps(&[lab()]);
        let o = obj(&app("team-lab", REPO, SVC_LAB));
        assert_eq!(a.check(&o, Some("argocd")), vec![]);
        // .git suffix and case are normalised, as NormalizeGitURL does
        let o = obj(&app(
            "team-lab",
            "https://GitHub.com/Acme/Lab-Manifests.git",
            SVC_LAB,
        ));
        assert_eq!(a.check(&o, Some("argocd")), vec![]);
    }

    #[test]
    fn kube_system_destination_is_denied_on_its_line() {
        let a = apps(&[lab()]);
        let o = obj(&app(
            "team-lab",
            REPO,
            "    server: https://kubernetes.default.svc\n    namespace: kube-system\n",
        ));
        let v = a.check(&o, Some("argocd"));
        assert_eq!(rules(&v), vec![("tenant-namespace", 13)]);
        assert!(v[0].message.contains("kube-system"), "{}", v[0].message);
    }

    #[test]
    fn repo_url_not_permitted() {
        let a = apps(&[lab()]);
        let o = obj(&app("team-lab", "https://github.com/evil/x", SVC_LAB));
        assert_eq!(rules(&a.check(&o, None)), vec![("tenant-source-repo", 9)]);
        // a trailing slash is not normalised away by Argo CD
        let o = obj(&app(
            "team-lab",
            "https://github.com/acme/lab-manifests/",
            SVC_LAB,
        ));
        assert_eq!(rules(&a.check(&o, None)), vec![("tenant-source-repo", 9)]);
        // ssh form of the same repository is another URL to Argo CD
        let o = obj(&app(
            "team-lab",
            "git@github.com:acme/lab-manifests.git",
            SVC_LAB,
        ));
        assert_eq!(rules(&a.check(&o, None)), vec![("tenant-source-repo", 9)]);
    }

    #[test]
    fn unknown_project_and_default() {
        let a = apps(&[lab()]);
        let o = obj(&app("team-other", REPO, SVC_LAB));
        assert_eq!(rules(&a.check(&o, None)), vec![("unbound-path", 7)]);
        // an absent project is `default`, which is unknown unless defined
        let text = app("team-lab", REPO, SVC_LAB).replace("  project: team-lab\n", "");
        let v = a.check(&obj(&text), None);
        assert_eq!(rules(&v), vec![("unbound-path", 1)]);
        assert!(v[0].message.contains("`default`"));
        let a = apps(&[
            lab(),
            project(
                "default",
                "  sourceRepos: ['*']\n  destinations:\n  - server: '*'\n    namespace: '*'\n",
            ),
        ]);
        assert_eq!(a.check(&obj(&text), None), vec![]);
        // disabled without tenants.projects
        let off = Applications::new(&TenantsConfig::default(), &[lab()]);
        assert_eq!(off.check(&obj(&app("nope", REPO, SVC_LAB)), None), vec![]);
    }

    #[test]
    fn in_cluster_name_equivalence() {
        let a = apps(&[lab()]);
        let o = obj(&app(
            "team-lab",
            REPO,
            "    name: in-cluster\n    namespace: lab-a\n",
        ));
        assert_eq!(a.check(&o, None), vec![]);
        // an unknown cluster name has no known server: the server entry
        // cannot match
        let o = obj(&app(
            "team-lab",
            REPO,
            "    name: prod\n    namespace: lab-a\n",
        ));
        assert_eq!(rules(&a.check(&o, None)), vec![("tenant-namespace", 13)]);
        // trailing slash on the server is trimmed (GetDestinationServer)
        let o = obj(&app(
            "team-lab",
            REPO,
            "    server: https://kubernetes.default.svc/\n    namespace: lab-a\n",
        ));
        assert_eq!(a.check(&o, None), vec![]);
        // both name and server: Argo CD refuses
        let o = obj(&app(
            "team-lab",
            REPO,
            "    server: https://kubernetes.default.svc\n    name: in-cluster\n    namespace: lab-a\n",
        ));
        assert_eq!(rules(&a.check(&o, None)), vec![("tenant-namespace", 13)]);
    }

    #[test]
    fn source_namespaces_with_lookaround_regex() {
        let a = apps(&[lab()]);
        let o = obj(&app("team-lab", REPO, SVC_LAB));
        assert_eq!(a.check(&o, Some("team-lab")), vec![]);
        assert_eq!(a.check(&o, Some("ci-dev")), vec![]);
        // the negative lookahead excludes ci-prod…
        assert_eq!(
            rules(&a.check(&o, Some("ci-prodx"))),
            vec![("tenant-namespace", 5)]
        );
        assert_eq!(
            rules(&a.check(&o, Some("team-x"))),
            vec![("tenant-namespace", 5)]
        );
        // the control-plane namespace is always permitted
        assert_eq!(a.check(&o, Some("argocd")), vec![]);
        assert_eq!(a.check(&o, None), vec![]);
    }

    #[test]
    fn multiple_sources_each_checked() {
        let a = apps(&[lab()]);
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  project: team-lab\n  sources:\n  - repoURL: {REPO}\n    path: a\n  - repoURL: https://charts.evil.example\n    chart: x\n    targetRevision: 1.0.0\n  destination:\n{SVC_LAB}"
        );
        assert_eq!(
            rules(&a.check(&obj(&text), None)),
            vec![("tenant-source-repo", 10)]
        );
    }

    #[test]
    fn applicationset_list_elements_substituted() {
        let a = apps(&[lab()]);
        let set = |ns2: &str, go: bool| {
            let (t1, t2) = if go {
                ("{{ .ns }}", "{{.repo}}")
            } else {
                ("{{ns}}", "{{ repo }}")
            };
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\n  namespace: argocd\nspec:\n  goTemplate: {go}\n  generators:\n  - list:\n      elements:\n      - ns: lab-a\n        repo: {REPO}\n      - ns: {ns2}\n        repo: {REPO}\n  template:\n    metadata:\n      name: x\n    spec:\n      project: team-lab\n      source:\n        repoURL: '{t2}'\n        path: k\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{t1}'\n"
            )
        };
        for go in [false, true] {
            assert_eq!(a.check(&obj(&set("lab-b", go)), None), vec![], "go={go}");
            // the finding lands on the element line that introduced kube-system
            let v = a.check(&obj(&set("kube-system", go)), None);
            assert_eq!(rules(&v), vec![("tenant-namespace", 13)], "go={go}");
        }
    }

    #[test]
    fn applicationset_other_generators_are_unrendered() {
        let a = apps(&[lab()]);
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  generators:\n  - git:\n      repoURL: x\n  template:\n    spec:\n      project: team-lab\n      source:\n        repoURL: https://github.com/acme/lab-manifests\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{{path.basename}}'\n";
        let v = a.check(&obj(text), None);
        assert_eq!(rules(&v), vec![("unrendered-template", 16)]);
        // literal fields are still checked
        let bad = text.replace("lab-manifests", "evil");
        assert_eq!(
            rules(&a.check(&obj(&bad), None)),
            vec![("tenant-source-repo", 13), ("unrendered-template", 16)]
        );
    }

    #[test]
    fn applicationset_templated_project_and_empty_lists() {
        let a = apps(&[lab()]);
        let text = |generators: &str, project: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  generators:\n{generators}  template:\n    spec:\n      project: '{project}'\n      source:\n        repoURL: {REPO}\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: lab-a\n"
            )
        };
        // the element names the project: checked per element
        let list = |p: &str| format!("  - list:\n      elements:\n      - p: {p}\n");
        assert_eq!(
            a.check(&obj(&text(&list("team-lab"), "{{p}}")), None),
            vec![]
        );
        assert_eq!(
            rules(&a.check(&obj(&text(&list("platform"), "{{p}}")), None)),
            vec![("unbound-path", 9)]
        );
        // a project from another generator cannot be known
        let git = "  - git:\n      repoURL: x\n";
        assert_eq!(
            rules(&a.check(&obj(&text(git, "{{path.basename}}")), None)),
            vec![("unrendered-template", 11)]
        );
        // an empty list generates nothing
        let empty = "  - list:\n      elements: []\n";
        assert_eq!(a.check(&obj(&text(empty, "{{p}}")), None), vec![]);
        // a templatePatch that may change the destination is reported
        let patched = text(&list("team-lab"), "{{p}}").replace(
            "  template:\n",
            "  templatePatch: |\n    spec:\n      destination:\n        namespace: kube-system\n  template:\n",
        );
        assert_eq!(
            rules(&a.check(&obj(&patched), None)),
            vec![("unrendered-template", 10)]
        );
    }

    #[test]
    fn source_hydrator_sources() {
        let a = apps(&[lab()]);
        let text = |dry: &str, sync: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  project: team-lab\n  sourceHydrator:\n    drySource:\n      repoURL: {dry}\n      path: dry\n    syncSource:\n{sync}      targetBranch: env/lab\n      path: lab\n  destination:\n{SVC_LAB}"
            )
        };
        assert_eq!(a.check(&obj(&text(REPO, "")), None), vec![]);
        assert_eq!(
            rules(&a.check(&obj(&text("https://github.com/evil/dry", "")), None)),
            vec![("tenant-source-repo", 9)]
        );
        let sync = "      repoURL: https://github.com/evil/hydrated\n";
        assert_eq!(
            rules(&a.check(&obj(&text(REPO, sync)), None)),
            vec![("tenant-source-repo", 12)]
        );
    }

    #[test]
    fn duplicate_project_definitions_must_all_permit() {
        let strict = project(
            "team-lab",
            "  sourceRepos: ['https://github.com/acme/lab-manifests']\n  destinations:\n  - server: https://kubernetes.default.svc\n    namespace: lab-b\n",
        );
        let a = apps(&[lab(), strict]);
        let v = a.check(&obj(&app("team-lab", REPO, SVC_LAB)), None);
        assert_eq!(rules(&v), vec![("tenant-namespace", 13)]);
    }

    #[test]
    fn substitution() {
        let mut p = Params::new();
        p.insert("a".into(), ("x".into(), 3));
        p.insert("values.b".into(), ("y".into(), 4));
        assert_eq!(
            substitute("{{a}}-{{ values.b }}", &p, false),
            ("x-y".into(), Some(3))
        );
        assert_eq!(substitute("{{c}}", &p, false).0, "{{c}}");
        assert_eq!(substitute("{{- .a -}}", &p, true).0, "x");
        assert_eq!(
            substitute("{{ .a | upper }}", &p, true).0,
            "{{ .a | upper }}"
        );
        assert_eq!(substitute("{{a", &p, false).0, "{{a");
    }
}
