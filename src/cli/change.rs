//! `check --base REV`: evaluate the change from REV to the work tree the way
//! the App evaluates a pull request.
//!
//! Trust comes from REV only: the config, the AppProjects, the policies and
//! the CRDs are read from the commit, never from the work tree, so a change
//! that loosens the policy is judged by the policy it loosens. The change
//! itself is everything `git diff REV` sees (staged or not, with renames)
//! plus untracked files that are not ignored: what `git add -A && git
//! commit` would put in a pull request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;

use super::CheckArgs;
use super::check::{
    CONFIG_PATH, EvalRoot, FoundConfig, Outcome, choose_config, keep_for_sub, normalize_display,
    problem_finding, repo_for, unreadable,
};
use super::config_load::MAX_CONFIG_BYTES;
use super::select::{CODEOWNERS_PATHS, KUSTOMIZATION_NAMES, Selection, may_hold_crd};
use super::walk::{DiskTree, FileRead, read_text, resolve_in_tree, walk};
use crate::cli::gitrepo::{Blob, GitRepo, RawChange, TreeEntry};
use crate::engine::finding::Finding;
use crate::engine::finding::sort_findings;
use crate::engine::input::{
    ChangeInput, ChangeStatus, ChangeTrees, ChangedFile, PolicyInputs, SourceFile,
};
use crate::engine::manifests::evaluate::evaluate_change_with;
use crate::engine::render::Files;
use crate::engine::yaml::Limits;

const SYMLINK_MODE: &str = "120000";
const GITLINK_MODE: &str = "160000";

/// Evaluates the change from `rev` to the work tree under `path`, with the
/// policy of its root ([`EvalRoot`]) at `rev`.
pub fn evaluate(
    path: &Path,
    root: &EvalRoot,
    rev: &str,
    args: &CheckArgs,
    today: NaiveDate,
) -> anyhow::Result<Outcome> {
    let git = GitRepo::open(&root.dir)
        .map_err(|e| anyhow::anyhow!("{}: {e} (--base needs one)", normalize_display(path)))?;
    let sha = git.resolve_commit(rev)?;
    let short = &sha[..12.min(sha.len())];
    let canon = &root.dir;
    let limit = Limits::default().max_bytes;

    // ---- trusted inputs, from REV ----
    let base_tree = git.ls_tree(&sha)?;
    let by_path: HashMap<&str, &TreeEntry> =
        base_tree.iter().map(|e| (e.path.as_str(), e)).collect();
    let cfg_display = format!("{}{CONFIG_PATH}", root.display);
    let found = match by_path.get(CONFIG_PATH) {
        None => None,
        Some(e) if !e.is_file() => {
            bail!("{short}:{cfg_display}: the config at {rev} is not a regular file")
        }
        Some(e) => {
            let blobs = git.read_blobs(std::slice::from_ref(&e.oid), MAX_CONFIG_BYTES as u64)?;
            match blobs.get(&e.oid) {
                Some(Blob::Data(d)) => match String::from_utf8(d.clone()) {
                    Ok(text) => Some(FoundConfig {
                        name: format!("{short}:{cfg_display}"),
                        label: format!("{cfg_display} at {rev} ({short})"),
                        text,
                    }),
                    Err(_) => bail!("{short}:{cfg_display}: config is not UTF-8"),
                },
                _ => bail!("{short}:{cfg_display}: config is too large or unreadable"),
            }
        }
    };
    let (config, source) = choose_config(args, found, &format!("no {cfg_display} at {rev}"))
        .with_context(|| format!("the policy at {rev} ({short})"))?;
    let sel = Selection::new(&config).map_err(anyhow::Error::msg)?;
    let crd_files: BTreeSet<String> = git
        .grep_files(&sha, "CustomResourceDefinition")?
        .into_iter()
        .filter(|p| sel.is_manifest(p))
        .collect();
    let support_entries: Vec<&TreeEntry> = base_tree
        .iter()
        .filter(|e| e.is_file() && (sel.is_support(&e.path) || crd_files.contains(&e.path)))
        .collect();
    let mut cli_findings = Vec::new();
    let mut notes = Vec::new();
    let support_oids: Vec<String> = support_entries.iter().map(|e| e.oid.clone()).collect();
    let support_blobs = git.read_blobs(&support_oids, limit as u64)?;
    let mut support = Vec::new();
    for e in &support_entries {
        match support_blobs.get(&e.oid).and_then(blob_text) {
            Some(FileRead::Text(t)) if may_hold_crd(&t) || sel.is_support(&e.path) => {
                support.push(SourceFile::new(&e.path, t));
            }
            Some(FileRead::Text(_)) => {}
            Some(other) => {
                // A policy we cannot read must not silently weaken the check.
                if let Some(mut f) = unreadable(&e.path, &other, limit) {
                    f.message = format!("at {rev}: {}", f.message);
                    cli_findings.push(f);
                }
            }
            None => {}
        }
    }
    let repo = repo_for(args.repo.as_ref(), Some(&git));

    // ---- the change ----
    let mut raw = git.diff_worktree(&sha)?;
    for path in git.untracked()? {
        raw.push(RawChange {
            status: 'A',
            old_mode: "000000".into(),
            new_mode: "100644".into(),
            old_oid: String::new(),
            old_path: path.clone(),
            path,
        });
    }
    // What a PR review needs: manifests, kustomizations, AppProjects and
    // policies (by the REV config), and the config and CODEOWNERS
    // themselves (policy changes). Other files are not the engine's.
    let policy_file =
        |p: &str| p == CONFIG_PATH || CODEOWNERS_PATHS.contains(&p) || sel.is_support(p);
    let wanted = |p: &str| sel.wanted(p) || policy_file(p);
    // Below the root, the change is what is under PATH, plus the policy
    // files (edits to them are `policy-change`) and the kustomizations
    // anywhere (an overlay elsewhere may re-target files under PATH).
    let in_scope = |p: &str| root.contains(p) || policy_file(p) || Selection::is_kustomization(p);
    // Other changed files are kept by path only: a render may read them
    // (generator inputs), so they decide which roots are re-rendered.
    raw.retain(|c| in_scope(&c.path) || in_scope(&c.old_path));
    let content_wanted = |c: &RawChange| {
        wanted(&c.path)
            || wanted(&c.old_path)
            || c.old_mode == GITLINK_MODE
            || c.new_mode == GITLINK_MODE
    };
    let base_oid = |c: &RawChange| -> Option<String> {
        if matches!(c.status, 'A' | 'C') {
            return None;
        }
        if !c.old_oid.is_empty() && !c.old_oid.bytes().all(|b| b == b'0') {
            return c.old_mode.starts_with("100").then(|| c.old_oid.clone());
        }
        // Unmerged entries carry no ids: look the path up at REV.
        by_path
            .get(c.old_path.as_str())
            .filter(|e| e.is_file())
            .map(|e| e.oid.clone())
    };
    let oids: Vec<String> = raw
        .iter()
        .filter(|c| content_wanted(c))
        .filter_map(base_oid)
        .collect();
    let base_blobs = git.read_blobs(&oids, limit as u64)?;

    let mut changed = Vec::new();
    for c in &raw {
        if !content_wanted(c) {
            let status = match c.status {
                'A' | 'C' => ChangeStatus::Added,
                'D' => ChangeStatus::Removed,
                'R' => ChangeStatus::Renamed,
                _ => ChangeStatus::Modified,
            };
            changed.push(ChangedFile {
                path: c.path.clone(),
                previous_path: (status == ChangeStatus::Renamed).then(|| c.old_path.clone()),
                status,
                base: None,
                head: None,
            });
            continue;
        }
        if c.old_mode == GITLINK_MODE || c.new_mode == GITLINK_MODE {
            notes.push(format!(
                "{}: submodule changed; its content is not evaluated",
                c.path
            ));
            continue;
        }
        let status = match c.status {
            'A' | 'C' => ChangeStatus::Added,
            'M' | 'T' | 'U' => ChangeStatus::Modified,
            'D' => ChangeStatus::Removed,
            'R' => ChangeStatus::Renamed,
            other => bail!(
                "git reported an unknown change status {other:?} for {}",
                c.path
            ),
        };
        let base = base_oid(c)
            .and_then(|o| base_blobs.get(&o))
            .and_then(blob_text)
            .and_then(|r| match r {
                FileRead::Text(t) => Some(t),
                _ => None,
            });
        let wanted = wanted(&c.path);
        let head = if status == ChangeStatus::Removed {
            None
        } else {
            match resolve_in_tree(canon, &c.path) {
                Ok(Some(p)) => match read_text(&p, limit)
                    .with_context(|| format!("{}: cannot read", c.path))?
                {
                    FileRead::Text(t) => Some(t),
                    other => {
                        if wanted {
                            cli_findings.extend(unreadable(&c.path, &other, limit));
                        }
                        continue;
                    }
                },
                // Listed by git but gone since: nothing to evaluate.
                Ok(None) => continue,
                Err(p) => {
                    cli_findings.extend(problem_finding(&p, &|_| wanted, &mut notes));
                    continue;
                }
            }
        };
        if c.new_mode == SYMLINK_MODE && head.is_some() {
            notes.push(format!(
                "{}: symlink inside the tree, evaluated as its target's content",
                c.path
            ));
        }
        changed.push(ChangedFile {
            path: c.path.clone(),
            previous_path: (status == ChangeStatus::Renamed).then(|| c.old_path.clone()),
            status,
            base,
            head,
        });
    }
    changed.sort_by(|a, b| a.path.cmp(&b.path));

    // Kustomization files in the changed files' directories and parents,
    // as they are in the work tree (they decide namespaces at head).
    let mut head_context = Vec::new();
    for d in &context_dirs(changed.iter().map(|c| c.path.as_str())) {
        for name in KUSTOMIZATION_NAMES {
            let rel = if d.is_empty() {
                name.to_owned()
            } else {
                format!("{d}/{name}")
            };
            if let Ok(Some(p)) = resolve_in_tree(canon, &rel)
                && let Ok(FileRead::Text(t)) = read_text(&p, limit)
            {
                head_context.push(SourceFile::new(rel, t));
            }
        }
    }

    let policy = PolicyInputs {
        config,
        config_source: source.clone(),
        support,
        repo: repo.clone(),
        today,
    };
    // The renders of change mode read both whole trees, lazily: the work
    // tree from disk, REV from the object database.
    let head_files = DiskTree::new(canon, limit, super::check::MAX_RENDER_BYTES);
    let base_files = GitTree::new(&git, &base_tree, limit as u64);
    let head_kustomizations: Vec<String> = walk(canon)
        .with_context(|| format!("{}: cannot walk", canon.display()))?
        .files
        .into_iter()
        .map(|f| f.rel)
        .filter(|p| Selection::is_kustomization(p))
        .collect();
    let base_kustomizations: Vec<String> = base_tree
        .iter()
        .filter(|e| Selection::is_kustomization(&e.path))
        .map(|e| e.path.clone())
        .collect();
    let trees = ChangeTrees {
        head: &head_files,
        base: &base_files,
        head_kustomizations,
        base_kustomizations,
    };
    let mut evaluation = evaluate_change_with(
        &policy,
        &ChangeInput {
            changed,
            head_context,
        },
        Some(&trees),
    );
    for (rel, msg) in head_files.problems() {
        if !cli_findings.iter().any(|f: &Finding| f.file == rel) {
            cli_findings.push(super::check::input_error(
                &rel,
                format!("a render needs this file: {msg}"),
            ));
        }
    }
    for (rel, msg) in base_files.problems() {
        notes.push(format!("{rel} at {rev}: a render needs this file: {msg}"));
    }
    keep_for_sub(root, &sel, &policy.config, &mut evaluation);
    evaluation.findings.extend(cli_findings);
    evaluation.notes.extend(notes);
    sort_findings(&mut evaluation.findings);
    Ok(Outcome {
        evaluation,
        config_source: source,
        repo,
        base: Some((rev.to_owned(), sha.clone())),
        repo_prefix: Some(git.prefix().to_owned()),
        display_prefix: String::new(),
    })
}

/// The tree at REV as the renderer reads it: regular files by path, each
/// blob read from the object database when a render first asks for it.
struct GitTree<'a> {
    git: &'a GitRepo,
    oids: BTreeMap<&'a str, &'a str>,
    max: u64,
    cache: std::sync::Mutex<HashMap<String, Option<Vec<u8>>>>,
    problems: std::sync::Mutex<Vec<(String, String)>>,
}

impl<'a> GitTree<'a> {
    fn new(git: &'a GitRepo, tree: &'a [TreeEntry], max: u64) -> Self {
        GitTree {
            git,
            // A symlink or submodule is not a file to a render at REV:
            // the render then fails closed naming it.
            oids: tree
                .iter()
                .filter(|e| e.is_file())
                .map(|e| (e.path.as_str(), e.oid.as_str()))
                .collect(),
            max,
            cache: std::sync::Mutex::new(HashMap::new()),
            problems: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn problems(&self) -> Vec<(String, String)> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn load(&self, path: &str, oid: &str) -> Option<Vec<u8>> {
        let blobs = match self.git.read_blobs(&[oid.to_owned()], self.max) {
            Ok(b) => b,
            Err(e) => {
                if let Ok(mut p) = self.problems.lock() {
                    p.push((path.to_owned(), e.to_string()));
                }
                return None;
            }
        };
        match blobs.get(oid) {
            Some(Blob::Data(d)) => Some(d.strip_prefix(b"\xef\xbb\xbf").unwrap_or(d).to_vec()),
            Some(Blob::TooLarge(n)) => {
                if let Ok(mut p) = self.problems.lock() {
                    p.push((path.to_owned(), format!("{n} bytes, over the limit")));
                }
                None
            }
            _ => None,
        }
    }
}

impl Files for GitTree<'_> {
    fn read(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        let oid = *self.oids.get(path)?;
        let mut cache = self.cache.lock().ok()?;
        let data = cache
            .entry(path.to_owned())
            .or_insert_with(|| self.load(path, oid))
            .clone()?;
        Some(std::borrow::Cow::Owned(data))
    }

    fn is_file(&self, path: &str) -> bool {
        self.oids.contains_key(path)
    }

    fn is_dir(&self, dir: &str) -> bool {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.oids
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

/// The directories of `paths` and all their parents (`""` is the root).
fn context_dirs<'a>(paths: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for p in paths {
        dirs.insert(String::new());
        let mut d = p;
        while let Some(i) = d.rfind('/') {
            d = &d[..i];
            dirs.insert(d.to_owned());
        }
    }
    dirs
}

/// A blob as text; `None` when the object is missing.
fn blob_text(b: &Blob) -> Option<FileRead> {
    Some(match b {
        Blob::Data(d) => match std::str::from_utf8(d) {
            Ok(t) => FileRead::Text(t.strip_prefix('\u{feff}').unwrap_or(t).to_owned()),
            Err(_) => FileRead::NotUtf8,
        },
        Blob::TooLarge(n) => FileRead::TooLarge(*n),
        Blob::Missing => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_dirs_are_every_parent() {
        let d = context_dirs(["apps/team/a.yaml", "apps/b.yaml", "c.yaml"].into_iter());
        let d: Vec<&str> = d.iter().map(String::as_str).collect();
        assert_eq!(d, ["", "apps", "apps/team"]);
        assert!(context_dirs(std::iter::empty()).is_empty());
    }
}
