//! The Dockerfile front end: parsing a Dockerfile into typed instructions and
//! BuildKit's variable expansion, with BuildKit's (dockerfile frontend 1.x)
//! rules and error texts. Pure: no IO, and [`parse`] never fails — every
//! problem becomes a [`Diagnostic`].
//!
//! Two stages mirror BuildKit: the line parser (directives, continuations,
//! comments, heredocs, per-instruction argument splitting; its errors abort
//! a real build before anything else is checked) and the instruction parser
//! (flags, argument counts; its errors are reported as `dockerfile parse
//! error on line N: ...`). [`Dockerfile::first_error`] picks the one error a
//! real `docker build` would print. Values of ENV, LABEL, ARG and the like
//! are kept raw (quotes included) until [`Instruction::expand`] runs.

mod expand;
mod lint;
mod parser;
#[cfg(test)]
mod tests;

pub use expand::{ExpandError, expand, expand_words};
pub use parser::parse;

use serde::Serialize;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dockerfile {
    /// The escape character from `# escape=` (default `\`).
    pub escape: char,
    /// The value of the `# syntax=` directive, if any.
    pub syntax: Option<String>,
    /// The value of the `# check=` directive, if any.
    pub check: Option<String>,
    /// The instructions in file order, including ARGs before the first FROM.
    /// Instructions that failed to parse are left out (see `diagnostics`).
    pub instructions: Vec<Instruction>,
    /// Every problem found, in line order.
    pub diagnostics: Vec<Diagnostic>,
    /// True when the input was zero bytes long.
    pub empty: bool,
}

impl Dockerfile {
    /// The error a real BuildKit build reports (it stops at the first one):
    /// an empty file first, then line-parser errors, then instruction
    /// errors, each in line order.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        let errors = || {
            self.diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
        };
        errors()
            .find(|d| d.origin == Origin::Frontend)
            .or_else(|| errors().find(|d| d.origin == Origin::Parser))
            .or_else(|| errors().find(|d| d.origin == Origin::Instruction))
    }

    /// True when there is no error diagnostic.
    pub fn is_ok(&self) -> bool {
        self.first_error().is_none()
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    Error,
    Warning,
}

/// Which BuildKit stage reports a diagnostic; it decides the error prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Origin {
    /// Checks on the whole input (`the Dockerfile cannot be empty`).
    Frontend,
    /// The line parser (directives, heredocs, JSON, ENV/LABEL syntax).
    Parser,
    /// The instruction parser: BuildKit prefixes these with
    /// `dockerfile parse error on line N: `.
    Instruction,
    /// BuildKit's lint rules (always warnings); `message` reads
    /// `Rule: text`, printed by docker as ` - Rule: text (line N)`.
    Lint,
}

/// One problem found in the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based first line.
    pub line: usize,
    /// 1-based last line (continuations and heredoc bodies included).
    pub end_line: usize,
    pub severity: Severity,
    /// BuildKit's text without the `dockerfile parse error on line N: `
    /// prefix, e.g. `unknown instruction: RUNN (did you mean RUN?)`.
    pub message: String,
    pub origin: Origin,
}

impl Diagnostic {
    /// The text BuildKit prints after `ERROR: failed to solve: `.
    pub fn buildkit_message(&self) -> String {
        match self.origin {
            Origin::Instruction if self.message != "no build stage in current context" => {
                format!(
                    "dockerfile parse error on line {}: {}",
                    self.line, self.message
                )
            }
            _ => self.message.clone(),
        }
    }
}

/// One instruction with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    /// 1-based first line.
    pub line: usize,
    /// 1-based last line, continuation lines and heredoc bodies included.
    pub end_line: usize,
    /// The instruction as BuildKit's `String()` renders it: the logical line
    /// with continuations joined (the text after an escape-newline is
    /// appended as is), trimmed, keyword in its original case. For ONBUILD's
    /// inner instruction: the trigger expression (heredoc bodies appended).
    pub original: String,
    pub kind: Kind,
}

/// The command of RUN, CMD and ENTRYPOINT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ShellOrExec {
    /// Shell form: the text after the flags, run by the SHELL.
    Shell(String),
    /// Exec (JSON array) form.
    Exec(Vec<String>),
}

/// What an instruction does. String values are raw (unexpanded, quotes
/// kept where BuildKit keeps them) until [`Instruction::expand`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// `FROM [--platform=p] image [AS name]`; `alias` is lowercased.
    From {
        image: String,
        alias: Option<String>,
        platform: Option<String>,
    },
    Run {
        cmd: ShellOrExec,
        heredocs: Vec<Heredoc>,
        /// Each `--mount=` value, in order.
        mounts: Vec<String>,
        network: Option<String>,
        security: Option<String>,
    },
    Cmd(ShellOrExec),
    Entrypoint(ShellOrExec),
    Shell(Vec<String>),
    Label(Vec<(String, String)>),
    Maintainer(String),
    /// Ports, sorted as BuildKit sorts them (byte order, before expansion).
    Expose(Vec<String>),
    Env(Vec<(String, String)>),
    Arg(Vec<(String, Option<String>)>),
    Copy(CopyArgs),
    Add(CopyArgs),
    Volume(Vec<String>),
    User(String),
    Workdir(String),
    StopSignal(String),
    /// `None` = `HEALTHCHECK NONE`.
    Healthcheck(Option<Healthcheck>),
    Onbuild(Box<Instruction>),
    /// Only inside ONBUILD: a trigger BuildKit accepts at parse time but
    /// that is not a valid instruction (checked when the trigger fires).
    Unknown {
        name: String,
        args: String,
    },
}

/// Arguments of COPY and ADD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyArgs {
    /// Source paths, heredoc sources (`<<EOF`) excluded.
    pub sources: Vec<String>,
    pub dest: String,
    /// Inline sources, in source order; `name` is the file name.
    pub heredocs: Vec<Heredoc>,
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
    pub keep_git_dir: bool,
    pub checksum: Option<String>,
    /// ADD `--unpack=bool`, if given.
    pub unpack: Option<bool>,
}

/// A here-document attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The terminator word with quotes removed (`EOF`).
    pub name: String,
    /// The body, line endings kept. For `<<-` the leading tabs of every
    /// line are already stripped (BuildKit strips them before use).
    pub content: String,
    /// False when the terminator word was quoted (`<<"EOF"`, `<<'EOF'`).
    pub expand: bool,
    /// `<<-`.
    pub chomp: bool,
    /// The file descriptor before `<<` (`3<<EOF`), 0 when absent.
    pub fd: u32,
}

/// `HEALTHCHECK [flags] CMD ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["CMD", args...]` (exec form) or `["CMD-SHELL", "command"]`.
    pub test: Vec<String>,
    /// Durations as written (validated as Go durations); see
    /// [`go_duration_nanos`]. Zero durations are kept as written.
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<u32>,
}

impl Heredoc {
    /// Whether the body gets variable expansion (COPY/ADD only).
    pub fn expands(&self) -> bool {
        self.expand
    }
}

/// Parses a Go duration (`1h2m3.5s`, `300ms`, `-1.5h`, `0`) into
/// nanoseconds, or `None` if Go's `time.ParseDuration` would reject it.
pub fn go_duration_nanos(s: &str) -> Option<i64> {
    parser::parse_go_duration(s).ok()
}

/// Quotes a string the way Go's `%q` does (used in BuildKit messages).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || c == '\u{FEFF}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Instruction {
    /// Expands the fields BuildKit expands for this instruction, with `env`
    /// as the variables in scope (for FROM: the global ARGs):
    /// FROM image and `--platform`; COPY/ADD sources, dest, `--chown`,
    /// `--chmod`, `--from`, `--checksum` and the bodies of unquoted heredoc
    /// sources (quotes kept, as BuildKit's raw expansion does); ENV and
    /// LABEL keys and values; ARG names and defaults; EXPOSE (split into
    /// words); STOPSIGNAL, USER, VOLUME, WORKDIR; RUN `--mount` values.
    /// RUN/CMD/ENTRYPOINT commands, SHELL, HEALTHCHECK, MAINTAINER and
    /// ONBUILD are returned unchanged. `original` is not changed.
    pub fn expand(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        escape: char,
    ) -> Result<Instruction, ExpandError> {
        let one = |s: &str| expand::expand(s, env, escape);
        let opt = |s: &Option<String>| -> Result<Option<String>, ExpandError> {
            s.as_deref().map(one).transpose()
        };
        let kvs = |v: &[(String, String)]| -> Result<Vec<(String, String)>, ExpandError> {
            v.iter().map(|(k, x)| Ok((one(k)?, one(x)?))).collect()
        };
        let copy = |c: &CopyArgs| -> Result<CopyArgs, ExpandError> {
            let raw = expand::Lexer {
                skip_process_quotes: true,
                ..expand::Lexer::new('\\')
            };
            let heredocs = c
                .heredocs
                .iter()
                .map(|h| {
                    let mut h = h.clone();
                    if h.expand {
                        h.content = raw.run(&h.content, env)?.0;
                    }
                    Ok(h)
                })
                .collect::<Result<Vec<_>, ExpandError>>()?;
            Ok(CopyArgs {
                sources: c.sources.iter().map(|s| one(s)).collect::<Result<_, _>>()?,
                dest: one(&c.dest)?,
                heredocs,
                from: opt(&c.from)?,
                chown: opt(&c.chown)?,
                chmod: opt(&c.chmod)?,
                checksum: opt(&c.checksum)?,
                ..c.clone()
            })
        };
        let kind = match &self.kind {
            Kind::From {
                image,
                alias,
                platform,
            } => Kind::From {
                image: one(image)?,
                alias: alias.clone(),
                platform: opt(platform)?,
            },
            Kind::Run {
                cmd,
                heredocs,
                mounts,
                network,
                security,
            } => Kind::Run {
                cmd: cmd.clone(),
                heredocs: heredocs.clone(),
                mounts: mounts.iter().map(|m| one(m)).collect::<Result<_, _>>()?,
                network: network.clone(),
                security: security.clone(),
            },
            Kind::Label(v) => Kind::Label(kvs(v)?),
            Kind::Env(v) => Kind::Env(kvs(v)?),
            Kind::Arg(v) => Kind::Arg(
                v.iter()
                    .map(|(k, d)| Ok((one(k)?, opt(d)?)))
                    .collect::<Result<_, ExpandError>>()?,
            ),
            Kind::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(expand::expand_words(p, env, escape)?);
                }
                Kind::Expose(out)
            }
            Kind::Copy(c) => Kind::Copy(copy(c)?),
            Kind::Add(c) => Kind::Add(copy(c)?),
            Kind::Volume(v) => Kind::Volume(v.iter().map(|s| one(s)).collect::<Result<_, _>>()?),
            Kind::User(s) => Kind::User(one(s)?),
            Kind::Workdir(s) => Kind::Workdir(one(s)?),
            Kind::StopSignal(s) => Kind::StopSignal(one(s)?),
            other => other.clone(),
        };
        Ok(Instruction {
            kind,
            ..self.clone()
        })
    }

    /// The upper-cased instruction keyword (`RUN`, `COPY`, ...).
    pub fn keyword(&self) -> String {
        self.original
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    }
}
