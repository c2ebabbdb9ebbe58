//! WAV (RIFF/WAVE) files: read the format and the PCM data, write one
//! file from many pieces' data.
//!
//! Streaming encoders (OpenAI's `wav` among them) cannot know the length
//! when they send the header and write `0` or `0xFFFFFFFF` as the RIFF and
//! `data` sizes: a `data` chunk that claims more bytes than there are, or
//! none while bytes follow, runs to the end of the file.

use super::{AudioError, AudioFormat, Joined};

/// The `fmt ` chunk: how samples are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavFormat {
    /// 1 PCM, 3 IEEE float, 0xFFFE extensible, ...
    pub audio_format: u16,
    pub channels: u16,
    pub sample_rate: u32,
    /// Bytes per sample frame (all channels).
    pub block_align: u16,
    pub bits_per_sample: u16,
    /// The chunk's body as it was (kept whole, extensible fields included).
    pub raw: Vec<u8>,
}

impl WavFormat {
    /// Bytes per second, from the sample rate and frame size (the header's
    /// own byte-rate field is not trusted).
    pub fn byte_rate(&self) -> u64 {
        u64::from(self.sample_rate) * u64::from(self.block_align)
    }

    fn same_as(&self, other: &WavFormat) -> bool {
        (
            self.audio_format,
            self.channels,
            self.sample_rate,
            self.block_align,
            self.bits_per_sample,
        ) == (
            other.audio_format,
            other.channels,
            other.sample_rate,
            other.block_align,
            other.bits_per_sample,
        )
    }

    fn describe(&self) -> String {
        format!(
            "{} Hz, {} channel(s), {} bits (format {})",
            self.sample_rate, self.channels, self.bits_per_sample, self.audio_format
        )
    }
}

/// A parsed WAV file: its format and its sample data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav<'a> {
    pub format: WavFormat,
    pub data: &'a [u8],
}

impl Wav<'_> {
    pub fn duration_seconds(&self) -> f64 {
        seconds(self.data.len() as u64, self.format.byte_rate())
    }
}

fn seconds(bytes: u64, byte_rate: u64) -> f64 {
    if byte_rate == 0 {
        0.0
    } else {
        bytes as f64 / byte_rate as f64
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Read a WAV file's format and data.
pub fn parse(bytes: &[u8]) -> Result<Wav<'_>, AudioError> {
    let bad = |m: &str| AudioError::NotWav(m.to_string());
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header"));
    }
    let mut format: Option<WavFormat> = None;
    let mut at = 12usize;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(bytes, at + 4) as usize;
        let body = at + 8;
        let rest = bytes.len() - body;
        if id == b"data" {
            let format = format.ok_or_else(|| bad("the data chunk comes before `fmt `"))?;
            // A streamed file's placeholder size runs to the end of the file.
            let len = if size > rest || (size == 0 && rest > 0) {
                rest
            } else {
                size
            };
            let align = usize::from(format.block_align.max(1));
            let len = len - len % align;
            return Ok(Wav {
                format,
                data: &bytes[body..body + len],
            });
        }
        if size > rest {
            return Err(bad("a chunk runs past the end of the file"));
        }
        if id == b"fmt " {
            if size < 16 {
                return Err(bad("the `fmt ` chunk is too short"));
            }
            let f = &bytes[body..body + size];
            let fmt = WavFormat {
                audio_format: u16_at(f, 0),
                channels: u16_at(f, 2),
                sample_rate: u32_at(f, 4),
                block_align: u16_at(f, 12),
                bits_per_sample: u16_at(f, 14),
                raw: f.to_vec(),
            };
            if fmt.channels == 0 || fmt.sample_rate == 0 || fmt.block_align == 0 {
                return Err(bad("the format has no channels, rate or frame size"));
            }
            format = Some(fmt);
        }
        // Chunks are padded to an even length.
        at = body + size + (size & 1);
    }
    Err(bad("no data chunk"))
}

/// A WAV file of `format` holding `data`.
pub fn write(format: &WavFormat, data: &[u8]) -> Result<Vec<u8>, AudioError> {
    let fmt_len = format.raw.len();
    let fmt_pad = fmt_len & 1;
    let data_pad = data.len() & 1;
    let riff = 4 + (8 + fmt_len + fmt_pad) + (8 + data.len() + data_pad);
    let too_long = || AudioError::TooLong(AudioFormat::Wav);
    let riff32 = u32::try_from(riff).map_err(|_| too_long())?;
    let data32 = u32::try_from(data.len()).map_err(|_| too_long())?;
    let fmt32 = u32::try_from(fmt_len).map_err(|_| too_long())?;
    let mut out = Vec::with_capacity(riff + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff32.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&fmt32.to_le_bytes());
    out.extend_from_slice(&format.raw);
    out.resize(out.len() + fmt_pad, 0);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data32.to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len() + data_pad, 0);
    Ok(out)
}

/// One WAV file from `pieces` in order: their data one after another.
pub fn join(pieces: &[&[u8]]) -> Result<Joined, AudioError> {
    let parsed = pieces
        .iter()
        .map(|p| parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let first = parsed.first().ok_or(AudioError::Empty)?;
    if let Some((i, odd)) = parsed
        .iter()
        .enumerate()
        .find(|(_, w)| !w.format.same_as(&first.format))
    {
        return Err(AudioError::Mismatch(format!(
            "piece 1 is {}, piece {} is {}",
            first.format.describe(),
            i + 1,
            odd.format.describe()
        )));
    }
    let len: usize = parsed.iter().map(|w| w.data.len()).sum();
    let mut data = Vec::with_capacity(len);
    for w in &parsed {
        data.extend_from_slice(w.data);
    }
    Ok(Joined {
        duration_seconds: seconds(len as u64, first.format.byte_rate()),
        bytes: write(&first.format, &data)?,
    })
}

/// A 16-bit PCM WAV file of `samples` (interleaved when `channels` > 1).
pub fn pcm16(sample_rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let block_align = 2 * channels.max(1);
    let mut raw = Vec::with_capacity(16);
    raw.extend_from_slice(&1u16.to_le_bytes());
    raw.extend_from_slice(&channels.max(1).to_le_bytes());
    raw.extend_from_slice(&sample_rate.to_le_bytes());
    raw.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    raw.extend_from_slice(&block_align.to_le_bytes());
    raw.extend_from_slice(&16u16.to_le_bytes());
    let format = WavFormat {
        audio_format: 1,
        channels: channels.max(1),
        sample_rate,
        block_align,
        bits_per_sample: 16,
        raw,
    };
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    // Small enough for a RIFF size: callers pass seconds of audio, not hours.
    write(&format, &data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let w = pcm16(24_000, 1, &[1, -1, 300, 7]);
        let p = parse(&w).unwrap();
        assert_eq!(p.format.sample_rate, 24_000);
        assert_eq!(p.format.channels, 1);
        assert_eq!(p.data, &[1, 0, 255, 255, 44, 1, 7, 0]);
        assert!((p.duration_seconds() - 4.0 / 24_000.0).abs() < 1e-12);
    }

    #[test]
    fn joins_data_and_rewrites_sizes() {
        let a = pcm16(24_000, 1, &[1; 24_000]);
        let b = pcm16(24_000, 1, &[2; 12_000]);
        let j = join(&[&a, &b]).unwrap();
        assert!((j.duration_seconds - 1.5).abs() < 1e-9);
        let p = parse(&j.bytes).unwrap();
        assert_eq!(p.data.len(), 72_000);
        assert_eq!(u32_at(&j.bytes, 4) as usize, j.bytes.len() - 8);
        assert_eq!(&p.data[47_998..48_002], &[1, 0, 2, 0]);
    }

    #[test]
    fn streamed_placeholder_sizes_run_to_the_end() {
        let mut w = pcm16(8_000, 1, &[5; 100]);
        let n = w.len();
        w[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        w[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&w).unwrap().data.len(), 200);
        w[40..44].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse(&w).unwrap().data.len(), 200);
        // A cut file keeps whole sample frames.
        w.push(9);
        assert_eq!(parse(&w).unwrap().data.len(), 200);
        assert_eq!(w.len(), n + 1);
    }

    #[test]
    fn skips_other_chunks_and_refuses_mismatches() {
        let w = pcm16(24_000, 1, &[3; 10]);
        // Insert an odd-sized LIST chunk (padded) before `data`.
        let mut with_list = w[..36].to_vec();
        with_list.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
        with_list.extend_from_slice(&w[36..]);
        assert_eq!(parse(&with_list).unwrap().data.len(), 20);
        let stereo = pcm16(24_000, 2, &[3; 10]);
        assert!(matches!(
            join(&[&w, &stereo]),
            Err(AudioError::Mismatch(m)) if m.contains("piece 2")
        ));
        assert!(matches!(
            parse(b"RIFF\0\0\0\0WAVE"),
            Err(AudioError::NotWav(_))
        ));
        assert!(matches!(parse(b"ID3"), Err(AudioError::NotWav(_))));
    }
}
