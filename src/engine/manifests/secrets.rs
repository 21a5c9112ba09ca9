//! `plaintext-secret`: secret values committed to Git in the clear.
//!
//! A `v1` `Secret` with a non-empty value under `data` or `stringData` is
//! reported, one finding per key, at that key (the message names the key,
//! never the value). Values that are not secrets in Git are accepted:
//!
//! - SOPS ciphertext `ENC[AES256_GCM,data:…]` in a document that carries the
//!   `sops` metadata key (without it the value cannot be decrypted, so the
//!   file is not SOPS output and the value is judged like any other); a
//!   plain value next to SOPS metadata (a partial `encrypted_regex`) is
//!   still plaintext;
//! - argocd-vault-plugin placeholders: `<path:…>` anywhere, `<key>` when the
//!   Secret has the `avp.kubernetes.io/path` annotation;
//! - empty and null values.
//!
//! SealedSecret, ExternalSecret and friends are other kinds and never
//! reported. A kustomize `secretGenerator` with `literals` writes the values
//! into the kustomization itself and is reported too; `files` and `envs`
//! are not (Flux decrypts SOPS-encrypted files referenced there, and the
//! referenced files are judged on their own).

use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Node, Value};

const RULE: &str = "plaintext-secret";

fn is_sops_value(s: &str) -> bool {
    s.starts_with("ENC[") && s.ends_with(']') && s.contains("data:")
}

fn is_avp_placeholder(s: &str, has_avp_path: bool) -> bool {
    let s = s.trim();
    let inner = s.strip_prefix('<').and_then(|r| r.strip_suffix('>'));
    match inner {
        Some(i) if !i.is_empty() && !i.contains(['<', '>']) => {
            i.starts_with("path:") || has_avp_path
        }
        _ => false,
    }
}

/// `plaintext-secret` for one object.
pub fn check(obj: &Object) -> Vec<Violation> {
    if obj.kind == "Secret" && obj.api_version == "v1" {
        check_secret(obj)
    } else if obj.kind == "Kustomization" && obj.group() == "kustomize.config.k8s.io" {
        kustomize_literals(&obj.root)
    } else {
        Vec::new()
    }
}

fn check_secret(obj: &Object) -> Vec<Violation> {
    let mut out = Vec::new();
    let sops = obj.root.get("sops").is_some_and(|n| !n.is_null());
    let avp = obj
        .root
        .path(&["metadata", "annotations", "avp.kubernetes.io/path"])
        .is_some();
    for field in ["data", "stringData"] {
        let Some(map) = obj.root.get(field) else {
            continue;
        };
        let Some(entries) = map.as_map() else {
            if !map.is_null() {
                out.push(Violation::new(
                    RULE,
                    obj.root.key_line(field),
                    format!("Secret `{}` has a `{field}` that is not a mapping; it cannot be checked for plaintext values", obj.name),
                ));
            }
            continue;
        };
        for e in entries {
            let plaintext = match &e.value.value {
                Value::Null => false,
                Value::Str(s) => {
                    !(s.is_empty() || (sops && is_sops_value(s)) || is_avp_placeholder(s, avp))
                }
                _ => true, // numbers and booleans are values too (stringData coerces them)
            };
            if plaintext {
                out.push(Violation::new(
                    RULE,
                    e.key_span.line,
                    format!(
                        "Secret `{}` holds `{field}.{}` in plaintext in Git, where every reader and every clone has it; \
                         encrypt it (SOPS, SealedSecret) or reference an external store (ExternalSecret), and rotate the value",
                        obj.name, e.key
                    ),
                ));
            }
        }
    }
    out
}

/// `secretGenerator[].literals` in a kustomization (parsed root mapping,
/// with or without `apiVersion`).
pub fn kustomize_literals(root: &Node) -> Vec<Violation> {
    let mut out = Vec::new();
    for g in root
        .get("secretGenerator")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(e) = g.entry("literals") else {
            continue;
        };
        if e.value.as_seq().is_some_and(|l| !l.is_empty()) {
            let name = g.get("name").and_then(Node::as_str).unwrap_or("");
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "secretGenerator `{name}` has `literals`, secret values written in plaintext in Git; \
                     generate the Secret from a SOPS-encrypted file or use an external secret store, and rotate the values"
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn lines(text: &str) -> Vec<u32> {
        let o = load_objects("f.yaml", text, &Limits::default())
            .objects
            .remove(0);
        check(&o).iter().map(|v| v.line).collect()
    }

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";

    #[test]
    fn plaintext_values() {
        assert_eq!(
            lines(&format!(
                "{SECRET}data:\n  password: cGFzcw==\n  empty: ''\n"
            )),
            vec![6]
        );
        assert_eq!(
            lines(&format!(
                "{SECRET}stringData:\n  token: abc\n  port: 5432\n  on: yes\n"
            )),
            vec![6, 7, 8]
        );
        assert_eq!(lines(&format!("{SECRET}data: {{}}\n")), Vec::<u32>::new());
        assert_eq!(
            lines(&format!(
                "{SECRET}type: kubernetes.io/service-account-token\n"
            )),
            Vec::<u32>::new()
        );
        assert_eq!(lines(&format!("{SECRET}data: abc\n")), vec![5]);
    }

    #[test]
    fn message_never_contains_the_value() {
        let o = load_objects(
            "f.yaml",
            &format!("{SECRET}stringData:\n  token: hunter2\n"),
            &Limits::default(),
        )
        .objects
        .remove(0);
        let v = check(&o);
        assert_eq!(v.len(), 1);
        assert!(!v[0].message.contains("hunter2"));
        assert!(v[0].message.contains("stringData.token"));
    }

    #[test]
    fn sops_and_placeholders() {
        let sops = format!(
            "{SECRET}data:\n  password: ENC[AES256_GCM,data:Zm9v,iv:YQ==,tag:Yg==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,type:str]\n  version: 3.8.1\n"
        );
        assert_eq!(lines(&sops), Vec::<u32>::new());
        // Partially encrypted: the plain value is still a leak.
        let partial = sops.replace("data:\n  password:", "data:\n  user: admin\n  password:");
        assert_eq!(lines(&partial), vec![6]);
        // ENC-looking value without SOPS metadata is not trusted.
        let fake = format!("{SECRET}data:\n  password: ENC[AES256_GCM,data:Zm9v,type:str]\n");
        assert_eq!(lines(&fake), vec![6]);
        let avp =
            format!("{SECRET}stringData:\n  a: <path:secret/data/app#password>\n  b: <password>\n");
        assert_eq!(
            lines(&avp),
            vec![7],
            "`<key>` needs the avp path annotation"
        );
        let avp_annotated = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/path: secret/data/app\nstringData:\n  b: <password>\n";
        assert_eq!(lines(avp_annotated), Vec::<u32>::new());
    }

    #[test]
    fn other_kinds() {
        let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData:\n    password: AgBy...\n";
        assert_eq!(lines(sealed), Vec::<u32>::new());
        let fake =
            "apiVersion: example.com/v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: b\n";
        assert_eq!(lines(fake), Vec::<u32>::new());
    }

    #[test]
    fn kustomize_secret_generator() {
        let k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n- name: db\n  literals:\n  - password=hunter2\n- name: tls\n  files:\n  - tls.crt\n";
        assert_eq!(lines(k), vec![5]);
    }
}
