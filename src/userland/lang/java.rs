//! `java` (Temurin 21.0.5), `javac` and `mvn` (3.9.9): `java -version`,
//! `java -jar` (a Spring Boot jar is a server on 8080; otherwise the
//! string constants of the main class are printed), `javac` writing class
//! files, and `mvn package`/`dependency:go-offline`/`clean` reading
//! `pom.xml`, filling `~/.m2/repository` from the fixture Maven Central
//! and writing `target/<artifactId>-<version>.jar` as a real zip with
//! `META-INF/maven/<g>/<a>/pom.properties` (fat jars nest their libraries
//! under `BOOT-INF/lib/`).

use super::universe::universe;
use super::{cmp_versions, filler, put_file, zip};
use crate::layer::Content;
use crate::userland::proc::Ctx;
use std::collections::{BTreeMap, VecDeque};

const BOOT_LAUNCHER: &str = "org.springframework.boot.loader.launch.JarLauncher";

/// `java`.
pub fn java_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-version" | "--version" => {
                let dashes = args[i] == "--version";
                let text = if dashes {
                    "openjdk 21.0.5 2024-10-15 LTS\nOpenJDK Runtime Environment Temurin-21.0.5+11 (build 21.0.5+11-LTS)\nOpenJDK 64-Bit Server VM Temurin-21.0.5+11 (build 21.0.5+11-LTS, mixed mode, sharing)\n"
                } else {
                    "openjdk version \"21.0.5\" 2024-10-15 LTS\nOpenJDK Runtime Environment Temurin-21.0.5+11 (build 21.0.5+11-LTS)\nOpenJDK 64-Bit Server VM Temurin-21.0.5+11 (build 21.0.5+11-LTS, mixed mode, sharing)\n"
                };
                if dashes {
                    ctx.out(text);
                } else {
                    ctx.err(text);
                }
                return 0;
            }
            "-jar" => {
                let Some(j) = args.get(i + 1) else {
                    ctx.err("Error: -jar requires jar file specification\n");
                    return 1;
                };
                let Ok(bytes) = ctx.fs.read(&ctx.path(j)) else {
                    ctx.err(format!("Error: Unable to access jarfile {j}\n"));
                    return 1;
                };
                let entries = zip::read(&bytes);
                let manifest = entries
                    .iter()
                    .find(|(n, _)| n == "META-INF/MANIFEST.MF")
                    .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
                let Some(manifest) = manifest else {
                    ctx.err(format!("Error: Invalid or corrupt jarfile {j}\n"));
                    return 1;
                };
                let main = manifest
                    .lines()
                    .find_map(|l| l.strip_prefix("Main-Class: "))
                    .map(str::trim);
                let Some(main) = main else {
                    ctx.err(format!("no main manifest attribute, in {j}\n"));
                    return 1;
                };
                if main == BOOT_LAUNCHER {
                    ctx.out(boot_banner(ctx, &manifest));
                    return 0;
                }
                let class = format!("{}.class", main.replace('.', "/"));
                if let Some((_, b)) = entries.iter().find(|(n, _)| *n == class) {
                    for s in class_strings(b) {
                        ctx.out(format!("{s}\n"));
                    }
                }
                return 0;
            }
            "-cp" | "-classpath" | "--class-path" => i += 1,
            s if s.starts_with('-') => {}
            main => {
                let cp = args
                    .iter()
                    .position(|a| a == "-cp" || a == "-classpath")
                    .and_then(|p| args.get(p + 1))
                    .cloned()
                    .unwrap_or_else(|| ".".into());
                let rel = format!("{}.class", main.replace('.', "/"));
                for dir in cp.split(':') {
                    let p = ctx.path(&format!("{dir}/{rel}"));
                    if let Ok(b) = ctx.fs.read(&p) {
                        for s in class_strings(&b) {
                            ctx.out(format!("{s}\n"));
                        }
                        return 0;
                    }
                }
                ctx.err(format!(
                    "Error: Could not find or load main class {main}\nCaused by: java.lang.ClassNotFoundException: {main}\n"
                ));
                return 1;
            }
        }
        i += 1;
    }
    ctx.err("Usage: java [options] <mainclass> [args...]\n           (to execute a class)\n   or  java [options] -jar <jarfile> [args...]\n           (to execute a jar file)\n");
    1
}

fn boot_banner(ctx: &Ctx, manifest: &str) -> String {
    let start = manifest
        .lines()
        .find_map(|l| l.strip_prefix("Start-Class: "))
        .unwrap_or("Application")
        .trim();
    let app = start.rsplit('.').next().unwrap_or(start);
    let t = super::iso_time(ctx.world.clock);
    let port = ctx.env.get("SERVER_PORT").unwrap_or("8080");
    format!(
        "\n  .   ____          _            __ _ _\n /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\\n( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\\n \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )\n  '  |____| .__|_| |_|_| |_\\__, | / / / /\n =========|_|==============|___/=/_/_/_/\n\n :: Spring Boot ::                (v3.3.5)\n\n{t}.000Z  INFO 1 --- [           main] {start:<40} : Starting {app} using Java 21.0.5 with PID 1\n{t}.000Z  INFO 1 --- [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port {port} (http) with context path '/'\n{t}.000Z  INFO 1 --- [           main] {start:<40} : Started {app} in 2.345 seconds (process running for 2.9)\n"
    )
}

/// The `CONSTANT_String` values of a class file (what `println` prints,
/// in a class `javac` wrote here).
fn class_strings(b: &[u8]) -> Vec<String> {
    if b.len() < 10 || b[..4] != [0xca, 0xfe, 0xba, 0xbe] {
        return Vec::new();
    }
    let count = u16::from_be_bytes([b[8], b[9]]) as usize;
    let mut utf8: BTreeMap<usize, String> = BTreeMap::new();
    let mut strings = Vec::new();
    let mut at = 10;
    let mut idx = 1;
    while idx < count {
        let Some(&tag) = b.get(at) else { break };
        match tag {
            1 => {
                let Some(l) = b.get(at + 1..at + 3) else {
                    break;
                };
                let l = u16::from_be_bytes([l[0], l[1]]) as usize;
                let Some(s) = b.get(at + 3..at + 3 + l) else {
                    break;
                };
                utf8.insert(idx, String::from_utf8_lossy(s).into_owned());
                at += 3 + l;
            }
            8 | 7 => {
                let Some(r) = b.get(at + 1..at + 3) else {
                    break;
                };
                if tag == 8 {
                    strings.push(u16::from_be_bytes([r[0], r[1]]) as usize);
                }
                at += 3;
            }
            _ => break,
        }
        idx += 1;
    }
    strings
        .iter()
        .filter_map(|i| utf8.get(i).cloned())
        .collect()
}

/// A class file with the class name and the given string constants.
fn class_file(name: &str, strings: &[String]) -> Vec<u8> {
    let mut cp: Vec<Vec<u8>> = Vec::new();
    let utf = |s: &str| {
        let mut v = vec![1u8];
        v.extend_from_slice(&(s.len() as u16).to_be_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    };
    cp.push(utf(name)); // 1
    cp.push(vec![7, 0, 1]); // 2: Class name
    cp.push(utf("java/lang/Object")); // 3
    cp.push(vec![7, 0, 3]); // 4
    for s in strings {
        cp.push(utf(s));
        let i = cp.len() as u16;
        let mut v = vec![8u8];
        v.extend_from_slice(&i.to_be_bytes());
        cp.push(v);
    }
    let mut out = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 65];
    out.extend_from_slice(&((cp.len() + 1) as u16).to_be_bytes());
    for c in cp {
        out.extend(c);
    }
    out.extend_from_slice(&[0, 0x21, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    out
}

/// `javac`.
pub fn javac_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let mut outdir = None;
    let mut files = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-d" => {
                i += 1;
                outdir = argv.get(i).cloned();
            }
            s if s.starts_with('-') => {}
            s => files.push(s.to_string()),
        }
        i += 1;
    }
    if files.is_empty() {
        ctx.err("error: no source files\n");
        return 2;
    }
    for f in &files {
        let p = ctx.path(f);
        let Ok(src) = ctx.fs.read_string(&p) else {
            ctx.err(format!(
                "error: file not found: {f}\nUsage: javac <options> <source files>\nuse --help for a list of possible options\n"
            ));
            return 2;
        };
        let class = p
            .rsplit('/')
            .next()
            .unwrap_or("Main")
            .trim_end_matches(".java")
            .to_string();
        let pkg = src
            .lines()
            .find_map(|l| l.trim().strip_prefix("package "))
            .map(|s| s.trim_end_matches(';').trim().replace('.', "/"));
        let name = match &pkg {
            Some(p) => format!("{p}/{class}"),
            None => class.clone(),
        };
        let strings = super::literal_calls(&src, "System.out.println", false);
        let dest = match &outdir {
            Some(d) => ctx.path(&format!("{d}/{name}.class")),
            None => format!(
                "{}/{class}.class",
                p.rsplit_once('/').map(|x| x.0).unwrap_or("")
            ),
        };
        if let Err(e) = put_file(
            ctx,
            &dest,
            Content::bytes(class_file(&name, &strings)),
            0o644,
        ) {
            ctx.err(format!("error: could not write {dest}: {}\n", e.text()));
            return 1;
        }
    }
    0
}

/// The fields of a `pom.xml` that matter here.
#[derive(Clone, Debug, Default)]
pub struct Pom {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub packaging: String,
    pub parent: Option<(String, String, String)>,
    /// `(groupId, artifactId, version, scope)`.
    pub deps: Vec<(String, String, String, String)>,
}

fn tag<'a>(s: &'a str, t: &str) -> Option<&'a str> {
    let open = format!("<{t}>");
    let close = format!("</{t}>");
    let a = s.find(&open)? + open.len();
    let b = s[a..].find(&close)? + a;
    Some(s[a..b].trim())
}

fn strip_block<'a>(s: &'a str, t: &str) -> String {
    let open = format!("<{t}>");
    let close = format!("</{t}>");
    let mut out = String::new();
    let mut rest: &'a str = s;
    while let Some(a) = rest.find(&open) {
        out.push_str(&rest[..a]);
        match rest[a..].find(&close) {
            Some(b) => rest = &rest[a + b + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Parses a `pom.xml` by its tags (never panics).
pub fn parse_pom(xml: &str) -> Pom {
    let mut p = Pom::default();
    let parent = tag(xml, "parent").map(|b| {
        (
            tag(b, "groupId").unwrap_or("").to_string(),
            tag(b, "artifactId").unwrap_or("").to_string(),
            tag(b, "version").unwrap_or("").to_string(),
        )
    });
    let mut top = strip_block(xml, "parent");
    for b in [
        "dependencies",
        "build",
        "dependencyManagement",
        "properties",
        "profiles",
    ] {
        top = strip_block(&top, b);
    }
    p.group = tag(&top, "groupId")
        .map(String::from)
        .or_else(|| parent.as_ref().map(|x| x.0.clone()))
        .unwrap_or_default();
    p.artifact = tag(&top, "artifactId").unwrap_or("").to_string();
    p.version = tag(&top, "version")
        .map(String::from)
        .or_else(|| parent.as_ref().map(|x| x.2.clone()))
        .unwrap_or_default();
    p.packaging = tag(&top, "packaging").unwrap_or("jar").to_string();
    p.parent = parent;
    let deps_xml = strip_block(xml, "dependencyManagement");
    if let Some(block) = tag(&deps_xml, "dependencies") {
        for d in block.split("<dependency>").skip(1) {
            let d = d.split("</dependency>").next().unwrap_or("");
            p.deps.push((
                tag(d, "groupId").unwrap_or("").to_string(),
                tag(d, "artifactId").unwrap_or("").to_string(),
                tag(d, "version").unwrap_or("").to_string(),
                tag(d, "scope").unwrap_or("compile").to_string(),
            ));
        }
    }
    p
}

fn info(ctx: &Ctx, s: &str) {
    ctx.out(format!("[INFO] {s}\n"));
}

/// `mvn`.
pub fn mvn_main(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let goals: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let skip_tests = argv
        .iter()
        .any(|a| a == "-DskipTests" || a == "-Dmaven.test.skip=true");
    if argv.iter().any(|a| a == "-v" || a == "--version") {
        ctx.out("Apache Maven 3.9.9 (8e8579a9e76f7d015ee5ec7bfcdc97d260186937)\nMaven home: /usr/share/maven\nJava version: 21.0.5, vendor: Eclipse Adoptium, runtime: /opt/java/openjdk\nDefault locale: en_US, platform encoding: UTF-8\nOS name: \"linux\", version: \"6.8.0\", arch: \"amd64\", family: \"unix\"\n");
        return 0;
    }
    let started = ctx.world.clock;
    info(ctx, "Scanning for projects...");
    let pom_path = ctx.path("pom.xml");
    let Ok(xml) = ctx.fs.read_string(&pom_path) else {
        ctx.out(format!("[ERROR] The goal you specified requires a project to execute but there is no POM in this directory ({}). Please verify you invoked Maven from the correct directory. -> [Help 1]\n", ctx.cwd));
        ctx.out("[ERROR] \n[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.\n[ERROR] Re-run Maven using the -X switch to enable full debug logging.\n[ERROR] \n[ERROR] For more information about the errors and possible solutions, please read the following articles:\n[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MissingProjectException\n");
        return 1;
    };
    if goals.is_empty() {
        ctx.out("[ERROR] No goals have been specified for this build. You must specify a valid lifecycle phase or a goal in the format <plugin-prefix>:<goal> or <plugin-group-id>:<plugin-artifact-id>[:<plugin-version>]:<goal>. Available lifecycle phases are: pre-clean, clean, post-clean, validate, initialize, generate-sources, process-sources, generate-resources, process-resources, compile, process-classes, generate-test-sources, process-test-sources, generate-test-resources, process-test-resources, test-compile, process-test-classes, test, prepare-package, package, pre-integration-test, integration-test, post-integration-test, verify, install, deploy, pre-site, site, post-site, site-deploy. -> [Help 1]\n");
        return 1;
    }
    let pom = parse_pom(&xml);
    let ga = format!("{}:{}", pom.group, pom.artifact);
    let pad = 72usize.saturating_sub(ga.len() + 4);
    info(ctx, "");
    info(
        ctx,
        &format!(
            "{}< {ga} >{}",
            "-".repeat(pad / 2),
            "-".repeat(pad - pad / 2)
        ),
    );
    info(ctx, &format!("Building {} {}", pom.artifact, pom.version));
    info(ctx, "  from pom.xml");
    let pk = format!("[ {} ]", pom.packaging);
    let pad = 72usize.saturating_sub(pk.len());
    info(
        ctx,
        &format!("{}{pk}{}", "-".repeat(pad / 2), "-".repeat(pad - pad / 2)),
    );
    // Resolve.
    let boot = pom
        .parent
        .as_ref()
        .filter(|p| p.1 == "spring-boot-starter-parent")
        .map(|p| p.2.clone());
    let u = universe();
    let mut q: VecDeque<(String, String, String)> = VecDeque::new();
    for (g, a, v, scope) in &pom.deps {
        q.push_back((format!("{g}:{a}"), v.clone(), scope.clone()));
    }
    let mut resolved: BTreeMap<String, (String, String)> = BTreeMap::new();
    while let Some((ga, v, scope)) = q.pop_front() {
        if ctx.step().is_err() {
            return 1;
        }
        if resolved.contains_key(&ga) {
            continue;
        }
        let Some(art) = u.maven.get(&ga) else {
            return missing(ctx, &pom, &ga, &v, started);
        };
        let want = if !v.is_empty() {
            v.clone()
        } else if let Some(b) = boot
            .as_ref()
            .filter(|_| ga.starts_with("org.springframework.boot:"))
        {
            b.clone()
        } else {
            art.versions
                .iter()
                .max_by(|a, b| cmp_versions(a, b))
                .cloned()
                .unwrap_or_default()
        };
        if !art.versions.contains(&want) {
            return missing(ctx, &pom, &ga, &want, started);
        }
        resolved.insert(ga.clone(), (want.clone(), scope.clone()));
        for d in &art.deps {
            let mut parts = d.splitn(3, ':');
            let (g, a, dv) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            q.push_back((format!("{g}:{a}"), dv.to_string(), scope.clone()));
        }
    }
    let h = ctx.env.get("HOME").unwrap_or("/root").to_string();
    let repo = format!("{h}/.m2/repository");
    for (ga, (v, _)) in &resolved {
        let (g, a) = ga.split_once(':').unwrap_or((ga, ""));
        let dir = format!("{repo}/{}/{a}/{v}", g.replace('.', "/"));
        if ctx.fs.exists(&format!("{dir}/{a}-{v}.jar")) {
            continue;
        }
        if !ctx.world.network {
            ctx.out(format!("[ERROR] Failed to execute goal on project {}: Could not resolve dependencies for project {}:{}:{}:{}: Failed to collect dependencies at {ga}:jar:{v}: Failed to read artifact descriptor for {ga}:jar:{v}: The following artifacts could not be resolved: {ga}:pom:{v} (absent): Could not transfer artifact {ga}:pom:{v} from/to central (https://repo.maven.apache.org/maven2): repo.maven.apache.org: Temporary failure in name resolution -> [Help 1]\n", pom.artifact, pom.group, pom.artifact, pom.packaging, pom.version));
            return 1;
        }
        let url = format!(
            "https://repo.maven.apache.org/maven2/{}/{a}/{v}/{a}-{v}",
            g.replace('.', "/")
        );
        info(ctx, &format!("Downloading from central: {url}.pom"));
        info(
            ctx,
            &format!("Downloaded from central: {url}.pom (2.4 kB at 120 kB/s)"),
        );
        let size = u
            .maven
            .get(ga)
            .map(|x| super::size_of(&x.size))
            .unwrap_or(10_000);
        let _ = super::put_text(
            ctx,
            &format!("{dir}/{a}-{v}.pom"),
            &format!(
                "<project>\n  <groupId>{g}</groupId>\n  <artifactId>{a}</artifactId>\n  <version>{v}</version>\n</project>\n"
            ),
        );
        let jar = lib_jar(ctx, g, a, v, size);
        let _ = put_file(
            ctx,
            &format!("{dir}/{a}-{v}.jar"),
            Content::bytes(jar),
            0o644,
        );
        let _ = super::put_text(
            ctx,
            &format!("{dir}/_remote.repositories"),
            &format!("{a}-{v}.jar>central=\n{a}-{v}.pom>central=\n"),
        );
    }
    if goals.iter().any(|g| g.starts_with("dependency:")) {
        info(ctx, "");
        info(
            ctx,
            &format!(
                "--- dependency:3.7.0:go-offline (default-cli) @ {} ---",
                pom.artifact
            ),
        );
        for (ga, (v, scope)) in &resolved {
            info(
                ctx,
                &format!(
                    "Resolved dependency: {}-{v}.jar",
                    ga.split_once(':').map(|x| x.1).unwrap_or(ga)
                ),
            );
            let _ = scope;
        }
    }
    let wants_package = goals
        .iter()
        .any(|g| matches!(g.as_str(), "package" | "install" | "verify"));
    if goals.iter().any(|g| *g == "clean") {
        let _ = ctx.fs.remove_all(&ctx.path("target"));
        info(ctx, "");
        info(
            ctx,
            &format!(
                "--- clean:3.2.0:clean (default-clean) @ {} ---",
                pom.artifact
            ),
        );
    }
    if wants_package {
        info(ctx, "");
        info(
            ctx,
            &format!(
                "--- compiler:3.13.0:compile (default-compile) @ {} ---",
                pom.artifact
            ),
        );
        let srcs: Vec<String> = ctx
            .fs
            .walk(&ctx.path("src/main/java"))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.ends_with(".java"))
            .collect();
        info(
            ctx,
            &format!(
                "Compiling {} source file{} with javac [debug parameters release 21] to target/classes",
                srcs.len(),
                if srcs.len() == 1 { "" } else { "s" }
            ),
        );
        if skip_tests {
            info(ctx, "");
            info(
                ctx,
                &format!(
                    "--- surefire:3.2.5:test (default-test) @ {} ---",
                    pom.artifact
                ),
            );
            info(ctx, "Tests are skipped.");
        }
        info(ctx, "");
        info(
            ctx,
            &format!("--- jar:3.4.1:jar (default-jar) @ {} ---", pom.artifact),
        );
        let jar_name = format!("{}-{}.jar", pom.artifact, pom.version);
        let jar_path = ctx.path(&format!("target/{jar_name}"));
        info(ctx, &format!("Building jar: {jar_path}"));
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        let start_class = srcs.iter().find_map(|p| {
            let s = ctx.fs.read_string(&format!("/{p}")).ok()?;
            s.contains("@SpringBootApplication").then(|| {
                let pkg = s
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("package "))
                    .map(|x| x.trim_end_matches(';').trim().to_string());
                let c = p
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(".java")
                    .to_string();
                match pkg {
                    Some(k) => format!("{k}.{c}"),
                    None => c,
                }
            })
        });
        let mut manifest =
            "Manifest-Version: 1.0\nCreated-By: Maven JAR Plugin 3.4.1\nBuild-Jdk-Spec: 21\n"
                .to_string();
        // maven-jar-plugin's `<archive><manifest><mainClass>` names the
        // class `java -jar` starts.
        let main_class = xml
            .split("<mainClass>")
            .nth(1)
            .and_then(|r| r.split("</mainClass>").next())
            .map(str::trim)
            .filter(|m| !m.is_empty());
        if let (None, Some(m)) = (&boot, main_class) {
            manifest.push_str(&format!("Main-Class: {m}\n"));
        }
        if boot.is_some() {
            manifest.push_str(&format!("Main-Class: {BOOT_LAUNCHER}\nStart-Class: {}\nSpring-Boot-Version: {}\nSpring-Boot-Classes: BOOT-INF/classes/\nSpring-Boot-Lib: BOOT-INF/lib/\n", start_class.clone().unwrap_or_else(|| "Application".into()), boot.clone().unwrap_or_default()));
        }
        entries.push((
            "META-INF/MANIFEST.MF".into(),
            manifest.replace('\n', "\r\n").into_bytes(),
        ));
        entries.push((
            format!("META-INF/maven/{}/{}/pom.xml", pom.group, pom.artifact),
            xml.clone().into_bytes(),
        ));
        entries.push((
            format!(
                "META-INF/maven/{}/{}/pom.properties",
                pom.group, pom.artifact
            ),
            format!(
                "artifactId={}\ngroupId={}\nversion={}\n",
                pom.artifact, pom.group, pom.version
            )
            .into_bytes(),
        ));
        for p in &srcs {
            let s = ctx.fs.read_string(&format!("/{p}")).unwrap_or_default();
            let rel = p
                .split("src/main/java/")
                .nth(1)
                .unwrap_or(p)
                .trim_end_matches(".java")
                .to_string();
            let prefix = if boot.is_some() {
                "BOOT-INF/classes/"
            } else {
                ""
            };
            entries.push((
                format!("{prefix}{rel}.class"),
                class_file(&rel, &super::literal_calls(&s, "System.out.println", false)),
            ));
        }
        if boot.is_some() {
            info(ctx, "");
            info(
                ctx,
                &format!(
                    "--- spring-boot:{}:repackage (repackage) @ {} ---",
                    boot.clone().unwrap_or_default(),
                    pom.artifact
                ),
            );
            info(
                ctx,
                "Replacing main artifact with repackaged archive, adding nested dependencies in BOOT-INF/.",
            );
            for (ga, (v, scope)) in &resolved {
                if scope == "test" || scope == "provided" {
                    continue;
                }
                let (g, a) = ga.split_once(':').unwrap_or((ga, ""));
                if u.maven
                    .get(ga)
                    .and_then(|x| x.packaging.as_deref())
                    .is_some_and(|p| p != "jar")
                {
                    continue;
                }
                let size = u
                    .maven
                    .get(ga)
                    .map(|x| super::size_of(&x.size))
                    .unwrap_or(10_000);
                entries.push((
                    format!("BOOT-INF/lib/{a}-{v}.jar"),
                    lib_jar(ctx, g, a, v, size),
                ));
            }
        }
        let bytes = zip::write(&entries, ctx.world.clock);
        if let Err(e) = put_file(ctx, &jar_path, Content::bytes(bytes), 0o644) {
            ctx.out(format!(
                "[ERROR] could not write {jar_path}: {}\n",
                e.text()
            ));
            return 1;
        }
    }
    finish(ctx, "BUILD SUCCESS", started);
    0
}

/// A library jar: manifest, pom.properties, then bulk up to `size`.
fn lib_jar(ctx: &Ctx, g: &str, a: &str, v: &str, size: u64) -> Vec<u8> {
    let mut bulk = Vec::new();
    let _ = filler(
        &format!("{g}:{a}:{v}"),
        size.saturating_sub(600).min(4 << 20),
    )
    .write_to(&mut bulk);
    zip::write(
        &[
            ("META-INF/MANIFEST.MF".into(), format!("Manifest-Version: 1.0\r\nImplementation-Title: {a}\r\nImplementation-Version: {v}\r\n\r\n").into_bytes()),
            (format!("META-INF/maven/{g}/{a}/pom.properties"), format!("artifactId={a}\ngroupId={g}\nversion={v}\n").into_bytes()),
            (format!("{}/{}.class", g.replace('.', "/"), a.replace('-', "_")), bulk),
        ],
        ctx.world.clock,
    )
}

fn finish(ctx: &Ctx, what: &str, _started: u64) {
    let line = "-".repeat(72);
    info(ctx, &line);
    info(ctx, what);
    info(ctx, &line);
    info(ctx, "Total time:  3.215 s");
    info(
        ctx,
        &format!("Finished at: {}Z", super::iso_time(ctx.world.clock)),
    );
    info(ctx, &line);
}

fn missing(ctx: &Ctx, pom: &Pom, ga: &str, v: &str, started: u64) -> i32 {
    let line = "-".repeat(72);
    info(ctx, &line);
    info(ctx, "BUILD FAILURE");
    info(ctx, &line);
    info(ctx, "Total time:  1.102 s");
    info(
        ctx,
        &format!("Finished at: {}Z", super::iso_time(ctx.world.clock)),
    );
    info(ctx, &line);
    let _ = started;
    if v.is_empty() {
        ctx.out(format!("[ERROR] 'dependencies.dependency.version' for {ga}:jar is missing. @ line 1, column 1\n"));
        return 1;
    }
    ctx.out(format!(
        "[ERROR] Failed to execute goal on project {}: Could not resolve dependencies for project {}:{}:{}:{}\n[ERROR] dependency: {ga}:jar:{v} (compile)\n[ERROR] \t{ga}:jar:{v} was not found in https://repo.maven.apache.org/maven2 during a previous attempt. This failure was cached in the local repository and resolution is not reattempted until the update interval of central has elapsed or updates are forced\n[ERROR] \n[ERROR] -> [Help 1]\n",
        pom.artifact, pom.group, pom.artifact, pom.packaging, pom.version
    ));
    1
}

/// Whether a java command line is a server (a Spring Boot jar: 8080).
pub fn server_of(ctx: &Ctx, argv: &[String]) -> Option<super::Server> {
    let i = argv.iter().position(|a| a == "-jar")?;
    let bytes = ctx.fs.read(&ctx.path(argv.get(i + 1)?)).ok()?;
    let entries = zip::read(&bytes);
    let (_, m) = entries.iter().find(|(n, _)| n == "META-INF/MANIFEST.MF")?;
    if !String::from_utf8_lossy(m).contains(BOOT_LAUNCHER) {
        return None;
    }
    let port = argv
        .iter()
        .find_map(|a| a.strip_prefix("--server.port="))
        .or(ctx.env.get("SERVER_PORT"))
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    Some(super::Server {
        port,
        kind: "spring-boot".into(),
    })
}
