//! The model catalog: shipped data, host data and the wallet's price book.

#![allow(clippy::unwrap_used)]

use lekhika_core::wallet::Consumption;
use lekhika_providers::{Catalog, ModelCategory};

#[test]
fn default_catalog_has_one_default_text_model_per_text_provider_and_prices() {
    let c = Catalog::default_catalog();
    assert!(c.models().len() >= 10);
    assert_eq!(Catalog::from_json(Catalog::default_json()).unwrap(), c);
    for p in ["openai", "anthropic", "gemini"] {
        let defaults: Vec<_> = c
            .of(p, ModelCategory::Text)
            .filter(|m| m.is_default)
            .collect();
        assert_eq!(defaults.len(), 1, "{p}");
        let m = c.default_text_model(p).unwrap();
        assert!(
            m.input_per_1k > 0.0 && m.output_per_1k >= m.input_per_1k,
            "{p}"
        );
        assert!(m.context_window.unwrap() > m.max_output.unwrap());
    }
    assert!(c.default_model("stability", ModelCategory::Image).is_some());
    assert!(c.default_model("openai", ModelCategory::Audio).is_some());
    let book = c.price_book();
    let m = c.default_text_model("anthropic").unwrap();
    let price = book.get("anthropic", &m.model_id).unwrap();
    assert_eq!(price.input_per_1k, m.input_per_1k);
    assert_eq!(
        price.cost(1000, 1000),
        (m.input_per_1k + m.output_per_1k).ceil() as i64
    );
}

#[test]
fn host_rows_load_and_override() {
    let rows = r#"[{"provider": "ollama", "model_id": "llama3.2", "name": "Llama 3.2", "category": "text",
        "context_window": 131072, "input_per_1k": 0, "output_per_1k": 0, "is_default": true},
        {"provider": "openai", "model_id": "gpt-5-mini", "name": "GPT-5 mini (discount)", "category": "text",
        "input_per_1k": 1, "output_per_1k": 2}]"#;
    let mut c = Catalog::default_catalog();
    let n = c.models().len();
    c.merge(Catalog::from_json(rows).unwrap());
    assert_eq!(c.models().len(), n + 1);
    assert_eq!(c.default_text_model("ollama").unwrap().model_id, "llama3.2");
    assert_eq!(
        c.price_book()
            .get("openai", "gpt-5-mini")
            .unwrap()
            .output_per_1k,
        2.0
    );
    assert!(Catalog::from_json(r#"{"models": [{"provider": "x"}]}"#).is_err());
}

#[test]
fn speech_models_are_priced_per_character() {
    let c = Catalog::default_catalog();
    for (model, per_1k) in [
        ("tts-1", 150.0),
        ("tts-1-hd", 300.0),
        ("gpt-4o-mini-tts", 150.0),
    ] {
        let m = c.get("openai", model).unwrap();
        assert_eq!(m.category, ModelCategory::Audio, "{model}");
        assert_eq!(m.per_1k_chars, Some(per_1k), "{model}");
    }
    // US$15 per million characters: a 4,096-character call costs 615 wallet tokens.
    let prices = c.price_book();
    let chars = |model: &str, n| {
        prices
            .get("openai", model)?
            .charge(Consumption::Characters(n))
    };
    assert_eq!(chars("tts-1", 4096), Some(615));
    assert_eq!(chars("gpt-5-mini", 10), None);
    // Rows without the field still load.
    let rows =
        r#"[{"provider": "local", "model_id": "kokoro", "name": "Kokoro", "category": "audio"}]"#;
    assert_eq!(
        Catalog::from_json(rows).unwrap().models()[0].per_1k_chars,
        None
    );
}
