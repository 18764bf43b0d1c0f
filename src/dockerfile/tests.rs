//! Table-driven tests of the parser and the expansion lexer against
//! BuildKit's documented behavior and error texts, plus property tests
//! that neither ever panics.

use super::*;
use proptest::prelude::*;

fn kinds(text: &str) -> Vec<Kind> {
    let df = parse(text);
    assert!(
        df.first_error().is_none(),
        "unexpected error for {text:?}: {:?}",
        df.diagnostics
    );
    df.instructions.into_iter().map(|i| i.kind).collect()
}

/// The kind of the last instruction (after a leading `FROM scratch`).
fn last(text: &str) -> Kind {
    kinds(&format!("FROM scratch\n{text}")).pop().unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn kv(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn first_err(text: &str) -> (usize, String) {
    let df = parse(text);
    let d = df.first_error().expect("an error");
    (d.line, d.message.clone())
}

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn instruction_forms() {
    let cases: Vec<(&str, Kind)> = vec![
        (
            "RUN apk add curl",
            Kind::Run {
                cmd: ShellOrExec::Shell("apk add curl".into()),
                heredocs: vec![],
                mounts: vec![],
                network: None,
                security: None,
            },
        ),
        (
            r#"RUN ["echo", "hi"]"#,
            Kind::Run {
                cmd: ShellOrExec::Exec(s(&["echo", "hi"])),
                heredocs: vec![],
                mounts: vec![],
                network: None,
                security: None,
            },
        ),
        (
            "RUN --mount=type=cache,target=/root/.cache --mount=type=tmpfs,target=/t --network=none --security=insecure make",
            Kind::Run {
                cmd: ShellOrExec::Shell("make".into()),
                heredocs: vec![],
                mounts: s(&["type=cache,target=/root/.cache", "type=tmpfs,target=/t"]),
                network: Some("none".into()),
                security: Some("insecure".into()),
            },
        ),
        (
            r#"CMD ["nginx", "-g", "daemon off;"]"#,
            Kind::Cmd(ShellOrExec::Exec(s(&["nginx", "-g", "daemon off;"]))),
        ),
        (
            "CMD python main.py",
            Kind::Cmd(ShellOrExec::Shell("python main.py".into())),
        ),
        ("CMD []", Kind::Cmd(ShellOrExec::Exec(vec![]))),
        (
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
            Kind::Entrypoint(ShellOrExec::Exec(s(&["/bin/sh", "-c"]))),
        ),
        // Invalid JSON falls back to the shell form.
        (
            "CMD [\"a\", 'b']",
            Kind::Cmd(ShellOrExec::Shell("[\"a\", 'b']".into())),
        ),
        ("CMD [oops", Kind::Cmd(ShellOrExec::Shell("[oops".into()))),
        (
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
            Kind::Shell(s(&["/bin/bash", "-o", "pipefail", "-c"])),
        ),
        (
            "LABEL a=b c=\"d e\"",
            Kind::Label(kv(&[("a", "b"), ("c", "\"d e\"")])),
        ),
        (
            "LABEL version 1.0 beta",
            Kind::Label(kv(&[("version", "1.0 beta")])),
        ),
        (
            "MAINTAINER Jane <j@x.io>",
            Kind::Maintainer("Jane <j@x.io>".into()),
        ),
        (
            "EXPOSE 8080 443/tcp 80",
            Kind::Expose(s(&["443/tcp", "80", "8080"])),
        ),
        (
            "ENV A=1 B=\"two words\"",
            Kind::Env(kv(&[("A", "1"), ("B", "\"two words\"")])),
        ),
        (
            "ENV PATH /usr/bin:/bin  x",
            Kind::Env(kv(&[("PATH", "/usr/bin:/bin  x")])),
        ),
        ("ENV A=", Kind::Env(kv(&[("A", "")]))),
        (
            "ARG A B=2 C=\"x y\"",
            Kind::Arg(vec![
                ("A".into(), None),
                ("B".into(), Some("2".into())),
                ("C".into(), Some("\"x y\"".into())),
            ]),
        ),
        (
            "COPY --from=build --chown=app:app --chmod=755 --link a b /dst/",
            Kind::Copy(CopyArgs {
                sources: s(&["a", "b"]),
                dest: "/dst/".into(),
                from: Some("build".into()),
                chown: Some("app:app".into()),
                chmod: Some("755".into()),
                link: true,
                ..CopyArgs::default()
            }),
        ),
        (
            "COPY --parents --exclude=*.md --exclude=tmp ./x /y",
            Kind::Copy(CopyArgs {
                sources: s(&["./x"]),
                dest: "/y".into(),
                parents: true,
                exclude: s(&["*.md", "tmp"]),
                ..CopyArgs::default()
            }),
        ),
        (
            "COPY [\"a b\", \"/c d/\"]",
            Kind::Copy(CopyArgs {
                sources: s(&["a b"]),
                dest: "/c d/".into(),
                ..CopyArgs::default()
            }),
        ),
        (
            "ADD --keep-git-dir=true --checksum=sha256:abc https://x/y.tgz /z",
            Kind::Add(CopyArgs {
                sources: s(&["https://x/y.tgz"]),
                dest: "/z".into(),
                keep_git_dir: true,
                checksum: Some("sha256:abc".into()),
                ..CopyArgs::default()
            }),
        ),
        ("VOLUME /data /logs", Kind::Volume(s(&["/data", "/logs"]))),
        ("VOLUME [\"/data\"]", Kind::Volume(s(&["/data"]))),
        ("USER app:app", Kind::User("app:app".into())),
        ("WORKDIR /app", Kind::Workdir("/app".into())),
        ("WORKDIR /a b", Kind::Workdir("/a b".into())),
        ("STOPSIGNAL SIGQUIT", Kind::StopSignal("SIGQUIT".into())),
        ("HEALTHCHECK NONE", Kind::Healthcheck(None)),
        (
            "HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 CMD curl -f http://localhost/ || exit 1",
            Kind::Healthcheck(Some(Healthcheck {
                test: s(&["CMD-SHELL", "curl -f http://localhost/ || exit 1"]),
                interval: Some("30s".into()),
                timeout: Some("3s".into()),
                start_period: Some("5s".into()),
                start_interval: Some("1s".into()),
                retries: Some(3),
            })),
        ),
        (
            "HEALTHCHECK CMD [\"curl\", \"-f\", \"http://x\"]",
            Kind::Healthcheck(Some(Healthcheck {
                test: s(&["CMD", "curl", "-f", "http://x"]),
                interval: None,
                timeout: None,
                start_period: None,
                start_interval: None,
                retries: None,
            })),
        ),
        (
            "ONBUILD RUN echo hi",
            Kind::Onbuild(Box::new(Instruction {
                line: 0,
                end_line: 0,
                original: "RUN echo hi".into(),
                kind: Kind::Run {
                    cmd: ShellOrExec::Shell("echo hi".into()),
                    heredocs: vec![],
                    mounts: vec![],
                    network: None,
                    security: None,
                },
            })),
        ),
        (
            "onbuild copy . /app",
            Kind::Onbuild(Box::new(Instruction {
                line: 0,
                end_line: 0,
                original: "copy . /app".into(),
                kind: Kind::Copy(CopyArgs {
                    sources: s(&["."]),
                    dest: "/app".into(),
                    ..CopyArgs::default()
                }),
            })),
        ),
        (
            "ONBUILD RUNN x",
            Kind::Onbuild(Box::new(Instruction {
                line: 0,
                end_line: 0,
                original: "RUNN x".into(),
                kind: Kind::Unknown {
                    name: "RUNN".into(),
                    args: "x".into(),
                },
            })),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(last(text), want, "{text}");
    }
}

#[test]
fn from_forms() {
    let cases: Vec<(&str, Kind)> = vec![
        (
            "FROM alpine:3.20",
            Kind::From {
                image: "alpine:3.20".into(),
                alias: None,
                platform: None,
            },
        ),
        (
            "from golang:1.22 as Build",
            Kind::From {
                image: "golang:1.22".into(),
                alias: Some("build".into()),
                platform: None,
            },
        ),
        (
            "FROM --platform=$BUILDPLATFORM node:20 AS deps",
            Kind::From {
                image: "node:20".into(),
                alias: Some("deps".into()),
                platform: Some("$BUILDPLATFORM".into()),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(kinds(text), vec![want], "{text}");
    }
}

#[test]
fn diagnostics_texts() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "FROM a\nRUNN x",
            2,
            "unknown instruction: RUNN (did you mean RUN?)",
        ),
        (
            "FROM a\nfoo x",
            2,
            "unknown instruction: foo (did you mean from?)",
        ),
        ("FROM a\nzzzzz x", 2, "unknown instruction: zzzzz"),
        (
            "FROM a\ncopyy a b",
            2,
            "unknown instruction: copyy (did you mean copy?)",
        ),
        ("FROM", 1, "FROM requires either one or three arguments"),
        ("FROM a b", 1, "FROM requires either one or three arguments"),
        (
            "FROM a AS b c",
            1,
            "FROM requires either one or three arguments",
        ),
        (
            "FROM a FOO b",
            1,
            "FROM requires either one or three arguments",
        ),
        (
            "FROM a AS 1x",
            1,
            "invalid name for build stage: \"1x\", name can't start with a number or contain symbols",
        ),
        ("FROM a\nENV =x", 2, "ENV names can not be blank"),
        ("FROM a\nENV", 2, "ENV requires at least one argument"),
        ("FROM a\nENV A", 2, "ENV must have two arguments"),
        (
            "FROM a\nENV A=1 B",
            2,
            "Syntax error - can't find = in \"B\". Must be of the form: name=value",
        ),
        ("FROM a\nLABEL", 2, "LABEL requires at least one argument"),
        ("FROM a\nLABEL x", 2, "LABEL must have two arguments"),
        ("FROM a\nARG", 2, "ARG requires at least one argument"),
        ("FROM a\nARG =1", 2, "ARG names can not be blank"),
        (
            "FROM a\nWORKDIR",
            2,
            "WORKDIR requires exactly one argument",
        ),
        ("FROM a\nUSER", 2, "USER requires exactly one argument"),
        (
            "FROM a\nSTOPSIGNAL",
            2,
            "STOPSIGNAL requires exactly one argument",
        ),
        (
            "FROM a\nMAINTAINER",
            2,
            "MAINTAINER requires exactly one argument",
        ),
        ("FROM a\nEXPOSE", 2, "EXPOSE requires at least one argument"),
        ("FROM a\nVOLUME", 2, "VOLUME requires at least one argument"),
        (
            "FROM a\nVOLUME [\"\"]",
            2,
            "VOLUME specified can not be an empty string",
        ),
        (
            "FROM a\nONBUILD",
            2,
            "ONBUILD requires at least one argument",
        ),
        (
            "FROM a\nONBUILD ONBUILD RUN x",
            2,
            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        ),
        (
            "FROM a\nONBUILD FROM x",
            2,
            "FROM isn't allowed as an ONBUILD trigger",
        ),
        (
            "FROM a\nONBUILD maintainer x",
            2,
            "MAINTAINER isn't allowed as an ONBUILD trigger",
        ),
        (
            "FROM a\nHEALTHCHECK",
            2,
            "HEALTHCHECK requires at least one argument",
        ),
        (
            "FROM a\nHEALTHCHECK NONE x",
            2,
            "HEALTHCHECK NONE takes no arguments",
        ),
        (
            "FROM a\nHEALTHCHECK CMD",
            2,
            "Missing command after HEALTHCHECK CMD",
        ),
        (
            "FROM a\nHEALTHCHECK FOO x",
            2,
            "Unknown type \"FOO\" in HEALTHCHECK (try CMD)",
        ),
        (
            "FROM a\nHEALTHCHECK --interval=abc CMD x",
            2,
            "time: invalid duration \"abc\"",
        ),
        (
            "FROM a\nHEALTHCHECK --interval=5 CMD x",
            2,
            "time: missing unit in duration \"5\"",
        ),
        (
            "FROM a\nHEALTHCHECK --timeout=1us CMD x",
            2,
            "Interval \"timeout\" cannot be less than 1ms",
        ),
        (
            "FROM a\nHEALTHCHECK --retries=-1 CMD x",
            2,
            "--retries cannot be negative (-1)",
        ),
        (
            "FROM a\nHEALTHCHECK --retries=x CMD x",
            2,
            "strconv.ParseInt: parsing \"x\": invalid syntax",
        ),
        ("FROM a\nSHELL", 2, "SHELL requires at least one argument"),
        (
            "FROM a\nSHELL []",
            2,
            "SHELL requires at least one argument",
        ),
        (
            "FROM a\nSHELL bash -c",
            2,
            "SHELL requires the arguments to be in JSON form",
        ),
        (
            "FROM a\nCOPY x",
            2,
            "COPY requires at least two arguments, but only one was provided. Destination could not be determined",
        ),
        (
            "FROM a\nADD",
            2,
            "ADD requires at least two arguments, but only one was provided. Destination could not be determined",
        ),
        ("FROM a\nCOPY --foo a b", 2, "unknown flag: foo"),
        (
            "FROM a\nCOPY --chmod 0755 a b",
            2,
            "missing a value on flag: chmod",
        ),
        (
            "FROM a\nCOPY --link= a b",
            2,
            "missing a value on flag: link",
        ),
        (
            "FROM a\nCOPY --link=yes a b",
            2,
            "expecting boolean value for flag link, not: yes",
        ),
        (
            "FROM a\nCOPY --from=a --from=b x y",
            2,
            "duplicate flag specified: from",
        ),
        ("FROM a\nADD --from=x a b", 2, "unknown flag: from"),
        ("FROM a\nRUN --foo=bar make", 2, "unknown flag: foo"),
        ("FROM a\nWORKDIR --x=1 /a", 2, "unknown flag: x"),
        ("FROM --plat=x a", 1, "unknown flag: plat"),
        (
            "FROM a\nCOPY a <<EOF\nx\nEOF",
            2,
            "COPY cannot accept a heredoc as a destination",
        ),
        (
            "FROM a\nRUN [\"a\", 1]",
            2,
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
        ("ENV A=b\nFROM a", 1, "no build stage in current context"),
        ("FROM a\nRUN <<EOF\nnever ends", 2, "unterminated heredoc"),
        ("# only a comment\n", 1, "file with no instructions"),
        ("\n\n  \n", 3, "file with no instructions"),
        ("", 1, "the Dockerfile cannot be empty"),
        (
            "# escape=x\nFROM a",
            1,
            "invalid escape token 'x' does not match ` or \\",
        ),
        (
            "# syntax=a\n# syntax=b\nFROM a",
            2,
            "only one syntax parser directive can be used",
        ),
    ];
    for (text, line, msg) in cases {
        assert_eq!(first_err(text), (*line, msg.to_string()), "{text:?}");
    }
}

#[test]
fn buildkit_message_prefix() {
    let df = parse("FROM a\nRUNN x\n");
    assert_eq!(
        df.first_error().unwrap().buildkit_message(),
        "dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)"
    );
    let df = parse("# nothing\n");
    assert_eq!(
        df.first_error().unwrap().buildkit_message(),
        "file with no instructions"
    );
}

#[test]
fn parser_errors_win_over_earlier_instruction_errors() {
    let df = parse("FROM a\nRUNN x\nENV a=b c\n");
    assert_eq!(df.diagnostics.len(), 2);
    assert_eq!(df.first_error().unwrap().line, 3);
}

#[test]
fn directive_flags_not_allowed_where_buildkit_skips_them() {
    // STOPSIGNAL and ARG do not parse flags; HEALTHCHECK NONE neither.
    assert_eq!(last("STOPSIGNAL --x=1 9"), Kind::StopSignal("9".into()));
    assert_eq!(last("HEALTHCHECK --bogus=1 NONE"), Kind::Healthcheck(None));
}

#[test]
fn continuations_and_comments() {
    let text = "FROM alpine\nRUN apk add \\\n    curl \\\n# a comment\n\n    git\nCMD x\n";
    let df = parse(text);
    assert!(df.first_error().is_none());
    let run = &df.instructions[1];
    assert_eq!((run.line, run.end_line), (2, 6));
    assert_eq!(run.original, "RUN apk add     curl     git");
    assert_eq!(
        run.kind,
        Kind::Run {
            cmd: ShellOrExec::Shell("apk add     curl     git".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        }
    );
    // The blank line inside the continuation gives a warning.
    assert!(
        df.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning)
    );
    assert_eq!(df.instructions[2].line, 7);
    // An escaped escape at the end is not a continuation.
    let df = parse("FROM a\nRUN echo \\\\\nCMD x");
    assert_eq!(df.instructions.len(), 3);
    // Leading whitespace and lower case keywords.
    assert_eq!(
        kinds("   from a\n\t workdir /x"),
        vec![
            Kind::From {
                image: "a".into(),
                alias: None,
                platform: None
            },
            Kind::Workdir("/x".into())
        ]
    );
    // Trailing spaces after the escape still continue; CRLF endings.
    let df = parse("FROM a\r\nRUN a \\  \r\n  b\r\n");
    assert_eq!(df.instructions[1].original, "RUN a   b");
}

#[test]
fn directives() {
    let df = parse("# syntax=docker/dockerfile:1\n# ESCAPE=`\n# check=skip=all\nFROM a\n");
    assert_eq!(df.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert_eq!(df.escape, '`');
    assert_eq!(df.check.as_deref(), Some("skip=all"));
    // After a comment, a directive is just a comment.
    let df = parse("# hello\n# escape=`\nFROM a\n");
    assert_eq!(df.escape, '\\');
    // After an instruction too.
    let df = parse("FROM a\n# syntax=x\n");
    assert_eq!(df.syntax, None);
    // After a blank line.
    let df = parse("\n# escape=`\nFROM a\n");
    assert_eq!(df.escape, '\\');
    // An unknown directive ends the directive section.
    let df = parse("# foo=bar\n# escape=`\nFROM a\n");
    assert_eq!(df.escape, '\\');
    // A BOM is ignored.
    let df = parse("\u{feff}# escape=`\nFROM a\n");
    assert_eq!(df.escape, '`');
}

#[test]
fn windows_escape_backtick() {
    let text = "# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n    && echo done\n";
    let df = parse(text);
    assert!(df.first_error().is_none(), "{:?}", df.diagnostics);
    assert_eq!(
        df.instructions[1].kind,
        Kind::Copy(CopyArgs {
            sources: s(&["testfile.txt"]),
            dest: "c:\\".into(),
            ..CopyArgs::default()
        })
    );
    assert_eq!(
        df.instructions[2].kind,
        Kind::Run {
            cmd: ShellOrExec::Shell("dir c:\\     && echo done".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        }
    );
    assert_eq!(
        (df.instructions[2].line, df.instructions[2].end_line),
        (5, 6)
    );
    // Expansion with backtick escapes.
    let e = env_of(&[("X", "1")]);
    assert_eq!(expand("c:\\a`$X$X", &e, '`').unwrap(), "c:\\a$X1");
}

#[test]
fn heredocs() {
    let text = "FROM a\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-\"END\" /x\n\tline1\n\t\tline2\n\tEND\nRUN <<A cat - && cat <<B\na\nA\nb\nB\nRUN echo done\n";
    let df = parse(text);
    assert!(df.first_error().is_none(), "{:?}", df.diagnostics);
    let ins = &df.instructions;
    assert_eq!(ins.len(), 5);
    assert_eq!((ins[1].line, ins[1].end_line), (2, 4));
    let Kind::Run { cmd, heredocs, .. } = &ins[1].kind else {
        panic!()
    };
    assert_eq!(cmd, &ShellOrExec::Shell("<<EOF".into()));
    assert_eq!(
        heredocs,
        &vec![Heredoc {
            name: "EOF".into(),
            content: "echo $HOME\n".into(),
            expand: true,
            chomp: false,
            fd: 0
        }]
    );
    let Kind::Copy(c) = &ins[2].kind else {
        panic!()
    };
    assert_eq!(c.dest, "/x");
    assert!(c.sources.is_empty());
    assert_eq!(
        c.heredocs,
        vec![Heredoc {
            name: "END".into(),
            content: "line1\nline2\n".into(),
            expand: false,
            chomp: true,
            fd: 0
        }]
    );
    let Kind::Run { heredocs, .. } = &ins[3].kind else {
        panic!()
    };
    assert_eq!(heredocs.len(), 2);
    assert_eq!(
        (heredocs[0].content.as_str(), heredocs[1].content.as_str()),
        ("a\n", "b\n")
    );
    assert_eq!(ins[4].line, 14);
    // Single quotes disable expansion; JSON form has no heredocs.
    let df = parse("FROM a\nRUN cat <<'X'\n$y\nX\n");
    let Kind::Run { heredocs, .. } = &df.instructions[1].kind else {
        panic!()
    };
    assert!(!heredocs[0].expand);
    let df = parse("FROM a\nRUN [\"cat\", \"<<EOF\"]\nRUN x\n");
    assert_eq!(df.instructions.len(), 3);
    // COPY heredoc bodies expand (quotes kept) unless quoted.
    let df = parse("FROM a\nCOPY <<EOF /f\nv=\"$V\"\nEOF\n");
    let e = env_of(&[("V", "1")]);
    let exp = df.instructions[1].expand(&e, '\\').unwrap();
    let Kind::Copy(c) = exp.kind else { panic!() };
    assert_eq!(c.heredocs[0].content, "v=\"1\"\n");
}

#[test]
fn onbuild_heredoc_expression() {
    let df = parse("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n");
    let Kind::Onbuild(inner) = &df.instructions[1].kind else {
        panic!()
    };
    assert_eq!(inner.original, "RUN <<EOF\necho hi\nEOF");
}

#[test]
fn instruction_expand() {
    let e = env_of(&[("V", "1.2"), ("D", "/app"), ("P", "80 443"), ("U", "me")]);
    let exp = |t: &str| {
        parse(&format!("FROM a\n{t}")).instructions[1]
            .expand(&e, '\\')
            .unwrap()
            .kind
    };
    assert_eq!(exp("WORKDIR $D/src"), Kind::Workdir("/app/src".into()));
    assert_eq!(exp("USER ${U}"), Kind::User("me".into()));
    assert_eq!(exp("EXPOSE $P 22"), Kind::Expose(s(&["80", "443", "22"])));
    assert_eq!(
        exp("ENV A=\"x $V\" B=${V}-y"),
        Kind::Env(kv(&[("A", "x 1.2"), ("B", "1.2-y")]))
    );
    assert_eq!(exp("ENV A x $V"), Kind::Env(kv(&[("A", "x 1.2")])));
    assert_eq!(
        exp("LABEL \"k\"='$V' v=$V"),
        Kind::Label(kv(&[("k", "$V"), ("v", "1.2")]))
    );
    assert_eq!(
        exp("ARG X=$V Y"),
        Kind::Arg(vec![("X".into(), Some("1.2".into())), ("Y".into(), None)])
    );
    assert_eq!(
        exp("COPY --chown=$U $D/a ${D}/b"),
        Kind::Copy(CopyArgs {
            sources: s(&["/app/a"]),
            dest: "/app/b".into(),
            chown: Some("me".into()),
            ..CopyArgs::default()
        })
    );
    assert_eq!(
        exp("RUN echo $V"),
        Kind::Run {
            cmd: ShellOrExec::Shell("echo $V".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        }
    );
    assert_eq!(
        exp("CMD echo $V"),
        Kind::Cmd(ShellOrExec::Shell("echo $V".into()))
    );
    let df = parse("ARG V=3.20\nFROM alpine:${V} AS b\n");
    assert_eq!(
        df.instructions[1]
            .expand(&env_of(&[("V", "3.20")]), '\\')
            .unwrap()
            .kind,
        Kind::From {
            image: "alpine:3.20".into(),
            alias: Some("b".into()),
            platform: None
        }
    );
    let err = parse("FROM a\nWORKDIR ${X:?no dir}").instructions[1]
        .expand(&e, '\\')
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to process \"${X:?no dir}\": X: no dir"
    );
}

#[test]
fn expansion_forms() {
    let e = env_of(&[
        ("v", "hello"),
        ("e", ""),
        ("p", "/usr/local/bin/app.tar.gz"),
        ("s", "a b  c"),
    ]);
    let cases: &[(&str, &str)] = &[
        ("$v", "hello"),
        ("${v}", "hello"),
        ("$v-x", "hello-x"),
        ("${v}x", "hellox"),
        ("$u", ""),
        ("${u}", ""),
        ("${u:-def}", "def"),
        ("${e:-def}", "def"),
        ("${e-def}", ""),
        ("${u-def}", "def"),
        ("${v:-def}", "hello"),
        ("${v:+alt}", "alt"),
        ("${e:+alt}", ""),
        ("${e+alt}", "alt"),
        ("${u+alt}", ""),
        ("${v?x}", "hello"),
        ("${p#*/}", "usr/local/bin/app.tar.gz"),
        ("${p##*/}", "app.tar.gz"),
        ("${p%.*}", "/usr/local/bin/app.tar"),
        ("${p%%.*}", "/usr/local/bin/app"),
        ("${v/l/L}", "heLlo"),
        ("${v//l/L}", "heLLo"),
        ("${v/l*/X}", "heX"),
        ("${v/?/X}", "Xello"),
        ("${v/zz/X}", "hello"),
        ("${v#h?l}", "lo"),
        ("${v#\\*}", "hello"),
        ("'$v'", "$v"),
        ("\"$v\"", "hello"),
        ("\"'$v'\"", "'hello'"),
        ("\\$v", "$v"),
        ("a\\ b", "a b"),
        ("\"a\\\"b\"", "a\"b"),
        ("\"a\\nb\"", "a\\nb"),
        ("$", "$"),
        ("a$", "a$"),
        ("$1", ""),
        ("${u:-$v}", "hello"),
        ("${u:-\"a b\"}", "a b"),
        ("x\\", "x"),
    ];
    for (input, want) in cases {
        assert_eq!(expand(input, &e, '\\').unwrap(), *want, "{input}");
    }
}

#[test]
fn expansion_errors() {
    let e = env_of(&[("e", "")]);
    let cases: &[(&str, &str)] = &[
        ("${v:?oops}", "failed to process \"${v:?oops}\": v: oops"),
        (
            "${v?}",
            "failed to process \"${v?}\": v: is not allowed to be unset",
        ),
        (
            "${e:?}",
            "failed to process \"${e:?}\": e: is not allowed to be empty",
        ),
        // BuildKit reads EOF as U+FFFD here.
        (
            "${v",
            "failed to process \"${v\": unsupported modifier (\u{FFFD}) in substitution",
        ),
        (
            "${v:-x",
            "failed to process \"${v:-x\": syntax error: missing '}'",
        ),
        (
            "${}",
            "failed to process \"${}\": syntax error: bad substitution",
        ),
        (
            "${:a}",
            "failed to process \"${:a}\": syntax error: bad substitution",
        ),
        ("${", "failed to process \"${\": syntax error: missing '}'"),
        (
            "${v!x}",
            "failed to process \"${v!x}\": unsupported modifier (!) in substitution",
        ),
        (
            "'abc",
            "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote",
        ),
        (
            "\"abc",
            "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote",
        ),
        (
            "${v/a",
            "failed to process \"${v/a\": syntax error: missing '/' in ${}",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            expand(input, &e, '\\').unwrap_err().to_string(),
            *want,
            "{input}"
        );
    }
}

#[test]
fn expand_words_splits() {
    let e = env_of(&[("s", "a b  c")]);
    assert_eq!(
        expand_words("$s d", &e, '\\').unwrap(),
        s(&["a", "b", "c", "d"])
    );
    assert_eq!(
        expand_words("\"$s\" d", &e, '\\').unwrap(),
        s(&["a b  c", "d"])
    );
    assert_eq!(expand_words("  x\\ y  ", &e, '\\').unwrap(), s(&["x y"]));
    assert_eq!(expand_words("", &e, '\\').unwrap(), Vec::<String>::new());
}

#[test]
fn go_durations() {
    assert_eq!(go_duration_nanos("1h2m3.5s"), Some(3_723_500_000_000));
    assert_eq!(go_duration_nanos("300ms"), Some(300_000_000));
    assert_eq!(go_duration_nanos("0"), Some(0));
    assert_eq!(go_duration_nanos("-1.5h"), Some(-5_400_000_000_000));
    assert_eq!(go_duration_nanos(".5s"), Some(500_000_000));
    assert_eq!(go_duration_nanos("1"), None);
    assert_eq!(go_duration_nanos("1x"), None);
    assert_eq!(go_duration_nanos(""), None);
}

proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC*") {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_dockerfile_like(
        lines in proptest::collection::vec(
            "(FROM|RUN|COPY|ADD|ENV|ARG|LABEL|HEALTHCHECK|ONBUILD|SHELL|CMD|EXPOSE|#|# escape=|)[ -~\t]{0,30}(\\\\|`)?",
            0..12,
        )
    ) {
        let _ = parse(&lines.join("\n"));
    }

    #[test]
    fn expand_never_panics(word in "[-${}:+?#%/*'\"\\\\ a-z`]{0,40}", esc in prop_oneof![Just('\\'), Just('`')]) {
        let env = |k: &str| if k == "a" { Some("a b*c".to_string()) } else { None };
        let _ = expand(&word, &env, esc);
        let _ = expand_words(&word, &env, esc);
    }
}

fn warnings(text: &str) -> Vec<(usize, String)> {
    parse(text)
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| (d.line, d.message))
        .collect()
}

#[test]
fn lint_warnings() {
    let w = |l: usize, m: &str| (l, m.to_string());
    let cases: Vec<(&str, Vec<(usize, String)>)> = vec![
        ("FROM a AS b\nCMD [\"x\"]\n", vec![]),
        (
            "FROM a as b\n",
            vec![w(
                1,
                "FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
            )],
        ),
        (
            "FROM a AS Build\n",
            vec![w(
                1,
                "StageNameCasing: Stage name 'Build' should be lowercase",
            )],
        ),
        (
            "FROM a AS x\nFROM b AS x\n",
            vec![w(
                2,
                "DuplicateStageName: Duplicate stage name \"x\", stage names should be unique",
            )],
        ),
        (
            "FROM a AS scratch\n",
            vec![w(
                1,
                "ReservedStageName: Stage name should not use the same name as reserved stage \"scratch\"",
            )],
        ),
        (
            "FROM a\nCMD python app.py\n",
            vec![w(
                2,
                "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
            )],
        ),
        (
            "FROM a\nCMD [\"a\"]\nCMD [\"b\"]\n",
            vec![w(
                2,
                "MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in the same stage because only the last one will be used",
            )],
        ),
        ("FROM a\nCMD [\"a\"]\nFROM b\nCMD [\"b\"]\n", vec![]),
        (
            "FROM a\nMAINTAINER me\n",
            vec![w(
                2,
                "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
            )],
        ),
        (
            "FROM a\nENV A b\n",
            vec![w(
                2,
                "LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key value\" format",
            )],
        ),
        (
            "FROM a\nARG DB_PASSWORD\nARG PUBLIC_KEY\nARG KEYBOARD\n",
            vec![w(
                2,
                "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"DB_PASSWORD\")",
            )],
        ),
        (
            "FROM a\nEXPOSE 80/TCP\n",
            vec![w(
                2,
                "ExposeProtoCasing: Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
            )],
        ),
        (
            "FROM a\nRUN a \\\n\n  b\n",
            vec![w(2, "NoEmptyContinuation: Empty continuation line")],
        ),
        ("# check=skip=all\nFROM a as b\nCMD x\n", vec![]),
        ("FROM a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD x\n", vec![]),
        (
            "# check=skip=FromAsCasing\nFROM a as b\nCMD x\n",
            vec![w(
                3,
                "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
            )],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(warnings(text), want, "{text:?}");
    }
}
