//! Property fuzzing of the config parser (`.github/gitops-guard.yml`):
//! arbitrary and mutated configs never panic and finish in bounded time;
//! the real sample config still parses.

mod fuzz_support;

use fuzz_support::*;
use gitops_guard::cli::config_load::parse_config;
use proptest::prelude::*;

const DICT: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "version: 1\n",
    "bindings:\n",
    "paths: [",
    "]",
    "namespaces:\n",
    "pss: restricted\n",
    "exceptions:\n",
    "expires: 2020-01-01\n",
    "reviews:\n",
    "platform: true\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "~",
    "yes",
    "\"",
    "'",
    "{",
    "}",
    "#",
    "---\n",
    "\t",
];

static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn seeds() -> Vec<Vec<u8>> {
    let mut s = corpus(&["rules/sample-repo/.github"], &["gitops-guard.yml"], 10);
    s.push(b"version: 1\n".to_vec());
    s
}

#[test]
fn sample_config_parses() {
    for seed in corpus(&["rules/sample-repo/.github"], &["gitops-guard.yml"], 10) {
        let t = text(&seed);
        assert!(parse_config("gitops-guard.yml", &t).is_ok(), "{t}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let t = text(&body);
        let _ = bounded("parse_config", || parse_config("c.yml", &t));
    }

    #[test]
    fn mutated_configs_never_panic(seed in any::<prop::sample::Index>(), program in ops(16)) {
        let seeds = once(&SEEDS, seeds);
        let t = text(&mutate(&seeds[seed.index(seeds.len())], &program, DICT));
        let _ = bounded("parse_config", || parse_config("c.yml", &t));
    }
}
