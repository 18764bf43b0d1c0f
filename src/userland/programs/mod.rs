//! The busybox applets and GNU coreutils programs a Dockerfile uses, one
//! file per program or small family; busybox 1.36 or GNU wording chosen by
//! the image's [`Os`] (see [`util::gnu`]). `echo printf test [ true false`
//! belong to the shell.
//!
//! [`Os`]: super::os::Os

pub mod archive;
pub mod binfmt;
pub mod fileops;
pub mod find;
pub mod grep;
pub mod htpasswd;
pub mod ls;
pub mod netcmd;
pub mod sed;
pub mod sys;
pub mod text;
pub mod users;
pub mod util;

use super::exec::Program;

/// The programs of this module by name.
pub fn lookup(name: &str) -> Option<Program> {
    Some(match name {
        "ls" => ls::ls,
        "cat" => text::cat,
        "mkdir" => fileops::mkdir,
        "rmdir" => fileops::rmdir,
        "rm" => fileops::rm,
        "cp" => fileops::cp,
        "mv" => fileops::mv,
        "ln" => fileops::ln,
        "chmod" => fileops::chmod,
        "chown" | "chgrp" => fileops::chown,
        "touch" => fileops::touch,
        "install" => fileops::install,
        "find" => find::find,
        "grep" | "egrep" | "fgrep" => grep::grep,
        "sed" => sed::sed,
        "tar" => archive::tar,
        "gzip" | "gunzip" | "zcat" => archive::gzip,
        "wget" => netcmd::wget,
        "curl" => netcmd::curl,
        "id" => sys::id,
        "whoami" => sys::whoami,
        "groups" => sys::groups,
        "env" => sys::env,
        "printenv" => sys::printenv,
        "which" => sys::which,
        "addgroup" | "adduser" | "deluser" | "delgroup" => users::busybox_or_debian,
        "useradd" => users::useradd,
        "groupadd" => users::groupadd,
        "usermod" => users::usermod,
        "userdel" => users::userdel,
        "sleep" => sys::sleep,
        "head" | "tail" => text::head_tail,
        "wc" => text::wc,
        "sort" => text::sort,
        "uniq" => text::uniq,
        "cut" => text::cut,
        "tr" => text::tr,
        "basename" => text::basename,
        "dirname" => text::dirname,
        "pwd" => sys::pwd,
        "uname" => sys::uname,
        "date" => sys::date,
        "hostname" => sys::hostname,
        "stat" => sys::stat,
        "readlink" => sys::readlink,
        "realpath" => sys::realpath,
        "mktemp" => sys::mktemp,
        "tee" => text::tee,
        "xargs" => sys::xargs,
        "sha256sum" | "md5sum" => sys::checksum,
        "nproc" => sys::nproc,
        "base64" => text::base64,
        "du" => sys::du,
        "busybox" => sys::busybox,
        "binfmt" => binfmt::binfmt,
        "htpasswd" => htpasswd::htpasswd,
        "update-ca-certificates" => sys::update_ca_certificates,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
