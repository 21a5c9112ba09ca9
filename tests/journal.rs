//! One behavioural suite for the [`Store`] contract, run against SQLite and
//! PostgreSQL (`TEST_DATABASE_URL`; see `scripts/pg-test.sh`).

mod store_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use gitops_guard::queue::journal::{Delivery, Enqueued, Journal, JournalError};
use gitops_guard::queue::pool::{Handler, Workers};
use gitops_guard::queue::worker::{DurableQueue, QueueConfig};
use gitops_guard::queue::{FailOutcome, Inserted, ListFilter, NewDelivery, RequeueOutcome, State};
use store_support::{Backend, delivery};

both_backends! {
    insert_dedupes_and_claim_hands_out_once => crate::store_support::policy(5, 1000);
    claims_oldest_first => crate::store_support::policy(5, 1000);
    failure_backs_off_then_dead_letters_and_redelivery_revives => crate::store_support::policy(3, 700);
    expired_lease_is_reclaimed_and_old_holder_is_fenced => crate::store_support::policy(5, 1000);
    crash_looping_delivery_is_dead_lettered => crate::store_support::policy(2, 1000);
    heartbeat_keeps_lease => crate::store_support::policy(5, 1000);
    requeue_rules => crate::store_support::policy(1, 1000);
    list_get_counts => crate::store_support::policy(5, 1000);
    cleanup_removes_only_old_done_rows => crate::store_support::policy(5, 1000);
    checkpoints_and_singleton_lease => crate::store_support::policy(5, 1000);
    known_among_reports_journaled_ids => crate::store_support::policy(5, 1000);
    concurrent_claimers_never_share_a_delivery => crate::store_support::policy(5, 1000);
    two_replicas_process_everything_exactly_once => crate::store_support::policy(5, 50);
    undecodable_payload_is_dead_lettered_at_once => crate::store_support::policy(5, 1000);
    a_restart_takes_over_only_its_earlier_boots_claims => crate::store_support::policy(5, 1000);
    a_full_journal_refuses_new_deliveries => crate::store_support::policy(5, 1000);
}

const LEASE: Duration = Duration::from_secs(30);

async fn insert_dedupes_and_claim_hands_out_once(b: Backend) {
    let s = b.store;
    let mut d = delivery("a", "pull_request");
    // Arbitrary bytes survive the round trip.
    d.payload = Bytes::from(vec![0u8, 159, 146, 150, b'{', 0xff]);
    assert_eq!(s.insert_if_absent(&d).await.unwrap(), Inserted::Inserted);
    assert_eq!(s.insert_if_absent(&d).await.unwrap(), Inserted::Duplicate);

    let got = s.claim("w1", LEASE).await.unwrap().expect("claimable");
    assert_eq!(got.id, "a");
    assert_eq!(got.payload, d.payload);
    assert_eq!(got.event, "pull_request");
    assert_eq!(got.action.as_deref(), Some("opened"));
    assert_eq!(got.attempts, 1);
    assert_eq!(got.state, State::Running);
    assert_eq!(got.claimed_by.as_deref(), Some("w1"));
    assert_eq!(
        got.received_at.timestamp_millis(),
        d.received_at.timestamp_millis()
    );
    assert!(got.claimed_until.unwrap() > Utc::now());
    assert!(
        s.claim("w2", LEASE).await.unwrap().is_none(),
        "claimed twice"
    );

    assert!(
        !s.complete("a", "w2").await.unwrap(),
        "non-holder completed"
    );
    assert!(s.complete("a", "w1").await.unwrap());
    let done = s.get("a").await.unwrap().unwrap();
    assert_eq!(done.state, State::Done);
    assert!(done.finished_at.is_some());
    // Done stays deduplicated; nothing to claim; completing twice is a no-op.
    assert_eq!(s.insert_if_absent(&d).await.unwrap(), Inserted::Duplicate);
    assert!(s.claim("w1", LEASE).await.unwrap().is_none());
    assert!(!s.complete("a", "w1").await.unwrap());
}

async fn claims_oldest_first(b: Backend) {
    let s = b.store;
    for id in ["first", "second", "third"] {
        s.insert_if_absent(&delivery(id, "push")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut order = Vec::new();
    while let Some(d) = s.claim("w", LEASE).await.unwrap() {
        order.push(d.id.clone());
        s.complete(&d.id, "w").await.unwrap();
    }
    assert_eq!(order, ["first", "second", "third"]);
}

async fn failure_backs_off_then_dead_letters_and_redelivery_revives(b: Backend) {
    let s = b.store;
    let backoff = s.policy().base_backoff; // 700 ms, doubling
    s.insert_if_absent(&delivery("f", "push")).await.unwrap();
    for attempt in 1..=3u32 {
        let d = s.claim("w", LEASE).await.unwrap().expect("due");
        assert_eq!(d.attempts, attempt);
        let failed_at = Instant::now();
        let out = s.fail("f", "w", &format!("boom {attempt}")).await.unwrap();
        if attempt < 3 {
            let FailOutcome::Retry(at) = out else {
                panic!("attempt {attempt}: {out:?}")
            };
            let delay = backoff * (1 << (attempt - 1));
            let ahead = at - Utc::now();
            assert!(
                ahead.num_milliseconds() <= delay.as_millis() as i64 + 50,
                "{ahead}"
            );
            // Not claimable before the backoff has passed (only checked
            // when the machine was fast enough to look in time).
            let early = s.claim("w", LEASE).await.unwrap();
            if failed_at.elapsed() < delay / 2 {
                assert!(early.is_none(), "claimed during backoff");
            }
            let rec = s.get("f").await.unwrap().unwrap();
            assert_eq!(
                rec.last_error.as_deref(),
                Some(format!("boom {attempt}").as_str())
            );
            if early.is_none() {
                tokio::time::sleep(delay + Duration::from_millis(100)).await;
            } else {
                s.fail("f", "w", "x").await.unwrap();
                panic!("machine too slow for this test");
            }
        } else {
            assert_eq!(out, FailOutcome::Dead);
        }
    }
    let dead = s.get("f").await.unwrap().unwrap();
    assert_eq!(dead.state, State::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("boom 3"));
    assert_eq!(s.counts().await.unwrap().dead, 1);
    assert!(
        s.claim("w", LEASE).await.unwrap().is_none(),
        "dead row handed out"
    );
    assert_eq!(
        s.fail("f", "w", "again").await.unwrap(),
        FailOutcome::NotHeld
    );

    // GitHub redelivers the same GUID: queued again with a fresh budget.
    assert_eq!(
        s.insert_if_absent(&delivery("f", "push")).await.unwrap(),
        Inserted::Inserted
    );
    let again = s.claim("w2", LEASE).await.unwrap().expect("revived");
    assert_eq!(again.attempts, 1);
}

async fn expired_lease_is_reclaimed_and_old_holder_is_fenced(b: Backend) {
    let s = b.store;
    s.insert_if_absent(&delivery("l", "push")).await.unwrap();
    let short = Duration::from_millis(300);
    s.claim("old", short).await.unwrap().unwrap();
    assert!(s.claim("new", LEASE).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The old holder "crashed": its lease expired, the row is claimable.
    let d = s
        .claim("new", LEASE)
        .await
        .unwrap()
        .expect("expired lease reclaimed");
    assert_eq!(d.id, "l");
    assert_eq!(d.attempts, 2);
    // The stalled old holder can no longer change anything.
    assert!(!s.complete("l", "old").await.unwrap());
    assert_eq!(
        s.fail("l", "old", "late").await.unwrap(),
        FailOutcome::NotHeld
    );
    assert!(!s.extend("l", "old", LEASE).await.unwrap());
    assert!(s.complete("l", "new").await.unwrap());
}

async fn crash_looping_delivery_is_dead_lettered(b: Backend) {
    let s = b.store; // max 2 attempts
    s.insert_if_absent(&delivery("poison", "push"))
        .await
        .unwrap();
    s.insert_if_absent(&delivery("fine", "push")).await.unwrap();
    let short = Duration::from_millis(200);
    let d1 = s.claim("w1", short).await.unwrap().unwrap();
    assert_eq!(d1.id, "poison");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let d2 = s.claim("w2", short).await.unwrap().unwrap();
    assert_eq!((d2.id.as_str(), d2.attempts), ("poison", 2));
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Third time: dead-lettered, and the claim moves on to the next row.
    let d3 = s.claim("w3", LEASE).await.unwrap().unwrap();
    assert_eq!(d3.id, "fine");
    let p = s.get("poison").await.unwrap().unwrap();
    assert_eq!(p.state, State::Dead);
    assert!(p.last_error.unwrap().contains("lease expired"));
}

async fn heartbeat_keeps_lease(b: Backend) {
    let s = b.store;
    s.insert_if_absent(&delivery("h", "push")).await.unwrap();
    let lease = Duration::from_millis(600);
    s.claim("w", lease).await.unwrap().unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(s.extend("h", "w", lease).await.unwrap());
        assert!(
            s.claim("thief", lease).await.unwrap().is_none(),
            "live lease stolen"
        );
    }
    assert!(s.complete("h", "w").await.unwrap());
}

async fn requeue_rules(b: Backend) {
    let s = b.store; // max 1 attempt: one failure is dead
    assert_eq!(
        s.requeue("missing").await.unwrap(),
        RequeueOutcome::NotFound
    );
    s.insert_if_absent(&delivery("r", "push")).await.unwrap();
    s.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(s.requeue("r").await.unwrap(), RequeueOutcome::Running);
    assert_eq!(s.fail("r", "w", "bad").await.unwrap(), FailOutcome::Dead);
    assert_eq!(s.requeue("r").await.unwrap(), RequeueOutcome::Requeued);
    let r = s.get("r").await.unwrap().unwrap();
    assert_eq!((r.state, r.attempts), (State::Pending, 0));
    assert_eq!(r.last_error.as_deref(), Some("bad"), "history kept");
    let again = s.claim("w2", LEASE).await.unwrap().unwrap();
    assert_eq!(again.attempts, 1);
    assert!(s.complete("r", "w2").await.unwrap());
    // A done delivery can be replayed on purpose.
    assert_eq!(s.requeue("r").await.unwrap(), RequeueOutcome::Requeued);
    assert_eq!(s.get("r").await.unwrap().unwrap().state, State::Pending);
}

async fn list_get_counts(b: Backend) {
    let s = b.store;
    for (i, ev) in ["push", "pull_request", "push", "check_run", "push"]
        .iter()
        .enumerate()
    {
        let mut d = delivery(&format!("d{i}"), ev);
        d.received_at = Utc::now() + chrono::Duration::seconds(i as i64);
        s.insert_if_absent(&d).await.unwrap();
    }
    let d = s.claim("w", LEASE).await.unwrap().unwrap();
    s.complete(&d.id, "w").await.unwrap();

    let all = s.list(&ListFilter::default()).await.unwrap();
    assert_eq!(all.len(), 5);
    let ids: Vec<_> = all.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["d4", "d3", "d2", "d1", "d0"], "newest first");
    assert!(
        all.iter().all(|d| d.payload.is_empty()),
        "list omits payloads"
    );

    let pushes = s
        .list(&ListFilter {
            event: Some("push".into()),
            state: Some(State::Pending),
            limit: 10,
        })
        .await
        .unwrap();
    let ids: Vec<_> = pushes.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["d4", "d2"], "d0 is done");
    let one = s
        .list(&ListFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);

    let full = s.get("d3").await.unwrap().unwrap();
    assert_eq!(full.payload, Bytes::from_static(b"{\"id\":\"d3\"}"));
    assert!(s.get("nope").await.unwrap().is_none());

    let c = s.counts().await.unwrap();
    assert_eq!((c.pending, c.running, c.done, c.dead), (4, 0, 1, 0));
    assert_eq!(c.depth(), 4);
}

async fn cleanup_removes_only_old_done_rows(b: Backend) {
    let s = b.store;
    for id in ["old", "keep"] {
        s.insert_if_absent(&delivery(id, "push")).await.unwrap();
    }
    let d = s.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(d.id, "old");
    s.complete("old", "w").await.unwrap();
    assert_eq!(s.cleanup(Duration::from_secs(3600)).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.cleanup(Duration::from_millis(10)).await.unwrap(), 1);
    assert!(s.get("old").await.unwrap().is_none());
    assert_eq!(s.get("keep").await.unwrap().unwrap().state, State::Pending);
}

async fn checkpoints_and_singleton_lease(b: Backend) {
    let s = b.store;
    assert_eq!(s.checkpoint("redeliver").await.unwrap(), None);
    s.set_checkpoint("redeliver", "one").await.unwrap();
    s.set_checkpoint("redeliver", "two").await.unwrap();
    s.set_checkpoint("other", "x").await.unwrap();
    assert_eq!(
        s.checkpoint("redeliver").await.unwrap().as_deref(),
        Some("two")
    );

    let ttl = Duration::from_secs(30);
    assert!(s.try_lease("job", "a", ttl).await.unwrap());
    assert!(!s.try_lease("job", "b", ttl).await.unwrap(), "two holders");
    assert!(s.try_lease("job", "a", ttl).await.unwrap(), "renewal");
    assert!(s.try_lease("other-job", "b", ttl).await.unwrap());
    s.release_lease("job", "b").await.unwrap(); // not b's: no effect
    assert!(!s.try_lease("job", "b", ttl).await.unwrap());
    s.release_lease("job", "a").await.unwrap();
    assert!(
        s.try_lease("job", "b", Duration::from_millis(200))
            .await
            .unwrap()
    );
    assert!(!s.try_lease("job", "a", ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        s.try_lease("job", "a", ttl).await.unwrap(),
        "expired lease taken over"
    );
}

async fn known_among_reports_journaled_ids(b: Backend) {
    let s = b.store;
    s.insert_if_absent(&delivery("x1", "push")).await.unwrap();
    s.insert_if_absent(&delivery("x2", "push")).await.unwrap();
    let mut ids: Vec<String> = (0..1200).map(|i| format!("unknown-{i}")).collect();
    ids.push("x2".into());
    ids.push("it's \"quoted\"".into());
    let mut got = s.known_among(&ids).await.unwrap();
    got.sort();
    assert_eq!(got, ["x2"]);
    assert!(s.known_among(&[]).await.unwrap().is_empty());
}

async fn concurrent_claimers_never_share_a_delivery(b: Backend) {
    let s = b.store;
    const N: usize = 200;
    for i in 0..N {
        s.insert_if_absent(&delivery(&format!("c{i:03}"), "push"))
            .await
            .unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = s.clone();
        let seen = seen.clone();
        tasks.push(tokio::spawn(async move {
            let token = format!("w{w}");
            while let Some(d) = s.claim(&token, LEASE).await.unwrap() {
                assert!(s.complete(&d.id, &token).await.unwrap());
                seen.lock().unwrap().push(d.id);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, N, "some delivery claimed twice or lost");
    assert_eq!(seen.len(), N);
    assert_eq!(s.counts().await.unwrap().done, N as u64);
}

/// Two replicas (two store handles, two queues, several workers each) on
/// one database: every delivery processed exactly once, none lost, while
/// deliveries keep arriving and some handlers fail once and are retried.
async fn two_replicas_process_everything_exactly_once(b: Backend) {
    let n: usize = if matches!(b.reopen, store_support::Reopen::Postgres(_)) {
        1000
    } else {
        300
    };
    let replica_b = b.another(b.store.policy().clone()).await;
    let cfg = |name: &str| QueueConfig {
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(20),
        instance: name.to_owned(),
        max_pending: 10_000,
    };
    let qa = DurableQueue::new(b.store.clone(), cfg("replica-a"));
    let qb = DurableQueue::new(replica_b, cfg("replica-b"));
    let done: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let failed_once: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
    let mut workers = Vec::new();
    for q in [&qa, &qb] {
        for _ in 0..4 {
            let q = q.clone();
            let done = done.clone();
            let failed_once = failed_once.clone();
            workers.push(tokio::spawn(async move {
                while let Some(d) = q.next().await {
                    // Every 10th delivery fails on its first attempt.
                    let n: usize = d.id[1..].parse().unwrap();
                    if n.is_multiple_of(10) && failed_once.lock().unwrap().insert(d.id.clone()) {
                        q.fail(&d.id, "transient").await.unwrap();
                        continue;
                    }
                    *done.lock().unwrap().entry(d.id.clone()).or_default() += 1;
                    assert!(q.complete(&d.id).await.unwrap(), "lost lease on {}", d.id);
                }
            }));
        }
    }
    // Deliveries arrive at both replicas (a load balancer in front).
    let mut dupes = 0;
    for i in 0..n {
        let q = if i % 2 == 0 { &qa } else { &qb };
        let d = NewDelivery {
            id: format!("d{i}"),
            ..delivery("x", "pull_request")
        };
        q.enqueue(&d).await.unwrap();
        // GitHub sometimes sends a delivery twice, to either replica.
        if i.is_multiple_of(7) {
            let other = if i % 2 == 0 { &qb } else { &qa };
            if other.enqueue(&d).await.unwrap() == Inserted::Duplicate {
                dupes += 1;
            }
        }
    }
    assert_eq!(dupes, n.div_ceil(7));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let c = b.store.counts().await.unwrap();
        if c.done == n as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "not drained: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    qa.close();
    qb.close();
    for w in workers {
        w.await.unwrap();
    }
    let done = done.lock().unwrap();
    assert_eq!(done.len(), n, "lost deliveries");
    let twice: Vec<_> = done.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "processed more than once: {twice:?}");
}

async fn a_restart_takes_over_only_its_earlier_boots_claims(b: Backend) {
    let s = b.store;
    for id in ["old-boot", "other-host", "this-boot", "prefix-lookalike"] {
        s.insert_if_absent(&delivery(id, "pull_request"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let long = Duration::from_secs(3600);
    // Claimed oldest first: one delivery per holder.
    for holder in ["web/1-a#0", "db/1-a#0", "web/2-b#0", "web_x/1-a#0"] {
        assert!(s.claim(holder, long).await.unwrap().is_some());
    }
    // Instance `web` boots again as `web/2-b`: only `web/1-a`'s claim is
    // released (not another instance's, not its own current one, and not
    // `web_x`, which LIKE 'web_%' would have matched).
    assert_eq!(s.release_claims("web/", "web/2-b#").await.unwrap(), 1);
    let got = s
        .claim("web/2-b#1", LEASE)
        .await
        .unwrap()
        .expect("released at once");
    assert_eq!(got.id, "old-boot");
    assert_eq!(got.attempts, 2, "the crashed attempt still counts");
    assert!(s.claim("web/2-b#2", LEASE).await.unwrap().is_none());
    assert_eq!(s.release_claims("web/", "web/2-b#").await.unwrap(), 0);
}

async fn a_full_journal_refuses_new_deliveries(b: Backend) {
    let q = DurableQueue::new(
        b.store.clone(),
        QueueConfig {
            lease: LEASE,
            poll_interval: Duration::from_millis(20),
            instance: "bounded/1".into(),
            max_pending: 2,
        },
    );
    let journal: Arc<dyn Journal> = q.clone();
    let d = |id: &str| Delivery {
        id: id.into(),
        event: "ping".into(),
        action: None,
        payload: Bytes::from_static(b"{}"),
        received_at: Utc::now(),
        attempts: 0,
    };
    assert_eq!(journal.enqueue(d("one")).await, Ok(Enqueued::Accepted));
    assert_eq!(journal.enqueue(d("two")).await, Ok(Enqueued::Accepted));
    // Pending + running reached the bound: refused, not journaled.
    assert_eq!(journal.enqueue(d("three")).await, Err(JournalError::Full));
    assert!(b.store.get("three").await.unwrap().is_none());
    // A claimed delivery still counts (running); a finished one frees room.
    let got = journal.claim().await.unwrap();
    assert_eq!(journal.enqueue(d("three")).await, Err(JournalError::Full));
    journal.complete(&got.id).await;
    assert_eq!(journal.enqueue(d("three")).await, Ok(Enqueued::Accepted));
    q.close();
}

/// Handler that decodes the payload as the pipeline does and otherwise
/// succeeds: a transient error would be retried, a decode error never fixes
/// itself.
struct Decoding;

#[async_trait::async_trait]
impl Handler for Decoding {
    async fn handle(&self, d: &Delivery) -> anyhow::Result<()> {
        gitops_guard::github::event::decode(&d.event, &d.payload)?;
        Ok(())
    }
}

async fn undecodable_payload_is_dead_lettered_at_once(b: Backend) {
    let q = DurableQueue::new(
        b.store.clone(),
        QueueConfig {
            lease: LEASE,
            poll_interval: Duration::from_millis(20),
            instance: "poison".into(),
            max_pending: 10_000,
        },
    );
    let journal: Arc<dyn Journal> = q.clone();
    // A `pull_request` delivery without a `pull_request` object (poison)
    // next to a well-formed `ping` (the legitimate twin).
    let poison = NewDelivery {
        payload: Bytes::from_static(br#"{"action":"opened","number":1}"#),
        ..delivery("poison", "pull_request")
    };
    let good = NewDelivery {
        action: None,
        payload: Bytes::from_static(br#"{"zen":"Keep it logically awesome.","hook_id":1}"#),
        ..delivery("good", "ping")
    };
    q.enqueue(&poison).await.unwrap();
    q.enqueue(&good).await.unwrap();
    let workers = Workers::spawn(2, journal.clone(), Arc::new(Decoding));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = b.store.counts().await.unwrap();
        if c.dead == 1 && c.done == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "not settled: {c:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        workers
            .drain(journal.as_ref(), Duration::from_secs(10))
            .await
    );
    let rec = b.store.get("poison").await.unwrap().unwrap();
    assert_eq!(rec.state, State::Dead);
    assert_eq!(rec.attempts, 1, "a poison payload is not retried");
    let err = rec.last_error.unwrap_or_default();
    assert!(err.contains("pull_request"), "decode error kept: {err}");
    assert_eq!(
        b.store.get("good").await.unwrap().unwrap().state,
        State::Done
    );
}

/// `gitops-guard deliveries` (the real binary) over the same SQLite file.
#[tokio::test]
async fn deliveries_cli_binary_over_the_journal() {
    let b = store_support::sqlite(store_support::policy(1, 1000))
        .await
        .unwrap();
    let store_support::Reopen::Sqlite(path) = b.reopen.clone() else {
        unreachable!()
    };
    let s = &b.store;
    s.insert_if_absent(&delivery("cli-dead", "push"))
        .await
        .unwrap();
    s.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(
        s.fail("cli-dead", "w", "boom").await.unwrap(),
        FailOutcome::Dead
    );
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
            .arg("deliveries")
            .args(args)
            .env_remove("DATABASE_URL")
            .env("GITOPS_GUARD_DB", &path)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = cli(&["list", "--state", "dead"]);
    assert_eq!(code, 0);
    assert!(out.contains("cli-dead") && out.contains("boom"), "{out}");
    assert_eq!(cli(&["requeue", "cli-dead"]).0, 0);
    assert_eq!(
        s.get("cli-dead").await.unwrap().unwrap().state,
        State::Pending
    );
    let (code, out) = cli(&["show", "cli-dead"]);
    assert_eq!(code, 0);
    assert!(out.contains("state:           pending"), "{out}");
    assert_eq!(cli(&["show", "missing"]).0, 1);
    assert_eq!(cli(&["list", "--state", "bogus"]).0, 2);
}
