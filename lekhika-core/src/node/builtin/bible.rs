//! `bible`: the story bible (codex). Entries — characters, places, items,
//! lore — each with a `name`, optional `aliases` and an `always` flag, come
//! from the architect's plan; change records from the chapters (e.g. a
//! `state` step) update them. Given the outline's chapters, it attaches to
//! each chapter the always-on entries plus only the entries that chapter
//! mentions by name or alias, so a writer's prompt stays the same size
//! however large the book grows.
//!
//! Output: `{entries, text, always, chapters}` where `chapters` is the
//! outline with the field `inject_key` (default `bible`) added to each
//! chapter, ready for a `map` to iterate.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::craft::{as_list, fill, show};
use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{EstimateScope, Node, NodeContext, NodeError, NodeOutput, VarUse};
use crate::template::Template;

#[derive(Deserialize)]
struct Config {
    /// Single-variable template giving the entries list.
    entries: String,
    /// Optional single-variable template giving change records (one per chapter).
    #[serde(default)]
    updates: Option<String>,
    /// Key of the entry updates in each change record.
    #[serde(default)]
    updates_key: Option<String>,
    /// Optional single-variable template giving the outline's chapters.
    #[serde(default)]
    chapters: Option<String>,
    /// Chapter fields searched for mentions (default: every string in the chapter).
    #[serde(default)]
    match_fields: Vec<String>,
    /// How one entry is written; `{field}` placeholders name entry fields
    /// (lists are joined with ", ").
    entry_format: String,
    /// Field added to each chapter.
    #[serde(default)]
    inject_key: Option<String>,
    /// Text for a chapter that mentions no entries and has none always on.
    #[serde(default)]
    empty_text: Option<String>,
}

pub struct BibleNode {
    entries: Template,
    updates: Option<Template>,
    updates_key: String,
    chapters: Option<Template>,
    match_fields: Vec<String>,
    entry_format: String,
    placeholders: Vec<String>,
    inject_key: String,
    empty_text: String,
}

/// `{name}`-style placeholders of a format string.
fn placeholders(format: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = format;
    while let Some(a) = rest.find('{') {
        rest = &rest[a + 1..];
        if let Some(b) = rest.find('}') {
            let key = &rest[..b];
            if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.push(key.to_string());
                rest = &rest[b + 1..];
            }
        }
    }
    out
}

impl BibleNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        let mut t =
            |field: &str, src: &str| template(field, src).map_err(|e| problems.push(e)).ok();
        let entries = t("entries", &c.entries);
        let updates = c.updates.as_deref().map(|s| t("updates", s));
        let chapters = c.chapters.as_deref().map(|s| t("chapters", s));
        match (entries, updates.flatten(), chapters.flatten()) {
            (Some(entries), updates, chapters)
                if problems.is_empty()
                    && c.updates.is_some() == updates.is_some()
                    && c.chapters.is_some() == chapters.is_some() =>
            {
                Ok(Self {
                    entries,
                    updates,
                    updates_key: c.updates_key.unwrap_or_else(|| "bible_updates".into()),
                    chapters,
                    match_fields: c.match_fields,
                    placeholders: placeholders(&c.entry_format),
                    entry_format: c.entry_format,
                    inject_key: c.inject_key.unwrap_or_else(|| "bible".into()),
                    empty_text: c.empty_text.unwrap_or_default(),
                })
            }
            _ => Err(problems),
        }
    }
}

/// Names an entry answers to, lowercased: its name and aliases.
fn names(e: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = e.get("name").and_then(Value::as_str) {
        out.push(n.to_lowercase());
    }
    if let Some(Value::Array(a)) = e.get("aliases") {
        out.extend(a.iter().filter_map(Value::as_str).map(str::to_lowercase));
    }
    out.retain(|n| !n.trim().is_empty());
    out
}

fn is_always(e: &Value) -> bool {
    matches!(e.get("always"), Some(Value::Bool(true)))
}

/// Does `hay` (lowercased) contain `needle` as a whole word or phrase?
pub(crate) fn mentions(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back();
        let after = hay[end..].chars().next();
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Merge change records into entries: an update naming an existing entry
/// (by name or alias) adds aliases and overwrites the other fields it
/// gives; an unknown name becomes a new entry.
fn merge(entries: &mut Vec<Value>, updates: &[Value]) {
    for u in updates {
        let Some(uname) = u.get("name").and_then(Value::as_str) else {
            continue;
        };
        let key = uname.to_lowercase();
        let found = entries.iter_mut().find(|e| names(e).contains(&key));
        match found {
            Some(Value::Object(e)) => {
                for (k, v) in u.as_object().into_iter().flatten() {
                    match (k.as_str(), v) {
                        ("name", _) => {}
                        ("aliases", Value::Array(new)) => {
                            let list = e.entry("aliases").or_insert_with(|| json!([]));
                            if let Value::Array(old) = list {
                                for a in new {
                                    if !old.contains(a) {
                                        old.push(a.clone());
                                    }
                                }
                            }
                        }
                        _ => {
                            e.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            _ => entries.push(u.clone()),
        }
    }
}

impl BibleNode {
    fn render(&self, e: &Value) -> String {
        let vars: Vec<(&str, String)> = self
            .placeholders
            .iter()
            .map(|k| {
                let s = match e.get(k) {
                    Some(Value::Array(a)) => a.iter().map(show).collect::<Vec<_>>().join(", "),
                    Some(other) => show(other),
                    None => String::new(),
                };
                (k.as_str(), s)
            })
            .collect();
        fill(&self.entry_format, &vars)
    }

    fn text_of(&self, entries: &[&Value]) -> String {
        entries
            .iter()
            .map(|e| self.render(e))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[async_trait]
impl Node for BibleNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let mut entries = as_list(ctx.render_value(&self.entries)?, "entries")?;
        let mut updated = 0;
        if let Some(u) = &self.updates {
            for record in as_list(ctx.render_value(u)?, "updates")? {
                if let Some(Value::Array(list)) = record.get(&self.updates_key) {
                    updated += list.len();
                    merge(&mut entries, list);
                }
            }
        }
        let always: Vec<&Value> = entries.iter().filter(|e| is_always(e)).collect();
        let mut out = Map::new();
        let mut per_chapter = Vec::new();
        if let Some(t) = &self.chapters {
            let chapters = as_list(ctx.render_value(t)?, "chapters")?;
            let mut list = Vec::with_capacity(chapters.len());
            for ch in chapters {
                let mut hay = String::new();
                match (&ch, self.match_fields.is_empty()) {
                    (Value::Object(m), false) => {
                        for f in &self.match_fields {
                            if let Some(v) = m.get(f) {
                                strings(v, &mut hay);
                            }
                        }
                    }
                    _ => strings(&ch, &mut hay),
                }
                let hay = hay.to_lowercase();
                let picked: Vec<&Value> = entries
                    .iter()
                    .filter(|e| is_always(e) || names(e).iter().any(|n| mentions(&hay, n)))
                    .collect();
                per_chapter.push(picked.len());
                let text = if picked.is_empty() {
                    self.empty_text.clone()
                } else {
                    self.text_of(&picked)
                };
                let ch = match ch {
                    Value::Object(mut m) => {
                        m.insert(self.inject_key.clone(), Value::String(text));
                        Value::Object(m)
                    }
                    other => json!({"entry": other, (self.inject_key.clone()): text}),
                };
                list.push(ch);
            }
            out.insert("chapters".into(), Value::Array(list));
        }
        out.insert("always".into(), Value::String(self.text_of(&always)));
        let all: Vec<&Value> = entries.iter().collect();
        out.insert("text".into(), Value::String(self.text_of(&all)));
        let metrics = json!({
            "entries": entries.len(),
            "always_on": always.len(),
            "updates": updated,
            "entries_per_chapter": per_chapter,
        });
        out.insert("entries".into(), Value::Array(entries));
        Ok(NodeOutput {
            output: Value::Object(out),
            metrics,
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        for t in std::iter::once(&self.entries)
            .chain(self.updates.iter())
            .chain(self.chapters.iter())
        {
            uses(t, false, &mut v);
        }
        v
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> crate::node::TokenSpan {
        // Entries appear in the full text and in chapters: about the
        // inputs' size, at most twice it.
        let inputs = std::iter::once(&self.entries)
            .chain(self.updates.iter())
            .chain(self.chapters.iter())
            .flat_map(|t| t.variables())
            .map(|p| scope.var_tokens(p))
            .fold(crate::node::TokenSpan::ZERO, crate::node::TokenSpan::plus);
        crate::node::TokenSpan::new(inputs.expected, inputs.worst.saturating_mul(2))
    }

    fn output_items(&self, scope: &dyn EstimateScope) -> Option<u64> {
        self.chapters
            .as_ref()
            .and_then(|t| t.variables().find_map(|p| scope.items(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("maria went to lisbon.", "lisbon"));
        assert!(mentions("the old captain", "old captain"));
        assert!(!mentions("annabel sings", "anna"));
        assert!(mentions("anna, annabel", "anna"));
    }

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("- {name} ({aliases}): {description} {not a key}"),
            vec!["name", "aliases", "description"]
        );
    }

    #[test]
    fn merges_updates_by_alias() {
        let mut e = vec![json!({"name": "Maria", "aliases": ["the heroine"], "location": "Porto"})];
        merge(
            &mut e,
            &[
                json!({"name": "the heroine", "location": "Lisbon", "aliases": ["Mia"]}),
                json!({"name": "Tomas", "description": "a sailor"}),
            ],
        );
        assert_eq!(e[0]["location"], "Lisbon");
        assert_eq!(e[0]["aliases"], json!(["the heroine", "Mia"]));
        assert_eq!(e[1]["name"], "Tomas");
    }
}
