//! Every shipped exercise is gradable: its reference solution scores full
//! marks and a blank attempt does not; and the learner flow (start, check,
//! hint, progress) works through REPL lines.

mod common;
use common::Lab;
use imagelab::commands::grade::grade_attempt;
use imagelab::exercise;

#[test]
fn every_exercise_solution_scores_full_marks_and_blank_does_not() {
    common::pin_clock();
    let all = exercise::builtin();
    assert!(all.len() >= 3);
    for ex in &all {
        let solved = grade_attempt(ex, &ex.solution).unwrap();
        assert!(
            solved.full_marks(),
            "{}: solution scored {}/{}: {:#?}",
            ex.id,
            solved.score,
            solved.total,
            solved.checks
        );
        let blank = grade_attempt(ex, &Default::default()).unwrap();
        assert!(
            !blank.full_marks(),
            "{}: a blank attempt scored full marks",
            ex.id
        );
        assert!(blank.score < blank.total);
    }
}

#[test]
fn a_correct_alternative_passes_too() {
    common::pin_clock();
    // WORKDIR + relative COPY, JSON-form CMD kept identical: outcomes, not keystrokes.
    let ex = exercise::find("nginx-static").unwrap();
    let mut attempt = ex.solution.clone();
    attempt.files.insert(
        "Dockerfile".into(),
        "FROM nginx:1.27-alpine\nWORKDIR /usr/share/nginx/html\nCOPY index.html .\nEXPOSE 80/tcp\n"
            .into(),
    );
    let r = grade_attempt(&ex, &attempt).unwrap();
    assert!(r.full_marks(), "{:#?}", r.checks);
}

#[test]
fn deleting_the_image_instead_of_untagging_loses_points() {
    common::pin_clock();
    let ex = exercise::find("tag-and-remove").unwrap();
    let attempt = imagelab::exercise::Solution {
        files: Default::default(),
        lines: vec![
            "docker tag alpine:3.20 myorg/base:1.0".into(),
            "docker rmi -f alpine:3.20".into(),
            "docker rmi -f myorg/base:1.0".into(),
        ],
    };
    let r = grade_attempt(&ex, &attempt).unwrap();
    let kept = r.checks.iter().find(|c| c.id == "image-kept").unwrap();
    assert!(!kept.passed);
    assert!(kept.feedback.as_deref().unwrap().contains("deleted"));
}

#[test]
fn learner_flow_start_check_hint_progress() {
    let mut lab = Lab::new();
    let start = lab.ok("start nginx-static");
    assert!(start.stdout.contains("Serve a static page with nginx"));
    let ws = exercise::workspace_dir(lab.home(), "nginx-static");
    assert!(ws.join("index.html").exists());
    // From the workspace, as the REPL would be.
    lab.session.cwd = ws.clone();
    lab.session.confine = Some(ws.clone());
    let first = lab.run("check");
    assert_eq!(first.code, 1);
    let h1 = lab.ok("hint");
    assert!(h1.stdout.starts_with("hint 1/3:"));
    let h2 = lab.ok("hint");
    assert!(h2.stdout.contains("hint 2/3:"));
    std::fs::write(
        ws.join("Dockerfile"),
        "FROM nginx:alpine\nCOPY index.html /usr/share/nginx/html/index.html\nEXPOSE 80\n",
    )
    .unwrap();
    lab.ok("docker build -q -t my-nginx-app:1.0 .");
    let done = lab.ok("check");
    lab.settings()
        .bind(|| insta::assert_snapshot!("check_full_marks", done.stdout));
    let json = lab.ok("check --json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["score"], v["total"]);
    let progress = lab.ok("progress");
    assert!(
        progress.stdout.contains("nginx-static          8/8"),
        "{}",
        progress.stdout
    );
    // The exercise's sandbox keeps its own store: the lab's default store is untouched.
    assert!(!lab.home().join("store/index.json").exists());
}

#[test]
fn failed_checks_name_what_was_found() {
    let mut lab = Lab::new();
    lab.ok("start nginx-static");
    let ws = exercise::workspace_dir(lab.home(), "nginx-static");
    lab.session.cwd = ws.clone();
    std::fs::write(ws.join("Dockerfile"), "FROM nginx:alpine\nCMD [\"sh\"]\n").unwrap();
    lab.ok("docker build -q -t my-nginx-app:1.0 .");
    let out = lab.run("check");
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("found: my-nginx-app:1.0 has Cmd = [\"sh\"]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("FAIL [0/3] the page is baked into the image"),
        "{}",
        out.stdout
    );
}

#[test]
fn exercise_errors_name_file_line_and_field() {
    let bad = "id: x\ntitle: t\nobjectives: [\"2.1\"]\nprompt: p\nchecks:\n  - id: a\n    title: a\n    expect:
      image_exist: foo\nsolution:\n  lines: [\"docker images\"]\n";
    let err = exercise::parse("bad.yaml", bad).unwrap_err().to_string();
    assert!(err.starts_with("bad.yaml:9:"), "{err}");
    assert!(err.contains("image_exist"), "{err}");
    let bad_obj = "id: x\ntitle: t\nobjectives: [\"3.1\"]\nprompt: p\nchecks:\n  - id: a\n    title: a\n    expect:
      image_exists: foo\nsolution:\n  lines: [\"docker images\"]\n";
    let err = exercise::parse("o.yaml", bad_obj).unwrap_err().to_string();
    assert_eq!(
        err,
        "o.yaml:3:1: objectives: \"3.1\" is not one of 2.1 … 2.17"
    );
}

#[test]
fn validate_proves_the_builtin_exercises() {
    let mut lab = Lab::new();
    let out = lab.ok("exercises validate");
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("ok  ")).count(),
        exercise::builtin().len(),
        "{}",
        out.stdout
    );
}
