//! One runner per execution. Whoever runs an execution — `lekhika run` or
//! `resume`, Python, Node, a worker — holds its lease: a row lock with an
//! expiry that the running process renews (every third of its length) and
//! releases at the end, and whose token fences every write of the run. A
//! second runner is refused; a runner that died (kill -9, a lost machine)
//! stops renewing, and its lease expires after at most one lease length.

use std::time::Duration;

use tokio::time::Instant;

use super::engine::EngineInner;
use super::error::EngineError;
use crate::store::{Lease, LeaseGrant, RunnerInfo};
use crate::util::now_ms;

/// How often a waiting taker looks at the lease again.
const POLL: Duration = Duration::from_millis(200);

/// Expiry moves within this much count as the same lease (clock jitter).
const SLACK_MS: i64 = 150;

/// Take the lease of execution `id` for this engine's runner.
///
/// If another runner holds it, wait while it might be a dead one: a lease
/// that expires unrenewed is taken over (the dead runner's work resumes
/// from its checkpoint and journal). A lease that is renewed — or taken by
/// somebody else — while we wait belongs to a live runner: refused with
/// [`EngineError::Busy`]. `on_wait` hears about the wait once, first.
pub(crate) async fn take(
    inner: &EngineInner,
    owner: &str,
    id: &str,
    on_wait: &mut (dyn FnMut(&RunnerInfo) + Send),
) -> Result<Lease, EngineError> {
    let store = &inner.store;
    let give_up = Instant::now() + inner.lease + Duration::from_secs(2);
    let mut seen: Option<(u64, i64)> = None;
    loop {
        let held = match store
            .acquire_lease(owner, id, &inner.runner, inner.lease)
            .await?
        {
            LeaseGrant::Granted(lease) => return Ok(lease),
            LeaseGrant::Held(info) => info,
        };
        let expires_at = now_ms() + held.expires_in_ms;
        match seen {
            None => {
                on_wait(&held);
                seen = Some((held.token, expires_at));
            }
            Some((token, was)) if token != held.token || expires_at > was + SLACK_MS => {
                return Err(busy(id, &held));
            }
            Some(_) => {}
        }
        if Instant::now() >= give_up {
            return Err(busy(id, &held));
        }
        let left = u64::try_from(held.expires_in_ms.max(0)).unwrap_or(0);
        tokio::time::sleep(POLL.min(Duration::from_millis(left + 20))).await;
    }
}

fn busy(id: &str, held: &RunnerInfo) -> EngineError {
    EngineError::Busy {
        execution_id: id.to_string(),
        runner: held.worker.clone(),
        expires_in_ms: held.expires_in_ms,
    }
}

/// The name this process's runs take leases under: host, process id and a
/// random suffix (two engines in one process are two runners).
pub(crate) fn runner_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}
