//! One piece of a narration: one speech call through the node context
//! (journaled: a resumed run replays the recorded audio), run by the
//! `speech` node as nested work, its text in `item.input`. The reply must
//! be audio of the format asked for.

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::audio::{self, AudioFormat};
use crate::node::{Node, NodeContext, NodeError, NodeOutput};
use crate::provider::SpeechRequest;

/// The voice every piece of one narration is read in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Voice {
    pub provider: String,
    pub model: String,
    pub voice: String,
    pub format: AudioFormat,
    pub instructions: Option<String>,
    pub speed: Option<f32>,
}

impl Voice {
    /// The speech request for `input`.
    pub fn request(&self, input: &str) -> SpeechRequest {
        SpeechRequest {
            provider: self.provider.clone(),
            model: self.model.clone(),
            input: input.to_string(),
            voice: self.voice.clone(),
            format: Some(self.format.as_str().to_string()),
            instructions: self.instructions.clone(),
            speed: self.speed,
        }
    }
}

pub(crate) struct PieceNode {
    pub voice: Voice,
}

#[async_trait]
impl Node for PieceNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let input = ctx
            .item()
            .and_then(|i| i.item.get("input"))
            .and_then(Value::as_str)
            .ok_or_else(|| NodeError::failed("a narration piece has no text"))?;
        let v = &self.voice;
        let reply = ctx.synthesize_speech(&v.request(input)).await?;
        let seconds = audio::duration_seconds(v.format, &reply.bytes).map_err(|e| {
            let got = AudioFormat::sniff(&reply.bytes)
                .map_or_else(|| reply.mime.clone(), |f| f.to_string());
            NodeError::failed(format!(
                "`{}` answered a speech call with {} bytes of {got}, not {} audio ({e})",
                v.provider,
                reply.bytes.len(),
                v.format
            ))
        })?;
        Ok(NodeOutput {
            metrics: json!({"seconds": seconds, "bytes": reply.bytes.len()}),
            output: json!({
                "mime": v.format.mime(),
                "base64": base64::engine::general_purpose::STANDARD.encode(&reply.bytes),
            }),
        })
    }
}

/// The audio bytes of a piece's output.
pub(crate) fn audio_of(output: &Value) -> Result<Vec<u8>, NodeError> {
    output
        .get("base64")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or_else(|| NodeError::failed("a narration piece came back without its audio"))
}
