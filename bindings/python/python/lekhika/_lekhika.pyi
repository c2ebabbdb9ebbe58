"""Type stubs of the native module (Rust, PyO3)."""

import os
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    TypedDict,
    Union,
)

from typing_extensions import NotRequired, Unpack

#: A JSON value as Python sees it.
JsonValue = Any
#: A run event: {"type": "run_started" | "node_started" | "token_delta" | "map_started" |
#: "progress" | "call_retrying" | "call_replayed" | "node_retrying" | "node_finished" |
#: "node_failed" | "checkpoint_saved" | "run_finished" | "run_failed" | "run_stopped" |
#: "run_paused", "execution_id", "at_ms", ...}
Event = Dict[str, Any]
#: A flow document: a dict, a JSON string or a path.
FlowLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]
#: An `on_event` callback, sync or async.
EventCallback = Callable[[Event], Union[None, Awaitable[None]]]
#: A custom node kind: called with the node's context dict, returns a JSON-able output.
#: The context has "kind", "node_id", "execution_id", "user", "input", "upstream"
#: ({node id: output}), "item" (map item scope or None), "instruction", "attempt",
#: "config" and "progress" (a callable taking a message).
NodeFunction = Callable[[Dict[str, Any]], Union[JsonValue, Awaitable[JsonValue]]]

ALL_FORMATS: List[str]
__version__: str

def api_methods() -> List[str]:
    """Every method of Lekhika's host API (snake_case)."""

# --- Data: the JSON forms of the Rust types (the same in the CLI's --json
# --- output and the Node package).

class Usage(TypedDict):
    input_tokens: int
    output_tokens: int

class NodeFailure(TypedDict):
    code: str
    message: str
    retryable: bool

class ModelChoice(TypedDict, total=False):
    provider: Optional[str]
    model: Optional[str]

class RunOptions(TypedDict, total=False):
    """The settings of a run (keyword arguments of start, run, submit, estimate, validate)."""

    user: str
    provider: Optional[str]
    model: Optional[str]
    models: Mapping[str, ModelChoice]
    max_concurrency: Optional[int]
    execution_id: Optional[str]
    engine_id: Optional[str]
    host: JsonValue
    reuse: bool  # serve calls identical to ones this user paid for from those runs

class RunSettings(TypedDict):
    user: Optional[str]
    provider: Optional[str]
    model: Optional[str]
    models: Dict[str, ModelChoice]
    max_concurrency: Optional[int]
    execution_id: Optional[str]
    engine_id: Optional[str]
    host: JsonValue
    reuse: bool

class FlowNodeInfo(TypedDict):
    id: str
    kind: str

class InputField(TypedDict):
    name: str
    type: str
    required: bool
    default: JsonValue
    label: Optional[str]
    description: Optional[str]
    options: Optional[List[JsonValue]]
    minimum: NotRequired[float]
    maximum: NotRequired[float]

class FlowProblem(TypedDict):
    scope: str  # `node`, `edge` or `flow`
    id: Optional[str]
    message: str

class FlowInfo(TypedDict):
    nodes: List[FlowNodeInfo]
    inputs: List[InputField]
    # Accepted but worth a look: config keys a node ignored (a typo?).
    warnings: List[FlowProblem]

class NodeFigures(TypedDict):
    calls: int
    input_tokens: int
    output_tokens: int
    cost: Optional[int]

class NodeEstimate(TypedDict):
    node: str
    provider: str
    model: str
    expected: NodeFigures
    worst: NodeFigures

class Figures(TypedDict):
    calls: int
    input_tokens: int
    output_tokens: int
    cost: int

class Estimate(TypedDict):
    nodes: List[NodeEstimate]
    expected: Figures
    worst: Figures
    missing_prices: List[str]

class RunnerInfo(TypedDict):
    worker: str
    token: int
    expires_in_ms: int

class NodeReport(TypedDict):
    node: str
    item: NotRequired[int]
    duration_ms: int
    usage: Usage
    cost: int
    attempts: int
    provider: Optional[str]
    model: Optional[str]
    metrics: JsonValue
    calls: int  # complete model replies of this node (or item)
    requests: int  # HTTP requests they took
    models: List[ModelUse]  # each provider/model it called
    reused: int  # replies served from the user's earlier runs (reuse)

class ModelUse(TypedDict):
    provider: str
    model: str
    calls: int
    requests: int
    usage: Usage
    cost: int

class ProviderTotals(TypedDict):
    calls: int
    requests: int  # what this provider's server saw
    retries: int  # requests that brought no kept reply
    usage: Usage
    cost: int

Status = Literal["pending", "running", "paused", "stopped", "completed", "failed", "interrupted"]

class LengthSummary(TypedDict):
    chapters: int
    mean: float
    min: float

class ExecutionReport(TypedDict):
    execution_id: str
    status: Status
    runner: NotRequired[RunnerInfo]
    message: Optional[str]
    reason: Optional[str]
    epoch: int
    nodes_total: int
    nodes_done: int
    nodes: List[NodeReport]
    providers: Dict[str, ProviderTotals]
    usage: Usage
    usage_estimated: Usage
    cost: int
    calls: int
    requests: int
    retries: int
    length: NotRequired[LengthSummary]
    abandoned_calls: int
    reused_calls: int  # replies served from earlier runs: no request, no charge
    reused_usage: Usage  # what those replies took when they were asked
    created_at_ms: int
    updated_at_ms: int

class ReuseStats(TypedDict):
    replies: int  # replies later reuse runs can be served from
    executions: int  # the runs that paid for them
    usage: Usage
    cost: int
    reused: int  # replies served from them so far
    reused_usage: Usage

class ExecutionSummary(TypedDict):
    id: str
    status: Status
    message: Optional[str]
    reason: Optional[str]
    engine_id: Optional[str]
    title: Optional[str]
    created_at_ms: int
    updated_at_ms: int
    runner: Optional[RunnerInfo]

class RunnerLease(TypedDict):
    worker: str
    execution_id: str
    token: int
    expires_in_ms: int
    held_for_ms: int

class BookRecord(TypedDict):
    id: str
    owner: str
    execution_id: str
    title: str
    author: Optional[str]
    word_count: int
    character_count: int
    formats: List[str]
    created_at_ms: int

class Wallet(TypedDict):
    user_id: str
    balance: int
    reserved: int
    total_earned: int
    total_spent: int
    level: Optional[str]
    current_period: Optional[str]

class LedgerEntry(TypedDict):
    user_id: str
    key: str
    kind: Literal["grant", "reserve", "settle", "release"]
    amount: int
    execution_id: Optional[str]
    node_id: Optional[str]
    note: Optional[str]
    created_at_ms: int

class TierFeatures(TypedDict, total=False):
    allowed_models: Optional[List[str]]
    allowed_node_kinds: Optional[List[str]]
    allowed_export_formats: Optional[List[str]]

class TierPolicy(TypedDict):
    level: str
    monthly_allocation: int
    per_execution_limit: Optional[int]
    features: TierFeatures

class LekhikaError(Exception):
    #: Stable machine-readable code (`flow_invalid`, `invalid_input`, `busy`, ...).
    code: str
    #: Whether the same call may succeed later.
    retryable: bool

class ConfigError(LekhikaError): ...

class FlowError(LekhikaError):
    problems: List[Dict[str, Any]]

class InvalidInput(LekhikaError):
    problems: List[str]

class TierDenied(LekhikaError):
    level: str
    problems: List[str]

class MissingPrices(LekhikaError):
    models: List[str]

class UnknownNode(LekhikaError):
    node: str

class InvalidState(LekhikaError): ...

class Busy(LekhikaError):
    runner: str

class StoreError(LekhikaError):
    # Set when opening the store failed: `auth_failed`, `database_missing`,
    # `connection_refused`, `not_migrated`, `schema_outdated`,
    # `schema_newer`, `unsafe_role`, ...
    reason: str

class NotFound(StoreError): ...
class ExportError(LekhikaError): ...

class RunError(LekhikaError):
    outcome: RunOutcome
    execution_id: str
    reason: Optional[str]
    node: Optional[str]

class RunFailed(RunError): ...

class ProviderError(RunFailed): ...
class RunStopped(RunError): ...
class RunPaused(RunError): ...
class InsufficientTokens(RunPaused): ...
class ExecutionLimitExceeded(RunPaused): ...

class AwaitingApproval(RunPaused):
    review: JsonValue

class RunOutcome:
    """How a run ended."""

    @property
    def execution_id(self) -> str: ...
    @property
    def status(self) -> str:
        """`completed`, `paused`, `stopped` or `failed`."""
    @property
    def message(self) -> Optional[str]: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def node(self) -> Optional[str]: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost(self) -> int: ...
    @property
    def failure(self) -> Optional[NodeFailure]: ...
    @property
    def review(self) -> JsonValue: ...
    @property
    def ok(self) -> bool: ...
    def raise_for_status(self) -> None: ...
    def to_dict(self) -> Dict[str, Any]: ...

class Run:
    """A running execution: iterate its events, stop it, await its outcome.

    Awaiting `wait()` or the next event ties the run to the awaiting task:
    cancelling that task stops the run.
    """

    @property
    def execution_id(self) -> str: ...
    def stop(self) -> None: ...
    def wait(self, check: bool = False) -> Coroutine[Any, Any, RunOutcome]: ...
    def wait_blocking(self, check: bool = False) -> RunOutcome: ...
    def next_event(self) -> Coroutine[Any, Any, Optional[Event]]: ...
    def __aiter__(self) -> AsyncIterator[Event]: ...
    def __anext__(self) -> Coroutine[Any, Any, Event]: ...

class Progress:
    def __call__(self, message: str) -> None: ...

class ExportedFile:
    """One rendered file of a book."""

    @property
    def name(self) -> str: ...
    @property
    def mime(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def format(self) -> str: ...
    def __len__(self) -> int: ...

StorePath = Union[str, "os.PathLike[str]"]
CatalogLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]

class Lekhika:
    """Lekhika's host API: the engine with its store, providers, catalog and custom node kinds."""

    # Opening and the schema.
    @staticmethod
    def open(
        store: Optional[StorePath] = None,
        *,
        providers: Optional[Sequence[Mapping[str, Any]]] = None,
        providers_file: Optional[StorePath] = None,
        providers_from_env: bool = False,
        catalog: Optional[CatalogLike] = None,
        max_concurrency: Optional[int] = None,
        lease: Optional[float] = None,
        fallbacks: Optional[Mapping[str, Sequence[Union[str, Mapping[str, str]]]]] = None,
        nodes: Optional[Mapping[str, NodeFunction]] = None,
    ) -> Coroutine[Any, Any, Lekhika]: ...
    @staticmethod
    def open_blocking(
        store: Optional[StorePath] = None,
        *,
        providers: Optional[Sequence[Mapping[str, Any]]] = None,
        providers_file: Optional[StorePath] = None,
        providers_from_env: bool = False,
        catalog: Optional[CatalogLike] = None,
        max_concurrency: Optional[int] = None,
        lease: Optional[float] = None,
        fallbacks: Optional[Mapping[str, Sequence[Union[str, Mapping[str, str]]]]] = None,
        nodes: Optional[Mapping[str, NodeFunction]] = None,
    ) -> Lekhika: ...
    @staticmethod
    def migrate(admin_url: str) -> Coroutine[Any, Any, List[str]]: ...
    @staticmethod
    def export_manuscript(
        path: StorePath, formats: Optional[Sequence[str]] = None, *, options: Optional[Mapping[str, Any]] = None
    ) -> Coroutine[Any, Any, List[ExportedFile]]: ...
    @staticmethod
    def write_manuscript(
        path: StorePath,
        out_dir: StorePath,
        formats: Optional[Sequence[str]] = None,
        *,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Coroutine[Any, Any, List[str]]: ...

    # Flows.
    def node_kinds(self) -> List[str]: ...
    def validate(self, flow: FlowLike, **options: Unpack[RunOptions]) -> FlowInfo: ...
    def check_flow(self, flow: FlowLike, **options: Unpack[RunOptions]) -> FlowInfo: ...
    def estimate(
        self, flow: FlowLike, input: Optional[Mapping[str, Any]] = None, **options: Unpack[RunOptions]
    ) -> Estimate: ...

    # Runs.
    def start(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        on_event: Optional[EventCallback] = None,
        **options: Unpack[RunOptions],
    ) -> Coroutine[Any, Any, Run]: ...
    def run(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        on_event: Optional[EventCallback] = None,
        check: bool = True,
        **options: Unpack[RunOptions],
    ) -> Coroutine[Any, Any, RunOutcome]: ...
    def run_blocking(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        on_event: Optional[Callable[[Event], None]] = None,
        check: bool = True,
        **options: Unpack[RunOptions],
    ) -> RunOutcome: ...
    def submit(
        self, flow: FlowLike, input: Optional[Mapping[str, Any]] = None, **options: Unpack[RunOptions]
    ) -> Coroutine[Any, Any, str]: ...
    def claim(
        self, worker: str, *, lease: float = 15.0, on_event: Optional[EventCallback] = None
    ) -> Coroutine[Any, Any, Optional[Run]]: ...
    def resume(
        self, execution_id: str, *, user: str = "local", on_event: Optional[EventCallback] = None
    ) -> Coroutine[Any, Any, Run]: ...
    def regenerate(
        self,
        execution_id: str,
        node: str,
        instruction: Optional[str] = None,
        *,
        user: str = "local",
        on_event: Optional[EventCallback] = None,
    ) -> Coroutine[Any, Any, Run]: ...
    def approve(
        self,
        execution_id: str,
        node: str,
        edited: JsonValue = None,
        *,
        user: str = "local",
        on_event: Optional[EventCallback] = None,
    ) -> Coroutine[Any, Any, Run]: ...
    def reject(
        self,
        execution_id: str,
        node: str,
        instruction: str,
        *,
        user: str = "local",
        on_event: Optional[EventCallback] = None,
    ) -> Coroutine[Any, Any, Run]: ...
    def stop(self, execution_id: str, *, user: str = "local") -> Coroutine[Any, Any, None]: ...
    def report(self, execution_id: str, *, user: str = "local") -> Coroutine[Any, Any, ExecutionReport]: ...
    def report_blocking(self, execution_id: str, *, user: str = "local") -> ExecutionReport: ...
    def settings(self, execution_id: str, *, user: str = "local") -> Coroutine[Any, Any, RunSettings]: ...
    def list_executions(
        self, *, user: str = "local", status: Optional[Status] = None
    ) -> Coroutine[Any, Any, List[ExecutionSummary]]: ...
    def runners(self) -> Coroutine[Any, Any, List[RunnerLease]]: ...
    def reuse_stats(self, *, user: str = "local") -> Coroutine[Any, Any, ReuseStats]: ...
    def clear_reuse(self, *, user: str = "local") -> Coroutine[Any, Any, int]: ...

    # Books.
    def compiled_book(self, execution_id: str, *, user: str = "local") -> Coroutine[Any, Any, Dict[str, Any]]: ...
    def export_book(
        self,
        execution_id: str,
        formats: Optional[Sequence[str]] = None,
        *,
        user: str = "local",
        options: Optional[Mapping[str, Any]] = None,
    ) -> Coroutine[Any, Any, List[ExportedFile]]: ...
    def write_book(
        self,
        execution_id: str,
        out_dir: StorePath,
        formats: Optional[Sequence[str]] = None,
        *,
        user: str = "local",
        options: Optional[Mapping[str, Any]] = None,
    ) -> Coroutine[Any, Any, List[str]]: ...
    def list_books(self, *, user: str = "local") -> Coroutine[Any, Any, List[BookRecord]]: ...

    # Wallets.
    def wallet(self, user: str) -> Coroutine[Any, Any, Optional[Wallet]]: ...
    def grant(
        self, user: str, amount: int, key: Optional[str] = None, note: Optional[str] = None
    ) -> Coroutine[Any, Any, Wallet]: ...
    def set_tier(self, user: str, level: Optional[str]) -> Coroutine[Any, Any, Wallet]: ...
    def ledger(
        self, user: str, execution_id: Optional[str] = None
    ) -> Coroutine[Any, Any, List[LedgerEntry]]: ...
    def tier_policy(self, level: str) -> Coroutine[Any, Any, Optional[TierPolicy]]: ...
    def put_tier_policy(self, policy: TierPolicy) -> Coroutine[Any, Any, None]: ...
