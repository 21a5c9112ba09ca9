//! Shared by the criterion benches, `gitops-guard bench` and the
//! precision/recall test: generates the synthetic GitOps corpus
//! (`shared/tools/gen-corpus`) and builds the policy that matches its layout
//! (each `tenants/<team>/<env>/` folder owns namespace `<team>-<env>`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;

use crate::engine::config::{Binding, Config};
use crate::engine::input::{PolicyInputs, SourceFile, TreeInput};

/// The shared folder (`GITOPS_GUARD_SHARED`, else `../shared` beside the
/// repository, else `/work/shared`).
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GITOPS_GUARD_SHARED") {
        return Some(PathBuf::from(p));
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if beside.is_dir() {
        return Some(beside);
    }
    let fixed = PathBuf::from("/work/shared");
    fixed.is_dir().then_some(fixed)
}

/// Generates (once) a corpus of `objects` objects under `target` and returns its folder.
pub fn corpus_dir(target: &Path, objects: usize) -> Result<PathBuf, String> {
    let dir = target.join(format!("gen-corpus-{objects}"));
    if dir.join("expected.tsv").is_file() {
        return Ok(dir);
    }
    let shared = shared_dir().ok_or(
        "the shared folder (with tools/gen-corpus) was not found; set GITOPS_GUARD_SHARED",
    )?;
    let script = shared.join("tools/gen-corpus/gen-corpus.py");
    let status = Command::new("python3")
        .arg(&script)
        .args(["--out"])
        .arg(&dir)
        .args([
            "--manifests",
            &objects.to_string(),
            "--seed",
            "7",
            "--violation-rate",
            "0.3",
        ])
        .status()
        .map_err(|e| format!("cannot run python3 {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", script.display()));
    }
    Ok(dir)
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

/// The tenant folders `tenants/<team>/<env>` of a corpus tree.
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
pub fn policy_for_corpus(dir: &Path) -> PolicyInputs {
    let tree = load_tree(dir).unwrap_or_default();
    let mut config = Config::default();
    config.admission.level = crate::engine::config::PssLevel::Restricted;
    let mut support = Vec::new();
    for (team, env) in tenant_folders(&tree) {
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
        config_source: "generated for the gen-corpus layout".into(),
        support,
        repo: crate::engine::ids::RepoName::parse("acme/gitops"),
        today: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
    }
}
