//! The runner: carries out the scheduler's commands. It starts attempts
//! (spawned on the runtime, or — for a lone ready unit with nothing else in
//! flight, as in a chain — polled on its own task, sparing a spawn and two
//! cross-thread wake-ups), feeds their ends back to the scheduler, turns
//! nodes' sub-work requests into scheduler groups and answers them when the
//! group ends, and passes a stop on. The only loop that schedules anything.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::attempt::{attempt, AttemptEnd, AttemptPlan, Keep, UnitSpec};
use super::events::EventKind;
use super::scheduler::{Command, DriveEnd, GroupId, Scheduler, UnitId, UnitKind};
use super::shared::RunShared;
use super::work::{WorkMode, WorkRequest};
use crate::flow::Flow;
use crate::node::{NodeError, NodeFailure};
use crate::store::{NodeKey, NodeResult};
use crate::util::now_ms;

/// An attempt that ran at least this long on the runner's own task is
/// followed by a yield, so other tasks get their turn.
const SLOW_INLINE: Duration = Duration::from_millis(1);

type AttemptFuture = Pin<Box<dyn Future<Output = AttemptEnd> + Send>>;

/// A sub-work group the scheduler runs for a waiting node.
struct GroupRun {
    reply: Option<oneshot::Sender<Result<Vec<NodeResult>, NodeError>>>,
    /// One slot per job of the request (saved items are filled at once).
    results: Vec<Option<NodeResult>>,
    /// Request position of each scheduled job, by scheduler job number.
    positions: Vec<usize>,
}

struct Runner {
    run: Arc<RunShared>,
    sched: Scheduler<Flow>,
    specs: HashMap<UnitId, Arc<UnitSpec>>,
    last_error: HashMap<UnitId, NodeError>,
    groups: HashMap<GroupId, GroupRun>,
    /// Open groups by the unit that asked for them.
    asked: HashMap<UnitId, Vec<GroupId>>,
    tasks: JoinSet<(UnitId, AttemptEnd)>,
    inline: Option<(UnitId, AttemptFuture)>,
    end: Option<DriveEnd>,
}

/// Run every unfinished node of the flow to the end of the run.
pub(crate) async fn drive(
    run: Arc<RunShared>,
    done: &[bool],
    limit: usize,
    mut work: mpsc::UnboundedReceiver<WorkRequest>,
) -> DriveEnd {
    let sched = Scheduler::new(run.flow.clone(), done, limit);
    let mut r = Runner {
        run: run.clone(),
        sched,
        specs: HashMap::new(),
        last_error: HashMap::new(),
        groups: HashMap::new(),
        asked: HashMap::new(),
        tasks: JoinSet::new(),
        inline: None,
        end: None,
    };
    let first = r.sched.start();
    r.apply(first);
    let mut cancelled = false;
    loop {
        if let Some(end) = r.end.take() {
            return end;
        }
        tokio::select! {
            (unit, end, took) = poll_inline(&mut r.inline), if r.inline.is_some() => {
                r.inline = None;
                r.ended(unit, end);
                // Units that finish without waiting on anything would keep
                // this task from ever yielding.
                if took >= SLOW_INLINE {
                    tokio::task::yield_now().await;
                } else {
                    tokio::task::coop::consume_budget().await;
                }
            }
            Some(joined) = r.tasks.join_next(), if !r.tasks.is_empty() => {
                match joined {
                    Ok((unit, end)) => r.ended(unit, end),
                    // Attempts catch their own panics; a join error means
                    // the task was aborted, which only happens on drop.
                    Err(e) => {
                        return DriveEnd::Failed {
                            node: 0,
                            error: NodeError::failed(format!("a node task failed: {e}")),
                        }
                    }
                }
            }
            Some(req) = work.recv() => r.submit(req),
            _ = run.cancel.cancelled(), if !cancelled => {
                cancelled = true;
                let cmds = r.sched.cancel();
                r.apply(cmds);
            }
        }
    }
}

async fn poll_inline(slot: &mut Option<(UnitId, AttemptFuture)>) -> (UnitId, AttemptEnd, Duration) {
    match slot {
        Some((unit, fut)) => {
            let started = Instant::now();
            let end = fut.as_mut().await;
            (*unit, end, started.elapsed())
        }
        None => std::future::pending().await,
    }
}

impl Runner {
    fn apply(&mut self, cmds: Vec<Command>) {
        let starts = cmds
            .iter()
            .filter(|c| matches!(c, Command::Start { .. }))
            .count();
        for cmd in cmds {
            match cmd {
                Command::Start {
                    unit,
                    attempt,
                    generation,
                    delay,
                    feedback,
                } => {
                    let lone = starts == 1 && delay.is_zero();
                    self.start(unit, attempt, generation, delay, feedback, lone);
                }
                Command::GroupEnded { group, error } => self.group_ended(group, error),
                Command::Finish(end) => self.end = Some(end),
            }
        }
    }

    /// The spec of a flow node's unit (made on its first start).
    fn node_spec(&mut self, unit: UnitId, n: usize) -> Arc<UnitSpec> {
        let run = &self.run;
        self.specs
            .entry(unit)
            .or_insert_with(|| {
                let built = run.flow.nodes[n].clone();
                run.events.emit_with(|| EventKind::NodeStarted {
                    node: run.node_id(n).to_string(),
                    kind: built.kind.clone(),
                    item: None,
                });
                Arc::new(UnitSpec {
                    node_idx: n,
                    instruction: run.instructions.get(run.node_id(n)).cloned(),
                    keep: Keep::Saved(NodeKey::node(run.node_id(n))),
                    built,
                    item: None,
                    started_at_ms: now_ms(),
                })
            })
            .clone()
    }

    fn start(
        &mut self,
        unit: UnitId,
        attempt_no: u32,
        generation: u32,
        delay: Duration,
        feedback: Option<String>,
        lone: bool,
    ) {
        let spec = match self.sched.kind(unit) {
            UnitKind::Node(n) => self.node_spec(unit, n),
            UnitKind::Sub { .. } => match self.specs.get(&unit) {
                Some(s) => s.clone(),
                None => {
                    let cmds = self
                        .sched
                        .failed(unit, NodeError::failed("internal: sub-work without a spec"));
                    return self.apply(cmds);
                }
            },
        };
        if attempt_no > 1 {
            if let Some(error) = self.last_error.get(&unit) {
                let run = &self.run;
                run.events.emit_with(|| EventKind::NodeRetrying {
                    node: run.node_id(spec.node_idx).to_string(),
                    item: spec.item.as_ref().map(|i| i.index),
                    attempt: attempt_no,
                    delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error: NodeFailure::from(error),
                });
            }
        }
        let plan = AttemptPlan {
            unit,
            spec,
            attempt: attempt_no,
            generation,
            feedback,
            delay,
        };
        let fut = catch_panic(attempt(self.run.clone(), plan));
        if lone && self.inline.is_none() && self.tasks.is_empty() {
            self.inline = Some((unit, Box::pin(fut)));
        } else {
            self.tasks.spawn(async move { (unit, fut.await) });
        }
    }

    /// An attempt ended: account for it and tell the scheduler.
    fn ended(&mut self, unit: UnitId, end: AttemptEnd) {
        // Sub-work a finished attempt still had open is abandoned.
        if let Some(groups) = self.asked.remove(&unit) {
            for g in groups {
                let cmds = self.sched.abandon(g);
                self.apply(cmds);
            }
        }
        match end.result {
            Ok(result) => {
                self.last_error.remove(&unit);
                self.succeeded(unit, result);
            }
            Err(error) => {
                let cmds = self.sched.failed(unit, error.clone());
                let again = cmds
                    .iter()
                    .any(|c| matches!(c, Command::Start { unit: u, .. } if *u == unit));
                if !again {
                    self.gave_up(unit, &error);
                }
                self.last_error.insert(unit, error);
                self.apply(cmds);
            }
        }
    }

    fn succeeded(&mut self, unit: UnitId, result: NodeResult) {
        let spec = self.specs.get(&unit).cloned();
        let run = self.run.clone();
        match self.sched.kind(unit) {
            UnitKind::Node(n) => {
                self.specs.remove(&unit);
                run.forget_items(n);
                finished_events(&run, n, None, &result);
                let _ = run.outputs[n].set(Arc::new(result.output));
            }
            UnitKind::Sub { group, pos } => {
                self.specs.remove(&unit);
                if let (Some(spec), Some(g)) = (spec, self.groups.get_mut(&group)) {
                    if let (Keep::Saved(_), Some(item)) = (&spec.keep, &spec.item) {
                        run.remember_item(spec.node_idx, item.index, result.clone());
                        finished_events(&run, spec.node_idx, Some(item.index), &result);
                    }
                    if let Some(&slot) = g.positions.get(pos) {
                        g.results[slot] = Some(result);
                    }
                }
            }
        }
        let cmds = self.sched.succeeded(unit);
        self.apply(cmds);
    }

    /// `unit` failed for good: tell the host (items and flow nodes).
    fn gave_up(&mut self, unit: UnitId, error: &NodeError) {
        let Some(spec) = self.specs.remove(&unit) else {
            return;
        };
        if matches!(error, NodeError::Cancelled | NodeError::AwaitingApproval)
            || matches!(spec.keep, Keep::Nested(..))
        {
            return;
        }
        let run = &self.run;
        run.events.emit_with(|| EventKind::NodeFailed {
            node: run.node_id(spec.node_idx).to_string(),
            item: spec.item.as_ref().map(|i| i.index),
            error: NodeFailure::from(error),
        });
    }

    /// A node asks for sub-work: saved items are answered from the
    /// checkpoint, the rest becomes a scheduler group.
    fn submit(&mut self, req: WorkRequest) {
        let WorkRequest {
            parent,
            node_idx,
            built,
            jobs,
            limit,
            mode,
            reply,
        } = req;
        let mut results: Vec<Option<NodeResult>> = vec![None; jobs.len()];
        let mut todo = Vec::new();
        for (pos, job) in jobs.into_iter().enumerate() {
            if matches!(mode, WorkMode::Items) {
                if let Some(r) = self.run.saved_item(node_idx, job.scope.index) {
                    results[pos] = Some(r);
                    continue;
                }
            }
            todo.push((pos, job));
        }
        let (group, units, cmds) =
            self.sched
                .submit(parent, todo.len(), built.policy.clone(), limit);
        let mut positions = Vec::with_capacity(todo.len());
        let node_id = self.run.node_id(node_idx).to_string();
        for (unit, (pos, job)) in units.into_iter().zip(todo) {
            positions.push(pos);
            let keep = match &mode {
                WorkMode::Items => Keep::Saved(NodeKey::item(node_id.clone(), job.scope.index)),
                WorkMode::Nested { scope } => Keep::Nested(scope.clone(), pos),
            };
            if matches!(mode, WorkMode::Items) {
                let run = &self.run;
                run.events.emit_with(|| EventKind::NodeStarted {
                    node: node_id.clone(),
                    kind: built.kind.clone(),
                    item: Some(job.scope.index),
                });
            }
            self.specs.insert(
                unit,
                Arc::new(UnitSpec {
                    node_idx,
                    built: built.clone(),
                    item: Some(Arc::new(job.scope)),
                    instruction: job.instruction,
                    keep,
                    started_at_ms: now_ms(),
                }),
            );
        }
        self.groups.insert(
            group,
            GroupRun {
                reply: Some(reply),
                results,
                positions,
            },
        );
        self.asked.entry(parent).or_default().push(group);
        self.apply(cmds);
    }

    fn group_ended(&mut self, group: GroupId, error: Option<NodeError>) {
        let parent = self.sched.group_parent(group);
        if let Some(open) = self.asked.get_mut(&parent) {
            open.retain(|g| *g != group);
        }
        let Some(mut g) = self.groups.remove(&group) else {
            return;
        };
        let answer = match error {
            Some(e) => Err(e),
            None => g
                .results
                .into_iter()
                .map(|r| r.ok_or(NodeError::Cancelled))
                .collect(),
        };
        if let Some(reply) = g.reply.take() {
            // The asking attempt may be gone (timed out): nobody to tell.
            let _ = reply.send(answer);
        }
    }
}

fn finished_events(run: &RunShared, n: usize, item: Option<u32>, r: &NodeResult) {
    run.events.emit_with(|| EventKind::CheckpointSaved {
        node: run.node_id(n).to_string(),
        item,
    });
    run.events.emit_with(|| EventKind::NodeFinished {
        node: run.node_id(n).to_string(),
        item,
        usage: r.usage,
        cost: i64::try_from(r.cost).unwrap_or(i64::MAX),
        duration_ms: r.finished_at_ms - r.started_at_ms,
        attempts: r.attempts,
    });
}

/// An attempt whose panic fails it (as an error) instead of unwinding the runner.
async fn catch_panic(fut: impl Future<Output = AttemptEnd>) -> AttemptEnd {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                std::task::Poll::Ready(AttemptEnd {
                    result: Err(NodeError::failed(format!("node panicked: {what}"))),
                })
            }
        }
    })
    .await
}
