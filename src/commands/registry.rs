//! `registry serve [--addr A] [--delete-enabled]`: the lab's registry
//! (`<home>/registry`, distribution's layout, open to anyone like
//! `registry:2` as shipped) over HTTP, so real clients (`docker`, `skopeo`,
//! `crane`) can push and pull. Uploads are staged under
//! `<home>/registry/_uploads`. Runs until the process is killed.

use crate::app::{Io, Session};
use crate::cli::RegistryCmd;
use crate::registry::local::Policy;
use crate::registry::server::{self, Handler};

pub fn run(s: &mut Session, cmd: RegistryCmd, io: &mut Io) -> anyhow::Result<i32> {
    match cmd {
        RegistryCmd::Serve {
            addr,
            delete_enabled,
        } => serve(s, &addr, delete_enabled, io),
    }
}

fn serve(s: &Session, addr: &str, delete_enabled: bool, io: &mut Io) -> anyhow::Result<i32> {
    let root = s.home.join("registry");
    let staging = root.join("_uploads");
    std::fs::create_dir_all(&staging)?;
    let policy = Policy {
        delete_enabled,
        ..Policy::open()
    };
    let handler = Handler::local(&staging, &root, policy);
    let running = server::start(handler, addr)?;
    writeln!(
        io.out,
        "imagelab registry listening on {} (storage: {})",
        running.url(),
        root.display()
    )?;
    io.out.flush()?;
    running.wait();
    Ok(0)
}
