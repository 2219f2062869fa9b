//! Durability: the built binary is killed with SIGKILL right after acknowledged writes; a restart
//! on the same folder shows every one of them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

const TOKEN: &str = "durable-token";

fn spawn(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_azureml-emulator"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http",
            "--token",
            TOKEN,
            "--data",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, url) = spawn(dir.path());
    let client = reqwest::Client::new();
    let group = |index: usize| {
        format!(
            "{url}/subscriptions/{}/resourceGroups/durable-{index}?api-version=1",
            emulator::DEMO_SUBSCRIPTION
        )
    };
    const WRITES: usize = 40;
    for index in 0..WRITES {
        let response = client
            .put(group(index))
            .bearer_auth(TOKEN)
            .json(&json!({"location": "eastus"}))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let (mut child, url) = spawn(dir.path());
    let group = |index: usize| {
        format!(
            "{url}/subscriptions/{}/resourceGroups/durable-{index}?api-version=1",
            emulator::DEMO_SUBSCRIPTION
        )
    };
    for index in 0..WRITES {
        let response = client
            .get(group(index))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::OK, "write {index} was lost");
    }
    child.kill().expect("stop");
    child.wait().expect("reaped");
}

#[tokio::test]
async fn the_binary_prints_the_certificate_path_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_azureml-emulator"))
        .args(["serve", "--token", TOKEN, "--data"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = lines.next().expect("url line").expect("readable");
    let certificate = lines.next().expect("certificate line").expect("readable");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(
        std::path::PathBuf::from(&certificate),
        dir.path().join("tls/cert.pem")
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "{exit:?}");
}
