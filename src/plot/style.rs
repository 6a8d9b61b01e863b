//! Stable per-series styles: Okabe–Ito colour, marker shape and dash pattern.
//!
//! The three cycles have co-prime lengths (8, 7, 5), so style indices `0..280` all get a distinct
//! combination, and every figure that uses the same index draws the series identically.

use plotters::style::RGBColor;

/// Okabe–Ito colour-blind-safe palette, ordered so that neighbours also differ in greyscale.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow (last: weak on white)
];

/// Marker shapes, cycled by style index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
    Plus,
}

const MARKERS: [Marker; 7] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
    Marker::Plus,
];

/// Dash patterns (on, off, on, off, ...) in design units (1 unit = 0.5 pt); empty = solid.
const DASHES: [&[f64]; 5] = [
    &[],
    &[8.0, 4.0],
    &[2.0, 3.5],
    &[9.0, 3.5, 2.0, 3.5],
    &[9.0, 3.0, 2.0, 3.0, 2.0, 3.0],
];

/// The resolved look of one style index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeriesStyle {
    pub color: RGBColor,
    pub marker: Marker,
    pub dash: &'static [f64],
}

/// Resolves a stable style index into colour, marker and dash pattern.
pub(crate) fn series_style(index: usize) -> SeriesStyle {
    SeriesStyle {
        color: PALETTE[index % PALETTE.len()],
        marker: MARKERS[index % MARKERS.len()],
        dash: DASHES[index % DASHES.len()],
    }
}
