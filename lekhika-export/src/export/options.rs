//! Export options.

use crate::format::{LabelOverrides, Labels};
use crate::model::Book;
use crate::ExportError;

/// Trim (page) size of printed output, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrimSize {
    /// Page width in mm.
    pub width_mm: f64,
    /// Page height in mm.
    pub height_mm: f64,
}

impl TrimSize {
    /// US trade 6 × 9 in (the default).
    pub const TRADE_6X9: TrimSize = TrimSize {
        width_mm: 152.4,
        height_mm: 228.6,
    };
    /// 5 × 8 in.
    pub const DIGEST_5X8: TrimSize = TrimSize {
        width_mm: 127.0,
        height_mm: 203.2,
    };
    /// 5.5 × 8.5 in.
    pub const DIGEST_5_5X8_5: TrimSize = TrimSize {
        width_mm: 139.7,
        height_mm: 215.9,
    };
    /// A5.
    pub const A5: TrimSize = TrimSize {
        width_mm: 148.0,
        height_mm: 210.0,
    };
}

/// Options shared by all exporters (each uses what applies to it).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// PDF page size. Default 6 × 9 in.
    pub trim: TrimSize,
    /// Top margin in mm.
    pub margin_top_mm: f64,
    /// Bottom margin in mm.
    pub margin_bottom_mm: f64,
    /// Inside (gutter) margin in mm.
    pub margin_inside_mm: f64,
    /// Outside margin in mm.
    pub margin_outside_mm: f64,
    /// Body font size in points (PDF).
    pub font_size_pt: f64,
    /// Start each chapter on a right-hand (odd) page in the PDF.
    pub chapters_on_recto: bool,
    /// Printed labels ("Contents", "Chapter {n}", copyright lines) to use
    /// instead of the book language's defaults.
    pub labels: LabelOverrides,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            trim: TrimSize::TRADE_6X9,
            margin_top_mm: 19.0,
            margin_bottom_mm: 19.0,
            margin_inside_mm: 22.0,
            margin_outside_mm: 16.0,
            font_size_pt: 11.0,
            chapters_on_recto: true,
            labels: LabelOverrides::default(),
        }
    }
}

impl ExportOptions {
    /// The labels an export of `book` prints: its language's defaults with
    /// [`ExportOptions::labels`] applied.
    pub fn labels_for(&self, book: &Book) -> Labels {
        book.default_labels().with(&self.labels)
    }

    /// Checks that sizes are positive and the text area is at least 40 × 60 mm.
    ///
    /// # Errors
    /// [`ExportError::InvalidOptions`].
    pub fn validate(&self) -> Result<(), ExportError> {
        let all = [
            self.trim.width_mm,
            self.trim.height_mm,
            self.margin_top_mm,
            self.margin_bottom_mm,
            self.margin_inside_mm,
            self.margin_outside_mm,
            self.font_size_pt,
        ];
        if all.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(ExportError::InvalidOptions(
                "sizes must be finite and non-negative".into(),
            ));
        }
        let text_w = self.trim.width_mm - self.margin_inside_mm - self.margin_outside_mm;
        let text_h = self.trim.height_mm - self.margin_top_mm - self.margin_bottom_mm;
        if text_w < 40.0 || text_h < 60.0 {
            return Err(ExportError::InvalidOptions(format!(
                "text area {text_w:.0} × {text_h:.0} mm is smaller than 40 × 60 mm"
            )));
        }
        if !(5.0..=30.0).contains(&self.font_size_pt) {
            return Err(ExportError::InvalidOptions(format!(
                "font size {} pt outside 5..=30",
                self.font_size_pt
            )));
        }
        Ok(())
    }
}
