//! Parsing a script with `brush-parser`, and its syntax errors in each
//! shell's words (dash 0.5.12, busybox 1.36 ash, bash 5.2).

use super::Dialect;
use brush_parser::{ParseError, ParserOptions, Token, TokenizerError, ast};

/// A syntax error: where, and what was found.
#[derive(Clone, Debug)]
pub struct SyntaxError {
    pub line: usize,
    pub what: What,
    /// The offending source line (bash prints it).
    pub source_line: Option<String>,
}

#[derive(Clone, Debug)]
pub enum What {
    /// End of input while a construct was open; the closing word expected.
    Eof(Option<&'static str>),
    /// An unexpected token.
    Token(String),
    /// An unterminated quote (`'`, `"`, `` ` ``).
    Quote(char),
}

/// Parses a whole script.
pub fn parse(src: &str, opts: &ParserOptions) -> Result<ast::Program, SyntaxError> {
    let last_line = src.lines().count().max(1);
    let tokens = match brush_parser::tokenize_str_with_options(src, &opts.tokenizer_options()) {
        Ok(t) => t,
        Err(e) => {
            let (what, line) = match &e {
                TokenizerError::UnterminatedSingleQuote(p) => (What::Quote('\''), p.line),
                TokenizerError::UnterminatedDoubleQuote(p) => (What::Quote('"'), p.line),
                TokenizerError::UnterminatedBackquote(p) => (What::Quote('`'), p.line),
                TokenizerError::UnterminatedHereDocuments(..) => (What::Eof(None), last_line),
                TokenizerError::UnterminatedCommandSubstitution => {
                    (What::Eof(Some(")")), last_line)
                }
                _ => (What::Eof(None), last_line),
            };
            let what = match what {
                What::Quote(_) => what,
                _ => what,
            };
            return Err(SyntaxError {
                line: if matches!(what, What::Quote(_)) {
                    last_line
                } else {
                    line
                },
                what,
                source_line: None,
            });
        }
    };
    match brush_parser::parse_tokens(&tokens, opts) {
        Ok(p) => Ok(p),
        Err(ParseError::ParsingNear(pos)) => {
            let tok = tokens.iter().find(|t| span(t).start.index >= pos.index);
            let text = tok.map(|t| t.to_str().to_string()).unwrap_or_default();
            let line = tok.map(|t| span(t).start.line).unwrap_or(pos.line);
            let source_line = src.lines().nth(line.saturating_sub(1)).map(String::from);
            if tok.is_none() {
                return Err(eof_error(&tokens, src, last_line));
            }
            Err(SyntaxError {
                line,
                what: What::Token(if text == "\n" { "newline".into() } else { text }),
                source_line,
            })
        }
        Err(_) => Err(eof_error(&tokens, src, last_line)),
    }
}

/// An error at the end of input: an unclosed construct, or a closing word
/// that closed nothing (`fi` alone).
fn eof_error(tokens: &[Token], src: &str, last_line: usize) -> SyntaxError {
    match expecting(tokens) {
        Scan::Expect(x) => SyntaxError {
            line: last_line,
            what: What::Eof(x),
            source_line: None,
        },
        Scan::Stray(t, line) => SyntaxError {
            line,
            what: What::Token(t),
            source_line: src.lines().nth(line.saturating_sub(1)).map(String::from),
        },
    }
}

enum Scan {
    Expect(Option<&'static str>),
    Stray(String, usize),
}

fn span(t: &Token) -> &brush_parser::SourceSpan {
    match t {
        Token::Operator(_, s) | Token::Word(_, s) => s,
    }
}

/// The word that would close the innermost open construct.
fn expecting(tokens: &[Token]) -> Scan {
    let mut stack: Vec<&'static str> = Vec::new();
    let mut cmd_start = true;
    for t in tokens {
        let s = t.to_str();
        let is_op = matches!(t, Token::Operator(..));
        if is_op {
            match s {
                "(" => stack.push(")"),
                ")" if stack.last() == Some(&")") => {
                    stack.pop();
                }
                _ => {}
            }
            cmd_start = matches!(s, ";" | "\n" | "&&" | "||" | "|" | "&" | "(" | ";;");
            continue;
        }
        if cmd_start {
            match s {
                "if" => stack.push("then"),
                "then" => {
                    stack.pop();
                    stack.push("fi");
                }
                "elif" => {
                    stack.pop();
                    stack.push("then");
                }
                "while" | "until" => stack.push("do"),
                "for" => {
                    stack.push("do");
                    cmd_start = false;
                    continue;
                }
                "do" => {
                    stack.pop();
                    stack.push("done");
                }
                "done" | "fi" | "esac" | "}" => {
                    if stack.last() != Some(&s) {
                        return Scan::Stray(s.to_string(), span(t).start.line);
                    }
                    stack.pop();
                }
                "case" => {
                    stack.push("esac");
                    cmd_start = false;
                    continue;
                }
                "{" => stack.push("}"),
                _ => {}
            }
            cmd_start = matches!(
                s,
                "if" | "then" | "elif" | "else" | "while" | "until" | "do" | "{" | "!"
            );
        }
    }
    Scan::Expect(stack.last().copied())
}

/// The message after the prefix (`sh: 1: `).
pub fn message(d: Dialect, e: &SyntaxError) -> String {
    match (d, &e.what) {
        (Dialect::Dash, What::Eof(Some(x))) => {
            format!("Syntax error: end of file unexpected (expecting \"{x}\")")
        }
        (Dialect::Dash, What::Eof(None)) => "Syntax error: end of file unexpected".into(),
        (Dialect::Dash, What::Token(t)) if t == "newline" => {
            "Syntax error: newline unexpected".into()
        }
        (Dialect::Dash, What::Token(t)) => format!("Syntax error: \"{t}\" unexpected"),
        (Dialect::Dash, What::Quote(_)) => "Syntax error: Unterminated quoted string".into(),
        (Dialect::Ash, What::Eof(Some(x))) => {
            format!("syntax error: unexpected end of file (expecting \"{x}\")")
        }
        (Dialect::Ash, What::Eof(None)) => "syntax error: unexpected end of file".into(),
        (Dialect::Ash, What::Token(t)) if t == "newline" => {
            "syntax error: unexpected newline".into()
        }
        (Dialect::Ash, What::Token(t)) => format!("syntax error: unexpected \"{t}\""),
        (Dialect::Ash, What::Quote(_)) => "syntax error: unterminated quoted string".into(),
        (Dialect::Bash, What::Eof(_)) => "syntax error: unexpected end of file".into(),
        (Dialect::Bash, What::Token(t)) => format!("syntax error near unexpected token `{t}'"),
        (Dialect::Bash, What::Quote(q)) => {
            format!("unexpected EOF while looking for matching `{q}'")
        }
    }
}

/// `test` operator text for a `[[ ]]` unary predicate.
pub fn unary_op(p: &ast::UnaryPredicate) -> &'static str {
    use ast::UnaryPredicate as U;
    match p {
        U::FileExists => "-e",
        U::FileExistsAndIsBlockSpecialFile => "-b",
        U::FileExistsAndIsCharSpecialFile => "-c",
        U::FileExistsAndIsDir => "-d",
        U::FileExistsAndIsRegularFile => "-f",
        U::FileExistsAndIsSetgid => "-g",
        U::FileExistsAndIsSymlink => "-h",
        U::FileExistsAndHasStickyBit => "-k",
        U::FileExistsAndIsFifo => "-p",
        U::FileExistsAndIsReadable => "-r",
        U::FileExistsAndIsNotZeroLength => "-s",
        U::FdIsOpenTerminal => "-t",
        U::FileExistsAndIsSetuid => "-u",
        U::FileExistsAndIsWritable => "-w",
        U::FileExistsAndIsExecutable => "-x",
        U::FileExistsAndOwnedByEffectiveGroupId => "-G",
        U::FileExistsAndModifiedSinceLastRead => "-N",
        U::FileExistsAndOwnedByEffectiveUserId => "-O",
        U::FileExistsAndIsSocket => "-S",
        U::ShellOptionEnabled => "-o",
        U::ShellVariableIsSetAndAssigned => "-v",
        U::ShellVariableIsSetAndNameRef => "-R",
        U::StringHasZeroLength => "-z",
        U::StringHasNonZeroLength => "-n",
    }
}

/// `test` operator text for a `[[ ]]` binary predicate.
pub fn binary_op(p: &ast::BinaryPredicate) -> &'static str {
    use ast::BinaryPredicate as B;
    match p {
        B::FilesReferToSameDeviceAndInodeNumbers => "-ef",
        B::LeftFileIsNewerOrExistsWhenRightDoesNot => "-nt",
        B::LeftFileIsOlderOrDoesNotExistWhenRightDoes => "-ot",
        B::StringExactlyMatchesPattern | B::StringExactlyMatchesString => "=",
        B::StringDoesNotExactlyMatchPattern | B::StringDoesNotExactlyMatchString => "!=",
        B::StringMatchesRegex => "=~",
        B::StringContainsSubstring => "=~",
        B::LeftSortsBeforeRight => "<",
        B::LeftSortsAfterRight => ">",
        B::ArithmeticEqualTo => "-eq",
        B::ArithmeticNotEqualTo => "-ne",
        B::ArithmeticLessThan => "-lt",
        B::ArithmeticLessThanOrEqualTo => "-le",
        B::ArithmeticGreaterThan => "-gt",
        B::ArithmeticGreaterThanOrEqualTo => "-ge",
    }
}
