//! YAML 1.1 scalar resolution exactly as go-yaml v2 (`resolve.go`) does it,
//! which is what sigs.k8s.io/yaml — and therefore the cluster — uses.
//!
//! Plain scalars are resolved by their first character:
//! - `y Y n N t T f F o O ~` look the whole text up in a fixed table
//!   (`yes`, `On`, `OFF`, `y`, `null`, `~`, …); anything else is a string;
//! - digits and signs try `strconv.ParseInt(s, 0, 64)` with `_` removed
//!   (so `0x1F`, `0o17`, `0b101` and C-style octal `0777`), then `ParseUint`,
//!   then a float if the text has YAML float shape;
//! - `.` tries the table (`.inf`, `.nan`) then `ParseFloat`;
//! - everything else is a string. Timestamps stay strings.
//!
//! Quoted scalars are strings unless a tag says otherwise.

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

/// Go's `strconv.ParseFloat(s, 64)` for the shapes that reach it here: the
/// `.`-prefixed texts (`.5`, `.5e3`) and YAML-float-shaped texts.
fn go_parse_float(s: &str) -> Option<f64> {
    // Rust accepts "inf"/"nan"/"infinity" like Go, but those never reach this
    // function (they do not start with '.', a digit or a sign followed by a
    // digit); reject them anyway to stay within the shapes we mirror.
    let t = s.trim_start_matches(['+', '-']);
    if t.is_empty() || t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    if s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Resolves an untagged plain scalar as go-yaml v2 does.
pub fn resolve_plain(s: &str) -> Value {
    let hint = s.as_bytes().first().copied();
    match hint {
        None => Value::Null,
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            table(s).unwrap_or_else(|| Value::Str(s.to_owned()))
        }
        Some(b'.') => table(s)
            .or_else(|| go_parse_float(s).map(Value::Float))
            .unwrap_or_else(|| Value::Str(s.to_owned())),
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if let Some(v) = table(s) {
                // "+.inf", "-.inf"
                return v;
            }
            resolve_number(s).unwrap_or_else(|| Value::Str(s.to_owned()))
        }
        _ => Value::Str(s.to_owned()),
    }
}

fn resolve_number(s: &str) -> Option<Value> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int_base0(&plain) {
        return Some(Value::Int(i));
    }
    // ParseUint takes no sign.
    if !plain.starts_with(['+', '-'])
        && let Some(u) = go_parse_uint_base0(&plain)
    {
        return Some(Value::UInt(u));
    }
    if yaml_style_float(&plain) {
        return go_parse_float(&plain).map(Value::Float);
    }
    None
}

/// Resolves a scalar that carries an explicit core tag, as go-yaml v2 does:
/// the text is resolved as if plain and must then agree with the tag
/// (`!!float` also accepts an integer). `Err` carries go-yaml's complaint.
pub fn resolve_tagged(tag: ScalarTag, s: &str) -> Result<Value, String> {
    match tag {
        ScalarTag::Str | ScalarTag::Timestamp => Ok(Value::Str(s.to_owned())),
        ScalarTag::Merge => Ok(Value::Str(s.to_owned())),
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
        assert!(key_string(&Value::Null).is_none());
    }
}
