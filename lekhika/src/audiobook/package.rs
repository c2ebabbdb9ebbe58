//! An audiobook's files from a `speech` node's output and its chapters'
//! audio: one file per chapter, numbered in book order and named by its
//! title (`01-the-harbour.mp3`, with the title, book, author and track
//! number tagged inside), a playlist (`playlist.m3u8`, extended M3U in
//! UTF-8 with relative paths, durations and titles), a chapter list
//! (`chapters.json`: number, title, file, start and duration of each) and
//! a plain one (`chapters.txt`, `HH:MM:SS.mmm Title` per line, as video
//! and podcast chapter markers take it). The playlist comes last, so an
//! audiobook directory with a playlist is complete.

use lekhika_core::audio::AudioFormat;
use lekhika_export::{file_stem, ExportedFile};
use serde_json::{json, Value};

use super::tags::{tagged, Tags};

/// The playlist: written last, its presence says the directory is complete.
pub const PLAYLIST: &str = "playlist.m3u8";
/// The chapter list.
pub const CHAPTERS: &str = "chapters.json";

/// One narrated chapter, as the `speech` node reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct NarratedChapter {
    pub number: u64,
    pub title: String,
    pub duration_seconds: f64,
    /// Where its audio is: `{mime, artifact}` or `{mime, base64}`.
    pub audio: Value,
}

/// The chapters of a `speech` node's output, in book order.
pub fn chapters(speech: &Value) -> Result<Vec<NarratedChapter>, String> {
    let list = speech
        .get("chapters")
        .and_then(Value::as_array)
        .ok_or("the narration has no `chapters` list")?;
    let mut out: Vec<NarratedChapter> = list
        .iter()
        .enumerate()
        .map(|(i, c)| NarratedChapter {
            number: c
                .get("number")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64 + 1),
            title: c
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            duration_seconds: c
                .get("duration_seconds")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            audio: c.get("audio").cloned().unwrap_or(Value::Null),
        })
        .collect();
    out.sort_by_key(|c| c.number);
    Ok(out)
}

/// The format of a `speech` node's output.
pub fn format_of(speech: &Value) -> Result<AudioFormat, String> {
    let f = speech
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("mp3");
    AudioFormat::parse(f).ok_or_else(|| format!("the narration's format `{f}` is not mp3 or wav"))
}

/// `HH:MM:SS.mmm`.
fn clock(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A chapter in the audiobook: what the narration says, its title as
/// shown and its file name.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub chapter: NarratedChapter,
    pub title: String,
    pub file: String,
}

/// The layout of an audiobook: its directory, and its chapters' titles
/// and file names in book order. Chapter files are made one at a time
/// ([`Audiobook::chapter_file`]), so a long book's audio need not be held
/// in memory at once; the lists ([`Audiobook::index_files`]) come last.
#[derive(Debug, Clone, PartialEq)]
pub struct Audiobook {
    pub dir: String,
    pub format: AudioFormat,
    pub title: String,
    pub author: String,
    pub tracks: Vec<Track>,
    /// Provider, model and voice, as the narration names them.
    voice: Vec<(&'static str, String)>,
}

impl Audiobook {
    /// The layout under `dir/` of the narration `speech`.
    pub fn plan(dir: &str, speech: &Value) -> Result<Self, String> {
        let format = format_of(speech)?;
        let list = chapters(speech)?;
        if list.is_empty() {
            return Err("the narration has no chapters".into());
        }
        let text = |k: &str| {
            speech
                .get(k)
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default()
        };
        let width = list.len().to_string().len().max(2);
        let tracks = list
            .into_iter()
            .map(|c| {
                let title = match one_line(&c.title) {
                    t if t.is_empty() => format!("Chapter {}", c.number),
                    t => t,
                };
                let stem = if title.chars().any(char::is_alphanumeric) {
                    file_stem(&title)
                } else {
                    "chapter".to_string()
                };
                let file = format!("{:0width$}-{stem}.{}", c.number, format.as_str());
                Track {
                    chapter: c,
                    title,
                    file,
                }
            })
            .collect();
        Ok(Self {
            dir: dir.to_string(),
            format,
            title: text("title"),
            author: text("author"),
            tracks,
            voice: ["provider", "model", "voice"]
                .into_iter()
                .map(|k| (k, text(k)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        })
    }

    /// The file of track `i` (of [`Audiobook::tracks`]) from its audio,
    /// tagged with its titles and track number.
    pub fn chapter_file(&self, i: usize, audio: Vec<u8>) -> ExportedFile {
        let t = &self.tracks[i];
        let tags = Tags {
            title: &t.title,
            album: &self.title,
            artist: (!self.author.is_empty()).then_some(self.author.as_str()),
            track: format!("{}/{}", t.chapter.number, self.tracks.len()),
        };
        ExportedFile {
            name: format!("{}/{}", self.dir, t.file),
            mime: self.format.mime().to_string(),
            bytes: tagged(self.format, audio, &tags),
        }
    }

    /// The chapter lists and, last, the playlist.
    pub fn index_files(&self) -> Result<Vec<ExportedFile>, String> {
        let mut playlist = String::from("#EXTM3U\n");
        if !self.title.is_empty() {
            playlist.push_str(&format!("#PLAYLIST:{}\n", self.title));
        }
        let mut txt = String::new();
        let mut entries = Vec::new();
        let mut start = 0.0f64;
        for t in &self.tracks {
            let seconds = t.chapter.duration_seconds;
            // Whole seconds, as every player reads them; never 0 for audio.
            let extinf = (seconds.round() as u64).max(u64::from(seconds > 0.0));
            playlist.push_str(&format!("#EXTINF:{extinf},{}\n{}\n", t.title, t.file));
            txt.push_str(&format!("{} {}\n", clock(start), t.title));
            entries.push(json!({
                "number": t.chapter.number,
                "title": t.title,
                "file": t.file,
                "start_seconds": round_ms(start),
                "duration_seconds": seconds,
            }));
            start += seconds;
        }
        let mut index = json!({
            "title": self.title,
            "format": self.format.as_str(),
            "duration_seconds": round_ms(start),
            "chapters": entries,
        });
        if !self.author.is_empty() {
            index["author"] = json!(self.author);
        }
        for (k, v) in &self.voice {
            index[*k] = json!(v);
        }
        let pretty = serde_json::to_vec_pretty(&index).map_err(|e| e.to_string())?;
        Ok(vec![
            self.file(CHAPTERS, "application/json", pretty),
            self.file(
                "chapters.txt",
                "text/plain; charset=utf-8",
                txt.into_bytes(),
            ),
            self.file(PLAYLIST, "audio/x-mpegurl", playlist.into_bytes()),
        ])
    }

    fn file(&self, name: &str, mime: &str, bytes: Vec<u8>) -> ExportedFile {
        ExportedFile {
            name: format!("{}/{name}", self.dir),
            mime: mime.to_string(),
            bytes,
        }
    }
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// Every file of the audiobook under `dir/`, from the narration `speech`
/// and each chapter's audio (in the order of [`chapters`]).
pub fn package(
    dir: &str,
    speech: &Value,
    audio: Vec<Vec<u8>>,
) -> Result<Vec<ExportedFile>, String> {
    let book = Audiobook::plan(dir, speech)?;
    if book.tracks.len() != audio.len() {
        return Err(format!(
            "{} chapters but {} audio files",
            book.tracks.len(),
            audio.len()
        ));
    }
    let mut files: Vec<ExportedFile> = audio
        .into_iter()
        .enumerate()
        .map(|(i, a)| book.chapter_file(i, a))
        .collect();
    files.extend(book.index_files()?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lekhika_core::audio::mp3;

    #[test]
    fn clocks() {
        assert_eq!(clock(3725.5), "01:02:05.500");
        assert_eq!(clock(0.0), "00:00:00.000");
    }

    #[test]
    fn files_playlist_and_chapter_lists() {
        let speech = json!({"title": "Salt Roads", "author": "A. Writer", "format": "mp3",
        "voice": "alloy",
        "chapters": [
            {"number": 2, "title": "The Hill:  a\nWalk?", "duration_seconds": 0.48},
            {"number": 1, "title": "The Harbour", "duration_seconds": 1.2},
            {"number": 3, "title": "…", "duration_seconds": 2.0}
        ]});
        let audio = vec![
            mp3::silence(24_000, 1, 50),
            mp3::silence(24_000, 1, 20),
            mp3::silence(24_000, 1, 84),
        ];
        let files = package("salt-roads-audiobook", &speech, audio).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "salt-roads-audiobook/01-the-harbour.mp3",
                "salt-roads-audiobook/02-the-hill-a-walk.mp3",
                "salt-roads-audiobook/03-chapter.mp3",
                "salt-roads-audiobook/chapters.json",
                "salt-roads-audiobook/chapters.txt",
                "salt-roads-audiobook/playlist.m3u8",
            ]
        );
        let text = |i: usize| String::from_utf8(files[i].bytes.clone()).unwrap();
        assert_eq!(
            text(5),
            "#EXTM3U\n#PLAYLIST:Salt Roads\n#EXTINF:1,The Harbour\n01-the-harbour.mp3\n\
             #EXTINF:1,The Hill: a Walk?\n02-the-hill-a-walk.mp3\n#EXTINF:2,…\n03-chapter.mp3\n"
        );
        assert_eq!(
            text(4),
            "00:00:00.000 The Harbour\n00:00:01.200 The Hill: a Walk?\n00:00:01.680 …\n"
        );
        let index: Value = serde_json::from_str(&text(3)).unwrap();
        assert_eq!(index["chapters"][1]["file"], "02-the-hill-a-walk.mp3");
        assert_eq!(index["chapters"][1]["title"], "The Hill: a Walk?");
        assert_eq!(index["chapters"][1]["start_seconds"], 1.2);
        assert_eq!(index["duration_seconds"], 3.68);
        assert_eq!(index["author"], "A. Writer");
        assert_eq!(index["voice"], "alloy");
        assert!(index.get("model").is_none());
        assert!(package("d", &speech, vec![]).is_err());
        assert!(package("d", &json!({"chapters": []}), vec![]).is_err());
    }
}
