// The TraceJob reconciler. Level-based: it reads the TraceJob and the world
// and moves one step toward "this generation has run once and its result is
// recorded". Progress lives in status, so a restarted operator resumes.
//
//   new generation → validate → Accepted → resolve targets → node jobs created
//   (Running) → agent attached → jobs finish → results collected → Succeeded/Failed
import type { Logger } from 'pino';
import type { TraceJob, TraceJobStatus, Phase } from '../api/tracejob.js';
import { parseDuration } from '../api/duration.js';
import type { V1Job } from '@kubernetes/client-node';
import type { AgentConfig, AgentMessage } from '../agent/protocol.js';
import { AGENT_LOG_LIMIT_BYTES, AgentLogDecoder } from '../agent/protocol.js';
import type { OperatorConfig } from './config.js';
import { COND, getCondition, setCondition, statusMessage } from './conditions.js';
import { checkHostNamespaces, checkNamespaceConsent, checkSpecPolicy } from './policy.js';
import { groupByNode, labelSelectorString, resolvePodTarget, type ResolvedPodTarget } from './targets.js';
import { validateSpec } from './validate.js';
import { agentChannelKey, desiredNodeJob } from './node-job.js';
import { FINALIZER, LABELS, nodeJobName, preflightJobName, resultConfigMapName } from './names.js';
import { debuginfoForRun, isSystemtapRun, type NodeJobExtras, type RunDebuginfo } from './debuginfo-for-run.js';
import { observeNodeJob, latestMessages, type NodeJobVerdict } from './job-status.js';
import { buildResultConfigMap, resultConfigMapConflict, resultConfigMapVerdict, type NodeResult } from './collect.js';
import { JobNameConflict, type TraceJobPort } from './port.js';
import { capabilityConfigMap, capabilityConfigMapName, reportFromConfigMap, shouldWriteReport } from './capabilities.js';
import { guruAllowedFor } from '../systemtap/policy.js';
import { AdmissionQueue, QUEUED_REASON, checkMaxDuration, runSlotOf } from './admission.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface RunObserver {
  /** A run reached a terminal phase; seconds from acceptance to the end. */
  finished?(tj: TraceJob, phase: Phase, reason: string, seconds: number | undefined): void;
  /** A node job ended in failure (per node job, with the agent's reason). */
  nodeJobFailed?(reason: string): void;
  /** The result ConfigMap was written: its size, cuts made to fit, documents that did not parse. */
  resultWritten?(bytes: number, truncations: number, unparseable: number): void;
}

export interface ReconcilerDeps {
  port: TraceJobPort;
  config: OperatorConfig;
  log: Logger;
  now?: () => Date;
  /** Metrics hooks; all optional. */
  observe?: RunObserver;
  /** Admission to policy.maxConcurrentRuns; one per process (made on first use when absent). */
  admission?: AdmissionQueue;
}

/** How often a run waiting for a slot looks again (slots free when runs finish). */
const QUEUED_RECHECK_MS = 2000;

const TERMINAL: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);
/** How long a new run waits for the garbage collector to remove a deleted namesake's result ConfigMap. */
const RESULT_GC_WAIT_SECONDS = 30;
/** How long a stopped run waits for the agents' partial results before giving up on them. */
const STOP_WAIT_SECONDS = 40;

export class TraceJobReconciler {
  private readonly now: () => Date;
  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    // Shared with the per-reconcile copies made in reconcile(): decisions must see each other.
    deps.admission ??= new AdmissionQueue();
  }

  async reconcile(namespace: string, name: string, log?: Logger): Promise<ReconcileResult> {
    // Per-reconcile logger (key + reconcileID) when the runtime provides one.
    if (log) return new TraceJobReconciler({ ...this.deps, log }).reconcile(namespace, name);
    const { port } = this.deps;
    let tj = await port.getTraceJob(namespace, name);
    if (!tj) return {};

    if (tj.metadata.deletionTimestamp) return this.finalize(tj);
    if (!(tj.metadata.finalizers ?? []).includes(FINALIZER)) {
      tj = await port.setFinalizers(tj, [...(tj.metadata.finalizers ?? []), FINALIZER]);
    }

    const generation = tj.metadata.generation ?? 1;
    if (tj.status?.observedGeneration !== generation) return this.startRun(tj, generation);

    const phase = tj.status?.phase;
    if (phase && TERMINAL.has(phase)) return this.afterFinish(tj);
    if (phase === 'Pending') return this.launch(tj);
    if (phase === 'Running') return this.watchRun(tj);
    return {};
  }

  // ---- deletion -----------------------------------------------------------

  private async finalize(tj: TraceJob): Promise<ReconcileResult> {
    const { port, log } = this.deps;
    // Owner references cannot cross namespaces: node jobs are removed by hand.
    for (const job of await port.listNodeJobs(tj.metadata.uid)) {
      const jobName = job.metadata?.name;
      if (jobName) {
        await port.deleteJob(jobName);
        log.info({ job: jobName }, 'Deleted node Job of deleted TraceJob');
      }
    }
    const finalizers = (tj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    if (finalizers.length !== (tj.metadata.finalizers ?? []).length) await port.setFinalizers(tj, finalizers);
    return {};
  }

  // ---- a new generation ---------------------------------------------------

  private async startRun(tj: TraceJob, generation: number): Promise<ReconcileResult> {
    const { port, config, log } = this.deps;
    const now = this.now().toISOString();
    // Editing the spec starts a new run: anything left from an older one goes.
    // Only other generations: a stale cache may bring us here after this
    // generation's jobs were created, and they must survive.
    for (const job of await port.listNodeJobs(tj.metadata.uid)) {
      const jobGeneration = job.metadata?.labels?.[LABELS.generation];
      if (job.metadata?.name && jobGeneration !== String(generation)) await port.deleteJob(job.metadata.name);
    }
    const base: TraceJobStatus = { observedGeneration: generation, conditions: [], timing: { accepted: now } };

    const validation = validateSpec(tj.spec);
    if (!validation.ok) {
      const status = this.terminal(base, 'Failed', 'Invalid', validation.message, generation, now);
      status.conditions = setCondition(status.conditions, { type: COND.Accepted, status: 'False', reason: 'Invalid', message: validation.message, observedGeneration: generation }, now);
      await port.replaceStatus(tj, status);
      await port.event(tj, 'Warning', 'Invalid', validation.message);
      log.info({ reason: 'Invalid', message: validation.message }, 'Rejected TraceJob');
      this.deps.observe?.finished?.(tj, 'Failed', 'Invalid', 0);
      return {};
    }
    const spec = validation.spec;
    const policy = checkSpecPolicy(tj.metadata.namespace, spec, config.policy);
    if (!policy.allowed) return this.fail(tj, base, 'PolicyDenied', policy.message, generation);

    const status: TraceJobStatus = {
      ...base,
      phase: 'Pending',
      target: describeTarget(tj),
      conditions: setCondition([], { type: COND.Accepted, status: 'True', reason: 'Accepted', message: `probe ${spec.probe.type} for ${spec.duration}`, observedGeneration: generation }, now),
    };
    tj = await port.replaceStatus(tj, status);
    await port.event(tj, 'Normal', 'Accepted', `Accepted ${spec.probe.type} trace of ${status.target} for ${spec.duration}`);
    log.info({ generation }, 'Accepted TraceJob');
    return this.launch(tj);
  }

  // ---- resolve targets and create node jobs -------------------------------

  private async launch(tj: TraceJob): Promise<ReconcileResult> {
    const { port, config, log } = this.deps;
    const generation = tj.metadata.generation ?? 1;
    const validation = validateSpec(tj.spec);
    if (!validation.ok) return this.fail(tj, tj.status ?? {}, 'Invalid', validation.message, generation);
    const spec = validation.spec;
    const now = this.now().toISOString();
    // Policy may have changed since acceptance (a Pending run resumed after an operator restart or upgrade).
    const policy = checkSpecPolicy(tj.metadata.namespace, spec, config.policy);
    if (!policy.allowed) return this.fail(tj, tj.status ?? {}, 'PolicyDenied', policy.message, generation);
    // Duration and the cluster/namespace limits first: a queued run costs no target lookups.
    const gated = await this.admission(tj, spec.duration, undefined, generation, now);
    if (gated) return gated;
    // Never trace into someone else's ConfigMap: refuse before any node job exists.
    const cmName = resultConfigMapName(tj.metadata.name, spec.output.configMapName);
    const cm = resultConfigMapVerdict(await port.getConfigMap(tj.metadata.namespace, cmName), tj);
    const waitedMs = this.now().getTime() - Date.parse(tj.status?.timing?.accepted ?? now);
    if (cm.kind === 'wait' && waitedMs < RESULT_GC_WAIT_SECONDS * 1000) return { requeueAfterMs: 1000 };
    if (cm.kind !== 'ok') return this.fail(tj, tj.status ?? {}, 'ResultConflict', cm.message, generation);

    let byNode: Map<string, ResolvedPodTarget[]>;
    if (spec.target.node) {
      byNode = new Map([[spec.target.node.name, []]]);
    } else {
      const targetNs = spec.target.pod?.namespace ?? spec.target.selector?.namespace ?? tj.metadata.namespace;
      if (targetNs !== tj.metadata.namespace) {
        const ns = await port.getNamespace(targetNs);
        const consent = checkNamespaceConsent(tj.metadata.namespace, targetNs, ns?.metadata?.annotations, config.policy.consentAnnotation);
        if (!consent.allowed) return this.fail(tj, tj.status ?? {}, 'PolicyDenied', consent.message, generation);
      }
      const targets: ResolvedPodTarget[] = [];
      if (spec.target.pod) {
        const ref = { name: spec.target.pod.name, namespace: targetNs, container: spec.target.pod.container };
        const res = resolvePodTarget(await port.getPod(targetNs, ref.name), ref);
        if (!res.ok) return this.fail(tj, tj.status ?? {}, res.reason, res.message, generation);
        targets.push(res.target);
      } else if (spec.target.selector) {
        const selector = labelSelectorString(spec.target.selector);
        const pods = await port.listPods(targetNs, selector);
        const skipped: string[] = [];
        for (const pod of pods) {
          const ref = { name: pod.metadata?.name ?? '', namespace: targetNs, container: spec.target.selector.container };
          const res = resolvePodTarget(pod, ref);
          if (res.ok) targets.push(res.target);
          else skipped.push(res.message);
        }
        if (targets.length === 0) {
          const why = skipped.length ? `: ${skipped.slice(0, 3).join('; ')}` : '';
          return this.fail(tj, tj.status ?? {}, 'NoMatchingPods', `no running pod in ${targetNs} matches ${selector}${why}`, generation);
        }
      }
      const hostNs = checkHostNamespaces(tj.metadata.namespace, targets, config.policy);
      if (!hostNs.allowed) return this.fail(tj, tj.status ?? {}, 'PolicyDenied', hostNs.message, generation);
      byNode = groupByNode(targets);
    }
    const queued = await this.admission(tj, spec.duration, [...byNode.keys()], generation, now);
    if (queued) return queued;

    // SystemTap runs: what each node needs for debuginfo/headers, from its capability report
    // (refreshed by a preflight-only job when missing or stale).
    const extrasByNode = new Map<string, NodeJobExtras>();
    let conditions = tj.status?.conditions;
    if (isSystemtapRun(spec.backend, spec.probe.type)) {
      const plans = await this.debuginfoPlans(tj, spec.backend, spec.probe.type, [...byNode.keys()]);
      if ('fail' in plans) return this.fail(tj, tj.status ?? {}, plans.fail.reason, plans.fail.message, generation);
      if ('waiting' in plans) {
        const next = setCondition(conditions, { type: COND.NodeCapabilities, status: 'Unknown', reason: 'Probing', message: plans.waiting, observedGeneration: generation }, now);
        if (JSON.stringify(next) !== JSON.stringify(conditions)) await port.replaceStatus(tj, { ...tj.status, conditions: next });
        return { requeueAfterMs: 1000 };
      }
      const notes: string[] = [];
      for (const [node, plan] of plans.byNode) {
        if (plan.kind === 'unavailable') {
          const message = `node ${node}: ${plan.message}`;
          return this.fail(tj, tj.status ?? {}, 'DebuginfoUnavailable', message, generation);
        }
        if (plan.kind === 'extras') {
          extrasByNode.set(node, plan.extras);
          notes.push(...plan.extras.notes.map((n) => `${node}: ${n}`));
        }
      }
      conditions = setCondition(conditions, { type: COND.NodeCapabilities, status: 'True', reason: 'Reported', message: 'node capability report is fresh', observedGeneration: generation }, now);
      if (extrasByNode.size > 0) {
        const fetching = [...extrasByNode.values()].some((x) => x.initContainers.length > 0);
        conditions = setCondition(conditions, { type: COND.Debuginfo, status: fetching ? 'Unknown' : 'True', reason: fetching ? 'Fetching' : 'HostFiles', message: notes.join('; ').slice(0, 1024) || 'the node has debuginfo and headers', observedGeneration: generation }, now);
      }
    }

    const durationSeconds = (parseDuration(spec.duration) ?? 30_000) / 1000;
    const nodeJobs: Array<{ name: string; node: string }> = [];
    for (const [node, targets] of byNode) {
      const extras = extrasByNode.get(node);
      const agentConfig: AgentConfig = {
        traceJob: { namespace: tj.metadata.namespace, name: tj.metadata.name, uid: tj.metadata.uid, generation },
        nodeName: node,
        probe: { type: spec.probe.type, params: spec.probe.params ?? {}, ...(spec.probe.program ? { program: spec.probe.program } : {}) },
        backend: spec.backend,
        durationSeconds,
        topN: spec.output.topN,
        maxEvents: spec.output.maxEvents,
        targets: targets.map((t) => ({ pod: t.pod, namespace: t.namespace, container: t.container, containerID: t.containerID })),
        // SystemTap guru mode (-g) only when requested AND allowed by policy.systemtapGuruNamespaces (issue 6).
        ...(guruAllowedFor(tj.metadata.namespace, spec, config.policy) ? { guruAllowed: true } : {}),
        ...(extras && Object.keys(extras.agent).length > 0 ? { debuginfo: extras.agent } : {}),
      };
      const job = desiredNodeJob({ traceJob: agentConfig.traceJob, node, agentConfig, durationSeconds, config, ...(extras ? { extras } : {}) });
      let created;
      try {
        created = await port.createJob(job);
      } catch (e) {
        if (e instanceof JobNameConflict) return this.fail(tj, tj.status ?? {}, 'NodeJobConflict', e.message, generation);
        throw e;
      }
      nodeJobs.push({ name: created.metadata?.name ?? nodeJobName(tj.metadata.uid, generation, node), node });
      log.info({ job: created.metadata?.name, node }, 'Created node Job');
    }

    const allTargets = [...byNode.values()].flat();
    conditions = setCondition(conditions, { type: COND.TargetResolved, status: 'True', reason: 'Resolved', message: `${allTargets.length || 'node-wide'} target(s) on ${byNode.size} node(s)`, observedGeneration: generation }, now);
    conditions = setCondition(conditions, { type: COND.NodeJobCreated, status: 'True', reason: 'Created', message: nodeJobs.map((j) => j.name).join(', '), observedGeneration: generation }, now);
    conditions = setCondition(conditions, { type: COND.Attached, status: 'Unknown', reason: 'Waiting', message: 'waiting for the tracer to attach', observedGeneration: generation }, now);
    const status: TraceJobStatus = {
      ...tj.status,
      phase: 'Running',
      conditions,
      node: [...byNode.keys()].join(','),
      nodeJobs,
      targets: allTargets.map((t) => ({ pod: t.pod, namespace: t.namespace, container: t.container, containerID: t.containerID, node: t.node })),
      timing: { ...tj.status?.timing, nodeJobCreated: now },
    };
    tj = await port.replaceStatus(tj, status);
    await port.event(tj, 'Normal', 'NodeJobCreated', `Created node job(s) ${nodeJobs.map((j) => `${j.name} on ${j.node}`).join(', ')}`);
    return { requeueAfterMs: config.runningPollSeconds * 1000 };
  }

  // ---- admission (policy.maxConcurrentRuns, policy.maxDurationSeconds) -------

  /**
   * Undefined when the run may go on. Without `nodes` (targets not resolved yet)
   * only the duration and the cluster/namespace limits are checked; with them,
   * the node limits too, and an admitted run keeps its slot (condition Admitted,
   * set on `tj.status` for the status write that follows). A run over a limit
   * stays Pending with Admitted=False naming the limit and its queue position.
   */
  private async admission(tj: TraceJob, duration: string, nodes: string[] | undefined, generation: number, now: string): Promise<ReconcileResult | undefined> {
    const { port, config } = this.deps;
    if (!nodes) {
      const allowed = checkMaxDuration(tj.metadata.namespace, duration, config.policy.maxDurationSeconds);
      if (!allowed.allowed) return this.fail(tj, tj.status ?? {}, 'PolicyDenied', allowed.message, generation);
    }
    const runs = await port.listTraceJobs();
    const verdict = this.deps.admission!.decide(runSlotOf(tj, nodes ?? []), runs, config.policy.maxConcurrentRuns, this.now().getTime(), nodes !== undefined);
    const conditions = tj.status?.conditions;
    if (verdict.admitted) {
      if (nodes) {
        const message = 'within policy.maxConcurrentRuns';
        tj.status = { ...tj.status, conditions: setCondition(conditions, { type: COND.Admitted, status: 'True', reason: 'Admitted', message, observedGeneration: generation }, now) };
      }
      return undefined;
    }
    const wasQueued = conditions?.some((c) => c.type === COND.Admitted && c.reason === QUEUED_REASON);
    const next = setCondition(conditions, { type: COND.Admitted, status: 'False', reason: QUEUED_REASON, message: verdict.message, observedGeneration: generation }, now);
    // The nodes it waits for, so runs queued behind it on a node limit see it.
    const node = nodes?.length ? nodes.join(',') : tj.status?.node;
    if (JSON.stringify(next) !== JSON.stringify(conditions) || node !== tj.status?.node) {
      await port.replaceStatus(tj, { ...tj.status, conditions: next, ...(node ? { node } : {}) });
    }
    if (!wasQueued) await port.event(tj, 'Normal', QUEUED_REASON, verdict.message);
    return { requeueAfterMs: QUEUED_RECHECK_MS };
  }

  // ---- node capability reports and debuginfo (SystemTap runs) --------------

  /**
   * The debuginfo plan per node. A node without a fresh capability report gets a
   * preflight-only job first (its report is written when it finishes); until all
   * reports are in, `waiting`.
   */
  private async debuginfoPlans(
    tj: TraceJob,
    backend: 'auto' | 'bpftrace' | 'systemtap',
    probeType: string,
    nodes: string[],
  ): Promise<{ byNode: Map<string, RunDebuginfo> } | { waiting: string } | { fail: { reason: string; message: string } }> {
    const { port, config } = this.deps;
    const generation = tj.metadata.generation ?? 1;
    const nowDate = this.now();
    const byNode = new Map<string, RunDebuginfo>();
    const probing: string[] = [];
    for (const node of nodes) {
      let report = reportFromConfigMap(await port.getOperatorConfigMap(capabilityConfigMapName(node)));
      let plan = debuginfoForRun({ backend, probeType, report, now: nowDate, config });
      if (plan.kind === 'needReport') {
        const jobName = preflightJobName(tj.metadata.uid, generation, node);
        const job = await port.getJob(jobName);
        if (!job) {
          const agentConfig: AgentConfig = {
            traceJob: { namespace: tj.metadata.namespace, name: tj.metadata.name, uid: tj.metadata.uid, generation },
            nodeName: node,
            probe: { type: probeType, params: {} },
            backend,
            durationSeconds: 1,
            targets: [],
            mode: 'preflight',
          };
          try {
            await port.createJob(desiredNodeJob({ traceJob: agentConfig.traceJob, node, agentConfig, durationSeconds: 0, config }));
          } catch (e) {
            if (e instanceof JobNameConflict) return { fail: { reason: 'NodeJobConflict', message: e.message } };
            throw e;
          }
          await port.event(tj, 'Normal', 'Probing', `Refreshing the capability report of node ${node}: ${plan.why}`);
          probing.push(node);
          continue;
        }
        const pod = newestPod(await port.listJobPods(jobName));
        const verdict = observeNodeJob(job, pod, nowDate.getTime(), config.pendingTimeoutSeconds * 1000);
        if (verdict.state === 'pending' || verdict.state === 'running') {
          probing.push(node);
          continue;
        }
        const podName = pod?.metadata?.name;
        const read = podName ? await this.readAgentLog(job, podName) : undefined;
        const preflight = read ? latestMessages(read.messages).preflight : undefined;
        await port.deleteJob(jobName);
        if (verdict.state !== 'succeeded' || !preflight) {
          const why = verdict.state !== 'succeeded' ? verdict.message : read?.error !== undefined ? `its log cannot be read: ${read.error}` : 'it printed no report';
          // A missing image or unschedulable node keeps its own reason: the fix is the same as for a trace.
          const reason = verdict.state === 'stuck' ? verdict.reason : 'PreflightFailed';
          return { fail: { reason, message: `cannot refresh the capability report of node ${node}: ${why}` } };
        }
        // Only a report that passes the shared schema is stored and planned from.
        const cm = capabilityConfigMap(preflight.caps, node, nowDate, config.namespace);
        if (!cm.ok) return { fail: { reason: 'PreflightFailed', message: `cannot refresh the capability report of node ${node}: ${cm.error}` } };
        await port.applyConfigMap(cm.configMap);
        report = cm.report;
        plan = debuginfoForRun({ backend, probeType, report, now: nowDate, config });
      }
      byNode.set(node, plan);
    }
    if (probing.length > 0) return { waiting: `refreshing the capability report of ${probing.join(', ')}` };
    return { byNode };
  }

  // ---- watch a running trace ------------------------------------------------

  private async watchRun(tj: TraceJob): Promise<ReconcileResult> {
    const { port, config } = this.deps;
    const generation = tj.metadata.generation ?? 1;
    const nowDate = this.now();
    const now = nowDate.toISOString();
    const refs = tj.status?.nodeJobs ?? [];
    if (refs.length === 0) return this.fail(tj, tj.status ?? {}, 'NodeJobLost', 'status lists no node jobs for a running trace', generation);

    // Consent or policy can be withdrawn while a trace runs: stop the agents
    // (SIGTERM: they end the trace and print what they have), then collect.
    const stopping = getCondition(tj.status?.conditions, COND.Stopping);
    if (!stopping) {
      const revoked = await this.revoked(tj);
      if (revoked) {
        for (const ref of refs) await port.stopJob(ref.name);
        const conditions = setCondition(tj.status?.conditions, { type: COND.Stopping, status: 'True', reason: revoked.reason, message: revoked.message, observedGeneration: generation }, now);
        await port.replaceStatus(tj, { ...tj.status, conditions });
        await port.event(tj, 'Warning', revoked.reason, `Stopping the trace: ${revoked.message}`);
        this.deps.log.info(revoked, 'Stopping a running trace');
        return { requeueAfterMs: 1000 };
      }
    }

    const results: NodeResult[] = [];
    let allDone = true;
    let firstFailure: { reason: string; message: string } | undefined = stopping
      ? { reason: stopping.reason, message: `${stopping.message ?? ''}; the trace was stopped` }
      : undefined;
    let attached: Extract<AgentMessage, { tracejob: 'attached' }> | undefined;
    let resolved: Extract<AgentMessage, { tracejob: 'resolved' }>['targets'] = [];

    for (const ref of refs) {
      const job = await port.getJob(ref.name);
      // A stopped run's Job is being deleted (foreground): its pods may outlive it.
      if (!job && !stopping) {
        firstFailure ??= { reason: 'NodeJobLost', message: `node job ${ref.name} on ${ref.node} disappeared before reporting a result` };
        continue;
      }
      const pods = await port.listJobPods(ref.name);
      const pod = newestPod(pods);
      const verdict: NodeJobVerdict = job ? observeNodeJob(job, pod, nowDate.getTime(), config.pendingTimeoutSeconds * 1000) : { state: 'failed', reason: 'NodeJobLost', message: 'stopped' };
      let messages: AgentMessage[] = [];
      const podName = pod?.metadata?.name;
      // While a single-node trace runs after attach, the log holds nothing new
      // the operator needs until the end: skip re-reading it on every poll.
      const nothingNew = verdict.state === 'running' && refs.length === 1 && Boolean(tj.status?.timing?.attached) && !stopping;
      let logCut = false;
      let logError: string | undefined;
      if (podName && verdict.state !== 'pending' && verdict.state !== 'stuck' && !nothingNew) {
        ({ messages, cut: logCut, error: logError } = await this.readAgentLog(job, podName));
      }
      const latest = latestMessages(messages);
      // Node capability report: the agent's preflight → ConfigMap tracejob-node-<node>, once per node job.
      if (latest.preflight && shouldWriteReport(ref.name)) {
        const cm = capabilityConfigMap(latest.preflight.caps, ref.node, nowDate, config.namespace);
        if (!cm.ok) this.deps.log.warn({ node: ref.node, err: cm.error }, 'Not writing an invalid node capability report');
        else {
          await port.applyConfigMap(cm.configMap).catch((e: unknown) => {
            this.deps.log.warn({ node: ref.node, err: (e as Error).message }, 'Cannot write the node capability report');
          });
        }
      }
      if (verdict.state === 'succeeded' && !latest.result) {
        // The agent always prints a result when it exits 0: say why none was taken rather than succeed empty.
        firstFailure ??= logCut
          ? { reason: 'AgentLogTooLarge', message: `the log of node job ${ref.name} on ${ref.node} is longer than ${AGENT_LOG_LIMIT_BYTES} bytes; it was read up to that limit and holds no complete result` }
          : logError !== undefined
            ? { reason: 'AgentLogUnavailable', message: `cannot read the log of node job ${ref.name} on ${ref.node}: ${logError}` }
            : { reason: 'NoResult', message: `node job ${ref.name} on ${ref.node} finished but its log holds no result record signed for this run` };
      }
      attached ??= latest.attached;
      if (latest.resolved) resolved = [...resolved, ...latest.resolved.targets];
      if (stopping) {
        // The pod is terminating: its agent prints the partial result, then lingers so it can be read.
        const answered = latest.result !== undefined || latest.error !== undefined;
        const waitedMs = nowDate.getTime() - Date.parse(stopping.lastTransitionTime);
        if (!answered && pod && waitedMs < STOP_WAIT_SECONDS * 1000) {
          allDone = false;
          continue;
        }
        results.push({ node: ref.node, job: ref.name, verdict: { state: 'failed', reason: stopping.reason, message: stopping.message ?? '' }, document: latest.result?.document, error: latest.error });
        continue;
      }
      if (verdict.state === 'succeeded' || verdict.state === 'failed') {
        results.push({ node: ref.node, job: ref.name, verdict, document: latest.result?.document, error: latest.error });
        if (verdict.state === 'failed') {
          this.deps.observe?.nodeJobFailed?.(latest.error?.reason ?? verdict.reason);
          const errMsg = latest.error ? `${latest.error.message}` : verdict.message;
          firstFailure ??= { reason: latest.error?.reason ?? verdict.reason, message: errMsg };
        }
      } else if (verdict.state === 'stuck') {
        firstFailure ??= { reason: verdict.reason, message: verdict.message };
      } else {
        allDone = false;
      }
    }

    let status: TraceJobStatus = { ...tj.status };
    if (attached && !tj.status?.timing?.attached) {
      status.timing = { ...status.timing, attached: attached.at };
      status.tracer = { name: attached.tracer.name, version: attached.tracer.version };
      status.conditions = setCondition(status.conditions, { type: COND.Attached, status: 'True', reason: 'Attached', message: `${attached.tracer.name} ${attached.tracer.version} attached ${attached.probes ?? ''} probe(s)`.replace('  ', ' '), observedGeneration: generation }, now);
      const debuginfo = status.conditions.find((c) => c.type === COND.Debuginfo);
      if (debuginfo?.status === 'Unknown') status.conditions = setCondition(status.conditions, { ...debuginfo, status: 'True', reason: 'Fetched' }, now);
      await port.event(tj, 'Normal', 'Attached', `Tracer ${attached.tracer.name} ${attached.tracer.version} attached`);
    }
    if (resolved.length > 0) status.targets = mergeResolvedTargets(status.targets ?? [], resolved);

    // A stuck or lost node job fails the run now: waiting cannot fix it.
    const stuck = !stopping && firstFailure && (!allDone || results.every((r) => r.verdict.state === 'failed'));
    if (!allDone && !stuck) {
      if (status !== tj.status && JSON.stringify(status) !== JSON.stringify(tj.status)) await port.replaceStatus(tj, status);
      return { requeueAfterMs: config.runningPollSeconds * 1000 };
    }

    // Every node job has finished (or the run cannot go on): collect.
    const spec = validateSpec(tj.spec);
    const cmName = spec.ok ? spec.spec.output.configMapName : undefined;
    const withDocs = results.filter((r) => r.document);
    let resultCuts: string[] = [];
    if (withDocs.length > 0) {
      const built = buildResultConfigMap(tj, withDocs, cmName);
      const write = await port.writeResultConfigMap(built.configMap, (existing) => resultConfigMapConflict(existing, tj));
      if (write.refused) {
        for (const ref of refs) await port.deleteJob(ref.name).catch(() => undefined);
        return this.fail(tj, { ...status, summary: built.summary }, 'ResultConflict', write.refused, generation);
      }
      const bytes = Object.values(built.configMap.data ?? {}).reduce((n, v) => n + Buffer.byteLength(v), 0);
      this.deps.observe?.resultWritten?.(bytes, built.truncated.length, built.unparseable);
      status.resultRef = { configMap: built.configMap.metadata?.name ?? '', keys: Object.keys(built.configMap.data ?? {}) };
      status.summary = built.summary;
      resultCuts = built.truncated;
      if (built.truncated.length > 0) status.message = `result truncated: ${built.truncated.join('; ')}`;
    }
    for (const ref of refs) await port.deleteJob(ref.name).catch(() => undefined);

    if (firstFailure) {
      const partial = withDocs.length > 0 ? ' (partial results kept)' : '';
      return this.fail(tj, status, firstFailure.reason, firstFailure.message + partial, generation);
    }
    const partial = withDocs.some((r) => r.document?.['partial'] === true);
    const headline = String(status.summary?.headline ?? '');
    const cutNote = resultCuts.length > 0 ? ` (result truncated: ${resultCuts.join('; ')})`.slice(0, 1024) : '';
    status = this.terminal(status, 'Succeeded', partial ? 'CompletedPartial' : 'Completed', (partial ? `trace finished early (target exited); partial results: ${headline}` : headline) + cutNote, generation, now);
    await port.replaceStatus(tj, status);
    await port.event(tj, 'Normal', 'Succeeded', `Trace finished: ${headline}`);
    this.deps.log.info({ headline }, 'Completed TraceJob');
    this.deps.observe?.finished?.(tj, 'Succeeded', partial ? 'CompletedPartial' : 'Completed', runSeconds(status));
    return this.ttlRequeue(tj, status);
  }

  /** Why a running trace may no longer go on: the target namespace withdrew consent, or policy no longer allows the spec. */
  private async revoked(tj: TraceJob): Promise<{ reason: string; message: string } | undefined> {
    const { port, config } = this.deps;
    const validation = validateSpec(tj.spec);
    if (!validation.ok) return undefined;
    const spec = validation.spec;
    const policy = checkSpecPolicy(tj.metadata.namespace, spec, config.policy);
    if (!policy.allowed) return { reason: 'PolicyDenied', message: policy.message };
    if (spec.target.node) return undefined;
    const targetNs = spec.target.pod?.namespace ?? spec.target.selector?.namespace ?? tj.metadata.namespace;
    if (targetNs === tj.metadata.namespace) return undefined;
    const ns = await port.getNamespace(targetNs);
    const consent = checkNamespaceConsent(tj.metadata.namespace, targetNs, ns?.metadata?.annotations, config.policy.consentAnnotation);
    return consent.allowed ? undefined : { reason: 'ConsentWithdrawn', message: consent.message };
  }

  /**
   * The agent's signed messages from a node job pod's log, read up to a byte limit and
   * decoded line by line. Only records carrying the MAC of this Job's channel key count;
   * lines that look like records but are not signed by it are counted in the log.
   */
  private async readAgentLog(job: V1Job | undefined, podName: string): Promise<{ messages: AgentMessage[]; cut: boolean; error?: string }> {
    const decoder = new AgentLogDecoder(agentChannelKey(job));
    let cut = false;
    let error: string | undefined;
    try {
      ({ cut } = await this.deps.port.streamPodLog(podName, 'agent', AGENT_LOG_LIMIT_BYTES, (line) => decoder.push(line)));
    } catch (e) {
      error = (e as Error).message;
      this.deps.log.debug({ pod: podName, err: error }, 'Cannot read the agent log');
    }
    const { unsigned, badMac, invalid } = decoder.counts;
    if (unsigned + badMac + invalid > 0) {
      this.deps.log.warn({ pod: podName, unsigned, badMac, invalid }, 'Ignored agent log lines that look like records but are not valid records of this run');
    }
    if (cut) this.deps.log.warn({ pod: podName, limitBytes: AGENT_LOG_LIMIT_BYTES }, 'Agent log longer than the read limit; read up to the limit');
    return { messages: decoder.messages, cut, ...(error !== undefined ? { error } : {}) };
  }

  // ---- finished -------------------------------------------------------------

  private async afterFinish(tj: TraceJob): Promise<ReconcileResult> {
    // Node jobs are deleted at collection; this also catches leftovers after a crash.
    for (const job of await this.deps.port.listNodeJobs(tj.metadata.uid)) {
      if (job.metadata?.name) await this.deps.port.deleteJob(job.metadata.name);
    }
    return this.ttlRequeue(tj, tj.status ?? {});
  }

  private async ttlRequeue(tj: TraceJob, status: TraceJobStatus): Promise<ReconcileResult> {
    const ttl = tj.spec.ttlSecondsAfterFinished;
    const finished = status.timing?.finished;
    if (ttl === undefined || !finished) return {};
    const remaining = Date.parse(finished) + ttl * 1000 - this.now().getTime();
    if (remaining <= 0) {
      await this.deps.port.deleteTraceJob(tj.metadata.namespace, tj.metadata.name);
      this.deps.log.info({ ttl }, 'Deleted finished TraceJob after its TTL');
      return {};
    }
    return { requeueAfterMs: remaining };
  }

  // ---- helpers ----------------------------------------------------------------

  private terminal(status: TraceJobStatus, phase: 'Succeeded' | 'Failed', reason: string, message: string, generation: number, now: string): TraceJobStatus {
    let conditions = status.conditions ?? [];
    conditions = setCondition(conditions, { type: COND.Succeeded, status: phase === 'Succeeded' ? 'True' : 'False', reason, message, observedGeneration: generation }, now);
    if (phase === 'Failed') conditions = setCondition(conditions, { type: COND.Failed, status: 'True', reason, message, observedGeneration: generation }, now);
    return { ...status, phase, conditions, message: statusMessage(message), observedGeneration: generation, timing: { ...status.timing, finished: now } };
  }

  private async fail(tj: TraceJob, base: TraceJobStatus, reason: string, message: string, generation: number): Promise<ReconcileResult> {
    const { port, log } = this.deps;
    const now = this.now().toISOString();
    const status = this.terminal({ ...base, observedGeneration: generation }, 'Failed', reason, message, generation, now);
    if (reason === 'DebuginfoUnavailable') {
      status.conditions = setCondition(status.conditions, { type: COND.Debuginfo, status: 'False', reason, message, observedGeneration: generation }, now);
    }
    if (!status.conditions?.some((c) => c.type === COND.Accepted)) {
      status.conditions = setCondition(status.conditions, { type: COND.Accepted, status: reason === 'Invalid' ? 'False' : 'True', reason: reason === 'Invalid' ? 'Invalid' : 'Accepted', message: reason === 'Invalid' ? message : 'spec is valid', observedGeneration: generation }, now);
    }
    for (const job of await port.listNodeJobs(tj.metadata.uid)) {
      if (job.metadata?.name) await port.deleteJob(job.metadata.name);
    }
    const updated = await port.replaceStatus(tj, status);
    await port.event(tj, 'Warning', reason, message);
    log.info({ reason, message }, 'Failed TraceJob');
    this.deps.observe?.finished?.(tj, 'Failed', reason, runSeconds(status));
    return this.ttlRequeue(updated, status);
  }
}

function runSeconds(status: TraceJobStatus): number | undefined {
  const start = Date.parse(status.timing?.accepted ?? '');
  const end = Date.parse(status.timing?.finished ?? '');
  return Number.isFinite(start) && Number.isFinite(end) ? (end - start) / 1000 : undefined;
}

function newestPod<T extends { metadata?: { creationTimestamp?: Date | string } }>(pods: readonly T[]): T | undefined {
  return [...pods].sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')))[0];
}

function describeTarget(tj: TraceJob): string {
  const t = tj.spec.target;
  if (t?.pod) return `pod/${t.pod.name}${t.pod.container ? `:${t.pod.container}` : ''}`;
  if (t?.selector) return `selector/${labelSelectorString(t.selector)}`;
  if (t?.node) return `node/${t.node.name}`;
  return '';
}

function mergeResolvedTargets(
  current: NonNullable<TraceJobStatus['targets']>,
  resolved: Extract<AgentMessage, { tracejob: 'resolved' }>['targets'],
): NonNullable<TraceJobStatus['targets']> {
  return current.map((t) => {
    const r = resolved.find((x) => x.pod === t.pod && x.namespace === t.namespace && x.container === t.container);
    if (!r) return t;
    return { ...t, hostPIDs: r.hostPIDs.slice(0, 64), ...(r.cgroupPath ? { cgroupPath: r.cgroupPath } : {}), ...(r.cgroupID ? { cgroupID: r.cgroupID } : {}) };
  });
}
