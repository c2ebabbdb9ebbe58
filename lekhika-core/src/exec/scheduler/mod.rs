//! The scheduler: a plain state machine that decides what runs next. It
//! owns all work of a run — the flow's nodes, and the sub-work running
//! nodes ask for (a map's items, a whole-book pass's checks and rewrites) —
//! and decides every start, retry, regeneration and the end of the run.
//!
//! It does no I/O and keeps no clock: the runner (`runner.rs`) feeds it what
//! happened (`succeeded`, `failed`, `submit`, `cancel`) and carries out the
//! [`Command`]s it answers with. Tests drive it directly, without a runtime.
//!
//! Rules:
//! - A flow node becomes ready when all its inputs succeeded; ready nodes
//!   start in order, at most `limit` at once (a node waiting for its
//!   sub-work keeps its slot). Sub-work runs under its group's own limit.
//! - A failed attempt is retried (after a backoff) only for errors a retry
//!   of the whole unit can fix — timeouts, retryable store or node errors.
//!   Provider faults are retried inside the call (`calls.rs`), never here,
//!   so attempts never multiply. Invalid output is regenerated with the
//!   problem as feedback, up to the policy's validation budget.
//! - A unit whose sub-work failed fails for good: its children spent their
//!   own budgets already.
//! - After the first final failure, pause or stop, nothing new starts; the
//!   run ends when nothing is running. A stop outranks a failure, and a
//!   failure outranks a pause.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::node::{NodeError, NodePolicy};

pub(crate) type UnitId = usize;
pub(crate) type GroupId = usize;

/// The shape of the flow the scheduler needs: dependencies and policies.
pub(crate) trait Plan: Send + Sync {
    fn len(&self) -> usize;
    fn deps(&self, node: usize) -> &[usize];
    fn children(&self, node: usize) -> &[usize];
    fn policy(&self, node: usize) -> &NodePolicy;
}

impl Plan for crate::flow::Flow {
    fn len(&self) -> usize {
        self.graph.ids.len()
    }
    fn deps(&self, node: usize) -> &[usize] {
        &self.graph.deps[node]
    }
    fn children(&self, node: usize) -> &[usize] {
        &self.graph.children[node]
    }
    fn policy(&self, node: usize) -> &NodePolicy {
        &self.nodes[node].policy
    }
}

/// What a unit of work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitKind {
    /// Node `n` of the flow graph.
    Node(usize),
    /// Job `pos` of sub-work group `group`.
    Sub { group: GroupId, pos: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A flow node with unfinished inputs.
    Waiting,
    Queued,
    Running,
    Done,
    Failed,
}

#[derive(Debug)]
struct Unit {
    kind: UnitKind,
    state: State,
    /// Attempts started.
    attempts: u32,
    /// Retries after retryable errors.
    retries: u32,
    /// Regenerations after invalid output.
    validations: u32,
    /// A group this unit asked for failed during the current attempt.
    child_failed: bool,
}

impl Unit {
    fn new(kind: UnitKind, state: State) -> Self {
        Self {
            kind,
            state,
            attempts: 0,
            retries: 0,
            validations: 0,
            child_failed: false,
        }
    }
}

#[derive(Debug)]
struct Group {
    parent: UnitId,
    policy: Arc<NodePolicy>,
    limit: usize,
    queue: VecDeque<UnitId>,
    running: usize,
    /// Jobs not yet ended.
    open: usize,
    error: Option<NodeError>,
    /// Its end was announced.
    closed: bool,
    /// Its parent's attempt ended without waiting for it.
    abandoned: bool,
}

enum Decision {
    Retry(Duration),
    Regenerate(String),
    GiveUp,
}

/// What the runner must do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Start attempt number `attempt` of `unit` after `delay`. `generation`
    /// counts regenerations after invalid output (0 for the first try), and
    /// `feedback` says what to fix.
    Start {
        unit: UnitId,
        attempt: u32,
        generation: u32,
        delay: Duration,
        feedback: Option<String>,
    },
    /// A group ended: all its jobs succeeded, or `error` stopped it (jobs
    /// not yet started never will be).
    GroupEnded {
        group: GroupId,
        error: Option<NodeError>,
    },
    /// Nothing runs and nothing more will start.
    Finish(DriveEnd),
}

/// How a drive of the graph ended.
#[derive(Debug)]
pub(crate) enum DriveEnd {
    Completed,
    Stopped,
    /// A node asked to pause the run (tokens, approval).
    Paused {
        node: usize,
        error: NodeError,
    },
    Failed {
        node: usize,
        error: NodeError,
    },
}

/// The state machine.
pub(crate) struct Scheduler<P: Plan + ?Sized> {
    plan: Arc<P>,
    units: Vec<Unit>,
    groups: Vec<Group>,
    /// Groups with jobs not yet started.
    active: Vec<GroupId>,
    /// Unfinished inputs per flow node.
    waiting: Vec<u32>,
    ready: VecDeque<UnitId>,
    /// Flow nodes running (a slot each, also while they wait for sub-work).
    running_nodes: usize,
    /// Units running, flow nodes and sub-work.
    running: usize,
    limit: usize,
    halt: Option<DriveEnd>,
    finished: bool,
    out: Vec<Command>,
}

impl<P: Plan + ?Sized> Scheduler<P> {
    /// A scheduler for `plan` where `done[n]` marks nodes finished by an
    /// earlier attempt (they never run again). Call [`Self::start`] next.
    pub fn new(plan: Arc<P>, done: &[bool], limit: usize) -> Self {
        let n = plan.len();
        let mut waiting = Vec::with_capacity(n);
        let mut units = Vec::with_capacity(n);
        let mut ready = VecDeque::new();
        for i in 0..n {
            let is_done = done.get(i).copied().unwrap_or(false);
            let w = plan
                .deps(i)
                .iter()
                .filter(|&&d| !done.get(d).copied().unwrap_or(false))
                .count() as u32;
            waiting.push(w);
            let state = if is_done {
                State::Done
            } else if w == 0 {
                ready.push_back(i);
                State::Queued
            } else {
                State::Waiting
            };
            units.push(Unit::new(UnitKind::Node(i), state));
        }
        Self {
            plan,
            units,
            groups: Vec::new(),
            active: Vec::new(),
            waiting,
            ready,
            running_nodes: 0,
            running: 0,
            limit: limit.max(1),
            halt: None,
            finished: false,
            out: Vec::new(),
        }
    }

    /// The first commands: start what is ready (or finish at once).
    pub fn start(&mut self) -> Vec<Command> {
        self.pump();
        std::mem::take(&mut self.out)
    }

    pub fn kind(&self, unit: UnitId) -> UnitKind {
        self.units[unit].kind
    }

    /// The flow node a unit works for (a sub-unit's ancestor node).
    #[cfg(test)]
    pub fn node_of(&self, mut unit: UnitId) -> usize {
        loop {
            match self.units[unit].kind {
                UnitKind::Node(n) => return n,
                UnitKind::Sub { group, .. } => unit = self.groups[group].parent,
            }
        }
    }

    /// The policy a unit runs under.
    pub fn policy(&self, unit: UnitId) -> &NodePolicy {
        match self.units[unit].kind {
            UnitKind::Node(n) => self.plan.policy(n),
            UnitKind::Sub { group, .. } => &self.groups[group].policy,
        }
    }

    pub fn group_parent(&self, group: GroupId) -> UnitId {
        self.groups[group].parent
    }

    /// Unit `unit`'s attempt succeeded (and its result is saved).
    pub fn succeeded(&mut self, unit: UnitId) -> Vec<Command> {
        if self.units[unit].state == State::Running {
            self.units[unit].state = State::Done;
            self.end_running(unit);
            match self.units[unit].kind {
                UnitKind::Node(n) => {
                    for &c in self.plan.children(n) {
                        self.waiting[c] = self.waiting[c].saturating_sub(1);
                        if self.waiting[c] == 0 && self.units[c].state == State::Waiting {
                            self.units[c].state = State::Queued;
                            self.ready.push_back(c);
                        }
                    }
                }
                UnitKind::Sub { group, .. } => self.job_ended(group),
            }
        }
        self.pump();
        std::mem::take(&mut self.out)
    }

    /// Unit `unit`'s attempt failed with `error`: retry, regenerate, or give up.
    pub fn failed(&mut self, unit: UnitId, error: NodeError) -> Vec<Command> {
        if self.units[unit].state == State::Running {
            let again = match self.decide(unit, &error) {
                Decision::Retry(delay) => {
                    self.units[unit].retries += 1;
                    Some((delay, None))
                }
                Decision::Regenerate(feedback) => {
                    self.units[unit].validations += 1;
                    Some((Duration::ZERO, Some(feedback)))
                }
                Decision::GiveUp => None,
            };
            match again {
                Some((delay, feedback)) => {
                    let u = &mut self.units[unit];
                    u.attempts += 1;
                    u.child_failed = false;
                    self.out.push(Command::Start {
                        unit,
                        attempt: u.attempts,
                        generation: u.validations,
                        delay,
                        feedback,
                    });
                }
                None => {
                    self.units[unit].state = State::Failed;
                    self.end_running(unit);
                    match self.units[unit].kind {
                        UnitKind::Node(n) => self.halt_with(n, error),
                        UnitKind::Sub { group, .. } => {
                            let g = &mut self.groups[group];
                            // The first real error wins over a cancellation.
                            if g.error.is_none() || matches!(g.error, Some(NodeError::Cancelled)) {
                                g.error = Some(error);
                            }
                            g.queue.clear();
                            g.open = g.running;
                            self.close_if_done(group);
                        }
                    }
                }
            }
        }
        self.pump();
        std::mem::take(&mut self.out)
    }

    /// Running unit `parent` asks for `jobs` units of sub-work under
    /// `policy`, at most `limit` at once. Returns the group and its units
    /// (in job order); the group's end comes as [`Command::GroupEnded`].
    pub fn submit(
        &mut self,
        parent: UnitId,
        jobs: usize,
        policy: Arc<NodePolicy>,
        limit: usize,
    ) -> (GroupId, Vec<UnitId>, Vec<Command>) {
        let group = self.groups.len();
        let mut ids = Vec::with_capacity(jobs);
        let refused = self.halt.is_some();
        for pos in 0..jobs {
            ids.push(self.units.len());
            self.units
                .push(Unit::new(UnitKind::Sub { group, pos }, State::Queued));
        }
        self.groups.push(Group {
            parent,
            policy,
            limit: limit.max(1),
            queue: if refused {
                VecDeque::new()
            } else {
                ids.iter().copied().collect()
            },
            running: 0,
            open: if refused { 0 } else { jobs },
            error: refused.then_some(NodeError::Cancelled),
            closed: false,
            abandoned: false,
        });
        if refused || jobs == 0 {
            self.close_if_done(group);
        } else {
            self.active.push(group);
        }
        self.pump();
        (group, ids, std::mem::take(&mut self.out))
    }

    /// The attempt that asked for `group` ended without waiting for it: no
    /// more of its jobs start; running ones finish, and nobody is told.
    pub fn abandon(&mut self, group: GroupId) -> Vec<Command> {
        if let Some(g) = self.groups.get_mut(group) {
            if !g.closed {
                g.queue.clear();
                g.open = g.running;
                g.abandoned = true;
                self.active.retain(|&x| x != group);
                self.close_if_done(group);
            }
        }
        self.pump();
        std::mem::take(&mut self.out)
    }

    /// The run was stopped: nothing new starts; running units end on their own.
    pub fn cancel(&mut self) -> Vec<Command> {
        self.halt = Some(DriveEnd::Stopped);
        self.ready.clear();
        for gid in std::mem::take(&mut self.active) {
            let g = &mut self.groups[gid];
            if !g.queue.is_empty() {
                g.queue.clear();
                g.open = g.running;
                g.error.get_or_insert(NodeError::Cancelled);
            }
            self.close_if_done(gid);
        }
        self.pump();
        std::mem::take(&mut self.out)
    }

    /// What to do after a failed attempt.
    fn decide(&self, unit: UnitId, error: &NodeError) -> Decision {
        let u = &self.units[unit];
        if self.halt.is_some() || u.child_failed {
            return Decision::GiveUp;
        }
        let policy = self.policy(unit);
        match error {
            NodeError::InvalidOutput(msg)
                if u.validations < policy.validate.attempts.unwrap_or(2) =>
            {
                Decision::Regenerate(msg.clone())
            }
            // Provider faults were retried inside the call already.
            NodeError::Provider(_) => Decision::GiveUp,
            e if e.is_retryable() && u.retries + 1 < policy.retry.attempts => {
                Decision::Retry(policy.retry.delay(u.retries + 1, None))
            }
            _ => Decision::GiveUp,
        }
    }

    fn end_running(&mut self, unit: UnitId) {
        self.running = self.running.saturating_sub(1);
        match self.units[unit].kind {
            UnitKind::Node(_) => self.running_nodes = self.running_nodes.saturating_sub(1),
            UnitKind::Sub { group, .. } => {
                let g = &mut self.groups[group];
                g.running = g.running.saturating_sub(1);
            }
        }
    }

    /// A job of `group` ended (successfully); the group may be over.
    fn job_ended(&mut self, group: GroupId) {
        let g = &mut self.groups[group];
        g.open = g.open.saturating_sub(1);
        self.close_if_done(group);
    }

    /// Emit the group's end once no job is open (once).
    fn close_if_done(&mut self, group: GroupId) {
        let g = &mut self.groups[group];
        if g.open == 0 && g.running == 0 && !g.closed {
            g.closed = true;
            let error = g.error.take();
            if error.is_some() && !g.abandoned {
                let parent = g.parent;
                self.units[parent].child_failed = true;
            }
            self.out.push(Command::GroupEnded { group, error });
        }
    }

    fn halt_with(&mut self, node: usize, error: NodeError) {
        if matches!(error, NodeError::Cancelled) {
            // A stop, or sub-work refused after another node halted the run.
            self.halt.get_or_insert(DriveEnd::Stopped);
            self.ready.clear();
            return;
        }
        let end = if error.pauses_run() {
            DriveEnd::Paused { node, error }
        } else {
            DriveEnd::Failed { node, error }
        };
        match (&self.halt, &end) {
            (None, _) | (Some(DriveEnd::Paused { .. }), DriveEnd::Failed { .. }) => {
                self.halt = Some(end)
            }
            _ => {}
        }
        self.ready.clear();
    }

    /// Start what may start; finish when nothing runs and nothing can start.
    fn pump(&mut self) {
        if self.finished {
            return;
        }
        if self.halt.is_none() {
            // Sub-work first: its parents hold slots while they wait for it.
            let mut k = 0;
            while k < self.active.len() {
                let gid = self.active[k];
                loop {
                    let g = &mut self.groups[gid];
                    if g.running >= g.limit {
                        break;
                    }
                    let Some(u) = g.queue.pop_front() else { break };
                    g.running += 1;
                    self.launch(u);
                }
                if self.groups[gid].queue.is_empty() {
                    self.active.swap_remove(k);
                } else {
                    k += 1;
                }
            }
            while self.running_nodes < self.limit {
                let Some(u) = self.ready.pop_front() else {
                    break;
                };
                self.running_nodes += 1;
                self.launch(u);
            }
        }
        if self.running == 0 && (self.halt.is_some() || self.ready.is_empty()) {
            self.finished = true;
            let end = self.halt.take().unwrap_or(DriveEnd::Completed);
            self.out.push(Command::Finish(end));
        }
    }

    fn launch(&mut self, unit: UnitId) {
        self.running += 1;
        let u = &mut self.units[unit];
        u.state = State::Running;
        u.attempts += 1;
        u.child_failed = false;
        self.out.push(Command::Start {
            unit,
            attempt: u.attempts,
            generation: u.validations,
            delay: Duration::ZERO,
            feedback: None,
        });
    }
}

#[cfg(test)]
mod tests;
