//! Property and limit tests for the manifest YAML loader: it never panics,
//! every key knows its line, and hostile inputs (alias bombs, deep nesting,
//! huge files, many documents) end in an error quickly and in bounded memory.

use std::time::{Duration, Instant};

use gitops_guard::engine::yaml::{Limits, Node, Span, Value, load_documents};
use proptest::prelude::*;

fn load(s: &str) -> gitops_guard::engine::yaml::Loaded {
    load_documents(s, &Limits::default())
}

/// YAML-ish text from the characters that steer the scanner.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n"),
        Just("\r\n"),
        Just("  "),
        Just("\t"),
        Just("- "),
        Just(": "),
        Just(":"),
        Just("? "),
        Just("---\n"),
        Just("...\n"),
        Just("&a "),
        Just("*a"),
        Just("&b "),
        Just("*b"),
        Just("<<: "),
        Just("!!str "),
        Just("!!int "),
        Just("!!binary "),
        Just("!x "),
        Just("! "),
        Just("%YAML 1.1\n"),
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(", "),
        Just("\""),
        Just("'"),
        Just("\\"),
        Just("|\n"),
        Just(">-\n"),
        Just("# c\n"),
        Just("key"),
        Just("yes"),
        Just("0x1F"),
        Just("1e999"),
        Just(".inf"),
        Just("\u{feff}"),
        Just("é"),
        Just("\u{0}"),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text never panics; it yields documents or an error whose
    /// position lies inside the text.
    #[test]
    fn never_panics_on_yamlish_text(s in yamlish()) {
        let l = load(&s);
        if let Some(e) = &l.error {
            let lines = s.split('\n').count() as u32 + 1;
            prop_assert!(e.line >= 1 && e.line <= lines, "error line {} of {lines}: {e}", e.line);
        }
    }

    /// Arbitrary bytes, decoded as a file reader would, never panic.
    #[test]
    fn never_panics_on_bytes(b in prop::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&b);
        let l = load(&s);
        prop_assert!(l.error.is_some() || l.docs.len() <= s.len() + 1);
    }

    /// Every key of a generated nested block mapping reports the line it is
    /// written on, whatever the value style (plain, quoted, multi-line, flow,
    /// block scalar), with LF or CRLF line ends and an optional BOM.
    #[test]
    fn key_lines_are_exact(
        entries in prop::collection::vec((0..3usize, 0..6u8), 1..25),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let mut text = String::new();
        let mut expected: Vec<(Vec<String>, u32)> = Vec::new();
        let mut line = 1u32;
        let mut path: Vec<String> = Vec::new();
        for (i, (depth, style)) in entries.iter().enumerate() {
            // Depth may grow by at most one level per entry.
            let depth = (*depth).min(path.len());
            path.truncate(depth);
            let key = format!("k{i}");
            let pad = "  ".repeat(depth);
            let value: (&str, u32) = match style {
                0 => ("plain", 0),
                1 => ("\"quoted\"", 0),
                2 => ("multi\n  line plain", 1),
                3 => ("{a: 1,\n  b: 2}", 1),
                4 => ("|\n  block\n  text", 2),
                _ => ("", 0), // a nested mapping follows
            };
            text.push_str(&format!("{pad}{key}: {}\n", value.0.replace('\n', &format!("\n{pad}"))));
            let mut p = path.clone();
            p.push(key.clone());
            expected.push((p, line));
            line += 1 + value.1;
            if *style >= 5 {
                path.push(key);
            }
        }
        // A trailing empty mapping value is null, fine for line checks.
        let mut text = if crlf { text.replace('\n', "\r\n") } else { text };
        if bom {
            text.insert(0, '\u{feff}');
        }
        let l = load(&text);
        prop_assert!(l.error.is_none(), "{:?}\n{text}", l.error);
        let root = &l.docs[0];
        for (p, want) in expected {
            let (last, parents) = p.split_last().unwrap();
            let parent = if parents.is_empty() {
                root
            } else {
                let keys: Vec<&str> = parents.iter().map(String::as_str).collect();
                root.path(&keys).unwrap()
            };
            prop_assert_eq!(parent.key_line(last), want, "key {:?} in\n{}", p, text);
        }
    }

    /// Alias bombs of any width and depth, in sequences or mappings, end in
    /// an error quickly; none expands silently.
    #[test]
    fn alias_bombs_end_in_error(width in 4usize..16, depth in 6usize..14, maps in any::<bool>()) {
        let mut s = String::from("a0: &a0 [x, y, z]\n");
        for d in 1..depth {
            let refs: Vec<String> = (0..width)
                .map(|i| if maps { format!("k{i}: *a{}", d - 1) } else { format!("*a{}", d - 1) })
                .collect();
            let (open, close) = if maps { ("{", "}") } else { ("[", "]") };
            s.push_str(&format!("a{d}: &a{d} {open}{}{close}\n", refs.join(", ")));
        }
        let expanded = (width as f64).powi(depth as i32 - 1) * 3.0;
        let t = Instant::now();
        let l = load(&s);
        prop_assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
        if expanded > 2_000_000.0 {
            prop_assert!(l.error.is_some(), "{width}x{depth} expanded silently");
        }
    }

    /// The depth limit holds for any mix of flow and block nesting.
    #[test]
    fn depth_limit_holds(kinds in prop::collection::vec(0..3u8, 1..400), max_depth in 2usize..64) {
        let mut s = String::new();
        let mut close = String::new();
        for (i, k) in kinds.iter().enumerate() {
            match k {
                0 => { s.push('['); close.insert(0, ']'); }
                1 => { s.push_str("{k: "); close.insert(0, '}'); }
                _ => { s.push_str(&format!("\n{}- ", " ".repeat(i))); }
            }
        }
        s.push('x');
        s.push_str(&close);
        let limits = Limits { max_depth, ..Limits::default() };
        let l = load_documents(&s, &limits);
        for d in &l.docs {
            prop_assert!(depth(d) <= max_depth, "depth {} > {max_depth}", depth(d));
        }
    }
}

fn depth(n: &Node) -> usize {
    // Iterative, like the loader's drop: the tree may be deep.
    let mut max = 0;
    let mut stack = vec![(n, 0usize)];
    while let Some((n, d)) = stack.pop() {
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Map(entries) => stack.extend(entries.iter().map(|e| (&e.value, d + 1))),
            _ => max = max.max(d),
        }
        if matches!(n.value, Value::Seq(_) | Value::Map(_)) {
            max = max.max(d + 1);
        }
    }
    max
}

#[test]
fn thirty_level_tenfold_bomb_is_refused_fast() {
    let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let t = Instant::now();
    let l = load(&s);
    let took = t.elapsed();
    let e = l.error.expect("a 10^30 expansion must be refused");
    assert!(
        e.message.contains("excessive aliasing") || e.message.contains("expands to more than"),
        "{e}"
    );
    // Debug build on a shared machine; release is far faster.
    assert!(took < Duration::from_millis(500), "took {took:?}");
    eprintln!("30-level 10x bomb refused in {took:?}: {e}");
}

#[test]
fn node_budget_bounds_expansion_when_ratio_allows_it() {
    // Wide, shallow aliasing stays under go-yaml's 99% ratio but would still
    // cost memory: our own node budget stops it.
    let mut s = String::from("base: &b [");
    s.push_str(&vec!["x"; 2000].join(", "));
    s.push_str("]\nrefs:\n");
    for _ in 0..40 {
        s.push_str("- *b\n");
    }
    let limits = Limits {
        max_nodes: 50_000,
        ..Limits::default()
    };
    let l = load_documents(&s, &limits);
    let e = l.error.expect("over the node budget");
    assert!(e.message.contains("more than 50000 nodes"), "{e}");
    // Under the budget the same shape loads.
    let l = load_documents(&s, &Limits::default());
    assert!(l.error.is_none(), "{:?}", l.error);
    assert_eq!(l.docs[0].get("refs").unwrap().as_seq().unwrap().len(), 40);
}

#[test]
fn file_size_limit() {
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let small = format!("a: {}\n", "x".repeat(96));
    assert_eq!(small.len(), 100);
    assert!(load_documents(&small, &limits).error.is_none());
    let big = format!("a: {}\n", "x".repeat(97));
    let l = load_documents(&big, &limits);
    assert!(l.docs.is_empty());
    assert!(
        l.error
            .unwrap()
            .message
            .contains("over the limit of 100 bytes")
    );
}

#[test]
fn max_documents_limit() {
    let limits = Limits {
        max_documents: 5,
        ..Limits::default()
    };
    let five = "---\na: 1\n".repeat(5);
    let l = load_documents(&five, &limits);
    assert!(l.error.is_none());
    assert_eq!(l.docs.len(), 5);
    let six = "---\na: 1\n".repeat(6);
    let l = load_documents(&six, &limits);
    assert_eq!(l.docs.len(), 5, "the documents within the limit are kept");
    let e = l.error.unwrap();
    assert!(e.message.contains("more than 5 documents"));
    assert_eq!(e.line, 11, "points at the sixth document");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for s in [
        "[".repeat(100_000),
        "{a: ".repeat(100_000),
        (0..5_000)
            .map(|i| format!("{}- \n", " ".repeat(i)))
            .collect(),
    ] {
        let t = Instant::now();
        let l = load(&s);
        let e = l.error.expect("too deep");
        assert!(
            e.message.contains("nesting deeper") || e.message.contains("recursion limit"),
            "{e}"
        );
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}

#[test]
fn dropping_a_100k_deep_tree_does_not_overflow() {
    // The loader never builds this (depth limit), but Node's Drop must not
    // recurse whatever the tree: build one by hand and drop it.
    let mut n = Node::new(Value::Null, Span::default());
    for i in 0..100_000 {
        n = if i % 2 == 0 {
            Node::new(Value::Seq(vec![n]), Span::default())
        } else {
            Node::new(
                Value::Map(vec![gitops_guard::engine::yaml::Entry {
                    key: "k".into(),
                    key_span: Span::default(),
                    value: n,
                }]),
                Span::default(),
            )
        };
    }
    // Run on a small stack so a recursive drop would certainly overflow.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || drop(n))
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn multi_line_plain_scalars_fold_like_go_yaml() {
    let l = load("a: one\n  two\n\n  three\nb: x\n");
    assert!(l.error.is_none());
    assert_eq!(l.docs[0].get("a").unwrap().as_str(), Some("one two\nthree"));
    assert_eq!(l.docs[0].key_line("b"), 5);
}

#[test]
fn crlf_line_ends_count_once() {
    let l = load("a: 1\r\nb:\r\n  c: |\r\n    x\r\n    y\r\n  d: 2\r\n");
    assert!(l.error.is_none(), "{:?}", l.error);
    let d = &l.docs[0];
    assert_eq!(d.path(&["b", "c"]).unwrap().as_str(), Some("x\ny\n"));
    assert_eq!(d.get("b").unwrap().key_line("d"), 6);
    assert_eq!(d.key_line("b"), 2);
}

#[test]
fn bom_at_start_is_skipped_and_inside_is_content() {
    let l = load("\u{feff}a: 1\nb: 2\n");
    assert!(l.error.is_none());
    assert_eq!(l.docs[0].key_line("b"), 2);
    assert!(l.docs[0].get("a").is_some());
    // go-yaml keeps a BOM after the start as content, even at a line start.
    let l = load("a: 1\n---\n\u{feff}b: 2\nc: x\u{feff}\n");
    assert!(l.error.is_none(), "{:?}", l.error);
    assert!(l.docs[1].get("\u{feff}b").is_some());
    assert_eq!(l.docs[1].get("c").unwrap().as_str(), Some("x\u{feff}"));
    assert_eq!(l.docs[1].key_line("c"), 4);
}

#[test]
fn tabs_as_separators_and_in_content() {
    let l = load("a:\t1\nb: \"x\ty\"\nc: [1,\t2]\n");
    assert!(l.error.is_none(), "{:?}", l.error);
    let d = &l.docs[0];
    assert_eq!(d.get("a").unwrap().as_i64(), Some(1));
    assert_eq!(d.get("b").unwrap().as_str(), Some("x\ty"));
    assert_eq!(d.key_line("c"), 3);
    // A tab as indentation is an error in YAML and in go-yaml.
    assert!(load("a:\n\tb: 1\n").error.is_some());
}

#[test]
fn flow_keys_know_their_lines() {
    let l = load("obj: {a: 1,\n  b: 2,\n\n  c: [x,\n    {d: 3}]}\n");
    assert!(l.error.is_none());
    let o = l.docs[0].get("obj").unwrap();
    assert_eq!(o.key_line("a"), 1);
    assert_eq!(o.key_line("b"), 2);
    assert_eq!(o.key_line("c"), 4);
    let d = &o.get("c").unwrap().as_seq().unwrap()[1];
    assert_eq!(d.key_line("d"), 5);
}

#[test]
fn aliased_and_merged_nodes_point_at_where_they_are_written() {
    let text = "\
base: &b
  privileged: true
  runAsUser: 0
pod:
  securityContext: *b
other:
  <<: *b
  runAsUser: 1000
";
    let l = load(text);
    assert!(l.error.is_none());
    let d = &l.docs[0];
    // The entry holding the alias is where the alias is used...
    assert_eq!(d.get("pod").unwrap().key_line("securityContext"), 5);
    // ...and the keys inside it are where they are written: the anchor.
    let sc = d.path(&["pod", "securityContext"]).unwrap();
    assert_eq!(sc.key_line("privileged"), 2);
    // A merged key points at the merged map; an overriding key at itself.
    let o = d.get("other").unwrap();
    assert_eq!(o.key_line("privileged"), 2);
    assert_eq!(o.key_line("runAsUser"), 8);
    assert_eq!(o.get("runAsUser").unwrap().as_i64(), Some(1000));
}

#[test]
fn errors_point_at_their_line() {
    let e = load("a: 1\nb: 2\nb: 3\n").error.unwrap();
    assert_eq!(e.line, 3);
    let e = load("a: 1\nb: [1, 2\nc: 3\n").error.unwrap();
    assert!(e.line >= 2, "{e}");
    let e = load("a: 1\n\nb: \"x\u{1}\"\n").error.unwrap();
    assert_eq!((e.line, e.col), (3, 6));
}
