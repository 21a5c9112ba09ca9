//! Property fuzzing of the manifest loader and object extraction
//! (`load_documents`, `load_objects`): arbitrary bytes and mutated real
//! manifests never panic and stay within time and the loader's limits.

mod fuzz_support;

use fuzz_support::*;
use gitops_guard::engine::manifests::object::load_objects;
use gitops_guard::engine::yaml::{Limits, load_documents};
use proptest::prelude::*;

const DICT: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "!!binary ",
    "!!merge ",
    "? ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ",",
    "#",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "yes",
    "on",
    "0x1F",
    "0o17",
    "1_000",
    ".inf",
    "~",
    "kind: List\n",
    "items:\n",
    "apiVersion: v1\n",
    "privileged: true\n",
    "hostPID: yes\n",
    "\t",
    "\u{feff}",
];

static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn seeds() -> Vec<Vec<u8>> {
    let mut s = corpus(
        &[
            "tests/data/pss",
            "tests/data/hardening",
            "tests/data/tenants",
            "rules/sample-repo",
            "deploy/k8s",
        ],
        &[".yaml", ".yml"],
        200,
    );
    s.push(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n".to_vec());
    s
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let t = text(&body);
        let loaded = bounded("load_documents", || load_documents(&t, &Limits::default()));
        prop_assert!(loaded.docs.len() <= Limits::default().max_documents.max(1) + 1);
        let _ = bounded("load_objects", || load_objects("f.yaml", &t, &Limits::default()));
    }

    #[test]
    fn mutated_manifests_never_panic(seed in any::<prop::sample::Index>(), program in ops(16)) {
        let seeds = once(&SEEDS, seeds);
        let t = text(&mutate(&seeds[seed.index(seeds.len())], &program, DICT));
        let _ = bounded("load_documents", || load_documents(&t, &Limits::default()));
        let objs = bounded("load_objects", || load_objects("apps/x.yaml", &t, &Limits::default()));
        for o in &objs.objects {
            prop_assert_eq!(o.file.as_str(), "apps/x.yaml");
        }
    }
}
