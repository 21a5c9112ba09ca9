//! The `gitops-guard` binary: `check` (offline CLI), `serve` (the App) and
//! `check-pr`. All logic lives in the library ([`gitops_guard::cli`]).

/// The engine allocates many small nodes per manifest; mimalloc serves them
/// markedly faster than glibc malloc (measured with `gitops-guard bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gitops_guard::cli::main()
}
