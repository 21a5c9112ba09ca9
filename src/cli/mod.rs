//! The `gitops-guard` command line: `check` (offline evaluation of a tree or
//! of a change from a Git revision), and the `serve` / `check-pr` entry
//! points of the App. Everything here is shell: it gathers files, calls the
//! pure engine, and renders with [`crate::report`].
//!
//! Exit codes (DESIGN.md "CLI"): 0 no error findings, 1 error findings,
//! 2 usage, config or I/O error.

pub mod app;
pub mod bench;
pub mod change;
pub mod check;
pub mod config_load;
pub mod select;
pub mod walk;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::ids::RepoName;

/// Exit status for usage, config and I/O errors.
pub const EXIT_USAGE: u8 = 2;

/// Top-level arguments.
#[derive(Debug, Parser)]
#[command(
    name = "gitops-guard",
    version,
    about = "Guards GitOps deployment repositories"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the manifests under PATH (or the change from --base REV).
    Check(CheckArgs),
    /// Run the GitHub App (webhook server).
    Serve,
    /// Time the engine on a generated 10,000-object repository (or DIR).
    Bench {
        /// A repository to evaluate instead of the generated corpus.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Objects in the generated corpus.
        #[arg(long, default_value_t = 10_000)]
        objects: usize,
        /// Timed runs (the best is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Threads (1 measures the engine on one core; `check` uses every
        /// available core).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Evaluate one pull request through the GitHub API.
    #[command(name = "check-pr")]
    CheckPr {
        /// The pull request, `OWNER/REPO#N`.
        #[arg(value_name = "OWNER/REPO#N")]
        target: String,
    },
    /// Create the GitHub App on an organisation (GitHub's manifest flow).
    Register(RegisterArgs),
    /// Probe the local server's /healthz (exit 0 healthy, 1 not); for
    /// container HEALTHCHECKs.
    Healthcheck(HealthcheckArgs),
    /// Inspect the delivery journal: list, show ID, requeue ID.
    Deliveries(crate::deliveries_cli::DeliveriesArgs),
}

/// `gitops-guard register` arguments.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Organisation login to register the App on.
    #[arg(long)]
    pub org: String,
    /// App name (unique on GitHub; default from app-manifest/app.json).
    #[arg(long)]
    pub name: Option<String>,
    /// Public webhook URL, e.g. https://guard.example.com/webhook (without
    /// it the webhook is created inactive).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Local port of the registration page (127.0.0.1 only).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Directory for app-id, private-key.pem and webhook-secret (0600).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// GitHub web root (GitHub Enterprise Server: https://HOST).
    #[arg(
        long,
        env = "GITHUB_URL",
        default_value = "https://github.com",
        hide_env_values = true
    )]
    pub github_url: String,
    /// GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", default_value = crate::settings::DEFAULT_API_URL)]
    pub api_url: String,
}

/// `gitops-guard healthcheck` arguments.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Address the server listens on (its port is probed on loopback).
    #[arg(long, env = "LISTEN_ADDR", default_value = crate::settings::DEFAULT_LISTEN_ADDR)]
    pub listen_addr: std::net::SocketAddr,
    /// Path to probe.
    #[arg(long, default_value = "/healthz")]
    pub path: String,
}

/// `gitops-guard check` arguments (DESIGN.md "CLI").
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Config file to use instead of `.github/gitops-guard.yml` under PATH.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Repository for AppProject `sourceRepos` matching (default: from the
    /// Git remote `origin`).
    #[arg(long, value_name = "OWNER/NAME", value_parser = parse_repo)]
    pub repo: Option<RepoName>,
    /// Evaluate the change from REV to the work tree, as a pull request
    /// would be (policy read at REV).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Directories (walked) or files to evaluate.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable, grouped by file.
    Text,
    /// The JSON contract of DESIGN.md.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

fn parse_repo(s: &str) -> Result<RepoName, String> {
    RepoName::parse(s).ok_or_else(|| format!("expected OWNER/NAME, got {s:?}"))
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors
            // to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    match cli.command {
        Command::Check(args) => match check::run(&args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("gitops-guard: error: {e:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Serve => app::serve(),
        Command::Deliveries(args) => crate::deliveries_cli::main(&args),
        Command::Bench {
            dir,
            objects,
            runs,
            threads,
        } => bench::run(dir, objects, runs, threads),
        Command::CheckPr { target } => match parse_pr(&target) {
            Some((repo, number)) => app::check_pr(repo, number),
            None => {
                eprintln!("gitops-guard: error: expected OWNER/REPO#N, got {target:?}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Register(args) => register(args),
        Command::Healthcheck(args) => {
            ExitCode::from(crate::healthcheck::run(args.listen_addr, &args.path))
        }
    }
}

fn register(args: RegisterArgs) -> ExitCode {
    let opts = crate::register::RegisterOptions {
        org: args.org,
        name: args.name,
        webhook_url: args.webhook_url,
        port: args.port,
        out: args.out,
        github_url: args.github_url,
        api_url: args.api_url,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitops-guard register: error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match rt.block_on(crate::register::run(opts)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gitops-guard register: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses `OWNER/REPO#N`.
pub fn parse_pr(s: &str) -> Option<(RepoName, u64)> {
    let (repo, n) = s.rsplit_once('#')?;
    let n: u64 = n.parse().ok().filter(|&n| n > 0)?;
    Some((RepoName::parse(repo)?, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_targets() {
        let (r, n) = parse_pr("acme/deploy#12").unwrap();
        assert_eq!((r.as_str(), n), ("acme/deploy", 12));
        assert!(parse_pr("acme/deploy").is_none());
        assert!(parse_pr("acme/deploy#0").is_none());
        assert!(parse_pr("acme#3").is_none());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let c = Cli::try_parse_from([
            "gitops-guard",
            "check",
            "--format",
            "sarif",
            "--repo",
            "a/b",
            ".",
        ])
        .unwrap();
        match c.command {
            Command::Check(a) => {
                assert_eq!(a.format, Format::Sarif);
                assert_eq!(a.repo.unwrap().as_str(), "a/b");
            }
            _ => panic!("not check"),
        }
        assert!(Cli::try_parse_from(["gitops-guard", "check"]).is_err());
        assert!(Cli::try_parse_from(["gitops-guard", "check", "--repo", "nope", "."]).is_err());
    }
}
