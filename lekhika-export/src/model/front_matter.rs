//! YAML front matter of a Markdown manuscript: the small part of YAML that front matter uses
//! (`key: value` with plain, 'single' or "double" quoted scalars, `|` / `>` block scalars,
//! and lists of scalars, `- item` or `[a, b]`). Anything else is an error naming its line.

use crate::error::ExportError;

/// A front matter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontValue {
    /// One scalar.
    Text(String),
    /// A list of scalars (e.g. several authors).
    List(Vec<String>),
}

impl FrontValue {
    /// The value as one string (list items joined with ", ").
    pub fn joined(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::List(items) => items.join(", "),
        }
    }
}

/// Front matter keys and values, in the order written.
pub type FrontMatterKeys = Vec<(String, FrontValue)>;

/// Splits `---` front matter off a manuscript: `(keys and values in order, body)`. Without
/// front matter the whole text is the body.
///
/// # Errors
/// [`ExportError::InvalidBook`] when the front matter is not closed or a line is not YAML this
/// reader understands.
pub fn split_front_matter(text: &str) -> Result<(FrontMatterKeys, &str), ExportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok((Vec::new(), text));
    };
    let mut offset = 0;
    let mut end = None;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let (yaml_end, body_start) = end.ok_or_else(|| {
        ExportError::InvalidBook("front matter opened with `---` is never closed".into())
    })?;
    Ok((parse(&rest[..yaml_end])?, &rest[body_start..]))
}

fn bad(line_no: usize, what: &str) -> ExportError {
    ExportError::InvalidBook(format!("front matter line {}: {what}", line_no + 2))
}

fn parse(yaml: &str) -> Result<FrontMatterKeys, ExportError> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(bad(i, "unexpected indentation"));
        }
        let (key, value) = trimmed
            .split_once(':')
            .ok_or_else(|| bad(i, "expected `key: value`"))?;
        let key = key.trim().to_string();
        let value = value.trim();
        i += 1;
        let parsed = if value.is_empty() {
            // A list of `- item` lines, or nothing.
            let mut items = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with("- ") {
                items.push(scalar(lines[i].trim_start()[2..].trim(), i)?);
                i += 1;
            }
            if items.is_empty() {
                continue;
            }
            FrontValue::List(items)
        } else if value == "|" || value == ">" || value.starts_with("|-") || value.starts_with(">-")
        {
            let mut block = Vec::new();
            while i < lines.len() && (lines[i].starts_with([' ', '\t']) || lines[i].is_empty()) {
                block.push(lines[i].trim());
                i += 1;
            }
            let sep = if value.starts_with('|') { "\n" } else { " " };
            FrontValue::Text(block.join(sep).trim().to_string())
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            let items = inner
                .split(',')
                .map(|s| scalar(s.trim(), i - 1))
                .filter(|s| !matches!(s, Ok(s) if s.is_empty()))
                .collect::<Result<Vec<_>, _>>()?;
            FrontValue::List(items)
        } else {
            FrontValue::Text(scalar(value, i - 1)?)
        };
        out.push((key, parsed));
    }
    Ok(out)
}

/// One scalar: double-quoted (with `\"`, `\\`, `\n`, `\t`, `\uXXXX` escapes), single-quoted
/// (`''` is a quote) or plain (a ` #` comment ends it).
fn scalar(v: &str, line_no: usize) -> Result<String, ExportError> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| bad(line_no, "unclosed double quote"))?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| bad(line_no, "bad \\u escape"))?;
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => return Err(bad(line_no, "dangling backslash")),
            }
        }
        Ok(out)
    } else if let Some(inner) = v.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or_else(|| bad(line_no, "unclosed single quote"))?;
        Ok(inner.replace("''", "'"))
    } else {
        let plain = v.split(" #").next().unwrap_or("").trim();
        Ok(plain.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_front_matter_subset() {
        let text = "---\ntitle: \"The \\\"Long\\\" Road\"\nauthor:\n  - A. One\n  - 'B. O''Two'\nlang: hi # Hindi\ntags: [a, b]\ndedication: |\n  For you.\n  And you.\n---\n# One\n";
        let (keys, body) = split_front_matter(text).unwrap();
        assert_eq!(body, "# One\n");
        assert_eq!(
            keys[0],
            ("title".into(), FrontValue::Text("The \"Long\" Road".into()))
        );
        assert_eq!(keys[1].1.joined(), "A. One, B. O'Two");
        assert_eq!(keys[2].1, FrontValue::Text("hi".into()));
        assert_eq!(keys[3].1, FrontValue::List(vec!["a".into(), "b".into()]));
        assert_eq!(keys[4].1, FrontValue::Text("For you.\nAnd you.".into()));
        assert!(split_front_matter("---\ntitle: x\n").is_err());
        assert!(split_front_matter("---\n  bad\n---\n").is_err());
        assert_eq!(
            split_front_matter("# No front\n").unwrap().1,
            "# No front\n"
        );
    }
}
