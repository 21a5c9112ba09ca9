//! Differential test: our manifest loader against go-yaml v2, the YAML reader
//! behind sigs.k8s.io/yaml (Kubernetes, kubectl, Argo CD).
//!
//! The oracle is the project's own `tests/oracle/yaml11` (a small Go program
//! on Debian's yaml.v2: YAML stream on stdin, one JSON line per document,
//! `{"error": ...}` and exit 1 on failure; its `main.go` documents the
//! protocol). It is found through `YAML11_ORACLE` (set by `scripts/test.sh`),
//! else built with its `build.sh` into this test's target tmp dir. If it
//! cannot be had the test FAILS, naming the packages to install: a
//! differential test that silently skips proves nothing.
//!
//! The rule checked for every input:
//! - the oracle accepts ⇒ we accept and produce the same JSON (numbers
//!   compared numerically, object key order ignored), unless the case is in
//!   [`WE_REJECT`] with the reason we deliberately refuse it;
//! - the oracle rejects ⇒ we reject, unless the case is in [`WE_ACCEPT`] with
//!   the reason (the oracle runs go-yaml in *strict* mode, Kubernetes does not);
//! - documents before an error are compared too.
//!
//! Two things in the oracle's output are harness artefacts, not go-yaml
//! semantics, and are mapped back here:
//! - a document holding `.inf`/`.nan` prints as an empty line (Go's
//!   `json.Marshal` refuses non-finite floats and the oracle drops the error):
//!   we then require that our document holds a non-finite float;
//! - non-string map keys are stringified with `fmt.Sprint` (float64 `%v`,
//!   `+Inf`, `<nil>`), whereas sigs.k8s.io/yaml — what the cluster runs and
//!   what we mirror — uses `strconv.FormatFloat(f, 'g', -1, 32)` with `.inf`/
//!   `.nan` spellings and refuses null keys. A key that differs only that way
//!   is accepted (see [`float_key_matches`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use gitops_guard::engine::yaml::{Limits, Node, Value, load_documents};
use proptest::prelude::*;
use serde_json::Value as J;

// ---------------------------------------------------------------------------
// Exemptions: every place we deliberately differ from the strict oracle.
// ---------------------------------------------------------------------------

/// Corpus cases the oracle accepts and we refuse, with the reason.
const WE_REJECT: &[(&str, &str)] = &[
    (
        "tags/custom-scalar-tag",
        "go-yaml v2 silently drops unknown tags and keeps the text; an application-specific \
         tag in a manifest means another tool may read it differently, so we refuse it",
    ),
    (
        "tags/custom-secondary-tag",
        "`!!foo` is not a core tag; go-yaml keeps the text, we refuse unknown tags",
    ),
    (
        "tags/custom-tag-on-mapping",
        "go-yaml ignores tags on collections entirely; we refuse non-core tags",
    ),
    (
        "tags/str-tag-on-mapping",
        "go-yaml ignores `!!str` on a mapping; a tag contradicting the node kind is refused",
    ),
    (
        "tags/map-tag-on-sequence",
        "go-yaml ignores `!!map` on a sequence; a tag contradicting the node kind is refused",
    ),
    (
        "tags/seq-tag-on-scalar",
        "go-yaml keeps the text of a scalar tagged `!!seq`; contradicting tag refused",
    ),
    (
        "tags/verbatim-custom",
        "verbatim non-core tag `!<tag:example.com,2000:x>`: refused like any unknown tag",
    ),
    (
        "tags/tag-directive-custom",
        "%TAG-declared application tag: refused like any unknown tag",
    ),
    (
        "keys/null-key",
        "sigs.k8s.io/yaml refuses a null map key (\"unsupported map key\"); the oracle prints \
         `<nil>`. We follow the cluster",
    ),
    (
        "keys/tilde-key",
        "null key (`~`): sigs.k8s.io/yaml refuses it; so do we",
    ),
    (
        "keys/empty-explicit-key",
        "`? ` with no key is a null key: sigs.k8s.io/yaml refuses it; so do we",
    ),
    (
        "keys/uint64-key",
        "an integer key above i64::MAX is a uint64 in go-yaml, which sigs.k8s.io/yaml \
         refuses (\"unsupported map key of type uint64\"); so do we",
    ),
    (
        "keys/bool-and-string-true",
        "`true` (bool) and `\"true\"` (string) are distinct Go keys but the same JSON key: \
         sigs.k8s.io/yaml keeps whichever its random map iteration sees last. Ambiguous, so \
         it is a duplicate key for us",
    ),
    (
        "keys/int-and-string-one",
        "`1` (int) and `\"1\"` (string) collide after JSON stringification: random winner in \
         sigs.k8s.io/yaml, duplicate for us",
    ),
    (
        "keys/int-and-float-one",
        "`1` (int) and `1.0` (float) collide after JSON stringification: duplicate for us",
    ),
    (
        "keys/two-nan-keys",
        "NaN never equals itself, so go-yaml's strict check misses `.nan` twice; both become \
         JSON key `.nan`: duplicate for us",
    ),
    (
        "keys/float32-collision",
        "two float keys that differ as float64 but print the same as float32 collide in \
         sigs.k8s.io/yaml's key conversion: duplicate for us",
    ),
    (
        "anchors/anchor-names-with-colon",
        "libyaml ends an anchor name at the first character outside [A-Za-z0-9_-], so `&x:y 1` \
         is anchor `x` on the string `:y 1`; saphyr reads anchor `x:y` on 1. We cannot read \
         it the libyaml way, and a reading that surprising is refused",
    ),
    (
        "flow/flow-colon-before-close",
        "`[x:]`: libyaml reads the string \"x:\", saphyr (YAML 1.2) a map {x: null}; a text two \
         YAML versions split differently is refused, not guessed",
    ),
    (
        "flow/flow-colon-before-comma",
        "`[x:, y]`: same split as `[x:]`",
    ),
    (
        "flow/flow-map-colon-before-close",
        "`{x:}`: libyaml's key is \"x:\", saphyr's \"x\"; refused",
    ),
    (
        "flow/flow-question-start",
        "`[x, ?y]`: libyaml reads `?` as an explicit-key indicator even without a space \
         ({y: null}), saphyr reads the string \"?y\"; refused",
    ),
    (
        "anchors/alias-key-no-space",
        "`*a: 2`: libyaml ends the alias name at `:`, saphyr (YAML 1.2) takes `a:` as the name \
         and fails; where saphyr reports the unknown anchor we repair it, here it reports a \
         missing simple key at the end of the stream and the file is flagged, never misread",
    ),
    (
        "limits/deep-nesting-200",
        "we bound nesting at Limits::max_depth (128) to bound memory and recursion; go-yaml \
         allows 10000",
    ),
];

/// Corpus cases the (strict) oracle rejects and we accept, with the reason
/// and the value we must produce.
const WE_ACCEPT: &[(&str, &str, &str)] = &[
    (
        "merge/explicit-overrides-merge",
        "Kubernetes decodes with go-yaml in NON-strict mode, where an explicit key after \
         `<<` overrides the merged value (YAML merge semantics). Strict mode calls it a \
         duplicate. We follow the cluster",
        r#"{"base":{"a":1,"b":2},"obj":{"a":1,"b":3}}"#,
    ),
    (
        "merge/list-overlap-first-wins",
        "non-strict go-yaml applies a merge list last-to-first, so the first map wins on \
         overlapping keys; strict mode calls the overlap a duplicate. We follow the cluster",
        r#"{"p":{"k":1},"q":{"k":2,"j":3},"r":{"k":1,"j":3}}"#,
    ),
    (
        "merge/two-merge-keys-overlap",
        "two `<<` keys in one mapping: non-strict go-yaml applies them in order (the later \
         wins on overlap); strict mode calls the overlap a duplicate. We follow the cluster",
        r#"{"p":{"k":1},"q":{"k":2},"r":{"k":2}}"#,
    ),
    (
        "merge/merge-into-privileged",
        "explicit `securityContext` after `<<` replaces the merged one wholesale (non-strict \
         go-yaml, what the cluster runs); strict mode calls it a duplicate",
        r#"{"defaults":{"securityContext":{"privileged":false}},"container":{"securityContext":{"privileged":true}}}"#,
    ),
    (
        "merge/nested-override",
        "explicit key overriding a merged key inside a nested mapping (non-strict semantics)",
        r#"{"d":{"s":{"c":{"p":false,"i":"x"}}},"o":{"s":{"c":{"p":true}}}}"#,
    ),
];

/// Corpus cases go-yaml's *parser* refuses and saphyr reads anyway. The
/// cluster refuses these files outright, so nothing in them is ever applied;
/// reading them leniently cannot hide anything. The value we produce is
/// pinned so that a change in saphyr shows up here.
const LENIENT_PARSE: &[(&str, &str, &str)] = &[
    (
        "blocks/literal-with-tabs",
        "libyaml refuses a tab right after the indentation of a block scalar's first line",
        r#"{"a":"\ttab inside\n"}"#,
    ),
    (
        "structure/tab-after-dash",
        "libyaml refuses a tab after `- ` in block context (saphyr takes it as a separator)",
        r#"{"a":["x"]}"#,
    ),
    (
        "multidoc/yaml-directive-1-2",
        "libyaml accepts only `%YAML 1.1`; saphyr also reads 1.2-declared documents (we \
         still resolve them as YAML 1.1, like the cluster would if it read them)",
        r#"{"a":true}"#,
    ),
];

// ---------------------------------------------------------------------------
// The oracle.
// ---------------------------------------------------------------------------

/// Where the oracle binary is, building it if needed. Panics (fails the test)
/// when it cannot be had.
fn oracle() -> &'static Path {
    static ORACLE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = ORACLE.get_or_init(|| {
        if let Ok(p) = std::env::var("YAML11_ORACLE") {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "YAML11_ORACLE={} is not a file; build it with \
                     `bash tests/oracle/yaml11/build.sh OUT`",
                    p.display()
                ))
            };
        }
        build_oracle()
    });
    match r {
        Ok(p) => p,
        Err(e) => panic!(
            "the go-yaml v2 oracle is required for the differential test and could not be \
             had: {e}. Install its build prerequisites with \
             `apt-get install golang-go golang-gopkg-yaml.v2-dev` (or run \
             `bash scripts/test.sh`, which does), or set YAML11_ORACLE to a binary built by \
             tests/oracle/yaml11/build.sh."
        ),
    }
}

fn build_oracle() -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/yaml11");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("yaml11-oracle");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join("yaml11");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let built = modified(&out);
    let fresh = ["main.go", "build.sh"]
        .iter()
        .all(|f| matches!((built, modified(&src.join(f))), (Some(b), Some(s)) if b >= s));
    if !fresh {
        // Build under a unique name and rename, so concurrent test processes
        // never run a half-written binary.
        let tmp = dir.join(format!("yaml11.{}", std::process::id()));
        let st = Command::new("bash")
            .arg(src.join("build.sh"))
            .arg(&tmp)
            .status()
            .map_err(|e| format!("running build.sh: {e}"))?;
        if !st.success() || !tmp.is_file() {
            return Err(format!("build.sh failed ({st})"));
        }
        std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(out)
}

static ORACLE_RUNS: AtomicUsize = AtomicUsize::new(0);
static COMPARISONS: AtomicUsize = AtomicUsize::new(0);
static JUDGED: AtomicUsize = AtomicUsize::new(0);

/// What the oracle said about one stream.
#[derive(Debug)]
struct OracleOut {
    /// One entry per decoded document; `None` when Go's `json.Marshal`
    /// refused it (a non-finite float inside).
    docs: Vec<Option<J>>,
    /// go-yaml's error, if the stream was rejected.
    error: Option<String>,
}

fn run_oracle(text: &str) -> OracleOut {
    ORACLE_RUNS.fetch_add(1, Ordering::Relaxed);
    let mut child = Command::new(oracle())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn yaml11 oracle");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = text.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("oracle output");
    writer.join().expect("writer thread");
    let stdout = String::from_utf8(out.stdout).expect("oracle prints UTF-8");
    let mut lines: Vec<&str> = stdout.lines().collect();
    let mut error = None;
    if !out.status.success() {
        let last = lines.pop().unwrap_or_default();
        let v: J = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("oracle error line {last:?} is not JSON: {e}"));
        error = Some(
            v.get("error")
                .and_then(J::as_str)
                .unwrap_or_else(|| panic!("oracle failed without an error line: {last:?}"))
                .to_owned(),
        );
    }
    let docs = lines
        .iter()
        .map(|l| {
            if l.is_empty() {
                None
            } else {
                Some(
                    serde_json::from_str(l)
                        .unwrap_or_else(|e| panic!("oracle line {l:?} is not JSON: {e}")),
                )
            }
        })
        .collect();
    OracleOut { docs, error }
}

// ---------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------

fn num_eq(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    // serde_json's default float parser may be 1 ULP off the shortest
    // representation Go printed; allow a few ULPs, nothing more.
    x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with sigs.k8s.io/yaml's
/// `.inf`/`.nan` spellings: how the cluster stringifies a float map key.
fn k8s_float_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let x = f as f32;
    if x.is_infinite() {
        // Beyond f32: FormatFloat(.., 32) prints ±Inf, mapped to .inf.
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{x}")
    }
}

/// The oracle printed a float key with `fmt.Sprint` (float64); accept our key
/// if it is the sigs.k8s.io/yaml (float32) rendering of that same float.
fn float_key_matches(oracle_key: &str, our_key: &str) -> bool {
    let f = match oracle_key {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        k => {
            // fmt's %v of a float64: digits, '.', 'e', sign only.
            if !k
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'-' | b'+'))
            {
                return false;
            }
            match k.parse::<f64>() {
                Ok(f) => f,
                Err(_) => return false,
            }
        }
    };
    k8s_float_key(f) == our_key
}

/// Structural equality with the exemptions described in the module docs.
fn same(ours: &J, oracle: &J, path: &str) -> Result<(), String> {
    match (ours, oracle) {
        (J::Number(a), J::Number(b)) if num_eq(a, b) => Ok(()),
        (J::Array(a), J::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (J::Object(a), J::Object(b)) if a.len() == b.len() => {
            let mut unmatched: Vec<&String> = Vec::new();
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => same(v, w, &format!("{path}.{k}"))?,
                    None => unmatched.push(k),
                }
            }
            for k in unmatched {
                let hit = b
                    .iter()
                    .find(|(ok, _)| !a.contains_key(*ok) && float_key_matches(ok, k));
                match hit {
                    Some((ok, w)) => same(&a[k], w, &format!("{path}.{ok}"))?,
                    None => {
                        return Err(format!(
                            "at {path}: our key {k:?} is not in the oracle's object {}",
                            short(oracle)
                        ));
                    }
                }
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        _ => Err(format!(
            "at {path}: ours {} vs oracle {}",
            short(ours),
            short(oracle)
        )),
    }
}

/// A JSON value for a message, cut to a readable length.
fn short(j: &J) -> String {
    let s = j.to_string();
    if s.len() > 300 {
        format!("{}… ({} bytes)", &s[..s.floor_char_boundary(300)], s.len())
    } else {
        s
    }
}

fn has_non_finite(n: &Node) -> bool {
    match &n.value {
        Value::Float(f) => !f.is_finite(),
        Value::Seq(items) => items.iter().any(has_non_finite),
        Value::Map(entries) => entries.iter().any(|e| has_non_finite(&e.value)),
        _ => false,
    }
}

fn compare_doc(ours: &Node, oracle: &Option<J>, i: usize) -> Result<(), String> {
    COMPARISONS.fetch_add(1, Ordering::Relaxed);
    match oracle {
        None if has_non_finite(ours) => Ok(()),
        None => Err(format!(
            "document {i}: the oracle holds a non-finite float, ours {} does not",
            ours.to_json()
        )),
        Some(j) => same(&ours.to_json(), j, "$").map_err(|e| format!("document {i}: {e}")),
    }
}

/// Compares one whole stream. `Err` describes the divergence.
fn check_stream(text: &str, o: &OracleOut) -> Result<(), String> {
    JUDGED.fetch_add(1, Ordering::Relaxed);
    let ours = load_documents(text, &Limits::default());
    match (&o.error, &ours.error) {
        (None, Some(e)) => {
            return Err(format!("oracle accepts, we reject: {e}"));
        }
        (Some(e), None) => {
            return Err(format!(
                "oracle rejects ({e}), we accept: {}",
                short(&J::Array(ours.docs.iter().map(Node::to_json).collect()))
            ));
        }
        (Some(_), Some(_)) => {
            // Both refuse: the documents both kept before the error agree
            // (go-yaml's reader may stop a chunk earlier or later than ours).
            for (i, (ours, theirs)) in ours.docs.iter().zip(&o.docs).enumerate() {
                compare_doc(ours, theirs, i)?;
            }
            return Ok(());
        }
        (None, None) => {}
    }
    if o.docs.len() != ours.docs.len() {
        return Err(format!(
            "{} documents from the oracle, {} from us (ours: {}, oracle: {:?})",
            o.docs.len(),
            ours.docs.len(),
            short(&J::Array(ours.docs.iter().map(Node::to_json).collect())),
            o.docs,
        ));
    }
    for (i, (ours, theirs)) in ours.docs.iter().zip(&o.docs).enumerate() {
        compare_doc(ours, theirs, i)?;
    }
    Ok(())
}

/// Runs many single-document texts through one oracle process: joined as
/// explicit documents. The oracle prints each document as it decodes it and
/// stops at the first error, so the document after the last printed one is
/// the one it refused; the rest continue in a new batch.
fn check_batch(texts: &[String]) -> Vec<(String, String)> {
    let mut failures = Vec::new();
    let docs: Vec<String> = texts.iter().map(|t| format!("---\n{t}\n")).collect();
    let mut start = 0;
    while start < docs.len() {
        let joined: String = docs[start..].concat();
        let o = run_oracle(&joined);
        let ok = o.docs.len();
        for (k, d) in o.docs.iter().enumerate() {
            let i = start + k;
            let single = OracleOut {
                docs: vec![d.clone()],
                error: None,
            };
            if let Err(e) = check_generated(&docs[i], &single) {
                failures.push((texts[i].clone(), e));
            }
        }
        let Some(error) = o.error else {
            if ok != docs.len() - start {
                failures.push((
                    texts[start..].join("\n---\n"),
                    format!("batch: {} cases but {ok} documents", docs.len() - start),
                ));
            }
            break;
        };
        let i = start + ok;
        if i >= docs.len() {
            failures.push((
                String::new(),
                format!("oracle error past the last case: {error}"),
            ));
            break;
        }
        let refused = OracleOut {
            docs: Vec::new(),
            error: Some(error),
        };
        if let Err(e) = check_generated(&docs[i], &refused) {
            failures.push((texts[i].clone(), e));
        }
        start = i + 1;
    }
    failures
}

/// Our refusals that are deliberate, by the error we give. Generated inputs
/// cannot be listed by name, so they are judged by why we refuse them; each
/// class is one of the named [`WE_REJECT`] reasons.
const DELIBERATE_ERRORS: &[(&str, &str)] = &[
    ("unsupported tag", "non-core tags (WE_REJECT tags/custom-*)"),
    (
        "cannot be a mapping key in Kubernetes",
        "null and uint64 keys, which sigs.k8s.io/yaml refuses (WE_REJECT keys/null-key, keys/uint64-key)",
    ),
    (
        "duplicate key",
        "keys that collide once stringified for JSON (WE_REJECT keys/bool-and-string-true, ...)",
    ),
    (
        "anchor or alias name",
        "anchor names libyaml would split (WE_REJECT anchors/anchor-names-with-colon)",
    ),
    (
        "is read differently by YAML 1.1",
        "flow-context plain scalars YAML 1.1 and 1.2 split differently (WE_REJECT flow/*)",
    ),
];

/// Generated inputs saphyr refuses although libyaml reads them: a refusal is
/// flagged as invalid-manifest, never silently misread.
const SAPHYR_REFUSES: &[(&str, &str)] = &[
    (
        "[-]",
        "a lone `-` in a flow collection: YAML 1.2 forbids it, libyaml reads \"-\"",
    ),
    ("{v: -}", "same as `[-]`, in a flow mapping"),
    (
        "{v: x:}",
        "`x:` before `}`: libyaml reads the string \"x:\", saphyr finds no `,`",
    ),
];

/// [`check_stream`] for generated inputs, with [`DELIBERATE_ERRORS`] and
/// [`SAPHYR_REFUSES`] applied.
fn check_generated(text: &str, o: &OracleOut) -> Result<(), String> {
    let r = check_stream(text, o);
    if r.is_err()
        && text.contains("<<")
        && o.error
            .as_deref()
            .is_some_and(|e| e.contains("already set in map"))
        && load_documents(text, &Limits::default()).error.is_none()
    {
        // The WE_ACCEPT class "strict-only merge override": strict go-yaml
        // calls a key set twice through `<<` a duplicate; the cluster's
        // non-strict decoder lets the later explicit key (or the earlier map
        // of a merge list) win, and so do we. Plain duplicates never get here
        // without a merge in the text, and those we reject.
        return Ok(());
    }
    if r.is_err() && o.error.is_none() {
        let ours = load_documents(text, &Limits::default());
        if let Some(e) = &ours.error {
            if DELIBERATE_ERRORS.iter().any(|(m, _)| e.message.contains(m)) {
                return Ok(());
            }
            let body = text.strip_prefix("---\n").unwrap_or(text).trim_end();
            if SAPHYR_REFUSES.iter().any(|(t, _)| *t == body) {
                return Ok(());
            }
        }
    }
    r
}

fn report(what: &str, failures: &[(String, String)]) {
    if failures.is_empty() {
        return;
    }
    let mut msg = format!(
        "{} divergences from go-yaml v2 in {what}:\n",
        failures.len()
    );
    for (text, e) in failures.iter().take(60) {
        msg.push_str(&format!("--- input {text:?}\n    {e}\n"));
    }
    panic!("{msg}");
}

// ---------------------------------------------------------------------------
// The corpus.
// ---------------------------------------------------------------------------

/// Cases from `tests/data/yaml-diff/*.yaml`: each file holds many cases, each
/// introduced by a line `=== name`.
fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml-diff");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        let mut name: Option<String> = None;
        let mut body = String::new();
        for line in text.split_inclusive('\n') {
            if let Some(n) = line.strip_prefix("=== ") {
                if let Some(prev) = name.take() {
                    cases.push((format!("{stem}/{prev}"), std::mem::take(&mut body)));
                }
                name = Some(n.trim().to_owned());
            } else if name.is_some() {
                body.push_str(line);
            }
        }
        if let Some(prev) = name {
            cases.push((format!("{stem}/{prev}"), body));
        }
    }
    let mut seen = BTreeMap::new();
    for (n, _) in &cases {
        assert!(seen.insert(n.clone(), ()).is_none(), "duplicate case {n}");
    }
    cases
}

/// Judges one named corpus case, applying the exemption lists.
fn judge_case(name: &str, text: &str) -> Result<(), String> {
    let o = run_oracle(text);
    if let Some((_, why)) = WE_REJECT.iter().find(|(n, _)| *n == name) {
        let ours = load_documents(text, &Limits::default());
        if ours.error.is_none() {
            return Err(format!(
                "listed as deliberately rejected ({why}) but we accept it"
            ));
        }
        // Documents before the refused one still agree with the oracle.
        for (i, d) in ours.docs.iter().enumerate() {
            if let Some(theirs) = o.docs.get(i) {
                compare_doc(d, theirs, i)?;
            }
        }
        return Ok(());
    }
    if let Some((_, why, want)) = WE_ACCEPT
        .iter()
        .chain(LENIENT_PARSE)
        .find(|(n, _, _)| *n == name)
    {
        if o.error.is_none() {
            return Err(format!(
                "listed as accepted-despite-strict-oracle ({why}) but the oracle accepts it; \
                 remove it from WE_ACCEPT"
            ));
        }
        let ours = load_documents(text, &Limits::default());
        if let Some(e) = ours.error {
            return Err(format!("listed as accepted ({why}) but we reject it: {e}"));
        }
        let want: J = serde_json::from_str(want).unwrap();
        let got = ours.docs.last().map(Node::to_json).unwrap_or(J::Null);
        return same(&got, &want, "$");
    }
    check_stream(text, &o)
}

#[test]
fn exemption_lists_name_real_cases() {
    let names: Vec<String> = corpus().into_iter().map(|(n, _)| n).collect();
    for n in WE_REJECT
        .iter()
        .map(|(n, _)| *n)
        .chain(WE_ACCEPT.iter().map(|(n, _, _)| *n))
        .chain(LENIENT_PARSE.iter().map(|(n, _, _)| *n))
    {
        assert!(
            names.iter().any(|m| m == n),
            "exemption for unknown case {n}"
        );
    }
}

#[test]
fn corpus_agrees_with_go_yaml() {
    let cases = corpus();
    assert!(cases.len() >= 150, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, text) in &cases {
        if let Err(e) = judge_case(name, text) {
            failures.push((format!("{name}: {text}"), e));
        }
    }
    eprintln!(
        "corpus: {} cases, {} oracle runs, {} document comparisons",
        cases.len(),
        ORACLE_RUNS.load(Ordering::Relaxed),
        COMPARISONS.load(Ordering::Relaxed)
    );
    report("the corpus", &failures);
}

/// The corpus again with CRLF line endings, and with a byte-order mark.
/// Cases whose meaning depends on the exact bytes are left out.
#[test]
fn corpus_variants_crlf_and_bom_agree() {
    let mut failures = Vec::new();
    let mut n = 0;
    for (name, text) in corpus() {
        let exempt = WE_REJECT.iter().any(|(x, _)| *x == name)
            || WE_ACCEPT
                .iter()
                .chain(LENIENT_PARSE)
                .any(|(x, _, _)| *x == name);
        if exempt {
            continue;
        }
        for (variant, t) in [
            ("crlf", text.replace('\n', "\r\n")),
            ("bom", format!("\u{feff}{text}")),
        ] {
            n += 1;
            let o = run_oracle(&t);
            if let Err(e) = check_stream(&t, &o) {
                failures.push((format!("{name} ({variant}): {t:?}"), e));
            }
        }
    }
    eprintln!("variants: {n} streams");
    report("CRLF/BOM variants of the corpus", &failures);
}

// ---------------------------------------------------------------------------
// Scalar spellings in every context.
// ---------------------------------------------------------------------------

/// Every YAML 1.1 spelling family we know of, plus near misses.
const SPELLINGS: &[&str] = &[
    // booleans and near misses
    "y",
    "Y",
    "yes",
    "Yes",
    "YES",
    "yEs",
    "yeS",
    "n",
    "N",
    "no",
    "No",
    "NO",
    "nO",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "trUe",
    "false",
    "False",
    "FALSE",
    "fALSE",
    "on",
    "On",
    "ON",
    "oN",
    "off",
    "Off",
    "OFF",
    "oFF",
    "t",
    "f",
    "o",
    "yess",
    "noo",
    "onn",
    "ye",
    "tru",
    "Truee",
    "+true",
    // nulls
    "~",
    "~~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "nul",
    "None",
    "nil",
    "NIL",
    // integers
    "0",
    "00",
    "000",
    "-0",
    "+0",
    "1",
    "-1",
    "+1",
    "007",
    "0777",
    "-0777",
    "+0777",
    "08",
    "09",
    "0778",
    "0o17",
    "0O17",
    "-0o17",
    "+0o17",
    "0o8",
    "0o",
    "0x1F",
    "0X1f",
    "0x1f",
    "-0x1F",
    "+0x1F",
    "0xg",
    "0x",
    "0xFFFFFFFFFFFFFFFF",
    "0x7FFFFFFFFFFFFFFF",
    "0x8000000000000000",
    "-0x8000000000000000",
    "-0x8000000000000001",
    "0x10000000000000000",
    "0b",
    "0b101",
    "0B101",
    "-0b101",
    "+0b101",
    "0b-101",
    "0b+101",
    "-0b-101",
    "-0b+101",
    "0b2",
    "0b_1",
    "0b1_0",
    "0b1111111111111111111111111111111111111111111111111111111111111111",
    "0b-1000000000000000000000000000000000000000000000000000000000000000",
    "0b-1000000000000000000000000000000000000000000000000000000000000001",
    "0b10000000000000000000000000000000000000000000000000000000000000000",
    "1_000",
    "_1000",
    "1000_",
    "1__0",
    "0x_1F",
    "0_x1F",
    "0_7",
    "-_1",
    "+_1",
    "1_0_0_0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "-18446744073709551616",
    "01777777777777777777777",
    "02000000000000000000000",
    "1777777777777777777777",
    "+",
    "-",
    "++1",
    "+-1",
    "--1",
    "1-",
    "1+",
    "1e",
    "1e+",
    "e3",
    "E3",
    // floats
    "1.0",
    "1.",
    "-1.",
    "+1.",
    "1.e3",
    ".5",
    "-.5",
    "+.5",
    "._5",
    ".5_0",
    ".5__0",
    "._",
    "1_0.5",
    "1.5_0",
    "1_.5",
    "1._5",
    ".",
    "..",
    "-.",
    "+.",
    ".e3",
    ".5e3",
    ".5E3",
    ".5e+3",
    ".5e-3",
    ".5e",
    ".5e_3",
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "1e03",
    "1e3.5",
    "1.2.3",
    "1,000",
    "1,5",
    "1e999",
    "-1e999",
    ".5e999",
    "1e-999",
    "4.9e-324",
    "2.5e-324",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0.1",
    "3.14159265358979323846",
    "6.02e23",
    "-0.0",
    "0.0",
    "00.5",
    "001.5",
    "0x1p3",
    "0x1.8p1",
    "0x1P-2",
    "1_e3",
    "1e_3",
    "1e3_",
    "12e1_0",
    "1__2.3__4",
    // special floats
    "inf",
    "Inf",
    "INF",
    "+inf",
    "-inf",
    "infinity",
    "Infinity",
    "nan",
    "NaN",
    "NAN",
    ".inf",
    ".Inf",
    ".INF",
    ".iNf",
    ".inF",
    "+.inf",
    "+.Inf",
    "+.INF",
    "-.inf",
    "-.Inf",
    "-.INF",
    "-.iNF",
    "+.nan",
    "-.nan",
    ".nan",
    ".NaN",
    ".NAN",
    ".nAn",
    ".infinity",
    ".in",
    ".na",
    // sexagesimal (YAML 1.1 base 60; go-yaml reads strings)
    "1:20",
    "190:20:30",
    "-1:20",
    "1:20.5",
    "190:20:30.15",
    // timestamps
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14T21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-14 21:59:43.10",
    "2001-12-15T02:59:43.1Z",
    "2001-12-15 2:59:43.10",
    "2002-12-14",
    "1999-1-1",
    "1999-01-1",
    "2001-02-30",
    "2001-13-01",
    "2001-00-10",
    "12345-01-01",
    "0001-01-01",
    "2001-12-14T25:00:00Z",
    "2001-12-14T21:59:60Z",
    "2001-12-14T21:59Z",
    "2001-12-14T1:2:3Z",
    "2001-12-14T21:59:43+01:00",
    "2001-12-14T21:59:43+0100",
    "2001-12-14X",
    "2001-",
    "2001-1",
    "2001-1-",
    "2000-02-29",
    "1900-02-29",
    "2001-12-14T21:59:43.1234567891Z",
    "2001-12-14T21:59:43,5Z",
    // merge key spelling, assorted strings
    "<<",
    "<",
    "=",
    "@x",
    "`x",
    "a b",
    "a  b",
    "foo#bar",
    "x:y",
    "x:",
    "http://x",
    "-x",
    "?x",
    ":x",
    "!x",
    "&x",
    "*x",
    "%x",
    "|x",
    ">x",
    "'x",
    "\"x",
    "x'",
    "x\"",
    "a\\b",
    "a\tb",
    "café",
    "ｙｅｓ",
    "١٢٣",
    "½",
    "yes\u{a0}",
    "\u{a0}yes",
    "0\u{660}",
    "1\u{200b}",
];

/// One document placing the scalar `s` in context `ctx`.
fn in_context(ctx: &str, s: &str) -> String {
    let dq = s.replace('\\', "\\\\").replace('"', "\\\"");
    let sq = s.replace('\'', "''");
    match ctx {
        "value" => format!("v: {s}\n"),
        "item" => format!("- {s}\n"),
        "flow" => format!("[{s}]\n"),
        "flowmap" => format!("{{v: {s}}}\n"),
        "key" => format!("{s}: 1\n"),
        "dq" => format!("v: \"{dq}\"\n"),
        "sq" => format!("v: '{sq}'\n"),
        "literal" => format!("v: |\n  {s}\n"),
        "root" => format!("{s}\n"),
        t => match t.strip_prefix("tag:") {
            Some(tag) if tag.ends_with("-dq") => {
                format!("v: !!{} \"{dq}\"\n", tag.trim_end_matches("-dq"))
            }
            Some(tag) => format!("v: !!{tag} {s}\n"),
            None => unreachable!("{ctx}"),
        },
    }
}

const CONTEXTS: &[&str] = &[
    "value",
    "item",
    "flow",
    "flowmap",
    "key",
    "dq",
    "sq",
    "literal",
    "root",
    "tag:str",
    "tag:int",
    "tag:float",
    "tag:bool",
    "tag:null",
    "tag:timestamp",
    "tag:binary",
    "tag:int-dq",
    "tag:float-dq",
    "tag:bool-dq",
    "tag:null-dq",
];

#[test]
fn scalar_spellings_agree_in_every_context() {
    let mut texts = Vec::new();
    for ctx in CONTEXTS {
        for s in SPELLINGS {
            texts.push(in_context(ctx, s));
        }
    }
    let runs0 = ORACLE_RUNS.load(Ordering::Relaxed);
    let failures = check_batch(&texts);
    eprintln!(
        "spellings: {} spellings x {} contexts = {} documents, {} oracle runs \
         (process totals so far: {} inputs judged, {} oracle runs, {} document comparisons)",
        SPELLINGS.len(),
        CONTEXTS.len(),
        texts.len(),
        ORACLE_RUNS.load(Ordering::Relaxed) - runs0,
        JUDGED.load(Ordering::Relaxed),
        ORACLE_RUNS.load(Ordering::Relaxed),
        COMPARISONS.load(Ordering::Relaxed),
    );
    report("scalar spellings", &failures);
}

// ---------------------------------------------------------------------------
// Generated inputs.
// ---------------------------------------------------------------------------

/// Scalars from a grammar of the characters that steer go-yaml's resolver.
fn scalar_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        4 => "[0-9]{1,3}",
        1 => Just("0x".to_owned()),
        1 => Just("0o".to_owned()),
        1 => Just("0b".to_owned()),
        1 => Just("0".to_owned()),
        2 => Just(".".to_owned()),
        2 => Just("_".to_owned()),
        2 => prop_oneof![Just("e"), Just("E")].prop_map(str::to_owned),
        2 => prop_oneof![Just("+"), Just("-")].prop_map(str::to_owned),
        1 => prop_oneof![Just("inf"), Just("nan"), Just("Inf"), Just("NaN"), Just(".inf"), Just(".nan")]
            .prop_map(str::to_owned),
        1 => "[a-fA-FxXoObB]",
        1 => prop_oneof![Just("y"), Just("n"), Just("yes"), Just("no"), Just("on"), Just("off"),
            Just("true"), Just("false"), Just("null"), Just("~"), Just("True"), Just("NULL")]
            .prop_map(str::to_owned),
        1 => prop_oneof![Just(":"), Just("T"), Just("t"), Just("Z"), Just(" ")].prop_map(str::to_owned),
    ];
    prop::collection::vec(atom, 1..6).prop_map(|v| v.concat().trim().to_owned())
}

fn tag_prefix() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just(""),
        1 => Just("!!str "),
        1 => Just("!!int "),
        1 => Just("!!float "),
        1 => Just("!!bool "),
        1 => Just("!!null "),
        1 => Just("!!timestamp "),
        1 => Just("! "),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Batches of generated scalars, as values and as keys.
    #[test]
    fn generated_scalars_agree(items in prop::collection::vec((scalar_text(), tag_prefix(), 0..4u8), 150..250)) {
        let texts: Vec<String> = items
            .iter()
            .map(|(s, tag, ctx)| match ctx {
                0 => format!("v: {tag}{s}\n"),
                1 => format!("- {tag}{s}\n"),
                2 => format!("{s}: 1\n"),
                _ => format!("v: {tag}\"{s}\"\n"),
            })
            .collect();
        let failures = check_batch(&texts);
        prop_assert!(failures.is_empty(), "{:#?}", failures);
    }

    /// Batches of small generated documents: nesting, anchors, aliases,
    /// merges, flow and block style.
    #[test]
    fn generated_documents_agree(docs in prop::collection::vec(small_doc(), 40..80)) {
        let failures = check_batch(&docs);
        prop_assert!(failures.is_empty(), "{:#?}", failures);
    }
}

/// A generated YAML node, rendered as text by [`render`].
#[derive(Clone, Debug)]
enum Gen {
    /// Text that fits on one line after `key: ` or `- `.
    Inline(String),
    /// A literal or folded block scalar: header and content lines.
    Block(&'static str, Vec<String>),
    Map(Vec<(String, Gen)>),
    Seq(Vec<Gen>),
}

fn gen_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![Just("k"), Just("j"), Just("name"), Just("x")].prop_map(str::to_owned),
        2 => Just("<<".to_owned()),
        1 => prop_oneof![Just("yes"), Just("1"), Just("0x1"), Just("~"), Just("1.5"), Just("\"k\""),
            Just("'j'"), Just("!!str 1"), Just("&a k"), Just("*a "), Just("? k")].prop_map(str::to_owned),
        1 => scalar_text(),
    ]
}

fn gen_inline() -> impl Strategy<Value = String> {
    let props = prop_oneof![
        6 => Just(""),
        1 => Just("&a "),
        1 => Just("&b "),
        1 => Just("!!str "),
        1 => Just("!!int "),
        1 => Just("!!float "),
        1 => Just("! "),
    ];
    let text = prop_oneof![
        4 => scalar_text(),
        1 => scalar_text().prop_map(|s| format!("\"{}\"", s.replace('"', "\\\""))),
        1 => scalar_text().prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        2 => prop_oneof![Just("*a"), Just("*b")].prop_map(str::to_owned),
        1 => prop::collection::vec(scalar_text(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec((gen_key(), scalar_text()), 0..3)
            .prop_map(|v| format!("{{{}}}", v.iter().map(|(k, x)| format!("{k}: {x}")).collect::<Vec<_>>().join(", "))),
        1 => Just("[*a, *b]".to_owned()),
        1 => Just("\"multi\n  line\"".to_owned()),
        1 => Just("plain\n  continued".to_owned()),
        1 => Just("x # comment".to_owned()),
    ];
    (props, text).prop_map(|(p, t)| {
        if t.starts_with('*') {
            t
        } else {
            format!("{p}{t}")
        }
    })
}

fn gen_node() -> impl Strategy<Value = Gen> {
    let leaf = prop_oneof![
        8 => gen_inline().prop_map(Gen::Inline),
        1 => (
            prop_oneof![Just("|"), Just(">"), Just("|-"), Just(">+"), Just("|2")],
            prop::collection::vec(prop_oneof![scalar_text(), Just(String::new()), Just("  more".to_owned())], 1..4)
        )
            .prop_map(|(h, l)| Gen::Block(h, l)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec((gen_key(), inner.clone()), 1..4).prop_map(Gen::Map),
            prop::collection::vec(inner, 1..4).prop_map(Gen::Seq),
        ]
    })
}

/// Renders `g` as the value of a key or item, at `indent` for nested lines.
fn render(g: &Gen, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match g {
        Gen::Inline(t) => {
            out.push(' ');
            out.push_str(&t.replace('\n', &format!("\n{pad}")));
            out.push('\n');
        }
        Gen::Block(h, lines) => {
            out.push(' ');
            out.push_str(h);
            out.push('\n');
            for l in lines {
                out.push_str(&format!("{pad}  {l}\n"));
            }
        }
        Gen::Map(entries) => {
            out.push('\n');
            for (k, v) in entries {
                out.push_str(&format!("{pad}  {k}:"));
                render(v, indent + 2, out);
            }
        }
        Gen::Seq(items) => {
            out.push('\n');
            for v in items {
                out.push_str(&format!("{pad}  -"));
                render(v, indent + 2, out);
            }
        }
    }
}

/// A small random document: a block mapping of generated nodes, with
/// anchors, aliases, merges, tags, flow and block styles.
fn small_doc() -> impl Strategy<Value = String> {
    prop::collection::vec((gen_key(), gen_node()), 1..5).prop_map(|entries| {
        let mut s = String::new();
        for (k, v) in entries {
            s.push_str(&format!("{k}:"));
            render(&v, 0, &mut s);
        }
        s
    })
}

/// Alias expansion shapes against go-yaml's own "excessive aliasing" guard:
/// whenever go-yaml accepts, we agree on the value; when it refuses, we refuse.
#[test]
fn alias_fanout_agrees() {
    let mut texts = Vec::new();
    for width in [2usize, 5, 10, 40, 101, 200] {
        for depth in [1usize, 2, 3, 4, 6] {
            let mut s = String::from("a0: &a0 [x, y]\n");
            for d in 1..=depth {
                let refs = vec![format!("*a{}", d - 1); width].join(", ");
                s.push_str(&format!("a{d}: &a{d} [{refs}]\n"));
            }
            texts.push(s);
        }
    }
    // Many references to one small anchor: go-yaml's ratio check fires only
    // past 1000 decodes with more than 99% from aliases.
    for n in [50usize, 300, 900, 990, 1000, 1010, 1100, 2000, 5000] {
        let mut s = String::from("base: &b {k: v}\nrefs:\n");
        for _ in 0..n {
            s.push_str("- *b\n");
        }
        texts.push(s);
        let mut s = String::from("base: &b [1, 2, 3, 4, 5, 6, 7, 8, 9]\nrefs:\n");
        for _ in 0..n {
            s.push_str("- *b\n");
        }
        texts.push(s);
    }
    let mut failures = Vec::new();
    for t in &texts {
        let o = run_oracle(t);
        if let Err(e) = check_stream(t, &o) {
            failures.push((t.chars().take(200).collect(), e));
        }
    }
    report("alias fan-out", &failures);
}
