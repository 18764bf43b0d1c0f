//! Tests of the toolchains, run through `userland::run` on the catalog's
//! real images.

use super::*;
use crate::userland::fs::{Cred, Fs};
use crate::userland::proc::Stream;
use crate::userland::testing::{image_fs, world};
use crate::userland::{Outcome, Spec, run};

fn go(fs: &mut Fs, cwd: &str, argv: &[&str], env: &[&str]) -> Outcome {
    let mut e: Vec<String> = env.iter().map(|s| s.to_string()).collect();
    if !env.iter().any(|s| s.starts_with("PATH=")) {
        e.push("PATH=/go/bin:/usr/local/go/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/java/openjdk/bin".into());
    }
    run(
        fs,
        &world(),
        &Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: e,
            cwd: cwd.into(),
            ..Spec::default()
        },
    )
    .expect("starts")
}

fn write(fs: &mut Fs, path: &str, text: &str) {
    let parent = path.rsplit_once('/').unwrap().0;
    fs.mkdir(parent, 0o755, Cred::ROOT, true).unwrap();
    fs.write(
        path,
        Content::bytes(text.as_bytes().to_vec()),
        0o644,
        Cred::ROOT,
    )
    .unwrap();
}

#[test]
fn universes_parse() {
    let u = universe::universe();
    assert!(u.pypi.len() > 30);
    assert!(u.npm.len() > 30);
    assert!(u.go.len() > 20);
    assert!(u.maven.len() > 30);
}

#[test]
fn versions_order() {
    use std::cmp::Ordering::*;
    assert_eq!(cmp_versions("3.0.0", "3.0"), Equal);
    assert_eq!(cmp_versions("2.10.0", "2.9.1"), Greater);
    assert_eq!(cmp_versions("1.0rc1", "1.0"), Less);
    assert_eq!(cmp_versions("v1.9.1", "v1.10.0"), Less);
    assert!(python::satisfies(
        "3.0.3",
        &python::parse_req("x~=3.0.0").unwrap().specs
    ));
    assert!(!python::satisfies(
        "3.1.0",
        &python::parse_req("x~=3.0.0").unwrap().specs
    ));
    assert!(node::npm_satisfies("4.21.1", "^4.18.2"));
    assert!(!node::npm_satisfies("5.0.0", "^4.18.2"));
    assert!(node::npm_satisfies("1.3.8", "~1.3.8"));
    assert!(node::npm_satisfies("2.1.2", ">= 2.1.2 < 3"));
    assert_eq!(python::format_size(101 * 1024), "103 kB");
    assert_eq!(python::format_size(8499), "8.5 kB");
}

#[test]
fn pip_installs_flask_with_its_tree_and_cache() {
    let mut fs = image_fs("python:3.12-slim");
    let o = go(&mut fs, "/", &["pip", "install", "flask==3.0.0"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let out = o.transcript.stream(Stream::Stdout);
    assert!(
        out.starts_with(
            "Collecting flask==3.0.0\n  Downloading flask-3.0.0-py3-none-any.whl.metadata ("
        ),
        "{out}"
    );
    assert!(
        out.contains("Collecting Werkzeug>=3.0.0 (from flask==3.0.0)\n"),
        "{out}"
    );
    assert!(
        out.contains("Downloading flask-3.0.0-py3-none-any.whl (103 kB)\n"),
        "{out}"
    );
    assert!(out.contains("Installing collected packages: MarkupSafe, Werkzeug, Jinja2, itsdangerous, click, blinker, flask\n"), "{out}");
    assert!(out.ends_with("Successfully installed Jinja2-3.1.4 MarkupSafe-3.0.2 Werkzeug-3.1.3 blinker-1.9.0 click-8.1.7 flask-3.0.0 itsdangerous-2.2.0\n"), "{out}");
    let err = o.transcript.stream(Stream::Stderr);
    assert!(
        err.starts_with("WARNING: Running pip as the 'root' user"),
        "{err}"
    );
    assert!(err.ends_with("\n[notice] A new release of pip is available: 24.3.1 -> 25.3\n[notice] To update, run: pip install --upgrade pip\n"));
    let meta = fs
        .read_string("/usr/local/lib/python3.12/site-packages/flask-3.0.0.dist-info/METADATA")
        .unwrap();
    assert!(meta.contains("Name: flask\nVersion: 3.0.0\n"));
    assert!(fs.is_file("/usr/local/lib/python3.12/site-packages/flask/__init__.py"));
    assert!(fs.is_file("/usr/local/bin/flask"));
    assert!(
        fs.walk("/root/.cache/pip")
            .unwrap()
            .iter()
            .any(|p| p.ends_with(".body"))
    );
    // freeze and list see it; a second install is satisfied.
    let o = go(&mut fs, "/", &["pip", "freeze"], &[]);
    assert!(o.transcript.text().contains("flask==3.0.0\n"));
    let o = go(&mut fs, "/", &["pip", "install", "flask"], &[]);
    assert!(o.transcript.text().starts_with(
        "Requirement already satisfied: flask in /usr/local/lib/python3.12/site-packages (3.0.0)\n"
    ));
    // uninstall
    let o = go(&mut fs, "/", &["pip", "uninstall", "-y", "flask"], &[]);
    assert!(o.transcript.text().starts_with("Found existing installation: flask 3.0.0\nUninstalling flask-3.0.0:\n  Successfully uninstalled flask-3.0.0\n"));
    assert!(!fs.exists("/usr/local/lib/python3.12/site-packages/flask-3.0.0.dist-info"));
}

#[test]
fn pip_no_cache_dir_leaves_no_cache_and_requirements_files_work() {
    let mut fs = image_fs("python:3.12-alpine");
    write(
        &mut fs,
        "/app/requirements.txt",
        "# deps\nrequests==2.31.0\n",
    );
    let o = go(
        &mut fs,
        "/app",
        &["pip", "install", "--no-cache-dir", "-r", "requirements.txt"],
        &[],
    );
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(
        o.transcript
            .text()
            .starts_with("Collecting requests==2.31.0 (from -r requirements.txt (line 2))\n")
    );
    assert!(!fs.exists("/root/.cache/pip"));
    assert!(fs.is_file("/usr/local/lib/python3.12/site-packages/urllib3-2.2.3.dist-info/METADATA"));
}

#[test]
fn pip_errors_are_pips() {
    let mut fs = image_fs("python:3.12-slim");
    let o = go(&mut fs, "/", &["pip", "install", "flask==9"], &[]);
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "ERROR: Could not find a version that satisfies the requirement flask==9 (from versions: 2.2.5, 2.3.2, 2.3.3, 3.0.0, 3.0.3, 3.1.0)\nERROR: No matching distribution found for flask==9\n"
    );
    let o = go(
        &mut fs,
        "/",
        &["pip", "install", "-r", "requirements.txt"],
        &[],
    );
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'\n"
    );
    let mut w = world();
    w.network = false;
    let o = run(
        &mut fs,
        &w,
        &Spec {
            argv: vec!["pip".into(), "install".into(), "flask".into()],
            env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
            ..Spec::default()
        },
    )
    .unwrap();
    assert_eq!(o.status, 1);
    let t = o.transcript.text();
    assert_eq!(t.matches("WARNING: Retrying").count(), 5);
    assert!(t.ends_with("ERROR: Could not find a version that satisfies the requirement flask (from versions: none)\nERROR: No matching distribution found for flask\n"));
}

#[test]
fn python_scripts_need_their_modules() {
    let mut fs = image_fs("python:3.12-slim");
    let o = go(&mut fs, "/", &["python", "--version"], &[]);
    assert_eq!(o.transcript.text(), "Python 3.12.8\n");
    write(
        &mut fs,
        "/app/app.py",
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\nprint(\"starting\")\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=8080)\n",
    );
    let o = go(&mut fs, "/app", &["python", "app.py"], &[]);
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "Traceback (most recent call last):\n  File \"/app/app.py\", line 2, in <module>\n    from flask import Flask\nModuleNotFoundError: No module named 'flask'\n"
    );
    let spec_argv: Vec<String> = vec!["python".into(), "app.py".into()];
    go(&mut fs, "/", &["pip", "install", "flask"], &[]);
    let o = go(&mut fs, "/app", &["python", "app.py"], &[]);
    assert_eq!(o.status, 0);
    assert!(
        o.transcript
            .text()
            .starts_with("starting\n * Serving Flask app 'app'\n")
    );
    let mut w = world();
    w.network = true;
    let mut env = crate::userland::proc::Env::default();
    env.set("PATH", "/usr/local/bin:/usr/bin:/bin");
    let ctx_server = {
        let (b, _) = (0, 0);
        let _ = b;
        let mut fs2 = fs.clone();
        let t = std::rc::Rc::new(std::cell::RefCell::new(crate::userland::proc::Budget::new(
            w.limits,
        )));
        let out = crate::userland::proc::Out::new(crate::userland::proc::Sink::Null, t.clone());
        let ctx = crate::userland::proc::Ctx {
            fs: &mut fs2,
            world: &w,
            os: crate::userland::os::Os::detect(&fs),
            env,
            cwd: "/app".into(),
            user: crate::userland::proc::User::root(),
            stdin: vec![],
            stdout: out.clone(),
            stderr: out,
            budget: t,
            depth: 0,
            argv0: String::new(),
        };
        (
            server_of(&ctx, &spec_argv),
            server_of(
                &ctx,
                &[
                    "python3".into(),
                    "-m".into(),
                    "http.server".into(),
                    "9000".into(),
                ],
            ),
            server_of(
                &ctx,
                &[
                    "python3".into(),
                    "-m".into(),
                    "uvicorn".into(),
                    "main:app".into(),
                    "--port".into(),
                    "9001".into(),
                ],
            ),
        )
    };
    assert_eq!(
        ctx_server.0,
        Some(Server {
            port: 8080,
            kind: "flask".into()
        })
    );
    assert_eq!(
        ctx_server.1,
        Some(Server {
            port: 9000,
            kind: "http.server".into()
        })
    );
    assert_eq!(
        ctx_server.2,
        Some(Server {
            port: 9001,
            kind: "uvicorn".into()
        })
    );
    let o = go(
        &mut fs,
        "/",
        &["python3", "-c", "print('hi'); print(\"there\")"],
        &[],
    );
    assert_eq!(o.transcript.text(), "hi\nthere\n");
}

const GO_MOD: &str =
    "module example.com/hello\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.9.1\n";
const GO_SUM: &str = "github.com/gin-gonic/gin v1.9.1 h1:4idEAncQnU5cB7BeOkPtxjfCSye0AAm1R0RVIqJ+Jmg=\ngithub.com/gin-gonic/gin v1.9.1/go.mod h1:hPrL7YrpYKXt5YId3A/Tnip5kqbEAP+KLuI3SUcPTeU=\n";
const MAIN_GO: &str = "package main\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc main() {\n\tr := gin.Default()\n\tr.GET(\"/\", func(c *gin.Context) { c.String(http.StatusOK, \"hi\") })\n\tr.Run(\":8080\")\n}\n";

#[test]
fn go_build_with_cgo_on_debian_is_dynamic_and_fails_on_alpine() {
    let mut fs = image_fs("golang:1.22");
    write(&mut fs, "/src/go.mod", GO_MOD);
    write(&mut fs, "/src/go.sum", GO_SUM);
    write(&mut fs, "/src/main.go", MAIN_GO);
    let o = go(&mut fs, "/src", &["go", "mod", "download"], &[]);
    assert_eq!((o.status, o.transcript.text()), (0, String::new()));
    assert!(fs.is_file("/go/pkg/mod/cache/download/github.com/gin-gonic/gin/@v/v1.9.1.zip"));
    let o = go(&mut fs, "/src", &["go", "build", "-o", "/app", "."], &[]);
    assert_eq!((o.status, o.transcript.text()), (0, String::new()));
    let bin = fs.read("/app").unwrap();
    let info = crate::userland::elf::parse(&bin).unwrap();
    assert_eq!(info.interp.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
    assert!(bin.len() > 8_000_000, "{}", bin.len());
    let (ver, mi) = go::read_buildinfo(&bin).unwrap();
    assert_eq!(ver, "go1.22.12");
    assert_eq!(
        mi,
        "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\ndep\tgithub.com/gin-gonic/gin\tv1.9.1\th1:4idEAncQnU5cB7BeOkPtxjfCSye0AAm1R0RVIqJ+Jmg=\nbuild\t-buildmode=exe\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=1\nbuild\tCGO_CFLAGS=\nbuild\tCGO_CPPFLAGS=\nbuild\tCGO_CXXFLAGS=\nbuild\tCGO_LDFLAGS=\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v1\n"
    );
    let o = go(&mut fs, "/", &["go", "version", "/app"], &[]);
    assert_eq!(o.transcript.text(), "/app: go1.22.12\n");
    // Runs here (glibc loader present) as a server.
    let o = go(&mut fs, "/", &["/app"], &[]);
    assert_eq!(
        o.transcript.text(),
        "[GIN-debug] Listening and serving HTTP on :8080\n"
    );
    // Copied to alpine: no glibc loader.
    let mut alpine = image_fs("alpine:3.20");
    alpine
        .write("/app", Content::bytes(bin), 0o755, Cred::ROOT)
        .unwrap();
    let e = run(
        &mut alpine,
        &world(),
        &Spec {
            argv: vec!["/app".into()],
            ..Spec::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "exec /app: no such file or directory");
    // CGO_ENABLED=0 makes it static.
    let o = go(
        &mut fs,
        "/src",
        &[
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            "-s -w",
            "-o",
            "/app2",
        ],
        &["CGO_ENABLED=0"],
    );
    assert_eq!(o.status, 0);
    let b2 = fs.read("/app2").unwrap();
    let info = crate::userland::elf::parse(&b2).unwrap();
    assert_eq!(info.interp, None);
    let (_, mi) = go::read_buildinfo(&b2).unwrap();
    assert!(mi.contains("build\t-compiler=gc\nbuild\t-ldflags=\"-s -w\"\nbuild\t-trimpath=true\nbuild\tCGO_ENABLED=0\nbuild\tGOARCH=amd64\n"), "{mi}");
}

#[test]
fn go_build_on_alpine_is_static_and_errors_name_missing_modules() {
    let mut fs = image_fs("golang:1.22-alpine");
    write(
        &mut fs,
        "/src/go.mod",
        "module example.com/hello\n\ngo 1.22\n",
    );
    write(
        &mut fs,
        "/src/main.go",
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n",
    );
    let o = go(&mut fs, "/src", &["go", "build", "-o", "/hello"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let b = fs.read("/hello").unwrap();
    assert_eq!(crate::userland::elf::parse(&b).unwrap().interp, None);
    assert!((1_400_000..2_100_000).contains(&b.len()));
    let o = go(&mut fs, "/", &["/hello"], &[]);
    assert_eq!(o.transcript.text(), "hello\n");
    write(&mut fs, "/src/main.go", MAIN_GO);
    let o = go(&mut fs, "/src", &["go", "build", "-o", "/app"], &[]);
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "main.go:6:2: no required module provides package github.com/gin-gonic/gin; to add it:\n\tgo get github.com/gin-gonic/gin\n"
    );
    let o = go(&mut fs, "/", &["go", "build"], &[]);
    assert_eq!(
        o.transcript.text(),
        "go: go.mod file not found in current directory or any parent directory; see 'go help modules'\n"
    );
}

#[test]
fn npm_ci_needs_a_lockfile_and_install_writes_node_modules() {
    let mut fs = image_fs("node:20-alpine");
    write(
        &mut fs,
        "/app/package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"scripts\":{\"start\":\"node server.js\"},\"dependencies\":{\"express\":\"^4.18.2\"}}",
    );
    let o = go(&mut fs, "/app", &["npm", "ci"], &[]);
    assert_eq!(o.status, 1);
    assert!(o.transcript.text().starts_with("npm error code EUSAGE\nnpm error\nnpm error The `npm ci` command can only install with an existing package-lock.json or\n"));
    let o = go(&mut fs, "/app", &["npm", "install"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let t = o.transcript.text();
    assert!(t.starts_with("\nadded "), "{t}");
    assert!(t.ends_with("\nfound 0 vulnerabilities\n"), "{t}");
    let pj = fs
        .read_string("/app/node_modules/express/package.json")
        .unwrap();
    assert!(pj.contains("\"version\": \"4.21.1\""));
    assert!(fs.is_file("/app/package-lock.json"));
    assert!(fs.walk("/root/.npm/_cacache").unwrap().len() > 10);
    let o = go(&mut fs, "/app", &["npm", "ci"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let o = go(&mut fs, "/app", &["npm", "install", "nosuchpkg"], &[]);
    assert_eq!(o.status, 1);
    assert!(o.transcript.text().starts_with("npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nosuchpkg - Not found\n"));
    let o = go(&mut fs, "/app", &["npm", "run", "build"], &[]);
    assert_eq!(o.status, 1);
    assert!(
        o.transcript
            .text()
            .starts_with("npm error Missing script: \"build\"\n")
    );
    let o = go(&mut fs, "/app", &["npm", "install", "lodash@4.17.20"], &[]);
    assert!(
        o.transcript.text().contains(
            "\n1 high severity vulnerability\n\nTo address all issues, run:\n  npm audit fix\n"
        ),
        "{}",
        o.transcript.text()
    );
}

#[test]
fn node_reports_missing_modules_and_servers() {
    let mut fs = image_fs("node:20-alpine");
    write(
        &mut fs,
        "/app/server.js",
        "const express = require('express');\nconst app = express();\nconsole.log('booting');\napp.listen(3000);\n",
    );
    let o = go(&mut fs, "/app", &["node", "server.js"], &[]);
    assert_eq!(o.status, 1);
    assert!(o.transcript.text().starts_with("node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module 'express'\nRequire stack:\n- /app/server.js\n"));
    let o = go(&mut fs, "/", &["node", "--version"], &[]);
    assert_eq!(o.transcript.text(), "v20.18.1\n");
    write(
        &mut fs,
        "/app/package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{\"express\":\"4.21.1\"}}",
    );
    go(&mut fs, "/app", &["npm", "install"], &[]);
    let o = go(&mut fs, "/app", &["node", "server.js"], &[]);
    assert_eq!(
        (o.status, o.transcript.text()),
        (0, "booting\n".to_string())
    );
}

const POM: &str = "<project>\n  <parent>\n    <groupId>org.springframework.boot</groupId>\n    <artifactId>spring-boot-starter-parent</artifactId>\n    <version>3.3.5</version>\n  </parent>\n  <groupId>com.example</groupId>\n  <artifactId>demo</artifactId>\n  <version>0.0.1-SNAPSHOT</version>\n  <dependencies>\n    <dependency>\n      <groupId>org.springframework.boot</groupId>\n      <artifactId>spring-boot-starter-web</artifactId>\n    </dependency>\n    <dependency>\n      <groupId>org.apache.logging.log4j</groupId>\n      <artifactId>log4j-core</artifactId>\n      <version>2.14.1</version>\n    </dependency>\n  </dependencies>\n</project>\n";

#[test]
fn mvn_package_writes_a_fat_jar_that_serves() {
    let mut fs = image_fs("maven:3.9-eclipse-temurin-21");
    write(&mut fs, "/app/pom.xml", POM);
    write(
        &mut fs,
        "/app/src/main/java/com/example/DemoApplication.java",
        "package com.example;\n@SpringBootApplication\npublic class DemoApplication {}\n",
    );
    let o = go(
        &mut fs,
        "/app",
        &["mvn", "-B", "package", "-DskipTests"],
        &[],
    );
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let t = o.transcript.text();
    assert!(t.starts_with("[INFO] Scanning for projects...\n[INFO] \n[INFO] --------------------------< com.example:demo >--------------------------\n[INFO] Building demo 0.0.1-SNAPSHOT\n"), "{t}");
    assert!(t.contains("[INFO] BUILD SUCCESS\n"));
    let jar = fs.read("/app/target/demo-0.0.1-SNAPSHOT.jar").unwrap();
    let names: Vec<String> = zip::read(&jar).into_iter().map(|e| e.0).collect();
    assert!(names.contains(&"META-INF/maven/com.example/demo/pom.properties".to_string()));
    assert!(names.contains(&"BOOT-INF/lib/log4j-core-2.14.1.jar".to_string()));
    assert!(fs.is_file(
        "/root/.m2/repository/org/apache/logging/log4j/log4j-core/2.14.1/log4j-core-2.14.1.jar"
    ));
    let o = go(
        &mut fs,
        "/app",
        &["java", "-jar", "target/demo-0.0.1-SNAPSHOT.jar"],
        &[],
    );
    assert!(
        o.transcript
            .text()
            .contains("Tomcat started on port 8080 (http)")
    );
    let o = go(&mut fs, "/app", &["java", "-jar", "nope.jar"], &[]);
    assert_eq!(
        (o.status, o.transcript.text()),
        (1, "Error: Unable to access jarfile nope.jar\n".to_string())
    );
}

#[test]
fn javac_and_java_run_literals() {
    let mut fs = image_fs("eclipse-temurin:21-jdk");
    write(
        &mut fs,
        "/w/Main.java",
        "public class Main {\n  public static void main(String[] a) {\n    System.out.println(\"Hello, Docker\");\n  }\n}\n",
    );
    let o = go(&mut fs, "/w", &["javac", "Main.java"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let o = go(&mut fs, "/w", &["java", "-cp", ".", "Main"], &[]);
    assert_eq!(o.transcript.text(), "Hello, Docker\n");
    let o = go(&mut fs, "/w", &["java", "-version"], &[]);
    assert_eq!(
        o.transcript.stream(Stream::Stderr),
        "openjdk version \"21.0.5\" 2024-10-15 LTS\nOpenJDK Runtime Environment Temurin-21.0.5+11 (build 21.0.5+11-LTS)\nOpenJDK 64-Bit Server VM Temurin-21.0.5+11 (build 21.0.5+11-LTS, mixed mode, sharing)\n"
    );
    let o = go(&mut fs, "/w", &["javac", "Nope.java"], &[]);
    assert_eq!(o.status, 2);
}

#[test]
fn gcc_and_make() {
    let mut fs = image_fs("golang:1.22");
    write(
        &mut fs,
        "/c/main.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi from c\"); return 0; }\n",
    );
    let o = go(&mut fs, "/c", &["gcc", "-O2", "-o", "hello", "main.c"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let o = go(&mut fs, "/c", &["./hello"], &[]);
    assert_eq!(o.transcript.text(), "hi from c\n");
    let o = go(&mut fs, "/c", &["gcc", "nope.c"], &[]);
    assert_eq!((o.status, o.transcript.text()), (1, "gcc: error: nope.c: No such file or directory\ngcc: fatal error: no input files\ncompilation terminated.\n".to_string()));
    let o = go(&mut fs, "/", &["make"], &[]);
    assert_eq!(
        (o.status, o.transcript.text()),
        (
            2,
            "make: *** No targets specified and no makefile found.  Stop.\n".to_string()
        )
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn project_files_never_panic(text in "[ -~\\n\\t<>{}\\[\\]\"=:@^~]{0,200}") {
        let _ = python::parse_req(&text);
        let _ = go::parse_go_mod(&text);
        let _ = java::parse_pom(&text);
        let _ = node::npm_satisfies("1.2.3", &text);
        let mut fs = image_fs("node:20-alpine");
        write(&mut fs, "/app/package.json", &text);
        write(&mut fs, "/app/requirements.txt", &text);
        let _ = go(&mut fs, "/app", &["npm", "install"], &[]);
    }
}

/// Runs `f` with a process context on `fs` (root, `cwd`, the image PATH).
fn with_ctx<T>(fs: &mut Fs, cwd: &str, f: impl FnOnce(&crate::userland::proc::Ctx) -> T) -> T {
    use crate::userland::proc::{Budget, Ctx, Env, Out, Sink, User};
    let w = world();
    let mut env = Env::default();
    env.set("PATH", "/go/bin:/usr/local/go/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/java/openjdk/bin");
    let os = crate::userland::os::Os::detect(fs);
    let b = std::rc::Rc::new(std::cell::RefCell::new(Budget::new(w.limits)));
    let out = Out::new(Sink::Null, b.clone());
    let ctx = Ctx {
        fs,
        world: &w,
        os,
        env,
        cwd: cwd.into(),
        user: User::root(),
        stdin: vec![],
        stdout: out.clone(),
        stderr: out,
        budget: b,
        depth: 0,
        argv0: String::new(),
    };
    f(&ctx)
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn go_build_downloads_what_it_needs_and_reports_build_info() {
    let mut fs = image_fs("golang:1.22");
    write(&mut fs, "/src/go.mod", GO_MOD);
    write(&mut fs, "/src/go.sum", GO_SUM);
    write(&mut fs, "/src/main.go", MAIN_GO);
    let o = go(
        &mut fs,
        "/src",
        &["go", "build", "-o", "/usr/local/bin/"],
        &[],
    );
    assert_eq!(o.status, 0);
    assert_eq!(
        o.transcript.text(),
        "go: downloading github.com/gin-gonic/gin v1.9.1\n"
    );
    assert!(fs.is_file("/usr/local/bin/hello"));
    assert!(fs.walk("/root/.cache/go-build").unwrap().len() > 1);
    let o = go(
        &mut fs,
        "/",
        &["go", "version", "-m", "/usr/local/bin/hello"],
        &[],
    );
    let t = o.transcript.text();
    assert!(t.starts_with("/usr/local/bin/hello: go1.22.12\n\tpath\texample.com/hello\n\tmod\texample.com/hello\t(devel)\t\n\tdep\tgithub.com/gin-gonic/gin\tv1.9.1\th1:"), "{t}");
    assert!(
        t.ends_with("\tbuild\tGOOS=linux\n\tbuild\tGOAMD64=v1\n"),
        "{t}"
    );
    let s = with_ctx(&mut fs, "/", |c| server_of(c, &argv(&["hello"])));
    assert_eq!(
        s,
        Some(Server {
            port: 8080,
            kind: "go".into()
        })
    );
    // go.sum missing the module.
    write(&mut fs, "/src/go.sum", "");
    let o = go(&mut fs, "/src", &["go", "build"], &[]);
    assert_eq!(o.status, 1);
    assert_eq!(
        o.transcript.text(),
        "main.go:6:2: missing go.sum entry for module providing package github.com/gin-gonic/gin (imported by example.com/hello); to add:\n\tgo get example.com/hello\n"
    );
    let o = go(&mut fs, "/", &["go", "version"], &[]);
    assert_eq!(o.transcript.text(), "go version go1.22.12 linux/amd64\n");
}

#[test]
fn pip_list_and_user_installs() {
    let mut fs = image_fs("python:3.12-slim");
    let o = go(&mut fs, "/", &["pip", "list"], &[]);
    assert_eq!(
        o.transcript.text(),
        "Package Version\n------- -------\npip     24.3.1\n"
    );
    let o = go(&mut fs, "/", &["pip", "install", "--user", "six"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(fs.is_file("/root/.local/lib/python3.12/site-packages/six-1.17.0.dist-info/METADATA"));
    // --user does not get the root warning.
    assert!(
        !o.transcript
            .text()
            .contains("Running pip as the 'root' user")
    );
    let o = go(&mut fs, "/", &["pip", "list"], &[]);
    assert_eq!(
        o.transcript.text(),
        "Package Version\n------- -------\npip     24.3.1\nsix     1.17.0\n"
    );
    let o = go(&mut fs, "/", &["pip", "--version"], &[]);
    assert_eq!(
        o.transcript.text(),
        "pip 24.3.1 from /usr/local/lib/python3.12/site-packages/pip (python 3.12)\n"
    );
    let o = go(&mut fs, "/", &["python3", "-m", "http.server", "8080"], &[]);
    assert_eq!(
        o.transcript.text(),
        "Serving HTTP on 0.0.0.0 port 8080 (http://0.0.0.0:8080/) ...\n"
    );
    let o = go(&mut fs, "/", &["python3", "missing.py"], &[]);
    assert_eq!(
        (o.status, o.transcript.text()),
        (
            2,
            "python3: can't open file '/missing.py': [Errno 2] No such file or directory\n"
                .to_string()
        )
    );
}

#[test]
fn npm_install_of_express_and_servers() {
    let mut fs = image_fs("node:20-alpine");
    write(
        &mut fs,
        "/app/package.json",
        "{\"name\":\"web\",\"version\":\"1.0.0\",\"scripts\":{\"start\":\"node server.js\"}}",
    );
    write(
        &mut fs,
        "/app/server.js",
        "const express = require('express');\nconst PORT = process.env.PORT || 3000;\nexpress().listen(PORT);\n",
    );
    let o = go(&mut fs, "/app", &["npm", "install", "express@4.18.2"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let t = o.transcript.text();
    let n = fs
        .read_dir("/app/node_modules")
        .unwrap()
        .iter()
        .filter(|n| !n.starts_with('.'))
        .count();
    assert!(
        t.starts_with(&format!(
            "\nadded {n} packages, and audited {} packages in ",
            n + 1
        )),
        "{t}"
    );
    assert!(t.contains("\n1 moderate severity vulnerability\n"), "{t}");
    let pj = fs.read_string("/app/package.json").unwrap();
    assert!(pj.contains("\"express\": \"^4.18.2\""), "{pj}");
    let s = with_ctx(&mut fs, "/app", |c| server_of(c, &argv(&["npm", "start"])));
    assert_eq!(
        s,
        Some(Server {
            port: 3000,
            kind: "node".into()
        })
    );
    let o = go(&mut fs, "/", &["npm", "cache", "clean", "--force"], &[]);
    assert_eq!(o.status, 0);
    assert!(!fs.exists("/root/.npm/_cacache"));
    let mut w = world();
    w.network = false;
    let o = run(
        &mut fs,
        &w,
        &Spec {
            argv: argv(&["npm", "install", "lodash"]),
            cwd: "/app".into(),
            env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
            ..Spec::default()
        },
    )
    .unwrap();
    assert_eq!(o.status, 1);
    assert!(
        o.transcript
            .text()
            .starts_with("npm error code EAI_AGAIN\n")
    );
}

#[test]
fn upgrading_pip_keeps_pip_working_and_quiets_the_notice() {
    let mut fs = image_fs("python:3.12-slim");
    let o = go(&mut fs, "/", &["pip", "install", "--upgrade", "pip"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    let t = o.transcript.text();
    assert!(t.contains("Successfully installed pip-25.3\n"), "{t}");
    assert!(!t.contains("[notice]"), "{t}");
    let o = go(&mut fs, "/", &["pip", "freeze"], &[]);
    assert_eq!(o.status, 0);
    let o = go(&mut fs, "/", &["pip", "list"], &[]);
    assert_eq!(
        o.transcript.text(),
        "Package Version\n------- -------\npip     25.3\n"
    );
}

#[test]
fn pip_as_a_user_without_write_access_defaults_to_the_user_site() {
    let mut fs = image_fs("python:3.12-slim");
    fs.mkdir(
        "/home/app",
        0o755,
        Cred {
            uid: 1000,
            gid: 1000,
        },
        true,
    )
    .unwrap();
    let o = run(
        &mut fs,
        &world(),
        &Spec {
            argv: argv(&["pip", "install", "six"]),
            env: vec![
                "PATH=/usr/local/bin:/usr/bin:/bin".into(),
                "HOME=/home/app".into(),
            ],
            user: "1000".into(),
            ..Spec::default()
        },
    )
    .unwrap();
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(o.transcript.text().starts_with("Defaulting to user installation because normal site-packages is not writeable\nCollecting six\n"));
    assert!(
        fs.is_file("/home/app/.local/lib/python3.12/site-packages/six-1.17.0.dist-info/METADATA")
    );
}

#[test]
fn npm_ci_omits_dev_dependencies_when_asked() {
    let mut fs = image_fs("node:20-alpine");
    write(
        &mut fs,
        "/app/package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{\"dotenv\":\"^16.0.0\"},\"devDependencies\":{\"nodemon\":\"^3.0.0\"}}",
    );
    let o = go(&mut fs, "/app", &["npm", "install"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(fs.is_file("/app/node_modules/nodemon/package.json"));
    let o = go(&mut fs, "/app", &["npm", "ci", "--omit=dev"], &[]);
    assert_eq!(o.status, 0, "{}", o.transcript.text());
    assert!(fs.is_file("/app/node_modules/dotenv/package.json"));
    assert!(!fs.exists("/app/node_modules/nodemon"));
    assert!(
        o.transcript
            .text()
            .starts_with("\nadded 1 package, and audited "),
        "{}",
        o.transcript.text()
    );
}

#[test]
fn programs_survive_an_empty_argv() {
    let mut fs = image_fs("golang:1.22");
    with_ctx(&mut fs, "/", |_| ());
    for name in [
        "pip", "python3", "node", "npm", "go", "mvn", "java", "javac", "gcc", "make",
    ] {
        let p = lookup(name).unwrap();
        let w = world();
        let b = std::rc::Rc::new(std::cell::RefCell::new(crate::userland::proc::Budget::new(
            w.limits,
        )));
        let out = crate::userland::proc::Out::new(crate::userland::proc::Sink::Null, b.clone());
        let mut ctx = crate::userland::proc::Ctx {
            os: crate::userland::os::Os::detect(&fs),
            fs: &mut fs,
            world: &w,
            env: crate::userland::proc::Env::default(),
            cwd: "/".into(),
            user: crate::userland::proc::User::root(),
            stdin: vec![],
            stdout: out.clone(),
            stderr: out,
            budget: b,
            depth: 0,
            argv0: String::new(),
        };
        let _ = p(&mut ctx, &[]);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
    #[test]
    fn go_mod_pom_and_requirements_never_panic(text in "[ -~\\n\\t<>/\"=:]{0,300}") {
        let mut fs = image_fs("golang:1.22-alpine");
        write(&mut fs, "/src/go.mod", &text);
        write(&mut fs, "/src/main.go", &format!("package main\nimport \"{}\"\n", text.lines().next().unwrap_or("")));
        let _ = go(&mut fs, "/src", &["go", "build", "-o", "/app"], &[]);
        let mut fs = image_fs("maven:3.9-eclipse-temurin-21");
        write(&mut fs, "/app/pom.xml", &text);
        let _ = go(&mut fs, "/app", &["mvn", "-B", "package"], &[]);
        let mut fs = image_fs("python:3.12-alpine");
        write(&mut fs, "/app/requirements.txt", &text);
        let _ = go(&mut fs, "/app", &["pip", "install", "-r", "requirements.txt"], &[]);
    }
}

#[test]
fn npm_install_with_nothing_to_do_and_go_build_all() {
    let mut fs = image_fs("node:20-alpine");
    fs.mkdir("/w", 0o755, Cred::ROOT, true).unwrap();
    let o = go(&mut fs, "/w", &["npm", "install"], &[]);
    assert_eq!(
        o.transcript.text(),
        "\nup to date, audited 1 package in 1s\n\nfound 0 vulnerabilities\n"
    );
    let mut fs = image_fs("golang:1.22-alpine");
    write(&mut fs, "/src/go.mod", "module example.com/x\n\ngo 1.22\n");
    write(&mut fs, "/src/main.go", "package main\n\nfunc main() {}\n");
    let o = go(&mut fs, "/src", &["go", "build", "./..."], &[]);
    assert_eq!((o.status, o.transcript.text()), (0, String::new()));
    assert!(!fs.exists("/src/x"));
    let o = go(&mut fs, "/src", &["go", "build"], &[]);
    assert_eq!(o.status, 0);
    assert!(fs.is_file("/src/x"));
}
