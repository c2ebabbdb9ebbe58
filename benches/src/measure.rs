//! Measurements: the JSON-lines record shared with the peer script, peak
//! RSS from `getrusage`, bytes written from `/proc/self/io`, medians.

use serde_json::{json, Map, Value};

/// One line of output: `{workload, nodes, wall_s, per_node_us, peak_rss_mb, notes}`,
/// the shape `benches/peer/langgraph_bench.py` prints.
#[derive(Debug, Clone)]
pub struct Record {
    pub workload: String,
    pub nodes: usize,
    pub wall_s: f64,
    pub notes: Map<String, Value>,
}

impl Record {
    pub fn new(workload: &str, nodes: usize, wall_s: f64) -> Self {
        Self {
            workload: workload.to_string(),
            nodes,
            wall_s,
            notes: Map::new(),
        }
    }

    /// Add a note (builder style).
    pub fn note(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.notes.insert(key.to_string(), value.into());
        self
    }

    pub fn per_node_us(&self) -> Option<f64> {
        (self.nodes > 0).then(|| round(self.wall_s / self.nodes as f64 * 1e6, 2))
    }

    /// The JSON line, with the process's peak RSS at the time of the call.
    pub fn to_json(&self) -> Value {
        json!({
            "workload": self.workload,
            "nodes": self.nodes,
            "wall_s": round(self.wall_s, 6),
            "per_node_us": self.per_node_us(),
            "peak_rss_mb": peak_rss_mb(),
            "notes": self.notes,
        })
    }
}

pub fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// Peak resident set size of this process so far, in MiB (`ru_maxrss`).
pub fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage only writes into the struct we hand it; a zeroed
    // `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid, exclusive pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return 0.0;
    }
    // Linux reports KiB.
    round(usage.ru_maxrss as f64 / 1024.0, 1)
}

/// Resident set size right now, in MiB (`/proc/self/statm`; 4 KiB pages).
pub fn rss_now_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(round(pages * 4096.0 / (1024.0 * 1024.0), 1))
}

/// Bytes this process has passed to `write(2)` and friends so far
/// (`wchar` of `/proc/self/io`), or `None` where that file is missing.
pub fn bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Median of a non-empty sample (the mean of the middle two for even sizes).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The sample, rounded to microseconds, for the notes.
pub fn runs(xs: &[f64]) -> Value {
    Value::from(xs.iter().map(|x| round(*x, 6)).collect::<Vec<_>>())
}

/// The 1-, 5- and 15-minute load averages (from `/proc/loadavg`).
pub fn load_average() -> Option<[f64; 3]> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn record_has_the_peer_shape() {
        let r = Record::new("W1_chain", 1000, 0.002).note("k", 1);
        let v = r.to_json();
        assert_eq!(v["per_node_us"], 2.0);
        assert_eq!(v["notes"]["k"], 1);
        assert!(v["peak_rss_mb"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn writes_are_counted() {
        let before = bytes_written().unwrap();
        let dir = std::env::temp_dir().join(format!("lekhika-bench-io-{}", std::process::id()));
        std::fs::write(&dir, vec![0u8; 100_000]).unwrap();
        let after = bytes_written().unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert!(after - before >= 100_000, "{before} -> {after}");
    }
}
