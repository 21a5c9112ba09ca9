//! YAML 1.1 scalar resolution exactly as go-yaml v2 (`resolve.go`) does it,
//! which is what sigs.k8s.io/yaml — and therefore the cluster — uses.
//!
//! Plain scalars are resolved by their first character:
//! - `y Y n N t T f F o O ~` look the whole text up in a fixed table
//!   (`yes`, `On`, `OFF`, `y`, `null`, `~`, …); anything else is a string;
//! - digits and signs try `strconv.ParseInt(s, 0, 64)` with `_` removed
//!   (so `0x1F`, `0o17`, `0b101` and C-style octal `0777`), then `ParseUint`,
//!   then a float if the text has YAML float shape;
//! - `.` tries the table (`.inf`, `.nan`) then `ParseFloat` (which, unlike
//!   the integer path, keeps `_` and checks Go's digit-separator rules);
//! - a float outside the `f64` range is a string (`ParseFloat` fails with
//!   `ErrRange`), not infinity;
//! - `0b` followed by a signed binary number is an integer (`0b-101` is -5):
//!   a fallback in `resolve.go` after the float attempt;
//! - everything else is a string. Timestamps stay strings when decoded into
//!   `interface{}`, but an explicit `!!timestamp` must parse as one of the
//!   four layouts go-yaml tries with Go's `time.Parse`.
//!
//! Quoted scalars are strings unless a tag says otherwise; `!!binary` is
//! base64-decoded into a string.

use std::borrow::Cow;

use super::node::Value;

/// The resolvable core tags (`!!str`, `!!int`, …) a scalar may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarTag {
    /// `!!str`
    Str,
    /// `!!bool`
    Bool,
    /// `!!int`
    Int,
    /// `!!float`
    Float,
    /// `!!null`
    Null,
    /// `!!timestamp` (resolved to the original string, as v2 does for `interface{}`)
    Timestamp,
    /// `!!merge` (only meaningful as a mapping key)
    Merge,
    /// `!!binary`: base64, decoded into a string as go-yaml does.
    Binary,
}

fn table(s: &str) -> Option<Value> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Go's `strconv.ParseUint(s, 0, 64)` for an unsigned, underscore-free text.
fn go_parse_uint_base0(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (r, 2)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (r, 8)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)` (sign allowed) for an underscore-free text.
fn go_parse_int_base0(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint_base0(rest)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else if u <= i64::MAX as u64 {
        Some(u as i64)
    } else {
        None
    }
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `underscoreOK`: `_` only between digits (or after a base prefix),
/// never leading, trailing or doubled.
fn go_underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[i + 1] | 0x20 == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal texts: optional sign,
/// digits with at most one `.`, optional exponent, `_` separators as Go
/// allows them. Out of range (±Inf) is an error in Go, so `None` here.
/// (Hex floats and `inf`/`nan` words never reach this function: the callers
/// only pass texts starting with `.` or matching go-yaml's float regexp.)
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let (mut digits, mut dot, mut underscores) = (false, false, false);
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !dot => dot = true,
            c if c.is_ascii_digit() => digits = true,
            _ => break,
        }
        i += 1;
    }
    if !digits {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
    }
    if i != b.len() || (underscores && !go_underscore_ok(s)) {
        return None;
    }
    let f: f64 = if underscores {
        s.replace('_', "").parse().ok()?
    } else {
        s.parse().ok()?
    };
    f.is_finite().then_some(f)
}

/// Go's `strconv.ParseInt(s, radix, 64)` with an explicit radix: optional
/// sign, digits of that radix only.
fn go_parse_int_radix(s: &str, radix: u32) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint_radix(digits, radix)?;
    if neg {
        (u <= i64::MAX as u64 + 1).then(|| (u as i128).wrapping_neg() as i64)
    } else {
        (u <= i64::MAX as u64).then_some(u as i64)
    }
}

/// Go's `strconv.ParseUint(s, radix, 64)` with an explicit radix (no sign).
fn go_parse_uint_radix(s: &str, radix: u32) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(s, radix).ok()
}

/// Resolves an untagged plain scalar as go-yaml v2 does.
pub fn resolve_plain(s: &str) -> Value {
    resolve_plain_cow(Cow::Borrowed(s))
}

/// [`resolve_plain`] for a text the caller may already own: a string result
/// reuses it instead of copying (the parser hands most scalars over owned).
pub(crate) fn resolve_plain_cow(text: Cow<'_, str>) -> Value {
    let s: &str = &text;
    let hint = s.as_bytes().first().copied();
    let v = match hint {
        None => Some(Value::Null),
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            table(s)
        }
        Some(b'.') => table(s).or_else(|| go_parse_float(s).map(Value::Float)),
        // `table` covers "+.inf" and "-.inf".
        Some(b'+' | b'-' | b'0'..=b'9') => table(s).or_else(|| resolve_number(s)),
        _ => None,
    };
    v.unwrap_or_else(|| Value::Str(text.into_owned()))
}

fn resolve_number(s: &str) -> Option<Value> {
    // Underscores are rare: only copy the text when there are some.
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.chars().filter(|&c| c != '_').collect())
    } else {
        Cow::Borrowed(s)
    };
    let plain: &str = &plain;
    if let Some(i) = go_parse_int_base0(plain) {
        return Some(Value::Int(i));
    }
    // ParseUint takes no sign.
    if !plain.starts_with(['+', '-'])
        && let Some(u) = go_parse_uint_base0(plain)
    {
        return Some(Value::UInt(u));
    }
    if yaml_style_float(plain)
        && let Some(f) = go_parse_float(plain)
    {
        return Some(Value::Float(f));
    }
    // resolve.go's binary fallback: `ParseInt(plain[2:], 2, 64)`, which
    // accepts a sign after the prefix (`0b-101` is -5).
    if let Some(rest) = plain.strip_prefix("0b") {
        if let Some(i) = go_parse_int_radix(rest, 2) {
            return Some(Value::Int(i));
        }
        if let Some(u) = go_parse_uint_radix(rest, 2) {
            return Some(Value::UInt(u));
        }
    } else if let Some(rest) = plain.strip_prefix("-0b")
        && let Some(i) = go_parse_int_radix(&format!("-{rest}"), 2)
    {
        return Some(Value::Int(i));
    }
    None
}

/// go-yaml v2's `parseTimestamp`: a text starting `YYYY-` that Go's
/// `time.Parse` (Go 1.19, as in the oracle) accepts in one of the layouts
/// `2006-1-2T15:4:5.999999999Z07:00`, the same with a lower-case `t`,
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`.
fn go_parse_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    [Some(b'T'), Some(b't'), Some(b' '), None]
        .into_iter()
        .any(|sep| timestamp_layout(b, sep))
}

/// Go's `getnum(s, false)`: one or two digits.
fn getnum(v: &[u8]) -> Option<(u32, &[u8])> {
    match v {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some((u32::from(a - b'0') * 10 + u32::from(b - b'0'), rest))
        }
        [a, rest @ ..] if a.is_ascii_digit() => Some((u32::from(a - b'0'), rest)),
        _ => None,
    }
}

/// Go's `atoi` on a zone field: optional sign, then digits only.
fn go_atoi_ok(v: &[u8]) -> bool {
    let d = match v.first() {
        Some(b'+' | b'-') => &v[1..],
        _ => v,
    };
    d.iter().all(u8::is_ascii_digit)
}

/// One of go-yaml's timestamp layouts; `sep` is the date/time separator, or
/// `None` for the date-only layout. The `T`/`t` layouts carry a zone.
fn timestamp_layout(v: &[u8], sep: Option<u8>) -> bool {
    let lit = |v: &[u8], c: u8| -> Option<usize> { (v.first() == Some(&c)).then_some(1) };
    let parse = || -> Option<bool> {
        let year: u32 = std::str::from_utf8(&v[..4]).ok()?.parse().ok()?;
        let mut v = &v[4..];
        v = &v[lit(v, b'-')?..];
        let (month, r) = getnum(v)?;
        v = r;
        v = &v[lit(v, b'-')?..];
        let (day, r) = getnum(v)?;
        v = r;
        if let Some(sep) = sep {
            if sep == b' ' {
                // A space in a Go layout matches a run of spaces.
                if v.first() != Some(&b' ') {
                    return None;
                }
                while v.first() == Some(&b' ') {
                    v = &v[1..];
                }
            } else {
                v = &v[lit(v, sep)?..];
            }
            let (hour, r) = getnum(v)?;
            v = &r[lit(r, b':')?..];
            let (min, r) = getnum(v)?;
            v = &r[lit(r, b':')?..];
            let (sec, r) = getnum(v)?;
            v = r;
            if hour >= 24 || min >= 60 || sec >= 60 {
                return None;
            }
            // `.999999999`: optional, `.` or `,`, at most nine digits.
            if v.len() >= 2 && (v[0] == b'.' || v[0] == b',') && v[1].is_ascii_digit() {
                let mut i = 0;
                while i < 9 && i + 1 < v.len() && v[i + 1].is_ascii_digit() {
                    i += 1;
                }
                v = &v[1 + i..];
            }
            if sep != b' ' {
                // `Z07:00`
                if v.first() == Some(&b'Z') {
                    v = &v[1..];
                } else {
                    if v.len() < 6 || v[3] != b':' {
                        return None;
                    }
                    if !matches!(v[0], b'+' | b'-')
                        || !go_atoi_ok(&v[1..3])
                        || !go_atoi_ok(&v[4..6])
                    {
                        return None;
                    }
                    v = &v[6..];
                }
            }
        }
        if !v.is_empty() || !(1..=12).contains(&month) {
            return None;
        }
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        Some((1..=days).contains(&day))
    };
    parse().unwrap_or(false)
}

/// `base64.StdEncoding.DecodeString` as go-yaml applies it to `!!binary`
/// (line breaks ignored, padding required, stray trailing bits tolerated),
/// then the bytes as a JSON string: Go's encoder replaces every invalid
/// UTF-8 byte with U+FFFD.
fn decode_binary(s: &str) -> Option<String> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let compact: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let bytes = GO_STD.decode(compact).ok()?;
    let mut out = String::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(v) => {
                out.push_str(v);
                break;
            }
            Err(e) => {
                let ok = e.valid_up_to();
                out.push_str(std::str::from_utf8(&rest[..ok]).unwrap_or_default());
                out.push('\u{fffd}');
                rest = &rest[ok + 1..];
            }
        }
    }
    Some(out)
}

/// Resolves a scalar that carries an explicit core tag, as go-yaml v2 does:
/// the text is resolved as if plain and must then agree with the tag
/// (`!!float` also accepts an integer). `Err` carries go-yaml's complaint.
pub fn resolve_tagged(tag: ScalarTag, s: &str) -> Result<Value, String> {
    match tag {
        ScalarTag::Str | ScalarTag::Merge => Ok(Value::Str(s.to_owned())),
        ScalarTag::Timestamp => {
            // Decoded into `interface{}`, a timestamp stays its text; but
            // the text must be one, or go-yaml refuses the tag.
            if go_parse_timestamp(s) {
                Ok(Value::Str(s.to_owned()))
            } else {
                Err(format!("cannot decode `{s}` as a !!timestamp"))
            }
        }
        ScalarTag::Binary => decode_binary(s)
            .map(Value::Str)
            .ok_or_else(|| "!!binary value contains invalid base64 data".to_owned()),
        ScalarTag::Null => {
            // v2 does not resolve !!null; the value stays the text. Only the
            // null spellings make sense, anything else is refused.
            match table(s) {
                Some(Value::Null) => Ok(Value::Null),
                _ => Err(format!("cannot decode `{s}` as a !!null")),
            }
        }
        ScalarTag::Bool | ScalarTag::Int | ScalarTag::Float => {
            let v = resolve_plain(s);
            match (tag, v) {
                (ScalarTag::Bool, v @ Value::Bool(_)) => Ok(v),
                (ScalarTag::Int, v @ (Value::Int(_) | Value::UInt(_))) => Ok(v),
                (ScalarTag::Float, v @ Value::Float(_)) => Ok(v),
                (ScalarTag::Float, Value::Int(i)) => Ok(Value::Float(i as f64)),
                (_, v) => {
                    let what = match v {
                        Value::Null => "!!null",
                        Value::Bool(_) => "!!bool",
                        Value::Int(_) | Value::UInt(_) => "!!int",
                        Value::Float(_) => "!!float",
                        _ => "!!str",
                    };
                    let want = match tag {
                        ScalarTag::Bool => "!!bool",
                        ScalarTag::Int => "!!int",
                        _ => "!!float",
                    };
                    Err(format!("cannot decode {what} `{s}` as a {want}"))
                }
            }
        }
    }
}

/// Stringifies a resolved scalar key as sigs.k8s.io/yaml does when it turns
/// a YAML map into a JSON object. `None` for keys it refuses (null, uint64).
pub fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(go_format_float32_g(*f)),
        _ => None,
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's `.inf`/`.nan` spellings.
fn go_format_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let x = f as f32;
    if x.is_infinite() {
        // Beyond the f32 range FormatFloat(.., 32) prints ±Inf, which
        // sigs.k8s.io/yaml spells like the infinities above.
        return if x > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    // Shortest round-trip digits of the f32, in scientific form.
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Go: %e when exp < -4 || exp >= eprec, and eprec is 6 for shortest output.
    if !(-4..6).contains(&exp) {
        let (neg, m) = mant
            .strip_prefix('-')
            .map(|m| (true, m))
            .unwrap_or((false, mant));
        let sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{}{}e{}{:02}",
            if neg { "-" } else { "" },
            m,
            sign,
            exp.abs()
        )
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_yaml11() {
        for s in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(resolve_plain(s), Value::Bool(true), "{s}");
        }
        for s in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(resolve_plain(s), Value::Bool(false), "{s}");
        }
        for s in ["yEs", "oN", "tRue", "nO", "o", "t", "f"] {
            assert_eq!(resolve_plain(s), Value::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn nulls() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(s), Value::Null, "{s}");
        }
        assert_eq!(resolve_plain("nULL"), Value::Str("nULL".into()));
    }

    #[test]
    fn integers_go_base0() {
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0777"), Value::Int(511));
        assert_eq!(resolve_plain("0o17"), Value::Int(15));
        assert_eq!(resolve_plain("0b101"), Value::Int(5));
        assert_eq!(resolve_plain("-0b101"), Value::Int(-5));
        assert_eq!(resolve_plain("+12"), Value::Int(12));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(
            resolve_plain("9223372036854775808"),
            Value::UInt(9223372036854775808)
        );
        assert_eq!(resolve_plain("08"), Value::Float(8.0));
        assert_eq!(resolve_plain("0"), Value::Int(0));
    }

    #[test]
    fn floats() {
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain(".5"), Value::Float(0.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("-.inf"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(resolve_plain(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(resolve_plain("+inf"), Value::Str("+inf".into()));
        assert_eq!(resolve_plain("1:20"), Value::Str("1:20".into()));
        assert_eq!(resolve_plain("2001-12-14"), Value::Str("2001-12-14".into()));
    }

    #[test]
    fn go_quirks() {
        // resolve.go's binary fallback takes a sign after the prefix.
        assert_eq!(resolve_plain("0b-101"), Value::Int(-5));
        assert_eq!(resolve_plain("0b+101"), Value::Int(5));
        assert_eq!(resolve_plain("0b2"), Value::Str("0b2".into()));
        // `.`-floats go to ParseFloat unstripped, with Go's `_` rules.
        assert_eq!(resolve_plain(".5_0"), Value::Float(0.5));
        assert_eq!(resolve_plain("._5"), Value::Str("._5".into()));
        assert_eq!(resolve_plain(".5_"), Value::Str(".5_".into()));
        // Out of range is ParseFloat's ErrRange: a string, not infinity.
        assert_eq!(resolve_plain("1e999"), Value::Str("1e999".into()));
        assert_eq!(resolve_plain(".5e999"), Value::Str(".5e999".into()));
        assert_eq!(resolve_plain("1e-999"), Value::Float(0.0));
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2001-12-14",
            "2001-1-2",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14T21:59:43Z",
            "2001-12-14 21:59:43.10",
            "2001-12-14  1:2:3",
            "2000-02-29",
            "2001-12-14T21:59:43++1:00",
        ] {
            assert!(go_parse_timestamp(ok), "{ok}");
        }
        for bad in [
            "2001-02-29",
            "1900-02-29",
            "2001-13-01",
            "2001-00-01",
            "2001-12-14T24:00:00Z",
            "2001-12-14T21:59:43.1234567891Z",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59Z",
            "12345-01-01",
            "2001-12-14X",
        ] {
            assert!(!go_parse_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn binary() {
        assert_eq!(
            resolve_tagged(ScalarTag::Binary, "aGVs\nbG8=\n"),
            Ok(Value::Str("hello".into()))
        );
        // Invalid UTF-8 becomes U+FFFD per byte, as Go's JSON encoder does.
        assert_eq!(
            resolve_tagged(ScalarTag::Binary, "/w=="),
            Ok(Value::Str("\u{fffd}".into()))
        );
        assert!(resolve_tagged(ScalarTag::Binary, "aGk").is_err());
        assert!(resolve_tagged(ScalarTag::Binary, "a Gk=").is_err());
    }

    #[test]
    fn tagged() {
        assert_eq!(
            resolve_tagged(ScalarTag::Bool, "true"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            resolve_tagged(ScalarTag::Bool, "yes"),
            Ok(Value::Bool(true))
        );
        assert!(resolve_tagged(ScalarTag::Bool, "1").is_err());
        assert_eq!(
            resolve_tagged(ScalarTag::Str, "yes"),
            Ok(Value::Str("yes".into()))
        );
        assert_eq!(resolve_tagged(ScalarTag::Float, "1"), Ok(Value::Float(1.0)));
        assert_eq!(resolve_tagged(ScalarTag::Int, "0x10"), Ok(Value::Int(16)));
    }

    #[test]
    fn keys() {
        assert_eq!(key_string(&Value::Bool(true)).unwrap(), "true");
        assert_eq!(key_string(&Value::Int(8)).unwrap(), "8");
        assert_eq!(key_string(&Value::Float(1.5)).unwrap(), "1.5");
        assert_eq!(key_string(&Value::Float(1e6)).unwrap(), "1e+06");
        assert_eq!(key_string(&Value::Float(1e300)).unwrap(), ".inf");
        assert_eq!(key_string(&Value::Float(0.1)).unwrap(), "0.1");
        assert!(key_string(&Value::Null).is_none());
    }
}
