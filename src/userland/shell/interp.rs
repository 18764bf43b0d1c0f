//! The interpreter: a [`Shell`] holds what a shell process keeps between
//! commands (variables, positional parameters, functions, options, `$?`)
//! and walks the syntax tree `brush-parser` made: lists, pipelines,
//! compound commands, redirections and simple commands, resolving names
//! to special builtins, functions, builtins and programs in that order.

use super::Dialect;
use super::builtins;
use crate::layer::Content;
use crate::userland::exec::{self, ExecError};
use crate::userland::fs::{Errno, FileType};
use crate::userland::proc::{Ctx, Out, Sink};
use brush_parser::ast;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

/// How control leaves a command other than by finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctl {
    Break(u32),
    Continue(u32),
    Return(i32),
    Exit(i32),
    /// The run's budget is spent: unwind everything.
    Limit,
}

pub type R = Result<i32, Ctl>;

/// `set` options.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub errexit: bool,
    pub nounset: bool,
    pub xtrace: bool,
    pub pipefail: bool,
    pub noglob: bool,
    pub allexport: bool,
    pub noexec: bool,
    pub verbose: bool,
}

/// A shell process's state.
#[derive(Clone, Debug)]
pub struct Shell {
    pub dialect: Dialect,
    /// `$0`, also the prefix of error messages.
    pub zero: String,
    /// Running a script file (ash and bash then say `line N:`).
    pub from_file: bool,
    pub cmd_string: bool,
    pub interactive: bool,
    /// Unexported variables (exported ones live in `ctx.env`).
    pub vars: HashMap<String, String>,
    pub readonly: HashSet<String>,
    pub params: Vec<String>,
    pub funcs: HashMap<String, Rc<ast::FunctionBody>>,
    pub opts: Opts,
    pub status: i32,
    pub lineno: usize,
    /// Saved variables of the running functions' `local`s.
    pub locals: Vec<Vec<(String, Option<String>, bool)>>,
    pub loops: u32,
    pub funcs_running: u32,
    /// Commands whose failure must not trigger `set -e` (conditions).
    pub no_errexit: u32,
    pub traps: BTreeMap<String, String>,
    pub last_bg: Option<u32>,
    pub next_pid: u32,
    pub umask: u32,
    pub subst_status: Option<i32>,
    pub getopts_pos: usize,
    /// Files `exec >file` left open: written when the shell ends.
    pub open_files: Vec<(String, Rc<RefCell<Vec<u8>>>)>,
}

impl Shell {
    pub fn new(dialect: Dialect, zero: &str) -> Shell {
        Shell {
            dialect,
            zero: zero.to_string(),
            from_file: false,
            cmd_string: false,
            interactive: false,
            vars: HashMap::new(),
            readonly: HashSet::new(),
            params: Vec::new(),
            funcs: HashMap::new(),
            opts: Opts::default(),
            status: 0,
            lineno: 1,
            locals: Vec::new(),
            loops: 0,
            funcs_running: 0,
            no_errexit: 0,
            traps: BTreeMap::new(),
            last_bg: None,
            next_pid: 10,
            umask: 0o022,
            subst_status: None,
            getopts_pos: 0,
            open_files: Vec::new(),
        }
    }

    /// The parser options for this dialect.
    pub fn parser(&self) -> brush_parser::ParserOptions {
        brush_parser::ParserOptions {
            enable_extended_globbing: false,
            // busybox ash is built with its bash compatibility (`[[`,
            // `${v/a/b}`, `${v:1:2}`); dash is strictly POSIX.
            posix_mode: self.dialect == Dialect::Dash,
            sh_mode: self.dialect == Dialect::Dash,
            tilde_expansion_at_word_start: true,
            tilde_expansion_after_colon: false,
            ..Default::default()
        }
    }

    // ----- variables -------------------------------------------------

    pub fn get(&self, ctx: &Ctx, k: &str) -> Option<String> {
        if let Some(v) = ctx.env.get(k) {
            return Some(v.to_string());
        }
        if let Some(v) = self.vars.get(k) {
            return Some(v.clone());
        }
        match k {
            "PS4" => Some("+ ".into()),
            "IFS" => Some(" \t\n".into()),
            "LINENO" => Some(self.lineno.to_string()),
            _ => None,
        }
    }

    /// Sets a variable; `Err` with the message when it is read-only.
    pub fn set(&mut self, ctx: &mut Ctx, k: &str, v: &str) -> Result<(), String> {
        if self.readonly.contains(k) {
            return Err(format!("{k}: is read only"));
        }
        if ctx.env.get(k).is_some() || self.opts.allexport {
            ctx.env.set(k, v);
            self.vars.remove(k);
        } else {
            self.vars.insert(k.to_string(), v.to_string());
        }
        Ok(())
    }

    pub fn unset(&mut self, ctx: &mut Ctx, k: &str) -> Result<(), String> {
        if self.readonly.contains(k) {
            return Err(format!("{k}: is read only"));
        }
        ctx.env.remove(k);
        self.vars.remove(k);
        Ok(())
    }

    pub fn export(&mut self, ctx: &mut Ctx, k: &str) {
        let v = self.vars.remove(k);
        if ctx.env.get(k).is_none() {
            ctx.env.set(k, v.as_deref().unwrap_or(""));
        }
    }

    pub fn is_set(&self, ctx: &Ctx, k: &str) -> bool {
        ctx.env.get(k).is_some() || self.vars.contains_key(k)
    }

    // ----- messages --------------------------------------------------

    /// The prefix of an error message: `sh: 1: ` (dash), `sh: ` (ash, or
    /// `script: line 1: ` for a script file), `bash: line 1: `.
    pub fn prefix(&self) -> String {
        match self.dialect {
            Dialect::Dash => format!("{}: {}: ", self.zero, self.lineno),
            Dialect::Ash if self.from_file => format!("{}: line {}: ", self.zero, self.lineno),
            Dialect::Ash => format!("{}: ", self.zero),
            Dialect::Bash if self.interactive => format!("{}: ", self.zero),
            Dialect::Bash => format!("{}: line {}: ", self.zero, self.lineno),
        }
    }

    pub fn error(&self, ctx: &Ctx, msg: &str) {
        ctx.err(format!("{}{msg}\n", self.prefix()));
    }

    /// `$-`.
    pub fn dollar_dash(&self) -> String {
        let o = &self.opts;
        let mut s = String::new();
        for (on, c) in [
            (o.errexit, 'e'),
            (o.noglob, 'f'),
            (self.interactive, 'i'),
            (o.noexec, 'n'),
            (o.nounset, 'u'),
            (o.verbose, 'v'),
            (o.xtrace, 'x'),
            (o.allexport, 'a'),
        ] {
            if on {
                s.push(c);
            }
        }
        if self.dialect == Dialect::Bash {
            s.push_str("hB");
        }
        if self.cmd_string {
            s.push('c');
        }
        s
    }

    // ----- running ---------------------------------------------------

    pub fn step(&self, ctx: &Ctx) -> Result<(), Ctl> {
        ctx.step().map_err(|_| Ctl::Limit)
    }

    /// Parses a script; on error prints the shell's syntax error.
    pub fn parse(&self, ctx: &Ctx, src: &str) -> Result<ast::Program, i32> {
        super::syntax::parse(src, &self.parser()).map_err(|e| {
            self.report(ctx, &e);
            2
        })
    }

    /// Prints a syntax error in this shell's words.
    fn report(&self, ctx: &Ctx, e: &super::syntax::SyntaxError) {
        let mut me = self.clone();
        me.lineno = e.line;
        let msg = super::syntax::message(self.dialect, e);
        match self.dialect {
            Dialect::Bash => {
                let p = if self.cmd_string && !self.from_file {
                    format!("{}: -c: line {}: ", self.zero, e.line)
                } else {
                    me.prefix()
                };
                ctx.err(format!("{p}{msg}\n"));
                if let Some(l) = &e.source_line {
                    ctx.err(format!("{p}`{l}'\n"));
                }
            }
            _ => me.error(ctx, &msg),
        }
    }

    /// Runs a parsed program, returning its status (`exit` included).
    pub fn run_program(&mut self, ctx: &mut Ctx, p: &ast::Program) -> R {
        let mut st = 0;
        for c in &p.complete_commands {
            st = self.exec_list(ctx, c)?;
        }
        Ok(st)
    }

    /// Runs source text: parse, then run. Exit and limits come back as
    /// `Err`. As the real shells read and run a script command by command,
    /// the lines before a syntax error run before it is reported.
    pub fn run_source(&mut self, ctx: &mut Ctx, src: &str) -> R {
        let opts = self.parser();
        match super::syntax::parse(src, &opts) {
            Ok(p) => {
                if self.opts.noexec {
                    return Ok(0);
                }
                self.run_program(ctx, &p)
            }
            Err(e) => {
                if e.line > 1 {
                    let lines: Vec<&str> = src.split_inclusive('\n').collect();
                    let top = e.line.min(lines.len() + 1);
                    for k in (1..top).rev().take(200) {
                        let prefix: String = lines[..k].concat();
                        if let Ok(p) = super::syntax::parse(&prefix, &opts) {
                            if !self.opts.noexec {
                                self.run_program(ctx, &p)?;
                            }
                            break;
                        }
                    }
                }
                self.report(ctx, &e);
                self.status = 2;
                if self.interactive {
                    Ok(2)
                } else {
                    Err(Ctl::Exit(2))
                }
            }
        }
    }

    /// Runs the EXIT trap (once).
    pub fn exit_trap(&mut self, ctx: &mut Ctx) {
        if let Some(t) = self.traps.remove("EXIT") {
            let saved = self.status;
            let _ = self.run_source(ctx, &t);
            self.status = saved;
        }
    }

    pub fn exec_list(&mut self, ctx: &mut Ctx, l: &ast::CompoundList) -> R {
        let mut st = 0;
        for item in &l.0 {
            st = self.exec_and_or(ctx, &item.0)?;
            if matches!(item.1, ast::SeparatorOperator::Async) {
                self.next_pid += 1;
                self.last_bg = Some(self.next_pid);
                st = 0;
            }
            self.status = st;
        }
        Ok(st)
    }

    fn exec_and_or(&mut self, ctx: &mut Ctx, l: &ast::AndOrList) -> R {
        let n = l.additional.len();
        let mut st = if n > 0 {
            self.no_errexit += 1;
            let r = self.exec_pipeline(ctx, &l.first);
            self.no_errexit -= 1;
            r?
        } else {
            self.exec_pipeline(ctx, &l.first)?
        };
        self.status = st;
        for (i, ao) in l.additional.iter().enumerate() {
            let (run, p) = match ao {
                ast::AndOr::And(p) => (st == 0, p),
                ast::AndOr::Or(p) => (st != 0, p),
            };
            if !run {
                continue;
            }
            st = if i + 1 < n {
                self.no_errexit += 1;
                let r = self.exec_pipeline(ctx, p);
                self.no_errexit -= 1;
                r?
            } else {
                self.exec_pipeline(ctx, p)?
            };
            self.status = st;
        }
        Ok(st)
    }

    fn exec_pipeline(&mut self, ctx: &mut Ctx, p: &ast::Pipeline) -> R {
        if p.bang {
            self.no_errexit += 1;
        }
        let r = self.pipeline_inner(ctx, p);
        if p.bang {
            self.no_errexit -= 1;
        }
        let mut st = r?;
        if p.bang {
            st = if st == 0 { 1 } else { 0 };
            self.status = st;
            return Ok(st);
        }
        self.status = st;
        let checked = p.seq.len() > 1
            || matches!(
                p.seq.first(),
                Some(ast::Command::Simple(_))
                    | Some(ast::Command::Compound(ast::CompoundCommand::Subshell(_), _))
                    | Some(ast::Command::ExtendedTest(..))
            );
        if st != 0 && checked && self.opts.errexit && self.no_errexit == 0 {
            return Err(Ctl::Exit(st));
        }
        Ok(st)
    }

    fn pipeline_inner(&mut self, ctx: &mut Ctx, p: &ast::Pipeline) -> R {
        match p.seq.len() {
            0 => return Ok(0),
            1 => return self.exec_command(ctx, &p.seq[0]),
            _ => {}
        }
        let saved_out = ctx.stdout.clone();
        let saved_in = std::mem::take(&mut ctx.stdin);
        let mut input = saved_in.clone();
        let mut statuses = Vec::new();
        let last = p.seq.len() - 1;
        let mut result = Ok(());
        for (i, cmd) in p.seq.iter().enumerate() {
            ctx.stdin = std::mem::take(&mut input);
            let buf = if i < last {
                let (o, b) = ctx.buffer();
                ctx.stdout = o;
                Some(b)
            } else {
                ctx.stdout = saved_out.clone();
                None
            };
            let r = self.subshell(ctx, |s, ctx| s.exec_command(ctx, cmd));
            match r {
                Ok(st) => statuses.push(st),
                Err(c) => {
                    result = Err(c);
                    break;
                }
            }
            if let Some(b) = buf {
                input = std::mem::take(&mut *b.borrow_mut());
            }
        }
        ctx.stdout = saved_out;
        ctx.stdin = saved_in;
        result?;
        let last_st = statuses.last().copied().unwrap_or(0);
        if self.opts.pipefail {
            Ok(statuses
                .iter()
                .rev()
                .find(|s| **s != 0)
                .copied()
                .unwrap_or(0))
        } else {
            Ok(last_st)
        }
    }

    /// Runs `f` in a copy of this shell, as a forked subshell: variables,
    /// options, functions, cwd are its own; the file system is shared.
    pub fn subshell<F>(&mut self, ctx: &mut Ctx, f: F) -> R
    where
        F: FnOnce(&mut Shell, &mut Ctx) -> R,
    {
        if ctx.depth >= ctx.world.limits.depth {
            let l = crate::userland::proc::Limit::Depth(ctx.world.limits.depth);
            ctx.budget.borrow_mut().hit = Some(l);
            return Err(Ctl::Limit);
        }
        let mut sub = self.clone();
        sub.interactive = false;
        sub.traps.remove("EXIT");
        let env = ctx.env.clone();
        let cwd = ctx.cwd.clone();
        let stdin = ctx.stdin.clone();
        let (stdout, stderr) = (ctx.stdout.clone(), ctx.stderr.clone());
        ctx.depth += 1;
        let r = f(&mut sub, ctx);
        let r = match r {
            Ok(st) => Ok(st),
            Err(Ctl::Exit(st)) | Err(Ctl::Return(st)) => Ok(st),
            Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => Ok(sub.status),
            Err(Ctl::Limit) => Err(Ctl::Limit),
        };
        if r.is_ok() {
            sub.exit_trap(ctx);
        }
        sub.flush_open_files(ctx);
        ctx.stdout = stdout;
        ctx.stderr = stderr;
        ctx.depth -= 1;
        ctx.env = env;
        ctx.cwd = cwd;
        ctx.stdin = stdin;
        self.next_pid = sub.next_pid + 1;
        r
    }

    pub fn exec_command(&mut self, ctx: &mut Ctx, c: &ast::Command) -> R {
        match c {
            ast::Command::Simple(s) => self.exec_simple(ctx, s),
            ast::Command::Compound(cc, redirs) => {
                let saved = match redirs {
                    Some(r) => match self.redirect(ctx, &r.0)? {
                        Ok(s) => Some(s),
                        Err(st) => return Ok(st),
                    },
                    None => None,
                };
                let r = self.exec_compound(ctx, cc);
                if let Some(s) = saved {
                    self.restore(ctx, s);
                }
                r
            }
            ast::Command::Function(f) => {
                self.funcs
                    .insert(f.fname.value.clone(), Rc::new(f.body.clone()));
                Ok(0)
            }
            ast::Command::ExtendedTest(t, redirs) => {
                self.step(ctx)?;
                let saved = match redirs {
                    Some(r) => match self.redirect(ctx, &r.0)? {
                        Ok(s) => Some(s),
                        Err(st) => return Ok(st),
                    },
                    None => None,
                };
                let r = self.extended_test(ctx, &t.expr);
                if let Some(s) = saved {
                    self.restore(ctx, s);
                }
                Ok(if r? { 0 } else { 1 })
            }
        }
    }

    fn extended_test(&mut self, ctx: &mut Ctx, e: &ast::ExtendedTestExpr) -> Result<bool, Ctl> {
        use ast::ExtendedTestExpr as E;
        Ok(match e {
            E::And(a, b) => self.extended_test(ctx, a)? && self.extended_test(ctx, b)?,
            E::Or(a, b) => self.extended_test(ctx, a)? || self.extended_test(ctx, b)?,
            E::Not(a) => !self.extended_test(ctx, a)?,
            E::Parenthesized(a) => self.extended_test(ctx, a)?,
            E::UnaryTest(p, w) => {
                let v = self.expand_string(ctx, &w.value)?;
                let op = super::syntax::unary_op(p);
                builtins::test_eval(self, ctx, &[op.to_string(), v]).unwrap_or(false)
            }
            E::BinaryTest(p, a, b) => {
                let a = self.expand_string(ctx, &a.value)?;
                use ast::BinaryPredicate as B;
                match p {
                    B::StringExactlyMatchesPattern | B::StringDoesNotExactlyMatchPattern => {
                        let pat = self.expand_pattern(ctx, &b.value)?;
                        let m = super::pattern::matches(&pat, &a);
                        m == matches!(p, B::StringExactlyMatchesPattern)
                    }
                    B::StringMatchesRegex => {
                        let re = self.expand_string(ctx, &b.value)?;
                        regex::Regex::new(&re).is_ok_and(|r| r.is_match(&a))
                    }
                    _ => {
                        let b = self.expand_string(ctx, &b.value)?;
                        let op = super::syntax::binary_op(p);
                        builtins::test_eval(self, ctx, &[a, op.to_string(), b]).unwrap_or(false)
                    }
                }
            }
        })
    }

    fn exec_compound(&mut self, ctx: &mut Ctx, c: &ast::CompoundCommand) -> R {
        use ast::CompoundCommand as C;
        match c {
            C::BraceGroup(g) => self.exec_list(ctx, &g.list),
            C::Subshell(s) => {
                self.step(ctx)?;
                let st = self.subshell(ctx, |sh, ctx| sh.exec_list(ctx, &s.list))?;
                self.status = st;
                Ok(st)
            }
            C::IfClause(i) => {
                self.step(ctx)?;
                if self.condition(ctx, &i.condition)? == 0 {
                    return self.exec_list(ctx, &i.then);
                }
                for e in i.elses.iter().flatten() {
                    match &e.condition {
                        Some(c) => {
                            if self.condition(ctx, c)? == 0 {
                                return self.exec_list(ctx, &e.body);
                            }
                        }
                        None => return self.exec_list(ctx, &e.body),
                    }
                }
                Ok(0)
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                let until = matches!(c, C::UntilClause(_));
                let mut st = 0;
                self.loops += 1;
                let r = loop {
                    if let Err(e) = self.step(ctx) {
                        break Err(e);
                    }
                    let cond = match self.condition(ctx, &w.0) {
                        Ok(s) => s,
                        Err(e) => break Err(e),
                    };
                    if (cond == 0) == until {
                        break Ok(st);
                    }
                    match self.exec_list(ctx, &w.1.list) {
                        Ok(s) => st = s,
                        Err(Ctl::Break(n)) => {
                            if n > 1 {
                                break Err(Ctl::Break(n - 1));
                            }
                            break Ok(0);
                        }
                        Err(Ctl::Continue(n)) => {
                            if n > 1 {
                                break Err(Ctl::Continue(n - 1));
                            }
                        }
                        Err(e) => break Err(e),
                    }
                };
                self.loops -= 1;
                r
            }
            C::ForClause(f) => {
                let items = match &f.values {
                    Some(ws) => {
                        let mut v = Vec::new();
                        for w in ws {
                            v.extend(self.expand_word(ctx, &w.value)?);
                        }
                        v
                    }
                    None => self.params.clone(),
                };
                let mut st = 0;
                self.loops += 1;
                let mut r = Ok(0);
                for it in items {
                    if let Err(e) = self.step(ctx) {
                        r = Err(e);
                        break;
                    }
                    if let Err(m) = self.set(ctx, &f.variable_name, &it) {
                        self.error(ctx, &m);
                        r = Err(Ctl::Exit(2));
                        break;
                    }
                    match self.exec_list(ctx, &f.body.list) {
                        Ok(s) => st = s,
                        Err(Ctl::Break(n)) => {
                            r = if n > 1 { Err(Ctl::Break(n - 1)) } else { Ok(0) };
                            st = 0;
                            break;
                        }
                        Err(Ctl::Continue(n)) => {
                            if n > 1 {
                                r = Err(Ctl::Continue(n - 1));
                                break;
                            }
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                self.loops -= 1;
                r?;
                Ok(st)
            }
            C::CaseClause(cc) => {
                self.step(ctx)?;
                let v = self.expand_string(ctx, &cc.value.value)?;
                let mut i = 0;
                let mut fall = false;
                while i < cc.cases.len() {
                    let item = &cc.cases[i];
                    let mut hit = fall;
                    if !hit {
                        for p in &item.patterns {
                            let pat = self.expand_pattern(ctx, &p.value)?;
                            if super::pattern::matches(&pat, &v) {
                                hit = true;
                                break;
                            }
                        }
                    }
                    if hit {
                        let st = match &item.cmd {
                            Some(l) => self.exec_list(ctx, l)?,
                            None => 0,
                        };
                        match item.post_action {
                            ast::CaseItemPostAction::ExitCase => return Ok(st),
                            ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => {
                                fall = true;
                            }
                            ast::CaseItemPostAction::ContinueEvaluatingCases => fall = false,
                        }
                        if i + 1 == cc.cases.len() {
                            return Ok(st);
                        }
                    }
                    i += 1;
                }
                Ok(0)
            }
            C::Arithmetic(a) => {
                self.step(ctx)?;
                match self.arith(ctx, &a.expr.value)? {
                    Some(v) => Ok(if v != 0 { 0 } else { 1 }),
                    None => Ok(1),
                }
            }
            C::ArithmeticForClause(f) => {
                if let Some(i) = &f.initializer
                    && self.arith(ctx, &i.value)?.is_none()
                {
                    return Ok(1);
                }
                let mut st = 0;
                loop {
                    self.step(ctx)?;
                    if let Some(c) = &f.condition {
                        match self.arith(ctx, &c.value)? {
                            Some(0) => break,
                            None => return Ok(1),
                            _ => {}
                        }
                    }
                    match self.exec_list(ctx, &f.body.list) {
                        Ok(s) => st = s,
                        Err(Ctl::Break(_)) => break,
                        Err(Ctl::Continue(_)) => {}
                        Err(e) => return Err(e),
                    }
                    if let Some(u) = &f.updater
                        && self.arith(ctx, &u.value)?.is_none()
                    {
                        return Ok(1);
                    }
                }
                Ok(st)
            }
            C::Coprocess(_) => {
                self.error(ctx, "coproc: not supported");
                Ok(2)
            }
        }
    }

    /// Runs a condition list (`if`, `while`): `set -e` does not apply.
    fn condition(&mut self, ctx: &mut Ctx, l: &ast::CompoundList) -> R {
        self.no_errexit += 1;
        let r = self.exec_list(ctx, l);
        self.no_errexit -= 1;
        r
    }

    // ----- simple commands -------------------------------------------

    fn exec_simple(&mut self, ctx: &mut Ctx, sc: &ast::SimpleCommand) -> R {
        self.step(ctx)?;
        let items: Vec<&ast::CommandPrefixOrSuffixItem> = sc
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .chain(sc.suffix.iter().flat_map(|s| s.0.iter()))
            .collect();
        if let Some(line) = first_line(sc) {
            self.lineno = line;
        }
        let mut assigns: Vec<(String, String)> = Vec::new();
        let mut argv: Vec<String> = Vec::new();
        let mut redirs: Vec<&ast::IoRedirect> = Vec::new();
        self.subst_status = None;
        let mut words: Vec<&str> = Vec::new();
        if let Some(w) = &sc.word_or_name {
            words.push(&w.value);
        }
        // Prefix assignments first, then the command words in order.
        for it in sc.prefix.iter().flat_map(|p| p.0.iter()) {
            match it {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => {
                    let name = match &a.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                    };
                    let v = match &a.value {
                        ast::AssignmentValue::Scalar(w) => self.expand_assign(ctx, &w.value)?,
                        ast::AssignmentValue::Array(_) => String::new(),
                    };
                    let v = if a.append {
                        format!("{}{v}", self.get(ctx, &name).unwrap_or_default())
                    } else {
                        v
                    };
                    assigns.push((name, v));
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(r),
                _ => {}
            }
        }
        let _ = items;
        for w in words {
            argv.extend(self.expand_word(ctx, w)?);
        }
        // Declaration utilities keep `name=value` words whole.
        let decl = matches!(
            argv.first().map(String::as_str),
            Some("export" | "readonly" | "local")
        );
        for it in sc.suffix.iter().flat_map(|s| s.0.iter()) {
            match it {
                ast::CommandPrefixOrSuffixItem::Word(w) => {
                    argv.extend(self.expand_word(ctx, &w.value)?);
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    if decl {
                        argv.push(self.expand_assign(ctx, &w.value)?);
                    } else {
                        argv.extend(self.expand_word(ctx, &w.value)?);
                    }
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(r),
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {}
            }
        }
        if self.opts.xtrace {
            let mut parts: Vec<String> = assigns
                .iter()
                .map(|(k, v)| format!("{k}={}", quote(v)))
                .collect();
            parts.extend(argv.iter().map(|a| quote(a)));
            if !parts.is_empty() {
                let ps4 = self.get(ctx, "PS4").unwrap_or_default();
                ctx.err(format!("{ps4}{}\n", parts.join(" ")));
            }
        }
        if argv.is_empty() {
            for (k, v) in &assigns {
                if let Err(m) = self.set(ctx, k, v) {
                    self.error(ctx, &m);
                    return if self.interactive {
                        Ok(2)
                    } else {
                        Err(Ctl::Exit(2))
                    };
                }
            }
            let st = self.subst_status.unwrap_or(0);
            if !redirs.is_empty() {
                let saved = match self.redirect_refs(ctx, &redirs)? {
                    Ok(s) => s,
                    Err(st) => return Ok(st),
                };
                self.restore(ctx, saved);
            }
            return Ok(st);
        }
        let saved = if redirs.is_empty() {
            None
        } else {
            match self.redirect_refs(ctx, &redirs)? {
                Ok(s) => Some(s),
                Err(st) => {
                    if builtins::is_special(self.dialect, &argv[0]) && !self.interactive {
                        return Err(Ctl::Exit(st));
                    }
                    return Ok(st);
                }
            }
        };
        if argv.len() == 1 && argv[0] == "exec" {
            // `exec >file`: the redirections stay for the rest of the shell.
            if let Some(s) = saved {
                self.open_files.extend(s.files);
            }
            return Ok(0);
        }
        let r = self.dispatch(ctx, &argv, &assigns);
        if let Some(s) = saved {
            self.restore(ctx, s);
        }
        r
    }

    /// Writes what went to files `exec` redirected to so far.
    pub fn flush_open_files(&mut self, ctx: &mut Ctx) {
        let cred = ctx.user.cred();
        for (path, b) in &self.open_files {
            let data = std::mem::take(&mut *b.borrow_mut());
            if !data.is_empty()
                && let Err(e) = ctx.fs.append(path, &data, 0o644, cred)
            {
                self.error(ctx, &format!("write error: {}", e.text()));
            }
        }
    }

    /// Runs a command by name: special builtin, function, builtin, program.
    pub fn dispatch(&mut self, ctx: &mut Ctx, argv: &[String], assigns: &[(String, String)]) -> R {
        let name = argv[0].as_str();
        if builtins::is_special(self.dialect, name) {
            for (k, v) in assigns {
                if let Err(m) = self.set(ctx, k, v) {
                    self.error(ctx, &m);
                    return Err(Ctl::Exit(2));
                }
            }
            return builtins::run_special(self, ctx, argv);
        }
        if let Some(body) = self.funcs.get(name).cloned() {
            return self.with_temp(ctx, assigns, |sh, ctx| sh.call(ctx, &body, argv));
        }
        if builtins::is_builtin(self.dialect, name) {
            return self.with_temp(ctx, assigns, |sh, ctx| builtins::run(sh, ctx, argv));
        }
        self.external(ctx, argv, assigns)
    }

    fn with_temp<F>(&mut self, ctx: &mut Ctx, assigns: &[(String, String)], f: F) -> R
    where
        F: FnOnce(&mut Shell, &mut Ctx) -> R,
    {
        if assigns.is_empty() {
            return f(self, ctx);
        }
        let mut saved = Vec::new();
        for (k, v) in assigns {
            saved.push((k.clone(), self.get(ctx, k), ctx.env.get(k).is_some()));
            if let Err(m) = self.set(ctx, k, v) {
                self.error(ctx, &m);
                return Ok(1);
            }
        }
        let r = f(self, ctx);
        for (k, old, exported) in saved.into_iter().rev() {
            let _ = self.unset(ctx, &k);
            if let Some(v) = old {
                if exported {
                    ctx.env.set(&k, &v);
                } else {
                    self.vars.insert(k, v);
                }
            }
        }
        r
    }

    /// Calls a function with `argv[1..]` as its positional parameters.
    pub fn call(&mut self, ctx: &mut Ctx, body: &ast::FunctionBody, argv: &[String]) -> R {
        if ctx.depth >= ctx.world.limits.depth {
            let l = crate::userland::proc::Limit::Depth(ctx.world.limits.depth);
            ctx.budget.borrow_mut().hit = Some(l);
            return Err(Ctl::Limit);
        }
        ctx.depth += 1;
        let saved = std::mem::replace(&mut self.params, argv[1..].to_vec());
        self.locals.push(Vec::new());
        self.funcs_running += 1;
        let saved_loops = std::mem::replace(&mut self.loops, 0);
        let cmd = ast::Command::Compound(body.0.clone(), body.1.clone());
        let r = self.exec_command(ctx, &cmd);
        self.loops = saved_loops;
        self.funcs_running -= 1;
        if let Some(frame) = self.locals.pop() {
            for (k, old, exported) in frame.into_iter().rev() {
                self.readonly.remove(&k);
                ctx.env.remove(&k);
                self.vars.remove(&k);
                if let Some(v) = old {
                    if exported {
                        ctx.env.set(&k, &v);
                    } else {
                        self.vars.insert(k, v);
                    }
                }
            }
        }
        self.params = saved;
        ctx.depth -= 1;
        match r {
            Err(Ctl::Return(st)) => {
                self.status = st;
                Ok(st)
            }
            r => r,
        }
    }

    /// Starts a program: `PATH` search, then `execve` in a child process
    /// whose environment is the exported variables.
    fn external(&mut self, ctx: &mut Ctx, argv: &[String], assigns: &[(String, String)]) -> R {
        let name = argv[0].clone();
        let stdin = ctx.stdin.clone();
        let r = {
            let mut child = ctx.child();
            child.stdin = stdin;
            for (k, v) in assigns {
                child.env.set(k, v);
            }
            match exec::find(&child, &name) {
                Ok(path) => exec::exec(&mut child, &path, argv),
                Err(e) => Err(e),
            }
        };
        if ctx.budget.borrow().hit.is_some() {
            return Err(Ctl::Limit);
        }
        match r {
            Ok(st) => Ok(st),
            Err(ExecError::Format(path)) if !is_elf(ctx, &path) => {
                // ENOEXEC: POSIX shells run the file as a shell script.
                let src = ctx.fs.read_string(&path).unwrap_or_default();
                let dialect = self.dialect;
                let mut assigned = ctx.env.clone();
                for (k, v) in assigns {
                    assigned.set(k, v);
                }
                let env = std::mem::replace(&mut ctx.env, assigned);
                let r = self.subshell(ctx, |_, ctx| {
                    let mut sh = Shell::new(dialect, &name);
                    sh.from_file = true;
                    sh.params = argv[1..].to_vec();
                    let r = sh.run_source(ctx, &src);
                    sh.exit_trap(ctx);
                    r
                });
                ctx.env = env;
                r
            }
            Err(e) => {
                let msg = match (&e, self.dialect) {
                    (ExecError::NotFound(n), Dialect::Bash) => format!("{n}: command not found"),
                    (ExecError::NotFound(n), _) => format!("{n}: not found"),
                    (ExecError::NoEnt(_), Dialect::Bash) => {
                        if ctx.fs.exists(&ctx.path(&name)) {
                            format!("{name}: cannot execute: required file not found")
                        } else {
                            format!("{name}: No such file or directory")
                        }
                    }
                    (ExecError::NoEnt(_), _) => format!("{name}: not found"),
                    (ExecError::Access(p), Dialect::Bash) if ctx.fs.is_dir(p) => {
                        format!("{name}: Is a directory")
                    }
                    (ExecError::Access(_), _) => format!("{name}: Permission denied"),
                    (ExecError::Format(_), Dialect::Bash) => {
                        format!("{name}: cannot execute binary file: Exec format error")
                    }
                    (ExecError::Format(_), _) => format!("{name}: Exec format error"),
                    (ExecError::Unsimulated(p), _) => {
                        format!("{name}: imagelab does not simulate {p}")
                    }
                };
                self.error(ctx, &msg);
                Ok(e.status())
            }
        }
    }

    // ----- redirections ----------------------------------------------

    fn redirect(
        &mut self,
        ctx: &mut Ctx,
        list: &[ast::IoRedirect],
    ) -> Result<Result<Saved, i32>, Ctl> {
        let refs: Vec<&ast::IoRedirect> = list.iter().collect();
        self.redirect_refs(ctx, &refs)
    }

    /// Applies redirections in order. `Ok(Err(status))`: one failed (its
    /// message printed, earlier ones undone).
    fn redirect_refs(
        &mut self,
        ctx: &mut Ctx,
        list: &[&ast::IoRedirect],
    ) -> Result<Result<Saved, i32>, Ctl> {
        let mut saved = Saved {
            stdout: ctx.stdout.clone(),
            stderr: ctx.stderr.clone(),
            stdin: None,
            files: Vec::new(),
        };
        let fail = if self.dialect == Dialect::Bash { 1 } else { 2 };
        for r in list {
            match r {
                ast::IoRedirect::File(fd, kind, target) => {
                    use ast::IoFileRedirectKind as K;
                    let input = matches!(kind, K::Read | K::DuplicateInput);
                    let fd = fd.unwrap_or(if input { 0 } else { 1 });
                    let dup = match (kind, target) {
                        (_, ast::IoFileRedirectTarget::Fd(n)) => Some(n.to_string()),
                        (
                            K::DuplicateInput | K::DuplicateOutput,
                            ast::IoFileRedirectTarget::Filename(w),
                        )
                        | (_, ast::IoFileRedirectTarget::Duplicate(w)) => {
                            Some(self.expand_string(ctx, &w.value)?)
                        }
                        _ => None,
                    };
                    if let Some(d) = dup {
                        if d == "-" {
                            self.set_fd(
                                ctx,
                                fd,
                                Target::Out(Out::new(Sink::Null, ctx.budget.clone())),
                            );
                            continue;
                        }
                        match d.as_str() {
                            "0" => {}
                            "1" => {
                                let o = ctx.stdout.clone();
                                self.set_fd(ctx, fd, Target::Out(o));
                            }
                            "2" => {
                                let o = ctx.stderr.clone();
                                self.set_fd(ctx, fd, Target::Out(o));
                            }
                            _ if d.parse::<u32>().is_ok() => {
                                // Other descriptors are not open.
                                self.error(ctx, &format!("{d}: Bad file descriptor"));
                                self.restore(ctx, saved);
                                return Ok(Err(fail));
                            }
                            _ => {
                                let m = match self.dialect {
                                    Dialect::Bash => format!("{d}: ambiguous redirect"),
                                    _ => "Syntax error: Bad fd number".to_string(),
                                };
                                self.error(ctx, &m);
                                self.restore(ctx, saved);
                                return Ok(Err(fail));
                            }
                        }
                        continue;
                    }
                    let path = match target {
                        ast::IoFileRedirectTarget::Filename(w) => {
                            self.expand_string(ctx, &w.value)?
                        }
                        _ => continue,
                    };
                    if input {
                        match self.read_input(ctx, &path) {
                            Ok(b) => {
                                if fd == 0 {
                                    if saved.stdin.is_none() {
                                        saved.stdin = Some(ctx.stdin.clone());
                                    }
                                    ctx.stdin = b;
                                }
                            }
                            Err(m) => {
                                self.error(ctx, &m);
                                self.restore(ctx, saved);
                                return Ok(Err(fail));
                            }
                        }
                        continue;
                    }
                    let append = matches!(kind, K::Append);
                    match self.open_output(ctx, &path, append, &mut saved) {
                        Ok(t) => self.set_fd(ctx, fd, t),
                        Err(m) => {
                            self.error(ctx, &m);
                            self.restore(ctx, saved);
                            return Ok(Err(fail));
                        }
                    }
                }
                ast::IoRedirect::OutputAndError(w, append) => {
                    let path = self.expand_string(ctx, &w.value)?;
                    match self.open_output(ctx, &path, *append, &mut saved) {
                        Ok(Target::Out(o)) => {
                            ctx.stdout = o.clone();
                            ctx.stderr = o;
                        }
                        Ok(Target::In) => {}
                        Err(m) => {
                            self.error(ctx, &m);
                            self.restore(ctx, saved);
                            return Ok(Err(fail));
                        }
                    }
                }
                ast::IoRedirect::HereDocument(fd, doc) => {
                    let mut body = doc.doc.value.clone();
                    if doc.remove_tabs {
                        body = body
                            .split_inclusive('\n')
                            .map(|l| l.trim_start_matches('\t'))
                            .collect();
                    }
                    let text = if doc.requires_expansion {
                        self.expand_heredoc(ctx, &body)?
                    } else {
                        body
                    };
                    if fd.unwrap_or(0) == 0 {
                        if saved.stdin.is_none() {
                            saved.stdin = Some(ctx.stdin.clone());
                        }
                        ctx.stdin = text.into_bytes();
                    }
                }
                ast::IoRedirect::HereString(fd, w) => {
                    let mut text = self.expand_string(ctx, &w.value)?;
                    text.push('\n');
                    if fd.unwrap_or(0) == 0 {
                        if saved.stdin.is_none() {
                            saved.stdin = Some(ctx.stdin.clone());
                        }
                        ctx.stdin = text.into_bytes();
                    }
                }
            }
        }
        Ok(Ok(saved))
    }

    fn set_fd(&mut self, ctx: &mut Ctx, fd: i32, t: Target) {
        if let Target::Out(o) = t {
            match fd {
                1 => ctx.stdout = o,
                2 => ctx.stderr = o,
                _ => {}
            }
        }
    }

    fn read_input(&self, ctx: &Ctx, path: &str) -> Result<Vec<u8>, String> {
        match path {
            "/dev/null" => return Ok(Vec::new()),
            "/dev/stdin" => return Ok(ctx.stdin.clone()),
            _ => {}
        }
        let abs = ctx.path(path);
        let r = ctx.fs.stat(&abs, true).and_then(|st| {
            ctx.fs.may(&st.path, ctx.user.cred(), 4)?;
            if st.kind == FileType::Dir {
                return Ok(Vec::new());
            }
            ctx.fs.read(&abs)
        });
        r.map_err(|e| match self.dialect {
            Dialect::Dash => match e {
                Errno::NoEnt => format!("cannot open {path}: No such file"),
                e => format!("cannot open {path}: {}", e.text()),
            },
            Dialect::Ash => match e {
                Errno::NoEnt => format!("can't open '{path}': No such file or directory"),
                e => format!("can't open '{path}': {}", e.text()),
            },
            Dialect::Bash => format!("{path}: {}", e.text()),
        })
    }

    fn open_output(
        &mut self,
        ctx: &mut Ctx,
        path: &str,
        append: bool,
        saved: &mut Saved,
    ) -> Result<Target, String> {
        match path {
            "/dev/null" => return Ok(Target::Out(Out::new(Sink::Null, ctx.budget.clone()))),
            "/dev/stdout" => return Ok(Target::Out(ctx.stdout.clone())),
            "/dev/stderr" => return Ok(Target::Out(ctx.stderr.clone())),
            _ => {}
        }
        let abs = ctx.path(path);
        let cred = ctx.user.cred();
        let check = (|| -> Result<(), Errno> {
            let resolved = ctx.fs.resolve(&abs, true)?;
            match ctx.fs.stat(&abs, true) {
                Ok(st) if st.kind == FileType::Dir => Err(Errno::IsDir),
                Ok(st) => ctx.fs.may(&st.path, cred, 2),
                Err(Errno::NoEnt) => {
                    let parent = resolved.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    if !parent.is_empty() && !ctx.fs.is_dir(&format!("/{parent}")) {
                        return Err(Errno::NoEnt);
                    }
                    ctx.fs.may_write_in(&resolved, cred)?;
                    let mode = 0o666 & !self.umask;
                    ctx.fs.write(&abs, Content::bytes(Vec::new()), mode, cred)
                }
                Err(e) => Err(e),
            }
        })();
        let check = check.and_then(|_| {
            if !append {
                let mode = 0o666 & !self.umask;
                ctx.fs.write(&abs, Content::bytes(Vec::new()), mode, cred)?;
            }
            Ok(())
        });
        if let Err(e) = check {
            return Err(match self.dialect {
                Dialect::Dash => {
                    let why = match e {
                        Errno::NoEnt | Errno::NotDir => "Directory nonexistent",
                        e => e.text(),
                    };
                    format!("cannot create {path}: {why}")
                }
                Dialect::Ash => {
                    let why = match e {
                        Errno::NoEnt | Errno::NotDir => "nonexistent directory",
                        e => e.text(),
                    };
                    format!("can't create {path}: {why}")
                }
                Dialect::Bash => format!("{path}: {}", e.text()),
            });
        }
        let (o, b) = ctx.buffer();
        saved.files.push((abs, b));
        Ok(Target::Out(o))
    }

    /// Undoes redirections, writing what went to files.
    fn restore(&mut self, ctx: &mut Ctx, saved: Saved) {
        ctx.stdout = saved.stdout;
        ctx.stderr = saved.stderr;
        if let Some(i) = saved.stdin {
            ctx.stdin = i;
        }
        let cred = ctx.user.cred();
        for (path, b) in saved.files {
            let data = std::mem::take(&mut *b.borrow_mut());
            if data.is_empty() {
                continue;
            }
            if let Err(e) = ctx.fs.append(&path, &data, 0o644, cred) {
                self.error(ctx, &format!("write error: {}", e.text()));
            }
        }
    }
}

enum Target {
    Out(Out),
    #[allow(dead_code)]
    In,
}

/// What a command's redirections replaced, to put back after it.
pub struct Saved {
    stdout: Out,
    stderr: Out,
    stdin: Option<Vec<u8>>,
    files: Vec<(String, Rc<RefCell<Vec<u8>>>)>,
}

fn is_elf(ctx: &Ctx, path: &str) -> bool {
    match ctx.fs.content(path) {
        Ok(Content::Filler { .. }) => true,
        Ok(c) => {
            let mut head = Vec::new();
            if c.len() < 1 << 20 {
                head = c.to_vec().unwrap_or_default();
            }
            head.starts_with(b"\x7fELF")
        }
        Err(_) => false,
    }
}

fn first_line(sc: &ast::SimpleCommand) -> Option<usize> {
    if let Some(w) = &sc.word_or_name
        && let Some(l) = &w.loc
    {
        return Some(l.start.line);
    }
    for it in sc.prefix.iter().flat_map(|p| p.0.iter()) {
        if let ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) = it {
            return Some(a.loc.start.line);
        }
    }
    None
}

/// Quotes a word for `set -x` and `set` listings as dash and ash do.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:,+@%^-".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}
