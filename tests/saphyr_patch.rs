//! The vendored saphyr-parser (`vendor/saphyr-parser`, performance patches
//! listed in its `PATCHES.md`) must read YAML exactly as upstream 0.3.4 does:
//! the same events, the same spans, the same errors at the same places. The
//! patches only take runs of ASCII in one step and stop copying tokens, so
//! any difference is a bug in them.
//!
//! Inputs: every YAML file in the repository's test data (with the YAML
//! differential corpus and the vendored Kyverno pod-security corpus) and
//! sample rules, a generated GitOps repository (anchors, merge keys, flow
//! and JSON documents), and property-generated text over an alphabet
//! chosen to hit every patched path (plain and quoted scalars, blanks,
//! indicators, flow collections, escapes, non-ASCII and line breaks).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// The event stream (events and spans) and the error, if any, as text, from
/// one parser crate (the two crates have the same API but distinct types).
macro_rules! events {
    ($krate:ident, $text:expr) => {{
        let mut out = Vec::new();
        let mut p = $krate::Parser::new_from_str($text);
        while let Some(ev) = p.next_event() {
            match ev {
                Ok((e, span)) => out.push(format!("{e:?} {span:?}")),
                Err(e) => {
                    out.push(format!("error {:?} {}", e.marker(), e.info()));
                    break;
                }
            }
            // Bound the stream for pathological generated inputs.
            if out.len() > 100_000 {
                break;
            }
        }
        out
    }};
}

fn patched(text: &str) -> Vec<String> {
    events!(saphyr_parser, text)
}

fn upstream(text: &str) -> Vec<String> {
    events!(saphyr_parser_upstream, text)
}

fn assert_same(name: &str, text: &str) {
    let (a, b) = (patched(text), upstream(text));
    if a != b {
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{name}: patched saphyr-parser differs from upstream at event {at}:\n  patched:  {:?}\n  upstream: {:?}\ninput: {text:?}",
            a.get(at),
            b.get(at)
        );
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        {
            out.push(p);
        }
    }
}

#[test]
fn repository_yaml_reads_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in ["tests/data", "rules", "deploy", ".github"] {
        yaml_files(&root.join(d), &mut files);
    }
    assert!(files.len() > 50, "only {} YAML files found", files.len());
    let mut cases = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        // The differential corpus holds many cases per file, split on `=== name`.
        let mut parts: Vec<String> = vec![text.clone()];
        if text.contains("\n=== ") || text.starts_with("=== ") {
            parts.extend(text.split("=== ").map(|c| {
                c.split_once('\n')
                    .map_or(String::new(), |(_, body)| body.to_owned())
            }));
        }
        for part in parts {
            assert_same(&f.display().to_string(), &part);
            // The same text with CRLF line ends and a BOM takes other paths.
            assert_same(&f.display().to_string(), &part.replace('\n', "\r\n"));
            assert_same(&f.display().to_string(), &format!("\u{feff}{part}"));
            cases += 3;
        }
    }
    assert!(cases > 150, "only {cases} cases");
}

#[test]
fn generated_repository_reads_the_same() {
    let corpus = gitops_guard::cli::bench::corpus::generate(400, 11, 0.5);
    assert!(
        corpus.files.len() > 100,
        "only {} files",
        corpus.files.len()
    );
    for f in &corpus.files {
        assert_same(&f.path, &f.text);
    }
}

#[test]
fn edge_cases_read_the_same() {
    // Each stop condition of the patched runs, at the edge where it decides.
    for text in [
        "a: [x:]\n",
        "[::,",
        "[::{a: b}: \n",
        "{a:b, c: d}",
        "[a:b, c:, :d]",
        "k: v:w\n",
        "k: v:\n",
        "k: v: w\n",
        "k: v#c\n",
        "k: v #c\n",
        "k: 'it''s'\n",
        "k: \"a\\\"b\\tc\"\n",
        "k: \"a\\\n  b\"\n",
        "k: 'a\n\n  b'\n",
        "k: é:x\n",
        "k: a\u{feff}b\n",
        "k: a\0b\n",
        "k:    \t v\n",
        "k: |\n  a: b\n",
        "- a\n-\tb\n",
        "   \n  # c\n k: v\n",
        "k: v\r\nl: w\r\n",
        "k: \"\u{2028}\"\n",
    ] {
        assert_same(text, text);
    }
}

/// Pieces that steer the scanner into every patched path.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "- ",
        "-",
        ": ",
        ":",
        "::",
        "? ",
        "?",
        ",",
        "[",
        "]",
        "{",
        "}",
        "#",
        " #",
        "# c\n",
        "'",
        "''",
        "\"",
        "\\",
        "\\n",
        "\\'",
        "\\/",
        "\\x41",
        "\\u00e9",
        "\\\n",
        "&a ",
        "*a",
        "!!str ",
        "!t ",
        "|",
        ">",
        "|-\n",
        "---",
        "---\n",
        "...",
        "...\n",
        "%YAML 1.1\n",
        "a",
        "key",
        "value",
        "true",
        "0x1F",
        "1_000",
        "é",
        "日本",
        "\u{2028}",
        "\u{85}",
        "\u{feff}",
        "\u{a0}",
        "\0",
        "@",
        "`",
        "%",
        "x:y",
        "http://a/b",
        "a: b\n",
        "  c: d\n",
        "- e\n",
        "k: 'v'\n",
        "k: \"v\"\n",
        "{a: b}",
        "[a, b]",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn generated_text_reads_the_same(parts in prop::collection::vec(piece(), 0..40)) {
        let text: String = parts.concat();
        let (a, b) = (patched(&text), upstream(&text));
        prop_assert_eq!(a, b, "input {:?}", text);
    }

    #[test]
    fn generated_manifest_lines_read_the_same(
        lines in prop::collection::vec(
            (0usize..4, prop::collection::vec(piece(), 1..6), prop::collection::vec(piece(), 0..6)),
            1..16,
        )
    ) {
        // Indented `key: value` lines, the shape of real manifests, with
        // generated keys and values.
        let mut text = String::new();
        for (indent, key, value) in lines {
            text.push_str(&"  ".repeat(indent));
            text.push_str(&key.concat());
            text.push_str(": ");
            text.push_str(&value.concat());
            text.push('\n');
        }
        let (a, b) = (patched(&text), upstream(&text));
        prop_assert_eq!(a, b, "input {:?}", text);
    }
}
