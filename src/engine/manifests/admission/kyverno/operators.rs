//! Kyverno's value language, shared by patterns and conditions: the
//! `*`/`?` wildcard (`ext/wildcard`), Kubernetes quantities
//! (`resource.ParseQuantity`), Go durations (`time.ParseDuration`), and the
//! string pattern operators of `pkg/engine/pattern` (`|`, `&`, `!`, `>`,
//! `<`, `>=`, `<=`, ranges `a-b` and `a!-b`).
//!
//! Values are passed as [`Scalar`], a borrowed view of a JSON-like leaf, so
//! the same code serves YAML nodes (patterns) and JMESPath results
//! (conditions).

use std::cmp::Ordering;

/// A borrowed leaf value, typed the way Kyverno sees decoded JSON: integers
/// stay integers (`int64`), other numbers are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// `null` or an absent key.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (also integers beyond `i64`).
    Float(f64),
    /// A string.
    Str(&'a str),
    /// A map or a list (patterns compare them only by type).
    Composite,
}

/// Kyverno's wildcard match: `*` matches any run of characters, `?` exactly
/// one; everything else literally. An empty pattern matches only the empty
/// string. Linear-time (two-pointer backtracking), so hostile patterns cannot
/// blow up.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    if pattern.is_empty() {
        return name.is_empty();
    }
    if pattern == "*" {
        return true;
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == s[si])) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when the string holds a wildcard character.
pub fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// A Kubernetes quantity, exactly, in units of 10^-9 (nano), saturating at
/// the `i128` range. `ParseQuantity` keeps nano precision too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i128);

/// Parses a quantity the way `k8s.io/apimachinery/pkg/api/resource` does:
/// `[+-]number` then an optional suffix (`Ki`…`Ei`, `n u m k M G T P E`, or
/// a decimal exponent `e3`/`E-2`).
pub fn parse_quantity(s: &str) -> Option<Quantity> {
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 0;
    let neg = match b[0] {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let num_start = i;
    let mut dots = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        if b[i] == b'.' {
            dots += 1;
        }
        i += 1;
    }
    let num = &s[num_start..i];
    if num.is_empty() || dots > 1 || num == "." {
        return None;
    }
    let suffix = &s[i..];
    // (power of ten, power of two)
    let (p10, p2): (i32, u32) = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) => {
            let exp: i32 = suffix[1..].parse().ok()?;
            if !(-60..=60).contains(&exp) {
                return None;
            }
            (exp, 0)
        }
        _ => return None,
    };
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    // digits as an integer mantissa with a decimal exponent
    let mut mantissa: i128 = 0;
    let mut exp10: i32 = p10 + 9; // to nano units
    for c in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(c - b'0'))?;
    }
    exp10 -= frac_part.len() as i32;
    let mut v = mantissa.checked_mul(1i128.checked_shl(p2)?)?;
    while exp10 > 0 {
        v = v.checked_mul(10)?;
        exp10 -= 1;
    }
    while exp10 < 0 {
        // ParseQuantity rounds fractions of a nano up.
        let r = v % 10;
        v /= 10;
        if r != 0 {
            v += 1;
        }
        exp10 += 1;
    }
    Some(Quantity(if neg { -v } else { v }))
}

/// A Go duration in nanoseconds.
pub type Duration = i128;

/// Parses a duration the way Go's `time.ParseDuration` does: `"0"`, or a
/// sequence of decimal numbers each with a unit (`ns us µs ms s m h`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() || s.len() > 64 {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..n_end];
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[u_end..];
        total += value * unit;
    }
    if total > 9.3e18 {
        return None;
    }
    let v = total.round() as i128;
    Some(if neg { -v } else { v })
}

/// Go's `fmt.Sprint` of a scalar, as Kyverno's set operators stringify
/// values before comparing.
pub fn go_sprint(v: Scalar<'_>) -> String {
    match v {
        Scalar::Null => "<nil>".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => go_float(f),
        Scalar::Str(s) => s.to_owned(),
        Scalar::Composite => "map[]".into(),
    }
}

/// Go's `%v` of a float64: integral values without a fraction, large ones in
/// exponent form.
pub fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else if f.abs() >= 1e21 || (f != 0.0 && f.abs() < 1e-4) {
        let s = format!("{f:e}");
        // Go writes e+21, Rust e21
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        f.to_string()
    }
}

/// The comparison operators a pattern string may start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// no prefix
    Equal,
    /// `!`
    NotEqual,
    /// `>`
    More,
    /// `<`
    Less,
    /// `>=`
    MoreEqual,
    /// `<=`
    LessEqual,
    /// `a-b`
    InRange,
    /// `a!-b`
    NotInRange,
}

impl Op {
    fn prefix_len(self) -> usize {
        match self {
            Op::Equal | Op::InRange | Op::NotInRange => 0,
            Op::NotEqual | Op::More | Op::Less => 1,
            Op::MoreEqual | Op::LessEqual => 2,
        }
    }
}

/// `[-|+]?\d+(\.\d+)?[A-Za-z]*` — one range endpoint. Returns the length
/// consumed.
fn endpoint_len(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    if i < s.len() && matches!(s[i], b'-' | b'|' | b'+') {
        i += 1;
    }
    let d = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == d {
        return None;
    }
    if i < s.len() && s[i] == b'.' {
        let f = i + 1;
        let mut j = f;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > f {
            i = j;
        }
    }
    while i < s.len() && s[i].is_ascii_alphabetic() {
        i += 1;
    }
    Some(i)
}

/// Splits `left<sep>right` where both sides are range endpoints (Kyverno's
/// `InRangeRegex` / `NotInRangeRegex`).
pub fn split_range<'a>(pattern: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let b = pattern.as_bytes();
    // The left endpoint may itself start with '-', so try every separator
    // position rather than the first.
    let mut start = 0;
    while let Some(pos) = pattern[start..].find(sep) {
        let at = start + pos;
        let left = &b[..at];
        let right = &b[at + sep.len()..];
        if endpoint_len(left) == Some(left.len())
            && !left.is_empty()
            && endpoint_len(right) == Some(right.len())
        {
            return Some((&pattern[..at], &pattern[at + sep.len()..]));
        }
        start = at + 1;
    }
    None
}

/// `operator.GetOperatorFromStringPattern`.
pub fn operator_of(pattern: &str) -> Op {
    if pattern.len() < 2 {
        return Op::Equal;
    }
    if pattern.starts_with(">=") {
        Op::MoreEqual
    } else if pattern.starts_with("<=") {
        Op::LessEqual
    } else if pattern.starts_with('>') {
        Op::More
    } else if pattern.starts_with('<') {
        Op::Less
    } else if pattern.starts_with('!') {
        Op::NotEqual
    } else if split_range(pattern, "!-").is_some() {
        Op::NotInRange
    } else if split_range(pattern, "-").is_some() {
        Op::InRange
    } else {
        Op::Equal
    }
}

/// `convertNumberToString`: absent → "0", numbers and strings as text,
/// anything else does not convert.
fn number_to_string(v: Scalar<'_>) -> Option<String> {
    match v {
        Scalar::Null => Some("0".into()),
        Scalar::Str(s) => Some(s.to_owned()),
        Scalar::Float(f) => Some(format!("{f:.6}")),
        Scalar::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn cmp_result(ord: Ordering, op: Op) -> Option<bool> {
    Some(match op {
        Op::Equal => ord == Ordering::Equal,
        Op::NotEqual => ord != Ordering::Equal,
        Op::More => ord == Ordering::Greater,
        Op::Less => ord == Ordering::Less,
        Op::MoreEqual => ord != Ordering::Less,
        Op::LessEqual => ord != Ordering::Greater,
        Op::InRange | Op::NotInRange => return None,
    })
}

/// `pattern.validateStringPatterns`: the whole string pattern language.
pub fn match_string_pattern(value: Scalar<'_>, pattern: &str) -> bool {
    if value == Scalar::Str(pattern) {
        return true;
    }
    pattern.split('|').any(|alt| {
        alt.trim_matches(' ')
            .split('&')
            .all(|cond| match_single(value, cond.trim_matches(' ')))
    })
}

fn match_single(value: Scalar<'_>, pattern: &str) -> bool {
    match operator_of(pattern) {
        Op::InRange => match split_range(pattern, "-") {
            Some((l, r)) => {
                match_single(value, &format!(">= {l}")) && match_single(value, &format!("<= {r}"))
            }
            None => false,
        },
        Op::NotInRange => match split_range(pattern, "!-") {
            Some((l, r)) => {
                match_single(value, &format!("< {l}")) || match_single(value, &format!("> {r}"))
            }
            None => false,
        },
        op => {
            let rest = pattern[op.prefix_len()..].trim();
            compare_with(value, rest, op)
        }
    }
}

/// `validateString`: durations first, then quantities, then strings.
fn compare_with(value: Scalar<'_>, pattern: &str, op: Op) -> bool {
    if let Some(p) = parse_duration(pattern)
        && let Some(vs) = number_to_string(value)
        && let Some(v) = parse_duration(&vs)
        && let Some(r) = cmp_result(v.cmp(&p), op)
    {
        return r;
    }
    if let Some(p) = parse_quantity(pattern)
        && let Some(vs) = number_to_string(value)
        && let Some(v) = parse_quantity(&vs)
        && let Some(r) = cmp_result(v.cmp(&p), op)
    {
        return r;
    }
    if op != Op::Equal && op != Op::NotEqual {
        return false;
    }
    let text = match value {
        Scalar::Float(f) => go_float_e(f),
        Scalar::Int(i) => i.to_string(),
        Scalar::Str(s) => s.to_owned(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null | Scalar::Composite => return false,
    };
    let m = wildcard_match(pattern, &text);
    if op == Op::NotEqual { !m } else { m }
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`.
fn go_float_e(f: f64) -> String {
    let s = format!("{f:E}");
    match s.split_once('E') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}E{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// `pattern.Validate`: a resource leaf against a pattern leaf.
pub fn match_value(value: Scalar<'_>, pattern: Scalar<'_>) -> bool {
    match pattern {
        Scalar::Bool(p) => value == Scalar::Bool(p),
        Scalar::Int(p) => match value {
            Scalar::Int(v) => v == p,
            Scalar::Float(f) => f.trunc() == f && f == p as f64,
            Scalar::Str(s) => s.parse::<i64>().ok() == Some(p),
            _ => false,
        },
        Scalar::Float(p) => match value {
            Scalar::Int(v) => p.trunc() == p && p == v as f64,
            Scalar::Float(f) => f == p,
            Scalar::Str(s) => s.parse::<f64>().ok() == Some(p),
            _ => false,
        },
        Scalar::Null => match value {
            Scalar::Float(f) => f == 0.0,
            Scalar::Int(i) => i == 0,
            Scalar::Str(s) => s.is_empty(),
            Scalar::Bool(b) => !b,
            Scalar::Null => true,
            Scalar::Composite => false,
        },
        Scalar::Str(p) => match_string_pattern(value, p),
        Scalar::Composite => matches!(value, Scalar::Composite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("nginx:*", "nginx:1.2"));
        assert!(!wildcard_match("nginx:*", "redis:1"));
        assert!(wildcard_match("?*", "a"));
        assert!(!wildcard_match("?*", ""));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("*a*b*", "xxbxxaxx"));
        // no blow-up
        let long = "a".repeat(5000);
        assert!(!wildcard_match(
            &"*a".repeat(50).to_string().replace("a", "a*b"),
            &long
        ));
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("1Gi"), parse_quantity("1024Mi"));
        assert!(parse_quantity("100Mi") < parse_quantity("1Gi"));
        assert!(parse_quantity("500m") < parse_quantity("1"));
        assert_eq!(parse_quantity("1k"), parse_quantity("1000"));
        assert_eq!(parse_quantity("1e3"), parse_quantity("1000"));
        assert_eq!(parse_quantity("1.5"), parse_quantity("1500m"));
        assert_eq!(parse_quantity("abc"), None);
        assert_eq!(parse_quantity(""), None);
        assert_eq!(parse_quantity("1Gb"), None);
        assert!(parse_quantity("-1") < parse_quantity("0"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), parse_duration("60m"));
        assert_eq!(parse_duration("1h30m"), parse_duration("90m"));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert!(parse_duration("2m") > parse_duration("90s"));
    }

    #[test]
    fn operator_detection() {
        assert_eq!(operator_of(">1"), Op::More);
        assert_eq!(operator_of(">=1"), Op::MoreEqual);
        assert_eq!(operator_of("<=1"), Op::LessEqual);
        assert_eq!(operator_of("<1"), Op::Less);
        assert_eq!(operator_of("!x"), Op::NotEqual);
        assert_eq!(operator_of("10-20"), Op::InRange);
        assert_eq!(operator_of("10!-20"), Op::NotInRange);
        assert_eq!(operator_of("1Gi-2Gi"), Op::InRange);
        assert_eq!(operator_of("-5-5"), Op::InRange);
        assert_eq!(operator_of("a-b"), Op::Equal);
        assert_eq!(operator_of("x"), Op::Equal);
    }

    // Examples from kyverno.io "Validate Rules" → "Operators".
    #[test]
    fn documented_operators() {
        let s = Scalar::Str;
        // `>`, `<`, `>=`, `<=` on numbers and quantities
        assert!(match_string_pattern(Scalar::Int(11), ">10"));
        assert!(!match_string_pattern(Scalar::Int(10), ">10"));
        assert!(match_string_pattern(Scalar::Int(10), ">=10"));
        assert!(match_string_pattern(Scalar::Int(9), "<10"));
        assert!(match_string_pattern(Scalar::Int(10), "<=10"));
        assert!(match_string_pattern(s("100Mi"), "<1Gi"));
        assert!(!match_string_pattern(s("2Gi"), "<=1Gi"));
        // `!` not equal
        assert!(match_string_pattern(s("prod"), "!dev"));
        assert!(!match_string_pattern(s("dev"), "!dev"));
        // `|` or, `&` and
        assert!(match_string_pattern(
            s("Localhost"),
            "RuntimeDefault | Localhost"
        ));
        assert!(!match_string_pattern(
            s("Unconfined"),
            "RuntimeDefault | Localhost"
        ));
        assert!(match_string_pattern(s("abc"), "a* & *c"));
        assert!(!match_string_pattern(s("abd"), "a* & *c"));
        // ranges
        assert!(match_string_pattern(Scalar::Int(15), "10-20"));
        assert!(!match_string_pattern(Scalar::Int(25), "10-20"));
        assert!(match_string_pattern(Scalar::Int(25), "10!-20"));
        assert!(!match_string_pattern(Scalar::Int(15), "10!-20"));
        assert!(match_string_pattern(s("1.5Gi"), "1Gi-2Gi"));
        // wildcards
        assert!(match_string_pattern(s("nginx:1.2"), "nginx:*"));
        assert!(match_string_pattern(s("x"), "?*"));
        assert!(!match_string_pattern(Scalar::Null, "?*"));
        // durations
        assert!(match_string_pattern(s("2h"), ">1h"));
        assert!(!match_string_pattern(s("30m"), ">1h"));
        // an absent value is 0 for numeric comparisons
        assert!(!match_string_pattern(Scalar::Null, ">0"));
        assert!(match_string_pattern(Scalar::Int(1000), ">0"));
    }

    #[test]
    fn bools_and_strings() {
        // "false" matches a boolean false and the string "false"
        assert!(match_value(Scalar::Bool(false), Scalar::Str("false")));
        assert!(match_value(Scalar::Str("false"), Scalar::Str("false")));
        assert!(!match_value(Scalar::Bool(true), Scalar::Str("false")));
        // a boolean pattern does not match a string
        assert!(!match_value(Scalar::Str("true"), Scalar::Bool(true)));
        assert!(match_value(Scalar::Bool(true), Scalar::Bool(true)));
        // numbers vs strings
        assert!(match_value(Scalar::Str("0"), Scalar::Int(0)));
        assert!(match_value(Scalar::Float(0.0), Scalar::Int(0)));
        assert!(!match_value(Scalar::Null, Scalar::Int(0)));
        // null pattern: zero values
        assert!(match_value(Scalar::Null, Scalar::Null));
        assert!(match_value(Scalar::Str(""), Scalar::Null));
        assert!(!match_value(Scalar::Str("x"), Scalar::Null));
        assert!(!match_value(Scalar::Composite, Scalar::Null));
    }

    #[test]
    fn go_formatting() {
        assert_eq!(go_sprint(Scalar::Float(80.0)), "80");
        assert_eq!(go_sprint(Scalar::Float(1.5)), "1.5");
        assert_eq!(go_float_e(80.0), "8E+01");
    }
}
