//! The `gitops-guard` binary: `check` (offline CLI), `serve` (the App) and
//! `check-pr`. All logic lives in the library ([`gitops_guard::cli`]).

fn main() -> std::process::ExitCode {
    gitops_guard::cli::main()
}
