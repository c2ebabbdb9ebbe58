//! Escaping helpers shared by the text formats.

/// Escapes text for HTML / XHTML element content and attribute values.
#[cfg_attr(
    not(any(feature = "html", feature = "epub", feature = "docx")),
    allow(dead_code)
)]
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters not allowed in XML 1.0 are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A URL safe to put in an `href`: http(s), mailto and fragment links only; anything else
/// (e.g. `javascript:`) yields `None`.
#[cfg_attr(
    not(any(feature = "html", feature = "epub", feature = "md", feature = "docx")),
    allow(dead_code)
)]
pub(crate) fn safe_url(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let ok = lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || lower.starts_with('#');
    ok.then_some(u)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            xml_escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url(" https://a.b/c "), Some("https://a.b/c"));
    }
}
