//! `docker login` and `docker logout`: credentials in the home's docker
//! `config.json` (base64 `user:pass` under `auths`, as docker stores them
//! without a credential helper), checked against the registry first — the
//! simulated Hub's accounts (a new Docker ID is signed up on its first
//! login) or the registry container the server name reaches.

use crate::app::{Io, Session};
use crate::cli::{LoginArgs, Positional};
use crate::network::{self, HubLogin};

/// The registry host a `SERVER` argument names (docker.io by default).
fn server_host(arg: Option<&String>) -> String {
    let Some(s) = arg else {
        return "docker.io".to_string();
    };
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let host = s.split('/').next().unwrap_or(s);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        h => h.to_string(),
    }
}

pub fn run(s: &mut Session, a: LoginArgs, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() > 1 {
        return super::requires(
            io,
            "docker login",
            "at most 1 argument.",
            "docker login [OPTIONS] [SERVER]",
        );
    }
    let host = server_host(a.args.first());
    if a.password.is_some() && a.password_stdin {
        writeln!(
            io.err,
            "--password and --password-stdin are mutually exclusive"
        )?;
        return Ok(1);
    }
    if a.password_stdin && a.username.is_none() {
        writeln!(io.err, "Must provide --username with --password-stdin")?;
        return Ok(1);
    }
    let password = if a.password_stdin {
        let Some(bytes) = s.read_stdin() else {
            writeln!(
                io.err,
                "Error: Cannot perform an interactive login from a non TTY device"
            )?;
            return Ok(1);
        };
        String::from_utf8_lossy(&bytes)
            .trim_end_matches(['\n', '\r'])
            .to_string()
    } else if let Some(p) = &a.password {
        writeln!(
            io.err,
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
        )?;
        p.clone()
    } else {
        writeln!(
            io.err,
            "Error: Cannot perform an interactive login from a non TTY device"
        )?;
        return Ok(1);
    };
    let Some(user) = a.username.clone().filter(|u| !u.is_empty()) else {
        writeln!(
            io.err,
            "Error: Cannot perform an interactive login from a non TTY device"
        )?;
        return Ok(1);
    };
    if password.is_empty() {
        writeln!(io.err, "Error: Password Required")?;
        return Ok(1);
    }
    let home = s.engine_home();
    if host == "docker.io" {
        if !valid_docker_id(&user) {
            writeln!(
                io.err,
                "Error response from daemon: Get \"https://{}/v2/\": unauthorized: incorrect username or password",
                network::HUB_HOST
            )?;
            return Ok(1);
        }
        if network::hub_login(&home, &user, &password)? == HubLogin::WrongPassword {
            writeln!(
                io.err,
                "Error response from daemon: Get \"https://{}/v2/\": unauthorized: incorrect username or password",
                network::HUB_HOST
            )?;
            return Ok(1);
        }
    } else {
        let route = match network::route(&home, &host) {
            Ok(r) => r,
            Err(e) => {
                writeln!(io.err, "Error response from daemon: {e}")?;
                return Ok(1);
            }
        };
        if route.remote.is_none()
            && let Err(e) = route.registry.ping()
            && e.spec_code() != Some(crate::registry::Code::Unauthorized)
        {
            writeln!(io.err, "Error response from daemon: {e}")?;
            return Ok(1);
        }
        if route.remote.is_none() && !network::login_check(&home, &host, &user, &password)? {
            writeln!(
                io.err,
                "Error response from daemon: login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"
            )?;
            return Ok(1);
        }
    }
    network::store_credentials(&home, &host, &user, &password)?;
    writeln!(
        io.err,
        "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
        network::config_path(&home).display()
    )?;
    writeln!(io.out, "Login Succeeded")?;
    Ok(0)
}

/// A Docker ID: 4 to 30 lowercase letters and digits.
fn valid_docker_id(u: &str) -> bool {
    (4..=30).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub fn logout(s: &mut Session, a: Positional, io: &mut Io) -> anyhow::Result<i32> {
    if a.args.len() > 1 {
        return super::requires(
            io,
            "docker logout",
            "at most 1 argument.",
            "docker logout [SERVER]",
        );
    }
    let host = server_host(a.args.first());
    let home = s.engine_home();
    let key = network::auth_key(&host);
    if network::remove_credentials(&home, &host)? {
        writeln!(io.out, "Removing login credentials for {key}")?;
    } else {
        writeln!(io.out, "Not logged in to {key}")?;
    }
    Ok(0)
}
