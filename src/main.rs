//! The `gitops-guard` binary: `check` (offline CLI) and `serve` (the App).

fn main() {
    eprintln!("gitops-guard: commands are being wired up");
    std::process::exit(2);
}
