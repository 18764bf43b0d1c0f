//! docker/cli `--format` templates on top of gotmpl: the `table` prefix and the
//! `json` shorthand (cli/command/formatter/formatter.go), docker's template
//! functions (templates/templates.go), Go-style value printing and `json`
//! output (encoding/json with `SetEscapeHTML(false)`, struct field order kept
//! from the caller's `serde_json` object order), docker's error texts, and the
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)` table layout.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Parser, PipeNode};
use gotmpl::{MissingKey, Value};
use serde_json::Value as Json;

/// An error from parsing or executing a template, displayed as docker prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The format did not parse (docker: `template parsing error: template: :1: ...`).
    #[error("template parsing error: template: :{line}: {message}")]
    Parse {
        /// 1-based line of the offending token.
        line: usize,
        /// Go's message, e.g. `function "foo" not defined`.
        message: String,
    },
    /// Executing the template against one row failed, in Go's
    /// `template: :LINE:COL: executing "" at <NODE>: MESSAGE` form.
    #[error("template: :{line}:{col}: executing \"\" at <{node}>: {message}")]
    Execute {
        /// 1-based line of the node.
        line: usize,
        /// 0-based byte column of the node within its line (Go's convention).
        col: usize,
        /// The node as Go prints it, e.g. `.Config.Nope`.
        node: String,
        /// Go's message, e.g. `map has no entry for key "Nope"`.
        message: String,
    },
    /// An execution error while rendering a list (`docker images --format ...`):
    /// docker/cli wraps it as `template parsing error: <error>`.
    #[error("template parsing error: {0}")]
    Render(Box<TemplateError>),
}

/// Registry mapping the `Arc` addresses of converted maps, lists and
/// empty-struct markers back to the caller's JSON, so `json` keeps field order.
type Origins = Arc<Mutex<HashMap<usize, Json>>>;

/// A parsed docker `--format` template.
pub struct Template {
    table: bool,
    source: String,
    tree: ListNode,
    row: gotmpl::Template,
    header: gotmpl::Template,
    origins: Origins,
    exec_lock: Mutex<()>,
    /// When the template is only literal text and `{{.Field}}` actions, its
    /// pieces: rows whose fields are all strings are rendered by substitution
    /// (the same text gotmpl would give, without converting the row).
    simple: Option<Vec<Piece>>,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Field(String),
}

/// Splits a template into text and `{{.Field}}` pieces, or None if it uses
/// anything else (pipes, functions, nested fields, trim markers).
fn simple_pieces(src: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("{{") {
        if i > 0 {
            out.push(Piece::Text(rest[..i].to_string()));
        }
        let after = &rest[i + 2..];
        let j = after.find("}}")?;
        let action = after[..j].trim_matches(' ');
        let name = action.strip_prefix('.')?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        out.push(Piece::Field(name.to_string()));
        rest = &after[j + 2..];
    }
    if rest.contains("}}") {
        return None;
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Some(out)
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("table", &self.table)
            .field("source", &self.source)
            .finish()
    }
}

/// docker's function names (templates.go `basicFunctions`), plus Go builtins.
const DOCKER_FUNCS: [&str; 8] = [
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];
const GO_BUILTINS: [&str; 22] = [
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne", "break", "continue", "nil",
];

impl Template {
    /// Parses a `--format` value: `table ...` (header + aligned columns), `json`
    /// (= `{{json .}}`), or a plain template. Like docker, surrounding spaces are
    /// trimmed and the two-character sequences `\t` and `\n` become tab/newline.
    pub fn parse(format: &str) -> Result<Template, TemplateError> {
        let table = format.starts_with("table");
        let mut src = if format == "json" {
            "{{json .}}".to_string()
        } else if table {
            format["table".len()..].to_string()
        } else {
            format.to_string()
        };
        src = src
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");

        check_structure(&src)?;
        let (tree, _defines) = Parser::new(&src, "{{", "}}")
            .and_then(|p| p.parse())
            .map_err(parse_error)?;
        check_functions(&tree)?;

        let origins: Origins = Arc::default();
        let row = register_row_funcs(gotmpl::Template::new(""), &origins)
            .parse(&src)
            .map_err(parse_error)?;
        let header = register_header_funcs(gotmpl::Template::new(""))
            .parse(&src)
            .map_err(parse_error)?;
        let simple = simple_pieces(&src);
        Ok(Template {
            table,
            source: src,
            tree,
            row,
            header,
            origins,
            exec_lock: Mutex::new(()),
            simple,
        })
    }

    /// Whether rows need the placeholder `field`: for templates made only of
    /// `{{.Field}}` actions, exactly those fields; otherwise every field.
    pub fn uses(&self, field: &str) -> bool {
        match &self.simple {
            Some(pieces) => pieces
                .iter()
                .any(|p| matches!(p, Piece::Field(f) if f == field)),
            None => true,
        }
    }

    /// True when the format started with `table`.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Executes the template against one row and returns its text (no newline added).
    pub fn execute(&self, data: &Json) -> Result<String, TemplateError> {
        if let (Some(pieces), Json::Object(map)) = (&self.simple, data) {
            let mut out = String::new();
            let all_strings = pieces.iter().all(|p| match p {
                Piece::Text(t) => {
                    out.push_str(t);
                    true
                }
                Piece::Field(f) => match map.get(f) {
                    Some(Json::String(v)) => {
                        out.push_str(v);
                        true
                    }
                    _ => false,
                },
            });
            if all_strings {
                return Ok(out);
            }
        }
        check_fields(&self.source, &self.tree, data)?;
        let _guard = self.exec_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut origins = HashMap::new();
        let value = to_value(data, &mut origins, false);
        *self.origins.lock().unwrap_or_else(|e| e.into_inner()) = origins;
        let out = self.row.execute_to_string(&value);
        self.origins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        out.map_err(|e| exec_error(&self.source, &self.tree, e))
    }

    fn execute_header(&self, headers: &[(&str, &str)]) -> String {
        let map: std::collections::BTreeMap<Arc<str>, Value> = headers
            .iter()
            .map(|(k, v)| (Arc::from(*k), Value::String(Arc::from(*v))))
            .collect();
        self.header
            .execute_to_string(&Value::Map(Arc::new(map)))
            .unwrap_or_default()
    }
}

/// Renders rows as docker/cli's formatter does. A `table` template gets a header
/// line (the template executed against `headers`, placeholder → title, with
/// docker's pass-through header functions; unknown placeholders print
/// `<no value>`), then one line per row, all aligned like Go's
/// `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`: a column is as wide as its
/// widest cell plus 3, at least 10; the last cell of a line is not padded.
/// Other templates print each row followed by a newline.
pub fn render(
    t: &Template,
    headers: &[(&str, &str)],
    rows: &[Json],
) -> Result<String, TemplateError> {
    let mut body = String::new();
    for row in rows {
        body.push_str(
            &t.execute(row)
                .map_err(|e| TemplateError::Render(Box::new(e)))?,
        );
        body.push('\n');
    }
    if !t.table {
        return Ok(body);
    }
    // Go: width = max(minwidth, cell + padding); tabwriter crate: max(minwidth, cell) + padding.
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10 - 3)
        .padding(3);
    let _ = tw.write_all(t.execute_header(headers).as_bytes());
    let _ = tw.write_all(b"\n");
    let _ = tw.write_all(body.as_bytes());
    let _ = tw.flush();
    Ok(String::from_utf8_lossy(&tw.into_inner().unwrap_or_default()).into_owned())
}

// ---------------------------------------------------------------- data conversion

fn key_of<T: ?Sized>(a: &Arc<T>) -> usize {
    Arc::as_ptr(a) as *const u8 as usize
}

/// Converts caller JSON to gotmpl values. Objects whose values are all empty
/// objects (`{"80/tcp":{}}`, Go `map[K]struct{}`) get `{}` markers so they print
/// as Go prints `struct{}{}`.
fn to_value(j: &Json, origins: &mut HashMap<usize, Json>, empty_struct: bool) -> Value {
    match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::String(Arc::from(s.as_str())),
        Json::Array(items) => {
            let list: Arc<[Value]> = items.iter().map(|v| to_value(v, origins, false)).collect();
            origins.insert(key_of(&list), j.clone());
            Value::List(list)
        }
        Json::Object(map) if map.is_empty() && empty_struct => {
            let s: Arc<str> = Arc::from("{}");
            origins.insert(key_of(&s), j.clone());
            Value::String(s)
        }
        Json::Object(map) => {
            let set_like = map
                .values()
                .all(|v| v.as_object().is_some_and(|o| o.is_empty()));
            let m: std::collections::BTreeMap<Arc<str>, Value> = map
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_value(v, origins, set_like)))
                .collect();
            let m = Arc::new(m);
            origins.insert(key_of(&m), j.clone());
            Value::Map(m)
        }
    }
}

// ---------------------------------------------------------------- functions

fn arg_str(name: &str, args: &[Value], i: usize) -> gotmpl::Result<String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(v) => Err(gotmpl::TemplateError::Exec(format!(
            "error calling {name}: wrong type for value; expected string; got {}",
            go_type(v)
        ))),
        None => Err(arg_count(name, i + 1, args.len())),
    }
}

fn arg_int(name: &str, args: &[Value], i: usize) -> gotmpl::Result<i64> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Uint(n)) => Ok(*n as i64),
        Some(v) => Err(gotmpl::TemplateError::Exec(format!(
            "error calling {name}: wrong type for value; expected int; got {}",
            go_type(v)
        ))),
        None => Err(arg_count(name, i + 1, args.len())),
    }
}

fn arg_count(name: &str, want: usize, got: usize) -> gotmpl::TemplateError {
    gotmpl::TemplateError::Exec(format!(
        "wrong number of args for {name}: want {want} got {got}"
    ))
}

fn exact_args(name: &str, args: &[Value], n: usize) -> gotmpl::Result<()> {
    if args.len() == n {
        Ok(())
    } else {
        Err(arg_count(name, n, args.len()))
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        _ => "func",
    }
}

fn string_value(s: String) -> Value {
    Value::String(Arc::from(s))
}

fn register_row_funcs(t: gotmpl::Template, origins: &Origins) -> gotmpl::Template {
    let origins = origins.clone();
    t.func("json", move |args| {
        exact_args("json", args, 1)?;
        let table = origins.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        write_go_json(&mut out, &args[0], &table);
        Ok(string_value(out))
    })
    .func("split", |args| {
        exact_args("split", args, 2)?;
        let (s, sep) = (arg_str("split", args, 0)?, arg_str("split", args, 1)?);
        let parts: Vec<Value> = if sep.is_empty() {
            s.chars().map(|c| string_value(c.to_string())).collect()
        } else {
            s.split(sep.as_str())
                .map(|p| string_value(p.to_string()))
                .collect()
        };
        Ok(Value::List(parts.into()))
    })
    .func("join", |args| {
        exact_args("join", args, 2)?;
        let sep = arg_str("join", args, 1)?;
        match &args[0] {
            Value::List(items) => Ok(string_value(
                items
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(&sep),
            )),
            Value::Nil => Ok(string_value(String::new())),
            v => Err(gotmpl::TemplateError::Exec(format!(
                "error calling join: wrong type for value; expected []string; got {}",
                go_type(v)
            ))),
        }
    })
    .func("title", |args| {
        exact_args("title", args, 1)?;
        Ok(string_value(go_title(&arg_str("title", args, 0)?)))
    })
    .func("lower", |args| {
        exact_args("lower", args, 1)?;
        Ok(string_value(arg_str("lower", args, 0)?.to_lowercase()))
    })
    .func("upper", |args| {
        exact_args("upper", args, 1)?;
        Ok(string_value(arg_str("upper", args, 0)?.to_uppercase()))
    })
    .func("pad", |args| {
        exact_args("pad", args, 3)?;
        let s = arg_str("pad", args, 0)?;
        let (pre, post) = (arg_int("pad", args, 1)?, arg_int("pad", args, 2)?);
        if s.is_empty() {
            return Ok(string_value(s));
        }
        let spaces = |n: i64| " ".repeat(n.max(0) as usize);
        Ok(string_value(format!("{}{s}{}", spaces(pre), spaces(post))))
    })
    .func("truncate", |args| {
        exact_args("truncate", args, 2)?;
        let s = arg_str("truncate", args, 0)?;
        let n = arg_int("truncate", args, 1)?.max(0) as usize;
        if s.len() < n {
            return Ok(string_value(s));
        }
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Ok(string_value(s[..end].to_string()))
    })
}

/// docker's `HeaderFunctions`: every function returns its first argument.
fn register_header_funcs(mut t: gotmpl::Template) -> gotmpl::Template {
    for name in DOCKER_FUNCS {
        t = t.func(name, |args| Ok(args.first().cloned().unwrap_or(Value::Nil)));
    }
    t.missing_key(MissingKey::Invalid)
}

/// Go's deprecated `strings.Title`: upper-case the first letter of each word.
fn go_title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphanumeric()) && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_sep(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

// ---------------------------------------------------------------- Go json

fn write_go_json(out: &mut String, v: &Value, origins: &HashMap<usize, Json>) {
    let key = match v {
        Value::Map(m) => Some(key_of(m)),
        Value::List(l) => Some(key_of(l)),
        Value::String(s) => Some(key_of(s)),
        _ => None,
    };
    if let Some(j) = key.and_then(|k| origins.get(&k)) {
        write_json(out, j);
        return;
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Uint(n) => out.push_str(&n.to_string()),
        Value::Float(f) => out.push_str(&go_json_float(*f)),
        Value::String(s) => write_json_str(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, item, origins);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(out, k);
                out.push(':');
                write_go_json(out, item, origins);
            }
            out.push('}');
        }
        _ => out.push_str("null"),
    }
}

fn write_json(out: &mut String, j: &Json) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if n.is_f64() {
                out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0)));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Json::String(s) => write_json_str(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(out, k);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// encoding/json string escaping with `SetEscapeHTML(false)`.
fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// encoding/json float64: shortest repr, exponent form outside [1e-6, 1e21).
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{m}e{sign}{}", e.abs())
    } else {
        format!("{f}")
    }
}

// ---------------------------------------------------------------- errors

fn parse_error(e: gotmpl::TemplateError) -> TemplateError {
    match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            TemplateError::Parse { line, message }
        }
        other => TemplateError::Parse {
            line: 1,
            message: other.to_string(),
        },
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(i) => offset - i - 1,
        None => offset,
    };
    (line, col)
}

/// Go's parser rejects unbalanced control actions that gotmpl tolerates.
fn check_structure(src: &str) -> Result<(), TemplateError> {
    let mut depth = 0usize;
    let mut rest = src;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            return Ok(());
        };
        let inner = rest[start + 2..start + len].trim_start_matches('-').trim();
        let word = inner
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("");
        let line = 1 + src[..offset + start].matches('\n').count();
        match word {
            "if" | "range" | "with" | "define" | "block" => depth += 1,
            "end" if depth == 0 => {
                return Err(TemplateError::Parse {
                    line,
                    message: "unexpected {{end}}".into(),
                });
            }
            "end" => depth -= 1,
            "else" if depth == 0 => {
                return Err(TemplateError::Parse {
                    line,
                    message: "unexpected {{else}}".into(),
                });
            }
            _ => {}
        }
        offset += start + len + 2;
        rest = &rest[start + len + 2..];
    }
    if depth > 0 {
        let line = 1 + src.matches('\n').count();
        return Err(TemplateError::Parse {
            line,
            message: "unexpected EOF".into(),
        });
    }
    Ok(())
}

fn for_each_expr<'a>(list: &'a ListNode, f: &mut dyn FnMut(&'a Expr, bool)) {
    fn pipe<'a>(p: &'a PipeNode, top: bool, f: &mut dyn FnMut(&'a Expr, bool)) {
        for CommandNode { args, .. } in &p.commands {
            for a in args {
                f(a, top);
                if let Expr::Pipe(_, inner) = a {
                    pipe(inner, top, f);
                }
                if let Expr::Chain(_, inner, _) = a
                    && let Expr::Pipe(_, inner) = inner.as_ref()
                {
                    pipe(inner, top, f);
                }
            }
        }
    }
    fn walk<'a>(list: &'a ListNode, top: bool, f: &mut dyn FnMut(&'a Expr, bool)) {
        for node in &list.nodes {
            match node {
                Node::List(l) => walk(l, top, f),
                Node::Action(a) => pipe(&a.pipe, top, f),
                Node::If(b) => {
                    pipe(&b.pipe, top, f);
                    walk(&b.body, top, f);
                    if let Some(e) = &b.else_body {
                        walk(e, top, f);
                    }
                }
                Node::Range(b) | Node::With(b) => {
                    pipe(&b.pipe, top, f);
                    walk(&b.body, false, f);
                    if let Some(e) = &b.else_body {
                        walk(e, top, f);
                    }
                }
                Node::Template(t) => {
                    if let Some(p) = &t.pipe {
                        pipe(p, false, f);
                    }
                }
                Node::Define(d) => walk(&d.body, false, f),
                _ => {}
            }
        }
    }
    walk(list, true, f);
}

fn check_functions(tree: &ListNode) -> Result<(), TemplateError> {
    let mut bad: Option<(usize, String)> = None;
    for_each_expr(tree, &mut |e, _| {
        if let Expr::Identifier(pos, name) = e {
            let known =
                DOCKER_FUNCS.contains(&name.as_str()) || GO_BUILTINS.contains(&name.as_str());
            if !known && bad.is_none() {
                bad = Some((pos.line, name.to_string()));
            }
        }
    });
    match bad {
        Some((line, name)) => Err(TemplateError::Parse {
            line,
            message: format!("function \"{name}\" not defined"),
        }),
        None => Ok(()),
    }
}

fn is_struct_like(m: &serde_json::Map<String, Json>) -> bool {
    !m.is_empty()
        && m.keys()
            .all(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn field_node(root: &str, fields: &[impl AsRef<str>]) -> String {
    let mut s = root.to_string();
    for f in fields {
        s.push('.');
        s.push_str(f.as_ref());
    }
    s
}

/// Go reports a missing field of a struct (the row itself, or a nested object
/// whose keys are all exported-style names) as an error, while a missing key of
/// a real map prints `<no value>`. Check the dot-rooted fields outside
/// `range`/`with` bodies against the row before executing.
fn check_fields(src: &str, tree: &ListNode, data: &Json) -> Result<(), TemplateError> {
    let mut err = None;
    for_each_expr(tree, &mut |e, top| {
        if err.is_some() || !top {
            return;
        }
        let Expr::Field(pos, fields) = e else { return };
        let mut cur = data;
        for (i, f) in fields.iter().enumerate() {
            match cur {
                Json::Object(m) => match m.get(f.as_str()) {
                    Some(next) => cur = next,
                    None if i == 0 || is_struct_like(m) => {
                        let (line, col) = line_col(src, pos.offset);
                        err = Some(TemplateError::Execute {
                            line,
                            col,
                            node: field_node("", fields),
                            message: format!("map has no entry for key \"{f}\""),
                        });
                        return;
                    }
                    None => return,
                },
                _ => return,
            }
        }
    });
    err.map_or(Ok(()), Err)
}

fn exec_error(src: &str, tree: &ListNode, e: gotmpl::TemplateError) -> TemplateError {
    let message = match &e {
        gotmpl::TemplateError::Exec(m) => m.clone(),
        gotmpl::TemplateError::MissingKey { key } => format!("map has no entry for key \"{key}\""),
        other => other.to_string(),
    };
    // Locate the node Go would blame: a field named in the message, or a called function.
    let mut found: Option<(usize, String)> = None;
    for_each_expr(tree, &mut |expr, _| {
        if found.is_some() {
            return;
        }
        let hit = match expr {
            Expr::Field(p, fs) if fs.iter().any(|f| message.contains(&format!("field {f} "))) => {
                Some((p.offset, field_node("", fs)))
            }
            Expr::Variable(p, v, fs)
                if fs.iter().any(|f| message.contains(&format!("field {f} "))) =>
            {
                Some((p.offset, field_node(v, fs)))
            }
            Expr::Identifier(p, name) if message.starts_with(&format!("error calling {name}:")) => {
                Some((p.offset, name.to_string()))
            }
            _ => None,
        };
        found = hit;
    });
    let (offset, node) = found.unwrap_or((0, ".".into()));
    let (line, col) = line_col(src, offset);
    TemplateError::Execute {
        line,
        col,
        node,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Json {
        json!({
            "Id": "sha256:abc",
            "Config": {
                "Cmd": ["nginx", "-g", "daemon off;"],
                "ExposedPorts": {"80/tcp": {}},
                "Labels": {"maintainer": "NGINX <x@y> & co"},
                "Env": ["A=1", "B=2"],
                "Entrypoint": null,
                "Zeta": 1,
                "Alpha": 2
            },
            "Size": 7797760,
            "Name": "hello world"
        })
    }

    fn run(f: &str) -> String {
        Template::parse(f).unwrap().execute(&data()).unwrap()
    }

    fn err(f: &str) -> String {
        match Template::parse(f) {
            Err(e) => e.to_string(),
            Ok(t) => t.execute(&data()).unwrap_err().to_string(),
        }
    }

    #[test]
    fn fields_and_go_printing() {
        assert_eq!(run("{{.Id}}"), "sha256:abc");
        assert_eq!(run("{{.Size}}"), "7797760");
        assert_eq!(run("{{.Config.Cmd}}"), "[nginx -g daemon off;]");
        assert_eq!(run("{{.Config.ExposedPorts}}"), "map[80/tcp:{}]");
        assert_eq!(
            run("{{.Config.Labels}}"),
            "map[maintainer:NGINX <x@y> & co]"
        );
        assert_eq!(run("{{.Config.Labels.foo}}"), "<no value>");
        assert_eq!(run("{{index .Config.Cmd 1}}"), "-g");
        assert_eq!(
            run("  {{.Id}}  "),
            "{{.Id}}".replace("{{.Id}}", "sha256:abc")
        );
    }

    #[test]
    fn json_function_keeps_order_and_does_not_escape_html() {
        assert_eq!(run("{{json .Config.ExposedPorts}}"), r#"{"80/tcp":{}}"#);
        assert_eq!(
            run("{{json .Config.Cmd}}"),
            r#"["nginx","-g","daemon off;"]"#
        );
        assert_eq!(
            run("{{json .Config.Labels}}"),
            r#"{"maintainer":"NGINX <x@y> & co"}"#
        );
        assert_eq!(run("{{json .Config.Entrypoint}}"), "null");
        assert_eq!(run("{{json .Size}}"), "7797760");
        assert_eq!(
            run("{{json .Config}}"),
            r#"{"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"Labels":{"maintainer":"NGINX <x@y> & co"},"Env":["A=1","B=2"],"Entrypoint":null,"Zeta":1,"Alpha":2}"#
        );
        assert_eq!(run("json"), serde_json::to_string(&data()).unwrap());
        assert_eq!(run("{{json (split .Id \":\")}}"), r#"["sha256","abc"]"#);
        let t = Template::parse("{{json .}}").unwrap();
        assert_eq!(
            t.execute(&json!("a\u{2028}\n\u{1}\"")).unwrap(),
            r#""a\u2028\n\u0001\"""#
        );
        assert_eq!(t.execute(&json!(1.5e21)).unwrap(), "1.5e+21");
    }

    #[test]
    fn docker_functions() {
        assert_eq!(run("{{join .Config.Cmd \",\"}}"), "nginx,-g,daemon off;");
        assert_eq!(run("{{split .Id \":\"}}"), "[sha256 abc]");
        assert_eq!(run("{{upper .Id}}"), "SHA256:ABC");
        assert_eq!(run("{{lower \"AbC\"}}"), "abc");
        assert_eq!(run("{{title .Name}}"), "Hello World");
        assert_eq!(run("{{title \"foo-bar_baz\"}}"), "Foo-Bar_baz");
        assert_eq!(run("{{pad .Id 2 3}}|"), "  sha256:abc   |");
        assert_eq!(run("{{pad \"\" 2 3}}|"), "|");
        assert_eq!(run("{{truncate .Id 6}}"), "sha256");
        assert_eq!(run("{{truncate .Id 60}}"), "sha256:abc");
        assert_eq!(run("{{println .Id}}"), "sha256:abc\n");
        assert_eq!(run("{{.Id | upper | printf \"%s!\"}}"), "SHA256:ABC!");
    }

    #[test]
    fn control_flow() {
        assert_eq!(run("{{if .Config.Cmd}}yes{{else}}no{{end}}"), "yes");
        assert_eq!(run("{{if .Config.Entrypoint}}yes{{else}}no{{end}}"), "no");
        assert_eq!(run("{{range .Config.Env}}[{{.}}]{{end}}"), "[A=1][B=2]");
        assert_eq!(
            run("{{range $k, $v := .Config.ExposedPorts}}{{$k}} {{json $v}}{{end}}"),
            "80/tcp {}"
        );
        assert_eq!(run("{{with .Config}}{{.Zeta}}{{end}}"), "1");
        assert_eq!(run("{{.Id}}\\t{{.Size}}\\n"), "sha256:abc\t7797760\n");
    }

    #[test]
    fn errors_use_docker_text() {
        assert_eq!(
            err("{{foo .Id}}"),
            r#"template parsing error: template: :1: function "foo" not defined"#
        );
        assert_eq!(
            err("{{.Id"),
            "template parsing error: template: :1: unclosed action"
        );
        assert_eq!(
            err("{{end}}"),
            "template parsing error: template: :1: unexpected {{end}}"
        );
        assert_eq!(
            err("{{if .Id}}\nx"),
            "template parsing error: template: :2: unexpected EOF"
        );
        assert_eq!(
            err("{{.Nope}}"),
            r#"template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope""#
        );
        assert_eq!(
            err("x\n  {{.Config.Nope}}"),
            r#"template: :2:4: executing "" at <.Config.Nope>: map has no entry for key "Nope""#
        );
        assert_eq!(
            err("{{.Size.X}}"),
            r#"template: :1:2: executing "" at <.Size.X>: can't evaluate field X in type int"#
        );
    }

    const IMAGE_HEADERS: [(&str, &str); 6] = [
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("ID", "IMAGE ID"),
        ("CreatedSince", "CREATED"),
        ("Size", "SIZE"),
        ("Digest", "DIGEST"),
    ];

    fn image_rows() -> Vec<Json> {
        vec![
            json!({"Repository":"nginx","Tag":"latest","ID":"4cad75abc83d","CreatedSince":"2 weeks ago","Size":"192MB"}),
            json!({"Repository":"alpine","Tag":"3.19","ID":"05455a08881e","CreatedSince":"3 months ago","Size":"7.38MB"}),
        ]
    }

    #[test]
    fn docker_images_table() {
        let t = Template::parse(
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
        )
        .unwrap();
        assert!(t.is_table());
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &image_rows()).unwrap(),
            "REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\n\
             nginx        latest    4cad75abc83d   2 weeks ago    192MB\n\
             alpine       3.19      05455a08881e   3 months ago   7.38MB\n"
        );
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &[]).unwrap(),
            "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
        );
    }

    #[test]
    fn table_with_escaped_tabs_and_unknown_header() {
        let t = Template::parse("table {{.Repository}}\\t{{.Other}}").unwrap();
        let rows = vec![json!({"Repository":"a","Other":"x"})];
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &rows).unwrap(),
            "REPOSITORY   <no value>\na            x\n"
        );
        let t = Template::parse("table {{.ID}}:{{upper .Tag}}").unwrap();
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &image_rows()[..1]).unwrap(),
            "IMAGE ID:TAG\n4cad75abc83d:LATEST\n"
        );
    }

    #[test]
    fn non_table_render_and_errors() {
        let t = Template::parse("{{.Repository}}:{{.Tag}}").unwrap();
        assert!(!t.is_table());
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &image_rows()).unwrap(),
            "nginx:latest\nalpine:3.19\n"
        );
        let t = Template::parse("{{.Nope}}").unwrap();
        assert_eq!(
            render(&t, &IMAGE_HEADERS, &image_rows())
                .unwrap_err()
                .to_string(),
            r#"template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope""#
        );
        let t = Template::parse("json").unwrap();
        assert_eq!(
            render(&t, &[], &[json!({"B":1,"A":"<"})]).unwrap(),
            "{\"B\":1,\"A\":\"<\"}\n"
        );
    }
}

#[cfg(test)]
mod simple_path_tests {
    use super::*;

    /// The substitution path must print exactly what gotmpl prints.
    #[test]
    fn field_only_templates_match_the_full_engine() {
        let row = serde_json::json!({"Repository": "nginx", "Tag": "alpine", "ID": "abc", "Size": "47.4MB", "N": 3});
        for src in [
            "{{.Repository}}:{{.Tag}}",
            "table {{.ID}}\t{{ .Size }}",
            "x {{.Repository}} y",
            "{{.N}}-{{.Tag}}",
            "{{.Repository}}}",
        ] {
            let fast = Template::parse(src).unwrap();
            let mut slow = Template::parse(src).unwrap();
            slow.simple = None;
            assert_eq!(
                fast.execute(&row).unwrap(),
                slow.execute(&row).unwrap(),
                "{src}"
            );
        }
        assert!(simple_pieces("{{.A.B}}").is_none());
        assert!(simple_pieces("{{json .A}}").is_none());
        assert!(simple_pieces("{{- .A}}").is_none());
    }
}
