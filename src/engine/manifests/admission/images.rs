//! Image rules: `image-tag` (no mutable `:latest`, no untagged image) and
//! `image-registry` (images only from allowed registries), for every
//! container of every pod template.
//!
//! Image references are parsed with the grammar of
//! `github.com/distribution/reference` (what the kubelet and container
//! runtimes use), including its Docker Hub normalisation: a first path
//! component without `.`/`:` (and not `localhost`) is not a registry, so
//! `nginx` is `docker.io/library/nginx` and `myorg/app` is
//! `docker.io/myorg/app`; `host:5000/app` is registry `host:5000`. A
//! reference the runtime could not pull is reported rather than guessed.

use std::sync::OnceLock;

use regex::Regex;

use crate::engine::config::ImagesConfig;
use crate::engine::manifests::object::Object;
use crate::engine::manifests::podspec::{PodTemplateTable, default_table, pod_templates_with};
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::Value;

/// Rule id for mutable or missing tags.
pub const IMAGE_TAG: &str = "image-tag";
/// Rule id for images from registries outside the allowed list.
pub const IMAGE_REGISTRY: &str = "image-registry";

/// The registry Docker Hub images resolve to.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io` when implicit).
    pub domain: String,
    /// Repository path (`library/nginx` for `nginx`).
    pub path: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

impl ImageRef {
    /// `domain/path`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }
}

/// Why an image reference cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// The empty string.
    #[error("is empty")]
    Empty,
    /// Not in the reference grammar (uppercase path, bad characters, …).
    #[error("is not a valid image reference")]
    Invalid,
    /// Repository name longer than 255 characters.
    #[error("has a repository name longer than 255 characters")]
    TooLong,
}

/// The parts of the reference grammar: name, tag and digest.
fn grammar_parts() -> (String, &'static str, &'static str) {
    let alnum = "[a-z0-9]+";
    let sep = "(?:[._]|__|[-]+)";
    let path_component = format!("{alnum}(?:{sep}{alnum})*");
    let domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain_name = format!("{domain_component}(?:\\.{domain_component})*");
    let host = format!("(?:{domain_name}|\\[[a-fA-F0-9:]+\\])");
    let domain = format!("{host}(?::[0-9]+)?");
    let name = format!("(?:{domain}/)?{path_component}(?:/{path_component})*");
    let tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"; // Go's \w is ASCII-only
    let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    (name, tag, digest)
}

/// The whole reference grammar in one regex, `^(name)(?::(tag))?(?:@(digest))?$`.
/// [`parse_image`] matches the parts separately (see [`split_reference`]);
/// the tests check that both agree.
#[cfg(test)]
fn reference_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let (name, tag, digest) = grammar_parts();
        Regex::new(&format!("^({name})(?::({tag}))?(?:@({digest}))?$"))
            .expect("reference grammar compiles")
    })
}

/// Anchored regexes for the name, tag and digest.
fn part_regexes() -> &'static [Regex; 3] {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    RE.get_or_init(|| {
        let (name, tag, digest) = grammar_parts();
        [name.as_str(), tag, digest]
            .map(|p| Regex::new(&format!("^(?:{p})$")).expect("reference grammar compiles"))
    })
}

/// Splits a reference into name, tag and digest where the grammar can only
/// split it, then checks each part on its own: a match test is several
/// times cheaper than the capture search the combined regex needs.
///
/// Why the split is the grammar's: only the digest follows `@`, and no
/// part contains `@`, so the digest is everything after the first `@`.
/// Before it, a tag is preceded by a `:` and contains neither `:` nor
/// `/`, while every `:` inside the name (a port, an IPv6 address) belongs
/// to the domain, which is always followed by `/`. So a tag is present
/// exactly when the last `:` has no `/` after it, and starts there.
fn split_reference(image: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    let [name_re, tag_re, digest_re] = part_regexes();
    let ok = name_re.is_match(name)
        && tag.is_none_or(|t| tag_re.is_match(t))
        && digest.is_none_or(|d| digest_re.is_match(d));
    ok.then_some((name, tag, digest))
}

/// Parses an image reference and normalises it as the runtime does.
pub fn parse_image(image: &str) -> Result<ImageRef, ImageRefError> {
    if image.is_empty() {
        return Err(ImageRefError::Empty);
    }
    let (name, tag, digest) = split_reference(image).ok_or(ImageRefError::Invalid)?;
    if name.len() > 255 {
        return Err(ImageRefError::TooLong);
    }
    // distribution/reference splitDockerDomain.
    let (mut domain, mut path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DOCKER_HUB.to_owned(), name.to_owned()),
    };
    if domain == "index.docker.io" {
        domain = DOCKER_HUB.to_owned();
    }
    if domain == DOCKER_HUB && !path.contains('/') {
        path = format!("library/{path}");
    }
    Ok(ImageRef {
        domain,
        path,
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

/// An allowed-registry entry: a host (with port, if any) and an optional
/// path prefix matched on `/` boundaries.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Allowed {
    host: String,
    path: String,
}

fn allowed_entry(entry: &str) -> Allowed {
    let e = entry.trim();
    let e = e
        .strip_prefix("https://")
        .or_else(|| e.strip_prefix("http://"))
        .unwrap_or(e);
    let e = e.trim_end_matches('/');
    let (host, path) = e.split_once('/').unwrap_or((e, ""));
    let host = match host.to_ascii_lowercase().as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        h => h.to_owned(),
    };
    Allowed {
        host,
        path: path.to_owned(),
    }
}

/// True when `image` is under one of `registries` (empty allows any).
pub fn registry_allowed(image: &ImageRef, registries: &[String]) -> bool {
    registries.is_empty()
        || registries.iter().map(|r| allowed_entry(r)).any(|a| {
            a.host.eq_ignore_ascii_case(&image.domain)
                && (a.path.is_empty()
                    || image.path == a.path
                    || image
                        .path
                        .strip_prefix(a.path.as_str())
                        .is_some_and(|rest| rest.starts_with('/')))
        })
}

/// Checks every container image of an object.
pub fn check(obj: &Object, cfg: &ImagesConfig) -> Vec<Violation> {
    check_with(obj, cfg, default_table())
}

/// [`check`] with a custom pod template table.
pub fn check_with(obj: &Object, cfg: &ImagesConfig, table: &PodTemplateTable) -> Vec<Violation> {
    let mut out = Vec::new();
    if !cfg.forbid_latest && cfg.registries.is_empty() {
        return out;
    }
    for pod in pod_templates_with(obj, table).pods {
        for c in pod.containers().0 {
            // Message parts are only formatted for a finding: most images
            // produce none.
            let who = || format!("container {:?}: {}.image", c.name, c.path);
            let push = |out: &mut Vec<Violation>, rule: &str, line: u32, msg: String| {
                out.push(Violation::new(rule, line, msg).in_container(c.name.clone()));
            };
            let Some(entry) = c.node.entry("image").filter(|e| !e.value.is_null()) else {
                if cfg.forbid_latest {
                    let msg = format!(
                        "{who} is not set; the API server rejects a container without an image",
                        who = who()
                    );
                    push(&mut out, IMAGE_TAG, c.line, msg);
                }
                continue;
            };
            let line = entry.key_span.line;
            let Value::Str(image) = &entry.value.value else {
                let msg = format!(
                    "{who} is a {}, not a string; the API server rejects it",
                    entry.value.type_name(),
                    who = who()
                );
                for (on, rule) in [
                    (cfg.forbid_latest, IMAGE_TAG),
                    (!cfg.registries.is_empty(), IMAGE_REGISTRY),
                ] {
                    if on {
                        push(&mut out, rule, line, msg.clone());
                    }
                }
                continue;
            };
            let shown = || {
                if image.chars().count() > 120 {
                    format!("{:?}…", image.chars().take(120).collect::<String>())
                } else {
                    format!("{image:?}")
                }
            };
            let parsed = match parse_image(image) {
                Ok(p) => p,
                Err(e) => {
                    let msg = format!(
                        "{who} {shown} {e}; the container runtime cannot pull it",
                        who = who(),
                        shown = shown()
                    );
                    for (on, rule) in [
                        (cfg.forbid_latest, IMAGE_TAG),
                        (!cfg.registries.is_empty(), IMAGE_REGISTRY),
                    ] {
                        if on {
                            push(&mut out, rule, line, msg.clone());
                        }
                    }
                    continue;
                }
            };
            // A digest pins the image whatever the tag says; the runtime
            // pulls by digest.
            if cfg.forbid_latest && parsed.digest.is_none() {
                match parsed.tag.as_deref() {
                    Some("latest") => push(
                        &mut out,
                        IMAGE_TAG,
                        line,
                        format!(
                            "{who} {shown} uses the mutable tag latest; pin a version tag or a digest",
                            who = who(),
                            shown = shown()
                        ),
                    ),
                    None => push(
                        &mut out,
                        IMAGE_TAG,
                        line,
                        format!(
                            "{who} {shown} has no tag, so the runtime pulls latest; pin a version tag or a digest",
                            who = who(),
                            shown = shown()
                        ),
                    ),
                    Some(_) => {}
                }
            }
            if !registry_allowed(&parsed, &cfg.registries) {
                push(
                    &mut out,
                    IMAGE_REGISTRY,
                    line,
                    format!(
                        "{who} {shown} resolves to {}, which is not under an allowed registry ({})",
                        parsed.name(),
                        cfg.registries.join(", "),
                        who = who(),
                        shown = shown()
                    ),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split matcher in `parse_image` must accept exactly what the
    /// combined grammar accepts, with the same name, tag and digest.
    #[test]
    fn split_matches_the_combined_grammar() {
        let hex = "0123456789abcdef0123456789abcdef";
        let mut samples: Vec<String> = [
            "",
            ":",
            "@",
            "a",
            "a:",
            ":a",
            "a:b",
            "a:b:c",
            "a/b:c",
            "a/b:c/d",
            "a:b/c",
            "localhost:5000/a",
            "localhost:5000/a:t",
            "localhost:5000",
            "host:port/a",
            "[::1]:5000/a",
            "[::1]/a:t",
            "[::1]",
            "[::1]:a",
            "A/b",
            "a/B",
            "a__b",
            "a---b",
            "a..b",
            "a._b",
            "-a",
            "a-",
            "a@b@c",
            "a:@",
            "a@",
            "Ex.Com/a:v1.2-3_x",
            "a:latest",
            "a:_x",
            "a:.x",
            "registry.example.com:443/team/app:v1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for base in ["a", "a:t", "h.io:1/a/b:t", "[fe80::1]:5/x", "a:t/u"] {
            samples.push(format!("{base}@sha256:{hex}"));
            samples.push(format!("{base}@sha256:{hex}@x"));
            samples.push(format!("{base}@sha256+x.y:{hex}"));
            samples.push(format!("{base}@sha256:{}", &hex[..31]));
            samples.push(format!("{base}@:{hex}"));
        }
        samples.push(format!("a:{}", "t".repeat(128)));
        samples.push(format!("a:{}", "t".repeat(129)));
        for s in &samples {
            let combined = reference_regex().captures(s).map(|c| {
                (
                    c.get(1).map(|m| m.as_str()),
                    c.get(2).map(|m| m.as_str()),
                    c.get(3).map(|m| m.as_str()),
                )
            });
            let split = split_reference(s).map(|(n, t, d)| (Some(n), t, d));
            assert_eq!(split, combined, "{s:?}");
        }
    }
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn r(domain: &str, path: &str, tag: Option<&str>, digest: Option<&str>) -> ImageRef {
        ImageRef {
            domain: domain.into(),
            path: path.into(),
            tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        }
    }

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_like_distribution_reference() {
        assert_eq!(
            parse_image("nginx").unwrap(),
            r("docker.io", "library/nginx", None, None)
        );
        assert_eq!(
            parse_image("nginx:1.25").unwrap(),
            r("docker.io", "library/nginx", Some("1.25"), None)
        );
        assert_eq!(
            parse_image("myorg/app:v1").unwrap(),
            r("docker.io", "myorg/app", Some("v1"), None)
        );
        assert_eq!(
            parse_image("index.docker.io/nginx").unwrap(),
            r("docker.io", "library/nginx", None, None)
        );
        assert_eq!(
            parse_image("host:5000/app").unwrap(),
            r("host:5000", "app", None, None)
        );
        assert_eq!(
            parse_image("host:5000/team/app:5000").unwrap(),
            r("host:5000", "team/app", Some("5000"), None)
        );
        assert_eq!(
            parse_image("localhost/app").unwrap(),
            r("localhost", "app", None, None)
        );
        assert_eq!(
            parse_image("Registry/app").unwrap(),
            r("Registry", "app", None, None)
        );
        assert_eq!(
            parse_image(&format!("ghcr.io/o/a@{D}")).unwrap(),
            r("ghcr.io", "o/a", None, Some(D))
        );
        assert_eq!(
            parse_image(&format!("ghcr.io/o/a:latest@{D}")).unwrap(),
            r("ghcr.io", "o/a", Some("latest"), Some(D))
        );
        assert_eq!(
            parse_image("[::1]:5000/app:1").unwrap(),
            r("[::1]:5000", "app", Some("1"), None)
        );
        for bad in [
            "",
            "app/UPPER",
            "UPPER",
            "app:",
            "app@sha256:xyz",
            "a//b",
            "-app",
            "app:tag:tag",
            "ghcr.io@evil.io/x",
            "app:t\u{e9}g",
            " nginx",
        ] {
            assert!(parse_image(bad).is_err(), "{bad:?}");
        }
        assert!(parse_image(&format!("a/{}", "b".repeat(300))).is_err());
    }

    #[test]
    fn registry_matching_respects_boundaries() {
        let allowed = |image: &str, regs: &[&str]| {
            registry_allowed(
                &parse_image(image).unwrap(),
                &regs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert!(allowed("evil.io/x", &[]));
        assert!(allowed("ghcr.io/myorg/app:1", &["ghcr.io/myorg"]));
        assert!(allowed("ghcr.io/myorg/team/app:1", &["ghcr.io/myorg"]));
        assert!(allowed("ghcr.io/myorg:1", &["ghcr.io/myorg"]));
        assert!(!allowed("ghcr.io/myorgevil/app:1", &["ghcr.io/myorg"]));
        assert!(!allowed("ghcr.io/other/app:1", &["ghcr.io/myorg"]));
        assert!(allowed(
            "registry.example.com/app:1",
            &["registry.example.com"]
        ));
        assert!(allowed(
            "REGISTRY.example.com/app:1",
            &["registry.example.com"]
        ));
        assert!(!allowed(
            "registry.example.com.evil.io/app:1",
            &["registry.example.com"]
        ));
        assert!(!allowed(
            "registry.example.com:5000/app:1",
            &["registry.example.com"]
        ));
        assert!(allowed(
            "registry.example.com:5000/app:1",
            &["registry.example.com:5000"]
        ));
        assert!(!allowed(
            "evilregistry.example.com/app:1",
            &["registry.example.com"]
        ));
        // Docker Hub is implicit.
        assert!(allowed("nginx:1", &["docker.io/library"]));
        assert!(allowed("nginx:1", &["docker.io"]));
        assert!(allowed("nginx:1", &["index.docker.io"]));
        assert!(!allowed("nginx:1", &["docker.io/nginx"]));
        assert!(!allowed("myorg/app:1", &["docker.io/library"]));
        assert!(!allowed("nginx:1", &["ghcr.io"]));
        assert!(allowed("ghcr.io/a/b:1", &["https://ghcr.io/a/"]));
    }

    fn obj(text: &str) -> Object {
        let mut fo = load_objects("t.yaml", text, &Limits::default());
        assert!(fo.findings.is_empty(), "{:?}", fo.findings);
        fo.objects.remove(0)
    }

    fn cfg(regs: &[&str], forbid_latest: bool) -> ImagesConfig {
        ImagesConfig {
            registries: regs.iter().map(|s| s.to_string()).collect(),
            forbid_latest,
        }
    }

    fn rules(o: &Object, c: &ImagesConfig) -> Vec<(String, String, u32)> {
        check(o, c)
            .into_iter()
            .map(|v| (v.rule.0, v.container.unwrap(), v.line))
            .collect()
    }

    #[test]
    fn image_tag_in_every_list_and_kind() {
        for (image, fail) in [
            ("nginx", true),
            ("nginx:latest", true),
            ("host:5000/app", true),
            ("host:5000/app:latest", true),
            ("nginx:1.25", false),
            ("host:5000/app:1", false),
            ("nginx:Latest", false),
            (&*format!("nginx@{D}"), false),
            (&*format!("nginx:latest@{D}"), false),
            ("nginx:", true),
            ("", true),
        ] {
            for list in ["containers", "initContainers", "ephemeralContainers"] {
                for (kind, pre, ind) in [
                    ("apiVersion: v1\nkind: Pod", "spec:", 2),
                    (
                        "apiVersion: apps/v1\nkind: Deployment",
                        "spec:\n  template:\n    spec:",
                        6,
                    ),
                    (
                        "apiVersion: batch/v1\nkind: CronJob",
                        "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:",
                        10,
                    ),
                ] {
                    let pad = " ".repeat(ind);
                    let text = format!(
                        "{kind}\nmetadata: {{name: x}}\n{pre}\n{pad}{list}:\n{pad}- name: web\n{pad}  image: '{image}'\n"
                    );
                    let o = obj(&text);
                    let got = rules(&o, &cfg(&[], true));
                    assert_eq!(!got.is_empty(), fail, "{image} {list}\n{text}\n{got:?}");
                    if fail {
                        assert_eq!(got[0].0, IMAGE_TAG);
                        assert_eq!(got[0].1, "web");
                        assert_eq!(got[0].2 as usize, text.lines().count());
                    }
                    assert!(rules(&o, &cfg(&[], false)).is_empty());
                }
            }
        }
    }

    #[test]
    fn image_registry() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers:\n  - name: init\n    image: docker.io/library/busybox:1\n  containers:\n  - name: app\n    image: ghcr.io/myorg/app:1\n  - name: side\n    image: ghcr.io/myorgx/side:1\n";
        let o = obj(text);
        let got = rules(&o, &cfg(&["ghcr.io/myorg"], false));
        assert_eq!(
            got,
            vec![
                (IMAGE_REGISTRY.into(), "init".into(), 7),
                (IMAGE_REGISTRY.into(), "side".into(), 12)
            ]
        );
        assert!(
            rules(
                &o,
                &cfg(
                    &["ghcr.io/myorg", "ghcr.io/myorgx", "docker.io/library"],
                    true
                )
            )
            .is_empty()
        );
        let msg = &check(&o, &cfg(&["ghcr.io/myorg"], false))[0].message;
        assert!(
            msg.contains("docker.io/library/busybox")
                && msg.contains("spec.initContainers[0].image"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_types_and_missing_images_are_reported() {
        let o = obj(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: 7\n  - name: b\n",
        );
        let got = rules(&o, &cfg(&["ghcr.io"], true));
        assert_eq!(
            got,
            vec![
                (IMAGE_TAG.into(), "a".into(), 6),
                (IMAGE_REGISTRY.into(), "a".into(), 6),
                (IMAGE_TAG.into(), "b".into(), 7)
            ]
        );
        let o = obj(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: Evil/App\n",
        );
        let got = rules(&o, &cfg(&["docker.io"], false));
        assert_eq!(got, vec![(IMAGE_REGISTRY.into(), "a".into(), 6)]);
    }

    #[test]
    fn non_pod_objects_are_ignored() {
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: nginx}\n");
        assert!(check(&o, &cfg(&["ghcr.io"], true)).is_empty());
    }
}
