//! One writer's conversation with its model: the prompt, then follow-ups
//! (expand, tighten, revise) that send the previous text back with an
//! instruction. Every reply cut by the output limit is continued from where
//! it stopped, never kept truncated; an empty (or whitespace-only) reply is
//! invalid output, regenerated with feedback like any other.

use crate::node::builtin::text::TextNode;
use crate::node::{NodeContext, NodeError};
use crate::provider::{ChatMessage, FinishReason, Usage};

pub(crate) struct Session<'a> {
    pub ctx: &'a NodeContext,
    pub node: &'a TextNode,
    pub system: Option<String>,
    pub prompt: String,
    /// The reply's JSON schema as rendered for this run.
    pub schema: Option<serde_json::Value>,
    pub usage: Usage,
    pub continuations: u32,
    pub calls: u32,
}

impl<'a> Session<'a> {
    pub fn new(
        ctx: &'a NodeContext,
        node: &'a TextNode,
        system: Option<String>,
        prompt: String,
        schema: Option<serde_json::Value>,
    ) -> Self {
        Self {
            ctx,
            node,
            system,
            prompt,
            schema,
            usage: Usage::default(),
            continuations: 0,
            calls: 0,
        }
    }

    /// A whole reply to the prompt, or, with `follow`, to the prompt
    /// followed by `(previous text, instruction)`.
    pub async fn write(&mut self, follow: Option<(&str, &str)>) -> Result<String, NodeError> {
        let mut base = vec![ChatMessage::user(self.prompt.clone())];
        if let Some((previous, instruction)) = follow {
            base.push(ChatMessage::assistant(previous));
            base.push(ChatMessage::user(instruction));
        }
        let mut messages = base.clone();
        let mut text = String::new();
        let mut cut = 0u32;
        loop {
            let resp = self
                .ctx
                .generate_text(&self.node.request(
                    self.system.clone(),
                    messages.clone(),
                    self.schema.as_ref(),
                ))
                .await?;
            self.calls += 1;
            self.usage.add(resp.usage);
            text.push_str(&resp.text);
            match resp.finish {
                FinishReason::Length if !self.node.json && cut < self.node.max_continuations => {
                    cut += 1;
                    self.continuations += 1;
                    self.ctx.progress(format!(
                        "reply cut at the output limit; continuing ({cut})"
                    ));
                    messages = base.clone();
                    messages.push(ChatMessage::assistant(text.clone()));
                    messages.push(ChatMessage::user(self.node.continue_prompt.clone()));
                }
                FinishReason::Length => {
                    return Err(NodeError::InvalidOutput(format!(
                        "the reply was cut at the output limit of {} tokens {} times; shorten the answer",
                        self.node.max_tokens,
                        cut + 1
                    )))
                }
                FinishReason::ContentFilter => {
                    return Err(NodeError::failed(
                        "the provider blocked the reply (content filter)",
                    ))
                }
                _ if text.trim().is_empty() => {
                    // A finished reply with no text (a server that ended
                    // the stream early, a model that said nothing) is never
                    // a finished node: regenerate it with this feedback.
                    return Err(NodeError::InvalidOutput(
                        "the reply was empty; answer in full".into(),
                    ));
                }
                _ => return Ok(text),
            }
        }
    }
}
