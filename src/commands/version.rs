//! `docker version`: the client and the simulated engine, in docker's layout.

use crate::app::{Io, Session};
use crate::cli::VersionArgs;

pub const CLIENT_VERSION: &str = "28.2.2";
pub const CLIENT_COMMIT: &str = "e6534b4";
pub const API_VERSION: &str = "1.50";

pub fn run(_s: &mut Session, a: VersionArgs, io: &mut Io) -> anyhow::Result<i32> {
    let data = serde_json::json!({
        "Client": {
            "Version": CLIENT_VERSION, "ApiVersion": API_VERSION, "GoVersion": "go1.24.3",
            "GitCommit": CLIENT_COMMIT, "Os": "linux", "Arch": "amd64", "Context": "default",
        },
        "Server": {
            "Version": CLIENT_VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": "1.24",
            "GoVersion": "go1.24.3", "GitCommit": "45873be", "Os": "linux", "Arch": "amd64",
        },
    });
    if let Some(f) = a.format {
        let Some(t) = super::template(io, &f)? else {
            return Ok(1);
        };
        match t.execute(&data) {
            Ok(s) => writeln!(io.out, "{s}")?,
            Err(e) => {
                writeln!(io.err, "{e}")?;
                return Ok(1);
            }
        }
        return Ok(0);
    }
    write!(
        io.out,
        "Client:
 Version:           {CLIENT_VERSION}
 API version:       {API_VERSION}
 Go version:        go1.24.3
 Git commit:        {CLIENT_COMMIT}
 Built:             Fri May 30 12:07:26 2025
 OS/Arch:           linux/amd64
 Context:           default

Server: Docker Engine - Community
 Engine:
  Version:          {CLIENT_VERSION}
  API version:      {API_VERSION} (minimum version 1.24)
  Go version:       go1.24.3
  Git commit:       45873be
  Built:            Fri May 30 12:07:26 2025
  OS/Arch:          linux/amd64
  Experimental:     false
 imagelab:
  Version:          {}
  Note:             a simulated engine; no containers or network leave this machine
",
        env!("CARGO_PKG_VERSION")
    )?;
    Ok(0)
}
