//! The simulated daemon's service: `systemctl start|stop|restart|status
//! docker` (and `service docker ...`). A restart reads
//! `/etc/docker/daemon.json` (kept under the home, edited with `edit
//! /etc/docker/daemon.json`): a file that does not parse leaves the daemon
//! down, as systemd reports it, until it is fixed and started again. Running
//! containers stop with the daemon unless their restart policy is `always`
//! or `unless-stopped`.

use crate::app::{Io, Session};
use crate::network;

pub fn run(s: &mut Session, words: &[String], io: &mut Io) -> anyhow::Result<i32> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let (action, unit) = match w.as_slice() {
        ["systemctl", action, unit] => (*action, *unit),
        ["sudo", "systemctl", action, unit] => (*action, *unit),
        ["service", unit, action] | ["sudo", "service", unit, action] => (*action, *unit),
        _ => {
            writeln!(io.err, "usage: systemctl start|stop|restart|status docker")?;
            return Ok(1);
        }
    };
    if !matches!(unit, "docker" | "docker.service") {
        writeln!(
            io.err,
            "Failed to {action} {unit}.service: Unit {unit}.service not found."
        )?;
        return Ok(5);
    }
    let home = s.engine_home();
    match action {
        "stop" => {
            stop_containers(s, true)?;
            network::set_daemon_running(&home, false)?;
            Ok(0)
        }
        "start" | "restart" | "reload" => {
            if action != "start" && network::daemon_running(&home) {
                stop_containers(s, false)?;
            }
            match network::apply_daemon_config(&home) {
                Ok(()) => {
                    network::set_daemon_running(&home, true)?;
                    Ok(0)
                }
                Err(e) => {
                    network::set_daemon_running(&home, false)?;
                    writeln!(
                        io.err,
                        "Job for docker.service failed because the control process exited with error code.\nSee \"systemctl status docker.service\" and \"journalctl -xeu docker.service\" for details."
                    )?;
                    writeln!(io.err, "imagelab: the daemon did not start: {e}")?;
                    Ok(1)
                }
            }
        }
        "status" => {
            let up = network::daemon_running(&home);
            writeln!(
                io.out,
                "● docker.service - Docker Application Container Engine\n     Loaded: loaded (/lib/systemd/system/docker.service; enabled; preset: enabled)\n     Active: {}",
                if up {
                    "active (running)"
                } else {
                    "failed (Result: exit-code)"
                }
            )?;
            Ok(if up { 0 } else { 3 })
        }
        other => {
            writeln!(io.err, "Unknown command verb {other}.")?;
            Ok(1)
        }
    }
}

/// Stops the running containers (all of them when the daemon stops; those
/// without an `always`/`unless-stopped` policy on a restart).
fn stop_containers(s: &mut Session, all: bool) -> anyhow::Result<()> {
    let store = super::container::store(s);
    for mut c in store.list()? {
        if !c.running() {
            continue;
        }
        let keeps = matches!(c.host.restart.as_str(), "always" | "unless-stopped");
        if all || !keeps {
            crate::container::runtime::stop(&store, &mut c)?;
        }
    }
    Ok(())
}
