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
    /// The fill of a bar: the colour mixed with white by the number of
    /// times the index went round the palette, so variants of a policy
    /// (same colour) differ in bars too.
    pub fill: RGBColor,
    pub marker: Marker,
    pub dash: &'static [f64],
}

/// Resolves a stable style index into colour, marker and dash pattern.
pub(crate) fn series_style(index: usize) -> SeriesStyle {
    const TINTS: [f64; 5] = [0.0, 0.55, 0.3, 0.72, 0.15];
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    let t = TINTS[(index / PALETTE.len()) % TINTS.len()];
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * t).round() as u8;
    SeriesStyle {
        color: PALETTE[index % PALETTE.len()],
        fill: RGBColor(mix(r), mix(g), mix(b)),
        marker: MARKERS[index % MARKERS.len()],
        dash: DASHES[index % DASHES.len()],
    }
}

/// Built-in policy names, each with its own colour (their palette position):
/// every label starting with one (`fixed_8_8`) takes its colour, the longest
/// match winning (`paper_joint_repaired`).
pub const POLICY_COLOURS: [&str; 8] = [
    "fixed",
    "max_freq_bits",
    "min_energy",
    "paper_joint",
    "paper_joint_repaired",
    "exhaustive",
    "queue_aware",
    "random",
];

/// The style index of a series label: a pure function of the label, so a
/// policy looks the same in every study whatever the others are. A built-in
/// policy's own name gets its colour with its palette position's marker and
/// dash; a variant of it (`fixed_16_16`) the same colour with a marker and
/// dash chosen by a hash of the label (FNV-1a); any other label all three
/// by that hash.
pub fn label_style(label: &str) -> usize {
    let h = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let key = POLICY_COLOURS
        .iter()
        .enumerate()
        .filter(|(_, k)| label.starts_with(**k))
        .max_by_key(|(_, k)| k.len());
    let colour = key.map_or((h % 8) as usize, |(i, _)| i);
    let base = (colour % MARKERS.len(), colour % DASHES.len());
    let look = match key {
        Some((_, k)) if k.len() == label.len() => base,
        _ => {
            let v = ((h >> 8) % 35) as usize;
            let look = (v % MARKERS.len(), v / MARKERS.len());
            // A variant never looks like the plain policy.
            if look == base {
                ((look.0 + 1) % MARKERS.len(), look.1)
            } else {
                look
            }
        }
    };
    (0..PALETTE.len() * MARKERS.len() * DASHES.len())
        .find(|i| i % PALETTE.len() == colour && i % MARKERS.len() == look.0 && i % DASHES.len() == look.1)
        .unwrap_or(colour)
}
