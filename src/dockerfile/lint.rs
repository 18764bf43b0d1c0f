//! BuildKit's syntactic lint rules (the warnings `docker build` prints as
//! `N warnings found`): those decidable from the Dockerfile text alone.
//! Rules needing the base image or build args (UndefinedVar,
//! WorkdirRelativePath, UndefinedArgInFrom, ...) belong to the builder.

use super::{Diagnostic, Kind, Origin, Severity, ShellOrExec, go_quote};

/// Collects lint warnings while the parser walks the instructions.
#[derive(Default)]
pub(crate) struct Linter {
    stage_names: Vec<String>,
    /// CMD/ENTRYPOINT/HEALTHCHECK seen in the current stage.
    singles: Vec<(&'static str, usize, usize)>,
    /// A SHELL instruction was seen in the current stage.
    shell_set: bool,
    pub(crate) out: Vec<Diagnostic>,
}

/// Key parts that mark a secret (BuildKit's SecretsUsedInArgOrEnv).
const SECRET_WORDS: &[&str] = &[
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pass",
    "pword",
    "passwd",
    "secret",
    "token",
];

impl Linter {
    fn warn(&mut self, line: usize, end: usize, rule: &str, msg: String) {
        self.out.push(Diagnostic {
            line,
            end_line: end,
            severity: Severity::Warning,
            message: format!("{rule}: {msg}"),
            origin: Origin::Lint,
        });
    }

    pub(crate) fn empty_continuation(&mut self, line: usize, end: usize) {
        self.warn(
            line,
            end,
            "NoEmptyContinuation",
            "Empty continuation line".into(),
        );
    }

    fn end_stage(&mut self) {
        self.shell_set = false;
        let singles = std::mem::take(&mut self.singles);
        for (i, &(kw, line, end)) in singles.iter().enumerate() {
            if singles[i + 1..].iter().any(|(k, _, _)| *k == kw) {
                self.warn(
                    line,
                    end,
                    "MultipleInstructionsDisallowed",
                    format!(
                        "Multiple {kw} instructions should not be used in the same stage because only the last one will be used"
                    ),
                );
            }
        }
    }

    pub(crate) fn finish(&mut self) {
        self.end_stage();
    }

    /// Checks one parsed instruction. `keyword` is as written, `args` are
    /// the line parser's arguments.
    pub(crate) fn check(
        &mut self,
        keyword: &str,
        args: &[String],
        kind: &Kind,
        line: usize,
        end: usize,
    ) {
        match kind {
            Kind::From { alias, .. } => {
                self.end_stage();
                if let (Some(alias), Some(raw)) = (alias, args.get(2)) {
                    let as_kw = &args[1];
                    let from_upper = keyword == keyword.to_uppercase();
                    let from_lower = keyword == keyword.to_lowercase();
                    if (from_upper && *as_kw != as_kw.to_uppercase())
                        || (from_lower && *as_kw != as_kw.to_lowercase())
                    {
                        self.warn(
                            line,
                            end,
                            "FromAsCasing",
                            format!("'{as_kw}' and '{keyword}' keywords' casing do not match"),
                        );
                    }
                    if *raw != raw.to_lowercase() {
                        self.warn(
                            line,
                            end,
                            "StageNameCasing",
                            format!("Stage name '{raw}' should be lowercase"),
                        );
                    }
                    if alias == "scratch" || alias == "context" {
                        self.warn(
                            line,
                            end,
                            "ReservedStageName",
                            format!(
                                "Stage name should not use the same name as reserved stage {}",
                                go_quote(alias)
                            ),
                        );
                    }
                    if self.stage_names.contains(alias) {
                        self.warn(
                            line,
                            end,
                            "DuplicateStageName",
                            format!(
                                "Duplicate stage name {}, stage names should be unique",
                                go_quote(alias)
                            ),
                        );
                    }
                    self.stage_names.push(alias.clone());
                }
            }
            Kind::Cmd(c) | Kind::Entrypoint(c) => {
                let kw = if matches!(kind, Kind::Cmd(_)) {
                    "CMD"
                } else {
                    "ENTRYPOINT"
                };
                self.singles.push((kw, line, end));
                if matches!(c, ShellOrExec::Shell(_)) && !self.shell_set {
                    self.warn(
                        line,
                        end,
                        "JSONArgsRecommended",
                        format!(
                            "JSON arguments recommended for {keyword} to prevent unintended behavior related to OS signals"
                        ),
                    );
                }
            }
            Kind::Shell(_) => self.shell_set = true,
            Kind::Healthcheck(_) => self.singles.push(("HEALTHCHECK", line, end)),
            Kind::Maintainer(_) => self.warn(
                line,
                end,
                "MaintainerDeprecated",
                "Maintainer instruction is deprecated in favor of using label".into(),
            ),
            Kind::Env(kvs) | Kind::Label(kvs) => {
                let name = if matches!(kind, Kind::Env(_)) {
                    "ENV"
                } else {
                    "LABEL"
                };
                if args.len() == 3 && args[2].is_empty() {
                    self.warn(
                        line,
                        end,
                        "LegacyKeyValueFormat",
                        format!(
                            "\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"
                        ),
                    );
                }
                if name == "ENV" {
                    for (k, _) in kvs {
                        self.secret(line, end, "ENV", k);
                    }
                }
            }
            Kind::Arg(kvs) => {
                for (k, _) in kvs {
                    self.secret(line, end, "ARG", k);
                }
            }
            Kind::Expose(ports) => {
                for p in ports {
                    if let Some((_, proto)) = p.split_once('/')
                        && proto != proto.to_lowercase()
                    {
                        self.warn(
                            line,
                            end,
                            "ExposeProtoCasing",
                            format!(
                                "Defined protocol '{p}' in EXPOSE instruction should be lowercase"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn secret(&mut self, line: usize, end: usize, ins: &str, key: &str) {
        let parts: Vec<String> = key.split('_').map(str::to_lowercase).collect();
        if parts.iter().any(|p| p == "public") {
            return;
        }
        if parts.iter().any(|p| SECRET_WORDS.contains(&p.as_str())) {
            self.warn(
                line,
                end,
                "SecretsUsedInArgOrEnv",
                format!(
                    "Do not use ARG or ENV instructions for sensitive data ({ins} {})",
                    go_quote(key)
                ),
            );
        }
    }
}

/// Applies `# check=skip=...` (`all` or a comma-separated rule list).
pub(crate) fn skipped(check: Option<&str>, message: &str) -> bool {
    let Some(check) = check else { return false };
    let rule = message.split(':').next().unwrap_or("");
    check.split(';').any(|part| {
        let part = part.trim();
        part.strip_prefix("skip=").is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|r| r.eq_ignore_ascii_case("all") || r == rule)
        })
    })
}
