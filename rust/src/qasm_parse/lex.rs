//! Tokens, statements and the cursor that reads them; errors name the line and the text.

use crate::error::CoreError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// A number; `int` is set when it was written as a plain integer literal.
    Num {
        value: f64,
        int: Option<u64>,
    },
    Str(String),
    /// `$n`: a physical qubit.
    Hw(u64),
    Arrow,
    Pow,
    Sym(char),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    start: usize,
    end: usize,
    line: usize,
}

pub(super) fn qasm_error(line: usize, msg: &str, text: &str) -> CoreError {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown: String = if text.chars().count() > 120 {
        text.chars().take(117).chain("...".chars()).collect()
    } else {
        text
    };
    CoreError::InvalidQasm(format!("line {line}: {msg}: `{shown}`"))
}

pub(super) fn line_text(src: &str, line: usize) -> &str {
    src.lines().nth(line - 1).unwrap_or("").trim()
}

pub(super) fn lex(src: &str) -> Result<Vec<Token>, CoreError> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        line: 1,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    pub(super) fn error(&self, line: usize, msg: &str) -> CoreError {
        qasm_error(line, msg, line_text(self.src, line))
    }

    /// Skips whitespace and comments, counting lines.
    fn skip_trivia(&mut self) -> Result<(), CoreError> {
        loop {
            let rest = self.rest();
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                let Some(close) = body.find("*/") else {
                    return Err(self.error(self.line, "unterminated block comment"));
                };
                self.line += rest[..close + 4].matches('\n').count();
                self.pos += close + 4;
            } else if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.line += usize::from(c == '\n');
                self.pos += c.len_utf8();
            } else {
                return Ok(());
            }
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>, CoreError> {
        self.skip_trivia()?;
        let Some(c) = self.rest().chars().next() else {
            return Ok(None);
        };
        let (start, line) = (self.pos, self.line);
        let tok = if c.is_alphabetic() || c == '_' {
            Tok::Ident(
                self.take_while(|c| c.is_alphanumeric() || c == '_')
                    .to_string(),
            )
        } else if c.is_ascii_digit()
            || (c == '.' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            self.number(line)?
        } else if c == '"' {
            self.string(line)?
        } else if c == '$' {
            self.pos += 1;
            let digits = self.take_while(|c| c.is_ascii_digit());
            Tok::Hw(
                digits
                    .parse()
                    .map_err(|_| self.error(line, "bad physical qubit"))?,
            )
        } else {
            self.symbol(c)
        };
        Ok(Some(Token {
            tok,
            start,
            end: self.pos,
            line,
        }))
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let rest = &self.src[self.pos..];
        let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn number(&mut self, line: usize) -> Result<Tok, CoreError> {
        let start = self.pos;
        self.take_while(|c| c.is_ascii_digit() || c == '_');
        let mut is_int = true;
        if self.rest().starts_with('.') {
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit() || c == '_');
            is_int = false;
        }
        let rest = self.rest();
        if rest.starts_with(['e', 'E']) {
            let sign = usize::from(rest[1..].starts_with(['+', '-']));
            if rest[1 + sign..].starts_with(|c: char| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                self.take_while(|c| c.is_ascii_digit());
                is_int = false;
            }
        }
        let text = self.src[start..self.pos].replace('_', "");
        let value: f64 = text
            .parse()
            .map_err(|_| self.error(line, &format!("bad number '{text}'")))?;
        let int = if is_int { text.parse().ok() } else { None };
        Ok(Tok::Num { value, int })
    }

    fn string(&mut self, line: usize) -> Result<Tok, CoreError> {
        let rest = &self.rest()[1..];
        let Some(close) = rest
            .find(['"', '\n'])
            .filter(|&i| rest[i..].starts_with('"'))
        else {
            return Err(self.error(line, "unterminated string"));
        };
        let text = rest[..close].to_string();
        self.pos += close + 2;
        Ok(Tok::Str(text))
    }

    fn symbol(&mut self, c: char) -> Tok {
        for (text, tok) in [("->", Tok::Arrow), ("**", Tok::Pow)] {
            if self.rest().starts_with(text) {
                self.pos += 2;
                return tok;
            }
        }
        self.pos += c.len_utf8();
        Tok::Sym(c)
    }
}

/// The tokens of one statement (without its `;`) and where it sits in the source.
pub(super) struct Statement<'a> {
    pub(super) toks: &'a [Token],
    pub(super) line: usize,
    text: &'a str,
}

impl Statement<'_> {
    pub(super) fn error(&self, msg: &str) -> CoreError {
        qasm_error(self.line, msg, self.text)
    }
}

/// Splits tokens at `;`; the second value holds trailing tokens that lack their `;`.
pub(super) fn split_statements<'a>(
    src: &'a str,
    tokens: &'a [Token],
) -> Result<(Vec<Statement<'a>>, Option<Statement<'a>>), CoreError> {
    let statement = |first: usize, end: usize, end_byte: usize| Statement {
        toks: &tokens[first..end],
        line: tokens[first].line,
        text: &src[tokens[first].start..end_byte],
    };
    let mut statements = Vec::new();
    let mut first = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.tok == Tok::Sym(';') {
            if i == first {
                let text = line_text(src, token.line);
                return Err(qasm_error(token.line, "empty statement", text));
            }
            statements.push(statement(first, i, token.end));
            first = i + 1;
        }
    }
    let tail = tokens.last().filter(|_| first < tokens.len());
    Ok((
        statements,
        tail.map(|last| statement(first, tokens.len(), last.end)),
    ))
}

/// Reads tokens of one statement from left to right.
pub(super) struct Cursor<'a> {
    toks: &'a [Token],
    pos: usize,
    /// Current expression nesting, checked by the expression reader.
    pub(super) depth: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(toks: &'a [Token]) -> Self {
        Cursor {
            toks,
            pos: 0,
            depth: 0,
        }
    }

    /// The token after the next one, to tell `c[0] = measure q;` from a gate call.
    pub(super) fn second(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos + 1).map(|t| &t.tok)
    }

    pub(super) fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    pub(super) fn next(&mut self) -> Option<&'a Tok> {
        let tok = self.peek();
        self.pos += usize::from(tok.is_some());
        tok
    }

    pub(super) fn eat(&mut self, want: &Tok) -> bool {
        let found = self.peek() == Some(want);
        self.pos += usize::from(found);
        found
    }

    pub(super) fn expect(&mut self, want: &Tok, what: &str) -> Result<(), String> {
        if self.eat(want) {
            Ok(())
        } else {
            Err(format!("expected {what}"))
        }
    }

    pub(super) fn ident(&mut self, what: &str) -> Result<&'a str, String> {
        match self.next() {
            Some(Tok::Ident(name)) => Ok(name),
            _ => Err(format!("expected {what}")),
        }
    }

    /// A non-negative integer literal, such as a register size or an index.
    pub(super) fn integer(&mut self, what: &str) -> Result<u64, String> {
        match self.next() {
            Some(Tok::Num { int: Some(n), .. }) => Ok(*n),
            _ => Err(format!("expected {what} (a non-negative integer literal)")),
        }
    }

    pub(super) fn end(&self) -> Result<(), String> {
        if self.pos == self.toks.len() {
            Ok(())
        } else {
            Err("unexpected text before ';'".to_string())
        }
    }
}

// ---------------------------------------------------------------- expressions
