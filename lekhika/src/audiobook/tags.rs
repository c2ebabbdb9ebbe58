//! Titles inside the chapter files, for players that show them: an ID3v2.3
//! tag before an MP3's frames, a LIST/INFO chunk before a WAV's data.

use lekhika_core::audio::{wav, AudioFormat};

/// What a chapter file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tags<'a> {
    pub title: &'a str,
    pub album: &'a str,
    pub artist: Option<&'a str>,
    /// `n/N`.
    pub track: String,
}

/// `audio` with `tags` written into it (unchanged when it cannot be read).
pub(crate) fn tagged(format: AudioFormat, audio: Vec<u8>, tags: &Tags<'_>) -> Vec<u8> {
    match format {
        AudioFormat::Mp3 => {
            let mut out = id3v23(tags);
            out.extend_from_slice(&audio);
            out
        }
        AudioFormat::Wav => wav_info(audio, tags),
    }
}

fn fields<'a>(t: &'a Tags<'a>) -> Vec<(&'static [u8; 4], &'static [u8; 4], &'a str)> {
    let mut v = vec![
        (b"TIT2", b"INAM", t.title),
        (b"TALB", b"IPRD", t.album),
        (b"TRCK", b"ITRK", t.track.as_str()),
        (b"TCON", b"IGNR", "Audiobook"),
    ];
    if let Some(a) = t.artist {
        v.push((b"TPE1", b"IART", a));
    }
    v.retain(|(_, _, text)| !text.trim().is_empty());
    v
}

/// An ID3v2.3 tag of UTF-16 text frames (the version every player reads).
fn id3v23(t: &Tags<'_>) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, _, text) in fields(t) {
        let mut data = vec![1u8, 0xFF, 0xFE];
        for unit in text.encode_utf16() {
            data.extend_from_slice(&unit.to_le_bytes());
        }
        body.extend_from_slice(id);
        body.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&data);
    }
    let size = u32::try_from(body.len()).unwrap_or(0);
    let mut out = b"ID3\x03\x00\x00".to_vec();
    // Sizes in the tag header are "syncsafe": 7 bits per byte.
    out.extend((0..4).rev().map(|k| ((size >> (7 * k)) & 0x7F) as u8));
    out.extend_from_slice(&body);
    out
}

/// The WAV with a LIST/INFO chunk before its data chunk.
fn wav_info(audio: Vec<u8>, t: &Tags<'_>) -> Vec<u8> {
    let data_at = match wav::parse(&audio) {
        Ok(w) => (w.data.as_ptr() as usize).saturating_sub(audio.as_ptr() as usize + 8),
        Err(_) => return audio,
    };
    let mut list = b"INFO".to_vec();
    for (_, id, text) in fields(t) {
        let mut s = text.as_bytes().to_vec();
        s.push(0);
        list.extend_from_slice(id);
        list.extend_from_slice(&u32::try_from(s.len()).unwrap_or(0).to_le_bytes());
        list.extend_from_slice(&s);
        if s.len() % 2 == 1 {
            list.push(0);
        }
    }
    let mut out = Vec::with_capacity(audio.len() + list.len() + 8);
    out.extend_from_slice(&audio[..data_at]);
    out.extend_from_slice(b"LIST");
    out.extend_from_slice(&u32::try_from(list.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&list);
    out.extend_from_slice(&audio[data_at..]);
    let riff = u32::try_from(out.len() - 8).unwrap_or(u32::MAX);
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lekhika_core::audio::{self, mp3};

    fn tags() -> Tags<'static> {
        Tags {
            title: "Der Hafen – eins",
            album: "Salt Roads",
            artist: Some("A. Writer"),
            track: "1/3".into(),
        }
    }

    #[test]
    fn tagged_files_keep_their_audio() {
        let m = mp3::silence(24_000, 1, 10);
        let t = tagged(AudioFormat::Mp3, m.clone(), &tags());
        assert!(t.starts_with(b"ID3\x03"));
        let d = |f, b: &[u8]| audio::duration_seconds(f, b).unwrap();
        assert_eq!(d(AudioFormat::Mp3, &t), d(AudioFormat::Mp3, &m));
        let w = wav::pcm16(24_000, 1, &[7; 2400]);
        let t = tagged(AudioFormat::Wav, w.clone(), &tags());
        assert_eq!(wav::parse(&t).unwrap().data, wav::parse(&w).unwrap().data);
        assert_eq!(
            u32::from_le_bytes([t[4], t[5], t[6], t[7]]) as usize,
            t.len() - 8
        );
        assert!(t.windows(4).any(|x| x == b"INAM"));
    }
}
