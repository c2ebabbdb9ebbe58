//! Audio containers a narration is joined in. A provider's speech input is
//! limited (OpenAI: 4,096 characters), so the `speech` node asks for a long
//! chapter in pieces and joins their audio into one file without gaps:
//! - WAV: the pieces' PCM data one after another under one RIFF header
//!   (the pieces must share sample format, rate and channels);
//! - MP3: the pieces' frames one after another, without their ID3 tags and
//!   Xing/Info/VBRI headers; a fresh Info (or Xing) header with the joined
//!   frame count leads when the pieces had one.
//!
//! Durations come from the audio itself: the PCM byte count over the byte
//! rate, or the sum of the MP3 frames' samples over the sample rate.
//! No codec: nothing is decoded or re-encoded.

pub mod mp3;
pub mod wav;

use serde::{Deserialize, Serialize};

/// A container the narration can be joined in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    Mp3,
    Wav,
}

impl AudioFormat {
    /// `mp3` or `wav` (any case); `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mp3" => Some(Self::Mp3),
            "wav" => Some(Self::Wav),
            _ => None,
        }
    }

    /// The provider's `response_format` and the file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Mp3 => "audio/mpeg",
            Self::Wav => "audio/wav",
        }
    }

    /// The format of `bytes`, by their first bytes (RIFF/WAVE, an ID3 tag
    /// or an MPEG audio frame).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
            Some(Self::Wav)
        } else if bytes.starts_with(b"ID3") || mp3::first_frame(bytes).is_some() {
            Some(Self::Mp3)
        } else {
            None
        }
    }
}

impl std::fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Audio that cannot be read or joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("not a WAV file: {0}")]
    NotWav(String),
    #[error("not an MP3 stream: {0}")]
    NotMp3(String),
    /// Pieces of one chapter that cannot be joined as they are.
    #[error("the audio pieces differ: {0}")]
    Mismatch(String),
    #[error("the joined audio is too long for a {0} file")]
    TooLong(AudioFormat),
    #[error("there is no audio to join")]
    Empty,
}

/// Audio joined from pieces, with its duration.
#[derive(Clone, PartialEq)]
pub struct Joined {
    pub bytes: Vec<u8>,
    pub duration_seconds: f64,
}

impl std::fmt::Debug for Joined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Joined({} bytes, {:.3} s)",
            self.bytes.len(),
            self.duration_seconds
        )
    }
}

/// Join `pieces` of one format, in order, into one file.
pub fn join(format: AudioFormat, pieces: &[&[u8]]) -> Result<Joined, AudioError> {
    if pieces.is_empty() {
        return Err(AudioError::Empty);
    }
    match format {
        AudioFormat::Wav => wav::join(pieces),
        AudioFormat::Mp3 => mp3::join(pieces),
    }
}

/// The playing time of a file of `format`, in seconds.
pub fn duration_seconds(format: AudioFormat, bytes: &[u8]) -> Result<f64, AudioError> {
    match format {
        AudioFormat::Wav => Ok(wav::parse(bytes)?.duration_seconds()),
        AudioFormat::Mp3 => Ok(mp3::parse(bytes)?.duration_seconds()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_sniff() {
        assert_eq!(AudioFormat::parse(" MP3"), Some(AudioFormat::Mp3));
        assert_eq!(AudioFormat::parse("wav"), Some(AudioFormat::Wav));
        assert_eq!(AudioFormat::parse("opus"), None);
        let w = wav::pcm16(24_000, 1, &[0, 1, 2]);
        assert_eq!(AudioFormat::sniff(&w), Some(AudioFormat::Wav));
        let m = mp3::silence(24_000, 1, 3);
        assert_eq!(AudioFormat::sniff(&m), Some(AudioFormat::Mp3));
        assert_eq!(AudioFormat::sniff(b"{\"error\": 1}"), None);
        assert_eq!(join(AudioFormat::Mp3, &[]), Err(AudioError::Empty));
    }
}
