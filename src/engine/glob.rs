//! The three glob dialects tenant scoping needs, each reproducing the library
//! the real system uses, because a pattern that means one thing to Argo CD
//! and another to us is either a false alarm or an evasion:
//!
//! - [`GobwasGlob`] / [`argo_glob_match`]: github.com/gobwas/glob as Argo CD's
//!   `util/glob.Match` wraps it. Argo CD compiles `sourceRepos` with the
//!   separator `/` (`*` and `?` stop at `/`, `**` crosses it) and
//!   `destinations` with no separator. A pattern that does not compile never
//!   matches (Argo CD logs a warning and returns `false`).
//! - [`filepath_match`] / [`argo_filepath_match`]: Go's `path/filepath.Match`
//!   (Unix flavour), which Argo CD uses for resource group/kind/name lists.
//!   Case-sensitive; `*`, `?`, `[..]` with `^` negation; no `{}`; a bad
//!   pattern never matches.
//! - [`path_glob`]: our own config path globs (gitignore-like `**`), via
//!   globset with `literal_separator`, so `*` stays inside one directory.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// A pattern gobwas/glob refuses to compile (Argo CD then never matches it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob {pattern:?}: {reason}")]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// Why it does not compile.
    pub reason: String,
}

// ---------------------------------------------------------------------------
// gobwas/glob: lexer (a faithful port of syntax/lexer.go), parser, Pike VM.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Text(Vec<char>),
    Any,
    Super,
    Single,
    Not,
    TermSeparator,
    RangeOpen,
    RangeClose,
    RangeLo(char),
    RangeBetween,
    RangeHi(char),
    TermsOpen,
    TermsClose,
}

/// Tokenises the whole pattern, or fails with the lexer's first error. Any
/// lexer error makes gobwas' compile fail, so collecting eagerly is faithful.
fn lex(pattern: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0usize;
    let mut terms_level = 0usize;
    let mut out = Vec::new();
    const TEXT_BREAKERS: &[char] = &['?', '*', '[', '{'];
    const TERMS_BREAKERS: &[char] = &['?', '*', '[', '{', '}', ','];

    // Reads literal text up to (not including) a breaker; `\` escapes.
    fn fetch_text(
        chars: &[char],
        pos: &mut usize,
        breakers: &[char],
        out: &mut Vec<Tok>,
    ) -> Result<(), String> {
        let mut data = Vec::new();
        let mut escaped = false;
        while *pos < chars.len() {
            let r = chars[*pos];
            if !escaped {
                if r == '\\' {
                    escaped = true;
                    *pos += 1;
                    continue;
                }
                if breakers.contains(&r) {
                    break;
                }
            }
            escaped = false;
            data.push(r);
            *pos += 1;
        }
        if escaped {
            return Err("trailing backslash".into());
        }
        if !data.is_empty() {
            out.push(Tok::Text(data));
        }
        Ok(())
    }

    while pos < chars.len() {
        let r = chars[pos];
        pos += 1;
        match r {
            '{' => {
                terms_level += 1;
                out.push(Tok::TermsOpen);
            }
            ',' if terms_level > 0 => out.push(Tok::TermSeparator),
            '}' if terms_level > 0 => {
                out.push(Tok::TermsClose);
                terms_level -= 1;
            }
            '[' => {
                out.push(Tok::RangeOpen);
                // fetchRange
                let mut want_hi = false;
                let mut want_close = false;
                let mut seen_not = false;
                loop {
                    let Some(&r) = chars.get(pos) else {
                        return Err("unexpected end of input".into());
                    };
                    pos += 1;
                    if want_close {
                        if r != ']' {
                            return Err("expected close range character".into());
                        }
                        out.push(Tok::RangeClose);
                        break;
                    }
                    if want_hi {
                        out.push(Tok::RangeHi(r));
                        want_close = true;
                        continue;
                    }
                    if !seen_not && r == '!' {
                        out.push(Tok::Not);
                        seen_not = true;
                        continue;
                    }
                    if chars.get(pos) == Some(&'-') {
                        pos += 1;
                        out.push(Tok::RangeLo(r));
                        out.push(Tok::RangeBetween);
                        want_hi = true;
                        continue;
                    }
                    pos -= 1;
                    fetch_text(&chars, &mut pos, &[']'], &mut out)?;
                    want_close = true;
                }
            }
            '?' => out.push(Tok::Single),
            '*' => {
                if chars.get(pos) == Some(&'*') {
                    pos += 1;
                    out.push(Tok::Super);
                } else {
                    out.push(Tok::Any);
                }
            }
            _ => {
                pos -= 1;
                let breakers = if terms_level > 0 {
                    TERMS_BREAKERS
                } else {
                    TEXT_BREAKERS
                };
                fetch_text(&chars, &mut pos, breakers, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// One matcher of the parsed pattern.
#[derive(Clone, Debug)]
enum Ast {
    Text(Vec<char>),
    /// `*` (stops at separators) or `**` (`sep == false`).
    Star {
        sep: bool,
    },
    /// `?`: one non-separator character.
    Single,
    /// `[abc]` / `[!abc]` (no separator exclusion, as in gobwas).
    Set {
        chars: Vec<char>,
        not: bool,
    },
    /// `[a-z]` / `[!a-z]`.
    Range {
        lo: char,
        hi: char,
        not: bool,
    },
    Seq(Vec<Ast>),
    Alt(Vec<Ast>),
}

/// The gobwas parser: a stack of matchers and `{`/`,` operators.
fn parse(tokens: Vec<Tok>) -> Result<Ast, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        Terms,
        List,
    }
    let mut stack: Vec<Ast> = Vec::new();
    let mut ops: Vec<(Op, usize)> = Vec::new();
    let mut it = tokens.into_iter();
    while let Some(t) = it.next() {
        match t {
            Tok::Single => stack.push(Ast::Single),
            Tok::Text(s) => stack.push(Ast::Text(s)),
            Tok::Any => stack.push(Ast::Star { sep: true }),
            Tok::Super => stack.push(Ast::Star { sep: false }),
            Tok::RangeOpen => {
                let mut not = false;
                let (mut lo, mut hi) = (None, None);
                let mut set: Option<Vec<char>> = None;
                loop {
                    match it.next() {
                        None => return Err("unclosed `[`".into()),
                        Some(Tok::Not) => not = true,
                        Some(Tok::RangeLo(c)) => lo = Some(c),
                        Some(Tok::RangeBetween) => {}
                        Some(Tok::RangeHi(c)) => {
                            if lo.is_some_and(|l| c < l) {
                                return Err("range hi character is less than lo".into());
                            }
                            hi = Some(c);
                        }
                        Some(Tok::Text(s)) => set = Some(s),
                        Some(Tok::RangeClose) => break,
                        Some(other) => return Err(format!("unexpected token {other:?}")),
                    }
                }
                match (lo, hi, set) {
                    (Some(lo), Some(hi), None) => stack.push(Ast::Range { lo, hi, not }),
                    (None, None, Some(chars)) => stack.push(Ast::Set { chars, not }),
                    _ => return Err("could not parse range".into()),
                }
            }
            Tok::TermsOpen => {
                ops.push((Op::Terms, stack.len()));
                ops.push((Op::List, stack.len()));
            }
            Tok::TermSeparator => {
                let Some(&(kind, i)) = ops.last() else {
                    return Err("unexpected `,`".into());
                };
                if kind == Op::List {
                    ops.pop();
                }
                if i == stack.len() {
                    stack.push(Ast::Seq(Vec::new()));
                } else {
                    let seq = stack.split_off(i);
                    stack.push(Ast::Seq(seq));
                }
                ops.push((Op::List, stack.len()));
            }
            Tok::TermsClose => loop {
                let Some((kind, i)) = ops.pop() else {
                    return Err("unexpected `}`".into());
                };
                let items = stack.split_off(i.min(stack.len()));
                stack.push(match kind {
                    Op::Terms => Ast::Alt(items),
                    Op::List => Ast::Seq(items),
                });
                if kind == Op::Terms {
                    break;
                }
            },
            other => return Err(format!("unexpected token {other:?}")),
        }
    }
    if !ops.is_empty() {
        return Err("unclosed `{`".into());
    }
    Ok(Ast::Seq(stack))
}

/// One predicate on a single character.
#[derive(Clone, Debug)]
enum CharPred {
    Lit(char),
    /// Any character except a separator (`*` body, `?`).
    NotSep,
    /// Any character (`**` body).
    Any,
    Set(Vec<char>, bool),
    Range(char, char, bool),
}

#[derive(Clone, Debug)]
enum Inst {
    Char(CharPred),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled gobwas/glob pattern.
#[derive(Clone, Debug)]
pub struct GobwasGlob {
    prog: Vec<Inst>,
    separators: Vec<char>,
    /// Set when the pattern has no meta character: plain string equality
    /// (the common case: `payments`, a server URL).
    literal: Option<String>,
}

/// Most NFA instructions a pattern may compile to: patterns come from trusted
/// base-branch files, but bound them anyway.
const MAX_PROG: usize = 100_000;

fn emit(ast: &Ast, prog: &mut Vec<Inst>) -> Result<(), String> {
    if prog.len() > MAX_PROG {
        return Err("pattern too large".into());
    }
    match ast {
        Ast::Text(s) => prog.extend(s.iter().map(|&c| Inst::Char(CharPred::Lit(c)))),
        Ast::Single => prog.push(Inst::Char(CharPred::NotSep)),
        Ast::Set { chars, not } => prog.push(Inst::Char(CharPred::Set(chars.clone(), *not))),
        Ast::Range { lo, hi, not } => prog.push(Inst::Char(CharPred::Range(*lo, *hi, *not))),
        Ast::Star { sep } => {
            // L0: split L1, L3; L1: char; L2: jmp L0; L3:
            let l0 = prog.len();
            prog.push(Inst::Split(l0 + 1, l0 + 3));
            prog.push(Inst::Char(if *sep {
                CharPred::NotSep
            } else {
                CharPred::Any
            }));
            prog.push(Inst::Jmp(l0));
        }
        Ast::Seq(items) => {
            for i in items {
                emit(i, prog)?;
            }
        }
        Ast::Alt(alts) => {
            if alts.is_empty() {
                return Ok(());
            }
            // split a1, next; a1...; jmp end; next: split a2, next2; ...
            let mut jumps = Vec::new();
            for (n, alt) in alts.iter().enumerate() {
                if n + 1 < alts.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    emit(alt, prog)?;
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                } else {
                    emit(alt, prog)?;
                }
            }
            let end = prog.len();
            for j in jumps {
                prog[j] = Inst::Jmp(end);
            }
        }
    }
    Ok(())
}

impl GobwasGlob {
    /// Compiles `pattern` as `glob.Compile(pattern, separators...)` does.
    pub fn compile(pattern: &str, separators: &[char]) -> Result<Self, GlobError> {
        let err = |reason: String| GlobError {
            pattern: pattern.to_owned(),
            reason,
        };
        if !pattern.contains(['*', '?', '[', '{', '\\']) {
            return Ok(Self {
                prog: Vec::new(),
                separators: separators.to_vec(),
                literal: Some(pattern.to_owned()),
            });
        }
        let ast = parse(lex(pattern).map_err(err)?).map_err(err)?;
        let mut prog = Vec::new();
        emit(&ast, &mut prog).map_err(err)?;
        prog.push(Inst::Match);
        Ok(Self {
            prog,
            separators: separators.to_vec(),
            literal: None,
        })
    }

    fn accepts(&self, p: &CharPred, c: char) -> bool {
        match p {
            CharPred::Lit(l) => *l == c,
            CharPred::NotSep => !self.separators.contains(&c),
            CharPred::Any => true,
            CharPred::Set(set, not) => set.contains(&c) != *not,
            CharPred::Range(lo, hi, not) => (*lo <= c && c <= *hi) != *not,
        }
    }

    // Adds the epsilon closure of `pc` to `list`.
    fn add(&self, list: &mut Vec<usize>, seen: &mut [bool], pc: usize) {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] {
                continue;
            }
            seen[pc] = true;
            match self.prog[pc] {
                Inst::Jmp(t) => stack.push(t),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => list.push(pc),
            }
        }
    }

    /// True when the whole of `text` matches. Runs in O(pattern × text).
    pub fn is_match(&self, text: &str) -> bool {
        if let Some(l) = &self.literal {
            return l == text;
        }
        let n = self.prog.len();
        let mut cur = Vec::new();
        let mut seen = vec![false; n];
        self.add(&mut cur, &mut seen, 0);
        for c in text.chars() {
            let mut next = Vec::new();
            let mut seen = vec![false; n];
            for &pc in &cur {
                if let Inst::Char(p) = &self.prog[pc]
                    && self.accepts(p, c)
                {
                    self.add(&mut next, &mut seen, pc + 1);
                }
            }
            if next.is_empty() {
                return false;
            }
            cur = next;
        }
        cur.iter().any(|&pc| matches!(self.prog[pc], Inst::Match))
    }
}

/// Argo CD's `util/glob.Match(pattern, text, separators...)`: compile with
/// gobwas/glob and match; a pattern that does not compile never matches.
pub fn argo_glob_match(pattern: &str, text: &str, separators: &[char]) -> bool {
    match GobwasGlob::compile(pattern, separators) {
        Ok(g) => g.is_match(text),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------
// Go path/filepath.Match (Unix: separator '/', backslash escapes).
// ---------------------------------------------------------------------------

/// `filepath.ErrBadPattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

const RUNE_ERROR: u32 = 0xFFFD;

/// `utf8.DecodeRuneInString` on bytes: `(RuneError, 1)` for invalid input,
/// `(RuneError, 0)` for empty input.
fn decode_rune(b: &[u8]) -> (u32, usize) {
    if b.is_empty() {
        return (RUNE_ERROR, 0);
    }
    let n = b.len().min(4);
    let valid = match std::str::from_utf8(&b[..n]) {
        Ok(s) => s,
        Err(e) if e.valid_up_to() > 0 => {
            std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return (RUNE_ERROR, 1),
    };
    match valid.chars().next() {
        Some(c) => (c as u32, c.len_utf8()),
        None => (RUNE_ERROR, 1),
    }
}

fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let [b'*', rest @ ..] = pattern {
        pattern = rest;
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), BadPattern> {
    let mut chunk = chunk;
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    if r == RUNE_ERROR && n == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

/// `matchChunk`: returns the rest of `s` on a match; keeps validating the
/// chunk after a mismatch so bad patterns are always reported.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, BadPattern> {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (rr, n) = decode_rune(s);
                    r = rr;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let mut c = c;
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                    c = chunk[0];
                }
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed { Ok(None) } else { Ok(Some(s)) }
}

/// Go's `path/filepath.Match(pattern, name)` on Unix.
pub fn filepath_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // Trailing * matches the rest of the string unless it has a /.
            return Ok(!name.contains(&b'/'));
        }
        let r = match_chunk(chunk, name);
        if let Ok(Some(t)) = r
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        r?;
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                match match_chunk(chunk, &name[i + 1..]) {
                    Ok(Some(t)) => {
                        if pattern.is_empty() && !t.is_empty() {
                            i += 1;
                            continue;
                        }
                        name = t;
                        continue 'pattern;
                    }
                    Ok(None) => {}
                    Err(e) => return Err(e),
                }
                i += 1;
            }
        }
        // Before returning false, check the rest of the pattern is valid.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// `ok, err := filepath.Match(p, v); ok && err == nil`: Argo CD's use of it
/// for group/kind/name lists, where a bad pattern never matches.
pub fn argo_filepath_match(pattern: &str, value: &str) -> bool {
    filepath_match(pattern, value).unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Our own config path globs.
// ---------------------------------------------------------------------------

/// Compiles a config path glob (`production/**`, `**/*.yaml`): `*` and `?`
/// stay inside one path segment, `**` crosses directories, `{a,b}` and
/// `[..]` work. Paths are repository-relative with `/` separators.
pub fn path_glob(pattern: &str) -> Result<GlobMatcher, String> {
    path_glob_parse(pattern).map(|g| g.compile_matcher())
}

/// The uncompiled form of [`path_glob`], for building a `globset::GlobSet`
/// (much faster than one matcher per pattern on large trees).
pub fn path_glob_parse(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid path glob {pattern:?}: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str, sep: &[char]) -> bool {
        argo_glob_match(p, t, sep)
    }

    #[test]
    fn gobwas_star_stops_at_separator_super_crosses() {
        let s = &['/'];
        assert!(m(
            "https://github.com/org/*",
            "https://github.com/org/repo",
            s
        ));
        assert!(!m(
            "https://github.com/org/*",
            "https://github.com/org/a/b",
            s
        ));
        assert!(m(
            "https://github.com/org/**",
            "https://github.com/org/a/b",
            s
        ));
        assert!(m(
            "https://github.com/**/repo",
            "https://github.com/x/y/repo",
            s
        ));
        // without separators `*` crosses `/`
        assert!(m(
            "https://github.com/org/*",
            "https://github.com/org/a/b",
            &[]
        ));
        assert!(m("*", "", &[]));
        assert!(!m("*", "a/b", s)); // Argo short-circuits exactly "*" before glob
    }

    #[test]
    fn gobwas_single_classes_alternatives() {
        let s = &['/'];
        assert!(m("ns-?", "ns-a", &[]));
        assert!(!m("ns-?", "ns-ab", &[]));
        assert!(!m("a?b", "a/b", s));
        assert!(m("a?b", "a/b", &[]));
        assert!(m("[abc]x", "bx", &[]));
        assert!(!m("[abc]x", "dx", &[]));
        assert!(m("[!abc]x", "dx", &[]));
        assert!(!m("[!abc]x", "ax", &[]));
        assert!(m("[a-c]x", "bx", &[]));
        assert!(m("[!a-c]x", "zx", &[]));
        assert!(!m("[!a-c]x", "bx", &[]));
        // classes ignore separators in gobwas
        assert!(m("a[!x]b", "a/b", s));
        assert!(m("{dev,prod}-*", "prod-eu", &[]));
        assert!(!m("{dev,prod}-*", "test-eu", &[]));
        assert!(m("team-{a,b{1,2}}", "team-b2", &[]));
        assert!(m("x{,y}", "x", &[]));
        assert!(m("x{y,}", "x", &[]));
        assert!(m("x{}", "x", &[]));
        // outside braces `,` and `}` are literals
        assert!(m("a,b}", "a,b}", &[]));
    }

    #[test]
    fn gobwas_literals() {
        assert!(m("payments", "payments", &[]));
        assert!(!m("payments", "payments-x", &[]));
        assert!(m("a,b}]", "a,b}]", &[]));
        assert!(m("", "", &[]));
        assert!(!m("", "x", &[]));
    }

    #[test]
    fn gobwas_escapes_and_case() {
        assert!(m(r"a\*b", "a*b", &[]));
        assert!(!m(r"a\*b", "axb", &[]));
        assert!(m(r"\{a\}", "{a}", &[]));
        assert!(m(r"[\]]", "]", &[]));
        assert!(!m("Payments", "payments", &[]));
    }

    #[test]
    fn gobwas_compile_errors_never_match() {
        for bad in ["[", "[]", "[!]", "{a,b", r"a\", "[a-z0-9]", "[z-a]", "[a-"] {
            assert!(
                GobwasGlob::compile(bad, &[]).is_err(),
                "{bad} should not compile"
            );
            assert!(!m(bad, bad, &[]), "{bad}");
        }
        // a set including `-` is fine when no range follows the first char
        assert!(m("[ab-]", "-", &[]));
    }

    #[test]
    fn gobwas_backtracking_is_complete() {
        assert!(m("*a*b*c", "xxaxxbxxc", &[]));
        assert!(m("{a,ab}c", "abc", &[]));
        assert!(m("**/*.git", "a/b/c.git", &['/']));
        assert!(!m("*.git", "a/c.git", &['/']));
        // pathological pattern stays fast (linear simulation)
        let p = "*a".repeat(50);
        let t = "a".repeat(40);
        assert!(!m(&p, &t, &[]));
    }

    #[test]
    fn filepath_match_go_semantics() {
        let ok = |p: &str, n: &str| filepath_match(p, n).unwrap();
        assert!(ok("*", ""));
        assert!(ok("*", "apps"));
        assert!(!ok("*", "a/b"));
        assert!(ok("Deploy*", "Deployment"));
        assert!(!ok("deploy*", "Deployment")); // case-sensitive
        assert!(ok("?ob", "Job"));
        assert!(ok("[A-Z]ob", "Job"));
        assert!(ok("[^a-z]ob", "Job"));
        assert!(!ok("[^A-Z]ob", "Job"));
        assert!(ok("[a-cJ]ob", "Job"));
        assert!(ok(r"a\*", "a*"));
        assert!(ok("*.k8s.io", "rbac.authorization.k8s.io"));
        assert!(ok("a*b*c", "axxbyyc"));
        assert!(!ok("a*b", "a/b")); // * does not cross /
        assert!(!ok("{a,b}", "a")); // no braces in filepath.Match
        assert!(ok("{a,b}", "{a,b}"));
        assert!(!ok("!Secret", "ConfigMap")); // no negation either
    }

    #[test]
    fn filepath_bad_patterns_never_match() {
        for bad in ["[", "[a", "[]", "a[", r"\", "[a-]", "[-a]", "*[", "[^]"] {
            assert_eq!(filepath_match(bad, "a"), Err(BadPattern), "{bad}");
            assert!(!argo_filepath_match(bad, "a"), "{bad}");
        }
        // error detected in the remainder even after a mismatch
        assert_eq!(filepath_match("x*[", "abc"), Err(BadPattern));
    }

    #[test]
    fn path_globs() {
        let g = path_glob("production/**").unwrap();
        assert!(g.is_match("production/a/b.yaml"));
        assert!(!g.is_match("staging/a.yaml"));
        let g = path_glob("production/*.yaml").unwrap();
        assert!(g.is_match("production/a.yaml"));
        assert!(!g.is_match("production/x/a.yaml"));
        let g = path_glob("**/*.yaml").unwrap();
        assert!(g.is_match("a.yaml"));
        assert!(g.is_match("x/y/a.yaml"));
        assert!(path_glob("a/[").is_err());
    }
}
