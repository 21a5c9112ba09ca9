//! `gitops-guard check`: gather the files of each PATH (a walked directory,
//! a single file, or with `--base` a Git change), build the trusted
//! [`PolicyInputs`], call the engine, merge the results and render them.
//!
//! A directory PATH below the top of a Git work tree is judged as part of
//! its repository ([`find_root`]): the root's config, AppProjects and
//! policies apply (their globs are relative to the root), only the files
//! under PATH are evaluated, and paths are shown from the root, as the App
//! would show them. Otherwise a subdirectory checked on its own would fall
//! back to the built-in defaults and pass what the repository forbids.

use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;

use super::config_load::MAX_CONFIG_BYTES;
use super::select::{Selection, may_hold_crd};
use super::walk::{DiskTree, FileRead, Problem, read_text, resolve_in_tree, walk};
use super::{CheckArgs, Format};
use crate::cli::gitrepo::{GitRepo, parse_remote_url, work_tree_top};
use crate::engine::config::{Config, effective_config};
use crate::engine::finding::{Finding, Severity, sort_findings};
use crate::engine::ids::RepoName;
use crate::engine::input::{PolicyInputs, SourceFile, TreeInput};
use crate::engine::manifests::evaluate::{Evaluation, evaluate_tree_rendered};
use crate::engine::yaml::Limits;
use crate::report::summary::{RunInfo, exit_status};
use crate::report::{json, sarif, text};

/// Where the repository config lives, relative to the evaluated root.
pub use crate::engine::config::CONFIG_PATH;

/// The result of evaluating one PATH.
#[derive(Debug)]
pub struct Outcome {
    /// Findings (files relative to the PATH), stats and notes.
    pub evaluation: Evaluation,
    /// Where the config came from.
    pub config_source: String,
    /// The repository used for `sourceRepos`.
    pub repo: Option<RepoName>,
    /// Change mode: the revision as given and its commit id.
    pub base: Option<(String, String)>,
    /// The PATH's directory relative to the top of its Git work tree
    /// (`deploy/`), when it is in one: SARIF paths must be repository paths.
    pub repo_prefix: Option<String>,
    /// Prefix for displayed paths when the root is not the PATH itself
    /// (a single file given with `..` or an absolute path).
    pub display_prefix: String,
}

/// Runs `check`; `Ok` carries the exit code (0 or 1), `Err` means exit 2.
pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let today = chrono::Local::now().date_naive();
    let multi = args.paths.len() > 1;
    let mut outcomes = Vec::new();
    for path in &args.paths {
        let given = normalize_display(path);
        let meta = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot read PATH", path.display()))?;
        let root = if meta.is_dir() {
            Some(find_root(path)?)
        } else {
            None
        };
        let mut outcome = match (&args.base, &root) {
            (Some(rev), Some(root)) => super::change::evaluate(path, root, rev, args, today)?,
            (Some(_), None) => bail!(
                "{}: with --base, PATH must be a directory inside a Git work tree",
                path.display()
            ),
            (None, Some(root)) => evaluate_dir(root, args, today)?,
            (None, None) => evaluate_file(path, args, today)?,
        };
        if let Some(root) = &root
            && multi
            && outcome.display_prefix.is_empty()
        {
            // Several roots: keep every path unambiguous by showing it from
            // where the user stands.
            outcome.display_prefix = root.display.clone();
        }
        if multi {
            outcome.config_source =
                format!("{}: {}", display_or_dot(&given), outcome.config_source);
        }
        outcomes.push(outcome);
    }

    let (ev, info) = merge(outcomes, args.format == Format::Sarif);
    let out = match args.format {
        Format::Text => text::render(&ev, &info, use_color()),
        Format::Json => json::render(&ev, &info),
        Format::Sarif => sarif::render(&ev, &info),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not a reason to change the verdict.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("writing output");
        }
    }
    Ok(u8::try_from(exit_status(&ev.findings)).unwrap_or(1))
}

/// Most bytes all renders of one check read from disk beyond the files
/// the check reads anyway (generator inputs, ignored files a build names).
pub const MAX_RENDER_BYTES: u64 = 256 * 1024 * 1024;

/// Evaluates `files` with renders reading the rest of the tree at `dir`
/// lazily; what a render could not read is an `invalid-manifest` finding
/// (unless the walk reported that path already).
fn evaluate_with_disk(
    policy: &PolicyInputs,
    files: Vec<SourceFile>,
    dir: &Path,
    scope: Option<&str>,
    cli_findings: &mut Vec<Finding>,
) -> Evaluation {
    let disk = DiskTree::new(dir, Limits::default().max_bytes, MAX_RENDER_BYTES);
    let ev = evaluate_tree_rendered(
        policy,
        &TreeInput { files },
        eval_threads(),
        Some(&disk),
        Vec::new(),
        scope,
    );
    for (rel, msg) in disk.problems() {
        if !cli_findings.iter().any(|f| f.file == rel) {
            cli_findings.push(input_error(
                &rel,
                format!("a render needs this file: {msg}"),
            ));
        }
    }
    ev
}

/// Threads for evaluating a tree: the cores this process may use (which
/// honours `taskset` and cgroup CPU limits), at most 8.
fn eval_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to a
/// non-empty value (no-color.org).
fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Combines per-PATH outcomes into one evaluation, with displayed paths.
fn merge(outcomes: Vec<Outcome>, sarif_paths: bool) -> (Evaluation, RunInfo) {
    let mut ev = Evaluation::default();
    let mut info = RunInfo::default();
    for o in outcomes {
        let prefix = match (&o.repo_prefix, sarif_paths) {
            (Some(p), true) => p.clone(),
            _ => o.display_prefix.clone(),
        };
        ev.findings
            .extend(o.evaluation.findings.into_iter().map(|mut f| {
                if !prefix.is_empty() {
                    f.file = format!("{prefix}{}", f.file);
                    if let Some(r) = &mut f.root {
                        *r = format!("{prefix}{r}");
                    }
                }
                f
            }));
        ev.stats.files += o.evaluation.stats.files;
        ev.stats.objects += o.evaluation.stats.objects;
        ev.stats.bytes += o.evaluation.stats.bytes;
        ev.notes.extend(o.evaluation.notes);
        info.config_sources.push(o.config_source);
        if info.base.is_none() {
            info.base = o.base;
        }
        if info.repo.is_none() {
            info.repo = o.repo.map(|r| r.0);
        }
    }
    sort_findings(&mut ev.findings);
    (ev, info)
}

/// `./deploy/` → `deploy`, `.` → ``.
pub fn normalize_display(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in p.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::Prefix(x) => parts.push(x.as_os_str().to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => parts.push("..".into()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn dir_prefix(given: &str) -> String {
    if given.is_empty() || given.ends_with('/') {
        given.to_owned()
    } else {
        format!("{given}/")
    }
}

fn display_or_dot(given: &str) -> &str {
    if given.is_empty() { "." } else { given }
}

/// A repository config found in the tree (or at `--base REV`).
#[derive(Debug)]
pub struct FoundConfig {
    /// Its name in error messages (`deploy/.github/gitops-guard.yml`).
    pub name: String,
    /// How the summary describes it (`… at main (1a2b3c)`).
    pub label: String,
    /// Its text.
    pub text: String,
}

/// Reads a config file named on the command line.
fn read_config_file(p: &Path, what: &str) -> anyhow::Result<(String, String)> {
    let name = p.display().to_string();
    let text = match read_text(p, MAX_CONFIG_BYTES)
        .with_context(|| format!("{name}: cannot read {what}"))?
    {
        FileRead::Text(t) => t,
        FileRead::TooLarge(n) => {
            bail!("{name}: {what} is {n} bytes, more than {MAX_CONFIG_BYTES}")
        }
        FileRead::NotUtf8 => bail!("{name}: {what} is not UTF-8"),
    };
    Ok((name, text))
}

/// The effective config for a root: the repository config (`--config FILE`
/// from disk, else `found`) merged tighten-only onto `--org-config FILE`
/// when given, exactly as the App merges it onto the organisation's
/// default ([`effective_config`]); without either, the built-in defaults
/// (`default_note` says why). Returns the config and a description of its
/// source. Any config error, a loosening included, is an `Err` (exit 2)
/// naming file, line and key.
pub fn choose_config(
    args: &CheckArgs,
    found: Option<FoundConfig>,
    default_note: &str,
) -> anyhow::Result<(Config, String)> {
    let repo = match &args.config {
        Some(p) => {
            let (name, text) = read_config_file(p, "config")?;
            Some(FoundConfig {
                label: name.clone(),
                name,
                text,
            })
        }
        None => found,
    };
    let org = match &args.org_config {
        Some(p) => Some(read_config_file(p, "organisation config")?),
        None => None,
    };
    let source = match (&repo, &org) {
        (Some(r), Some((o, _))) => format!("{} merged onto the organisation default {o}", r.label),
        (Some(r), None) => r.label.clone(),
        (None, Some((o, _))) => format!("organisation default {o} ({default_note})"),
        (None, None) => format!("built-in defaults ({default_note})"),
    };
    match effective_config(
        org.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        repo.as_ref().map(|r| (r.name.as_str(), r.text.as_str())),
    ) {
        Ok(c) => Ok((c, source)),
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            bail!("invalid config:\n  {}", errors.join("\n  "))
        }
    }
}

/// Where a directory PATH is evaluated from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalRoot {
    /// The root (canonical): its config, AppProjects and policies apply,
    /// and paths are shown relative to it.
    pub dir: PathBuf,
    /// PATH below the root, `/`-terminated; empty when PATH is the root.
    pub sub: String,
    /// The root as reached from the PATH the user gave (`../`, `repo/`),
    /// `/`-terminated, or empty for the current directory.
    pub display: String,
}

impl EvalRoot {
    /// True when a root-relative path is under PATH.
    pub fn contains(&self, rel: &str) -> bool {
        rel.starts_with(self.sub.as_str())
    }
}

/// The root for a directory PATH:
/// - outside any Git work tree, or at its top: PATH itself (as always);
/// - below the top: the top when it has `.github/gitops-guard.yml` (the
///   App reads that one, whatever PATH is); else the nearest directory
///   from PATH upwards with a `.github/gitops-guard.yml` of its own (a tree
///   laid out as a repository inside another, like `rules/sample-repo`);
///   else the top, with the built-in defaults (or `--org-config`).
pub fn find_root(path: &Path) -> anyhow::Result<EvalRoot> {
    let canon = path
        .canonicalize()
        .with_context(|| format!("{}: cannot read PATH", path.display()))?;
    let given = normalize_display(path);
    let itself = EvalRoot {
        dir: canon.clone(),
        sub: String::new(),
        display: dir_prefix(&given),
    };
    let Some(top) = work_tree_top(&canon) else {
        return Ok(itself);
    };
    // `symlink_metadata`: a config that is a symlink still marks the root;
    // reading it applies the walk's symlink rules.
    let has_config = |d: &Path| std::fs::symlink_metadata(d.join(CONFIG_PATH)).is_ok();
    let dir = if has_config(&top) {
        top
    } else {
        canon
            .ancestors()
            .take_while(|d| d.starts_with(&top) && *d != top)
            .find(|d| has_config(d))
            .map_or(top, Path::to_path_buf)
    };
    if dir == canon {
        return Ok(itself);
    }
    let below = canon
        .strip_prefix(&dir)
        .map_err(|_| anyhow::anyhow!("{}: not below its repository root", path.display()))?;
    let mut sub = String::new();
    for c in below.components() {
        sub.push_str(&c.as_os_str().to_string_lossy());
        sub.push('/');
    }
    let display = root_display(&given, &sub);
    Ok(EvalRoot { dir, sub, display })
}

/// The root as reached from `given` (PATH as the user wrote it), when PATH
/// is `sub` below it: `apps/team` under `apps/team/` is ``, `.` under
/// `apps/` is `../`.
fn root_display(given: &str, sub: &str) -> String {
    let sub = sub.trim_end_matches('/');
    if let Some(r) = given.strip_suffix(sub)
        && (r.is_empty() || r.ends_with('/'))
    {
        return r.to_owned();
    }
    let mut out = dir_prefix(given);
    for _ in sub.split('/') {
        out.push_str("../");
    }
    out
}

/// The repository: `--repo`, else the `origin` remote of the Git work tree
/// containing `dir`.
pub fn repo_for(arg: Option<&RepoName>, git: Option<&GitRepo>) -> Option<RepoName> {
    arg.cloned().or_else(|| {
        git.and_then(GitRepo::origin_url)
            .and_then(|u| parse_remote_url(&u))
    })
}

/// An `invalid-manifest` error the CLI itself raises (unreadable files).
pub fn input_error(rel: &str, message: String) -> Finding {
    Finding::at("invalid-manifest", Severity::Error, rel, 1, message)
}

/// Turns a walk problem into a finding or a note. `wanted` says whether
/// the path would have been read.
pub fn problem_finding(
    p: &Problem,
    wanted: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Option<Finding> {
    match p {
        Problem::OutOfTree { rel, target } => Some(input_error(
            rel,
            format!(
                "symlink to {target:?} points outside the repository tree and was not followed; Argo CD refuses repositories with out-of-bounds symlinks"
            ),
        )),
        Problem::Dangling { rel } if wanted(rel) => Some(input_error(
            rel,
            "dangling symlink: the manifest cannot be read".into(),
        )),
        Problem::Special { rel } if wanted(rel) => Some(input_error(
            rel,
            "not a regular file: cannot be read as a manifest".into(),
        )),
        Problem::Cycle { rel } => {
            notes.push(format!("{rel}: symlink loop not followed"));
            None
        }
        _ => None,
    }
}

/// Explains why a wanted file could not be passed to the engine.
pub fn unreadable(rel: &str, r: &FileRead, limit: usize) -> Option<Finding> {
    match r {
        FileRead::Text(_) => None,
        FileRead::TooLarge(n) => Some(input_error(
            rel,
            format!("file is {n} bytes, larger than the {limit}-byte limit; not evaluated"),
        )),
        FileRead::NotUtf8 => Some(input_error(
            rel,
            "file is not valid UTF-8; Kubernetes manifests must be UTF-8".into(),
        )),
    }
}

/// The path a walk problem is about.
fn problem_rel(p: &Problem) -> &str {
    match p {
        Problem::OutOfTree { rel, .. }
        | Problem::Dangling { rel }
        | Problem::Special { rel }
        | Problem::Cycle { rel } => rel,
    }
}

/// Keeps what a check of PATH below its root reports: findings on files
/// under PATH, and everything about the policy (config problems, unreadable
/// AppProjects or policies, edits to them), except the notice that an exception matched
/// nothing: it may match files outside PATH.
pub fn keep_for_sub(root: &EvalRoot, sel: &Selection, config: &Config, ev: &mut Evaluation) {
    if root.sub.is_empty() {
        return;
    }
    let exception_site = |f: &Finding| {
        config.admission.exceptions.iter().any(|e| {
            e.source
                .as_ref()
                .is_some_and(|s| s.file == f.file && s.line == f.line)
        })
    };
    ev.findings.retain(|f| {
        // A rendered object's finding belongs to the check of its root
        // too: the value may come from a base outside PATH.
        if root.contains(&f.file)
            || sel.is_support(&f.file)
            || f.root.as_ref().is_some_and(|r| root.contains(r))
        {
            return true;
        }
        match f.rule.as_str() {
            "policy-change" => true,
            "config" => !(f.severity == Severity::Notice && exception_site(f)),
            _ => false,
        }
    });
}

/// True when `rel` is the `Chart.yaml` of a chart whose directory holds
/// `sub`.
fn chart_above(rel: &str, sub: &str) -> bool {
    rel.strip_suffix("Chart.yaml")
        .is_some_and(|dir| (dir.is_empty() || dir.ends_with('/')) && sub.starts_with(dir))
}

/// Evaluates a directory tree: the files under PATH, judged with the
/// policy of its root.
fn evaluate_dir(root: &EvalRoot, args: &CheckArgs, today: NaiveDate) -> anyhow::Result<Outcome> {
    let canon = &root.dir;
    let cfg_display = format!("{}{CONFIG_PATH}", root.display);
    let found = match resolve_in_tree(canon, CONFIG_PATH) {
        Ok(Some(p)) => match read_text(&p, MAX_CONFIG_BYTES)
            .with_context(|| format!("{cfg_display}: cannot read"))?
        {
            FileRead::Text(text) => Some(FoundConfig {
                name: cfg_display.clone(),
                label: cfg_display.clone(),
                text,
            }),
            _ => bail!("{cfg_display}: config is too large or not UTF-8"),
        },
        Ok(None) => None,
        Err(_) => {
            bail!("{cfg_display}: config is a symlink leaving the tree or dangling; refusing it")
        }
    };
    let (config, source) = choose_config(args, found, &format!("no {cfg_display}"))?;
    let git = GitRepo::open(canon).ok();
    let repo = repo_for(args.repo.as_ref(), git.as_ref());

    let sel = Selection::new(&config).map_err(anyhow::Error::msg)?;
    let walked = walk(canon).with_context(|| format!("{}: cannot walk", canon.display()))?;
    let limit = Limits::default().max_bytes;
    let mut cli_findings = Vec::new();
    let mut notes = Vec::new();
    for p in &walked.problems {
        // Outside PATH only what the policy needs concerns this check.
        let rel = problem_rel(p);
        if !root.contains(rel) && !sel.is_support(rel) {
            continue;
        }
        if let Some(f) = problem_finding(p, &|r| sel.wanted(r), &mut notes) {
            cli_findings.push(f);
        }
    }
    let mut files = Vec::new();
    let mut support = Vec::new();
    // Kustomizations outside PATH (an overlay elsewhere may include files
    // under it and decide their namespace) and the `Chart.yaml` of a chart
    // PATH is inside (its templates are not manifests) are passed as
    // context only: not counted, and their findings are not kept.
    let (mut context_files, mut context_bytes) = (0, 0);
    for wf in &walked.files {
        if !sel.wanted(&wf.rel) {
            continue;
        }
        let inside = root.contains(&wf.rel);
        let read =
            read_text(&wf.path, limit).with_context(|| format!("{}: cannot read", wf.rel))?;
        let FileRead::Text(text) = read else {
            if inside || sel.is_support(&wf.rel) {
                cli_findings.extend(unreadable(&wf.rel, &read, limit));
            }
            continue;
        };
        let manifest = sel.is_manifest(&wf.rel);
        // CRDs anywhere in the root decide the scope of custom kinds.
        if sel.is_support(&wf.rel) || (manifest && may_hold_crd(&text)) {
            support.push(SourceFile::new(&wf.rel, text.clone()));
        }
        let kustomization = Selection::is_kustomization(&wf.rel) && !sel.is_ignored(&wf.rel);
        if inside && (manifest || kustomization) {
            files.push(SourceFile::new(&wf.rel, text));
        } else if kustomization || (manifest && chart_above(&wf.rel, &root.sub)) {
            context_files += 1;
            context_bytes += text.len();
            files.push(SourceFile::new(&wf.rel, text));
        }
    }
    let policy = PolicyInputs {
        config,
        config_source: source.clone(),
        support,
        repo: repo.clone(),
        today,
    };
    let scope = (!root.sub.is_empty()).then_some(root.sub.as_str());
    let mut evaluation = evaluate_with_disk(&policy, files, canon, scope, &mut cli_findings);
    keep_for_sub(root, &sel, &policy.config, &mut evaluation);
    evaluation.stats.files = evaluation.stats.files.saturating_sub(context_files);
    evaluation.stats.bytes = evaluation.stats.bytes.saturating_sub(context_bytes);
    evaluation.findings.extend(cli_findings);
    evaluation.notes.extend(notes);
    sort_findings(&mut evaluation.findings);
    Ok(Outcome {
        evaluation,
        config_source: source,
        repo,
        base: None,
        repo_prefix: git.map(|g| g.prefix().to_owned()),
        display_prefix: String::new(),
    })
}

/// Evaluates one file named on the command line. A relative path without
/// `..` is shown (and matched against bindings) as given; otherwise the
/// file is shown under its directory as given.
fn evaluate_file(path: &Path, args: &CheckArgs, today: NaiveDate) -> anyhow::Result<Outcome> {
    let given = normalize_display(path);
    let simple = path.is_relative() && !path.components().any(|c| c == Component::ParentDir);
    let (rel, display_prefix, dir): (String, String, PathBuf) = if simple {
        (given.clone(), String::new(), PathBuf::from("."))
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let prefix = given.strip_suffix(&name).unwrap_or("").to_owned();
        (
            name,
            prefix,
            if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent
            },
        )
    };
    let (config, source) = choose_config(args, None, "PATH is a file; use --config")?;
    let git = GitRepo::open(&dir).ok();
    let repo = repo_for(args.repo.as_ref(), git.as_ref());
    let limit = Limits::default().max_bytes;
    let read = read_text(path, limit).with_context(|| format!("{given}: cannot read"))?;
    let mut files = Vec::new();
    let mut cli_findings = Vec::new();
    let mut support = Vec::new();
    match read {
        FileRead::Text(text) => {
            if may_hold_crd(&text) {
                support.push(SourceFile::new(&rel, text.clone()));
            }
            files.push(SourceFile::new(&rel, text));
        }
        other => cli_findings.extend(unreadable(&rel, &other, limit)),
    }
    let policy = PolicyInputs {
        config,
        config_source: source.clone(),
        support,
        repo: repo.clone(),
        today,
    };
    let disk_root = dir.canonicalize().unwrap_or(dir);
    let mut evaluation = evaluate_with_disk(&policy, files, &disk_root, None, &mut cli_findings);
    evaluation.findings.extend(cli_findings);
    sort_findings(&mut evaluation.findings);
    // Repository-relative SARIF path: the work tree prefix of `dir` (the
    // current directory for a simple path, else the file's directory).
    let repo_prefix = git.map(|g| g.prefix().to_owned());
    Ok(Outcome {
        evaluation,
        config_source: source,
        repo,
        base: None,
        repo_prefix,
        display_prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths() {
        assert_eq!(normalize_display(Path::new("./deploy/")), "deploy");
        assert_eq!(normalize_display(Path::new(".")), "");
        assert_eq!(normalize_display(Path::new("../x/y.yaml")), "../x/y.yaml");
        assert_eq!(normalize_display(Path::new("/tmp/a")), "/tmp/a");
        assert_eq!(dir_prefix("deploy"), "deploy/");
        assert_eq!(dir_prefix(""), "");
    }

    #[test]
    fn merge_prefixes_and_sorts() {
        let mk = |file: &str, prefix: &str, repo_prefix: Option<&str>| Outcome {
            evaluation: Evaluation {
                findings: vec![Finding::at("r", Severity::Error, file, 1, "m")],
                ..Evaluation::default()
            },
            config_source: "built-in defaults".into(),
            repo: None,
            base: None,
            repo_prefix: repo_prefix.map(str::to_owned),
            display_prefix: prefix.into(),
        };
        let (ev, info) = merge(
            vec![
                mk("b.yaml", "y/", None),
                mk("a.yaml", "x/", Some("deploy/x/")),
            ],
            false,
        );
        let files: Vec<&str> = ev.findings.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(files, ["x/a.yaml", "y/b.yaml"]);
        assert_eq!(info.config_sources.len(), 2);
        let (ev, _) = merge(vec![mk("a.yaml", "x/", Some("deploy/x/"))], true);
        assert_eq!(ev.findings[0].file, "deploy/x/a.yaml");
    }
}
