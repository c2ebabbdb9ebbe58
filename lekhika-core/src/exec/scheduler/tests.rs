//! The scheduler driven directly, without a runtime.

use super::*;
use crate::provider::{ProviderError, ProviderErrorKind};

/// A flow of `n` nodes with the given edges, all under `policy`.
struct TestPlan {
    deps: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
    policy: NodePolicy,
}

fn plan(n: usize, edges: &[(usize, usize)]) -> Arc<TestPlan> {
    let mut deps = vec![Vec::new(); n];
    let mut children = vec![Vec::new(); n];
    for &(a, b) in edges {
        deps[b].push(a);
        children[a].push(b);
    }
    Arc::new(TestPlan {
        deps,
        children,
        policy: NodePolicy::default(),
    })
}

impl Plan for TestPlan {
    fn len(&self) -> usize {
        self.deps.len()
    }
    fn deps(&self, node: usize) -> &[usize] {
        &self.deps[node]
    }
    fn children(&self, node: usize) -> &[usize] {
        &self.children[node]
    }
    fn policy(&self, _node: usize) -> &NodePolicy {
        &self.policy
    }
}

/// The units started by `cmds`, in order.
fn starts(cmds: &[Command]) -> Vec<UnitId> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Start { unit, .. } => Some(*unit),
            _ => None,
        })
        .collect()
}

fn finish(cmds: &[Command]) -> Option<&DriveEnd> {
    cmds.iter().find_map(|c| match c {
        Command::Finish(e) => Some(e),
        _ => None,
    })
}

fn provider_error() -> NodeError {
    NodeError::Provider(ProviderError::new("p", ProviderErrorKind::Server, "boom"))
}

#[test]
fn a_chain_runs_in_order_and_completes() {
    let mut s = Scheduler::new(plan(3, &[(0, 1), (1, 2)]), &[false; 3], 4);
    assert_eq!(starts(&s.start()), vec![0]);
    assert_eq!(starts(&s.succeeded(0)), vec![1]);
    assert_eq!(starts(&s.succeeded(1)), vec![2]);
    assert!(matches!(finish(&s.succeeded(2)), Some(DriveEnd::Completed)));
}

#[test]
fn finished_nodes_never_run_and_the_limit_holds() {
    // 0 -> {1, 2, 3} -> 4; 0 finished earlier; one at a time.
    let edges = [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)];
    let mut s = Scheduler::new(plan(5, &edges), &[true, false, false, false, false], 1);
    assert_eq!(starts(&s.start()), vec![1]);
    assert_eq!(starts(&s.succeeded(1)), vec![2]);
    assert_eq!(starts(&s.succeeded(2)), vec![3]);
    assert_eq!(starts(&s.succeeded(3)), vec![4]);
    assert!(matches!(finish(&s.succeeded(4)), Some(DriveEnd::Completed)));
}

#[test]
fn nothing_to_do_finishes_at_once() {
    let mut s = Scheduler::new(plan(2, &[(0, 1)]), &[true, true], 4);
    assert!(matches!(finish(&s.start()), Some(DriveEnd::Completed)));
}

#[test]
fn retryable_node_errors_are_retried_up_to_the_policy_then_fail() {
    let mut s = Scheduler::new(plan(1, &[]), &[false], 4);
    s.start();
    for attempt in 2..=3 {
        let cmds = s.failed(0, NodeError::Timeout(5));
        match cmds.as_slice() {
            [Command::Start {
                unit: 0,
                attempt: a,
                delay,
                feedback: None,
                generation: 0,
            }] => {
                assert_eq!(*a, attempt);
                assert!(*delay > Duration::ZERO);
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
    let cmds = s.failed(0, NodeError::Timeout(5));
    assert!(matches!(
        finish(&cmds),
        Some(DriveEnd::Failed {
            node: 0,
            error: NodeError::Timeout(5)
        })
    ));
}

#[test]
fn provider_faults_are_never_retried_by_the_node() {
    let mut s = Scheduler::new(plan(1, &[]), &[false], 4);
    s.start();
    let cmds = s.failed(0, provider_error());
    assert!(starts(&cmds).is_empty());
    assert!(matches!(
        finish(&cmds),
        Some(DriveEnd::Failed { node: 0, .. })
    ));
}

#[test]
fn invalid_output_is_regenerated_with_feedback_and_a_new_generation() {
    let mut s = Scheduler::new(plan(1, &[]), &[false], 4);
    s.start();
    for generation in 1..=2 {
        let cmds = s.failed(0, NodeError::InvalidOutput("too short".into()));
        match cmds.as_slice() {
            [Command::Start {
                generation: g,
                feedback: Some(f),
                delay,
                ..
            }] => {
                assert_eq!(*g, generation);
                assert_eq!(f, "too short");
                assert_eq!(*delay, Duration::ZERO);
            }
            other => panic!("expected a regeneration, got {other:?}"),
        }
    }
    let cmds = s.failed(0, NodeError::InvalidOutput("too short".into()));
    assert!(matches!(finish(&cmds), Some(DriveEnd::Failed { .. })));
}

#[test]
fn sub_work_runs_under_its_group_limit_and_ends_the_group() {
    let mut s = Scheduler::new(plan(1, &[]), &[false], 1);
    s.start();
    let (g, units, cmds) = s.submit(0, 5, Arc::new(NodePolicy::default()), 2);
    assert_eq!(units.len(), 5);
    assert_eq!(starts(&cmds), units[..2].to_vec());
    assert_eq!(s.node_of(units[3]), 0);
    let mut started = 2;
    for &u in &units {
        let cmds = s.succeeded(u);
        let next = starts(&cmds);
        if started < 5 {
            assert_eq!(next, vec![units[started]]);
            started += 1;
        } else {
            assert!(next.is_empty());
        }
        if u == units[4] {
            assert!(matches!(
                cmds.as_slice(),
                [Command::GroupEnded { group, error: None }] if *group == g
            ));
        }
    }
    assert!(matches!(finish(&s.succeeded(0)), Some(DriveEnd::Completed)));
}

#[test]
fn a_failed_job_stops_its_group_and_fails_the_parent_for_good() {
    let mut s = Scheduler::new(plan(1, &[]), &[false], 1);
    s.start();
    let (_, units, cmds) = s.submit(0, 4, Arc::new(NodePolicy::default()), 2);
    assert_eq!(starts(&cmds).len(), 2);
    // Job 0 fails for good: job 1 keeps running, jobs 2 and 3 never start.
    let cmds = s.failed(units[0], provider_error());
    assert!(starts(&cmds).is_empty());
    assert!(!cmds.iter().any(|c| matches!(c, Command::GroupEnded { .. })));
    let cmds = s.succeeded(units[1]);
    assert!(matches!(
        cmds.as_slice(),
        [Command::GroupEnded {
            error: Some(NodeError::Provider(_)),
            ..
        }]
    ));
    // The parent passes the error on: no regeneration of the parent.
    let cmds = s.failed(0, NodeError::InvalidOutput("an item failed".into()));
    assert!(matches!(
        finish(&cmds),
        Some(DriveEnd::Failed { node: 0, .. })
    ));
}

#[test]
fn a_stop_starts_nothing_new_and_outranks_failures() {
    let mut s = Scheduler::new(plan(3, &[]), &[false; 3], 2);
    assert_eq!(starts(&s.start()), vec![0, 1]);
    let cmds = s.cancel();
    assert!(starts(&cmds).is_empty() && finish(&cmds).is_none());
    s.failed(0, provider_error());
    let cmds = s.failed(1, NodeError::Cancelled);
    assert!(matches!(finish(&cmds), Some(DriveEnd::Stopped)));
}

#[test]
fn a_failure_outranks_a_pause_and_work_after_a_halt_is_refused() {
    let mut s = Scheduler::new(plan(3, &[]), &[false; 3], 3);
    assert_eq!(starts(&s.start()).len(), 3);
    let paused = NodeError::InsufficientTokens {
        needed: 10,
        available: 1,
    };
    assert!(finish(&s.failed(0, paused)).is_none());
    // Node 1 asks for sub-work after the pause: refused at once.
    let (_, _, cmds) = s.submit(1, 2, Arc::new(NodePolicy::default()), 2);
    assert!(matches!(
        cmds.as_slice(),
        [Command::GroupEnded {
            error: Some(NodeError::Cancelled),
            ..
        }]
    ));
    s.failed(1, NodeError::Cancelled);
    let cmds = s.failed(2, provider_error());
    assert!(matches!(
        finish(&cmds),
        Some(DriveEnd::Failed { node: 2, .. })
    ));
}

#[test]
fn a_pause_alone_ends_the_run_paused() {
    let mut s = Scheduler::new(plan(2, &[(0, 1)]), &[false; 2], 2);
    s.start();
    let cmds = s.failed(0, NodeError::AwaitingApproval);
    assert!(matches!(
        finish(&cmds),
        Some(DriveEnd::Paused { node: 0, .. })
    ));
}
