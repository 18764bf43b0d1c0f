//! The interactive REPL (rustyline): a prompt showing the active exercise,
//! history under the home, and tab completion of commands, subcommands,
//! flags, image references, exercise IDs and workspace paths.

use crate::app::{Io, Session};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Helper, Highlighter, Hinter, Validator)]
struct LabHelper {
    home: PathBuf,
    cwd: PathBuf,
    engine_home: PathBuf,
}

impl Completer for LabHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(char::is_whitespace)
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let candidates = complete_words(&words, word, &self.home, &self.engine_home, &self.cwd);
        Ok((
            start,
            candidates
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

/// Completion candidates for `word`, given the words before it.
pub fn complete_words(
    words: &[&str],
    word: &str,
    home: &std::path::Path,
    engine_home: &std::path::Path,
    cwd: &std::path::Path,
) -> Vec<String> {
    let mut cmd = crate::cli::repl_command();
    let mut positional_kind = "path";
    for w in words.iter().filter(|w| !w.starts_with('-')) {
        match cmd.find_subcommand(w) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    let name = cmd.get_name().to_string();
    if [
        "tag", "rmi", "history", "inspect", "rm", "push", "pull", "save",
    ]
    .contains(&name.as_str())
        && words.first() == Some(&"docker")
    {
        positional_kind = "image";
    }
    if ["start", "show"].contains(&name.as_str()) {
        positional_kind = "exercise";
    }
    let mut out: Vec<String> = Vec::new();
    if word.starts_with('-') {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                out.push(format!("--{l}"));
            }
        }
    } else {
        for s in cmd.get_subcommands() {
            out.push(s.get_name().to_string());
        }
        if out.is_empty() || words.is_empty() {
            match positional_kind {
                "image" => {
                    if let Ok(store) = crate::store::Store::open(engine_home)
                        && let Ok(idx) = store.index()
                    {
                        for t in idx.tags.keys() {
                            if let Ok(r) = crate::reference::Reference::parse(t) {
                                out.push(r.familiar_string());
                            }
                        }
                    }
                }
                "exercise" => out.extend(crate::exercise::builtin().into_iter().map(|e| e.id)),
                _ => {
                    let (dir, prefix) = match word.rfind('/') {
                        Some(i) => (cwd.join(&word[..=i]), &word[..=i]),
                        None => (cwd.to_path_buf(), ""),
                    };
                    if let Ok(rd) = std::fs::read_dir(&dir) {
                        for e in rd.flatten() {
                            let n = e.file_name().to_string_lossy().to_string();
                            let slash = if e.path().is_dir() { "/" } else { "" };
                            out.push(format!("{prefix}{n}{slash}"));
                        }
                    }
                }
            }
        }
    }
    let _ = home;
    out.retain(|c| c.starts_with(word));
    out.sort();
    out.dedup();
    out
}

/// Runs the REPL until `exit` or end of input; returns the last status.
pub fn run(mut session: Session) -> i32 {
    session.interactive = true;
    if let Some(id) = crate::exercise::active(&session.home) {
        let ws = crate::exercise::workspace_dir(&session.home, &id);
        if ws.is_dir() {
            session.cwd = ws.clone();
            session.confine = Some(ws);
        }
    }
    if session.confine.is_none() {
        let ws = session.home.join("workspace");
        let _ = std::fs::create_dir_all(&ws);
        session.cwd = ws.clone();
        session.confine = Some(ws);
    }
    let tty = std::io::stdout().is_terminal();
    let mut rl: Editor<LabHelper, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the REPL: {e}");
            return 1;
        }
    };
    let history = session.home.join("history.txt");
    let _ = std::fs::create_dir_all(&session.home);
    let _ = rl.load_history(&history);
    println!(
        "imagelab {} — a practice lab for Docker images. `exercises` lists tasks, `start ID` begins one, `exit` leaves.",
        env!("CARGO_PKG_VERSION")
    );
    let mut last = 0;
    loop {
        rl.set_helper(Some(LabHelper {
            home: session.home.clone(),
            cwd: session.cwd.clone(),
            engine_home: session.engine_home(),
        }));
        // Inside a container shell (`docker run -it IMAGE sh`) its prompt.
        let nested = crate::commands::exec::shell_prompt(&mut session);
        let prompt = match (nested, crate::exercise::active(&session.home)) {
            (Some(p), _) => p,
            (None, Some(id)) => format!("imagelab [{id}] $ "),
            (None, None) => "imagelab $ ".to_string(),
        };
        match rl.readline(&prompt) {
            Ok(line) => {
                let _ = rl.add_history_entry(line.as_str());
                if session.shell.is_none() && (line.trim() == "exit" || line.trim() == "quit") {
                    break;
                }
                let stdout = std::io::stdout();
                let stderr = std::io::stderr();
                let (mut out, mut err) = (stdout.lock(), stderr.lock());
                let mut io = Io {
                    out: &mut out,
                    err: &mut err,
                    tty,
                };
                last = session.run_line(&line, &mut io);
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) if session.shell.is_some() => {
                // Ctrl-D leaves the container shell, not the lab.
                let stdout = std::io::stdout();
                let stderr = std::io::stderr();
                let (mut out, mut err) = (stdout.lock(), stderr.lock());
                let mut io = Io {
                    out: &mut out,
                    err: &mut err,
                    tty,
                };
                last = crate::commands::exec::shell_line(&mut session, "exit", &mut io);
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                last = 1;
                break;
            }
        }
    }
    let _ = rl.save_history(&history);
    last
}
