//! Word expansion in POSIX order: tilde, parameters, command substitution
//! and arithmetic, then field splitting by `IFS`, pathname expansion
//! against the [`Fs`](crate::userland::fs::Fs) and quote removal. Words
//! come from `brush-parser` as raw text and are parsed into pieces here.

use super::Dialect;
use super::interp::{Ctl, Shell};
use super::pattern;
use crate::userland::proc::Ctx;
use brush_parser::ast::{self, ArithmeticExpr as A, ArithmeticTarget, BinaryOperator as B};
use brush_parser::word::{
    self, Parameter, ParameterExpr as P, ParameterTestType, SpecialParameter, WordPiece,
};

/// A run of expanded text: `quoted` text is neither split nor globbed;
/// `split` text came from an unquoted expansion.
#[derive(Clone, Debug)]
enum Item {
    Text {
        s: String,
        quoted: bool,
        split: bool,
    },
    /// A field boundary (between the words of `"$@"`).
    Break,
}

enum Value {
    Unset,
    One(String),
    Many(Vec<String>, bool),
}

#[derive(Default)]
struct Field {
    text: String,
    pat: String,
    magic: bool,
    keep: bool,
}

impl Shell {
    fn pieces(&self, ctx: &Ctx, w: &str) -> Result<Vec<word::WordPieceWithSource>, Ctl> {
        match word::parse(w, &self.parser()) {
            Ok(p) => Ok(p),
            Err(_) => {
                let m = match self.dialect {
                    Dialect::Dash => "Bad substitution".to_string(),
                    Dialect::Ash => "syntax error: bad substitution".to_string(),
                    Dialect::Bash => format!("{w}: bad substitution"),
                };
                self.error(ctx, &m);
                Err(Ctl::Exit(if self.dialect == Dialect::Bash { 1 } else { 2 }))
            }
        }
    }

    /// A word to fields (a command's arguments, `for` items).
    pub fn expand_word(&mut self, ctx: &mut Ctx, w: &str) -> Result<Vec<String>, Ctl> {
        // Fast path: plain words.
        if !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c))
        {
            return Ok(vec![w.to_string()]);
        }
        let pieces = self.pieces(ctx, w)?;
        let mut items = Vec::new();
        self.expand_pieces(ctx, &pieces, false, &mut items)?;
        let fields = self.split(ctx, &items);
        let mut out = Vec::new();
        for f in fields {
            if f.magic && !self.opts.noglob {
                let m = glob(ctx, &f.pat)?;
                if m.is_empty() {
                    out.push(f.text);
                } else {
                    out.extend(m);
                }
            } else {
                out.push(f.text);
            }
        }
        Ok(out)
    }

    /// A word to one string, without splitting or globbing (redirection
    /// targets, `case` words, assignments).
    pub fn expand_string(&mut self, ctx: &mut Ctx, w: &str) -> Result<String, Ctl> {
        let pieces = self.pieces(ctx, w)?;
        let mut items = Vec::new();
        self.expand_pieces(ctx, &pieces, false, &mut items)?;
        let mut s = String::new();
        let mut brk = false;
        for it in items {
            match it {
                Item::Text { s: t, .. } => {
                    if brk {
                        s.push(' ');
                        brk = false;
                    }
                    s.push_str(&t)
                }
                Item::Break => brk = true,
            }
        }
        Ok(s)
    }

    pub fn expand_assign(&mut self, ctx: &mut Ctx, w: &str) -> Result<String, Ctl> {
        self.expand_string(ctx, w)
    }

    /// A word to a pattern: quoted characters escaped.
    pub fn expand_pattern(&mut self, ctx: &mut Ctx, w: &str) -> Result<String, Ctl> {
        let pieces = self.pieces(ctx, w)?;
        let mut items = Vec::new();
        self.expand_pieces(ctx, &pieces, false, &mut items)?;
        let mut p = String::new();
        for it in items {
            if let Item::Text { s, quoted, .. } = it {
                if quoted {
                    p.push_str(&escape(&s));
                } else {
                    p.push_str(&s);
                }
            }
        }
        Ok(p)
    }

    /// A here-document body: parameters, substitutions and arithmetic.
    pub fn expand_heredoc(&mut self, ctx: &mut Ctx, body: &str) -> Result<String, Ctl> {
        let pieces = match word::parse_heredoc(body, &self.parser()) {
            Ok(p) => p,
            Err(_) => return Ok(body.to_string()),
        };
        let mut items = Vec::new();
        self.expand_pieces(ctx, &pieces, true, &mut items)?;
        let mut s = String::new();
        for it in items {
            if let Item::Text { s: t, .. } = it {
                s.push_str(&t);
            }
        }
        Ok(s)
    }

    fn expand_pieces(
        &mut self,
        ctx: &mut Ctx,
        pieces: &[word::WordPieceWithSource],
        dq: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Ctl> {
        for p in pieces {
            match &p.piece {
                WordPiece::Text(t) => out.push(Item::Text {
                    s: t.clone(),
                    quoted: dq,
                    split: false,
                }),
                WordPiece::SingleQuotedText(t) => out.push(Item::Text {
                    s: t.clone(),
                    quoted: true,
                    split: false,
                }),
                WordPiece::AnsiCQuotedText(t) => out.push(Item::Text {
                    s: super::builtins::backslash_escapes(t, false).0,
                    quoted: true,
                    split: false,
                }),
                WordPiece::EscapeSequence(e) => {
                    let mut cs = e.chars();
                    cs.next();
                    let rest: String = cs.collect();
                    let s = if rest == "\n" {
                        String::new()
                    } else if dq && !matches!(rest.as_str(), "$" | "`" | "\"" | "\\") {
                        e.clone()
                    } else {
                        rest
                    };
                    out.push(Item::Text {
                        s,
                        quoted: true,
                        split: false,
                    });
                }
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    let only_at = inner.len() == 1
                        && matches!(
                            &inner[0].piece,
                            WordPiece::ParameterExpansion(P::Parameter {
                                parameter: Parameter::Special(
                                    SpecialParameter::AllPositionalParameters {
                                        concatenate: false
                                    }
                                ),
                                ..
                            })
                        );
                    if !only_at {
                        out.push(Item::Text {
                            s: String::new(),
                            quoted: true,
                            split: false,
                        });
                    }
                    self.expand_pieces(ctx, inner, true, out)?;
                }
                WordPiece::TildeExpansion(t) => {
                    let s = match t {
                        word::TildeExpr::Home => self.get(ctx, "HOME").unwrap_or_default(),
                        word::TildeExpr::UserHome(u) => {
                            user_home(ctx, u).unwrap_or_else(|| format!("~{u}"))
                        }
                        word::TildeExpr::WorkingDir => ctx.cwd.clone(),
                        word::TildeExpr::OldWorkingDir => {
                            self.get(ctx, "OLDPWD").unwrap_or_default()
                        }
                        _ => "~".into(),
                    };
                    out.push(Item::Text {
                        s,
                        quoted: true,
                        split: false,
                    });
                }
                WordPiece::ParameterExpansion(e) => self.expand_param(ctx, e, dq, out)?,
                WordPiece::CommandSubstitution(src)
                | WordPiece::BackquotedCommandSubstitution(src) => {
                    let s = self.command_subst(ctx, src)?;
                    out.push(Item::Text {
                        s,
                        quoted: dq,
                        split: !dq,
                    });
                }
                WordPiece::ArithmeticExpression(e) => {
                    let v = match self.arith(ctx, &e.value)? {
                        Some(v) => v,
                        None => {
                            return Err(Ctl::Exit(2));
                        }
                    };
                    out.push(Item::Text {
                        s: v.to_string(),
                        quoted: dq,
                        split: !dq,
                    });
                }
            }
        }
        Ok(())
    }

    fn command_subst(&mut self, ctx: &mut Ctx, src: &str) -> Result<String, Ctl> {
        let saved = ctx.stdout.clone();
        let (o, b) = ctx.buffer();
        ctx.stdout = o;
        let src = src.to_string();
        let r = self.subshell(ctx, |sh, ctx| {
            let p = match sh.parse(ctx, &src) {
                Ok(p) => p,
                Err(st) => return Ok(st),
            };
            sh.run_program(ctx, &p)
        });
        ctx.stdout = saved;
        let st = r?;
        self.subst_status = Some(st);
        self.status = st;
        let mut s = String::from_utf8_lossy(&b.borrow()).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    fn value(&self, ctx: &Ctx, p: &Parameter) -> Value {
        match p {
            Parameter::Positional(0) => Value::One(self.zero.clone()),
            Parameter::Positional(n) => match self.params.get(*n as usize - 1) {
                Some(v) => Value::One(v.clone()),
                None => Value::Unset,
            },
            Parameter::Named(n) => match self.get(ctx, n) {
                Some(v) => Value::One(v),
                None => Value::Unset,
            },
            Parameter::NamedWithIndex { name, index } => {
                if index == "0" || index == "@" || index == "*" {
                    match self.get(ctx, name) {
                        Some(v) => Value::One(v),
                        None => Value::Unset,
                    }
                } else {
                    Value::Unset
                }
            }
            Parameter::NamedWithAllIndices { name, concatenate } => match self.get(ctx, name) {
                Some(v) => Value::Many(vec![v], *concatenate),
                None => Value::Many(vec![], *concatenate),
            },
            Parameter::Special(s) => match s {
                SpecialParameter::AllPositionalParameters { concatenate } => {
                    Value::Many(self.params.clone(), *concatenate)
                }
                SpecialParameter::PositionalParameterCount => {
                    Value::One(self.params.len().to_string())
                }
                SpecialParameter::LastExitStatus => Value::One(self.status.to_string()),
                SpecialParameter::CurrentOptionFlags => Value::One(self.dollar_dash()),
                SpecialParameter::ProcessId => Value::One("1".into()),
                SpecialParameter::LastBackgroundProcessId => match self.last_bg {
                    Some(p) => Value::One(p.to_string()),
                    None => Value::Unset,
                },
                SpecialParameter::ShellName => Value::One(self.zero.clone()),
            },
        }
    }

    fn param_name(p: &Parameter) -> String {
        match p {
            Parameter::Positional(n) => n.to_string(),
            Parameter::Named(n) => n.clone(),
            Parameter::NamedWithIndex { name, .. }
            | Parameter::NamedWithAllIndices { name, .. } => name.clone(),
            Parameter::Special(s) => s.to_string(),
        }
    }

    fn unset_error(&self, ctx: &Ctx, name: &str) -> Ctl {
        let msg = match self.dialect {
            Dialect::Bash => format!("{name}: unbound variable"),
            _ => format!("{name}: parameter not set"),
        };
        self.error(ctx, &msg);
        Ctl::Exit(if self.dialect == Dialect::Bash { 1 } else { 2 })
    }

    fn expand_param(
        &mut self,
        ctx: &mut Ctx,
        e: &P,
        dq: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Ctl> {
        let text = |s: String| Item::Text {
            s,
            quoted: dq,
            split: !dq,
        };
        let one = |v: &Value, ifs: &str| -> Option<String> {
            match v {
                Value::Unset => None,
                Value::One(s) => Some(s.clone()),
                Value::Many(l, _) => {
                    let sep = ifs.chars().next().map(String::from).unwrap_or_default();
                    Some(l.join(&sep))
                }
            }
        };
        let ifs = self.get(ctx, "IFS").unwrap_or_default();
        match e {
            P::Parameter { parameter, .. } => {
                let v = self.value(ctx, parameter);
                match v {
                    Value::Unset => {
                        if self.opts.nounset {
                            return Err(self.unset_error(ctx, &Self::param_name(parameter)));
                        }
                    }
                    Value::One(s) => out.push(text(s)),
                    Value::Many(l, concat) => {
                        if dq && concat {
                            let sep = ifs.chars().next().map(String::from).unwrap_or_default();
                            out.push(text(l.join(&sep)));
                        } else {
                            for (i, s) in l.into_iter().enumerate() {
                                if i > 0 {
                                    out.push(Item::Break);
                                }
                                out.push(text(s));
                            }
                        }
                    }
                }
            }
            P::UseDefaultValues {
                parameter,
                test_type,
                default_value,
                ..
            }
            | P::AssignDefaultValues {
                parameter,
                test_type,
                default_value,
                ..
            } => {
                let v = self.value(ctx, parameter);
                let s = one(&v, &ifs);
                let use_default = match (&s, test_type) {
                    (None, _) => true,
                    (Some(s), ParameterTestType::UnsetOrNull) => s.is_empty(),
                    _ => false,
                };
                if use_default {
                    let d = default_value.clone().unwrap_or_default();
                    if matches!(e, P::AssignDefaultValues { .. }) {
                        let val = self.expand_string(ctx, &d)?;
                        if let Parameter::Named(n) = parameter {
                            if let Err(m) = self.set(ctx, n, &val) {
                                self.error(ctx, &m);
                                return Err(Ctl::Exit(2));
                            }
                        } else {
                            let m = match self.dialect {
                                Dialect::Bash => format!(
                                    "${}: cannot assign in this way",
                                    Self::param_name(parameter)
                                ),
                                _ => format!("{}: bad variable name", Self::param_name(parameter)),
                            };
                            self.error(ctx, &m);
                            return Err(Ctl::Exit(2));
                        }
                        out.push(text(val));
                    } else {
                        let pieces = self.pieces(ctx, &d)?;
                        self.expand_pieces(ctx, &pieces, dq, out)?;
                    }
                } else {
                    // Re-expand as a plain parameter to keep "$@" fields.
                    let e2 = P::Parameter {
                        parameter: parameter.clone(),
                        indirect: false,
                    };
                    self.expand_param(ctx, &e2, dq, out)?;
                }
            }
            P::UseAlternativeValue {
                parameter,
                test_type,
                alternative_value,
                ..
            } => {
                let v = self.value(ctx, parameter);
                let s = one(&v, &ifs);
                let set = match (&s, test_type) {
                    (None, _) => false,
                    (Some(s), ParameterTestType::UnsetOrNull) => !s.is_empty(),
                    _ => true,
                };
                if set {
                    let pieces =
                        self.pieces(ctx, &alternative_value.clone().unwrap_or_default())?;
                    self.expand_pieces(ctx, &pieces, dq, out)?;
                }
            }
            P::IndicateErrorIfNullOrUnset {
                parameter,
                test_type,
                error_message,
                ..
            } => {
                let v = self.value(ctx, parameter);
                let s = one(&v, &ifs);
                let bad = match (&s, test_type) {
                    (None, _) => true,
                    (Some(s), ParameterTestType::UnsetOrNull) => s.is_empty(),
                    _ => false,
                };
                if bad {
                    let msg = match error_message {
                        Some(m) if !m.is_empty() => self.expand_string(ctx, m)?,
                        _ => match (test_type, self.dialect) {
                            (ParameterTestType::UnsetOrNull, _) => {
                                "parameter null or not set".into()
                            }
                            (ParameterTestType::Unset, Dialect::Bash) => {
                                "parameter null or not set".into()
                            }
                            (ParameterTestType::Unset, _) => "parameter not set".into(),
                        },
                    };
                    self.error(ctx, &format!("{}: {msg}", Self::param_name(parameter)));
                    return Err(Ctl::Exit(if self.dialect == Dialect::Bash { 1 } else { 2 }));
                }
                out.push(text(s.unwrap_or_default()));
            }
            P::ParameterLength { parameter, .. } => {
                let v = self.value(ctx, parameter);
                let n = match &v {
                    Value::Unset => {
                        if self.opts.nounset {
                            return Err(self.unset_error(ctx, &Self::param_name(parameter)));
                        }
                        0
                    }
                    Value::One(s) => s.chars().count(),
                    Value::Many(l, _) => l.len(),
                };
                out.push(text(n.to_string()));
            }
            P::RemoveSmallestSuffixPattern {
                parameter, pattern, ..
            }
            | P::RemoveLargestSuffixPattern {
                parameter, pattern, ..
            }
            | P::RemoveSmallestPrefixPattern {
                parameter, pattern, ..
            }
            | P::RemoveLargestPrefixPattern {
                parameter, pattern, ..
            } => {
                let v = self.value(ctx, parameter);
                if matches!(v, Value::Unset) && self.opts.nounset {
                    return Err(self.unset_error(ctx, &Self::param_name(parameter)));
                }
                let s = one(&v, &ifs).unwrap_or_default();
                let pat = self.expand_pattern(ctx, &pattern.clone().unwrap_or_default())?;
                let r = match e {
                    P::RemoveSmallestSuffixPattern { .. } => pattern::strip_suffix(&s, &pat, false),
                    P::RemoveLargestSuffixPattern { .. } => pattern::strip_suffix(&s, &pat, true),
                    P::RemoveSmallestPrefixPattern { .. } => pattern::strip_prefix(&s, &pat, false),
                    _ => pattern::strip_prefix(&s, &pat, true),
                };
                out.push(text(r));
            }
            P::ReplaceSubstring {
                parameter,
                pattern: pat,
                replacement,
                match_kind,
                ..
            } if self.dialect != Dialect::Dash => {
                let v = self.value(ctx, parameter);
                let s = one(&v, &ifs).unwrap_or_default();
                let pat = self.expand_pattern(ctx, pat)?;
                let rep = self.expand_string(ctx, &replacement.clone().unwrap_or_default())?;
                let r = match match_kind {
                    word::SubstringMatchKind::Prefix => {
                        pattern::replace(&s, &pat, &rep, false, Some(true))
                    }
                    word::SubstringMatchKind::Suffix => {
                        pattern::replace(&s, &pat, &rep, false, Some(false))
                    }
                    word::SubstringMatchKind::FirstOccurrence => {
                        pattern::replace(&s, &pat, &rep, false, None)
                    }
                    word::SubstringMatchKind::Anywhere => {
                        pattern::replace(&s, &pat, &rep, true, None)
                    }
                };
                out.push(text(r));
            }
            P::Substring {
                parameter,
                offset,
                length,
                ..
            } if self.dialect != Dialect::Dash => {
                let v = self.value(ctx, parameter);
                let s: Vec<char> = one(&v, &ifs).unwrap_or_default().chars().collect();
                let off = self.arith(ctx, &offset.value)?.unwrap_or(0);
                let start = if off < 0 {
                    (s.len() as i64 + off).max(0) as usize
                } else {
                    (off as usize).min(s.len())
                };
                let end = match length {
                    Some(l) => {
                        let l = self.arith(ctx, &l.value)?.unwrap_or(0);
                        if l < 0 {
                            (s.len() as i64 + l).max(start as i64) as usize
                        } else {
                            (start + l as usize).min(s.len())
                        }
                    }
                    None => s.len(),
                };
                out.push(text(s[start..end].iter().collect()));
            }
            P::UppercasePattern { parameter, .. }
            | P::LowercasePattern { parameter, .. }
            | P::UppercaseFirstChar { parameter, .. }
            | P::LowercaseFirstChar { parameter, .. }
                if self.dialect == Dialect::Bash =>
            {
                let v = self.value(ctx, parameter);
                let s = one(&v, &ifs).unwrap_or_default();
                let r = match e {
                    P::UppercasePattern { .. } => s.to_uppercase(),
                    P::LowercasePattern { .. } => s.to_lowercase(),
                    P::UppercaseFirstChar { .. } => {
                        let mut c = s.chars();
                        match c.next() {
                            Some(f) => f.to_uppercase().chain(c).collect(),
                            None => s,
                        }
                    }
                    _ => {
                        let mut c = s.chars();
                        match c.next() {
                            Some(f) => f.to_lowercase().chain(c).collect(),
                            None => s,
                        }
                    }
                };
                out.push(text(r));
            }
            _ => {
                let m = match self.dialect {
                    Dialect::Bash => "bad substitution".to_string(),
                    Dialect::Dash => "Bad substitution".to_string(),
                    Dialect::Ash => "bad substitution".to_string(),
                };
                self.error(ctx, &m);
                return Err(Ctl::Exit(2));
            }
        }
        Ok(())
    }

    fn split(&self, ctx: &Ctx, items: &[Item]) -> Vec<Field> {
        let ifs = self.get(ctx, "IFS").unwrap_or_default();
        let mut fields = Vec::new();
        let mut cur = Field::default();
        let mut started = false;
        for it in items {
            match it {
                Item::Break => {
                    if started || cur.keep || !cur.text.is_empty() {
                        fields.push(std::mem::take(&mut cur));
                    }
                    started = false;
                }
                Item::Text { s, quoted, split } => {
                    if *quoted {
                        cur.keep = true;
                        cur.text.push_str(s);
                        cur.pat.push_str(&escape(s));
                        started = true;
                    } else if *split && !ifs.is_empty() {
                        for c in s.chars() {
                            if ifs.contains(c) {
                                let ws = c == ' ' || c == '\t' || c == '\n';
                                if started || !ws {
                                    fields.push(std::mem::take(&mut cur));
                                    started = false;
                                }
                            } else {
                                push_raw(&mut cur, c);
                                started = true;
                            }
                        }
                    } else {
                        for c in s.chars() {
                            push_raw(&mut cur, c);
                        }
                        if !s.is_empty() {
                            started = true;
                        }
                    }
                }
            }
        }
        if started || cur.keep {
            fields.push(cur);
        }
        fields
    }

    // ----- arithmetic ------------------------------------------------

    /// Evaluates `$(( ))` text; `None` after printing the error.
    pub fn arith(&mut self, ctx: &mut Ctx, src: &str) -> Result<Option<i64>, Ctl> {
        let text = self.expand_heredoc(ctx, src)?;
        let text = text.trim();
        let t = if text.is_empty() { "0" } else { text };
        let expr = match brush_parser::arithmetic::parse(t) {
            Ok(e) => e,
            Err(_) => {
                let m = match self.dialect {
                    Dialect::Dash => {
                        format!("arithmetic expression: expecting primary: \"{text}\"")
                    }
                    Dialect::Ash => "arithmetic syntax error".to_string(),
                    Dialect::Bash => format!("{text}: syntax error: operand expected"),
                };
                self.error(ctx, &m);
                return Err(Ctl::Exit(if self.dialect == Dialect::Bash { 1 } else { 2 }));
            }
        };
        match self.eval(ctx, &expr, 0) {
            Ok(v) => Ok(Some(v)),
            Err(m) => {
                self.error(ctx, &m);
                Err(Ctl::Exit(if self.dialect == Dialect::Bash { 1 } else { 2 }))
            }
        }
    }

    fn var_num(&mut self, ctx: &mut Ctx, name: &str, depth: u32) -> Result<i64, String> {
        let v = self.get(ctx, name).unwrap_or_default();
        let v = v.trim();
        if v.is_empty() {
            if self.opts.nounset && !self.is_set(ctx, name) {
                return Err(format!("{name}: parameter not set"));
            }
            return Ok(0);
        }
        if let Some(n) = parse_num(v) {
            return Ok(n);
        }
        if depth > 16 {
            return Err("expression recursion level exceeded".into());
        }
        match brush_parser::arithmetic::parse(v) {
            Ok(e) => self.eval(ctx, &e, depth + 1),
            Err(_) => Err(match self.dialect {
                Dialect::Dash => format!("Illegal number: {v}"),
                _ => format!("{v}: syntax error"),
            }),
        }
    }

    fn assign_num(&mut self, ctx: &mut Ctx, t: &ArithmeticTarget, v: i64) -> Result<i64, String> {
        let name = match t {
            ArithmeticTarget::Variable(n) | ArithmeticTarget::ArrayElement(n, _) => n,
        };
        self.set(ctx, name, &v.to_string())?;
        Ok(v)
    }

    fn eval(&mut self, ctx: &mut Ctx, e: &A, depth: u32) -> Result<i64, String> {
        if depth > 64 {
            return Err("expression recursion level exceeded".into());
        }
        Ok(match e {
            A::Literal(n) => *n,
            A::Reference(ArithmeticTarget::Variable(n))
            | A::Reference(ArithmeticTarget::ArrayElement(n, _)) => self.var_num(ctx, n, depth)?,
            A::UnaryOp(op, a) => {
                let v = self.eval(ctx, a, depth + 1)?;
                match op {
                    ast::UnaryOperator::UnaryPlus => v,
                    ast::UnaryOperator::UnaryMinus => v.wrapping_neg(),
                    ast::UnaryOperator::BitwiseNot => !v,
                    ast::UnaryOperator::LogicalNot => (v == 0) as i64,
                }
            }
            A::BinaryOp(op, a, b) => {
                let x = self.eval(ctx, a, depth + 1)?;
                match op {
                    B::LogicalAnd => {
                        if x == 0 {
                            return Ok(0);
                        }
                        return Ok((self.eval(ctx, b, depth + 1)? != 0) as i64);
                    }
                    B::LogicalOr => {
                        if x != 0 {
                            return Ok(1);
                        }
                        return Ok((self.eval(ctx, b, depth + 1)? != 0) as i64);
                    }
                    _ => {}
                }
                let y = self.eval(ctx, b, depth + 1)?;
                self.binop(op, x, y)?
            }
            A::Conditional(c, a, b) => {
                if self.eval(ctx, c, depth + 1)? != 0 {
                    self.eval(ctx, a, depth + 1)?
                } else {
                    self.eval(ctx, b, depth + 1)?
                }
            }
            A::Assignment(t, v) => {
                let v = self.eval(ctx, v, depth + 1)?;
                self.assign_num(ctx, t, v)?
            }
            A::BinaryAssignment(op, t, v) => {
                let name = match t {
                    ArithmeticTarget::Variable(n) | ArithmeticTarget::ArrayElement(n, _) => {
                        n.clone()
                    }
                };
                let x = self.var_num(ctx, &name, depth)?;
                let y = self.eval(ctx, v, depth + 1)?;
                let r = self.binop(op, x, y)?;
                self.assign_num(ctx, t, r)?
            }
            A::UnaryAssignment(op, t) => {
                let name = match t {
                    ArithmeticTarget::Variable(n) | ArithmeticTarget::ArrayElement(n, _) => {
                        n.clone()
                    }
                };
                let x = self.var_num(ctx, &name, depth)?;
                use ast::UnaryAssignmentOperator as U;
                let (new, ret) = match op {
                    U::PrefixIncrement => (x.wrapping_add(1), x.wrapping_add(1)),
                    U::PrefixDecrement => (x.wrapping_sub(1), x.wrapping_sub(1)),
                    U::PostfixIncrement => (x.wrapping_add(1), x),
                    U::PostfixDecrement => (x.wrapping_sub(1), x),
                };
                self.assign_num(ctx, t, new)?;
                ret
            }
        })
    }

    fn binop(&self, op: &B, x: i64, y: i64) -> Result<i64, String> {
        let div0 = || match self.dialect {
            Dialect::Bash => "division by 0".to_string(),
            _ => "arithmetic expression: division by zero".to_string(),
        };
        Ok(match op {
            B::Power => {
                if y < 0 {
                    return Err("exponent less than 0".into());
                }
                x.wrapping_pow(y.min(u32::MAX as i64) as u32)
            }
            B::Multiply => x.wrapping_mul(y),
            B::Divide => {
                if y == 0 {
                    return Err(div0());
                }
                x.wrapping_div(y)
            }
            B::Modulo => {
                if y == 0 {
                    return Err(div0());
                }
                x.wrapping_rem(y)
            }
            B::Comma => y,
            B::Add => x.wrapping_add(y),
            B::Subtract => x.wrapping_sub(y),
            B::ShiftLeft => x.wrapping_shl(y as u32),
            B::ShiftRight => x.wrapping_shr(y as u32),
            B::LessThan => (x < y) as i64,
            B::LessThanOrEqualTo => (x <= y) as i64,
            B::GreaterThan => (x > y) as i64,
            B::GreaterThanOrEqualTo => (x >= y) as i64,
            B::Equals => (x == y) as i64,
            B::NotEquals => (x != y) as i64,
            B::BitwiseAnd => x & y,
            B::BitwiseXor => x ^ y,
            B::BitwiseOr => x | y,
            B::LogicalAnd => (x != 0 && y != 0) as i64,
            B::LogicalOr => (x != 0 || y != 0) as i64,
        })
    }
}

/// A shell integer: decimal, `0x` hex or leading-`0` octal.
pub fn parse_num(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn push_raw(f: &mut Field, c: char) {
    f.text.push(c);
    if c == '\\' {
        f.pat.push_str("\\\\");
    } else {
        if matches!(c, '*' | '?' | '[') {
            f.magic = true;
        }
        f.pat.push(c);
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn user_home(ctx: &Ctx, user: &str) -> Option<String> {
    let passwd = ctx.fs.read_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[0] == user).then(|| f[5].to_string())
    })
}

/// Pathname expansion: the sorted matches of `pat` (escaped pattern) from
/// the working directory; empty when nothing matches.
fn glob(ctx: &Ctx, pat: &str) -> Result<Vec<String>, Ctl> {
    if !pattern::has_magic(pat) {
        return Ok(Vec::new());
    }
    let abs = pat.starts_with('/');
    let parts: Vec<&str> = pat.split('/').filter(|p| !p.is_empty()).collect();
    let mut cur: Vec<String> = vec![if abs { "/".into() } else { String::new() }];
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for base in &cur {
            ctx.step().map_err(|_| Ctl::Limit)?;
            let dir = if base.is_empty() {
                ctx.cwd.clone()
            } else {
                ctx.path(base)
            };
            if pattern::has_magic(part) {
                let Ok(names) = ctx.fs.read_dir(&dir) else {
                    continue;
                };
                let dot = part.starts_with('.') || part.starts_with("\\.");
                for n in names {
                    if n.starts_with('.') && !dot {
                        continue;
                    }
                    if pattern::matches(part, &n) {
                        let p = join_rel(base, &n);
                        if last || ctx.fs.is_dir(&ctx.path(&p)) {
                            next.push(p);
                        }
                    }
                }
            } else {
                let lit = pattern::unescape(part);
                let p = join_rel(base, &lit);
                if ctx.fs.stat(&ctx.path(&p), false).is_ok() {
                    next.push(p);
                }
            }
        }
        cur = next;
        if cur.is_empty() {
            break;
        }
    }
    if pat.ends_with('/') {
        cur = cur.into_iter().map(|p| format!("{p}/")).collect();
    }
    cur.sort();
    Ok(cur)
}

fn join_rel(base: &str, n: &str) -> String {
    if base.is_empty() {
        n.to_string()
    } else if base.ends_with('/') {
        format!("{base}{n}")
    } else {
        format!("{base}/{n}")
    }
}
