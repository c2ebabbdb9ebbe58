//! MP3 streams at the frame level: find the MPEG audio frames between the
//! tags, count their samples, and join streams frame by frame.
//!
//! An encoder's file is `[ID3v2 tag] [Xing/Info/VBRI frame] frames...
//! [APEv2 tag] [ID3v1 tag]`. The Xing/Info/VBRI frame carries no audio of
//! the stream (it decodes as one frame of silence where it is not
//! understood) and states the frame count of *its* file, so every piece
//! loses its tags and that frame when pieces are joined; the joined file
//! gets one Info (constant bitrate) or Xing (variable) frame of its own
//! with the joined frame and byte counts.

use super::{AudioError, Joined};

const BITRATES_V1: [[u32; 15]; 3] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u32; 15]; 3] = [
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// kbit/s of a bitrate index (1..=14) of `version` and `layer` (1..=3).
fn bitrate(version: Version, layer: u8, index: u8) -> u32 {
    let table = match version {
        Version::Mpeg1 => &BITRATES_V1,
        _ => &BITRATES_V2,
    };
    table[usize::from(layer.clamp(1, 3) - 1)][usize::from(index.min(14))]
}

/// MPEG audio version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

/// One frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub version: Version,
    /// 1, 2 or 3.
    pub layer: u8,
    pub crc: bool,
    bitrate_index: u8,
    pub bitrate_kbps: u32,
    sample_rate_index: u8,
    pub sample_rate: u32,
    pub padding: bool,
    /// 0 stereo, 1 joint stereo, 2 dual channel, 3 mono.
    pub channel_mode: u8,
    /// The fourth header byte as it was (mode extension, flags, emphasis).
    last_byte: u8,
}

impl FrameHeader {
    /// The header at the start of `b`; `None` when it is not a valid one
    /// (free-format bitrates are not supported).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; 4] = b.get(..4)?.try_into().ok()?;
        if b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b[1] >> 3) & 3 {
            0 => Version::Mpeg25,
            2 => Version::Mpeg2,
            3 => Version::Mpeg1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let bitrate_index = b[2] >> 4;
        let sample_rate_index = (b[2] >> 2) & 3;
        if bitrate_index == 0 || bitrate_index == 15 || sample_rate_index == 3 {
            return None;
        }
        let base = [44_100, 48_000, 32_000][usize::from(sample_rate_index)];
        let sample_rate = match version {
            Version::Mpeg1 => base,
            Version::Mpeg2 => base / 2,
            Version::Mpeg25 => base / 4,
        };
        Some(Self {
            version,
            layer,
            crc: b[1] & 1 == 0,
            bitrate_index,
            bitrate_kbps: bitrate(version, layer, bitrate_index),
            sample_rate_index,
            sample_rate,
            padding: (b[2] >> 1) & 1 == 1,
            channel_mode: b[3] >> 6,
            last_byte: b[3],
        })
    }

    /// This header at another bitrate.
    fn with_bitrate(self, index: u8) -> Self {
        Self {
            bitrate_index: index,
            bitrate_kbps: bitrate(self.version, self.layer, index),
            ..self
        }
    }

    /// The frame's length in bytes, header included.
    pub fn frame_len(&self) -> usize {
        let (br, sr, pad) = (
            self.bitrate_kbps as usize * 1000,
            self.sample_rate as usize,
            usize::from(self.padding),
        );
        match (self.layer, self.version) {
            (1, _) => (12 * br / sr + pad) * 4,
            (3, Version::Mpeg2 | Version::Mpeg25) => 72 * br / sr + pad,
            _ => 144 * br / sr + pad,
        }
    }

    /// Samples per channel the frame decodes to.
    pub fn samples(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (3, Version::Mpeg2 | Version::Mpeg25) => 576,
            _ => 1152,
        }
    }

    pub fn channels(&self) -> u8 {
        if self.channel_mode == 3 {
            1
        } else {
            2
        }
    }

    /// Bytes of Layer III side information after the header (and CRC).
    fn side_info_len(&self) -> usize {
        match (self.version, self.channels()) {
            (Version::Mpeg1, 1) => 17,
            (Version::Mpeg1, _) => 32,
            (_, 1) => 9,
            _ => 17,
        }
    }

    /// Same stream parameters: frames of both can follow one another.
    fn joins(&self, other: &FrameHeader) -> bool {
        (self.version, self.layer, self.sample_rate, self.channels())
            == (
                other.version,
                other.layer,
                other.sample_rate,
                other.channels(),
            )
    }

    fn describe(&self) -> String {
        let v = match self.version {
            Version::Mpeg1 => "MPEG-1",
            Version::Mpeg2 => "MPEG-2",
            Version::Mpeg25 => "MPEG-2.5",
        };
        format!(
            "{v} layer {} at {} Hz, {} channel(s)",
            self.layer,
            self.sample_rate,
            self.channels()
        )
    }

    fn bytes(&self) -> [u8; 4] {
        let v = match self.version {
            Version::Mpeg25 => 0,
            Version::Mpeg2 => 2,
            Version::Mpeg1 => 3,
        };
        [
            0xFF,
            0xE0 | (v << 3) | ((4 - self.layer) << 1) | u8::from(!self.crc),
            (self.bitrate_index << 4)
                | (self.sample_rate_index << 2)
                | (u8::from(self.padding) << 1),
            self.last_byte,
        ]
    }
}

/// One frame of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    pub bytes: &'a [u8],
}

/// The audio frames of an MP3 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp3<'a> {
    pub frames: Vec<Frame<'a>>,
    /// The file began with a Xing, Info or VBRI frame (not counted in `frames`).
    pub vbr_header: bool,
}

impl Mp3<'_> {
    pub fn duration_seconds(&self) -> f64 {
        self.frames
            .iter()
            .map(|f| f64::from(f.header.samples()) / f64::from(f.header.sample_rate))
            .sum()
    }

    fn first(&self) -> Option<&FrameHeader> {
        self.frames.first().map(|f| &f.header)
    }
}

/// The offset of the first frame header whose frame fits in `bytes` and
/// is followed by another frame of the same stream (or the end).
pub fn first_frame(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len().saturating_sub(3)).find(|&at| plausible(bytes, at, bytes.len()))
}

fn plausible(bytes: &[u8], at: usize, end: usize) -> bool {
    let Some(h) = FrameHeader::parse(&bytes[at..end]) else {
        return false;
    };
    let next = at + h.frame_len();
    if next > end {
        return false;
    }
    next == end
        || bytes
            .get(next..end)
            .and_then(FrameHeader::parse)
            .is_some_and(|n| n.joins(&h))
}

/// Where the ID3v2 tags at the start of `bytes` end.
fn after_id3v2(bytes: &[u8]) -> usize {
    let mut at = 0;
    while bytes.len() >= at + 10 && &bytes[at..at + 3] == b"ID3" {
        let size = bytes[at + 6..at + 10]
            .iter()
            .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7F));
        let footer = if bytes[at + 5] & 0x10 != 0 { 10 } else { 0 };
        at = (at + 10 + size + footer).min(bytes.len());
    }
    at
}

/// Where the audio ends: before an ID3v1 tag and an APEv2 tag at the end.
fn before_trailing_tags(bytes: &[u8], start: usize) -> usize {
    let mut end = bytes.len();
    if end >= start + 128 && &bytes[end - 128..end - 125] == b"TAG" {
        end -= 128;
    }
    if end >= start + 32 && &bytes[end - 32..end - 24] == b"APETAGEX" {
        let f = &bytes[end - 32..end];
        let size = u32::from_le_bytes([f[12], f[13], f[14], f[15]]) as usize;
        let header = if f[23] & 0x80 != 0 { 32 } else { 0 };
        end = end.saturating_sub(size + header).max(start);
    }
    end
}

/// Is this frame a Xing/Info/VBRI header frame?
fn is_vbr_header(f: &Frame<'_>) -> bool {
    if f.header.layer != 3 {
        return false;
    }
    let at = 4 + if f.header.crc { 2 } else { 0 } + f.header.side_info_len();
    let tag = |at: usize| f.bytes.get(at..at + 4);
    matches!(tag(at), Some(b"Xing" | b"Info")) || tag(36) == Some(b"VBRI")
}

/// The frames of an MP3 file, without its tags and Xing/Info/VBRI frame.
/// Junk between frames is skipped; a cut last frame is dropped.
pub fn parse(bytes: &[u8]) -> Result<Mp3<'_>, AudioError> {
    let start = after_id3v2(bytes);
    let end = before_trailing_tags(bytes, start);
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut at = start;
    while at + 4 <= end {
        let header = FrameHeader::parse(&bytes[at..end]);
        let continues = matches!(
            (&header, frames.last()),
            (Some(h), Some(prev)) if h.joins(&prev.header)
        );
        match header {
            Some(h) if at + h.frame_len() <= end && (continues || plausible(bytes, at, end)) => {
                let len = h.frame_len();
                frames.push(Frame {
                    header: h,
                    bytes: &bytes[at..at + len],
                });
                at += len;
            }
            // Junk, or a frame cut short at the end: look further.
            _ => at += 1,
        }
    }
    let vbr_header = frames.first().is_some_and(is_vbr_header);
    if vbr_header {
        frames.remove(0);
    }
    if frames.is_empty() {
        return Err(AudioError::NotMp3("no MPEG audio frames found".into()));
    }
    Ok(Mp3 { frames, vbr_header })
}

/// One MP3 file from `pieces` in order: their frames one after another,
/// led by an Info/Xing frame when the pieces had one.
pub fn join(pieces: &[&[u8]]) -> Result<Joined, AudioError> {
    let streams = pieces
        .iter()
        .map(|p| parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let first = *streams
        .first()
        .and_then(Mp3::first)
        .ok_or(AudioError::Empty)?;
    for (i, s) in streams.iter().enumerate() {
        if let Some(odd) = s.frames.iter().find(|f| !f.header.joins(&first)) {
            return Err(AudioError::Mismatch(format!(
                "piece 1 is {}, piece {} has {}",
                first.describe(),
                i + 1,
                odd.header.describe()
            )));
        }
    }
    let frames: Vec<&Frame<'_>> = streams.iter().flat_map(|s| s.frames.iter()).collect();
    let audio_len: usize = frames.iter().map(|f| f.bytes.len()).sum();
    let mut out = Vec::with_capacity(audio_len + 512);
    if streams.iter().any(|s| s.vbr_header) && first.layer == 3 {
        let vbr = frames
            .iter()
            .any(|f| f.header.bitrate_index != first.bitrate_index);
        out.extend(info_frame(&first, frames.len(), audio_len, vbr));
    }
    for f in &frames {
        out.extend_from_slice(f.bytes);
    }
    let duration_seconds = streams.iter().map(Mp3::duration_seconds).sum();
    Ok(Joined {
        bytes: out,
        duration_seconds,
    })
}

/// A Layer III frame holding an Info (or Xing, for `vbr`) header for a
/// stream of `frames` audio frames and `audio_len` bytes: side information
/// all zero (silence to a decoder that does not know the header), the
/// smallest bitrate that holds it.
fn info_frame(like: &FrameHeader, frames: usize, audio_len: usize, vbr: bool) -> Vec<u8> {
    let offset = 4 + like.side_info_len();
    // Tag, flags (frames + bytes), frame count, byte count.
    let need = offset + 16;
    let mut h = FrameHeader {
        crc: false,
        padding: false,
        ..*like
    };
    for index in 1..15u8 {
        h = h.with_bitrate(index);
        if h.frame_len() >= need {
            break;
        }
    }
    let len = h.frame_len();
    let mut f = vec![0u8; len.max(need)];
    f[..4].copy_from_slice(&h.bytes());
    f[offset..offset + 4].copy_from_slice(if vbr { b"Xing" } else { b"Info" });
    f[offset + 4..offset + 8].copy_from_slice(&3u32.to_be_bytes());
    let count = u32::try_from(frames).unwrap_or(u32::MAX);
    f[offset + 8..offset + 12].copy_from_slice(&count.to_be_bytes());
    let total = u32::try_from(audio_len + f.len()).unwrap_or(u32::MAX);
    f[offset + 12..offset + 16].copy_from_slice(&total.to_be_bytes());
    f
}

/// `frames` frames of silence as an encoder writes them: an ID3v2 tag, an
/// Info frame, then Layer III frames (32 kbit/s per channel below 32 kHz,
/// 64 from 32 kHz) whose side information is all zero. For tests and
/// loopback servers: real MP3 any decoder plays, `frames` × 576 samples
/// long (× 1,152 from 32 kHz). Rates that MP3 does not have give 24 kHz.
pub fn silence(sample_rate: u32, channels: u8, frames: usize) -> Vec<u8> {
    let (version, rate_index) = match sample_rate {
        44_100 => (3u8, 0u8),
        48_000 => (3, 1),
        32_000 => (3, 2),
        22_050 => (2, 0),
        16_000 => (2, 2),
        11_025 => (0, 0),
        12_000 => (0, 1),
        8_000 => (0, 2),
        _ => (2, 1),
    };
    let bitrate_index = if version == 3 { 5 } else { 4 } + u8::from(channels > 1) * 4;
    let mode = if channels > 1 { 0 } else { 3 };
    let b = [
        0xFF,
        0xE0 | (version << 3) | (1 << 1) | 1,
        (bitrate_index << 4) | (rate_index << 2),
        mode << 6,
    ];
    let Some(h) = FrameHeader::parse(&b) else {
        return Vec::new();
    };
    let mut frame = vec![0u8; h.frame_len()];
    frame[..4].copy_from_slice(&b);
    // ID3v2.4 with one TSSE (encoder) frame, as encoders write one.
    let encoder = b"Lekhika testkit";
    let text_len = 1 + encoder.len();
    let mut out = b"ID3\x04\x00\x00\x00\x00\x00".to_vec();
    out.push(u8::try_from(10 + text_len).unwrap_or(0));
    out.extend_from_slice(b"TSSE");
    out.extend_from_slice(&u32::try_from(text_len).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&[0, 0, 3]);
    out.extend_from_slice(encoder);
    out.extend(info_frame(&h, frames, frames * frame.len(), false));
    for _ in 0..frames {
        out.extend_from_slice(&frame);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audio")
            .join(name);
        std::fs::read(p).unwrap()
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn reads_lame_output() {
        // ffmpeg/libmp3lame: ID3v2 tag, Info frame, 23 frames of 576 samples at 24 kHz.
        let a = fixture("tone-a.mp3");
        let s = parse(&a).unwrap();
        assert!(s.vbr_header);
        assert_eq!(s.frames.len(), 23);
        assert_eq!(s.frames[0].header.sample_rate, 24_000);
        assert_eq!(s.frames[0].header.channels(), 1);
        assert!((s.duration_seconds() - 0.552).abs() < 1e-9);
    }

    #[test]
    fn joins_lame_pieces_with_one_info_header() {
        let (a, b) = (fixture("tone-a.mp3"), fixture("tone-b.mp3"));
        let j = join(&[&a, &b]).unwrap();
        assert!((j.duration_seconds - (0.552 + 0.36)).abs() < 1e-9);
        assert!(!j.bytes.starts_with(b"ID3"));
        let s = parse(&j.bytes).unwrap();
        assert!(s.vbr_header);
        assert_eq!(s.frames.len(), 23 + 15);
        // The Info header states the joined frame count and byte count.
        let at = 4 + 9;
        assert_eq!(&j.bytes[at..at + 4], b"Info");
        assert_eq!(be32(&j.bytes[at + 8..]), 38);
        assert_eq!(be32(&j.bytes[at + 12..]) as usize, j.bytes.len());
    }

    #[test]
    fn variable_bitrate_gets_a_xing_header() {
        let (a, v) = (fixture("tone-a.mp3"), fixture("tone-vbr.mp3"));
        let j = join(&[&v, &a]).unwrap();
        assert_eq!(&j.bytes[13..17], b"Xing");
    }

    #[test]
    fn silence_is_what_it_says() {
        let s = silence(24_000, 1, 50);
        let p = parse(&s).unwrap();
        assert_eq!(p.frames.len(), 50);
        assert!(p.vbr_header);
        assert!((p.duration_seconds() - 1.2).abs() < 1e-9);
        for (rate, channels, spf) in [(44_100, 2, 1152), (16_000, 1, 576), (8_000, 2, 576)] {
            let bytes = silence(rate, channels, 3);
            let p = parse(&bytes).unwrap();
            assert_eq!(p.frames.len(), 3, "{rate}");
            assert_eq!(p.frames[0].header.samples(), spf);
            assert_eq!(p.frames[0].header.channels(), channels);
        }
    }

    #[test]
    fn tags_and_junk_are_skipped_and_mismatches_refused() {
        let mut s = b"junk".to_vec();
        s.extend(silence(24_000, 1, 4));
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b' ');
        s.extend(&v1);
        assert_eq!(parse(&s).unwrap().frames.len(), 4);
        // A cut last frame is dropped.
        let cut = silence(24_000, 1, 4);
        assert_eq!(parse(&cut[..cut.len() - 10]).unwrap().frames.len(), 3);
        let other = silence(44_100, 2, 2);
        assert!(matches!(
            join(&[&cut, &other]),
            Err(AudioError::Mismatch(m)) if m.contains("piece 2")
        ));
        assert!(matches!(
            parse(b"not audio at all"),
            Err(AudioError::NotMp3(_))
        ));
    }
}
