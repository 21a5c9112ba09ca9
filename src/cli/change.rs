//! `check --base REV`: evaluate the change from REV to the work tree the way
//! the App evaluates a pull request.
//!
//! Trust comes from REV only: the config, the AppProjects, the policies and
//! the CRDs are read from the commit, never from the work tree, so a change
//! that loosens the policy is judged by the policy it loosens. The change
//! itself is everything `git diff REV` sees (staged or not, with renames)
//! plus untracked files that are not ignored: what `git add -A && git
//! commit` would put in a pull request.

use std::collections::{BTreeSet, HashMap};
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
use super::walk::{FileRead, read_text, resolve_in_tree};
use crate::cli::gitrepo::{Blob, GitRepo, RawChange, TreeEntry};
use crate::engine::finding::sort_findings;
use crate::engine::input::{ChangeInput, ChangeStatus, ChangedFile, PolicyInputs, SourceFile};
use crate::engine::manifests::evaluate::evaluate_change;
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
    raw.retain(|c| {
        (in_scope(&c.path) || in_scope(&c.old_path))
            && (wanted(&c.path)
                || wanted(&c.old_path)
                || c.old_mode == GITLINK_MODE
                || c.new_mode == GITLINK_MODE)
    });
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
    let oids: Vec<String> = raw.iter().filter_map(base_oid).collect();
    let base_blobs = git.read_blobs(&oids, limit as u64)?;

    let mut changed = Vec::new();
    for c in &raw {
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
    let mut evaluation = evaluate_change(
        &policy,
        &ChangeInput {
            changed,
            head_context,
        },
    );
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
