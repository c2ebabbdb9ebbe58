//! Word list numbering for the DOCX exporter.

use std::cell::RefCell;

use docx_rs::{
    AbstractNumbering, Docx, Level, LevelJc, LevelOverride, LevelText, NumberFormat, Numbering,
    SpecialIndentType, Start,
};

/// Word list numbering: one abstract definition per list kind (bullets,
/// numbers) and one instance per list, so every numbered list starts at
/// its own first number and Word's list tools work on the result.
#[derive(Default)]
pub(super) struct Lists {
    /// Per list: its first number (`None`: bulleted) and nesting depth.
    lists: RefCell<Vec<(Option<u64>, usize)>>,
}

/// Abstract numbering ids (docx-rs reserves 1 for its default).
const BULLETS: usize = 10;
const NUMBERS: usize = 11;
/// The first list instance id (1 is docx-rs's default instance).
const FIRST_LIST: usize = 10;
pub(super) const LEVELS: usize = 6;

/// Left indent of list text at `depth`, in twips.
pub(super) fn list_indent(depth: usize) -> i32 {
    720 * (depth as i32 + 1)
}

impl Lists {
    /// A new list at `depth` (numbered from `start`, or bulleted); returns
    /// its numbering id.
    pub(super) fn open(&self, start: Option<u64>, depth: usize) -> usize {
        let mut l = self.lists.borrow_mut();
        l.push((start, depth));
        FIRST_LIST + l.len() - 1
    }

    /// Add the definitions and every list instance to the document.
    pub(super) fn register(self, mut docx: Docx) -> Docx {
        let lists = self.lists.into_inner();
        if lists.is_empty() {
            return docx;
        }
        let level = |depth: usize, format: &str, text: String| {
            Level::new(
                depth,
                Start::new(1),
                NumberFormat::new(format),
                LevelText::new(text),
                LevelJc::new("left"),
            )
            .indent(
                Some(list_indent(depth)),
                Some(SpecialIndentType::Hanging(360)),
                None,
                None,
            )
        };
        let mut bullets = AbstractNumbering::new(BULLETS);
        let mut numbers = AbstractNumbering::new(NUMBERS);
        for depth in 0..LEVELS {
            let mark = ["•", "◦", "▪"][depth % 3];
            bullets = bullets.add_level(level(depth, "bullet", mark.to_string()));
            let format = ["decimal", "lowerLetter", "lowerRoman"][depth % 3];
            numbers = numbers.add_level(level(depth, format, format!("%{}.", depth + 1)));
        }
        docx = docx
            .add_abstract_numbering(bullets)
            .add_abstract_numbering(numbers);
        for (i, (start, depth)) in lists.into_iter().enumerate() {
            let id = FIRST_LIST + i;
            docx = docx.add_numbering(match start {
                None => Numbering::new(id, BULLETS),
                Some(s) => Numbering::new(id, NUMBERS).add_override(
                    LevelOverride::new(depth.min(LEVELS - 1))
                        .start(usize::try_from(s).unwrap_or(1)),
                ),
            });
        }
        docx
    }
}
