//! The rule catalogue: every stable rule id (DESIGN.md "Rule ids") with its
//! category, a one-line title, why it exists (the attack it stops), how to
//! fix a finding, and where it is documented.
//!
//! One static table feeds the README rule catalogue, SARIF rule metadata and
//! the fix hint of text output, so a rule is described in exactly one place.
//! Exceptions (`admission.exceptions[].rule`) are validated against it.

use std::fmt;

/// What part of the product a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Kubernetes Pod Security Standards (baseline and restricted).
    PodSecurity,
    /// Container image references.
    Images,
    /// Tenant scoping with Argo CD AppProject semantics.
    Tenants,
    /// Argo CD, Flux and RBAC hardening.
    Gitops,
    /// The organisation's own Kyverno `validate.pattern` policies.
    Kyverno,
    /// Files the engine could not evaluate.
    Input,
    /// Whole-change rules (a PR or `check --base`).
    Change,
    /// The gitops-guard configuration itself.
    Config,
    /// Pull-request review rules.
    Reviews,
    /// Commit signature rules.
    Signatures,
    /// Push alerts on protected branches.
    Pushes,
}

impl Category {
    /// Stable lowercase name (SARIF `properties.category`, README headings).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PodSecurity => "pod-security",
            Category::Images => "images",
            Category::Tenants => "tenants",
            Category::Gitops => "gitops",
            Category::Kyverno => "kyverno",
            Category::Input => "input",
            Category::Change => "change",
            Category::Config => "config",
            Category::Reviews => "reviews",
            Category::Signatures => "signatures",
            Category::Pushes => "pushes",
        }
    }

    /// Human heading for documentation.
    pub fn heading(self) -> &'static str {
        match self {
            Category::PodSecurity => "Pod Security Standards",
            Category::Images => "Images",
            Category::Tenants => "Tenant scoping",
            Category::Gitops => "GitOps and RBAC hardening",
            Category::Kyverno => "Kyverno policies",
            Category::Input => "Input",
            Category::Change => "Change-level",
            Category::Config => "Configuration",
            Category::Reviews => "Reviews",
            Category::Signatures => "Signatures",
            Category::Pushes => "Pushes",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything documented about one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id as used in output and exceptions.
    pub id: &'static str,
    /// Which part of the product owns the rule.
    pub category: Category,
    /// One line: what the rule reports.
    pub title: &'static str,
    /// A paragraph: the attack or accident the rule stops.
    pub why: &'static str,
    /// How to fix a finding (one or two sentences).
    pub fix: &'static str,
    /// Fragment of the rule's section in the README rule catalogue (no `#`).
    pub anchor: &'static str,
    /// Upstream reference (Kubernetes, Argo CD, Flux, GitHub docs), if any.
    pub reference: Option<&'static str>,
    /// Whether `admission.exceptions` may waive it. Rules about the trust
    /// root (config, policy changes) and about unreadable input are never
    /// waivable: waiving them would let a change hide from every other rule.
    pub waivable: bool,
}

impl RuleInfo {
    /// Absolute help URL for SARIF `helpUri`: `base` is the README URL.
    pub fn help_uri(&self, base: &str) -> String {
        format!("{base}#{}", self.anchor)
    }
}

const PSS: Option<&str> =
    Some("https://kubernetes.io/docs/concepts/security/pod-security-standards/");
const APPPROJECT: Option<&str> =
    Some("https://argo-cd.readthedocs.io/en/stable/user-guide/projects/");
const FLUX_MT: Option<&str> =
    Some("https://fluxcd.io/flux/installation/configuration/multitenancy/");
const RBAC: Option<&str> =
    Some("https://kubernetes.io/docs/concepts/security/rbac-good-practices/");
const PROTECTED_BRANCHES: Option<&str> = Some(
    "https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches",
);

/// The anchor for the `kyverno/<policy>/<rule>` family (GitHub's slug of
/// the "Kyverno policies" heading).
pub const KYVERNO_ANCHOR: &str = "kyverno-policies";

macro_rules! rule {
    ($id:literal, $cat:ident, $waivable:literal, $reference:expr,
     title: $title:literal, why: $why:literal, fix: $fix:literal $(,)?) => {
        RuleInfo {
            id: $id,
            category: Category::$cat,
            title: $title,
            why: $why,
            fix: $fix,
            anchor: $id,
            reference: $reference,
            waivable: $waivable,
        }
    };
}

static RULES: &[RuleInfo] = &[
    // ----- Pod Security Standards: baseline -----
    rule!("host-process", PodSecurity, true, PSS,
        title: "Windows HostProcess container",
        why: "A Windows HostProcess container (`securityContext.windowsOptions.hostProcess: true`, at pod or container level) runs as a process directly on the node, outside any container isolation, with the node's network and file system. Anyone who can deploy one owns the node and every workload and secret on it.",
        fix: "Remove `windowsOptions.hostProcess` or set it to `false` on the pod and on every container; run node agents from a platform-owned path with a documented exception instead."),
    rule!("host-namespaces", PodSecurity, true, PSS,
        title: "Pod shares the node's network, PID or IPC namespace",
        why: "`hostNetwork`, `hostPID` and `hostIPC` put the pod in the node's namespaces: it can sniff and spoof node traffic, reach services bound to localhost (kubelet, cloud metadata proxies), see and signal every process on the node, and read shared memory of other workloads. That breaks the isolation a tenant namespace is supposed to give.",
        fix: "Remove `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC` (or set them to `false`). If a node agent truly needs one, deploy it from a platform path and add an expiring exception naming it."),
    rule!("privileged", PodSecurity, true, PSS,
        title: "Privileged container",
        why: "`securityContext.privileged: true` gives a container all capabilities and access to every host device, and disables seccomp, AppArmor and SELinux confinement. Escaping to the node from a privileged container is trivial (mount the host disk, load a kernel module), so a single privileged pod in a tenant path compromises the cluster.",
        fix: "Remove `securityContext.privileged` or set it to `false` in every container, init container and ephemeral container; grant the specific capability the workload needs instead (and only from the baseline set)."),
    rule!("capabilities", PodSecurity, true, PSS,
        title: "Container adds Linux capabilities outside the allowed set",
        why: "Capabilities such as `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE` or `SYS_MODULE` are partial root on the node and well-known container escape paths. Baseline allows only the container runtime's default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT); restricted additionally requires `drop: [ALL]` and allows adding only NET_BIND_SERVICE. Any other spelling (`CAP_SYS_ADMIN`, lower case, `ALL`) is outside the allowlist and fails, exactly as Pod Security admission decides.",
        fix: "Remove the extra entries from `securityContext.capabilities.add`; for restricted, also set `capabilities.drop: [\"ALL\"]` in every container."),
    rule!("host-path", PodSecurity, true, PSS,
        title: "hostPath volume",
        why: "A `hostPath` volume mounts a directory of the node into the pod. Mounting `/`, `/var/run/docker.sock`, `/var/lib/kubelet` or `/etc` gives root on the node, and even a read-only mount leaks other tenants' secrets and service-account tokens.",
        fix: "Replace the `hostPath` volume with `emptyDir`, a `persistentVolumeClaim`, a `configMap`/`secret` or a CSI volume."),
    rule!("host-ports", PodSecurity, true, PSS,
        title: "Container binds a host port",
        why: "A non-zero `hostPort` binds the port on the node's address, bypassing Services and NetworkPolicies; a tenant can intercept traffic meant for another workload on that node or expose an internal service to the node network. `hostPort: 0` means unset and passes, as in Pod Security admission.",
        fix: "Remove `hostPort` from the container's `ports` and expose the workload through a Service (or an Ingress/Gateway)."),
    rule!("apparmor", PodSecurity, true, PSS,
        title: "AppArmor profile disabled or overridden",
        why: "Setting the AppArmor profile to `Unconfined` (field `securityContext.appArmorProfile.type`, or the `container.apparmor.security.beta.kubernetes.io/<container>` annotation on the pod template) removes the mandatory-access-control layer that blocks many container escapes. Only the runtime default and node-installed `Localhost` profiles are allowed.",
        fix: "Remove the override, or set `appArmorProfile.type: RuntimeDefault` (annotation value `runtime/default`), or a `Localhost` profile (`localhost/<profile>`)."),
    rule!("selinux", PodSecurity, true, PSS,
        title: "Custom SELinux user, role or type",
        why: "`seLinuxOptions` can move a container into an SELinux domain that is not confined like a container (for example `spc_t` or `unconfined_t`), which lets it touch node files and other containers. Only the container types (`container_t`, `container_init_t`, `container_kvm_t`, `container_engine_t`) are allowed, and `user`/`role` may not be set.",
        fix: "Remove `seLinuxOptions.type` (or use one of the container types) and remove `seLinuxOptions.user` and `seLinuxOptions.role`, at pod and container level."),
    rule!("proc-mount", PodSecurity, true, PSS,
        title: "Unmasked /proc mount",
        why: "`procMount: Unmasked` exposes the parts of `/proc` the runtime normally masks (kernel keys, sysrq, timer and memory information), which helps an attacker escape or attack the node.",
        fix: "Remove `securityContext.procMount` or set it to `Default`."),
    rule!("seccomp", PodSecurity, true, PSS,
        title: "Seccomp profile unconfined or missing",
        why: "Seccomp filters the kernel system calls a container may make; most kernel exploits used for container escapes need a syscall the runtime default profile blocks. Baseline forbids `type: Unconfined` at pod or container level; restricted also requires a profile to be set (`RuntimeDefault` or `Localhost`) at pod level or on every container. The legacy `seccomp.security.alpha.kubernetes.io` annotations are judged as the selected Pod Security version (`admission.version`) judges them; from v1.27 on they do nothing and are reported as a warning.",
        fix: "Set `spec.securityContext.seccompProfile.type: RuntimeDefault` on the pod (containers inherit it) and remove any container-level `Unconfined`."),
    rule!("sysctls", PodSecurity, true, PSS,
        title: "Unsafe sysctl",
        why: "Sysctls outside the namespaced safe set change kernel behaviour for the whole node (or leak across pods), so a tenant could degrade or attack other workloads. Only the safe set of Pod Security admission is allowed (for example `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range` and the later-added TCP keepalive and buffer sysctls).",
        fix: "Remove the sysctl from `spec.securityContext.sysctls`, or ask the platform team to set it on the nodes."),
    rule!("host-probes", PodSecurity, true, PSS,
        title: "Probe or lifecycle hook targets another host",
        why: "The kubelet runs `httpGet` and `tcpSocket` probes and lifecycle hooks from the node. A `host` field pointing elsewhere turns the kubelet into a proxy that reaches node-local and cluster-internal endpoints (cloud metadata, the API server, other tenants) with the node's network identity. Pod Security admission's `hostProbesAndHostLifecycle` control forbids any non-empty `host`.",
        fix: "Remove `host` from every `livenessProbe`, `readinessProbe`, `startupProbe` and `lifecycle.postStart`/`preStop` handler; the pod IP is used by default."),
    // ----- Pod Security Standards: restricted -----
    rule!("volume-types", PodSecurity, true, PSS,
        title: "Volume type not allowed by the restricted standard",
        why: "Besides `hostPath`, volume plugins such as `nfs`, `iscsi`, `rbd`, `cephfs`, `gitRepo` or `flexVolume` mount storage with the node's credentials or run code on the node, bypassing the storage access controls of the cluster. The restricted standard allows only `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `image`, `persistentVolumeClaim`, `projected` and `secret`.",
        fix: "Use a `persistentVolumeClaim` (with a StorageClass the platform provides) or one of the allowed volume types instead."),
    rule!("privilege-escalation", PodSecurity, true, PSS,
        title: "Privilege escalation not disabled",
        why: "Unless `allowPrivilegeEscalation` is explicitly `false`, a process in the container can gain more privileges than its parent through setuid binaries or file capabilities (the `no_new_privs` flag is not set), turning any foothold in the container into root inside it.",
        fix: "Set `securityContext.allowPrivilegeEscalation: false` in every container, init container and ephemeral container."),
    rule!("run-as-non-root", PodSecurity, true, PSS,
        title: "Containers may run as root",
        why: "A container running as UID 0 is root in the container and, after any escape or through a writable host mount, root on the node. `runAsNonRoot: true` makes the kubelet refuse to start a container whose image would run as root.",
        fix: "Set `spec.securityContext.runAsNonRoot: true` on the pod (or on every container) and make sure no container sets it to `false`; build the image with a non-root `USER`."),
    rule!("run-as-user", PodSecurity, true, PSS,
        title: "Container explicitly runs as UID 0",
        why: "`runAsUser: 0` forces the container to run as root whatever the image says, defeating `runAsNonRoot`.",
        fix: "Remove `runAsUser: 0` at pod and container level, or set a non-zero UID."),
    // ----- Images -----
    rule!("image-tag", Images, true, None,
        title: "Image uses `:latest` or no tag",
        why: "A mutable tag means the cluster runs whatever was pushed last, not what was reviewed: anyone who can push to the registry changes production without a pull request, and rollbacks are not reproducible. Pinning by digest (`@sha256:…`) or an immutable version tag keeps Git the source of truth.",
        fix: "Reference the image by digest (`image@sha256:<digest>`) or an immutable version tag such as `:1.4.2`."),
    rule!("image-registry", Images, true, None,
        title: "Image from a registry that is not allowed",
        why: "Images from arbitrary registries bypass the organisation's image scanning, signing and provenance controls; a typosquatted or attacker-controlled image runs with the workload's credentials. `admission.images.registries` lists the allowed registries (host or host/path prefixes); a bare name like `nginx` is `docker.io/library/nginx`.",
        fix: "Pull the image from an allowed registry (mirror it there if needed), or add the registry to `admission.images.registries` in the base-branch config."),
    // ----- Tenant scoping -----
    rule!("tenant-namespace", Tenants, true, APPPROJECT,
        title: "Object targets a namespace its AppProject does not allow",
        why: "Argo CD checks every namespaced object against the AppProject's `destinations` using the object's own namespace, so a manifest naming a foreign namespace is refused at sync time, or, with a permissive project, deploys into another team's namespace. Catching it in the pull request keeps a tenant inside its namespaces before anything reaches the cluster.",
        fix: "Use a namespace listed in the AppProject's `destinations` (or drop `metadata.namespace` so the binding's namespace applies), or move the file under the binding of the project that owns that namespace."),
    rule!("tenant-cluster-resource", Tenants, true, APPPROJECT,
        title: "Cluster-scoped object not allowed by the AppProject",
        why: "Cluster-scoped objects (Namespaces, ClusterRoles, CRDs, webhooks, …) affect every tenant. Argo CD allows them only when they match the AppProject's `clusterResourceWhitelist` (empty or absent means none) and not its blacklist; a tenant that can create a ClusterRoleBinding or a mutating webhook controls the cluster.",
        fix: "Remove the object, ask the platform team to own it, or add the exact group/kind to the project's `clusterResourceWhitelist` in a reviewed change to the base branch."),
    rule!("tenant-kind", Tenants, true, APPPROJECT,
        title: "Kind not permitted by the AppProject or of unknown scope",
        why: "The AppProject's `namespaceResourceWhitelist`/`Blacklist` limit which namespaced kinds a tenant may create (for example no RoleBindings or NetworkPolicies). A kind whose scope is unknown (no built-in entry and no CRD in the repository) cannot be checked safely, so it is reported rather than assumed namespaced.",
        fix: "Use a permitted kind, get the kind added to the project's whitelist, or add the CustomResourceDefinition to the repository so its scope is known."),
    rule!("tenant-source-repo", Tenants, true, APPPROJECT,
        title: "Repository not in the AppProject's sourceRepos",
        why: "Argo CD deploys a project only from the repositories in `sourceRepos` (globs, with `!` negation). A binding whose repository the project does not allow will fail to sync, and an Application pointing at an unexpected repository pulls manifests that were never reviewed here.",
        fix: "Point the binding (`tenants.bindings[].repo`) or the Application's `source.repoURL` at a repository listed in the project's `sourceRepos`."),
    rule!("unbound-path", Tenants, true, None,
        title: "Manifest under no tenant binding",
        why: "Every deployed path must belong to exactly one AppProject so its scope can be checked. A manifest outside all `tenants.bindings[].paths` is checked against no project, which is how an unscoped file slips cluster-wide objects past review.",
        fix: "Move the file under a bound path, add a binding for its directory in `tenants.bindings`, or exclude non-deployed files with `manifests.ignore`."),
    // ----- GitOps and RBAC hardening -----
    rule!("gitops-resource", Gitops, true, APPPROJECT,
        title: "Argo CD or Flux object in a tenant path",
        why: "Argo CD Applications, ApplicationSets and AppProjects and Flux Kustomizations, HelmReleases and sources control what gets deployed where and with which permissions. A tenant that can commit one can create a new deployment pipeline outside its project (or widen its own project); only bindings marked `platform: true` may hold them.",
        fix: "Move the object to the platform repository or a binding marked `platform: true`, and let the platform team review it."),
    rule!("appproject-wildcard", Gitops, true, APPPROJECT,
        title: "AppProject allows everything",
        why: "An AppProject with `sourceRepos: ['*']`, a `*` destination server or namespace, or a `*` cluster resource whitelist entry stops scoping anything: every tenant bound to it can deploy any repository into any namespace or create cluster-wide objects. Argo CD's own `default` project is like this, which is why tenants must not use it.",
        fix: "List the exact repositories, destination servers and namespaces, and only the cluster-scoped kinds the project needs."),
    rule!("auto-sync", Gitops, true, Some("https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/"),
        title: "Automated sync to a production destination",
        why: "With `syncPolicy.automated`, whatever lands on the tracked branch reaches production immediately, with no human in the loop after merge; combined with a review bypass or a compromised account this is direct production access. Namespaces matching `gitops.production` must be synced manually.",
        fix: "Remove `spec.syncPolicy.automated` (sync from the Argo CD UI or CLI), or target a non-production namespace."),
    rule!("argocd-anonymous", Gitops, true, Some("https://argo-cd.readthedocs.io/en/stable/operator-manual/user-management/"),
        title: "Argo CD anonymous access enabled",
        why: "`users.anonymous.enabled: \"true\"` in `argocd-cm` gives unauthenticated users the `policy.default` role: anyone who reaches the Argo CD server can list applications, read manifests (and their secrets) and, with a permissive default role, sync or delete them.",
        fix: "Remove `users.anonymous.enabled` from `argocd-cm` or set it to `\"false\"`, and set `policy.default` to `role:readonly` or empty."),
    rule!("argocd-rbac", Gitops, true, Some("https://argo-cd.readthedocs.io/en/stable/operator-manual/rbac/"),
        title: "Argo CD RBAC grants across projects",
        why: "A `policy.csv` line in `argocd-rbac-cm` whose object is `*` or `*/…`, or a `policy.default` of `role:admin`, gives a user or group power over every project's applications, repositories and clusters, so one compromised tenant account reaches all tenants.",
        fix: "Scope each `p,` line to one project (`<project>/*`) and keep cluster-wide roles for platform administrators only."),
    rule!("flux-service-account", Gitops, true, FLUX_MT,
        title: "Flux Kustomization or HelmRelease without serviceAccountName",
        why: "Without `spec.serviceAccountName`, the kustomize- and helm-controller apply the tenant's manifests with their own service account, which is cluster-admin unless the controllers run with `--default-service-account`. A tenant could then create any object anywhere.",
        fix: "Set `spec.serviceAccountName` to a service account in the object's namespace that has only the tenant's permissions."),
    rule!("flux-cross-namespace", Gitops, true, FLUX_MT,
        title: "Flux object references another namespace",
        why: "A `sourceRef` to another namespace (or a `targetNamespace` outside the tenant's namespaces) lets a tenant deploy from another team's source or into another team's namespace. Flux's multi-tenancy lockdown (`--no-cross-namespace-refs`) rejects this; the check catches it before the controller does, or where the lockdown is not enabled.",
        fix: "Reference sources in the object's own namespace and drop `targetNamespace` values outside the tenant's namespaces."),
    rule!("rbac-escalation", Gitops, true, RBAC,
        title: "RBAC grant that allows privilege escalation",
        why: "Binding `cluster-admin`, granting wildcard verbs or resources, or the `escalate`, `bind` and `impersonate` verbs lets the subject grant itself any permission, so a tenant (or a compromised workload's service account) becomes cluster administrator.",
        fix: "Bind a role with the exact verbs and resources needed; never grant `*`, `escalate`, `bind` or `impersonate` outside platform-owned paths."),
    rule!("plaintext-secret", Gitops, true, Some("https://kubernetes.io/docs/concepts/configuration/secret/"),
        title: "Secret with data committed to Git",
        why: "`data` is only base64, not encryption: a `Secret` with `data` or `stringData` in a Git repository is readable by everyone with read access, forever (history keeps it after deletion), and is copied into every fork and CI log.",
        fix: "Remove the secret and rotate it, then deliver it with SealedSecrets, SOPS, External Secrets or the CSI secrets store."),
    // ----- Input -----
    rule!("invalid-manifest", Input, false, None,
        title: "File cannot be read as Kubernetes manifests",
        why: "An unparsable document, a duplicate key, a non-object document or a file over the size, depth or alias limits cannot be evaluated. Duplicate keys are ambiguous (`privileged: false` then `privileged: true`: which one does the cluster use?) and alias bombs exhaust memory; passing such files silently would let them hide anything, so they fail the check.",
        fix: "Fix the YAML/JSON at the reported line: remove duplicate keys, give every document `apiVersion` and `kind`, and keep files within the limits."),
    rule!("unrendered-template", Input, false, None,
        title: "Templated file that cannot be evaluated",
        why: "Helm charts and other templated files (`{{ … }}`) only become manifests when rendered, so their security-relevant content is unknown here. They are reported rather than skipped, so a privileged pod cannot hide inside a template.",
        fix: "Commit the rendered manifests, or exclude the chart sources with `manifests.ignore` and check the rendered output in CI."),
    // ----- Change-level -----
    rule!("policy-change", Change, false, None,
        title: "The change edits the policy that guards it",
        why: "The config, CODEOWNERS, AppProjects and Kyverno policies decide how a change is judged. A pull request that edits them could otherwise approve itself, so it is always evaluated with the base-branch versions and flagged so reviewers look at the policy edit itself.",
        fix: "Nothing to fix in the manifests: have the policy owners review the policy edit, and ideally merge policy changes separately from manifest changes."),
    rule!("critical-deletion", Change, true, None,
        title: "A protected object is deleted",
        why: "With pruning enabled, removing a Namespace, CustomResourceDefinition, AppProject, Application, Flux Kustomization/HelmRelease, NetworkPolicy, quota, admission policy or persistent volume from Git deletes it in the cluster, and with it everything it contains or protects (all objects in the namespace, all custom resources of the CRD, all applications of the project, stored data). Objects moved to another file are not deletions.",
        fix: "If the deletion is intended, add an expiring `admission.exceptions` entry for `critical-deletion` naming the object in the base-branch config, then merge; otherwise restore the object."),
    // ----- Config -----
    rule!("config", Config, false, None,
        title: "Configuration error or exception housekeeping",
        why: "A config file with unknown keys, wrong types or bad globs cannot be trusted to express the policy its authors intended, so the check fails closed. Expired exceptions stop applying and are reported so they are renewed or removed deliberately.",
        fix: "Fix the key at the reported line of the config file; renew (with a new `expires`) or delete expired exceptions."),
    // ----- Reviews -----
    rule!("approvals", Reviews, false, Some("https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/reviewing-changes-in-pull-requests/approving-a-pull-request-with-required-reviews"),
        title: "Not enough qualifying approvals",
        why: "Requiring several independent approvals on the current head commit means one compromised or malicious account cannot ship a change alone. Approvals of older commits (when `dismiss_stale`) and approvals from people who committed to the pull request (when `ignore_contributors`) do not count, so a reviewer cannot approve a harmless commit and have a malicious one pushed after.",
        fix: "Get the missing approvals from reviewers who did not commit to the pull request, after the last push."),
    rule!("code-owners", Reviews, false, Some("https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners"),
        title: "A changed file lacks an approval from its code owner",
        why: "CODEOWNERS (read from the base branch, so a pull request cannot rewrite it) names who is responsible for each path; requiring their approval for every changed file means a team cannot change another team's manifests, and files nobody owns are refused when `unowned: deny`.",
        fix: "Ask an owner listed in the base branch's CODEOWNERS for each file to approve, or add an owner for unowned paths in a separate change."),
    // ----- Signatures -----
    rule!("unsigned-commit", Signatures, false, Some("https://docs.github.com/en/authentication/managing-commit-signature-verification/about-commit-signature-verification"),
        title: "Commit without a verified signature",
        why: "Author and committer names in Git are free text; only a signature GitHub verifies ties a commit to an account's key. Requiring verified signatures stops commits forged in someone else's name and makes a stolen session token (without the signing key) insufficient to push deployable code.",
        fix: "Sign your commits (`git config commit.gpgsign true` with a GPG, SSH or S/MIME key registered on GitHub), then rewrite the branch (`git rebase --exec 'git commit --amend --no-edit -S'`) and force-push the pull request."),
    // ----- Pushes -----
    rule!("force-push", Pushes, false, PROTECTED_BRANCHES,
        title: "History of a deployment branch rewritten",
        why: "A force-push to a protected deployment branch replaces reviewed history with commits that were never reviewed, and can remove the evidence of an earlier change. GitOps controllers deploy the new head immediately.",
        fix: "Investigate who pushed and why; restore the previous head (the alert names it) and forbid force-pushes in branch protection or rulesets."),
    rule!("branch-deleted", Pushes, false, PROTECTED_BRANCHES,
        title: "Deployment branch deleted",
        why: "Deleting a deployment branch makes Argo CD or Flux lose their source (and, depending on settings, prune what they deployed); it is either an accident or an attack on availability.",
        fix: "Restore the branch from the last known head named in the alert and forbid deletions in branch protection or rulesets."),
    rule!("direct-push", Pushes, false, PROTECTED_BRANCHES,
        title: "Commits pushed without a merged pull request",
        why: "A push to a deployment branch that is not the merge of a reviewed pull request bypasses every check of this App (admins or bypass lists can do this even with branch protection), and the controllers deploy it anyway.",
        fix: "Revert the pushed commits or review them after the fact in a pull request, and remove the bypass permission that allowed the push."),
    rule!("review-bypass", Pushes, false, PROTECTED_BRANCHES,
        title: "Pull request merged without passing review",
        why: "GitHub records a pull request as merged when an admin merges it past failing checks, or when its head is pushed to the base by hand, so 'it came from a merged PR' proves nothing by itself. Commits on a deployment branch count as reviewed only when this App's `gitops-guard/reviews` run on the pull request's final head concluded `success`; anything else deploys an unreviewed change.",
        fix: "Revert the merge (the alert's commands restore the previous head through a PR) or have the change approved after the fact, and remove the bypass or admin permission of whoever merged it."),
    rule!("unknown-author", Pushes, false, None,
        title: "Commit from an author outside the organisation",
        why: "A commit on a deployment branch whose author is neither an organisation member nor in `push.trusted_authors` indicates a leaked token, a compromised integration or an impersonated identity.",
        fix: "Verify the commit's origin; if legitimate, add the author to `push.trusted_authors` in the base-branch config, otherwise revert it and rotate credentials."),
    rule!("tag-push", Pushes, false, None,
        title: "Protected tag created, moved or deleted",
        why: "Flux and Argo CD can track tags (`ref.tag`, `targetRevision: v1.2.3`); whoever moves a protected tag deploys whatever commit it now names, without any pull request.",
        fix: "Check who pushed the tag and why; restore it to the previous commit named in the alert (`git push --force origin <sha>:refs/tags/<tag>`) and protect tags with a ruleset."),
    rule!("protection-weakened", Pushes, false, PROTECTED_BRANCHES,
        title: "Branch protection or ruleset weakened",
        why: "Lowering required reviews, removing required status checks (including this App's), allowing force-pushes or adding bypass actors silently disables the review gate for every later change; attackers do this first.",
        fix: "Restore the previous branch protection or ruleset settings (the alert lists what changed) and review who changed them."),
];

/// Every catalogued rule, in documentation order.
pub fn all() -> &'static [RuleInfo] {
    RULES
}

/// The catalogue entry for a rule id (`None` for unknown ids and for the
/// open-ended `kyverno/<policy>/<rule>` family, see [`kyverno_parts`]).
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// Splits `kyverno/<policy>/<rule>` into policy and rule names. The policy
/// is a Kubernetes object name (no `/`); the rule name is any non-empty text.
pub fn kyverno_parts(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("kyverno/")?;
    let (policy, rule) = rest.split_once('/')?;
    let valid_policy = !policy.is_empty()
        && policy.len() <= 253
        && policy
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let valid_rule = !rule.is_empty() && rule.len() <= 253 && !rule.chars().any(char::is_control);
    (valid_policy && valid_rule).then_some((policy, rule))
}

/// True for catalogued ids and well-formed `kyverno/<policy>/<rule>` ids.
pub fn is_known(id: &str) -> bool {
    lookup(id).is_some() || kyverno_parts(id).is_some()
}

/// Whether `admission.exceptions` may waive findings of this rule.
/// Kyverno rules are the organisation's own policies and are waivable.
pub fn is_waivable(id: &str) -> bool {
    match lookup(id) {
        Some(r) => r.waivable,
        None => kyverno_parts(id).is_some(),
    }
}

/// The fix hint for a rule id (Kyverno rules get a generic hint).
pub fn fix_hint(id: &str) -> &'static str {
    match lookup(id) {
        Some(r) => r.fix,
        None if kyverno_parts(id).is_some() => {
            "Change the object so it satisfies the Kyverno policy's pattern (see the policy's message), or add an expiring exception for this rule."
        }
        None => "",
    }
}

/// The README rule catalogue as Markdown: one section per category, one
/// heading per rule (its anchor is the rule id), then what, why and fix.
/// Generated from the table so the README cannot drift from the code.
pub fn render_markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut cat = None;
    for r in RULES {
        if cat != Some(r.category) {
            cat = Some(r.category);
            let _ = writeln!(out, "### {}\n", r.category.heading());
        }
        let _ = writeln!(out, "#### `{}`\n", r.id);
        let _ = writeln!(out, "**{}.** {}\n", r.title, r.why);
        let _ = writeln!(out, "*Fix:* {}\n", r.fix);
        if let Some(link) = r.reference {
            let _ = writeln!(out, "Reference: <{link}>\n");
        }
        if !r.waivable {
            let _ = writeln!(out, "Cannot be waived by `admission.exceptions`.\n");
        }
    }
    // The heading "Kyverno policies" gives GitHub's anchor KYVERNO_ANCHOR.
    let _ = writeln!(out, "### {}\n", Category::Kyverno.heading());
    let _ = writeln!(
        out,
        "#### `kyverno/<policy>/<rule>`\n\n\
         Each `validate.pattern` rule of the organisation's Kyverno `ClusterPolicy`/`Policy` \
         files (`admission.policies`, read from the base branch) is evaluated offline; a \
         failing object is reported under the policy's and rule's names with the policy's \
         message. The policies are the organisation's own admission rules, checked before \
         the manifest reaches the cluster.\n\n*Fix:* {}\n",
        fix_hint("kyverno/p/r")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every id DESIGN.md lists, spelled out independently of the table.
    const DESIGN_IDS: &[&str] = &[
        "host-process",
        "host-namespaces",
        "privileged",
        "capabilities",
        "host-path",
        "host-ports",
        "apparmor",
        "selinux",
        "proc-mount",
        "seccomp",
        "sysctls",
        "host-probes",
        "volume-types",
        "privilege-escalation",
        "run-as-non-root",
        "run-as-user",
        "image-tag",
        "image-registry",
        "tenant-namespace",
        "tenant-cluster-resource",
        "tenant-kind",
        "tenant-source-repo",
        "unbound-path",
        "gitops-resource",
        "appproject-wildcard",
        "auto-sync",
        "argocd-anonymous",
        "argocd-rbac",
        "flux-service-account",
        "flux-cross-namespace",
        "rbac-escalation",
        "plaintext-secret",
        "invalid-manifest",
        "unrendered-template",
        "policy-change",
        "critical-deletion",
        "config",
        "approvals",
        "code-owners",
        "unsigned-commit",
        "force-push",
        "tag-push",
        "branch-deleted",
        "direct-push",
        "review-bypass",
        "unknown-author",
        "protection-weakened",
    ];

    #[test]
    fn every_design_id_is_catalogued_and_nothing_else() {
        for id in DESIGN_IDS {
            assert!(lookup(id).is_some(), "{id} missing from the catalogue");
        }
        let design: HashSet<_> = DESIGN_IDS.iter().copied().collect();
        for r in all() {
            assert!(design.contains(r.id), "{} is not a DESIGN.md id", r.id);
        }
        assert_eq!(all().len(), DESIGN_IDS.len());
    }

    #[test]
    fn ids_are_unique_and_entries_complete() {
        let mut seen = HashSet::new();
        for r in all() {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            assert!(!r.title.is_empty() && !r.title.ends_with('.'), "{}", r.id);
            assert!(r.why.len() > 80, "{}: why too short", r.id);
            assert!(r.fix.len() > 20, "{}: fix too short", r.id);
            assert_eq!(r.anchor, r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn kyverno_ids() {
        assert!(is_known("kyverno/block-privileged/check-privileged"));
        assert_eq!(
            kyverno_parts("kyverno/block-privileged/rule with spaces"),
            Some(("block-privileged", "rule with spaces"))
        );
        assert!(!is_known("kyverno/"));
        assert!(!is_known("kyverno/policy"));
        assert!(!is_known("kyverno/policy/"));
        assert!(!is_known("kyverno//rule"));
        assert!(!is_known("kyverno/Bad_Name/rule"));
        assert!(!is_known("Privileged"));
        assert!(!is_known("privileged "));
        assert!(!is_known("*"));
        assert!(is_waivable("kyverno/p/r"));
        assert!(!fix_hint("kyverno/p/r").is_empty());
        assert_eq!(fix_hint("nope"), "");
    }

    #[test]
    fn trust_root_rules_are_not_waivable() {
        for id in [
            "config",
            "policy-change",
            "invalid-manifest",
            "unrendered-template",
        ] {
            assert!(!is_waivable(id), "{id}");
        }
        for id in [
            "privileged",
            "tenant-namespace",
            "critical-deletion",
            "image-tag",
        ] {
            assert!(is_waivable(id), "{id}");
        }
        assert!(!is_waivable("unknown-rule"));
    }

    #[test]
    fn markdown_has_every_rule_heading() {
        let md = render_markdown();
        for r in all() {
            assert!(md.contains(&format!("#### `{}`", r.id)), "{}", r.id);
        }
        assert!(md.contains("kyverno/<policy>/<rule>"));
        assert_eq!(
            lookup("privileged")
                .unwrap()
                .help_uri("https://x/README.md"),
            "https://x/README.md#privileged"
        );
    }
}
