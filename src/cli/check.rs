//! `gitops-guard check`: gather the files of each PATH (a walked directory,
//! a single file, or with `--base` a Git change), build the trusted
//! [`PolicyInputs`], call the engine, merge the results and render them.

use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;

use super::config_load::{MAX_CONFIG_BYTES, parse_config};
use super::select::{Selection, may_hold_crd};
use super::walk::{FileRead, Problem, read_text, resolve_in_tree, walk};
use super::{CheckArgs, Format};
use crate::engine::config::Config;
use crate::engine::evaluate::{Evaluation, evaluate_tree_with};
use crate::engine::finding::{Finding, Severity, sort_findings};
use crate::engine::ids::RepoName;
use crate::engine::input::{PolicyInputs, SourceFile, TreeInput};
use crate::engine::yaml::Limits;
use crate::gitrepo::{GitRepo, parse_remote_url};
use crate::report::summary::{RunInfo, exit_status};
use crate::report::{json, sarif, text};

/// Where the repository config lives, relative to the evaluated root.
pub const CONFIG_PATH: &str = ".github/gitops-guard.yml";

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
        let mut outcome = match (&args.base, meta.is_dir()) {
            (Some(rev), true) => super::change::evaluate(path, rev, args, today)?,
            (Some(_), false) => bail!(
                "{}: with --base, PATH must be a directory inside a Git work tree",
                path.display()
            ),
            (None, true) => evaluate_dir(path, args, today)?,
            (None, false) => evaluate_file(path, args, today)?,
        };
        if multi && outcome.display_prefix.is_empty() && meta.is_dir() {
            // Several roots: keep every path unambiguous by showing it from
            // where the user stands.
            outcome.display_prefix = dir_prefix(&given);
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

/// The config for a root: `--config FILE` from disk, else `found`
/// (`(display name, text)` of `.github/gitops-guard.yml`), else defaults.
/// Returns the config and a description of its source.
pub fn choose_config(
    config_arg: Option<&Path>,
    found: Option<(String, String)>,
    default_note: &str,
) -> anyhow::Result<(Config, String)> {
    let (name, text) = match config_arg {
        Some(p) => {
            let name = p.display().to_string();
            let text = match read_text(p, MAX_CONFIG_BYTES)
                .with_context(|| format!("{name}: cannot read config"))?
            {
                FileRead::Text(t) => t,
                FileRead::TooLarge(n) => {
                    bail!("{name}: config is {n} bytes, more than {MAX_CONFIG_BYTES}")
                }
                FileRead::NotUtf8 => bail!("{name}: config is not UTF-8"),
            };
            (name, text)
        }
        None => match found {
            Some(f) => f,
            None => {
                return Ok((
                    Config::default(),
                    format!("built-in defaults ({default_note})"),
                ));
            }
        },
    };
    match parse_config(&name, &text) {
        Ok(c) => Ok((c, name)),
        Err(errors) => bail!("invalid config:\n  {}", errors.join("\n  ")),
    }
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

/// Evaluates a directory tree.
fn evaluate_dir(root: &Path, args: &CheckArgs, today: NaiveDate) -> anyhow::Result<Outcome> {
    let canon = root
        .canonicalize()
        .with_context(|| format!("{}: cannot read PATH", root.display()))?;
    let given = normalize_display(root);
    let cfg_display = format!("{}{CONFIG_PATH}", dir_prefix(&given));
    let found = match resolve_in_tree(&canon, CONFIG_PATH) {
        Ok(Some(p)) => match read_text(&p, MAX_CONFIG_BYTES)
            .with_context(|| format!("{cfg_display}: cannot read"))?
        {
            FileRead::Text(t) => Some((cfg_display.clone(), t)),
            _ => bail!("{cfg_display}: config is too large or not UTF-8"),
        },
        Ok(None) => None,
        Err(_) => {
            bail!("{cfg_display}: config is a symlink leaving the tree or dangling; refusing it")
        }
    };
    let (config, source) =
        choose_config(args.config.as_deref(), found, &format!("no {cfg_display}"))?;
    let git = GitRepo::open(root).ok();
    let repo = repo_for(args.repo.as_ref(), git.as_ref());

    let sel = Selection::new(&config);
    let walked = walk(root).with_context(|| format!("{}: cannot walk", root.display()))?;
    let limit = Limits::default().max_bytes;
    let mut cli_findings = Vec::new();
    let mut notes = Vec::new();
    for p in &walked.problems {
        if let Some(f) = problem_finding(p, &|r| sel.wanted(r), &mut notes) {
            cli_findings.push(f);
        }
    }
    let mut files = Vec::new();
    let mut support = Vec::new();
    for wf in &walked.files {
        if !sel.wanted(&wf.rel) {
            continue;
        }
        let read =
            read_text(&wf.path, limit).with_context(|| format!("{}: cannot read", wf.rel))?;
        let FileRead::Text(text) = read else {
            cli_findings.extend(unreadable(&wf.rel, &read, limit));
            continue;
        };
        let manifest = sel.is_manifest(&wf.rel);
        if sel.is_support(&wf.rel) || (manifest && may_hold_crd(&text)) {
            support.push(SourceFile::new(&wf.rel, text.clone()));
        }
        if manifest || (Selection::is_kustomization(&wf.rel) && !sel.is_ignored(&wf.rel)) {
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
    let mut evaluation = evaluate_tree_with(&policy, &TreeInput { files }, eval_threads());
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
    let (config, source) =
        choose_config(args.config.as_deref(), None, "PATH is a file; use --config")?;
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
    let mut evaluation = evaluate_tree_with(&policy, &TreeInput { files }, eval_threads());
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
