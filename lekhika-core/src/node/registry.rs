//! Kind → factory. Built-in kinds register the same way host kinds do.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

use super::policy::NodePolicy;
use super::Node;
use crate::flow::NodeSpec;

/// Builds a node from its spec. Return every config problem found.
pub type NodeFactory =
    Arc<dyn Fn(&NodeSpec, &Registry) -> Result<Box<dyn Node>, Vec<String>> + Send + Sync>;

/// A node ready to run, with its execution policy.
#[derive(Clone)]
pub struct BuiltNode {
    pub kind: String,
    pub node: Arc<dyn Node>,
    /// Shared: most nodes have the default policy, and a flow of 100k
    /// nodes should not hold 100k copies of it.
    pub policy: Arc<NodePolicy>,
}

/// Keys of `data` that editors and hosts use for display: when a node kind
/// does not take them as settings, they are ignored without a warning. Any
/// other key a kind does not know is ignored too, with a warning
/// (`lekhika validate` shows them, so a typo of a setting is seen).
pub const UI_KEYS: &[&str] = &[
    "label",
    "description",
    "icon",
    "color",
    "ui",
    "status",
    "nodeType",
    "isExpanded",
    "selected",
    "handles",
    "width",
    "height",
    "style",
    "className",
    "category",
    "notes",
];

thread_local! {
    static WARNINGS: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Warnings raised while one node is built (config keys it ignored), on
/// this thread. Factories run synchronously, so a node's warnings, and those
/// of the nodes built inside it (a map's writer), land in its collection.
pub struct Warnings;

impl Warnings {
    /// Record that a node ignored config key `key` (an editor's display
    /// key is not worth a warning).
    pub fn ignored(kind: &str, key: &str) {
        if !UI_KEYS.contains(&key) {
            Self::push(format!(
                "`{key}` is not a setting of a `{kind}` node; ignored"
            ));
        }
    }

    /// Record a warning for the node being built (dropped when none is).
    pub fn push(message: String) {
        WARNINGS.with(|w| {
            if let Some(list) = w.borrow_mut().as_mut() {
                list.push(message);
            }
        });
    }

    /// Run `f`, returning what it produced and the warnings it raised.
    fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let outer = WARNINGS.with(|w| w.borrow_mut().replace(Vec::new()));
        let out = f();
        let mine = WARNINGS.with(|w| {
            let mut w = w.borrow_mut();
            let mine = w.take().unwrap_or_default();
            // A nested collection hands its warnings up as well.
            if let Some(mut outer) = outer {
                outer.extend(mine.iter().cloned());
                *w = Some(outer);
            }
            mine
        });
        (out, mine)
    }
}

/// Model overrides of a run: for every text node (`--provider`/`--model`),
/// and per node id (`nodes`, which win over the run-wide choice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelOverride {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub nodes: BTreeMap<String, ModelChoice>,
}

/// A provider and/or model for one node (and the nodes inside it: a map's
/// writer, a continuity pass's checker and rewriter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelChoice {
    pub provider: Option<String>,
    pub model: Option<String>,
}

#[derive(Clone, Default)]
pub struct Registry {
    factories: HashMap<String, NodeFactory>,
}

impl Registry {
    /// An empty registry (no kinds at all).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in kinds: input, text, map, compile, template, approval, merge.
    pub fn with_builtins() -> Self {
        let mut r = Self::empty();
        super::builtin::register_all(&mut r);
        r
    }

    /// Register a kind. A later registration of the same kind replaces it.
    pub fn register<F>(&mut self, kind: &str, factory: F)
    where
        F: Fn(&NodeSpec, &Registry) -> Result<Box<dyn Node>, Vec<String>> + Send + Sync + 'static,
    {
        self.factories.insert(kind.to_string(), Arc::new(factory));
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.factories.keys().cloned().collect();
        k.sort();
        k
    }

    pub fn contains(&self, kind: &str) -> bool {
        self.factories.contains_key(kind)
    }

    /// Build a node: take the policy keys out of its config, then call the factory.
    pub fn build(
        &self,
        spec: &NodeSpec,
        overrides: &ModelOverride,
    ) -> Result<BuiltNode, Vec<String>> {
        self.build_owned(spec.clone(), overrides)
    }

    /// [`Registry::build`] taking the spec by value (no copy of its config).
    pub fn build_owned(
        &self,
        spec: NodeSpec,
        overrides: &ModelOverride,
    ) -> Result<BuiltNode, Vec<String>> {
        self.build_checked(spec, overrides).0
    }

    /// [`Registry::build_owned`], with the warnings of the build: config
    /// keys the node (or a node inside it) ignored.
    pub fn build_checked(
        &self,
        spec: NodeSpec,
        overrides: &ModelOverride,
    ) -> (Result<BuiltNode, Vec<String>>, Vec<String>) {
        Warnings::collect(|| self.build_inner(spec, overrides))
    }

    fn build_inner(
        &self,
        mut spec: NodeSpec,
        overrides: &ModelOverride,
    ) -> Result<BuiltNode, Vec<String>> {
        let Some(factory) = self.factories.get(&spec.kind) else {
            return Err(vec![format!(
                "unknown kind `{}` (known: {})",
                spec.kind,
                self.kinds().join(", ")
            )]);
        };
        let policy = NodePolicy::extract(&mut spec.config).map_err(|e| vec![e])?;
        let mut node = factory(&spec, self)?;
        if overrides.provider.is_some() || overrides.model.is_some() {
            node.override_model(overrides.provider.as_deref(), overrides.model.as_deref());
        }
        if let Some(c) = overrides.nodes.get(&spec.id) {
            node.override_model(c.provider.as_deref(), c.model.as_deref());
        }
        Ok(BuiltNode {
            kind: spec.kind,
            node: Arc::from(node),
            policy: shared_policy(policy),
        })
    }
}

/// One `Arc` for every default policy; others get their own.
fn shared_policy(p: NodePolicy) -> Arc<NodePolicy> {
    static DEFAULT: OnceLock<Arc<NodePolicy>> = OnceLock::new();
    let default = DEFAULT.get_or_init(|| Arc::new(NodePolicy::default()));
    if p == **default {
        default.clone()
    } else {
        Arc::new(p)
    }
}
