//! Property fuzzing of the webhook decoder and signature check: arbitrary
//! bytes and mutated real GitHub payloads for every event we decode never
//! panic, finish in bounded time, and a decoded event is only produced
//! from JSON. `FUZZ_CASES` sets the case count (see tests/fuzz_support).

mod fuzz_support;

use fuzz_support::*;
use gitops_guard::github::event::{KNOWN_EVENTS, decode};
use gitops_guard::webhook::verify::{sign, verify_signature};
use proptest::prelude::*;
use secrecy::SecretString;

const DICT: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "-1",
    "1e999",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"action\":",
    "\"number\":",
    "\"sha\":",
    "\"pull_request\":",
    "\"repository\":",
    "\"installation\":",
    "\"commits\":",
    "\"ref\":",
    "\"head\":",
    "\"base\":",
    "\"full_name\":",
    "\"a/b/c\"",
    "\"\"",
];

static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn seeds() -> Vec<Vec<u8>> {
    let mut s = corpus(
        &["tests/data/github/webhooks", "tests/data/github/api"],
        &[".json"],
        200,
    );
    s.push(br#"{"action":"opened","number":1}"#.to_vec());
    s
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(event in 0..KNOWN_EVENTS.len() + 1,
                                   body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let name = KNOWN_EVENTS.get(event).copied().unwrap_or("not_an_event");
        let r = bounded("decode", || decode(name, &body));
        if r.is_ok() {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(seed in any::<prop::sample::Index>(),
                                    event in any::<prop::sample::Index>(),
                                    program in ops(12)) {
        let seeds = once(&SEEDS, seeds);
        let body = mutate(&seeds[seed.index(seeds.len())], &program, DICT);
        let name = KNOWN_EVENTS[event.index(KNOWN_EVENTS.len())];
        let _ = bounded("decode", || decode(name, &body));
    }

    #[test]
    fn signature_check_accepts_exactly_the_right_mac(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        header in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let secrets = vec![SecretString::from("s3cret".to_owned())];
        let good = sign(b"s3cret", &body);
        prop_assert!(verify_signature(&secrets, &body, Some(good.as_bytes())).is_ok());
        if header != good.as_bytes() {
            prop_assert!(verify_signature(&secrets, &body, Some(&header)).is_err());
        }
        prop_assert!(verify_signature(&secrets, &body, None).is_err());
    }
}
