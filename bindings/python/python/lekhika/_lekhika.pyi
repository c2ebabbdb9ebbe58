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
    Mapping,
    Optional,
    Sequence,
    Union,
)

#: A JSON value as Python sees it.
JsonValue = Any
#: A run event: {"type": "run_started" | "node_started" | "token_delta" | "map_started" |
#: "progress" | "node_retrying" | "node_finished" | "node_failed" | "checkpoint_saved" |
#: "run_finished" | "run_failed" | "run_stopped" | "run_paused", "execution_id", "at_ms", ...}
Event = Dict[str, Any]
#: A flow document: a dict, a JSON string, a path, or a loaded Flow.
FlowLike = Union[Mapping[str, Any], str, "os.PathLike[str]", "Flow"]
#: An `on_event` callback, sync or async.
EventCallback = Callable[[Event], Union[None, Awaitable[None]]]
#: A custom node kind: called with the node's context dict, returns a JSON-able output.
#: The context has "kind", "node_id", "execution_id", "owner", "input", "upstream"
#: ({node id: output}), "item" (map item scope or None), "instruction", "attempt",
#: "config" and "progress" (a callable taking a message).
NodeFunction = Callable[[Dict[str, Any]], Union[JsonValue, Awaitable[JsonValue]]]

ALL_FORMATS: List[str]
__version__: str

class LekhikaError(Exception): ...
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
    retryable: bool

class StoreError(LekhikaError):
    retryable: bool

class NotFound(StoreError): ...
class ExportError(LekhikaError): ...

class RunError(LekhikaError):
    outcome: RunOutcome
    execution_id: str
    reason: Optional[str]
    node: Optional[str]

class RunFailed(RunError):
    code: Optional[str]
    retryable: bool

class ProviderError(RunFailed): ...
class RunStopped(RunError): ...
class RunPaused(RunError): ...
class InsufficientTokens(RunPaused): ...
class ExecutionLimitExceeded(RunPaused): ...

class AwaitingApproval(RunPaused):
    review: JsonValue

class Flow:
    """A validated flow document."""

    @property
    def doc(self) -> Dict[str, Any]: ...
    @property
    def node_ids(self) -> List[str]: ...
    @property
    def kinds(self) -> List[str]: ...
    @property
    def input_fields(self) -> List[Dict[str, Any]]: ...

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
    def usage(self) -> Dict[str, int]: ...
    @property
    def cost(self) -> int: ...
    @property
    def failure(self) -> Optional[Dict[str, Any]]: ...
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

class Wallets:
    """Wallets and tier policies of the engine's store."""

    def show(self, user: str) -> Coroutine[Any, Any, Optional[Dict[str, Any]]]: ...
    def grant(
        self, user: str, amount: int, key: Optional[str] = None, note: Optional[str] = None
    ) -> Coroutine[Any, Any, Dict[str, Any]]: ...
    def set_level(self, user: str, level: Optional[str]) -> Coroutine[Any, Any, Dict[str, Any]]: ...
    def ledger(
        self, user: str, execution_id: Optional[str] = None
    ) -> Coroutine[Any, Any, List[Dict[str, Any]]]: ...
    def tier_policy(self, level: str) -> Coroutine[Any, Any, Optional[Dict[str, Any]]]: ...
    def put_tier_policy(self, policy: Mapping[str, Any]) -> Coroutine[Any, Any, None]: ...
    def ensure_period(self, user: str, period: str) -> Coroutine[Any, Any, Dict[str, Any]]: ...

StorePath = Union[str, "os.PathLike[str]"]

class Lekhika:
    """Lekhika's engine with its store, providers, catalog and custom node kinds."""

    @staticmethod
    def open(
        store: Optional[StorePath] = None,
        *,
        providers: Optional[Sequence[Mapping[str, Any]]] = None,
        providers_file: Optional[StorePath] = None,
        providers_from_env: bool = False,
        catalog: Optional[Union[Mapping[str, Any], str, "os.PathLike[str]"]] = None,
        max_concurrency: Optional[int] = None,
        nodes: Optional[Mapping[str, NodeFunction]] = None,
    ) -> Coroutine[Any, Any, Lekhika]: ...
    @staticmethod
    def open_blocking(
        store: Optional[StorePath] = None,
        *,
        providers: Optional[Sequence[Mapping[str, Any]]] = None,
        providers_file: Optional[StorePath] = None,
        providers_from_env: bool = False,
        catalog: Optional[Union[Mapping[str, Any], str, "os.PathLike[str]"]] = None,
        max_concurrency: Optional[int] = None,
        nodes: Optional[Mapping[str, NodeFunction]] = None,
    ) -> Lekhika: ...
    @staticmethod
    def migrate_postgres(admin_url: str) -> Coroutine[Any, Any, List[str]]: ...
    @property
    def node_kinds(self) -> List[str]: ...
    @property
    def wallets(self) -> Wallets: ...
    def load_flow(self, flow: FlowLike, *, provider: Optional[str] = None, model: Optional[str] = None) -> Flow: ...
    def validate_flow(self, flow: FlowLike) -> List[Dict[str, Any]]: ...
    def check_providers(self, flow: FlowLike) -> None: ...
    def estimate(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        provider: Optional[str] = None,
        model: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def start(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        user: str = "local",
        provider: Optional[str] = None,
        model: Optional[str] = None,
        max_concurrency: Optional[int] = None,
        execution_id: Optional[str] = None,
        models: Optional[Mapping[str, Mapping[str, str]]] = None,
        on_event: Optional[EventCallback] = None,
    ) -> Coroutine[Any, Any, Run]: ...
    def run(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        user: str = "local",
        provider: Optional[str] = None,
        model: Optional[str] = None,
        max_concurrency: Optional[int] = None,
        execution_id: Optional[str] = None,
        models: Optional[Mapping[str, Mapping[str, str]]] = None,
        on_event: Optional[EventCallback] = None,
        check: bool = True,
    ) -> Coroutine[Any, Any, RunOutcome]: ...
    def run_blocking(
        self,
        flow: FlowLike,
        input: Optional[Mapping[str, Any]] = None,
        *,
        user: str = "local",
        provider: Optional[str] = None,
        model: Optional[str] = None,
        max_concurrency: Optional[int] = None,
        execution_id: Optional[str] = None,
        models: Optional[Mapping[str, Mapping[str, str]]] = None,
        on_event: Optional[Callable[[Event], None]] = None,
        check: bool = True,
    ) -> RunOutcome: ...
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
    def report(self, execution_id: str, *, user: str = "local") -> Coroutine[Any, Any, Dict[str, Any]]: ...
    def report_blocking(self, execution_id: str, *, user: str = "local") -> Dict[str, Any]: ...
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
