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
pub mod deliveries;
pub mod gitrepo;
pub mod healthcheck;
pub mod metrics;
pub mod register;
pub mod render;
pub mod select;
pub mod server;
pub mod settings;
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

/// `check`'s environment (`--help`).
const CHECK_ENV: &str = "\
Environment variables:
  NO_COLOR      set to any non-empty value: no colour in text output
                (colour is used only on a terminal)
  git reads its own variables (GIT_DIR, GIT_CONFIG_*, ...) for --base,
  the default --repo and repository-relative SARIF paths.

Configuration: see \"Configuration reference\" in README.md.";

/// `serve`'s environment (`--help`). Every variable the App reads, with its
/// default; a test checks none is missing.
const SERVE_ENV: &str = "\
Environment variables (required first):
  GITHUB_APP_ID                  the App's id or client id (required)
  GITHUB_APP_PRIVATE_KEY         the App's private key, PEM text (literal \\n
                                 accepted); or
  GITHUB_APP_PRIVATE_KEY_PATH    a file holding it (one of the two is required)
  GITHUB_WEBHOOK_SECRET          webhook secret (required); comma-separated to
                                 rotate: old,new
  GITHUB_API_URL                 REST API root [default: https://api.github.com]
                                 (GitHub Enterprise Server: https://HOST/api/v3)
  LISTEN_ADDR                    address to listen on [default: 0.0.0.0:8080]
  GITOPS_GUARD_WORKERS           deliveries processed at once [default: 4]
  GITOPS_GUARD_QUEUE             deliveries waiting before the webhook answers
                                 503 [default: 1024]
  GITOPS_GUARD_SHUTDOWN_SECONDS  graceful shutdown wait [default: 25]
  DATABASE_URL                   delivery journal: postgres://... or sqlite:...
                                 (read first)
  GITOPS_GUARD_DB                SQLite journal file, when DATABASE_URL is unset
                                 [default: ./gitops-guard.sqlite]
  GITOPS_GUARD_DB_SYNC           SQLite commit durability: full or normal
                                 [default: full]
  GITOPS_GUARD_JOURNAL           `memory`: no durable journal (tests and
                                 benchmarks only) [default: unset]
  GITOPS_GUARD_MAX_ATTEMPTS      attempts per delivery before it is dead
                                 [default: 5]
  GITOPS_GUARD_RETRY_BASE_SECS   first retry backoff, doubled per attempt
                                 [default: 30]
  GITOPS_GUARD_LEASE_SECS        how long a worker holds a claimed delivery
                                 without renewing it [default: 15]
  GITOPS_GUARD_RETENTION_HOURS   how long finished deliveries are kept
                                 [default: 168]
  GITOPS_GUARD_REDELIVER_SECS    period of the missed-delivery reconciler;
                                 0 turns it off [default: 600]
  GITOPS_GUARD_RUNBOOK_URL       runbook linked from alerts (URL#anchor)
                                 [default: the README's runbook section and
                                 the App's own GitHub page]
  GITOPS_GUARD_INSTANCE          this instance's name in the journal; a
                                 restart takes over the claims of its earlier
                                 boot at once, so it must be unique among
                                 live processes on one journal
                                 [default: $HOSTNAME, else local]
  RUST_LOG                       log filter [default: info]
  The variable a repository names in push.alert.webhook_url_env holds its
  chat webhook URL (never a GITHUB_* variable or DATABASE_URL).

Installation and operations: see README.md.";

/// `check-pr`'s environment (`--help`).
const CHECK_PR_ENV: &str = "\
Environment variables:
  GITHUB_TOKEN    a token that can read the repository (required)
  GITHUB_API_URL  REST API root [default: https://api.github.com]
                  (GitHub Enterprise Server: https://HOST/api/v3)";

/// `deliveries`' environment (`--help`).
const DELIVERIES_ENV: &str = "\
Environment variables (the journal `serve` writes):
  DATABASE_URL          postgres://... or sqlite:... (read first)
  GITOPS_GUARD_DB       SQLite journal file, when DATABASE_URL is unset
                        [default: ./gitops-guard.sqlite]
  GITOPS_GUARD_DB_SYNC  SQLite commit durability: full or normal
                        [default: full]";

/// `register`'s environment (`--help`; also shown per option).
const REGISTER_ENV: &str = "\
Environment variables:
  GITHUB_URL      GitHub web root, as --github-url [default: https://github.com]
  GITHUB_API_URL  REST API root, as --api-url [default: https://api.github.com]";

/// `healthcheck`'s environment (`--help`; also shown per option).
const HEALTHCHECK_ENV: &str = "\
Environment variables:
  LISTEN_ADDR  the server's address, as --listen-addr [default: 0.0.0.0:8080]";

/// `render`'s environment (`--help`).
const RENDER_ENV: &str = "\
Environment variables: none (the files under the Git work tree that holds
PATH, else under PATH, are read; nothing is written).";

/// `bench`'s environment (`--help`).
const BENCH_ENV: &str = "\
Environment variables: none (the corpus is generated under a temporary
directory that is removed afterwards).";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the manifests under PATH (or the change from --base REV).
    #[command(after_help = CHECK_ENV)]
    Check(CheckArgs),
    /// Print the objects kustomize would build for a kustomization
    /// directory, rendered natively (exit 0 rendered, 1 cannot be rendered,
    /// 2 usage or I/O error).
    #[command(after_help = RENDER_ENV)]
    Render {
        /// Output format.
        #[arg(long, value_enum, default_value_t = render::RenderFormat::Yaml)]
        format: render::RenderFormat,
        /// A kustomization directory, or an Argo CD Application /
        /// ApplicationSet or Flux Kustomization file.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Run the GitHub App (webhook server).
    #[command(after_help = SERVE_ENV)]
    Serve,
    /// Time the engine on a generated 10,000-object repository (or DIR).
    #[command(after_help = BENCH_ENV)]
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
    #[command(name = "check-pr", after_help = CHECK_PR_ENV)]
    CheckPr {
        /// The pull request, `OWNER/REPO#N`.
        #[arg(value_name = "OWNER/REPO#N")]
        target: String,
    },
    /// Create the GitHub App on an organisation (GitHub's manifest flow).
    #[command(after_help = REGISTER_ENV)]
    Register(RegisterArgs),
    /// Probe the local server's /healthz (exit 0 healthy, 1 not); for
    /// container HEALTHCHECKs.
    #[command(after_help = HEALTHCHECK_ENV)]
    Healthcheck(HealthcheckArgs),
    /// Inspect the delivery journal: list, show ID, requeue ID.
    #[command(after_help = DELIVERIES_ENV)]
    Deliveries(crate::cli::deliveries::DeliveriesArgs),
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
    /// Address of the registration page the browser opens (loopback by
    /// default). In a container: `--listen 0.0.0.0:3000` with `docker run
    /// -p 127.0.0.1:3000:3000`.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:3000",
        conflicts_with = "port"
    )]
    pub listen: std::net::SocketAddr,
    /// Shorthand for `--listen 127.0.0.1:PORT`.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
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
    #[arg(long, env = "GITHUB_API_URL", default_value = crate::cli::settings::DEFAULT_API_URL)]
    pub api_url: String,
}

/// `gitops-guard healthcheck` arguments.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Address the server listens on (its port is probed on loopback).
    #[arg(long, env = "LISTEN_ADDR", default_value = crate::cli::settings::DEFAULT_LISTEN_ADDR)]
    pub listen_addr: std::net::SocketAddr,
    /// Path to probe.
    #[arg(long, default_value = "/healthz")]
    pub path: String,
}

/// `gitops-guard check` arguments (DESIGN.md "CLI").
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Config file to use instead of the repository's
    /// `.github/gitops-guard.yml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Organisation default (the `gitops-guard.yml` of the org's `.github`
    /// repository): the repository config is merged onto it tighten-only,
    /// as the App does; a repository config that loosens it is an error.
    #[arg(long, value_name = "FILE")]
    pub org_config: Option<PathBuf>,
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
    /// Directories (walked) or files to evaluate. A directory inside a Git
    /// work tree is judged by the repository's config, AppProjects and
    /// policies, with paths shown from the repository root.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable, grouped by file.
    Text,
    /// JSON: findings and a summary (README: "gitops-guard check").
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
        Command::Render { format, path } => ExitCode::from(render::run(format, &path)),
        Command::Serve => app::serve(),
        Command::Deliveries(args) => crate::cli::deliveries::main(&args),
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
            ExitCode::from(crate::cli::healthcheck::run(args.listen_addr, &args.path))
        }
    }
}

fn register(args: RegisterArgs) -> ExitCode {
    let opts = crate::cli::register::RegisterOptions {
        org: args.org,
        name: args.name,
        webhook_url: args.webhook_url,
        listen: args.port.map_or(args.listen, |p| {
            std::net::SocketAddr::from(([127, 0, 0, 1], p))
        }),
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
    match rt.block_on(crate::cli::register::run(opts)) {
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
    fn help_defaults_match_the_code() {
        for (text, defaults) in [
            (
                SERVE_ENV,
                &[
                    crate::cli::settings::DEFAULT_API_URL,
                    crate::cli::settings::DEFAULT_LISTEN_ADDR,
                    crate::queue::DEFAULT_SQLITE_PATH,
                ][..],
            ),
            (CHECK_PR_ENV, &[crate::cli::settings::DEFAULT_API_URL][..]),
            (DELIVERIES_ENV, &[crate::queue::DEFAULT_SQLITE_PATH][..]),
            (REGISTER_ENV, &[crate::cli::settings::DEFAULT_API_URL][..]),
            (
                HEALTHCHECK_ENV,
                &[crate::cli::settings::DEFAULT_LISTEN_ADDR][..],
            ),
        ] {
            for d in defaults {
                assert!(text.contains(&format!("[default: {d}]")), "{d} in {text}");
            }
        }
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
