//! What an OpenAI-compatible server accepts, learned from its refusals and
//! remembered for every client of the same provider name and base URL for
//! the rest of the process. Each refusal moves one feature one step weaker;
//! the step is announced once (as a notice on the next successful reply).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use lekhika_core::provider::OutputFormat;

use crate::config::{MaxTokensField, OpenAiCompat};

/// How a JSON reply is asked for, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Structured {
    /// `response_format: {type: json_schema, json_schema: {name, schema}}`.
    JsonSchema,
    /// `{type: json_object, schema}` plus the schema in the prompt
    /// (llama.cpp and llama-cpp-python turn that `schema` into a grammar).
    JsonObjectWithSchema,
    /// `{type: json_object}` plus the schema in the prompt.
    JsonObject,
    /// No `response_format`: the schema in the prompt only.
    PromptOnly,
}

impl Structured {
    fn weaker(self) -> Option<Self> {
        match self {
            Self::JsonSchema => Some(Self::JsonObjectWithSchema),
            Self::JsonObjectWithSchema => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::PromptOnly),
            Self::PromptOnly => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::JsonSchema => "response_format json_schema",
            Self::JsonObjectWithSchema => "response_format json_object with a schema",
            Self::JsonObject => "response_format json_object",
            Self::PromptOnly => "no response_format",
        }
    }
}

/// The request form a server is believed to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Form {
    /// For requests with a JSON Schema.
    pub schema: Structured,
    /// For JSON requests without a schema (`JsonObject` or `PromptOnly`).
    pub json: Structured,
    pub max_field: MaxTokensField,
    pub stream_usage: bool,
    pub temperature: bool,
}

impl Form {
    fn initial(c: OpenAiCompat) -> Self {
        Self {
            schema: Structured::JsonSchema,
            json: Structured::JsonObject,
            max_field: c.max_tokens_field,
            stream_usage: c.stream_usage,
            temperature: true,
        }
    }

    /// The structured-output form of a request for `output` (`None`: plain text).
    pub(crate) fn structured(&self, output: &OutputFormat) -> Option<Structured> {
        match output {
            OutputFormat::Text => None,
            OutputFormat::Json => Some(self.json),
            OutputFormat::JsonSchema { .. } => Some(self.schema),
        }
    }
}

/// What a refusal did to the dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// This call moved the feature one step weaker; the notice to report.
    Stepped(String),
    /// Another call already did: send again in the current form.
    Again,
    /// Nothing weaker to try.
    NoWeaker,
}

/// One request feature a server refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    ResponseFormat,
    StreamOptions,
    MaxCompletionTokens,
    MaxTokens,
    Temperature,
}

#[derive(Debug)]
struct State {
    form: Form,
    /// Steps taken and not yet reported.
    pending: Vec<String>,
}

/// The learned form of one (provider, base URL).
#[derive(Debug)]
pub(crate) struct Dialect {
    state: Mutex<State>,
}

type Registry = Mutex<HashMap<(String, String), Arc<Dialect>>>;

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(Registry::default)
}

impl Dialect {
    /// The process-wide dialect of `(provider, base_url)`; `compat` sets
    /// the starting form the first time the pair is seen.
    pub(crate) fn shared(provider: &str, base_url: &str, compat: OpenAiCompat) -> Arc<Self> {
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        reg.entry((provider.to_string(), base_url.to_string()))
            .or_insert_with(|| Arc::new(Self::new(compat)))
            .clone()
    }

    pub(crate) fn new(compat: OpenAiCompat) -> Self {
        Self {
            state: Mutex::new(State {
                form: Form::initial(compat),
                pending: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The form to send now.
    pub(crate) fn form(&self) -> Form {
        self.lock().form
    }

    /// `sent` (a request for `output`) was refused for `what`: move that
    /// feature one step weaker, unless another call already did.
    /// `who` and `why` go into the notice of the step, which the caller
    /// reports (or hands back with [`Dialect::orphan`]).
    pub(crate) fn step_down(
        &self,
        sent: &Form,
        output: &OutputFormat,
        what: Refused,
        who: &str,
        why: &str,
    ) -> Step {
        use Step::{Again, NoWeaker, Stepped};
        let mut st = self.lock();
        let cur = &mut st.form;
        let note = match what {
            Refused::ResponseFormat => {
                let (from, slot) = match output {
                    OutputFormat::Text => return NoWeaker,
                    OutputFormat::Json => (sent.json, &mut cur.json),
                    OutputFormat::JsonSchema { .. } => (sent.schema, &mut cur.schema),
                };
                let Some(to) = from.weaker() else {
                    return NoWeaker;
                };
                if *slot >= to {
                    return Again; // another call stepped down already
                }
                *slot = to;
                let prompt = if to == Structured::JsonSchema {
                    ""
                } else {
                    " (the schema goes into the prompt)"
                };
                format!(
                    "{who}: the server refused {} ({why}); sending {}{prompt} from now on",
                    from.describe(),
                    to.describe()
                )
            }
            Refused::StreamOptions => {
                if !sent.stream_usage {
                    return NoWeaker;
                }
                if !cur.stream_usage {
                    return Again;
                }
                cur.stream_usage = false;
                format!(
                    "{who}: the server refused stream_options ({why}); streaming without \
                     usage reports from now on (usage is estimated)"
                )
            }
            Refused::MaxCompletionTokens | Refused::MaxTokens => {
                let (from, to, old, new) = if what == Refused::MaxCompletionTokens {
                    (
                        MaxTokensField::MaxCompletionTokens,
                        MaxTokensField::MaxTokens,
                        "max_completion_tokens",
                        "max_tokens",
                    )
                } else {
                    (
                        MaxTokensField::MaxTokens,
                        MaxTokensField::MaxCompletionTokens,
                        "max_tokens",
                        "max_completion_tokens",
                    )
                };
                if sent.max_field != from {
                    return NoWeaker;
                }
                if cur.max_field == to {
                    return Again;
                }
                cur.max_field = to;
                format!("{who}: the server refused {old} ({why}); sending {new} from now on")
            }
            Refused::Temperature => {
                if !sent.temperature {
                    return NoWeaker;
                }
                if !cur.temperature {
                    return Again;
                }
                cur.temperature = false;
                format!(
                    "{who}: the server refused temperature ({why}); using the model's default \
                     temperature from now on"
                )
            }
        };
        Stepped(note)
    }

    /// Notices of steps whose calls failed after all: the next reply reports them.
    pub(crate) fn orphan(&self, notes: Vec<String>) {
        self.lock().pending.extend(notes);
    }

    /// Orphaned notices, each reported once.
    pub(crate) fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> OutputFormat {
        OutputFormat::JsonSchema {
            name: "o".into(),
            schema: json!({"type": "object"}),
        }
    }

    fn compat() -> OpenAiCompat {
        OpenAiCompat::for_base_url("http://localhost:8080/v1")
    }

    fn step(d: &Dialect, sent: &Form, o: &OutputFormat, what: Refused) -> Step {
        d.step_down(sent, o, what, "p", "HTTP 500")
    }

    fn stepped(s: Step) -> String {
        match s {
            Step::Stepped(n) => n,
            other => panic!("expected a step, got {other:?}"),
        }
    }

    #[test]
    fn the_schema_ladder_steps_once_per_refusal() {
        let d = Dialect::new(compat());
        let sent = d.form();
        let n = stepped(step(&d, &sent, &schema(), Refused::ResponseFormat));
        assert!(
            n.contains("refused response_format json_schema (HTTP 500)"),
            "{n}"
        );
        // A concurrent call that sent the same form: resend, no second step.
        assert_eq!(
            step(&d, &sent, &schema(), Refused::ResponseFormat),
            Step::Again
        );
        assert_eq!(d.form().schema, Structured::JsonObjectWithSchema);
        for want in [Structured::JsonObject, Structured::PromptOnly] {
            let sent = d.form();
            stepped(step(&d, &sent, &schema(), Refused::ResponseFormat));
            assert_eq!(d.form().schema, want);
        }
        let sent = d.form();
        assert_eq!(
            step(&d, &sent, &schema(), Refused::ResponseFormat),
            Step::NoWeaker
        );
        // Plain JSON requests have their own ladder.
        assert_eq!(d.form().json, Structured::JsonObject);
        // Notices of failed calls wait for the next reply, once.
        assert!(d.take_notices().is_empty());
        d.orphan(vec![n]);
        assert_eq!(d.take_notices().len(), 1);
        assert!(d.take_notices().is_empty());
    }

    #[test]
    fn json_without_schema_goes_straight_to_the_prompt() {
        let d = Dialect::new(compat());
        let sent = d.form();
        stepped(step(
            &d,
            &sent,
            &OutputFormat::Json,
            Refused::ResponseFormat,
        ));
        assert_eq!(d.form().json, Structured::PromptOnly);
        assert_eq!(d.form().schema, Structured::JsonSchema);
        let f = d.form();
        assert_eq!(
            step(&d, &f, &OutputFormat::Text, Refused::ResponseFormat),
            Step::NoWeaker
        );
    }

    #[test]
    fn token_field_stream_options_and_temperature() {
        let d = Dialect::new(OpenAiCompat::for_base_url("https://api.openai.com/v1"));
        let text = OutputFormat::Text;
        let sent = d.form();
        assert_eq!(sent.max_field, MaxTokensField::MaxCompletionTokens);
        stepped(step(&d, &sent, &text, Refused::MaxCompletionTokens));
        assert_eq!(d.form().max_field, MaxTokensField::MaxTokens);
        // A stale refusal of the other field does not flip it back.
        assert_eq!(step(&d, &sent, &text, Refused::MaxTokens), Step::NoWeaker);
        stepped(step(&d, &sent, &text, Refused::StreamOptions));
        assert!(!d.form().stream_usage);
        assert_eq!(
            step(&d, &d.form(), &text, Refused::StreamOptions),
            Step::NoWeaker
        );
        stepped(step(&d, &sent, &text, Refused::Temperature));
        assert!(!d.form().temperature);
    }

    #[test]
    fn shared_by_provider_and_url() {
        let a = Dialect::shared("dialect-test", "http://a", compat());
        let b = Dialect::shared("dialect-test", "http://a", compat());
        let c = Dialect::shared("dialect-test", "http://b", compat());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
