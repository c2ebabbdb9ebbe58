//! Live progress: JSON lines on stdout, or stage lines and bars on stderr.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use lekhika_core::exec::{Event, EventKind};

pub struct Progress {
    json: bool,
    tty: bool,
    maps: HashMap<String, (usize, usize)>,
    tokens: u64,
    cost: i64,
    bar_open: bool,
    /// Model replies replayed from the call journal (paid before).
    replayed: u64,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Progress {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            tty: std::io::stderr().is_terminal(),
            maps: HashMap::new(),
            tokens: 0,
            cost: 0,
            bar_open: false,
            replayed: 0,
        }
    }

    fn line(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.bar_open {
            let _ = writeln!(err);
            self.bar_open = false;
        }
        let _ = writeln!(err, "{text}");
    }

    fn bar(&mut self, node: &str) {
        let Some(&(done, total)) = self.maps.get(node) else {
            return;
        };
        let width = 24;
        let filled = (done * width)
            .checked_div(total)
            .unwrap_or(width)
            .min(width);
        let text = format!(
            "  {node:<14} [{}{}] {done}/{total}   tokens {}   cost {}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            thousands(self.tokens),
            self.cost
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r{text}");
            let _ = err.flush();
            self.bar_open = true;
        } else if done == total || done.is_multiple_of(5) {
            let _ = writeln!(err, "{text}");
        }
    }

    pub fn on_event(&mut self, e: &Event) {
        if self.json {
            if let Ok(s) = serde_json::to_string(e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{s}");
                let _ = out.flush();
            }
            return;
        }
        match &e.kind {
            EventKind::RunStarted { nodes, done, epoch } => {
                let what = if *epoch > 1 { "resuming" } else { "running" };
                self.line(&format!(
                    "{what} execution {} ({done} of {nodes} steps already done)",
                    e.execution_id
                ));
            }
            EventKind::MapStarted { node, items, done } => {
                self.maps.insert(node.clone(), (*done, *items));
                self.bar(node);
            }
            EventKind::NodeStarted {
                node,
                kind,
                item: None,
            } if kind != "map" && !self.tty => {
                self.line(&format!("  {node:<14} started"));
            }
            EventKind::NodeFinished {
                node,
                item,
                usage,
                cost,
                duration_ms,
                ..
            } => {
                self.tokens += usage.total();
                self.cost += cost;
                match item {
                    Some(_) => {
                        if let Some(m) = self.maps.get_mut(node) {
                            m.0 += 1;
                        }
                        self.bar(node);
                    }
                    None => self.line(&format!(
                        "  {node:<14} done in {:.1}s, {} tokens",
                        *duration_ms as f64 / 1000.0,
                        thousands(usage.total())
                    )),
                }
            }
            EventKind::NodeRetrying {
                node,
                item,
                delay_ms,
                error,
                ..
            } => {
                let at = item.map(|i| format!(" item {}", i + 1)).unwrap_or_default();
                self.line(&format!(
                    "  {node}{at}: {}; retrying in {} ms",
                    error.message, delay_ms
                ));
            }
            EventKind::CallRetrying {
                node,
                item,
                attempt,
                delay_ms,
                error,
            } => {
                let at = item.map(|i| format!(" item {}", i + 1)).unwrap_or_default();
                self.line(&format!(
                    "  {node}{at}: {}; asking again in {} ms (try {attempt})",
                    error.message, delay_ms
                ));
            }
            EventKind::CallReplayed { .. } => self.replayed += 1,
            EventKind::ProviderNotice {
                node,
                item,
                message,
                ..
            } => {
                let at = item.map(|i| format!(" item {}", i + 1)).unwrap_or_default();
                self.line(&format!("  {node}{at}: note: {message}"));
            }
            EventKind::NodeFailed { node, item, error } => {
                let at = item.map(|i| format!(" item {}", i + 1)).unwrap_or_default();
                self.line(&format!("  {node}{at} failed: {}", error.message));
            }
            EventKind::Progress { node, message, .. } => self.line(&format!("  {node}: {message}")),
            EventKind::RunFinished { usage, cost } => {
                let reused = match self.replayed {
                    0 => String::new(),
                    n => format!(" ({n} replies recorded before were reused, not asked again)"),
                };
                self.line(&format!(
                    "finished: {} tokens, cost {cost}{reused}",
                    thousands(usage.total())
                ));
            }
            EventKind::RunPaused { message, .. } => self.line(&format!("paused: {message}")),
            EventKind::RunStopped => self.line("stopped"),
            EventKind::RunFailed { error, .. } => self.line(&format!("failed: {}", error.message)),
            _ => {}
        }
    }
}
