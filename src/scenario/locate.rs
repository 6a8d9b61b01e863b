//! Finds where a field is written in RON text, for errors found after parsing
//! (cross-field rules). The path's components are searched in order, each
//! after the previous one; `name[i]` finds the `i`-th list item's field.

/// 1-based `(line, col)` of field `path` (e.g. `agents.cpu.freqs_ghz` or
/// `policies[2].name`) in `text`; of the nearest enclosing field written
/// when it is not; `(0, 0)` when none is.
pub fn field(text: &str, path: &str) -> (usize, usize) {
    let (last, _) = find(text, path);
    last.map_or((0, 0), |p| line_col(text, p))
}

/// 1-based `(line, col)` of field `path` in `text`, only if it is written there.
pub fn written(text: &str, path: &str) -> Option<(usize, usize)> {
    match find(text, path) {
        (Some(p), true) if !path.is_empty() => Some(line_col(text, p)),
        _ => None,
    }
}

/// Byte offset of the last component of `path` found, and whether all were.
fn find(text: &str, path: &str) -> (Option<usize>, bool) {
    let clean = strip_comments(text);
    let mut pos = 0;
    let mut last = None;
    let mut skip = 0;
    for comp in path.split('.') {
        let (key, index) = match comp.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().unwrap_or(0)),
            None => (comp, 0),
        };
        for _ in 0..=skip {
            match find_key(&clean[pos..], key) {
                Some(p) => {
                    last = Some(pos + p);
                    pos += p + key.len();
                }
                None => return (last, false),
            }
        }
        skip = index;
    }
    (last, true)
}

/// Byte offset of `key` used as a field name (`key:`), outside strings.
fn find_key(s: &str, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(p) = s[start..].find(key) {
        let at = start + p;
        let before_ok = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let after = s[at + key.len()..].trim_start();
        if before_ok && after.starts_with(':') {
            return Some(at);
        }
        start = at + key.len();
    }
    None
}

/// Blanks `//` and `/* */` comments, keeping offsets.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let (mut line_c, mut block_c, mut string) = (false, false, false);
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        if line_c {
            if c == '\n' {
                line_c = false;
                out.push(c);
            } else {
                blank(&mut out, c);
            }
        } else if block_c {
            if c == '*' && next == Some('/') {
                chars.next();
                out.push_str("  ");
                block_c = false;
            } else {
                blank(&mut out, c);
            }
        } else if string {
            if c == '"' {
                string = false;
            }
            out.push(c);
        } else if c == '"' {
            string = true;
            out.push(c);
        } else if c == '/' && next == Some('/') {
            line_c = true;
            out.push(' ');
        } else if c == '/' && next == Some('*') {
            block_c = true;
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Pushes `c` if it is a newline, else as many spaces as its UTF-8 length.
fn blank(out: &mut String, c: char) {
    if c == '\n' {
        out.push('\n');
    } else {
        out.extend(std::iter::repeat_n(' ', c.len_utf8()));
    }
}

/// 1-based `(line, col)` of byte offset `pos` in `text`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    #[test]
    fn written_needs_the_whole_path() {
        assert_eq!(super::field("(a: 1)", ""), (0, 0));
        assert_eq!(super::written("(a: 1)", ""), None);
        assert_eq!(super::written("(a: (b: 1))", "a.b"), Some((1, 6)));
        assert_eq!(super::written("(a: (c: 1))", "a.b"), None);
        assert_eq!(super::field("(a: (c: 1))", "a.b"), (1, 2));
    }
}
