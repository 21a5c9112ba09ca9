//! Reading a `kustomization.yaml` (kustomize's `types.Kustomization`,
//! including the legacy fields it still accepts) into what the build
//! needs, with the span of every entry.

use std::collections::BTreeMap;

use crate::engine::yaml::{Node, Span};

use super::RenderError;
use super::RenderErrorKind;
use super::fieldspec::FieldSpec;
use super::generate::{Generator, Options};
use super::patch::Selector;
use super::resource::{Behavior, scalar_text};
use super::transform::{Image, Replica, Spanned};

/// File names kustomize recognises, in the order it looks for them.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields we cannot render offline (plugins, Helm) or do not implement:
/// rendering fails closed on them.
const UNRENDERABLE: &[&str] = &[
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "generators",
    "transformers",
    "validators",
    "replacements",
    "vars",
    "configurations",
    "crds",
    "openapi",
    "buildMetadata",
];

/// A patch of `patches`, `patchesStrategicMerge` or `patchesJson6902`.
#[derive(Clone, Debug)]
pub struct PatchEntry {
    /// `path:` (relative to the kustomization).
    pub path: Option<String>,
    /// `patch:` text.
    pub inline: Option<String>,
    /// Line `n` of the inline text is line `inline_line + n` of the file.
    pub inline_line: u32,
    /// `target:`.
    pub target: Option<Selector>,
    /// `options.allowNameChange`.
    pub allow_name_change: bool,
    /// `options.allowKindChange`.
    pub allow_kind_change: bool,
    /// The entry.
    pub span: Span,
}

/// One `labels:` entry.
#[derive(Clone, Debug)]
pub struct LabelEntry {
    /// The labels.
    pub pairs: BTreeMap<String, Spanned>,
    /// `includeSelectors`.
    pub include_selectors: bool,
    /// `includeTemplates`.
    pub include_templates: bool,
    /// `includeVolumeClaimTemplates`.
    pub include_volume_claim_templates: bool,
    /// `fields` (extra field specs).
    pub fields: Vec<FieldSpec>,
    /// The entry.
    pub span: Span,
}

/// `sortOptions`.
#[derive(Clone, Debug)]
pub enum Sort {
    /// Input order.
    Fifo,
    /// Legacy order with these `orderFirst`/`orderLast` kinds.
    Legacy(Vec<String>, Vec<String>),
}

/// A parsed kustomization.
#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    /// File id of the kustomization file.
    pub file: u32,
    /// `kind: Component`.
    pub is_component: bool,
    /// `resources` and legacy `bases`.
    pub resources: Vec<Spanned>,
    /// `components`.
    pub components: Vec<Spanned>,
    /// `namespace`.
    pub namespace: Option<Spanned>,
    /// `namePrefix`.
    pub name_prefix: Option<Spanned>,
    /// `nameSuffix`.
    pub name_suffix: Option<Spanned>,
    /// `commonLabels`.
    pub common_labels: BTreeMap<String, Spanned>,
    /// `labels`.
    pub labels: Vec<LabelEntry>,
    /// `commonAnnotations`.
    pub common_annotations: BTreeMap<String, Spanned>,
    /// `images`.
    pub images: Vec<Image>,
    /// `replicas`.
    pub replicas: Vec<Replica>,
    /// `patches`.
    pub patches: Vec<PatchEntry>,
    /// `patchesStrategicMerge`.
    pub patches_sm: Vec<PatchEntry>,
    /// `patchesJson6902`.
    pub patches_json: Vec<PatchEntry>,
    /// `configMapGenerator` then `secretGenerator`.
    pub generators: Vec<Generator>,
    /// `sortOptions`.
    pub sort: Option<Sort>,
}

type ErrFn<'a> = dyn Fn(u32, RenderErrorKind, String) -> RenderError + 'a;

fn string(n: &Node, what: &str, err: &ErrFn<'_>) -> Result<String, RenderError> {
    match &n.value {
        crate::engine::yaml::Value::Null => Ok(String::new()),
        _ => scalar_text(n).ok_or_else(|| {
            err(
                n.span.line,
                RenderErrorKind::Invalid,
                format!("`{what}` must be a string, not a {}", n.type_name()),
            )
        }),
    }
}

fn strings(n: &Node, what: &str, err: &ErrFn<'_>) -> Result<Vec<Spanned>, RenderError> {
    if n.is_null() {
        return Ok(Vec::new());
    }
    let items = n.as_seq().ok_or_else(|| {
        err(
            n.span.line,
            RenderErrorKind::Invalid,
            format!("`{what}` must be a list, not a {}", n.type_name()),
        )
    })?;
    items
        .iter()
        .map(|i| Ok((string(i, what, err)?, i.span)))
        .collect()
}

fn string_map(
    n: &Node,
    what: &str,
    err: &ErrFn<'_>,
) -> Result<BTreeMap<String, Spanned>, RenderError> {
    let mut out = BTreeMap::new();
    if n.is_null() {
        return Ok(out);
    }
    let entries = n.as_map().ok_or_else(|| {
        err(
            n.span.line,
            RenderErrorKind::Invalid,
            format!("`{what}` must be a mapping, not a {}", n.type_name()),
        )
    })?;
    for e in entries {
        out.insert(e.key.clone(), (string(&e.value, what, err)?, e.key_span));
    }
    Ok(out)
}

fn boolean(n: Option<&Node>, what: &str, err: &ErrFn<'_>) -> Result<bool, RenderError> {
    match n {
        None => Ok(false),
        Some(v) if v.is_null() => Ok(false),
        Some(v) => v.as_bool().ok_or_else(|| {
            err(
                v.span.line,
                RenderErrorKind::Invalid,
                format!("`{what}` must be true or false"),
            )
        }),
    }
}

fn map_entries<'n>(
    n: &'n Node,
    what: &str,
    err: &ErrFn<'_>,
) -> Result<&'n [crate::engine::yaml::Entry], RenderError> {
    n.as_map().ok_or_else(|| {
        err(
            n.span.line,
            RenderErrorKind::Invalid,
            format!("`{what}` entries must be mappings, not a {}", n.type_name()),
        )
    })
}

fn check_keys(n: &Node, allowed: &[&str], what: &str, err: &ErrFn<'_>) -> Result<(), RenderError> {
    for e in map_entries(n, what, err)? {
        if !allowed.contains(&e.key.as_str()) {
            return Err(err(
                e.key_span.line,
                RenderErrorKind::Invalid,
                format!("unknown field `{}` in `{what}`", e.key),
            ));
        }
    }
    Ok(())
}

fn selector(n: &Node, err: &ErrFn<'_>) -> Result<Selector, RenderError> {
    check_keys(
        n,
        &[
            "group",
            "version",
            "kind",
            "name",
            "namespace",
            "labelSelector",
            "annotationSelector",
        ],
        "target",
        err,
    )?;
    let g = |k: &str| -> Result<String, RenderError> {
        n.get(k)
            .map(|v| string(v, k, err))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(Selector {
        group: g("group")?,
        version: g("version")?,
        kind: g("kind")?,
        name: g("name")?,
        namespace: g("namespace")?,
        label_selector: g("labelSelector")?,
        annotation_selector: g("annotationSelector")?,
    })
}

/// Inline patch text and the line its first line is on, minus one.
fn inline(n: &Node, err: &ErrFn<'_>) -> Result<(String, u32), RenderError> {
    let text = string(n, "patch", err)?;
    // The loader places a scalar at its first content line (for a block
    // scalar, the line after `|`), so line n of the text is line
    // span + n - 1. A folded or quoted multi-line string may move later
    // lines; `patch: |` is what kustomizations use.
    let offset = n.span.line.saturating_sub(1);
    // kustomize trims the text; leading blank lines move the first line down
    let leading = text.len() - text.trim_start().len();
    let skipped = text[..leading].matches('\n').count() as u32;
    Ok((text.trim().to_owned(), offset + skipped))
}

fn generators(
    n: &Node,
    kind: &'static str,
    global: Option<&Options>,
    err: &ErrFn<'_>,
) -> Result<Vec<Generator>, RenderError> {
    let mut out = Vec::new();
    for item in n.as_seq().unwrap_or(&[]) {
        check_keys(
            item,
            &[
                "name",
                "namespace",
                "behavior",
                "files",
                "literals",
                "envs",
                "env",
                "type",
                "options",
            ],
            kind,
            err,
        )?;
        let s = |k: &str| -> Result<String, RenderError> {
            item.get(k)
                .map(|v| string(v, k, err))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let list = |k: &str| -> Result<Vec<String>, RenderError> {
            Ok(item
                .get(k)
                .map(|v| strings(v, k, err))
                .transpose()?
                .unwrap_or_default()
                .into_iter()
                .map(|x| x.0)
                .collect())
        };
        let behavior = match s("behavior")?.as_str() {
            "" | "create" => Behavior::Create,
            "replace" => Behavior::Replace,
            "merge" => Behavior::Merge,
            other => {
                return Err(err(
                    item.span.line,
                    RenderErrorKind::Invalid,
                    format!("unknown generator behavior `{other}`"),
                ));
            }
        };
        let mut envs = list("envs")?;
        let env = s("env")?;
        if !env.is_empty() {
            envs.push(env);
        }
        let local = match item.get("options") {
            Some(o) => options(o, err)?,
            None => Options::default(),
        };
        out.push(Generator {
            kind,
            name: s("name")?,
            namespace: s("namespace")?,
            behavior,
            envs,
            literals: list("literals")?,
            files: list("files")?,
            secret_type: s("type")?,
            options: local.merged_with(global),
            span: item.span,
        });
    }
    Ok(out)
}

fn options(n: &Node, err: &ErrFn<'_>) -> Result<Options, RenderError> {
    check_keys(
        n,
        &[
            "labels",
            "annotations",
            "disableNameSuffixHash",
            "immutable",
        ],
        "generatorOptions",
        err,
    )?;
    let m = |k: &str| -> Result<BTreeMap<String, String>, RenderError> {
        Ok(n.get(k)
            .map(|v| string_map(v, k, err))
            .transpose()?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect())
    };
    Ok(Options {
        labels: m("labels")?,
        annotations: m("annotations")?,
        disable_hash: boolean(n.get("disableNameSuffixHash"), "disableNameSuffixHash", err)?,
        immutable: boolean(n.get("immutable"), "immutable", err)?,
    })
}

impl Kustomization {
    /// Parses the documents of a kustomization file.
    pub fn parse(
        file: u32,
        _dir: &str,
        docs: Vec<Node>,
        err: &ErrFn<'_>,
    ) -> Result<Self, RenderError> {
        let mut k = Kustomization {
            file,
            ..Default::default()
        };
        let mut docs = docs.into_iter().filter(|d| !d.is_null());
        let Some(root) = docs.next() else {
            return Ok(k);
        };
        if docs.next().is_some() {
            return Err(err(
                1,
                RenderErrorKind::Invalid,
                "a kustomization file must hold one document".into(),
            ));
        }
        let entries = root.as_map().ok_or_else(|| {
            err(
                root.span.line,
                RenderErrorKind::Invalid,
                format!(
                    "a kustomization must be a mapping, not a {}",
                    root.type_name()
                ),
            )
        })?;
        let global = match root.get("generatorOptions") {
            Some(o) if !o.is_null() => Some(options(o, err)?),
            _ => None,
        };
        for e in entries {
            let v = &e.value;
            let line = e.key_span.line;
            match e.key.as_str() {
                k2 if UNRENDERABLE.contains(&k2) => {
                    if v.is_null()
                        || v.as_seq().is_some_and(<[_]>::is_empty)
                        || v.as_map().is_some_and(<[_]>::is_empty)
                    {
                        continue;
                    }
                    return Err(err(
                        line,
                        RenderErrorKind::Unrenderable {
                            reference: k2.to_owned(),
                        },
                        format!("`{k2}` is not rendered offline; the build cannot be judged"),
                    ));
                }
                "apiVersion" | "metadata" | "generatorOptions" => {}
                "kind" => {
                    let kind = string(v, "kind", err)?;
                    match kind.as_str() {
                        "" | "Kustomization" => {}
                        "Component" => k.is_component = true,
                        other => {
                            return Err(err(
                                line,
                                RenderErrorKind::Invalid,
                                format!("unexpected kind `{other}` for a kustomization"),
                            ));
                        }
                    }
                }
                "resources" | "bases" => k.resources.extend(strings(v, &e.key, err)?),
                "components" => k.components = strings(v, "components", err)?,
                "namespace" => {
                    let s = string(v, "namespace", err)?;
                    if !s.is_empty() {
                        k.namespace = Some((s, e.key_span));
                    }
                }
                "namePrefix" | "nameSuffix" => {
                    let s = string(v, &e.key, err)?;
                    if !s.is_empty() {
                        if e.key == "namePrefix" {
                            k.name_prefix = Some((s, e.key_span));
                        } else {
                            k.name_suffix = Some((s, e.key_span));
                        }
                    }
                }
                "commonLabels" => k.common_labels = string_map(v, "commonLabels", err)?,
                "commonAnnotations" => {
                    k.common_annotations = string_map(v, "commonAnnotations", err)?
                }
                "labels" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        check_keys(
                            item,
                            &[
                                "pairs",
                                "includeSelectors",
                                "includeTemplates",
                                "includeVolumeClaimTemplates",
                                "fields",
                            ],
                            "labels",
                            err,
                        )?;
                        let mut fields = Vec::new();
                        for f in item.get("fields").and_then(Node::as_seq).unwrap_or(&[]) {
                            check_keys(
                                f,
                                &["path", "group", "version", "kind", "create"],
                                "fields",
                                err,
                            )?;
                            let s = |k: &str| -> Result<String, RenderError> {
                                f.get(k)
                                    .map(|x| string(x, k, err))
                                    .transpose()
                                    .map(Option::unwrap_or_default)
                            };
                            fields.push(FieldSpec {
                                group: s("group")?.into(),
                                version: s("version")?.into(),
                                kind: s("kind")?.into(),
                                path: s("path")?.into(),
                                create: boolean(f.get("create"), "create", err)?,
                            });
                        }
                        k.labels.push(LabelEntry {
                            pairs: item
                                .get("pairs")
                                .map(|p| string_map(p, "pairs", err))
                                .transpose()?
                                .unwrap_or_default(),
                            include_selectors: boolean(
                                item.get("includeSelectors"),
                                "includeSelectors",
                                err,
                            )?,
                            include_templates: boolean(
                                item.get("includeTemplates"),
                                "includeTemplates",
                                err,
                            )?,
                            include_volume_claim_templates: boolean(
                                item.get("includeVolumeClaimTemplates"),
                                "includeVolumeClaimTemplates",
                                err,
                            )?,
                            fields,
                            span: item.span,
                        });
                    }
                }
                "images" | "imageTags" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        check_keys(
                            item,
                            &["name", "newName", "newTag", "digest", "tagSuffix"],
                            "images",
                            err,
                        )?;
                        let s = |k: &str| -> Result<String, RenderError> {
                            item.get(k)
                                .map(|x| string(x, k, err))
                                .transpose()
                                .map(Option::unwrap_or_default)
                        };
                        k.images.push(Image {
                            name: s("name")?,
                            new_name: s("newName")?,
                            new_tag: s("newTag")?,
                            digest: s("digest")?,
                            tag_suffix: s("tagSuffix")?,
                            span: item.span,
                        });
                    }
                }
                "replicas" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        check_keys(item, &["name", "count"], "replicas", err)?;
                        let count = item.get("count").and_then(Node::as_i64).ok_or_else(|| {
                            err(
                                item.span.line,
                                RenderErrorKind::Invalid,
                                "`replicas` entries need an integer `count`".into(),
                            )
                        })?;
                        k.replicas.push(Replica {
                            name: item
                                .get("name")
                                .map(|n| string(n, "name", err))
                                .transpose()?
                                .unwrap_or_default(),
                            count,
                            span: item.get("count").map(|c| c.span).unwrap_or(item.span),
                        });
                    }
                }
                "patches" | "patchesJson6902" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        check_keys(item, &["path", "patch", "target", "options"], &e.key, err)?;
                        let path = item
                            .get("path")
                            .map(|p| string(p, "path", err))
                            .transpose()?
                            .filter(|s| !s.is_empty());
                        let (text, inline_line) = match item.get("patch") {
                            Some(p) => {
                                let (t, l) = inline(p, err)?;
                                (Some(t).filter(|t| !t.is_empty()), l)
                            }
                            None => (None, 0),
                        };
                        match (&path, &text) {
                            (None, None) => {
                                return Err(err(
                                    item.span.line,
                                    RenderErrorKind::Invalid,
                                    "must specify one of patch and path".into(),
                                ));
                            }
                            (Some(_), Some(_)) => {
                                return Err(err(
                                    item.span.line,
                                    RenderErrorKind::Invalid,
                                    "patch and path can't be set at the same time".into(),
                                ));
                            }
                            _ => {}
                        }
                        let opts = item.get("options");
                        let entry = PatchEntry {
                            path,
                            inline: text,
                            inline_line,
                            target: item.get("target").map(|t| selector(t, err)).transpose()?,
                            allow_name_change: boolean(
                                opts.and_then(|o| o.get("allowNameChange")),
                                "allowNameChange",
                                err,
                            )?,
                            allow_kind_change: boolean(
                                opts.and_then(|o| o.get("allowKindChange")),
                                "allowKindChange",
                                err,
                            )?,
                            span: item.span,
                        };
                        if e.key == "patches" {
                            k.patches.push(entry);
                        } else {
                            k.patches_json.push(entry);
                        }
                    }
                }
                "patchesStrategicMerge" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        let s = string(item, "patchesStrategicMerge", err)?;
                        let is_inline = s.contains('\n') || s.trim_start().starts_with('{');
                        let (path, text, inline_line) = if is_inline {
                            let (t, l) = inline(item, err)?;
                            (None, Some(t), l)
                        } else {
                            (Some(s), None, 0)
                        };
                        k.patches_sm.push(PatchEntry {
                            path,
                            inline: text,
                            inline_line,
                            target: None,
                            allow_name_change: false,
                            allow_kind_change: false,
                            span: item.span,
                        });
                    }
                }
                "configMapGenerator" => {
                    k.generators
                        .extend(generators(v, "ConfigMap", global.as_ref(), err)?)
                }
                "secretGenerator" => {
                    k.generators
                        .extend(generators(v, "Secret", global.as_ref(), err)?)
                }
                "sortOptions" => {
                    check_keys(v, &["order", "legacySortOptions"], "sortOptions", err)?;
                    let order = v
                        .get("order")
                        .map(|o| string(o, "order", err))
                        .transpose()?
                        .unwrap_or_default();
                    k.sort = Some(match order.as_str() {
                        "fifo" => Sort::Fifo,
                        "legacy" => {
                            let lo = v.get("legacySortOptions");
                            let l = |key: &str| -> Result<Vec<String>, RenderError> {
                                Ok(lo
                                    .and_then(|o| o.get(key))
                                    .map(|x| strings(x, key, err))
                                    .transpose()?
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|x| x.0)
                                    .collect())
                            };
                            let (first, last) = (l("orderFirst")?, l("orderLast")?);
                            if lo.is_none() {
                                Sort::Legacy(
                                    super::transform::DEFAULT_ORDER_FIRST
                                        .iter()
                                        .map(|s| (*s).to_owned())
                                        .collect(),
                                    super::transform::DEFAULT_ORDER_LAST
                                        .iter()
                                        .map(|s| (*s).to_owned())
                                        .collect(),
                                )
                            } else {
                                Sort::Legacy(first, last)
                            }
                        }
                        other => {
                            return Err(err(
                                line,
                                RenderErrorKind::Invalid,
                                format!(
                                    "the field 'sortOptions.order' must be one of 'fifo' or 'legacy', not `{other}`"
                                ),
                            ));
                        }
                    });
                }
                other => {
                    return Err(err(
                        line,
                        RenderErrorKind::Invalid,
                        format!("invalid Kustomization: unknown field `{other}`"),
                    ));
                }
            }
        }
        Ok(k)
    }
}
