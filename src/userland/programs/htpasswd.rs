//! `htpasswd` of Apache httpd 2.4 (the `httpd:2` image's
//! `/usr/local/apache2/bin/htpasswd`): `-n` prints a record, otherwise a
//! password file is created (`-c`), updated, checked (`-v`) or has a user
//! deleted (`-D`). Hashes are real: bcrypt (`-B`, `$2y$`, cost `-C`,
//! default 5) through the `bcrypt` crate, Apache's MD5 (`$apr1$`, the
//! default) over `md-5`, or plain text (`-p`); `-d` (CRYPT) and `-s`
//! (SHA-1) are not simulated. Salts come from the arguments and the lab
//! clock, so a run is reproducible. Messages, usage and exit statuses are
//! htpasswd's (`ERR_SYNTAX` 2, `ERR_FILEPERM` 1, `ERR_PWMISMATCH` 3,
//! `ERR_BADUSER` 6).

use super::util::{self, prog};
use crate::layer::Content;
use crate::userland::proc::Ctx;

const ERR_FILEPERM: i32 = 1;
const ERR_SYNTAX: i32 = 2;
const ERR_PWMISMATCH: i32 = 3;
const ERR_BADUSER: i32 = 6;

/// The bcrypt cost htpasswd uses without `-C`.
pub const BCRYPT_DEFAULT_COST: u32 = 5;

const USAGE: &str = "Usage:
\thtpasswd [-cimBdpsDv] [-C cost] passwordfile username
\thtpasswd -b[cmBdpsDv] [-C cost] passwordfile username password

\thtpasswd -n[imBdps] [-C cost] username
\thtpasswd -nb[mBdps] [-C cost] username password
 -c  Create a new file.
 -n  Don't update file; display results on stdout.
 -b  Use the password from the command line rather than prompting for it.
 -i  Read password from stdin without verification (for script usage).
 -m  Force MD5 encryption of the password (default).
 -B  Force bcrypt encryption of the password (very secure).
 -C  Set the computing time used for the bcrypt algorithm
     (higher is more secure but slower, default: 5, valid: 4 to 31).
 -d  Force CRYPT encryption of the password (8 chars max, insecure).
 -s  Force SHA encryption of the password (insecure).
 -p  Do not encrypt the password (plaintext, insecure).
 -D  Delete the specified user.
 -v  Verify password for the specified user.
On other systems than Windows and NetWare the '-p' flag will probably not work.
The SHA algorithm does not use a salt and is less secure than the MD5 algorithm.
";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alg {
    Md5,
    Bcrypt,
    Plain,
    Crypt,
    Sha,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Update,
    Create,
    Print,
    Delete,
    Verify,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Prompt,
    Arg,
    Stdin,
}

struct Opts {
    mode: Mode,
    modes: u32,
    alg: Alg,
    cost: u32,
    source: Source,
    operands: Vec<String>,
}

/// apr_getopt over `cnmspdBbDiC:v`: bundled flags, `-C` takes the rest of
/// its word or the next one; the first non-option ends the options.
fn parse(argv: &[String]) -> Result<Opts, (String, i32)> {
    let mut o = Opts {
        mode: Mode::Update,
        modes: 0,
        alg: Alg::Md5,
        cost: BCRYPT_DEFAULT_COST,
        source: Source::Prompt,
        operands: Vec::new(),
    };
    let mut i = 1;
    while i < argv.len() {
        let w = &argv[i];
        if w == "--" {
            i += 1;
            break;
        }
        if !w.starts_with('-') || w == "-" {
            break;
        }
        let chars: Vec<char> = w[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            let set_mode = |m: Mode, o: &mut Opts| {
                o.mode = m;
                o.modes += 1;
            };
            match c {
                'c' => set_mode(Mode::Create, &mut o),
                'n' => set_mode(Mode::Print, &mut o),
                'D' => set_mode(Mode::Delete, &mut o),
                'v' => set_mode(Mode::Verify, &mut o),
                'm' => o.alg = Alg::Md5,
                'B' => o.alg = Alg::Bcrypt,
                'p' => o.alg = Alg::Plain,
                'd' => o.alg = Alg::Crypt,
                's' => o.alg = Alg::Sha,
                'b' => o.source = Source::Arg,
                'i' => o.source = Source::Stdin,
                'C' => {
                    let rest: String = chars[k + 1..].iter().collect();
                    let arg = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        match argv.get(i) {
                            Some(a) => a.clone(),
                            None => return Err((String::new(), ERR_SYNTAX)),
                        }
                    };
                    match arg.parse::<u32>() {
                        Ok(n) if n > 0 => o.cost = n,
                        _ => {
                            return Err((
                                "argument to -C must be a positive integer".into(),
                                ERR_SYNTAX,
                            ));
                        }
                    }
                    k = chars.len();
                    continue;
                }
                _ => return Err((String::new(), ERR_SYNTAX)),
            }
            k += 1;
        }
        i += 1;
    }
    o.operands = argv[i.min(argv.len())..].to_vec();
    Ok(o)
}

pub fn htpasswd(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let p = prog(argv);
    let argv0 = argv.first().cloned().unwrap_or_else(|| p.clone());
    let o = match parse(argv) {
        Ok(o) => o,
        Err((msg, code)) => {
            if msg.is_empty() {
                ctx.err(USAGE);
            } else {
                ctx.err(format!("{argv0}: {msg}\n"));
            }
            return code;
        }
    };
    if o.modes > 1 {
        ctx.err(format!(
            "{argv0}: only one of -c -n -v -D may be specified\n"
        ));
        return ERR_SYNTAX;
    }
    let want = match (o.mode, o.source) {
        (Mode::Print, Source::Arg) => 2,
        (Mode::Print, _) => 1,
        (Mode::Delete, _) => 2,
        (_, Source::Arg) => 3,
        _ => 2,
    };
    if o.operands.len() != want {
        ctx.err(USAGE);
        return ERR_SYNTAX;
    }
    let (file, user) = if o.mode == Mode::Print {
        (None, o.operands[0].clone())
    } else {
        (Some(o.operands[0].clone()), o.operands[1].clone())
    };
    if user.len() > 255 {
        ctx.err(format!("{argv0}: username too long (> 255)\n"));
        return ERR_BADUSER;
    }
    if user.contains(':') {
        ctx.err(format!(
            "{argv0}: username contains illegal character ':'\n"
        ));
        return ERR_BADUSER;
    }
    if matches!(o.alg, Alg::Crypt | Alg::Sha) && o.mode != Mode::Delete {
        ctx.err(format!(
            "imagelab: {p} -d and -s (CRYPT and SHA-1) are not simulated; use -B (bcrypt)\n"
        ));
        return 1;
    }
    // The file must exist, unless it is to be created.
    let abs = file.as_ref().map(|f| ctx.path(f));
    if let (Some(f), Some(abs)) = (&file, &abs) {
        if o.mode != Mode::Create && !ctx.fs.is_file(abs) {
            ctx.err(format!(
                "{argv0}: cannot modify file {f}; use '-c' to create it\n"
            ));
            return ERR_FILEPERM;
        }
        let writable = if ctx.fs.exists(abs) {
            util::may_write(ctx, abs).is_ok()
        } else {
            util::may_create(ctx, abs).is_ok()
        };
        if !writable && o.mode != Mode::Verify {
            ctx.err(format!("{argv0}: cannot create file {f}\n"));
            return ERR_FILEPERM;
        }
    }
    let existing = abs
        .as_ref()
        .filter(|_| o.mode != Mode::Create)
        .and_then(|a| ctx.fs.read_string(a).ok())
        .unwrap_or_default();
    let has_user = |text: &str| {
        text.lines()
            .any(|l| l.split_once(':').map(|(u, _)| u) == Some(user.as_str()))
    };
    if o.mode == Mode::Delete {
        if !has_user(&existing) {
            ctx.err(format!("User {user} not found\n"));
            return 0;
        }
        let kept: String = existing
            .lines()
            .filter(|l| l.split_once(':').map(|(u, _)| u) != Some(user.as_str()))
            .map(|l| format!("{l}\n"))
            .collect();
        ctx.err(format!("Deleting password for user {user}\n"));
        return write_file(ctx, abs.as_deref().unwrap_or(""), kept);
    }
    if o.mode == Mode::Verify && !has_user(&existing) {
        ctx.err(format!("{argv0}: user {user} not found\n"));
        return ERR_BADUSER;
    }
    let password = match o.source {
        Source::Arg => o.operands.last().cloned().unwrap_or_default(),
        Source::Stdin => first_line(&ctx.stdin),
        Source::Prompt => {
            let stdin = String::from_utf8_lossy(&ctx.stdin).into_owned();
            let mut lines = stdin.lines();
            ctx.err("New password: ");
            let a = lines.next().unwrap_or("").to_string();
            if o.mode == Mode::Verify {
                a
            } else {
                ctx.err("\nRe-type new password: ");
                let b = lines.next().unwrap_or("").to_string();
                ctx.err("\n");
                if a != b {
                    ctx.err(format!("{argv0}: password verification error\n"));
                    return ERR_PWMISMATCH;
                }
                a
            }
        }
    };
    if o.mode == Mode::Verify {
        let hash = existing
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(u, _)| *u == user)
                    .map(|(_, h)| h)
            })
            .unwrap_or("");
        if verify(&password, hash) {
            ctx.err(format!("Password for user {user} correct.\n"));
            return 0;
        }
        ctx.err("password verification failed\n");
        return ERR_PWMISMATCH;
    }
    let salt_seed = format!("htpasswd {} {user} {password} {existing}", ctx.world.clock);
    let hash = match hash(o.alg, &password, o.cost, &salt_seed) {
        Ok(h) => h,
        Err(e) => {
            ctx.err(format!("{argv0}: {e}\n"));
            return ERR_PWMISMATCH;
        }
    };
    let record = format!("{user}:{hash}");
    let Some(abs) = abs else {
        ctx.out(format!("{record}\n\n"));
        return 0;
    };
    let updating = has_user(&existing);
    let mut text = String::new();
    for l in existing.lines() {
        if l.split_once(':').map(|(u, _)| u) == Some(user.as_str()) {
            text += &record;
        } else {
            text += l;
        }
        text.push('\n');
    }
    if !updating {
        text += &record;
        text.push('\n');
    }
    ctx.err(format!(
        "{} password for user {user}\n",
        if updating { "Updating" } else { "Adding" }
    ));
    write_file(ctx, &abs, text)
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn write_file(ctx: &mut Ctx, abs: &str, text: String) -> i32 {
    let c = util::cred(ctx);
    match ctx
        .fs
        .write(abs, Content::bytes(text.into_bytes()), 0o644, c)
    {
        Ok(()) => 0,
        Err(e) => {
            ctx.err(format!("htpasswd: cannot create file {abs}: {e}\n"));
            ERR_FILEPERM
        }
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("Unable to encode with bcrypt: Invalid argument")]
    Cost,
}

/// The hash of `password` as htpasswd writes it; the salt is drawn from
/// `seed` (a SHA-256 of it), so the same run gives the same line.
fn hash(alg: Alg, password: &str, cost: u32, seed: &str) -> Result<String, HashError> {
    let d = crate::digest::Digest::of(seed.as_bytes());
    let raw = hex::decode(d.hex()).unwrap_or_default();
    match alg {
        Alg::Plain => Ok(password.to_string()),
        Alg::Bcrypt => {
            let mut salt = [0u8; 16];
            salt.copy_from_slice(&raw[..16]);
            bcrypt::hash_with_salt(password, cost, salt)
                .map(|h| h.format_for_version(bcrypt::Version::TwoY))
                .map_err(|_| HashError::Cost)
        }
        _ => {
            let salt: String = raw[..8]
                .iter()
                .map(|b| ITOA64[(*b & 0x3f) as usize] as char)
                .collect();
            Ok(apr1(password, &salt))
        }
    }
}

/// Whether `password` matches an htpasswd hash (bcrypt, `$apr1$` or
/// plain text, as httpd's `apr_password_validate`).
pub fn verify(password: &str, hash: &str) -> bool {
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        let salt = rest.split('$').next().unwrap_or("");
        return apr1(password, salt) == hash;
    }
    password == hash
}

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Apache's MD5 crypt (`$apr1$salt$hash`): no crate implements it.
pub fn apr1(password: &str, salt: &str) -> String {
    use md5::{Digest as _, Md5};
    let pw = password.as_bytes();
    let salt = &salt.as_bytes()[..salt.len().min(8)];
    let magic = b"$apr1$";
    let mut ctx = Md5::new();
    ctx.update(pw);
    ctx.update(magic);
    ctx.update(salt);
    let mut alt = Md5::new();
    alt.update(pw);
    alt.update(salt);
    alt.update(pw);
    let alt = alt.finalize();
    let mut left = pw.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alt[..n]);
        left -= n;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        i >>= 1;
    }
    let mut fin = ctx.finalize();
    for i in 0..1000 {
        let mut c = Md5::new();
        if i & 1 == 1 {
            c.update(pw);
        } else {
            c.update(fin);
        }
        if i % 3 != 0 {
            c.update(salt);
        }
        if i % 7 != 0 {
            c.update(pw);
        }
        if i & 1 == 1 {
            c.update(fin);
        } else {
            c.update(pw);
        }
        fin = c.finalize();
    }
    let mut out = format!("$apr1${}$", String::from_utf8_lossy(salt));
    let mut to64 = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        to64(
            (u32::from(fin[a]) << 16) | (u32::from(fin[b]) << 8) | u32::from(fin[c]),
            4,
        );
    }
    to64(u32::from(fin[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apr1_matches_openssl() {
        // `openssl passwd -apr1 -salt abcdefgh password`
        assert_eq!(
            apr1("password", "abcdefgh"),
            "$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1"
        );
    }

    #[test]
    fn bcrypt_records_verify() {
        let h = hash(Alg::Bcrypt, "testpassword", 5, "seed").unwrap();
        assert!(h.starts_with("$2y$05$"), "{h}");
        assert!(verify("testpassword", &h));
        assert!(!verify("wrong", &h));
    }
}
