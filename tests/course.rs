//! The course's sample Dockerfiles build and their images run, and the
//! lessons of the exam come out of the simulated userland for real: a
//! forgotten `apt-get update` fails, removing apt lists in a later layer
//! saves nothing, a cgo binary built on Debian does not start on alpine, a
//! `USER` without a passwd entry fails.

mod common;
use common::Lab;

fn build(lab: &mut Lab, tag: &str) {
    let out = lab.run(&format!("docker build -q -t {tag} ."));
    assert_eq!(out.code, 0, "{}", out.both());
}

fn size_of(lab: &mut Lab, tag: &str) -> u64 {
    lab.ok(&format!(
        "docker image inspect --format '{{{{.Size}}}}' {tag}"
    ))
    .stdout
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn the_python_app_installs_its_requirements_and_runs() {
    let mut lab = Lab::new();
    lab.write("requirements.txt", "flask==3.0.0\n");
    lab.write("main.py", "import flask\nprint(\"hello from python\")\n");
    lab.write(
        "Dockerfile",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
    );
    build(&mut lab, "pyapp");
    let run = lab.run("docker run --rm pyapp");
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("hello from python"), "{}", run.both());
    // Forgetting the install is a ModuleNotFoundError when it runs.
    lab.write(
        "Dockerfile",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
    );
    build(&mut lab, "pyapp:broken");
    let run = lab.run("docker run --rm pyapp:broken");
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both()
            .contains("ModuleNotFoundError: No module named 'flask'"),
        "{}",
        run.both()
    );
}

#[test]
fn the_go_multi_stage_build_runs_on_alpine_and_cgo_on_debian_does_not() {
    let mut lab = Lab::new();
    lab.write("go.mod", "module example.com/hello\n\ngo 1.22\n");
    lab.write(
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\tfmt.Println(\"hello from go\")\n\t_ = http.StatusOK\n}\n",
    );
    lab.write(
        "Dockerfile",
        "FROM golang:1.22-alpine AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n\nFROM alpine:3.20\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",
    );
    build(&mut lab, "goapp");
    let run = lab.run("docker run --rm goapp");
    assert_eq!(run.code, 0, "{}", run.both());
    // Built with cgo on Debian: dynamically linked against glibc.
    lab.write(
        "Dockerfile",
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n\nFROM alpine:3.20\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",
    );
    build(&mut lab, "goapp:cgo");
    let run = lab.run("docker run --rm goapp:cgo");
    // runc's execve fails after the container started: the process's exit
    // status is 255.
    assert_eq!(run.code, 255, "{}", run.both());
    assert!(
        run.both().contains("exec /app: no such file or directory"),
        "{}",
        run.both()
    );
}

#[test]
fn the_non_root_user_pattern_works_and_a_missing_user_fails() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nRUN addgroup -S appgroup && adduser -S appuser -G appgroup\nUSER appuser\nCMD [\"id\"]\n",
    );
    build(&mut lab, "nonroot");
    let run = lab.run("docker run --rm nonroot");
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("(appuser)"), "{}", run.both());
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nUSER appuser\nCMD [\"id\"]\n",
    );
    build(&mut lab, "nouser");
    let run = lab.run("docker run --rm nouser");
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.both()
            .contains("unable to find user appuser: no matching entries in passwd file"),
        "{}",
        run.both()
    );
}

#[test]
fn apt_lessons_a_forgotten_update_fails_and_a_later_rm_saves_nothing() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM debian:bookworm\nRUN apt-get install -y curl\n",
    );
    let out = lab.run("docker build --progress=plain .");
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stderr.contains("E: Unable to locate package curl"),
        "{}",
        out.both()
    );
    lab.write(
        "Dockerfile",
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
    );
    build(&mut lab, "twolayers");
    lab.write(
        "Dockerfile",
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
    build(&mut lab, "onelayer");
    let two = size_of(&mut lab, "twolayers");
    let one = size_of(&mut lab, "onelayer");
    assert!(two > one + 5_000_000, "two layers {two}, one layer {one}");
}

#[test]
fn apk_no_cache_keeps_the_layer_small() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM alpine:3.20\nRUN apk add curl\n");
    build(&mut lab, "cached");
    lab.write(
        "Dockerfile",
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    );
    build(&mut lab, "nocache");
    let with = size_of(&mut lab, "cached");
    let without = size_of(&mut lab, "nocache");
    assert!(with > without, "with cache {with}, --no-cache {without}");
    let run = lab.run("docker run --rm nocache curl --version");
    assert_eq!(run.code, 0, "{}", run.both());
}

#[test]
fn the_node_app_installs_with_npm_ci_and_runs() {
    let mut lab = Lab::new();
    lab.write(
        "package.json",
        "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\",\n  \"main\": \"index.js\",\n  \"dependencies\": {\"express\": \"4.18.2\"}\n}\n",
    );
    lab.write(
        "index.js",
        "const express = require('express');\nconsole.log('hello from node');\n",
    );
    lab.write(
        "Dockerfile",
        "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
    );
    build(&mut lab, "nodeapp");
    let run = lab.run("docker run --rm nodeapp");
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("hello from node"), "{}", run.both());
}

#[test]
fn the_java_app_builds_with_maven_into_a_jre_image() {
    let mut lab = Lab::new();
    lab.write(
        "pom.xml",
        "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.example</groupId>\n  <artifactId>app</artifactId>\n  <version>1.0</version>\n  <packaging>jar</packaging>\n  <build>\n    <plugins>\n      <plugin>\n        <groupId>org.apache.maven.plugins</groupId>\n        <artifactId>maven-jar-plugin</artifactId>\n        <configuration>\n          <archive><manifest><mainClass>com.example.App</mainClass></manifest></archive>\n        </configuration>\n      </plugin>\n    </plugins>\n  </build>\n</project>\n",
    );
    lab.write(
        "src/main/java/com/example/App.java",
        "package com.example;\npublic class App {\n  public static void main(String[] a) {\n    System.out.println(\"hello from java\");\n  }\n}\n",
    );
    lab.write(
        "Dockerfile",
        "FROM maven:3.9-eclipse-temurin-21 AS build\nWORKDIR /src\nCOPY . .\nRUN mvn -B package -DskipTests\n\nFROM eclipse-temurin:21-jre\nCOPY --from=build /src/target/app-1.0.jar /app.jar\nCMD [\"java\", \"-jar\", \"/app.jar\"]\n",
    );
    build(&mut lab, "javaapp");
    let run = lab.run("docker run --rm javaapp");
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("hello from java"), "{}", run.both());
}

#[test]
fn the_nginx_page_is_served_on_the_published_port() {
    let mut lab = Lab::new();
    lab.write("index.html", "<h1>course page</h1>\n");
    lab.write(
        "Dockerfile",
        "FROM nginx:alpine\nCOPY index.html /usr/share/nginx/html/index.html\n",
    );
    build(&mut lab, "page");
    lab.ok("docker run -d --name web -p 8080:80 page");
    let page = lab.run("curl -s http://localhost:8080/");
    assert_eq!(page.code, 0, "{}", page.both());
    assert!(page.stdout.contains("course page"), "{}", page.both());
}

#[test]
fn an_app_server_stays_up_on_its_published_port() {
    let mut lab = Lab::new();
    lab.write("go.mod", "module example.com/web\n\ngo 1.22\n");
    lab.write(
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\tfmt.Println(\"listening on :8080\")\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
    );
    lab.write(
        "Dockerfile",
        "FROM golang:1.22-alpine AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /web .\n\nFROM alpine:3.20\nCOPY --from=build /web /web\nEXPOSE 8080\nCMD [\"/web\"]\n",
    );
    build(&mut lab, "goweb");
    lab.ok("docker run -d --name web -p 9090:8080 goweb");
    let ps = lab
        .ok("docker ps --format '{{.Names}} {{.Status}} {{.Ports}}'")
        .stdout;
    assert!(ps.starts_with("web Up"), "{ps}");
    let logs = lab.ok("docker logs web").stdout;
    assert!(logs.contains("listening on :8080"), "{logs}");
    let page = lab.run("curl -s http://localhost:9090/");
    assert_eq!(page.code, 0, "{}", page.both());
    assert!(page.stdout.contains("port 8080"), "{}", page.both());
}
