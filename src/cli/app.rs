//! The App entry points of the command line: `serve` (the webhook server)
//! and `check-pr` (run the manifests pipeline against a real PR with a token
//! and print the check-run output it would post, without posting — how users
//! debug the App).

use std::process::ExitCode;

use secrecy::SecretString;

use super::EXIT_USAGE;
use crate::cli::settings::Settings;
use crate::engine::ids::RepoName;
use crate::github::GitHub;
use crate::github::client::RestClient;
use crate::github::retry::RetryPolicy;
use crate::pipeline::PipelineContext;
use crate::report::checkrun::CheckRunOutput;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// `gitops-guard serve`: reads the environment (DESIGN.md) and runs the App.
pub fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gitops-guard serve: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitops-guard serve: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match rt.block_on(crate::cli::server::serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gitops-guard serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Renders what the check run would hold, as Markdown on stdout.
pub fn render_plan(out: &CheckRunOutput) -> String {
    let mut s = format!(
        "check run: gitops-guard/manifests\nconclusion: {:?}\ntitle: {}\n\n{}\n",
        out.conclusion, out.title, out.summary
    );
    if let Some(text) = &out.text {
        s.push_str(&format!("\n{text}\n"));
    }
    if !out.annotations.is_empty() {
        s.push_str(&format!("\nannotations ({}):\n", out.annotations.len()));
        for a in &out.annotations {
            s.push_str(&format!(
                "  {}:{} [{:?}] {}: {}\n",
                a.path,
                a.start_line,
                a.annotation_level,
                a.title.as_deref().unwrap_or(""),
                a.message
            ));
        }
    }
    s
}

/// `gitops-guard check-pr OWNER/REPO#N` with `GITHUB_TOKEN` (and
/// `GITHUB_API_URL` for GitHub Enterprise Server).
pub fn check_pr(repo: RepoName, number: u64) -> ExitCode {
    let Some(token) = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()) else {
        eprintln!(
            "gitops-guard check-pr: set GITHUB_TOKEN to a token that can read the repository"
        );
        return ExitCode::from(EXIT_USAGE);
    };
    let api =
        std::env::var("GITHUB_API_URL").unwrap_or_else(|_| "https://api.github.com".to_owned());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitops-guard check-pr: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = rt.block_on(async {
        crate::cli::server::install_crypto_provider();
        let gh = RestClient::with_token(&api, SecretString::from(token), RetryPolicy::default())?;
        let pr = gh.get_pull(&repo, number).await?;
        let ctx = PipelineContext::default();
        crate::pipeline::pull_request::plan(&gh, &ctx, &repo, &pr).await
    });
    match result {
        Ok(out) => {
            print!("{}", render_plan(&out));
            if out.conclusion == crate::report::checkrun::Conclusion::Failure {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("gitops-guard check-pr: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
