//! A Server-Sent Events decoder that is fed raw network reads.
//!
//! It buffers bytes until a whole line is present, so events split across
//! reads and multi-byte UTF-8 characters split across reads decode the same
//! as if they had arrived in one piece. Lines may end in `\n`, `\r\n` or a
//! lone `\r`; `:` comment lines, unknown fields and a leading BOM are ignored;
//! several `data:` lines of one event are joined with `\n`. It never panics:
//! invalid UTF-8 is replaced, not rejected.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` name, if the server sent one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
}

/// Incremental decoder; feed it with [`SseDecoder::push`] and call
/// [`SseDecoder::finish`] at end of stream.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next chunk belongs to it.
    skip_lf: bool,
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode the bytes of one network read; returns the events completed by it.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.skip_lf {
                self.skip_lf = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.end_line(&mut out);
                    self.skip_lf = true;
                }
                _ => self.buf.push(b),
            }
        }
        out
    }

    /// End of stream: a last line without terminator and a last event without
    /// its blank line are still delivered (some servers omit them).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            self.end_line(&mut out);
        }
        self.dispatch(&mut out);
        self.skip_lf = false;
        out
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.buf);
        let mut line: &[u8] = &raw;
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.first() == Some(&b':') {
            return; // comment
        }
        let (field, value) = match line.iter().position(|&c| c == b':') {
            Some(i) => {
                let (f, v) = line.split_at(i);
                let v = &v[1..];
                (f, v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            _ => {} // `retry` and unknown fields
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode_all(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for p in parts {
            out.extend(d.push(p));
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn named_events_comments_and_multiline_data() {
        let ev =
            decode_all(&[b": keep-alive\r\nevent: ping\r\ndata: a\r\ndata: b\r\n\r\ndata:c\n\n"]);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.as_deref(), Some("ping"));
        assert_eq!(ev[0].data, "a\nb");
        assert_eq!(ev[1].event, None);
        assert_eq!(ev[1].data, "c");
    }

    #[test]
    fn utf8_and_crlf_split_across_reads() {
        let whole = "data: héllo – 漢字\r\n\r\n".as_bytes();
        for i in 0..whole.len() {
            let (a, b) = whole.split_at(i);
            let ev = decode_all(&[a, b]);
            assert_eq!(ev.len(), 1, "split at {i}");
            assert_eq!(ev[0].data, "héllo – 漢字");
        }
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_name_resets() {
        let ev = decode_all(&[b"event: x\n\ndata: y\n\n"]);
        assert_eq!(
            ev,
            vec![SseEvent {
                event: None,
                data: "y".into(),
                id: None
            }]
        );
    }

    #[test]
    fn unterminated_last_event_is_delivered_at_finish() {
        let ev = decode_all(&[b"data: [DONE]"]);
        assert_eq!(ev[0].data, "[DONE]");
    }
}
