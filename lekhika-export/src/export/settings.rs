//! [`ExportOptions`] as JSON, the way flows (an `export` node's `options`)
//! and the bindings give them:
//!
//! ```json
//! {"trim": "5x8", "font_size_pt": 10.5, "margins_mm": {"inside": 20},
//!  "chapters_on_recto": false, "labels": {"contents": "Inhalt"}}
//! ```
//!
//! Every key is optional; what is missing keeps its default.

use serde::Deserialize;
use serde_json::Value;

use super::options::{ExportOptions, TrimSize};
use crate::format::LabelOverrides;
use crate::ExportError;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    trim: Option<Value>,
    font_size_pt: Option<f64>,
    margins_mm: Margins,
    chapters_on_recto: Option<bool>,
    labels: LabelOverrides,
}

/// An explicit trim size.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Size {
    width_mm: f64,
    height_mm: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Margins {
    top: Option<f64>,
    bottom: Option<f64>,
    inside: Option<f64>,
    outside: Option<f64>,
}

/// Trim names accepted in settings.
pub const TRIM_NAMES: &[&str] = &["6x9", "5x8", "5.5x8.5", "a5"];

fn named_trim(name: &str) -> Option<TrimSize> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "6x9" => TrimSize::TRADE_6X9,
        "5x8" => TrimSize::DIGEST_5X8,
        "5.5x8.5" => TrimSize::DIGEST_5_5X8_5,
        "a5" => TrimSize::A5,
        _ => return None,
    })
}

impl ExportOptions {
    /// Options from their JSON form (`null` = all defaults); checked with
    /// [`ExportOptions::validate`].
    ///
    /// # Errors
    /// [`ExportError::InvalidOptions`] naming the key that is wrong.
    pub fn from_json(value: &Value) -> Result<Self, ExportError> {
        match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(_) => {}
            _ => {
                return Err(ExportError::InvalidOptions(
                    "export options must be a JSON object".into(),
                ))
            }
        }
        let s: Settings = serde_json::from_value(value.clone())
            .map_err(|e| ExportError::InvalidOptions(e.to_string()))?;
        let mut o = Self::default();
        let bad_trim = |what: &str| {
            ExportError::InvalidOptions(format!(
                "{what} (use one of {}, or {{\"width_mm\": .., \"height_mm\": ..}})",
                TRIM_NAMES.join(", ")
            ))
        };
        match s.trim {
            None => {}
            Some(Value::String(n)) => {
                o.trim = named_trim(&n).ok_or_else(|| bad_trim(&format!("unknown trim `{n}`")))?;
            }
            Some(v @ Value::Object(_)) => {
                let size: Size =
                    serde_json::from_value(v).map_err(|e| bad_trim(&format!("`trim`: {e}")))?;
                o.trim = TrimSize {
                    width_mm: size.width_mm,
                    height_mm: size.height_mm,
                };
            }
            Some(_) => return Err(bad_trim("`trim` must be a name or a size")),
        }
        if let Some(v) = s.font_size_pt {
            o.font_size_pt = v;
        }
        let m = s.margins_mm;
        for (field, v) in [
            (&mut o.margin_top_mm, m.top),
            (&mut o.margin_bottom_mm, m.bottom),
            (&mut o.margin_inside_mm, m.inside),
            (&mut o.margin_outside_mm, m.outside),
        ] {
            if let Some(v) = v {
                *field = v;
            }
        }
        if let Some(r) = s.chapters_on_recto {
            o.chapters_on_recto = r;
        }
        o.labels = s.labels;
        o.validate()?;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_named_and_explicit_sizes() {
        assert_eq!(
            ExportOptions::from_json(&Value::Null).unwrap(),
            ExportOptions::default()
        );
        assert_eq!(
            ExportOptions::from_json(&json!({})).unwrap(),
            ExportOptions::default()
        );
        let o = ExportOptions::from_json(&json!({
            "trim": "5x8", "font_size_pt": 10.5, "margins_mm": {"inside": 20},
            "chapters_on_recto": false, "labels": {"contents": "Inhalt"}
        }))
        .unwrap();
        assert_eq!(o.trim, TrimSize::DIGEST_5X8);
        assert_eq!(o.font_size_pt, 10.5);
        assert_eq!(o.margin_inside_mm, 20.0);
        assert_eq!(o.margin_top_mm, ExportOptions::default().margin_top_mm);
        assert!(!o.chapters_on_recto);
        assert_eq!(o.labels.contents.as_deref(), Some("Inhalt"));
        let o = ExportOptions::from_json(&json!({"trim": {"width_mm": 170, "height_mm": 240}}))
            .unwrap();
        assert_eq!(o.trim.width_mm, 170.0);
    }

    #[test]
    fn mistakes_are_named() {
        for (v, needle) in [
            (json!({"trim": "letter"}), "unknown trim `letter`"),
            (json!({"font": 3}), "unknown field `font`"),
            (json!({"labels": {"toc": "x"}}), "unknown field `toc`"),
            (json!({"font_size_pt": 80}), "font size"),
            (json!({"margins_mm": {"inside": 100}}), "text area"),
            (json!([1]), "must be a JSON object"),
            (json!({"trim": 5}), "`trim` must be a name or a size"),
            (
                json!({"trim": {"width_mm": 100}}),
                "missing field `height_mm`",
            ),
        ] {
            let e = ExportOptions::from_json(&v).unwrap_err().to_string();
            assert!(e.contains(needle), "{v}: {e}");
        }
    }
}
