//! Crash recovery end to end: the App runs as a separate process (the real
//! `gitops-guard serve` binary with the durable journal), receives
//! 100 signed `pull_request` deliveries over TCP, is killed with SIGKILL
//! while it works through them, is restarted on the same database, and
//! must leave exactly one completed `gitops-guard/manifests` check run per
//! PR in the fake GitHub: nothing lost, nothing duplicated. Once on SQLite
//! and once on PostgreSQL (`TEST_DATABASE_URL`). Also: two App replicas
//! (real routers and worker pools, in-process) on one database handle
//! 1,000 deliveries (PostgreSQL) exactly once.

mod common;
mod store_support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fake_github::FakeGitHub;
use common::*;
use gitops_guard::webhook::verify::sign;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHECK: &str = "gitops-guard/manifests";
const CONFIG: &str = ".github/gitops-guard.yml";
const N: u64 = 100;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_server(fake: &FakeGitHub, port: u16, db: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitops-guard"));
    cmd.arg("serve")
        .env("GITHUB_APP_ID", APP_ID)
        .env("GITHUB_APP_PRIVATE_KEY", &keys().private_pem)
        .env("GITHUB_WEBHOOK_SECRET", SECRET)
        .env("GITHUB_API_URL", &fake.url)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("GITOPS_GUARD_WORKERS", "3")
        // A lease far longer than the recovery the test waits for: the
        // restarted instance must take over its earlier boot's claims at
        // once, not when they expire.
        .env("GITOPS_GUARD_LEASE_SECS", "120")
        .env("GITOPS_GUARD_INSTANCE", "crash-test")
        .env("GITOPS_GUARD_RETRY_BASE_SECS", "1")
        .env("GITOPS_GUARD_REDELIVER_SECS", "0")
        .env(
            "RUST_LOG",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env_remove("DATABASE_URL")
        .env_remove("GITOPS_GUARD_DB")
        .stdout(Stdio::null());
    for (k, v) in db {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn server process")
}

/// One HTTP/1.1 request on a fresh connection; returns the status code.
async fn http(port: u16, head: &str, body: &[u8]) -> std::io::Result<u16> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(code)
}

async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let req = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        if let Ok(200) = http(port, req, b"").await {
            return;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deliver(port: u16, id: &str, body: &[u8]) -> u16 {
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {id}\r\n\
         X-Hub-Signature-256: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        sign(SECRET.as_bytes(), body),
        body.len()
    );
    http(port, &head, body).await.expect("webhook request")
}

struct Pr {
    delivery: String,
    head: String,
    body: Vec<u8>,
}

fn setup_prs(fake: &FakeGitHub) -> Vec<Pr> {
    let base = fake.commit(REPO, &[(CONFIG, "version: 1\n")]);
    (1..=N)
        .map(|n| {
            let cm = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{n}\ndata:\n  n: \"{n}\"\n"
            );
            let head = fake.commit(REPO, &[(CONFIG, "version: 1\n"), ("apps/cm.yaml", &cm)]);
            fake.open_pr(REPO, n, &base, &head);
            Pr {
                delivery: format!("crash-{n:04}-0000-4000-8000-000000000000"),
                body: pr_event("opened", REPO, n, &base, &head),
                head,
            }
        })
        .collect()
}

fn completed_runs(fake: &FakeGitHub, prs: &[Pr]) -> usize {
    prs.iter()
        .filter(|p| {
            fake.runs(&p.head, CHECK)
                .iter()
                .any(|r| r.status == "completed")
        })
        .count()
}

fn kill(mut child: Child) {
    // std's Child::kill is SIGKILL on Unix: no graceful shutdown, no drain.
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

async fn crash_and_recover(db: Vec<(&'static str, String)>) {
    gitops_guard::cli::server::install_crypto_provider();
    let fake = FakeGitHub::start(APP_ID, &keys().public_pem).await;
    let prs = setup_prs(&fake);
    let port = free_port();
    let first = spawn_server(&fake, port, &db);
    wait_ready(port).await;

    // First half, then SIGKILL while the workers are in the middle of it.
    for p in &prs[..50] {
        assert_eq!(deliver(port, &p.delivery, &p.body).await, 202);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while completed_runs(&fake, &prs) < 5 {
        assert!(Instant::now() < deadline, "no progress before the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(first);
    let at_kill = completed_runs(&fake, &prs);
    assert!(
        at_kill < 50,
        "everything finished before the kill ({at_kill}); test proves nothing"
    );

    // Restart on the same journal; the rest arrives, and GitHub sends a
    // few of the first half again (same delivery ids).
    let port = free_port();
    let restarted = Instant::now();
    let second = spawn_server(&fake, port, &db);
    wait_ready(port).await;
    for p in &prs[50..] {
        assert_eq!(deliver(port, &p.delivery, &p.body).await, 202);
    }
    for p in prs[..50].iter().step_by(5) {
        let code = deliver(port, &p.delivery, &p.body).await;
        assert_eq!(
            code, 200,
            "a journaled delivery is acknowledged as a duplicate"
        );
    }
    // Well inside the 120 s lease: nothing waits for a dead claim to expire.
    let deadline = Instant::now() + Duration::from_secs(90);
    while completed_runs(&fake, &prs) < prs.len() {
        assert!(
            Instant::now() < deadline,
            "only {} of {N} PRs got a completed run",
            completed_runs(&fake, &prs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = restarted.elapsed();
    // Let anything still in flight settle before counting duplicates.
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill(second);

    for p in &prs {
        let runs = fake.runs(&p.head, CHECK);
        assert_eq!(runs.len(), 1, "PR head {}: {runs:#?}", p.head);
        assert_eq!(runs[0].status, "completed");
        assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
    }
    eprintln!(
        "crash recovery: {at_kill}/{N} PRs complete at SIGKILL, {N}/{N} {:.1} s after restart",
        recovered.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_way_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    crash_and_recover(vec![("GITOPS_GUARD_DB", path.display().to_string())]).await;
    // The journal agrees: all done, nothing pending or dead.
    let store = gitops_guard::queue::open(
        &gitops_guard::queue::DbTarget::Sqlite(path),
        Default::default(),
    )
    .await
    .unwrap();
    let c = store.counts().await.unwrap();
    assert_eq!((c.done, c.pending, c.running, c.dead), (N, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_way_postgres() {
    let Some(url) = store_support::pg_url_with_fresh_schema().await else {
        return;
    };
    crash_and_recover(vec![("DATABASE_URL", url.clone())]).await;
    let store = gitops_guard::queue::open(
        &gitops_guard::queue::DbTarget::Postgres(url),
        Default::default(),
    )
    .await
    .unwrap();
    let c = store.counts().await.unwrap();
    assert_eq!((c.done, c.pending, c.running, c.dead), (N, 0, 0, 0));
}

/// Counts how often each delivery is handled.
struct Counting(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>);

#[async_trait::async_trait]
impl gitops_guard::queue::pool::Handler for Counting {
    async fn handle(&self, d: &gitops_guard::queue::journal::Delivery) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        *self.0.lock().unwrap().entry(d.id.clone()).or_default() += 1;
        Ok(())
    }
}

/// Two App replicas (real routers, real worker pools) on one database:
/// deliveries (and GitHub's duplicates) arrive at either; each is handled
/// exactly once and none is lost.
async fn replicas_on(
    a: std::sync::Arc<dyn gitops_guard::queue::Store>,
    b: std::sync::Arc<dyn gitops_guard::queue::Store>,
    n: usize,
) {
    use gitops_guard::cli::server::App;
    use gitops_guard::queue::worker::{DurableQueue, QueueConfig};
    let seen: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>> =
        Default::default();
    let mut s = settings("http://127.0.0.1:9");
    s.workers = 4;
    let app = |store, name: &str| {
        let q = DurableQueue::new(
            store,
            QueueConfig {
                lease: Duration::from_secs(30),
                poll_interval: Duration::from_millis(20),
                instance: name.to_owned(),
                max_pending: 10_000,
            },
        );
        App::with_journal(&s, std::sync::Arc::new(Counting(seen.clone())), q)
    };
    let (ra, rb) = (app(a.clone(), "replica-a"), app(b, "replica-b"));
    let body = pr_event("opened", REPO, 1, "b", "h");
    let sig = sign(SECRET.as_bytes(), &body);
    for i in 0..n {
        let id = format!("replica-{i:05}");
        let (first, second) = if i % 2 == 0 { (&ra, &rb) } else { (&rb, &ra) };
        let (code, _) = post(first, "pull_request", &id, body.clone(), Some(sig.clone())).await;
        assert_eq!(code, axum::http::StatusCode::ACCEPTED);
        if i.is_multiple_of(9) {
            let (code, _) =
                post(second, "pull_request", &id, body.clone(), Some(sig.clone())).await;
            assert_eq!(
                code,
                axum::http::StatusCode::OK,
                "duplicate at the other replica"
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let c = a.counts().await.unwrap();
        if c.done == n as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "not drained: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ra.shutdown().await);
    assert!(rb.shutdown().await);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), n, "lost deliveries");
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_postgres_process_1000_exactly_once() {
    let Some(b) = store_support::postgres(Default::default()).await else {
        return;
    };
    let other = b.another(Default::default()).await;
    replicas_on(b.store.clone(), other, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_sqlite_process_everything_exactly_once() {
    let b = store_support::sqlite(Default::default()).await.unwrap();
    let other = b.another(Default::default()).await;
    replicas_on(b.store.clone(), other, 300).await;
}
