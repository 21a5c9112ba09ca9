//! End-to-end tests of loading and evaluating policies.

use super::*;
use crate::engine::manifests::object::load_objects;
use crate::engine::yaml::Limits;

fn objects(y: &str) -> Vec<Object> {
    load_objects("x.yaml", y, &Limits::default()).objects
}

const POLICY: &str = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: no-priv
spec:
  validationFailureAction: enforce
  rules:
  - name: privileged
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "Pod {{ request.object.metadata.name }} must not be privileged."
      pattern:
        spec:
          containers:
          - =(securityContext):
              =(privileged): "false"
  - name: ports
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      failureAction: Audit
      message: "no host ports"
      deny:
        conditions:
          any:
          - key: "{{ request.object.spec.containers[].ports[].hostPort }}"
            operator: AnyNotIn
            value: [0]
"#;

fn policies(y: &str) -> (Vec<Policy>, Vec<PolicyProblem>) {
    load_policies(&objects(y))
}

#[test]
fn pod_violations_with_severity_message_and_line() {
    let (ps, problems) = policies(POLICY);
    assert!(problems.is_empty(), "{problems:?}");
    let pod = objects(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n    ports:\n    - hostPort: 80\n",
    );
    let r = evaluate(&ps, &pod[0]);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].rule.as_str(), "kyverno/no-priv/privileged");
    assert_eq!(r[0].severity, Severity::Error);
    assert_eq!(r[0].line, 9);
    assert_eq!(
        r[0].message,
        "validation error: Pod web must not be privileged. rule privileged failed at path /spec/containers/0/securityContext/privileged/"
    );
    assert_eq!(r[1].rule.as_str(), "kyverno/no-priv/ports");
    assert_eq!(r[1].severity, Severity::Warning);
    assert_eq!(r[1].message, "no host ports");
    let good = objects(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: false\n",
    );
    assert!(evaluate(&ps, &good[0]).is_empty());
}

#[test]
fn autogen_covers_controllers_under_the_pod_rule_id() {
    let (ps, _) = policies(POLICY);
    let dep = objects(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        securityContext:\n          privileged: true\n",
    );
    let r = evaluate(&ps, &dep[0]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].rule.as_str(), "kyverno/no-priv/privileged");
    assert!(
        r[0].message
            .contains("rule autogen-privileged failed at path /spec/template/spec/containers/0/")
    );
    assert_eq!(r[0].line, 11);
    let cj = objects(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: a\n            ports:\n            - hostPort: 8080\n",
    );
    let r = evaluate(&ps, &cj[0]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].rule.as_str(), "kyverno/no-priv/ports");
    // a Service is not a pod controller
    let svc =
        objects("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  containers: x\n");
    assert!(evaluate(&ps, &svc[0]).is_empty());
}

#[test]
fn autogen_annotation_narrows_or_disables() {
    let none = POLICY.replace(
        "  name: no-priv\n",
        "  name: no-priv\n  annotations:\n    pod-policies.kyverno.io/autogen-controllers: none\n",
    );
    let (ps, _) = policies(&none);
    let dep = objects(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        securityContext:\n          privileged: true\n",
    );
    assert!(evaluate(&ps, &dep[0]).is_empty());
    let only_cj = POLICY.replace(
        "  name: no-priv\n",
        "  name: no-priv\n  annotations:\n    pod-policies.kyverno.io/autogen-controllers: CronJob\n",
    );
    let (ps, _) = policies(&only_cj);
    assert!(evaluate(&ps, &dep[0]).is_empty());
    let (ps, _) = policies(POLICY);
    assert_eq!(evaluate(&ps, &dep[0]).len(), 1);
}

#[test]
fn exclude_and_preconditions() {
    let y = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  validationFailureAction: Audit
  rules:
  - name: r
    match:
      any:
      - resources: {kinds: [Pod]}
    exclude:
      any:
      - resources: {namespaces: [kube-system]}
    preconditions:
      all:
      - key: "{{ request.object.metadata.labels.app || '' }}"
        operator: NotEquals
        value: skip-me
    validate:
      pattern:
        spec:
          hostNetwork: false
"#;
    let (ps, problems) = policies(y);
    assert!(problems.is_empty());
    let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: prod\nspec:\n  hostNetwork: true\n";
    let r = evaluate(&ps, &objects(bad)[0]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].severity, Severity::Warning);
    assert!(
        r[0].message
            .starts_with("validation error: rule r failed at path /spec/hostNetwork/")
    );
    let excluded = bad.replace("prod", "kube-system");
    assert!(evaluate(&ps, &objects(&excluded)[0]).is_empty());
    let skipped = bad.replace(
        "namespace: prod",
        "namespace: prod\n  labels: {app: skip-me}",
    );
    assert!(evaluate(&ps, &objects(&skipped)[0]).is_empty());
}

#[test]
fn unsupported_constructs_are_reported_never_skipped_silently() {
    let y = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
  - name: m
    match: {any: [{resources: {kinds: [Pod]}}]}
    mutate:
      patchStrategicMerge: {metadata: {labels: {a: b}}}
  - name: c
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      cel:
        expressions: [{expression: "true"}]
  - name: ctx
    match: {any: [{resources: {kinds: [Pod]}}]}
    context:
    - name: cm
      configMap: {name: x, namespace: y}
    validate:
      deny: {}
  - name: f
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      deny:
        conditions:
          all:
          - key: "{{ images.containers | lookup(@, 'x') }}"
            operator: Equals
            value: x
  - name: op
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      deny:
        conditions:
          all:
          - key: a
            operator: Matches
            value: b
  - name: ok
    match: {any: [{resources: {kinds: [Pod]}, subjects: [{kind: User, name: bob}]}]}
    validate:
      pattern: {spec: {hostPID: "false"}}
"#;
    let (ps, problems) = policies(y);
    let named = |rule: &str, what: &str| {
        problems
            .iter()
            .any(|p| p.policy == "p" && p.rule.as_deref() == Some(rule) && p.message.contains(what))
    };
    assert!(named("m", "mutate"), "{problems:?}");
    assert!(named("c", "CEL"));
    assert!(named("ctx", "context"));
    assert!(named("f", "lookup"));
    assert!(named("op", "Matches"));
    assert!(named("ok", "subjects"));
    // only the last rule (and its autogen forms) is evaluated
    assert!(ps[0].rules.iter().all(|r| r.name == "ok"));
}

#[test]
fn podsecurity_goes_through_the_seam() {
    let y = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: pss}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: baseline\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n      podSecurity: {level: baseline, version: latest}\n";
    let (ps, problems) = policies(y);
    assert!(problems.is_empty());
    let pod = objects("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: true\n");
    let fake = |_: &Object, _: crate::engine::config::PssLevel| {
        vec![crate::engine::manifests::violation::Violation::new(
            "host-namespaces",
            5,
            "hostPID=true",
        )]
    };
    let r = evaluate_with_pss(&ps, &pod[0], &fake);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].line, 5);
    assert!(r[0].message.contains("baseline:latest"));
    let clean = |_: &Object, _: crate::engine::config::PssLevel| Vec::new();
    assert!(evaluate_with_pss(&ps, &pod[0], &clean).is_empty());
    // without the engine: fail closed
    let r = evaluate(&ps, &pod[0]);
    assert!(r[0].error);
}

#[test]
fn namespaced_policy_applies_only_in_its_namespace() {
    let y = POLICY
        .replace("kind: ClusterPolicy", "kind: Policy")
        .replace(
            "  name: no-priv\n",
            "  name: no-priv\n  namespace: team-a\n",
        );
    let (ps, _) = policies(&y);
    let pod = |ns: &str| {
        objects(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\n  namespace: {ns}\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n"
        ))
    };
    assert_eq!(evaluate(&ps, &pod("team-a")[0]).len(), 1);
    assert!(evaluate(&ps, &pod("team-b")[0]).is_empty());
}

#[test]
fn foreach_deny_per_element() {
    let y = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: drop}
spec:
  validationFailureAction: Enforce
  rules:
  - name: drop-all
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      message: "Containers must drop `ALL` capabilities."
      foreach:
      - list: request.object.spec.[ephemeralContainers, initContainers, containers][]
        deny:
          conditions:
            all:
            - key: ALL
              operator: AnyNotIn
              value: "{{ element.securityContext.capabilities.drop[] || `[]` }}"
"#;
    let (ps, problems) = policies(y);
    assert!(problems.is_empty(), "{problems:?}");
    let good = objects(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: a\n    securityContext: {capabilities: {drop: [ALL]}}\n",
    );
    assert!(evaluate(&ps, &good[0]).is_empty());
    let bad = objects(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: a\n    securityContext: {capabilities: {drop: [ALL]}}\n  - name: b\n",
    );
    let r = evaluate(&ps, &bad[0]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].message, "Containers must drop `ALL` capabilities.");
}
