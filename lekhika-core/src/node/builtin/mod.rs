//! Built-in node kinds, each configured only by data.

pub mod approval;
pub mod bible;
pub mod compile;
pub mod continuity;
pub(crate) mod craft;
pub mod image;
pub mod input;
pub(crate) mod json_reply;
pub mod map;
pub mod phrase_check;
pub mod speech;
pub mod template;
pub mod text;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Registry, VarUse};
use crate::flow::NodeSpec;
use crate::template::Template;

pub(crate) fn register_all(r: &mut Registry) {
    r.register("input", |s, _| {
        input::InputNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("text", |s, _| {
        text::TextNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("map", |s, r| {
        map::MapNode::build(s, r).map(|n| Box::new(n) as _)
    });
    r.register("compile", |s, _| {
        compile::CompileNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("template", |s, _| {
        template::TemplateNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("approval", |s, _| {
        approval::ApprovalNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("bible", |s, _| {
        bible::BibleNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("continuity", |s, r| {
        continuity::ContinuityNode::build(s, r).map(|n| Box::new(n) as _)
    });
    r.register("phrase_check", |s, r| {
        phrase_check::PhraseCheckNode::build(s, r).map(|n| Box::new(n) as _)
    });
    r.register("image", |s, _| {
        image::ImageNode::build(s).map(|n| Box::new(n) as _)
    });
    r.register("speech", |s, _| {
        speech::SpeechNode::build(s).map(|n| Box::new(n) as _)
    });
}

/// Deserialize a node's config into its typed form; errors name the field.
/// Keys the kind does not know (an editor's or a host's own, or a typo) are
/// ignored and reported as warnings (see [`crate::node::registry::Warnings`]).
pub fn parse_config<T: DeserializeOwned>(spec: &NodeSpec) -> Result<T, Vec<String>> {
    let mut ignored = Vec::new();
    let parsed = serde_ignored::deserialize(Value::Object(spec.config.clone()), |path| {
        ignored.push(path.to_string())
    })
    .map_err(|e| vec![format!("config: {e}")])?;
    for key in ignored {
        crate::node::registry::Warnings::ignored(&spec.kind, &key);
    }
    Ok(parsed)
}

/// Parse a template config field.
pub(crate) fn template(field: &str, src: &str) -> Result<Template, String> {
    Template::parse(src).map_err(|e| format!("`{field}`: {e}"))
}

pub(crate) fn uses(t: &Template, in_item: bool, out: &mut Vec<VarUse>) {
    out.extend(t.variables().map(|p| VarUse {
        path: p.to_vec(),
        in_item,
    }));
}
