//! Readable numbers in RON written by coinfer: ron prints every float in
//! positional notation (`0.000000000000000000000000002`), which hides the
//! value. Floats far from 1 are rewritten in Rust's shortest exponent form
//! (`2e-27`, `2.65e9`), which ron reads back to the same `f64`.

/// `text` (RON) with every float literal below 1e-3 or from 1e7 up in
/// magnitude written in exponent form; strings and comments are untouched.
pub fn readable_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '"' => string_len(rest),
            '/' if rest.starts_with("//") => rest.find('\n').unwrap_or(rest.len()),
            c if c.is_ascii_digit() || (c == '-' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) => {
                let n = number_len(rest);
                out.push_str(&rewrite(&rest[..n]));
                rest = &rest[n..];
                continue;
            }
            c if c.is_alphanumeric() || c == '_' => ident_len(rest),
            c => c.len_utf8(),
        };
        out.push_str(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// Length of the string literal at the start of `s` (with its quotes).
fn string_len(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i + 1,
            _ => escaped = false,
        }
    }
    s.len()
}

fn number_len(s: &str) -> usize {
    let mut prev = ' ';
    s.char_indices()
        .find(|&(i, c)| {
            let ok = c.is_ascii_digit()
                || matches!(c, '.' | 'e' | 'E' | '_')
                || (i == 0 && c == '-')
                || (matches!(c, '-' | '+') && matches!(prev, 'e' | 'E'));
            prev = c;
            !ok
        })
        .map_or(s.len(), |(i, _)| i)
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(s.len(), |(i, _)| i)
}

fn rewrite(token: &str) -> String {
    let is_float = token.contains(['.', 'e', 'E']);
    match token.parse::<f64>() {
        Ok(x) if is_float && x != 0.0 && x.is_finite() && !(1e-3..1e7).contains(&x.abs()) => format!("{x:e}"),
        _ => token.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::readable_numbers;

    #[test]
    fn small_and_large_floats_use_exponents() {
        let text = "(kappa: 0.000000000000000000000000002, f: 2650000000.0, n: 1000000000, x: -0.5, s: \"0.0000001\") // 0.000001";
        assert_eq!(
            readable_numbers(text),
            "(kappa: 2e-27, f: 2.65e9, n: 1000000000, x: -0.5, s: \"0.0000001\") // 0.000001"
        );
    }

    #[test]
    fn rewritten_numbers_read_back_equal() {
        for x in [
            2e-27f64,
            1.0e-28,
            1310720.0,
            2.65e9,
            1.07e8,
            -3.5e-9,
            123456789.125,
        ] {
            let text = readable_numbers(&ron::to_string(&x).unwrap());
            assert_eq!(
                ron::from_str::<f64>(&text).unwrap().to_bits(),
                x.to_bits(),
                "{text}"
            );
        }
    }
}
