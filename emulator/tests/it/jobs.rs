//! Jobs that really run: completion and logs, failure with the exit code, cancel, each compute's
//! concurrency limit, stopped instances, restarts, environment variables and inputs, snapshots
//! from uploaded code, and submission checks.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value as Json, json};

use crate::harness::{Answer, Harness, WORKSPACE, cluster, compute_path, instance, workspace_path};
use crate::uploads::{pending_upload, put_file};

fn ws() -> String {
    workspace_path(WORKSPACE)
}

fn job_path(name: &str) -> String {
    format!("{}/jobs/{name}", ws())
}

const ENVIRONMENT: &str = "environments/env/versions/1";

/// A workspace, an environment version (with a variable) and a compute.
async fn setup(h: &Harness, compute: &str, body: Json) {
    h.workspace().await;
    let env = h
        .put(&format!("{}/{ENVIRONMENT}", ws()), json!({ "properties": { "image": "python:3.12", "environmentVariables": { "FROM_ENV": "env-value" } } }))
        .await;
    assert_eq!(env.status, StatusCode::CREATED, "{env:?}");
    let created = h.put(&compute_path(compute), body).await;
    assert!(created.status.is_success(), "{created:?}");
    assert_eq!(h.wait(&created).await, "Succeeded");
}

fn command_job(compute: &str, command: &str) -> Json {
    json!({ "properties": {
        "jobType": "Command", "command": command,
        "environmentId": format!("{}/{ENVIRONMENT}", ws()),
        "computeId": compute_path(compute),
        "experimentName": "tests",
    } })
}

async fn submit(h: &Harness, name: &str, body: Json) -> Answer {
    let answer = h.put(&job_path(name), body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    assert_eq!(answer.body["properties"]["status"], "NotStarted");
    answer
}

/// Polls the job until its status is one of `wanted` (at most 10 s).
async fn wait_status(h: &Harness, name: &str, wanted: &[&str]) -> Json {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let job = h.get(&job_path(name)).await;
        assert_eq!(job.status, StatusCode::OK, "{job:?}");
        let status = job.body["properties"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if wanted.contains(&status.as_str()) {
            return job.body;
        }
        assert!(
            Instant::now() < deadline,
            "job `{name}` is `{status}`, not one of {wanted:?}: {}",
            job.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status_of(h: &Harness, name: &str) -> String {
    h.get(&job_path(name)).await.body["properties"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `(text, next offset)` of the job's log from `offset`.
async fn logs(h: &Harness, name: &str, offset: usize) -> (String, usize) {
    let url = format!(
        "{}{}/_emulator/logs?offset={offset}",
        h.emulator().url(),
        job_path(name)
    );
    let answer = h
        .client
        .get(url)
        .bearer_auth(crate::harness::TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::OK);
    let next = answer.headers()["x-ms-emulator-log-offset"]
        .to_str()
        .expect("text")
        .parse()
        .expect("a number");
    (answer.text().await.expect("text"), next)
}

#[tokio::test]
async fn a_job_runs_to_completion_and_its_log_is_served() {
    let h = Harness::start().await;
    setup(&h, "cpu", cluster("Standard_DS3_v2", 2)).await;
    submit(&h, "hello", command_job("cpu", "echo hello && exit 0")).await;
    let job = wait_status(&h, "hello", &["Completed", "Failed"]).await;
    assert_eq!(job["properties"]["status"], "Completed", "{job}");
    assert_eq!(job["properties"]["emulatorRun"]["exitCode"], 0);
    let endpoint = job["properties"]["services"]["Studio"]["endpoint"]
        .as_str()
        .expect("a log endpoint");
    assert!(
        endpoint.ends_with("/jobs/hello/_emulator/logs"),
        "{endpoint}"
    );
    let (text, next) = logs(&h, "hello", 0).await;
    assert_eq!(text, "hello\n");
    assert_eq!(next, 6);
    assert_eq!(logs(&h, "hello", 2).await, ("llo\n".to_owned(), 6));
    assert_eq!(logs(&h, "hello", 6).await, (String::new(), 6));
    // Unauthenticated log reads are refused like any ARM call.
    let anonymous = h.client.get(endpoint).send().await.expect("answered");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let listed = h.get(&format!("{}/jobs", ws())).await;
    assert_eq!(listed.body["value"][0]["name"], "hello");
    let filtered = h
        .get(&format!("{}/jobs?api-version=1&jobType=Sweep", ws()))
        .await;
    assert_eq!(filtered.body["value"], json!([]));
}

#[tokio::test]
async fn a_failing_job_keeps_its_exit_code_and_log() {
    let h = Harness::start().await;
    setup(&h, "cpu", cluster("Standard_DS3_v2", 2)).await;
    submit(&h, "broken", command_job("cpu", "echo oops >&2; exit 3")).await;
    let job = wait_status(&h, "broken", &["Completed", "Failed"]).await;
    assert_eq!(job["properties"]["status"], "Failed", "{job}");
    assert_eq!(job["properties"]["emulatorRun"]["exitCode"], 3);
    assert!(
        job["properties"]["emulatorRun"]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("code 3")),
        "{job}"
    );
    assert_eq!(logs(&h, "broken", 0).await.0, "oops\n");

    let mut timed = command_job("cpu", "sleep 30");
    timed["properties"]["limits"] = json!({ "jobLimitsType": "Command", "timeout": "PT0.5S" });
    submit(&h, "slow", timed).await;
    let job = wait_status(&h, "slow", &["Completed", "Failed"]).await;
    assert_eq!(job["properties"]["status"], "Failed");
    assert!(
        job["properties"]["emulatorRun"]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("timeout")),
        "{job}"
    );
}

#[tokio::test]
async fn cancel_kills_the_process() {
    let h = Harness::start().await;
    setup(&h, "cpu", cluster("Standard_DS3_v2", 2)).await;
    submit(
        &h,
        "sleeper",
        command_job("cpu", "echo started; sleep 30; echo never"),
    )
    .await;
    wait_status(&h, "sleeper", &["Running"]).await;
    let started = Instant::now();
    let cancel = h.post(&format!("{}/cancel", job_path("sleeper"))).await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{cancel:?}");
    assert!(cancel.header("location").is_some());
    wait_status(&h, "sleeper", &["Canceled"]).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // The cancel's monitor has finished too.
    assert_eq!(h.wait(&cancel).await, "Succeeded");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(logs(&h, "sleeper", 0).await.0, "started\n");
    // Canceling a finished job is accepted at once.
    assert_eq!(
        h.post(&format!("{}/cancel", job_path("sleeper")))
            .await
            .status,
        StatusCode::OK
    );
    let deleted = h.delete(&job_path("sleeper")).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_eq!(
        h.get(&job_path("sleeper")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.delete(&job_path("sleeper")).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_one_node_cluster_runs_one_job_at_a_time() {
    let h = Harness::start().await;
    setup(&h, "one", cluster("Standard_DS3_v2", 1)).await;
    submit(&h, "first", command_job("one", "sleep 30")).await;
    wait_status(&h, "first", &["Running"]).await;
    submit(&h, "second", command_job("one", "echo second")).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(status_of(&h, "second").await, "Queued");
    let compute = h.get(&compute_path("one")).await.body;
    assert_eq!(
        compute["properties"]["properties"]["currentNodeCount"], 1,
        "{compute}"
    );
    assert_eq!(
        compute["properties"]["properties"]["nodeStateCounts"]["runningNodeCount"],
        1
    );
    h.post(&format!("{}/cancel", job_path("first"))).await;
    wait_status(&h, "first", &["Canceled"]).await;
    wait_status(&h, "second", &["Completed"]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let compute = h.get(&compute_path("one")).await.body;
    assert_eq!(
        compute["properties"]["properties"]["currentNodeCount"], 0,
        "the cluster scales back to its minimum: {compute}"
    );
}

#[tokio::test]
async fn an_instance_runs_two_jobs_per_core_and_nothing_when_stopped() {
    let h = Harness::start().await;
    // Standard_DS1_v2: one core, two slots.
    setup(&h, "box", instance("Standard_DS1_v2")).await;
    for name in ["a", "b", "c"] {
        submit(&h, name, command_job("box", "sleep 30")).await;
    }
    wait_status(&h, "a", &["Running"]).await;
    wait_status(&h, "b", &["Running"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&h, "c").await, "Queued");
    for name in ["a", "b", "c"] {
        h.post(&format!("{}/cancel", job_path(name))).await;
    }
    for name in ["a", "b", "c"] {
        wait_status(&h, name, &["Canceled"]).await;
    }

    let stop = h.post(&format!("{}/stop", compute_path("box"))).await;
    assert_eq!(h.wait(&stop).await, "Succeeded");
    submit(&h, "waits", command_job("box", "echo ran")).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        status_of(&h, "waits").await,
        "Queued",
        "a stopped instance runs nothing"
    );
    let start = h.post(&format!("{}/start", compute_path("box"))).await;
    assert_eq!(h.wait(&start).await, "Succeeded");
    wait_status(&h, "waits", &["Completed"]).await;
}

#[tokio::test]
async fn a_restart_fails_running_jobs_and_resumes_queued_ones() {
    let mut h = Harness::start().await;
    setup(&h, "one", cluster("Standard_DS3_v2", 1)).await;
    submit(&h, "running", command_job("one", "sleep 30")).await;
    wait_status(&h, "running", &["Running"]).await;
    submit(&h, "queued", command_job("one", "echo resumed")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status_of(&h, "queued").await, "Queued");
    h.restart().await;
    let job = wait_status(&h, "running", &["Failed"]).await;
    assert_eq!(
        job["properties"]["emulatorRun"]["error"]["message"],
        "the emulator stopped while the job was running"
    );
    wait_status(&h, "queued", &["Completed"]).await;
    assert_eq!(logs(&h, "queued", 0).await.0, "resumed\n");
}

#[tokio::test]
async fn variables_inputs_and_the_code_snapshot_reach_the_process() {
    let h = Harness::start().await;
    setup(&h, "cpu", cluster("Standard_DS3_v2", 2)).await;
    let (blob_uri, query) = pending_upload(&h, "src").await;
    assert_eq!(
        put_file(
            &h,
            &blob_uri,
            &query,
            "project/train.sh",
            b"echo \"train $1\"\n"
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put_file(&h, &blob_uri, &query, "project/data/x.txt", b"data")
            .await
            .status(),
        StatusCode::CREATED
    );
    let code = h
        .put(
            &format!("{}/codes/src/versions/1", ws()),
            json!({ "properties": { "codeUri": format!("{blob_uri}/project") } }),
        )
        .await;
    assert_eq!(code.status, StatusCode::CREATED, "{code:?}");

    let mut body = command_job(
        "cpu",
        "sh train.sh ${{inputs.lr}} && cat data/x.txt && echo && echo \"$FROM_ENV $MINE $AZUREML_INPUT_lr\"",
    );
    body["properties"]["codeId"] = json!(format!("{}/codes/src/versions/1", ws()));
    body["properties"]["environmentVariables"] = json!({ "MINE": "mine" });
    body["properties"]["inputs"] = json!({ "lr": { "jobInputType": "literal", "value": "0.1" } });
    let submitted = submit(&h, "vars", body).await;
    assert_eq!(
        submitted.body["properties"]["parameters"],
        json!({ "lr": "0.1" })
    );
    let job = wait_status(&h, "vars", &["Completed", "Failed"]).await;
    let (text, _) = logs(&h, "vars", 0).await;
    assert_eq!(job["properties"]["status"], "Completed", "{job} {text}");
    assert_eq!(text, "train 0.1\ndata\nenv-value mine 0.1\n");
}

#[tokio::test]
async fn submissions_are_checked_and_only_tags_change_later() {
    let h = Harness::start().await;
    setup(&h, "cpu", cluster("Standard_DS3_v2", 2)).await;
    let mut no_env = command_job("cpu", "true");
    no_env["properties"]["environmentId"] =
        json!(format!("{}/environments/missing/versions/1", ws()));
    let answer = h.put(&job_path("x"), no_env).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    let no_compute = h.put(&job_path("x"), command_job("nowhere", "true")).await;
    assert_eq!(no_compute.status, StatusCode::BAD_REQUEST);
    let mut no_command = command_job("cpu", "");
    no_command["properties"]["command"] = json!("");
    assert_eq!(
        h.put(&job_path("x"), no_command).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut sweep = command_job("cpu", "true");
    sweep["properties"]["jobType"] = json!("Sweep");
    assert_eq!(
        h.put(&job_path("x"), sweep).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut curated = command_job("cpu", "true");
    curated["properties"]["environmentId"] = json!(format!(
        "{}/environments/AzureML-sklearn-1.5/versions/1",
        ws()
    ));
    submit(&h, "curated", curated).await;

    let mut tagged = command_job("cpu", "true");
    submit(&h, "t", tagged.clone()).await;
    tagged["properties"]["tags"] = json!({ "k": "v" });
    let retagged = h.put(&job_path("t"), tagged.clone()).await;
    assert_eq!(retagged.status, StatusCode::OK, "{retagged:?}");
    assert_eq!(retagged.body["properties"]["tags"]["k"], "v");
    let filtered = h.get(&format!("{}/jobs?api-version=1&tag=k=v", ws())).await;
    assert_eq!(
        filtered.body["value"].as_array().map(Vec::len),
        Some(1),
        "{filtered:?}"
    );
    tagged["properties"]["command"] = json!("false");
    let changed = h.put(&job_path("t"), tagged).await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert!(
        changed.message().contains("`command`"),
        "{}",
        changed.message()
    );
    wait_status(&h, "t", &["Completed"]).await;
}
