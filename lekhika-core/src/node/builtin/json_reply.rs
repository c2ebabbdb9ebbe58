//! Finds the JSON in a model's reply: small and local models often wrap it
//! in prose ("Here is the plan: {...}") or a Markdown code fence.

/// Most opening brackets tried as the start of the JSON.
const MAX_STARTS: usize = 64;

/// The JSON text of a reply: the whole reply when it parses; for a reply
/// that opens with JSON, that first value (prose after it is dropped);
/// else the inside of its first code fence; else the first balanced object
/// or array in the prose that parses. A reply that opens with JSON but is
/// cut or broken is returned as it is, so its parse error says so (an
/// inner fragment is never taken for the answer).
pub(crate) fn json_text(s: &str) -> &str {
    let t = s.trim();
    if parses(t) {
        return t;
    }
    if t.starts_with(['{', '[']) {
        return balanced(t).filter(|c| parses(c)).unwrap_or(t);
    }
    if let Some(inner) = fenced(t) {
        if parses(inner) || inner.starts_with(['{', '[']) {
            return json_text(inner);
        }
    }
    t.char_indices()
        .filter(|(_, c)| matches!(c, '{' | '['))
        .take(MAX_STARTS)
        .filter_map(|(i, _)| balanced(&t[i..]))
        .find(|cand| parses(cand))
        .unwrap_or(t)
}

/// The JSON value of a reply (see [`json_text`]). Small models often put
/// raw line breaks or tabs inside JSON strings, which strict JSON forbids;
/// when the reply does not parse, those are escaped and it is tried again.
pub(crate) fn parse_reply<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(json_text(s)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let escaped = escape_controls_in_strings(s);
            if escaped == s {
                return Err(e);
            }
            serde_json::from_str(json_text(&escaped)).map_err(|_| e)
        }
    }
}

/// `s` with control characters inside JSON string literals escaped
/// (`\n`, `\t`, `\r`, `\u00XX`); everything else as it was.
fn escape_controls_in_strings(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut escaped) = (false, false);
    for c in s.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            } else if c.is_control() && (c as u32) < 0x20 {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    _ => out.push_str(&format!("\\u{:04x}", c as u32)),
                }
                continue;
            }
        } else if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

fn parses(s: &str) -> bool {
    !s.is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// The body of the first ```` ``` ```` fence (its info string skipped).
fn fenced(t: &str) -> Option<&str> {
    let start = t.find("```")?;
    let rest = &t[start + 3..];
    let body = rest.split_once('\n').map_or(rest, |(_, b)| b);
    let end = body.find("```").unwrap_or(body.len());
    Some(body[..end].trim())
}

/// The prefix of `s` (which starts with `{` or `[`) up to its matching
/// close, skipping brackets inside strings.
fn balanced(s: &str) -> Option<&str> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in s.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&s[..i + c.len_utf8()]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{json_text, parse_reply};

    #[test]
    fn raw_line_breaks_inside_strings_are_escaped() {
        let reply = "Here is the plan:\n{\"chapters\": [{\"title\": \"The Dunes\",\n \"summary\": \"Line one\nline two\twith a tab\"}]}";
        let v: serde_json::Value = parse_reply(reply).unwrap();
        assert_eq!(
            v["chapters"][0]["summary"],
            "Line one\nline two\twith a tab"
        );
        // Valid JSON is untouched; broken JSON still fails with its own error.
        let ok: serde_json::Value = parse_reply("{\"a\": \"b\\nc\"}").unwrap();
        assert_eq!(ok["a"], "b\nc");
        let err = parse_reply::<serde_json::Value>("{\"a\": \"b\nc\"").unwrap_err();
        assert!(err.to_string().contains("control character"), "{err}");
    }

    #[test]
    fn whole_fenced_and_wrapped_replies() {
        assert_eq!(json_text(" {\"a\":1} "), "{\"a\":1}");
        assert_eq!(json_text("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(json_text("```\n[1, 2]\n```\nDone."), "[1, 2]");
        assert_eq!(
            json_text("Sure! Here is the plan:\n```json\n{\"a\": \"x}\"}\n```\nEnjoy."),
            "{\"a\": \"x}\"}"
        );
        assert_eq!(
            json_text("Here is the outline [draft 2]: {\"chapters\": [{\"n\": 1}]} Hope it helps."),
            "{\"chapters\": [{\"n\": 1}]}"
        );
        assert_eq!(
            json_text("The answer {\"q\": \"a \\\"quoted\\\" } brace\"} ends"),
            "{\"q\": \"a \\\"quoted\\\" } brace\"}"
        );
    }

    #[test]
    fn a_cut_reply_is_not_mistaken_for_an_inner_fragment() {
        let cut = "{\"logline\": \"x\", \"chapters\": [{\"title\": \"A\", \"beats\": [\"b\"]}, {\"title\": \"B";
        assert_eq!(json_text(cut), cut);
        let fenced_cut = format!("Here:\n```json\n{cut}\n```");
        assert_eq!(json_text(&fenced_cut), cut);
        assert_eq!(json_text("{\"a\": 1}\nThat is all."), "{\"a\": 1}");
    }

    #[test]
    fn no_json_leaves_the_reply_for_the_error() {
        assert_eq!(json_text("  no json here {oops "), "no json here {oops");
        assert_eq!(json_text("पाठ {अधूरा"), "पाठ {अधूरा");
        assert_eq!(json_text(""), "");
    }
}
