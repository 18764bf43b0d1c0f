//! The edge: turns argv or a REPL line into a `Line`, runs it in a `Session`
//! and maps errors to docker's or imagelab's words and exit statuses. Only
//! this module, `commands` and the REPL print.

use crate::cli::{self, Cli, Line};
use crate::commands;
use clap::Parser;
use clap::error::ErrorKind;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where a command writes.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Whether stdout is a terminal (BuildKit's tty progress vs plain).
    pub tty: bool,
}

/// The state one process (or one REPL) works in.
pub struct Session {
    pub home: PathBuf,
    /// The folder relative paths are resolved against: the process's current
    /// directory from a host shell, the workspace in the REPL.
    pub cwd: PathBuf,
    /// When set, file builtins may not leave this folder.
    pub confine: Option<PathBuf>,
    /// Whether this session is the interactive REPL.
    pub interactive: bool,
    /// Variables set with `export NAME=value` in this session.
    pub vars: std::collections::BTreeMap<String, String>,
    /// `NAME=value` words in front of the current line (`DOCKER_BUILDKIT=0 docker build .`).
    pub line_vars: std::collections::BTreeMap<String, String>,
    /// The current line's standard input when it has `< file`.
    pub stdin: Option<Vec<u8>>,
    /// A container shell the following lines go to (`docker run -it IMAGE
    /// sh`, `docker exec -it NAME sh`) until it exits.
    pub shell: Option<Box<crate::container::runtime::ShellSession>>,
}

impl Session {
    pub fn new(home: PathBuf, cwd: PathBuf) -> Session {
        Session {
            home,
            cwd,
            confine: None,
            interactive: false,
            vars: Default::default(),
            line_vars: Default::default(),
            stdin: None,
            shell: None,
        }
    }

    /// A variable as the line sees it: its own `NAME=value` prefix, then the
    /// session's `export`s, then the process environment.
    pub fn var(&self, name: &str) -> Option<String> {
        self.line_vars
            .get(name)
            .or_else(|| self.vars.get(name))
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    /// The line's standard input: its `< file`, else (outside the REPL) the
    /// process's own; `None` in the REPL without a redirection.
    pub fn read_stdin(&mut self) -> Option<Vec<u8>> {
        if let Some(b) = self.stdin.take() {
            return Some(b);
        }
        if self.interactive {
            return None;
        }
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).ok()?;
        Some(buf)
    }

    /// The home the image engine works on: the active exercise's sandbox,
    /// else the lab's own store.
    pub fn engine_home(&self) -> PathBuf {
        match crate::exercise::active(&self.home) {
            Some(id) => crate::exercise::sandbox_dir(&self.home, &id),
            None => self.home.clone(),
        }
    }

    pub fn engine(&self) -> anyhow::Result<crate::engine::Engine> {
        Ok(crate::engine::Engine::open(&self.engine_home())?)
    }

    /// Resolves a user path against the working directory.
    pub fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// Runs one REPL line; returns its exit status.
    pub fn run_line(&mut self, line: &str, io: &mut Io) -> i32 {
        if self.shell.is_some() {
            return commands::exec::shell_line(self, line, io);
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return 0;
        }
        let expanded = expand_pwd(trimmed, &self.cwd.to_string_lossy());
        let words = match cli::split_line(&expanded) {
            Ok(w) => w,
            Err(e) => {
                let _ = writeln!(io.err, "imagelab: {e}");
                return 2;
            }
        };
        // `LINE < file`: the file is the line's standard input.
        let mut words = words;
        self.stdin = None;
        if let Some(i) = words.iter().position(|w| w.starts_with('<')) {
            let (source, n) = match words[i].as_str() {
                "<" => (words.get(i + 1).cloned(), 2),
                w => (Some(w[1..].to_string()), 1),
            };
            let Some(source) = source.filter(|t| !t.is_empty()) else {
                let _ = writeln!(io.err, "imagelab: syntax error: no file after <");
                return 2;
            };
            match commands::files::confined(self, &source)
                .and_then(|p| std::fs::read(&p).map_err(|e| anyhow::anyhow!("{source}: {e}")))
            {
                Ok(bytes) => self.stdin = Some(bytes),
                Err(e) => {
                    let _ = writeln!(io.err, "imagelab: {e}");
                    return 1;
                }
            }
            words.drain(i..(i + n).min(words.len()));
        }
        // `LINE > file` / `LINE >> file`: stdout goes to a workspace file.
        let redirect = words.iter().position(|w| w.starts_with('>'));
        let Some(i) = redirect else {
            return self.run_words(&words, io);
        };
        let (append, mut target) = match words[i].as_str() {
            ">>" => (true, words.get(i + 1).cloned()),
            ">" => (false, words.get(i + 1).cloned()),
            w if w.starts_with(">>") => (true, Some(w[2..].to_string())),
            w => (false, Some(w[1..].to_string())),
        };
        target = target.filter(|t| !t.is_empty());
        let Some(target) = target else {
            let _ = writeln!(io.err, "imagelab: syntax error: no file after >");
            return 2;
        };
        let path = match commands::files::confined(self, &target) {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(io.err, "imagelab: {e}");
                return 1;
            }
        };
        let mut captured = Vec::new();
        let code = {
            let mut sub = Io {
                out: &mut captured,
                err: &mut *io.err,
                tty: false,
            };
            self.run_words(&words[..i], &mut sub)
        };
        let res = if append {
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&captured))
        } else {
            std::fs::write(&path, &captured)
        };
        if let Err(e) = res {
            let _ = writeln!(io.err, "imagelab: {target}: {e}");
            return 1;
        }
        code
    }

    /// Runs an already split line.
    pub fn run_words(&mut self, words: &[String], io: &mut Io) -> i32 {
        let words: Vec<String> = match words.first().map(String::as_str) {
            Some("imagelab") => words[1..].to_vec(),
            _ => words.to_vec(),
        };
        // `NAME=value ... command`: variables for this line only; `export
        // NAME=value`: for the rest of the session.
        let is_assignment = |w: &str| {
            w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !k.starts_with(|c: char| c.is_ascii_digit())
            })
        };
        if words.first().map(String::as_str) == Some("export") {
            for w in &words[1..] {
                match w.split_once('=') {
                    Some((k, v)) if is_assignment(w) => {
                        self.vars.insert(k.to_string(), v.to_string());
                    }
                    _ => {
                        let _ = writeln!(io.err, "export: {w}: not a NAME=value assignment");
                        return 1;
                    }
                }
            }
            return 0;
        }
        let n = words.iter().take_while(|w| is_assignment(w)).count();
        if n == words.len() {
            for w in &words {
                let (k, v) = w.split_once('=').expect("assignment");
                self.vars.insert(k.to_string(), v.to_string());
            }
            return 0;
        }
        let prefix: std::collections::BTreeMap<String, String> = words[..n]
            .iter()
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let words = &words[n..];
        let saved = std::mem::replace(&mut self.line_vars, prefix);
        // `trivy`, `hadolint` and friends arrive with their issues.
        let daemon_word = match words.first().map(String::as_str) {
            Some("systemctl" | "service") => true,
            Some("sudo") => matches!(
                words.get(1).map(String::as_str),
                Some("systemctl" | "service")
            ),
            _ => false,
        };
        if daemon_word {
            let code = match commands::daemon::run(self, words, io) {
                Ok(c) => c,
                Err(e) => {
                    let _ = writeln!(io.err, "error: {e}");
                    1
                }
            };
            self.line_vars = saved;
            return code;
        }
        if matches!(words.first().map(String::as_str), Some("curl" | "wget")) {
            let code = match commands::curl::run(self, words, io) {
                Ok(c) => c,
                Err(e) => {
                    let _ = writeln!(io.err, "error: {e}");
                    1
                }
            };
            self.line_vars = saved;
            return code;
        }
        if words.first().map(String::as_str) == Some("cosign") {
            let code = match commands::cosign::run(self, words, io) {
                Ok(c) => c,
                Err(e) => {
                    let _ = writeln!(io.err, "Error: {e}");
                    1
                }
            };
            self.line_vars = saved;
            return code;
        }
        let code = match cli::parse_line(words) {
            Ok(line) => self.dispatch(line, io),
            Err(e) => report_parse_error(words, e, io),
        };
        self.line_vars = saved;
        code
    }

    pub fn dispatch(&mut self, line: Line, io: &mut Io) -> i32 {
        let result = match line {
            Line::Docker(d) => commands::docker(self, d, io),
            Line::Run { file } => commands::run_file(self, &file, io),
            Line::Exercises { cmd } => commands::exercises::run(self, cmd, io),
            Line::Start { id } => commands::start::run(self, &id, io),
            Line::Check { json } => commands::check::run(self, json, io),
            Line::Hint => commands::hint::run(self, io),
            Line::Progress => commands::progress::run(self, io),
            Line::Registry { cmd } => commands::registry::run(self, cmd, io),
            Line::Grade {
                exercise,
                script,
                json,
            } => commands::grade::run(self, &exercise, &script, json, io),
            Line::Exit => Ok(0),
            other => commands::files::run(self, other, io),
        };
        match result {
            Ok(code) => code,
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                for cause in e.chain().skip(1) {
                    let _ = writeln!(io.err, "  caused by: {cause}");
                }
                1
            }
        }
    }
}

/// Maps clap's errors to docker's words for `docker ...` lines and to clap's
/// own for imagelab's words.
fn report_parse_error(words: &[String], e: clap::Error, io: &mut Io) -> i32 {
    let is_docker = words.first().map(String::as_str) == Some("docker");
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let text = e.render().to_string();
            // docker's help opens with an empty line; clap trims it.
            let lead = if is_docker && !text.starts_with('\n') {
                "\n"
            } else {
                ""
            };
            let _ = write!(io.out, "{lead}{text}");
            return 0;
        }
        _ => {}
    }
    if !is_docker {
        if e.kind() == ErrorKind::InvalidSubcommand && !words.is_empty() {
            // An unknown word at the prompt reads like a shell's answer.
            let _ = writeln!(io.err, "imagelab: {}: command not found", words[0]);
            let _ = writeln!(
                io.err,
                "hint: `help` lists what the lab understands; docker commands start with `docker`"
            );
            return 127;
        }
        let _ = write!(io.err, "{}", e.render());
        return 2;
    }
    let verbs: Vec<&str> = words
        .iter()
        .skip(1)
        .take_while(|w| !w.starts_with('-'))
        .take(2)
        .map(String::as_str)
        .collect();
    let path = match verbs.as_slice() {
        ["image", v, ..] => format!("docker image {v}"),
        [v, ..] => format!("docker {v}"),
        [] => "docker".into(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = e
                .get(clap::error::ContextKind::InvalidArg)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let arg = arg.split_whitespace().next().unwrap_or("").to_string();
            if let Some(long) = arg.strip_prefix("--") {
                let _ = writeln!(
                    io.err,
                    "unknown flag: --{}",
                    long.split('=').next().unwrap_or(long)
                );
            } else {
                let c = arg.trim_start_matches('-').chars().next().unwrap_or('?');
                let _ = writeln!(io.err, "unknown shorthand flag: '{c}' in {arg}");
            }
            let _ = writeln!(io.err, "See '{path} --help'.");
            125
        }
        ErrorKind::InvalidSubcommand => {
            let sub = words
                .get(if path.starts_with("docker image") {
                    2
                } else {
                    1
                })
                .cloned()
                .unwrap_or_default();
            if path.starts_with("docker image") {
                let _ = writeln!(io.err, "docker: 'image {sub}' is not a docker command.");
            } else {
                let _ = writeln!(io.err, "docker: '{sub}' is not a docker command.");
            }
            let _ = writeln!(io.err, "See 'docker --help'");
            1
        }
        _ => {
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            let _ = writeln!(io.err, "{first}");
            let _ = writeln!(io.err, "See '{path} --help'.");
            125
        }
    }
}

/// The process entry point after `main`: parse argv, run, return the status.
pub fn run(args: Vec<OsString>) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let tty = stdout.is_terminal();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        tty,
    };
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            // `imagelab docker ...` errors get docker's words.
            let words: Vec<String> = args
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().to_string())
                .collect();
            if let Some(i) = words.iter().position(|w| w == "docker") {
                return report_parse_error(&words[i..], e, &mut io);
            }
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let home = crate::home::resolve(cli.home.as_deref());
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut session = Session::new(home, cwd);
    if let Some(line) = cli.command {
        if cli.line.is_some() {
            let _ = writeln!(
                io.err,
                "error: -c LINE cannot be combined with a subcommand"
            );
            return 2;
        }
        let code = session.run_line(&line, &mut io);
        // A container shell opened by `-c` reads end of input at once.
        if session.shell.is_some() {
            return commands::exec::shell_line(&mut session, "exit", &mut io);
        }
        return code;
    }
    match cli.line {
        Some(line) => session.dispatch(line, &mut io),
        None => {
            drop(out);
            drop(err);
            crate::repl::run(session)
        }
    }
}

/// `$(pwd)`, `${PWD}` and `$PWD` in a REPL line, as a shell expands them
/// (not inside single quotes): the session's working folder.
pub fn expand_pwd(line: &str, cwd: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut single = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            single = !single;
        }
        if !single && c == '$' {
            let hit = ["$(pwd)", "${PWD}", "$PWD"]
                .into_iter()
                .find(|p| rest.starts_with(p))
                .filter(|p| {
                    // `$PWDX` is another variable.
                    *p != "$PWD"
                        || !rest[p.len()..]
                            .starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_')
                });
            if let Some(p) = hit {
                out.push_str(cwd);
                rest = &rest[p.len()..];
                continue;
            }
        }
        if !single && c == '\\' && rest.len() > 1 {
            let n = rest[1..].chars().next().map(char::len_utf8).unwrap_or(0);
            out.push_str(&rest[..1 + n]);
            rest = &rest[1 + n..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod expand_tests {
    use super::expand_pwd;

    #[test]
    fn pwd_expands_outside_single_quotes() {
        assert_eq!(
            expand_pwd(
                r#"docker run -v "$(pwd)"/auth:/auth -v $PWD/x:/x '$PWD' ${PWD} $PWDX"#,
                "/w"
            ),
            r#"docker run -v "/w"/auth:/auth -v /w/x:/x '$PWD' /w $PWDX"#
        );
    }
}
