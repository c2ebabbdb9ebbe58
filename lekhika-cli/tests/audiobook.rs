#![allow(clippy::unwrap_used)]

//! The audiobook flow (`examples/flows/audiobook.json`), black-box through
//! the `lekhika` binary against a loopback OpenAI server that answers
//! `/audio/speech` with real MP3 audio as long as the text:
//! - a finished manuscript is narrated into one file per chapter in book
//!   order, named by number and title, with a playlist and a chapter list
//!   whose titles and durations match the audio; every file decodes
//!   (frame by frame here, and with ffmpeg when it is installed);
//! - a chapter longer than the 4,096-character input limit is asked for
//!   in pieces within it and joined without gaps (its duration is the sum
//!   of the pieces');
//! - a wallet is charged per 1,000 characters at the catalog price, as
//!   the estimate said; `lekhika export ID --formats audiobook` rewrites it;
//! - kill -9 mid-narration, then `resume`: finished pieces are not asked
//!   again, and a deleted playlist or chapter file is written again
//!   without a speech call.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use lekhika_core::audio::{self, AudioFormat};
use lekhika_providers::testkit::{speech_seconds, RecordedRequest, Reply, ScriptedServer};
use serde_json::Value;

/// The catalog's gpt-4o-mini-tts: wallet tokens per 1,000 characters.
const PER_1K_CHARS: f64 = 150.0;
const TITLE_DIR: &str = "the-lighthouse-keeper-audiobook";

fn flow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flows/audiobook.json")
}

/// The audiobook flow with smaller pieces and two calls at once (a longer
/// run of many calls, for kills).
fn slow_flow(dir: &Path) -> PathBuf {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(flow()).unwrap()).unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        if n["type"] == "speech" {
            n["data"]["max_chars"] = 400.into();
            n["data"]["concurrency"] = 2.into();
        }
    }
    let path = dir.join("audiobook-slow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// A paragraph of about 300 characters that names its chapter's `word`.
fn paragraph(word: &str, i: usize) -> String {
    format!(
        "{word} {i}: the keeper climbed the iron stairs again and trimmed the wick, \
         counting the steps aloud as her father had taught her, one hundred and twelve \
         of them, while the wind worked at the shutters and the gulls went quiet below. \
         She wrote the hour in the log and the state of the sea beside it."
    )
}

/// A manuscript as `lekhika export` reads it: front matter, one `#`
/// heading per chapter. Chapter 2 is over 4,096 characters.
fn manuscript(dir: &Path, storm_paragraphs: usize) -> PathBuf {
    let mut md =
        String::from("---\ntitle: \"The Lighthouse Keeper\"\nauthor: A. Writer\nlang: en\n---\n\n");
    md.push_str("# The Lighthouse\n\n");
    for i in 1..=2 {
        md.push_str(&paragraph("Lamp", i));
        md.push_str("\n\n");
    }
    md.push_str("# The Storm at Sea\n\n");
    for i in 1..=storm_paragraphs {
        md.push_str(&paragraph("Wave", i));
        md.push_str("\n\n* * *\n\n");
    }
    md.push_str("# Morning\n\n*Calm* returned with the light. The boats went out.\n");
    let path = dir.join("book.md");
    std::fs::write(&path, md).unwrap();
    path
}

/// A manuscript of `chapters` chapters of `paragraphs` paragraphs each.
fn long_manuscript(dir: &Path, chapters: usize, paragraphs: usize) -> PathBuf {
    let mut md = String::from("---\ntitle: The Lighthouse Keeper\n---\n\n");
    for c in 1..=chapters {
        md.push_str(&format!("# Night {c}\n\n"));
        for i in 1..=paragraphs {
            md.push_str(&paragraph(&format!("Night{c}"), i));
            md.push_str("\n\n");
        }
    }
    let path = dir.join("long.md");
    std::fs::write(&path, md).unwrap();
    path
}

/// Answers speech with real audio, after `delay`.
fn speech_server(delay: Duration) -> ScriptedServer {
    ScriptedServer::openai(move |b| {
        if b.get("input").is_some() {
            Reply::speech(b).delay(delay)
        } else {
            Reply::error(400, r#"{"error": {"message": "speech only here"}}"#)
        }
    })
}

fn speech_requests(server: &ScriptedServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.body.get("input").is_some())
        .collect()
}

fn input(r: &RecordedRequest) -> String {
    r.body["input"].as_str().unwrap().to_string()
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Decode every frame of an MP3 file (and, with ffmpeg installed, decode
/// it with ffmpeg and read its duration with ffprobe): its duration.
fn decoded_seconds(path: &Path) -> f64 {
    let bytes = std::fs::read(path).unwrap();
    let seconds = audio::duration_seconds(AudioFormat::Mp3, &bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if have_ffmpeg() {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-xerror", "-i"])
            .arg(path)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "ffmpeg could not decode {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration:format_tags=title,track,album",
            ])
            .args(["-of", "json"])
            .arg(path)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&probe.stdout).unwrap();
        let probed: f64 = v["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert!(
            (probed - seconds).abs() < 0.03,
            "{}: ffprobe {probed} s, frames {seconds} s",
            path.display()
        );
    }
    seconds
}

/// ffmpeg and ffprobe run (required with LEKHIKA_REQUIRE_VALIDATORS=1).
fn have_ffmpeg() -> bool {
    let runs = |p: &str| {
        Command::new(p)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let there = runs("ffmpeg") && runs("ffprobe");
    assert!(
        there || std::env::var("LEKHIKA_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
        "ffmpeg/ffprobe missing and LEKHIKA_REQUIRE_VALIDATORS=1"
    );
    there
}

/// The title tag ffprobe reads from a chapter file.
fn probed_title(path: &Path) -> Option<String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags=title",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .ok()?;
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    v["format"]["tags"]["title"].as_str().map(str::to_string)
}

/// The audiobook in `dir`: checks files, lists and audio against each
/// other; returns chapters.json.
fn check_audiobook(dir: &Path, titles: &[&str]) -> Value {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("chapters.json")).unwrap()).unwrap();
    let chapters = index["chapters"].as_array().unwrap();
    let got: Vec<&str> = chapters
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(got, titles, "{index}");
    let playlist = std::fs::read_to_string(dir.join("playlist.m3u8")).unwrap();
    let mut lines = playlist.lines();
    assert_eq!(lines.next(), Some("#EXTM3U"));
    assert_eq!(lines.next(), Some("#PLAYLIST:The Lighthouse Keeper"));
    let mut start = 0.0;
    for (i, c) in chapters.iter().enumerate() {
        let (title, file) = (c["title"].as_str().unwrap(), c["file"].as_str().unwrap());
        assert_eq!(c["number"], i + 1);
        let slug = lekhika::export::file_stem(title);
        assert_eq!(file, format!("{:02}-{slug}.mp3", i + 1));
        let duration = c["duration_seconds"].as_f64().unwrap();
        assert!(duration > 0.0, "{c}");
        assert!((c["start_seconds"].as_f64().unwrap() - start).abs() < 1e-3);
        start += duration;
        // The playlist names the same file with its title and whole seconds.
        let extinf = format!("#EXTINF:{},{title}", (duration.round() as u64).max(1));
        assert_eq!(lines.next(), Some(extinf.as_str()), "{playlist}");
        assert_eq!(lines.next(), Some(file));
        let path = dir.join(file);
        let decoded = decoded_seconds(&path);
        assert!(
            (decoded - duration).abs() < 1e-3,
            "{file}: decoded {decoded} s, listed {duration} s"
        );
        if have_ffmpeg() {
            assert_eq!(probed_title(&path).as_deref(), Some(title), "{file}");
        }
    }
    assert_eq!(lines.next(), None);
    assert!((index["duration_seconds"].as_f64().unwrap() - start).abs() < 1e-3);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = chapters
        .iter()
        .map(|c| c["file"].as_str().unwrap().to_string())
        .collect();
    expected.extend(["chapters.json", "chapters.txt", "playlist.m3u8"].map(String::from));
    expected.sort();
    assert_eq!(names, expected, "and no temporary files");
    index
}

fn run_audiobook(
    flow: &Path,
    server: &ScriptedServer,
    store: &Path,
    book: &Path,
    out: &Path,
) -> Command {
    let mut c = cmd(Some(server), store);
    c.arg("run")
        .arg(flow)
        .arg("--input-file")
        .arg(format!("manuscript={}", book.display()))
        .arg("--json")
        .arg("--out")
        .arg(out);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_book_is_narrated_chapter_by_chapter_in_order_metered_and_exported() {
    let server = speech_server(Duration::ZERO);
    let dir = tmpdir("audiobook");
    let store = dir.join("s.db");
    let book = manuscript(&dir, 20);
    let out = dir.join("out");
    run_ok(cmd(None, &store).args(["validate", flow().to_str().unwrap()]));

    // The estimate plans the given manuscript exactly.
    let est = run_ok(cmd(None, &store).args([
        "estimate",
        flow().to_str().unwrap(),
        "--json",
        "--input-file",
        &format!("manuscript={}", book.display()),
    ]));
    let est: Value = serde_json::from_slice(&est.stdout).unwrap();
    let narrate = est["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "narrate")
        .unwrap()
        .clone();
    assert_eq!(est["missing_prices"], serde_json::json!([]), "{est}");

    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "1000000"]));
    let c = run_audiobook(&flow(), &server, &store, &book, &out);
    let result = tokio::task::spawn_blocking(move || {
        let mut c = c;
        run_ok(&mut c)
    })
    .await
    .unwrap();
    let last = json_lines(&result.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed", "{last}");
    let id = last["execution_id"].as_str().unwrap().to_string();
    let files: Vec<&str> = last["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        files.last().unwrap().ends_with("playlist.m3u8"),
        "{files:?}"
    );

    let ab = out.join(TITLE_DIR);
    let titles = ["The Lighthouse", "The Storm at Sea", "Morning"];
    let index = check_audiobook(&ab, &titles);
    assert_eq!(index["author"], "A. Writer");
    assert_eq!(index["voice"], "sage");
    for f in [
        "01-the-lighthouse.mp3",
        "02-the-storm-at-sea.mp3",
        "03-morning.mp3",
    ] {
        assert!(ab.join(f).is_file(), "{f}");
    }

    // What the speech server heard: the example's model and voice, the
    // reading direction, every input within the limit, each once, each
    // chapter starting with its title.
    let reqs = speech_requests(&server);
    let inputs: Vec<String> = reqs.iter().map(input).collect();
    for r in &reqs {
        assert_eq!(r.body["model"], "gpt-4o-mini-tts");
        assert_eq!(r.body["voice"], "sage");
        assert_eq!(r.body["response_format"], "mp3");
        assert!(r.body["instructions"]
            .as_str()
            .unwrap()
            .contains("audiobook narrator"));
        assert!(chars(&input(r)) <= 4096, "{}", chars(&input(r)));
    }
    let mut seen = HashMap::new();
    for i in &inputs {
        *seen.entry(i.as_str()).or_insert(0) += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "each piece asked once");
    for t in titles {
        assert!(
            inputs.iter().any(|i| i.starts_with(&format!("{t}.\n\n"))),
            "{t}"
        );
    }
    assert!(!inputs
        .iter()
        .any(|i| i.contains("title:") || i.contains('*')));

    // The storm chapter (over 6,000 characters) took several requests,
    // joined without a gap: its file is exactly as long as its pieces.
    let storm: Vec<&String> = inputs.iter().filter(|i| i.contains("Wave ")).collect();
    assert!(storm.len() >= 2, "{} storm pieces", storm.len());
    assert!(storm.iter().map(|i| chars(i)).sum::<usize>() > 4096);
    let storm_seconds: f64 = storm.iter().map(|i| speech_seconds(i, "mp3")).sum();
    let listed = index["chapters"][1]["duration_seconds"].as_f64().unwrap();
    assert!(
        (listed - storm_seconds).abs() < 1e-3,
        "joined {listed} s, pieces {storm_seconds} s"
    );
    let all: f64 = inputs.iter().map(|i| speech_seconds(i, "mp3")).sum();
    assert!((index["duration_seconds"].as_f64().unwrap() - all).abs() < 1e-3);

    // Charged per 1,000 characters at the catalog price, call by call;
    // the estimate said as much.
    let charged: i64 = inputs
        .iter()
        .map(|i| (chars(i) as f64 * PER_1K_CHARS / 1000.0).ceil() as i64)
        .sum();
    let w = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let w: Value = serde_json::from_slice(&w.stdout).unwrap();
    assert_eq!(w["wallet"]["total_spent"], charged, "{w}");
    assert_eq!(w["wallet"]["reserved"], 0);
    assert_eq!(narrate["expected"]["calls"], inputs.len(), "{narrate}");
    let estimated = narrate["expected"]["cost"].as_i64().unwrap();
    assert!(
        estimated <= charged && charged - estimated <= inputs.len() as i64,
        "estimated {estimated}, charged {charged}"
    );
    let status = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["cost"], charged, "{status}");

    // `export` rewrites the same audiobook elsewhere, without a call.
    let again = dir.join("again");
    run_ok(cmd(None, &store).args([
        "export",
        &id,
        "--formats",
        "audiobook",
        "--out",
        again.to_str().unwrap(),
    ]));
    for f in std::fs::read_dir(&ab).unwrap() {
        let name = f.unwrap().file_name();
        assert_eq!(
            std::fs::read(ab.join(&name)).unwrap(),
            std::fs::read(again.join(TITLE_DIR).join(&name)).unwrap(),
            "{name:?}"
        );
    }
    assert_eq!(speech_requests(&server).len(), inputs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_narration_resumes_without_asking_finished_pieces_again() {
    // 150 ms a reply, two at a time: 6 chapters of about 6 pieces.
    let server = speech_server(Duration::from_millis(150));
    let dir = tmpdir("audiobook-kill");
    let store = dir.join("s.db");
    let book = long_manuscript(&dir, 6, 8);
    let out = dir.join("out");
    let mut c = run_audiobook(&slow_flow(&dir), &server, &store, &book, &out);
    c.env("LEKHIKA_LEASE", "1");
    let (mut child, rx) = spawn_watched(c);
    let id = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    // Kill once a dozen replies are in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while speech_requests(&server)
        .iter()
        .filter(|r| r.replied_at.is_some())
        .count()
        < 12
    {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let killed_at = Instant::now();
    let _ = child.wait();
    let before = speech_requests(&server);
    assert!(
        !out.join(TITLE_DIR).join("playlist.m3u8").exists(),
        "killed before the end"
    );

    let mut resume = cmd(Some(&server), &store);
    resume
        .args(["resume", &id, "--json"])
        .env("LEKHIKA_LEASE", "1");
    let done = tokio::task::spawn_blocking(move || run_ok(&mut resume))
        .await
        .unwrap();
    let last = json_lines(&done.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed", "{last}");

    // A piece whose reply had arrived (and so was recorded) before the
    // kill was not asked again; only those in flight were.
    let after = speech_requests(&server);
    let mut asked: HashMap<String, usize> = HashMap::new();
    for r in &after {
        *asked.entry(input(r)).or_insert(0) += 1;
    }
    let margin = Duration::from_millis(100);
    let mut finished = 0;
    for r in &before {
        if r.replied_at.is_some_and(|t| t + margin < killed_at) {
            finished += 1;
            assert_eq!(asked[&input(r)], 1, "asked again: {}", input(r));
        }
    }
    assert!(finished >= 10, "{finished} finished before the kill");
    assert!(
        after.len() - asked.len() <= 2,
        "at most the two in flight again"
    );
    assert!(asked.keys().all(|i| chars(i) <= 400));

    let titles: Vec<String> = (1..=6).map(|c| format!("Night {c}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let ab = out.join(TITLE_DIR);
    let index = check_audiobook(&ab, &titles);
    let all: f64 = asked.keys().map(|i| speech_seconds(i, "mp3")).sum();
    assert!((index["duration_seconds"].as_f64().unwrap() - all).abs() < 1e-3);

    // A kill while the audiobook was being written: `resume` writes what
    // is missing from the recorded narration, without a speech call.
    std::fs::remove_file(ab.join("playlist.m3u8")).unwrap();
    std::fs::remove_file(ab.join("03-night-3.mp3")).unwrap();
    let out_again = run_ok(cmd(None, &store).args(["resume", &id]));
    let said = String::from_utf8_lossy(&out_again.stderr);
    assert!(said.contains("playlist.m3u8"), "{said}");
    check_audiobook(&ab, &titles);
    let out_third = run_ok(cmd(None, &store).args(["resume", &id]));
    assert!(String::from_utf8_lossy(&out_third.stderr).contains("nothing to do"));
    assert_eq!(speech_requests(&server).len(), after.len());
}
