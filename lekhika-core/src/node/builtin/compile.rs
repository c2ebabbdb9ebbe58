//! `compile`: assemble chapter texts into the book document every export
//! format renders from: `{title, subtitle, author, language, ...,
//! chapters: [{title, content}], word_count, character_count}`.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{EstimateScope, Node, NodeContext, NodeError, NodeOutput, VarUse};
use crate::template::Template;

const META: &[&str] = &[
    "title",
    "subtitle",
    "author",
    "language",
    "description",
    "publisher",
    "isbn",
    "date",
    "dedication",
    "about_author",
];

#[derive(Deserialize)]
struct Config {
    /// Single-variable template giving the chapters (a map's output).
    chapters: String,
    /// Optional single-variable template giving chapter titles (e.g. the outline's chapters).
    #[serde(default)]
    titles: Option<String>,
    /// Key of the title in each `titles` entry.
    #[serde(default)]
    title_key: Option<String>,
    /// Optional cover image (an image node's output).
    #[serde(default)]
    cover: Option<String>,
    #[serde(flatten)]
    meta: Map<String, Value>,
}

pub struct CompileNode {
    chapters: Template,
    titles: Option<Template>,
    title_key: String,
    cover: Option<Template>,
    meta: Vec<(String, Template)>,
}

impl CompileNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        let mut meta = Vec::new();
        for (k, v) in c.meta {
            if !META.contains(&k.as_str()) {
                crate::node::registry::Warnings::ignored(&spec.kind, &k);
                continue;
            }
            match v.as_str().map(|s| template(&k, s)) {
                Some(Ok(t)) => meta.push((k, t)),
                Some(Err(e)) => problems.push(e),
                None => problems.push(format!("`{k}` must be a string template")),
            }
        }
        let chapters = template("chapters", &c.chapters);
        let titles = c
            .titles
            .as_deref()
            .map(|t| template("titles", t))
            .transpose();
        let cover = c.cover.as_deref().map(|t| template("cover", t)).transpose();
        match (chapters, titles, cover) {
            (Ok(chapters), Ok(titles), Ok(cover)) if problems.is_empty() => Ok(Self {
                chapters,
                titles,
                title_key: c.title_key.unwrap_or_else(|| "title".into()),
                cover,
                meta,
            }),
            (a, b, d) => {
                problems.extend(a.err());
                problems.extend(b.err());
                problems.extend(d.err());
                Err(problems)
            }
        }
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => ["content", "text", "markdown", "chapter"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string)),
        _ => None,
    }
}

#[async_trait]
impl Node for CompileNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let chapters = match ctx.render_value(&self.chapters)? {
            Value::Array(a) => a,
            other => vec![other],
        };
        let titles = match self
            .titles
            .as_ref()
            .map(|t| ctx.render_value(t))
            .transpose()?
        {
            Some(Value::Array(a)) => a,
            Some(Value::Object(mut m)) => match m.remove("chapters") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut out = Map::new();
        for (k, t) in &self.meta {
            let v = ctx.render(t)?;
            if !v.trim().is_empty() {
                out.insert(k.clone(), Value::String(v));
            }
        }
        let mut list = Vec::with_capacity(chapters.len());
        let (mut words, mut chars) = (0u64, 0u64);
        for (i, ch) in chapters.iter().enumerate() {
            let content = text_of(ch).ok_or_else(|| {
                NodeError::InvalidOutput(format!(
                    "chapter {} has no text (got {})",
                    i + 1,
                    crate::util::json_kind(ch)
                ))
            })?;
            let title = ch
                .get("title")
                .and_then(Value::as_str)
                .or_else(|| {
                    titles
                        .get(i)
                        .and_then(|t| t.get(&self.title_key).or(Some(t)))
                        .and_then(Value::as_str)
                })
                .map_or_else(|| format!("Chapter {}", i + 1), str::to_string);
            words += crate::text::word_count(&content);
            chars += content.chars().count() as u64;
            list.push(json!({"title": title, "content": content}));
        }
        if let Some(c) = &self.cover {
            let v = ctx.render_value(c)?;
            if !v.is_null() {
                out.insert("cover".into(), v);
            }
        }
        out.insert("chapters".into(), Value::Array(list));
        out.insert("word_count".into(), words.into());
        out.insert("character_count".into(), chars.into());
        Ok(NodeOutput {
            output: Value::Object(out),
            metrics: json!({"chapters": chapters.len(), "words": words, "characters": chars}),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.chapters, false, &mut v);
        for t in self
            .titles
            .iter()
            .chain(self.cover.iter())
            .chain(self.meta.iter().map(|(_, t)| t))
        {
            uses(t, false, &mut v);
        }
        v
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> crate::node::TokenSpan {
        self.chapters.variables().map(|p| scope.var_tokens(p)).fold(
            crate::node::TokenSpan::exact(1024),
            crate::node::TokenSpan::plus,
        )
    }
}
