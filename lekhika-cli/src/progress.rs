//! Live progress: JSON lines on stdout (`--json`), or on stderr a run's
//! stages as lines and, on a terminal, bars (indicatif) for the whole run
//! and for each map's items. Not on a terminal (a log file, CI), there are
//! no bars: stage lines, a map's progress every quarter, and a summary every
//! ten seconds — never a line per node of a long flow.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lekhika_core::exec::{Event, EventKind};

/// A flow this small gets a line for every finished step.
const SMALL_FLOW: usize = 40;
/// A step that took this long gets a line whatever it did.
const SLOW_STEP_MS: i64 = 1000;
/// Not on a terminal: a summary line at most this often.
const SUMMARY_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    json: bool,
    bars: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    maps: HashMap<String, MapProgress>,
    steps: (usize, usize),
    tokens: u64,
    cost: i64,
    /// Model replies replayed from the call journal (paid before).
    replayed: u64,
    /// Replies served from the user's earlier runs (`--reuse`).
    reused: u64,
    last_summary: Instant,
    summarized_at: usize,
}

struct MapProgress {
    done: usize,
    total: usize,
    bar: Option<ProgressBar>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress {
    pub fn new(json: bool) -> Self {
        let bars = (!json && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            json,
            bars,
            overall: None,
            maps: HashMap::new(),
            steps: (0, 0),
            tokens: 0,
            cost: 0,
            replayed: 0,
            reused: 0,
            last_summary: Instant::now(),
            summarized_at: 0,
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
            }
        }
    }

    fn totals(&self) -> String {
        format!("{} tokens, cost {}", HumanCount(self.tokens), self.cost)
    }

    fn start_overall(&mut self, total: usize, done: usize) {
        self.steps = (done, total);
        if let Some(m) = &self.bars {
            let bar = m.add(ProgressBar::new(total as u64));
            bar.set_style(style(
                "{spinner} steps {human_pos}/{human_len} [{bar:30}] {elapsed_precise}  {msg}",
            ));
            bar.set_position(done as u64);
            bar.enable_steady_tick(Duration::from_millis(200));
            self.overall = Some(bar);
        }
    }

    fn step_done(&mut self) {
        self.steps.0 += 1;
        let totals = self.totals();
        if let Some(bar) = &self.overall {
            bar.set_position(self.steps.0 as u64);
            bar.set_message(totals);
        } else if self.last_summary.elapsed() >= SUMMARY_EVERY && self.steps.0 > self.summarized_at
        {
            self.last_summary = Instant::now();
            self.summarized_at = self.steps.0;
            self.line(&format!(
                "  … {} of {} steps done, {totals}",
                HumanCount(self.steps.0 as u64),
                HumanCount(self.steps.1 as u64)
            ));
        }
    }

    fn map_started(&mut self, node: &str, items: usize, done: usize) {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(items as u64));
            bar.set_style(style("  {prefix:<14} [{bar:24}] {pos}/{len} items"));
            bar.set_prefix(node.to_string());
            bar.set_position(done as u64);
            bar
        });
        if bar.is_none() {
            self.line(&format!("  {node:<14} {done}/{items} items"));
        }
        self.maps.insert(
            node.to_string(),
            MapProgress {
                done,
                total: items,
                bar,
            },
        );
    }

    fn map_item_done(&mut self, node: &str) {
        let Some(m) = self.maps.get_mut(node) else {
            return;
        };
        let before = m.done;
        m.done += 1;
        let (done, total) = (m.done, m.total);
        match &m.bar {
            Some(bar) => bar.set_position(done as u64),
            None => {
                // Every quarter, and the last item.
                let quarter = |n: usize| (n * 4).checked_div(total).unwrap_or(4);
                if done == total || quarter(done) > quarter(before) {
                    let totals = self.totals();
                    self.line(&format!("  {node:<14} {done}/{total} items, {totals}"));
                }
            }
        }
    }

    fn finish_bars(&mut self) {
        for (_, m) in self.maps.drain() {
            if let Some(bar) = m.bar {
                bar.finish_and_clear();
            }
        }
        if let Some(bar) = self.overall.take() {
            bar.finish_and_clear();
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
        let at = |item: &Option<u32>| item.map(|i| format!(" item {}", i + 1)).unwrap_or_default();
        match &e.kind {
            EventKind::RunStarted { nodes, done, epoch } => {
                let what = if *epoch > 1 { "resuming" } else { "running" };
                self.line(&format!(
                    "{what} execution {} ({done} of {nodes} steps already done)",
                    e.execution_id
                ));
                self.start_overall(*nodes, *done);
            }
            EventKind::MapStarted { node, items, done } => self.map_started(node, *items, *done),
            EventKind::NodeFinished {
                node,
                item,
                usage,
                cost,
                duration_ms,
                ..
            } => {
                self.tokens = self.tokens.saturating_add(usage.total());
                self.cost = self.cost.saturating_add(*cost);
                if item.is_some() {
                    self.map_item_done(node);
                    return;
                }
                if let Some(m) = self.maps.remove(node) {
                    if let Some(bar) = m.bar {
                        bar.finish_and_clear();
                    }
                }
                let worth_a_line =
                    usage.total() > 0 || *duration_ms >= SLOW_STEP_MS || self.steps.1 <= SMALL_FLOW;
                if worth_a_line {
                    self.line(&format!(
                        "  {node:<14} done in {:.1}s, {} tokens",
                        *duration_ms as f64 / 1000.0,
                        HumanCount(usage.total())
                    ));
                }
                self.step_done();
            }
            EventKind::NodeRetrying {
                node,
                item,
                delay_ms,
                error,
                ..
            } => self.line(&format!(
                "  {node}{}: {}; retrying in {delay_ms} ms",
                at(item),
                error.message
            )),
            EventKind::CallRetrying {
                node,
                item,
                attempt,
                delay_ms,
                error,
            } => self.line(&format!(
                "  {node}{}: {}; asking again in {delay_ms} ms (try {attempt})",
                at(item),
                error.message
            )),
            EventKind::CallReplayed { .. } => self.replayed += 1,
            EventKind::CallReused { .. } => self.reused += 1,
            EventKind::ProviderNotice {
                node,
                item,
                message,
                ..
            } => self.line(&format!("  {node}{}: note: {message}", at(item))),
            EventKind::NodeFailed { node, item, error } => {
                self.line(&format!("  {node}{} failed: {}", at(item), error.message))
            }
            EventKind::Progress { node, message, .. } => self.line(&format!("  {node}: {message}")),
            EventKind::RunFinished { usage, cost } => {
                self.finish_bars();
                let mut notes = Vec::new();
                if self.replayed > 0 {
                    notes.push(format!(
                        "{} replies recorded before were replayed, not asked again",
                        self.replayed
                    ));
                }
                if self.reused > 0 {
                    notes.push(format!(
                        "{} replies reused from earlier runs at no cost",
                        self.reused
                    ));
                }
                let reused = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                };
                self.line(&format!(
                    "finished: {} tokens, cost {cost}{reused}",
                    HumanCount(usage.total())
                ));
            }
            EventKind::RunPaused { message, .. } => {
                self.finish_bars();
                self.line(&format!("paused: {message}"));
            }
            EventKind::RunStopped => {
                self.finish_bars();
                self.line("stopped");
            }
            EventKind::RunFailed { error, .. } => {
                self.finish_bars();
                self.line(&format!("failed: {}", error.message));
            }
            _ => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish_bars();
    }
}
