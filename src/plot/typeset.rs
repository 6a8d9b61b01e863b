//! A small markup for labels, titles and legends, free of `$...$`:
//! `_{...}` sets a subscript and `^{...}` a superscript, so `D_{U}` reads
//! D with a subscript U and `10^{-3}` ten to the minus three. Any other
//! character, a lone `_` included (`latency_mean_s`), is written as it is.

/// One piece of a label: plain text, a subscript or a superscript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text on the baseline.
    Text(&'a str),
    /// Text set lower and smaller.
    Sub(&'a str),
    /// Text set higher and smaller.
    Sup(&'a str),
}

/// Splits a label into its pieces.
pub fn pieces(label: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = label;
    while let Some(at) = rest.find(['_', '^']) {
        let marked = &rest[at + 1..];
        let body = marked
            .strip_prefix('{')
            .and_then(|m| m.find('}').map(|end| &m[..end]));
        let Some(body) = body else {
            // A lone `_` or `^` is text (split here, joined again when written).
            out.push(Piece::Text(&rest[..=at]));
            rest = marked;
            continue;
        };
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        out.push(if rest.as_bytes()[at] == b'_' {
            Piece::Sub(body)
        } else {
            Piece::Sup(body)
        });
        rest = &marked[body.len() + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The label as plain text, markup removed (`D_{U}` → `DU`): for widths and file names.
pub fn plain(label: &str) -> String {
    pieces(label)
        .iter()
        .map(|p| match p {
            Piece::Text(t) | Piece::Sub(t) | Piece::Sup(t) => *t,
        })
        .collect()
}

/// The label as SVG text content (already XML-escaped), marked pieces as
/// `<tspan>`s with a baseline shift and a smaller font.
fn markup(escaped: &str) -> String {
    pieces(escaped)
        .iter()
        .map(|p| match p {
            Piece::Text(t) => (*t).to_string(),
            Piece::Sub(t) => format!("<tspan baseline-shift=\"sub\" font-size=\"70%\">{t}</tspan>"),
            Piece::Sup(t) => format!("<tspan baseline-shift=\"super\" font-size=\"70%\">{t}</tspan>"),
        })
        .collect()
}

/// An SVG document with the content of every `<text>` element typeset.
pub(crate) fn svg_text(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(open) = rest.find("<text") {
        let Some(gt) = rest[open..].find('>').map(|g| open + g + 1) else {
            break;
        };
        let Some(close) = rest[gt..].find("</text>").map(|c| gt + c) else {
            break;
        };
        out.push_str(&rest[..gt]);
        out.push_str(&markup(&rest[gt..close]));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscripts_superscripts_and_plain_underscores() {
        assert_eq!(
            pieces("D_{U} (upper)"),
            vec![Piece::Text("D"), Piece::Sub("U"), Piece::Text(" (upper)")]
        );
        assert_eq!(pieces("10^{-3}"), vec![Piece::Text("10"), Piece::Sup("-3")]);
        assert_eq!(plain("latency_mean_s"), "latency_mean_s");
        assert_eq!(plain("b_{a}, f_{a} and x_"), "ba, fa and x_");
        assert_eq!(plain("open_{brace"), "open_{brace");
        assert!(svg_text("<text x=\"1\">D_{U}</text>").contains("<tspan baseline-shift=\"sub\""));
    }
}
