//! RON text as a tree of structs and lists, everything else kept verbatim:
//! enough structure to expand sweep generators and merge a scenario into
//! the one it extends, without losing enum variant names (which
//! `ron::Value` drops). Only text that `ron` has already accepted is read.

use std::fmt;

/// A value as written.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    /// `name(key: value, ..)`, `name` empty for a plain struct block.
    Struct {
        /// The struct or variant name, as written.
        name: String,
        /// Fields in written order.
        fields: Vec<(String, Node)>,
        /// Byte offset where it starts.
        at: usize,
    },
    /// `[a, b, ..]`.
    List {
        /// Items in order.
        items: Vec<Node>,
        /// Byte offset where it starts (0 for a generated list).
        at: usize,
    },
    /// Anything else (number, string, tuple, map, `Some(..)`, unit variant),
    /// as written.
    Leaf {
        /// Its text.
        text: String,
        /// Byte offset where it starts.
        at: usize,
    },
}

/// A whole file: its `#![enable(..)]` attributes and its value.
#[derive(Clone, Debug)]
pub(super) struct Doc {
    /// Attributes, as written.
    pub attrs: Vec<String>,
    /// The top-level value.
    pub root: Node,
}

/// Deepest nesting read (ron itself refuses more than 128 levels).
const MAX_DEPTH: usize = 256;

impl Doc {
    /// Reads `text`; `Err` is the byte offset where it cannot be read.
    pub fn parse(text: &str) -> Result<Doc, usize> {
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            pos: 0,
        };
        let mut attrs = Vec::new();
        p.ws();
        while p.s[p.pos..].starts_with(b"#!") {
            let start = p.pos;
            p.pos += 2;
            p.skip_group()?;
            attrs.push(text[start..p.pos].trim_end().to_string());
            p.ws();
        }
        let root = p.value(0)?;
        p.ws();
        match p.pos == p.s.len() {
            true => Ok(Doc { attrs, root }),
            false => Err(p.pos),
        }
    }

    /// The fields of the top-level struct (`None` if it is not one).
    pub fn fields_mut(&mut self) -> Option<&mut Vec<(String, Node)>> {
        match &mut self.root {
            Node::Struct { fields, .. } => Some(fields),
            _ => None,
        }
    }
}

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.attrs {
            writeln!(f, "{a}")?;
        }
        writeln!(f, "{}", self.root)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Leaf { text, .. } => f.write_str(text),
            Node::List { items, .. } => {
                let items: Vec<String> = items.iter().map(Node::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Node::Struct { name, fields, .. } => {
                let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                write!(f, "{name}({})", fields.join(", "))
            }
        }
    }
}

impl Node {
    /// The field `key` of a struct.
    pub fn field_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Struct { fields, .. } => fields.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Byte offset where the value starts.
    pub fn at(&self) -> usize {
        match self {
            Node::Struct { at, .. } | Node::Leaf { at, .. } | Node::List { at, .. } => *at,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(self.pos + i).copied()
    }

    /// Skips whitespace and comments.
    fn ws(&mut self) {
        loop {
            match (self.peek(), self.at(1)) {
                (Some(c), _) if c.is_ascii_whitespace() => self.pos += 1,
                (Some(b'/'), Some(b'/' | b'*')) => self.comment(),
                _ => return,
            }
        }
    }

    /// Skips a `//` or (nested) `/* */` comment starting here.
    fn comment(&mut self) {
        if self.at(1) == Some(b'/') {
            while self.peek().is_some_and(|c| c != b'\n') {
                self.pos += 1;
            }
            return;
        }
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match (c, self.at(1)) {
                (b'/', Some(b'*')) => (depth, self.pos) = (depth + 1, self.pos + 2),
                (b'*', Some(b'/')) => {
                    (depth, self.pos) = (depth.saturating_sub(1), self.pos + 2);
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    fn ident(&mut self) -> &str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn value(&mut self, depth: usize) -> Result<Node, usize> {
        if depth > MAX_DEPTH {
            return Err(self.pos);
        }
        self.ws();
        let start = self.pos;
        if self.peek() == Some(b'[') {
            return self.list(depth);
        }
        let name = self.ident().to_string();
        self.ws();
        if self.peek() == Some(b'(') && self.struct_follows() {
            return self.fields(name, start, depth);
        }
        self.pos = start;
        self.skip_leaf()?;
        let text = self.text[start..self.pos].trim_end().to_string();
        match text.is_empty() {
            true => Err(start),
            false => Ok(Node::Leaf { text, at: start }),
        }
    }

    /// Whether the `(` here opens `key: value` fields (or nothing).
    fn struct_follows(&mut self) -> bool {
        let back = self.pos;
        self.pos += 1;
        self.ws();
        let empty = self.peek() == Some(b')');
        let keyed = !self.ident().is_empty() && {
            self.ws();
            self.peek() == Some(b':')
        };
        self.pos = back;
        empty || keyed
    }

    fn fields(&mut self, name: String, at: usize, depth: usize) -> Result<Node, usize> {
        self.pos += 1;
        let mut fields = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b')') {
                self.pos += 1;
                return Ok(Node::Struct { name, fields, at });
            }
            let key = self.ident().to_string();
            self.ws();
            if key.is_empty() || self.peek() != Some(b':') {
                return Err(self.pos);
            }
            self.pos += 1;
            fields.push((key, self.value(depth + 1)?));
            self.separator(b')')?;
        }
    }

    fn list(&mut self, depth: usize) -> Result<Node, usize> {
        let at = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Node::List { items, at });
            }
            items.push(self.value(depth + 1)?);
            self.separator(b']')?;
        }
    }

    /// After an item: a `,`, or the closing bracket (left for the caller).
    fn separator(&mut self, close: u8) -> Result<(), usize> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            _ => Err(self.pos),
        }
    }

    /// Moves to the end of a value: a `,` or closing bracket outside any
    /// bracket, a comment, or the end of the text.
    fn skip_leaf(&mut self) -> Result<(), usize> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => self.string()?,
                b'\'' => self.char_lit()?,
                b'r' if self.raw_string_here() => self.raw_string()?,
                b'/' if matches!(self.at(1), Some(b'/' | b'*')) => match depth {
                    0 => return Ok(()),
                    _ => self.comment(),
                },
                b'(' | b'[' | b'{' => (depth, self.pos) = (depth + 1, self.pos + 1),
                b')' | b']' | b'}' | b',' if depth == 0 => return Ok(()),
                b')' | b']' | b'}' => (depth, self.pos) = (depth - 1, self.pos + 1),
                _ => self.pos += 1,
            }
        }
        Ok(())
    }

    /// Moves past the bracketed group (an attribute's `[..]`) that starts here.
    fn skip_group(&mut self) -> Result<(), usize> {
        let start = self.pos;
        if self.peek() != Some(b'[') {
            return Err(start);
        }
        self.pos += 1;
        self.skip_leaf()?;
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(start),
        }
    }

    fn string(&mut self) -> Result<(), usize> {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += if c == b'\\' { 2 } else { 1 };
            if c == b'"' {
                return Ok(());
            }
        }
        Err(start)
    }

    fn char_lit(&mut self) -> Result<(), usize> {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += if c == b'\\' { 2 } else { 1 };
            if c == b'\'' {
                return Ok(());
            }
        }
        Err(start)
    }

    /// Whether a raw string (`r"..."`, `r#"..."#`, `br".."`) starts at this `r`.
    fn raw_string_here(&self) -> bool {
        // Whether the byte before offset `i` belongs to a word.
        let word = |i: usize| {
            i.checked_sub(1)
                .and_then(|j| self.s.get(j))
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        };
        let before = self.pos.checked_sub(1);
        let byte_prefix = before.is_some_and(|j| self.s.get(j) == Some(&b'b') && !word(j));
        let prefix_ok = !word(self.pos) || byte_prefix;
        prefix_ok && {
            let hashes = self.s[self.pos + 1..].iter().take_while(|&&c| c == b'#').count();
            self.at(1 + hashes) == Some(b'"')
        }
    }

    fn raw_string(&mut self) -> Result<(), usize> {
        let start = self.pos;
        let hashes = self.s[self.pos + 1..].iter().take_while(|&&c| c == b'#').count();
        let close: Vec<u8> = std::iter::once(b'"')
            .chain(std::iter::repeat_n(b'#', hashes))
            .collect();
        let body = self.pos + 2 + hashes;
        match self
            .s
            .get(body..)
            .and_then(|rest| rest.windows(close.len()).position(|w| w == close))
        {
            Some(end) => {
                self.pos = body + end + close.len();
                Ok(())
            }
            None => Err(start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Doc;

    #[test]
    fn round_trips_structure_and_keeps_leaves_verbatim() {
        let text = "#![enable(implicit_some)]\n#![enable(unwrap_newtypes)]\n( // c\n a: Rician(k: 3.0), b: [1, (x: r#\"),\"#)], /* (*/ c: (0.5, 'x'), d: Some(\"a,b\"),\n)";
        let doc = Doc::parse(text).unwrap();
        assert_eq!(
            doc.to_string(),
            "#![enable(implicit_some)]\n#![enable(unwrap_newtypes)]\n(a: Rician(k: 3.0), b: [1, (x: r#\"),\"#)], c: (0.5, 'x'), d: Some(\"a,b\"))\n"
        );
    }

    #[test]
    fn refuses_unbalanced_text() {
        assert!(Doc::parse("(a: [1, 2)").is_err());
        assert!(Doc::parse("(a: \"x)").is_err());
        assert!(Doc::parse("(a: 1) junk").is_err());
    }
}
