//! The SSE decoder never panics and splitting never changes what it decodes.

#![allow(clippy::unwrap_used)]

use lekhika_providers::http::{SseDecoder, SseEvent};
use proptest::prelude::*;

fn decode(parts: &[&[u8]]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for p in parts {
        out.extend(d.push(p));
    }
    out.extend(d.finish());
    out
}

fn split_at_points<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut last = 0;
    for c in cuts {
        parts.push(&bytes[last..c]);
        last = c;
    }
    parts.push(&bytes[last..]);
    parts
}

/// SSE-like input: field names, separators, CR/LF, multi-byte text, junk.
fn sse_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"event: ".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b": comment".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n\n".to_vec()),
        Just("कथा 📖 é".as_bytes().to_vec()),
        Just(b"{\"choices\":[]}".to_vec()),
        Just(b"[DONE]".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_split_anywhere_decode_the_same(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = decode(&[&bytes]);
        let parts = split_at_points(&bytes, &points);
        prop_assert_eq!(decode(&parts), whole);
    }

    #[test]
    fn sse_like_input_split_anywhere_decodes_the_same(
        bytes in sse_like(),
        points in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let whole = decode(&[&bytes]);
        let parts = split_at_points(&bytes, &points);
        prop_assert_eq!(decode(&parts), whole.clone());
        // One byte at a time, the most awkward split of all.
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(decode(&singles), whole);
    }
}
