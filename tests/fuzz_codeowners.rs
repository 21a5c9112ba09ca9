//! Property fuzzing of the CODEOWNERS parser and matcher: arbitrary and
//! mutated files never panic, and lookups of arbitrary paths finish in
//! bounded time.

mod fuzz_support;

use fuzz_support::*;
use gitops_guard::engine::gates::codeowners::CodeOwners;
use proptest::prelude::*;

const DICT: &[&str] = &[
    "\n",
    " ",
    "\t",
    "#",
    "*",
    "**",
    "/",
    "\\",
    "\\#",
    "\\ ",
    "?",
    "[",
    "]",
    "!",
    "@",
    "@org/team",
    "@user",
    "a@b.c",
    "/**/",
    "docs/",
    "*.yaml",
    "apps/**/prod/",
    "[a-z]",
    "{a,b}",
    "\r\n",
];

static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn seeds() -> Vec<Vec<u8>> {
    let mut s = corpus(&["rules/sample-repo/.github"], &["CODEOWNERS"], 10);
    s.push(b"* @org/platform\n/apps/payments/ @org/payments @alice\n*.yaml @bob # trailing\n\\#literal @x\n/docs/** @docs\n".to_vec());
    s
}

fn paths() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(/?[a-z.*#\\\\ -]{0,6}){0,6}").unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_files_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048),
                                   path in paths()) {
        let t = text(&body);
        let co = bounded("parse", || CodeOwners::parse(&t));
        let _ = bounded("owners_of", || co.owners_of(&path));
    }

    #[test]
    fn mutated_files_never_panic(seed in any::<prop::sample::Index>(), program in ops(16),
                                 path in paths()) {
        let seeds = once(&SEEDS, seeds);
        let t = text(&mutate(&seeds[seed.index(seeds.len())], &program, DICT));
        let co = bounded("parse", || CodeOwners::parse(&t));
        let _ = bounded("owners_of", || co.owners_of(&path));
    }
}
