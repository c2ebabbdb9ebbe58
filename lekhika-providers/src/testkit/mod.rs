//! Loopback HTTP/1.1 servers that speak OpenAI, Anthropic or Gemini byte
//! for byte, for tests of this crate and of crates that use it (feature
//! `testkit`). Every request is recorded; a handler scripts each reply.
//!
//! ```text
//! let server = ScriptedServer::openai(|body| Reply::text(format!("echo {}", body["model"])));
//! let set = ProviderSet::new().with(server.config("openai"))?;
//! // ... run; then inspect server.requests()
//! ```
//! Servers must be started inside a Tokio runtime; they stop when dropped.

mod refuse;
mod reply;
mod speech;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use refuse::LLAMA_CPP_PYTHON_JSON_SCHEMA_500;
pub use reply::{Reply, Stop};
pub use speech::{
    speech_audio, speech_seconds, SPEECH_MAX_CHARS, SPEECH_MS_PER_WORD, SPEECH_SAMPLE_RATE,
};

use crate::config::{ProviderConfig, ProviderKind};
use crate::http::RetryPolicy;

/// Which protocol a scripted text reply is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    OpenAi,
    Anthropic,
    Gemini,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Null` when it is not JSON, e.g. multipart).
    pub body: Value,
    pub raw_body: Vec<u8>,
    /// When the request had arrived in full.
    pub received_at: std::time::Instant,
    /// When its reply was sent in full (`None`: not yet, cut on purpose, or
    /// the client went away first). Filled in by [`ScriptedServer::requests`].
    pub replied_at: Option<std::time::Instant>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A streamed call: `"stream": true` or Gemini's `:streamGenerateContent`.
    pub fn is_stream(&self) -> bool {
        self.body.get("stream") == Some(&Value::Bool(true))
            || self.path.contains(":streamGenerateContent")
    }

    /// The model asked for (body `model`, or Gemini's `/models/{model}:` path).
    pub fn model(&self) -> String {
        if let Some(m) = self.body.get("model").and_then(Value::as_str) {
            return m.to_string();
        }
        self.path
            .split("/models/")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .unwrap_or("test-model")
            .to_string()
    }

    /// Every text of the prompt (system and messages, any protocol), joined by newlines.
    pub fn prompt_text(&self) -> String {
        let mut out = Vec::new();
        collect_text(&self.body, &mut out);
        out.join("\n")
    }
}

fn collect_text(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("content" | "text" | "system" | "prompt", Value::String(s)) => {
                        out.push(s.clone())
                    }
                    ("model" | "role", _) => {}
                    _ => collect_text(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_text(x, out)),
        _ => {}
    }
}

type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

/// A scripted loopback server; stops when dropped.
pub struct ScriptedServer {
    addr: SocketAddr,
    protocol: Protocol,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    /// Reply completion times, by request number.
    replied: Arc<Mutex<Vec<Option<std::time::Instant>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Start a server; call inside a Tokio runtime.
    pub fn start(
        protocol: Protocol,
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = std_listener.local_addr().expect("listener address");
        let listener = TcpListener::from_std(std_listener).expect("a Tokio runtime is running");
        let requests: Arc<Mutex<Vec<RecordedRequest>>> = Arc::default();
        let replied: Arc<Mutex<Vec<Option<std::time::Instant>>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (recorded, done) = (requests.clone(), replied.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (handler, recorded, done) = (handler.clone(), recorded.clone(), done.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, protocol, &*handler, &recorded, &done).await;
                });
            }
        });
        Self {
            addr,
            protocol,
            requests,
            replied,
            task,
        }
    }

    /// An OpenAI-compatible server; the handler sees the JSON body.
    pub fn openai(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(Protocol::OpenAi, move |r| handler(&r.body))
    }

    pub fn anthropic(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(Protocol::Anthropic, move |r| handler(&r.body))
    }

    pub fn gemini(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(Protocol::Gemini, move |r| handler(&r.body))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client is configured with (`/v1` for OpenAI, `/v1beta` for Gemini).
    pub fn url(&self) -> String {
        let root = format!("http://{}", self.addr);
        match self.protocol {
            Protocol::OpenAi => format!("{root}/v1"),
            Protocol::Anthropic => root,
            Protocol::Gemini => format!("{root}/v1beta"),
        }
    }

    /// A provider configuration pointing here, with key `test-key` and fast retries.
    pub fn config(&self, name: &str) -> ProviderConfig {
        let kind = match self.protocol {
            Protocol::OpenAi => ProviderKind::OpenAi,
            Protocol::Anthropic => ProviderKind::Anthropic,
            Protocol::Gemini => ProviderKind::Gemini,
        };
        ProviderConfig::new(name, kind, "test-key")
            .with_base_url(self.url())
            .with_retry(RetryPolicy::new(
                3,
                Duration::from_millis(5),
                Duration::from_millis(20),
            ))
    }

    /// Environment variables that make `ProviderSet::from_env` (e.g. a CLI
    /// under test) use this server as provider `name`: `{NAME}_BASE_URL` and
    /// `{NAME}_API_KEY=test-key`.
    pub fn env(&self, name: &str) -> Vec<(String, String)> {
        let prefix: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        vec![
            (format!("{prefix}_BASE_URL"), self.url()),
            (format!("{prefix}_API_KEY"), "test-key".to_string()),
        ]
    }

    /// Every request received so far, with when its reply was sent in full.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let mut reqs = self.requests.lock().map(|r| r.clone()).unwrap_or_default();
        if let Ok(done) = self.replied.lock() {
            for (r, d) in reqs.iter_mut().zip(done.iter()) {
                r.replied_at = *d;
            }
        }
        reqs
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }
}

async fn serve(
    mut sock: TcpStream,
    protocol: Protocol,
    handler: &Handler,
    recorded: &Mutex<Vec<RecordedRequest>>,
    replied: &Mutex<Vec<Option<std::time::Instant>>>,
) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let Some(req) = read_request(&mut sock).await? else {
        return Ok(());
    };
    // One lock order (requests, then replies) keeps both lists aligned.
    let number = match (recorded.lock(), replied.lock()) {
        (Ok(mut r), Ok(mut d)) => {
            r.push(req.clone());
            d.push(None);
            Some(r.len() - 1)
        }
        _ => None,
    };
    let full = answer(sock, protocol, handler, &req).await?;
    if let (true, Some(n), Ok(mut d)) = (full, number, replied.lock()) {
        if let Some(slot) = d.get_mut(n) {
            *slot = Some(std::time::Instant::now());
        }
    }
    Ok(())
}

/// Write the scripted reply; `Ok(true)` when it was sent in full.
async fn answer(
    mut sock: TcpStream,
    protocol: Protocol,
    handler: &Handler,
    req: &RecordedRequest,
) -> std::io::Result<bool> {
    let req = req.clone();
    let reply = handler(&req);
    tokio::time::sleep(reply.delay_before()).await;
    let (status, content_type, body) = reply.render(protocol, &req);
    let (split, pause, cut) = reply.pacing();
    let chunked = split.is_some() || cut.is_some() || content_type.starts_with("text/event-stream");
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n",
        reason(status)
    );
    for (k, v) in reply.extra_headers() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n");
    } else {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await?;
    if !chunked {
        sock.write_all(&body).await?;
        sock.flush().await?;
        return Ok(true);
    }
    let limit = cut.unwrap_or(usize::MAX).min(body.len());
    let step = split.unwrap_or(13);
    let mut sent = 0;
    while sent < limit {
        let end = (sent + step).min(limit);
        let piece = &body[sent..end];
        sock.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await?;
        sock.write_all(piece).await?;
        sock.write_all(b"\r\n").await?;
        sock.flush().await?;
        sent = end;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    if cut.is_none() {
        sock.write_all(b"0\r\n\r\n").await?;
    }
    sock.flush().await?;
    sock.shutdown().await?;
    Ok(cut.is_none())
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<RecordedRequest>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw_body: body,
        received_at: std::time::Instant::now(),
        replied_at: None,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
