//! What the loopback server answers to `POST /audio/speech`: real audio a
//! decoder plays, as long as the text takes to read — a 440 Hz tone in WAV
//! (16-bit mono PCM at 24 kHz), silence in MP3 (MPEG-2 Layer III frames at
//! 24 kHz, after an ID3 tag and an Info frame as encoders write them) —
//! and OpenAI's refusals of an input over 4,096 characters or a format it
//! does not have.

use lekhika_core::audio::{mp3, wav};
use serde_json::{json, Value};

use super::Reply;

/// The sample rate of the audio the server speaks.
pub const SPEECH_SAMPLE_RATE: u32 = 24_000;
/// How long the server takes to read one word.
pub const SPEECH_MS_PER_WORD: u32 = 60;
/// OpenAI's input limit, in characters.
pub const SPEECH_MAX_CHARS: usize = 4096;

/// Samples per MP3 frame at 24 kHz (MPEG-2 Layer III).
const MP3_FRAME_SAMPLES: u32 = 576;

fn words(input: &str) -> u32 {
    u32::try_from(input.split_whitespace().count().max(1)).unwrap_or(u32::MAX)
}

fn mp3_frames(input: &str) -> u32 {
    (words(input) * SPEECH_SAMPLE_RATE / 1000 * SPEECH_MS_PER_WORD).div_ceil(MP3_FRAME_SAMPLES)
}

/// The seconds of audio the server reads `input` in, in `format` (`mp3`
/// or `wav`): 60 ms a word (MP3: rounded up to whole 24 ms frames).
pub fn speech_seconds(input: &str, format: &str) -> f64 {
    if format == "wav" {
        f64::from(words(input) * SPEECH_MS_PER_WORD) / 1000.0
    } else {
        f64::from(mp3_frames(input) * MP3_FRAME_SAMPLES) / f64::from(SPEECH_SAMPLE_RATE)
    }
}

/// The audio the server reads `input` as, in `format` (`mp3` or `wav`),
/// with its MIME type; `None` for other formats.
pub fn speech_audio(input: &str, format: &str) -> Option<(&'static str, Vec<u8>)> {
    match format {
        "wav" => {
            let n = words(input) * SPEECH_SAMPLE_RATE / 1000 * SPEECH_MS_PER_WORD;
            let step = 440.0 * std::f64::consts::TAU / f64::from(SPEECH_SAMPLE_RATE);
            let samples: Vec<i16> = (0..n)
                .map(|i| ((f64::from(i) * step).sin() * 8000.0) as i16)
                .collect();
            Some(("audio/wav", wav::pcm16(SPEECH_SAMPLE_RATE, 1, &samples)))
        }
        "mp3" => Some((
            "audio/mpeg",
            mp3::silence(SPEECH_SAMPLE_RATE, 1, mp3_frames(input) as usize),
        )),
        _ => None,
    }
}

fn refusal(message: String, param: &str, code: Option<&str>) -> Reply {
    Reply::json(
        400,
        &json!({"error": {"message": message, "type": "invalid_request_error",
                          "param": param, "code": code}}),
    )
}

impl Reply {
    /// The answer to a speech request `body` (`{model, input, voice,
    /// response_format}`), as OpenAI gives it: the audio of the input in
    /// the format asked for (default mp3), or a 400 for an input over
    /// 4,096 characters or a format other than mp3 and wav.
    pub fn speech(body: &Value) -> Reply {
        let input = body["input"].as_str().unwrap_or_default();
        let len = input.chars().count();
        if len > SPEECH_MAX_CHARS {
            return refusal(
                format!(
                    "Invalid 'input': string too long. Expected a string with maximum length \
                     {SPEECH_MAX_CHARS}, but got a string with length {len} instead."
                ),
                "input",
                Some("string_above_max_length"),
            );
        }
        let format = body["response_format"].as_str().unwrap_or("mp3");
        match speech_audio(input, format) {
            Some((mime, bytes)) => Reply::raw(200, mime, bytes),
            None => refusal(
                format!("this loopback server speaks mp3 and wav, not `{format}`"),
                "response_format",
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lekhika_core::audio::{self, AudioFormat};

    #[test]
    fn audio_is_as_long_as_the_text() {
        let text = "one two three four five";
        for format in ["wav", "mp3"] {
            let (_, bytes) = speech_audio(text, format).unwrap();
            let f = AudioFormat::parse(format).unwrap();
            let d = audio::duration_seconds(f, &bytes).unwrap();
            assert!((d - speech_seconds(text, format)).abs() < 1e-9, "{format}");
        }
        assert!((speech_seconds(text, "wav") - 0.3).abs() < 1e-9);
        assert!((speech_seconds(text, "mp3") - 0.312).abs() < 1e-9);
        assert!(speech_audio(text, "opus").is_none());
    }
}
