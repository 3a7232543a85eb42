// Network probe catalog ground truth on the real local cluster: each probe
// traces one pod running a deterministic workload (e2e/workloads/net-ops.js,
// net-peek.py, syn-drop.py) that does a known amount of loopback network work only after
// the trigger, and the result document must hold exactly those numbers. A
// noisy neighbour pod on the same node (net-noisy.py) does the same kinds of
// work on the same loopback ports all the time, in its own network namespace
// and cgroup; none of it may show up. `interrupts` is node-wide only: it is
// policy-gated, and its counts are checked against /proc/interrupts and
// /proc/softirqs of this machine (the node) read around the trace window.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { clusterReachable, deleteNamespace, ensureNamespace, k, kubectl, sleep, uniqueName, waitForAsync } from '../lib/kube.js';
import {
  condition,
  createTraceJob,
  namespaceWithNeighbour,
  nodeJobsOf,
  PRIVILEGED_NS,
  readResult,
  type ResultDoc,
  tableRows,
  type TraceJobObj,
  traceTriggered,
  traceWorkloadPod,
  waitForCondition,
  waitForPhase,
  waitPodReady,
  workloadPod,
} from '../lib/tracejob.js';

const reachable = clusterReachable();

type Bucket = { min?: number | null; max?: number | null; count: number };
type Hist = { name: string; key?: string; count?: number; total?: number; buckets: Bucket[] };

/** Table rows with every cell as a string (bpftrace map keys arrive as strings, values as numbers). */
const rowsOf = (doc: ResultDoc, table: string): string[][] => tableRows(doc, table).map((r) => r.map((c) => String(c)));
const histOf = (doc: ResultDoc, name: string): Hist | undefined => (doc.histograms as unknown as Hist[]).find((h) => h.name === name);
/** Count in the power-of-two bucket holding `value` (bpftrace hist()). */
const bucketCount = (h: Hist | undefined, value: number): number | undefined =>
  h?.buckets.find((b) => (b.min ?? -Infinity) <= value && value <= (b.max ?? Infinity))?.count;
/**
 * The trigger (`kubectl exec … touch /tmp/go`) runs in the target container's cgroup: runc's
 * exec init (comm "runc:[2:INIT]") talks to runc over a unix socket before it execs touch.
 * Those rows are the only ones besides the workload's, all unix, and the counters add up.
 */
const notTrigger = (r: string[]): boolean => !/^runc|^touch$/.test(r[1] ?? '');
function assertOnlyTrigger(doc: ResultDoc): void {
  for (const [dir, counter] of [['sent', 'txBytes'], ['received', 'rxBytes']] as const) {
    const byProcess = rowsOf(doc, `${dir} by process`);
    const byProto = rowsOf(doc, `${dir} by protocol`);
    const trigger = byProcess.filter((r) => !notTrigger(r)).reduce((s, r) => s + Number(r[2]), 0);
    const unix = byProto.filter((r) => r[0] === 'unix').reduce((s, r) => s + Number(r[2]), 0);
    assert.equal(unix, trigger, `${dir}: unix bytes are the trigger's: ${JSON.stringify(doc.tables)}`);
    assert.equal(doc.counters[counter], byProcess.reduce((s, r) => s + Number(r[2]), 0), `${counter} is the sum of ${dir} by process`);
    assert.equal(doc.counters[counter], byProto.reduce((s, r) => s + Number(r[2]), 0), `${counter} is the sum of ${dir} by protocol`);
  }
}
const hostPIDs = (tj: TraceJobObj): number[] => (tj.status?.targets?.[0]?.['hostPIDs'] as number[] | undefined) ?? [];

/** Per-line totals over all CPUs of /proc/interrupts (numbered IRQs only: the ones irq_handler_entry sees) or /proc/softirqs. */
function procCounts(path: string): Map<string, { total: number; name: string }> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  const out = new Map<string, { total: number; name: string }>();
  for (const l of lines.slice(1)) {
    const m = /^\s*([A-Z_]+|\d+):\s+(.*)$/.exec(l);
    if (!m?.[1]) continue;
    if (path.endsWith('interrupts') && !/^\d+$/.test(m[1])) continue;
    const fields = (m[2] ?? '').trim().split(/\s+/);
    const total = fields.slice(0, ncpu).reduce((s, v) => s + Number(v), 0);
    // /proc/interrupts: the counts, the chip, "hwirq-edge|level", then the action (device) names.
    out.set(m[1], { total, name: fields.slice(ncpu + 2).join(' ') });
  }
  return out;
}
/** Interrupts /proc counted that a tracepoint BPF program may legitimately miss (recursion misses; see the interrupts test). */
const MISSES = (n: number): number => Math.max(2, Math.ceil(n * 0.05));
const delta = (a: Map<string, { total: number }>, b: Map<string, { total: number }>, key: string): number => (b.get(key)?.total ?? 0) - (a.get(key)?.total ?? 0);

describe('network probe catalog ground truth on the cluster', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    ns = namespaceWithNeighbour('tj-cat-net', ['python3', '/workloads/net-noisy.py']);
  });
  after(() => deleteNamespace(ns));

  /** Sockets are set up before the trigger (the `ready` line): only the measured work happens in the trace. */
  const traceWorkload = (name: string, command: string[], probe: Record<string, unknown>) => traceWorkloadPod(ns, name, command, probe, { ready: true });

  test('the noisy neighbour really does the same network work (so the exact counts below prove isolation)', async () => {
    const probes = ['tcpAccepts', 'synBacklog', 'trafficByProcess', 'tcpSendSizes'];
    for (const p of probes) createTraceJob(ns, `neighbour-${p.toLowerCase()}`, { target: { pod: { name: 'noisy' } }, probe: { type: p, params: p === 'tcpSendSizes' ? { eventMinBytes: 1 } : {} }, duration: '3s' });
    const docs = new Map<string, ResultDoc>();
    for (const p of probes) {
      const tj = await waitForPhase(ns, `neighbour-${p.toLowerCase()}`, ['Succeeded', 'Failed']);
      assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
      docs.set(p, readResult(ns, tj).doc);
    }
    const accepts = docs.get('tcpAccepts');
    assert.ok(Number(accepts?.counters['accepts']) >= 5, JSON.stringify(accepts?.counters));
    assert.ok(Number(rowsOf(accepts as ResultDoc, 'by local port').find((r) => r[0] === '7100')?.[1]) >= 5, JSON.stringify(accepts?.tables));
    // One attempt per second into the full backlog-0 listener: at least 2 dropped SYNs in 3 s.
    assert.ok(Number(docs.get('synBacklog')?.counters['ListenOverflows']) >= 2, JSON.stringify(docs.get('synBacklog')?.counters));
    const sent = rowsOf(docs.get('trafficByProcess') as ResultDoc, 'sent by protocol');
    assert.ok(Number(sent.find((r) => r[1] === 'tcp')?.[2]) >= 5 * 10_000, JSON.stringify(sent));
    assert.ok(Number(sent.find((r) => r[1] === 'udp')?.[2]) >= 5 * 2_000, JSON.stringify(sent));
    const sizes = histOf(docs.get('tcpSendSizes') as ResultDoc, 'send size');
    assert.ok(Number(bucketCount(sizes, 1000)) >= 5 && Number(bucketCount(sizes, 9000)) >= 5, JSON.stringify(sizes));
  });

  test('tcpAccepts: 12 loopback connections to 127.0.0.1:7100 in the pod → 12 accepts by node, 12 established on port 7100 from 127.0.0.1', async () => {
    const { tj, doc } = await traceWorkload('acceptor', ['node', '/workloads/net-ops.js', 'accept', '12', '7100'], { type: 'tcpAccepts' });
    assert.equal(doc.counters['accepts'], 12, JSON.stringify(doc));
    assert.equal(doc.counters['established'], 12);
    // accept4(2) in the listener's process context (EAGAIN returns of libuv's accept loop do not count).
    const byProcess = rowsOf(doc, 'accepts by process');
    assert.deepEqual(byProcess.map((r) => r.slice(1)), [['node', '12']], JSON.stringify(byProcess));
    assert.ok(hostPIDs(tj).includes(Number(byProcess[0]?.[0])), `${byProcess[0]?.[0]} not a target pid ${hostPIDs(tj)}`);
    // SYN_RECV→ESTABLISHED of the server side in softirq, matched by the socket's netns; the
    // client side (SYN_SENT→ESTABLISHED) is not an accept. The neighbour listens on 7100 too.
    assert.deepEqual(rowsOf(doc, 'by local port'), [['7100', '12']]);
    assert.deepEqual(rowsOf(doc, 'by peer'), [['127.0.0.1', '12']]);
    assert.equal(doc.events.length, 12);
    assert.ok(doc.events.every((e) => e['lport'] === 7100 && e['laddr'] === '127.0.0.1' && e['raddr'] === '127.0.0.1'), JSON.stringify(doc.events[0]));
    const rports = new Set(doc.events.map((e) => Number(e['rport'])));
    assert.equal(rports.size, 12, 'each accepted connection has its own client port');
    assert.ok([...rports].every((p) => p > 0 && p !== 7100));
    assert.equal(tj.status?.summary?.headline, 'accepts=12 established=12');
  });

  test('synBacklog: a second connection into a full backlog-0 listener → its SYNs are the overflows and drops, no SYN-ACK retransmits', async (t) => {
    // This node has no kprobes (CONFIG_KPROBES off, see /work/shared/reference): the backlog
    // histogram (sk_ack_backlog per sk_max_ack_backlog, kprobe tcp_v4_syn_recv_sock) cannot be
    // produced, so the known backlog limit 0 is not observable; the probe's documented
    // fallback reports the TcpExt counter deltas of the pod's netns instead.
    if (readFileSync('/proc/kallsyms', 'utf8').includes(' register_kprobe\n')) {
      t.skip('the node has kprobes: this test pins the tracepoint-only netstat fallback');
      return;
    }
    const name = 'syndrop';
    workloadPod(ns, name, ['python3', '/workloads/syn-drop.py', '2.5']);
    waitPodReady(ns, name);
    await waitForAsync('listener port in the log', 30_000, () => /127\.0\.0\.1:(\d+)/.exec(k(['-n', ns, 'logs', name]))?.[1]);
    // The first connection fills the queue (1 > 0); every SYN of the second one then fails
    // sk_acceptq_is_full() in tcp_conn_request: LINUX_MIB_LISTENOVERFLOWS and, at drop,
    // tcp_listendrop(): LINUX_MIB_LISTENDROPS, once per SYN. (The request queue is never
    // full — 6.18 tests reqsk_queue_len > backlog — so no cookies and no TCPReqQFullDrop.)
    // SYNs at 0 s, then retransmits at 1 s, 2 s with linear SYN timeouts (else 1 s, 3 s):
    // 2.5 s gives 3 (or 2) SYNs, all dropped.
    const linear = Number(k(['-n', ns, 'exec', name, '--', 'cat', '/proc/sys/net/ipv4/tcp_syn_linear_timeouts']).trim() || 0);
    const syns = linear >= 2 ? 3 : 2;
    const { tj, doc } = await traceTriggered(ns, name, name, { target: { pod: { name } }, probe: { type: 'synBacklog' }, duration: '6s' });
    assert.match(k(['-n', ns, 'logs', name]), /second connection from port \d+ gave up/);
    assert.equal(doc.counters['ListenOverflows'], syns, JSON.stringify(doc));
    assert.equal(doc.counters['ListenDrops'], syns);
    assert.equal(doc.counters['TCPReqQFullDrop'], 0);
    assert.equal(doc.counters['TCPReqQFullDoCookies'], 0);
    // The first connection completed at once: no SYN-ACK was ever retransmitted.
    assert.equal(doc.counters['synackRetransmits'], 0);
    assert.deepEqual(doc.histograms, []);
    assert.ok(doc.notes.some((n) => /no kprobes: backlog sizes are unavailable/.test(n)), JSON.stringify(doc.notes));
    assert.equal(tj.status?.summary?.headline, `overflows=${syns} drops=${syns}`);
    k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  });

  test('synBacklog with fallback "none" on a node without kprobes → Failed/Unsupported naming kprobes', async (t) => {
    if (readFileSync('/proc/kallsyms', 'utf8').includes(' register_kprobe\n')) {
      t.skip('the node has kprobes');
      return;
    }
    const created = createTraceJob(ns, 'synbacklog-none', { target: { pod: { name: 'noisy' } }, probe: { type: 'synBacklog', params: { fallback: 'none' } }, duration: '5s' });
    const tj = await waitForPhase(ns, 'synbacklog-none', ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Failed');
    const failed = condition(tj, 'Failed');
    assert.equal(failed?.reason, 'Unsupported', JSON.stringify(tj.status?.conditions));
    assert.match(failed?.message ?? '', /probe synBacklog needs kprobes/);
    await waitForAsync('node job removed', 30_000, () => nodeJobsOf(created.metadata.uid).length === 0);
  });

  test('packetSizes: 9 UDP datagrams of 1000 bytes over loopback → 9 tx of 1042 bytes and 9 rx of 1028 bytes on lo', async () => {
    const { doc } = await traceWorkload('udpsizes', ['node', '/workloads/net-ops.js', 'udp', '9', '1000', '7101'], { type: 'packetSizes' });
    // net_dev_queue fires in __dev_queue_xmit after neigh_hh_output pushed the link header:
    // lo is ARPHRD_LOOPBACK with eth_header_ops (hard_header_len 14), so skb->len =
    // 14 (Ethernet) + 20 (IPv4, no options) + 8 (UDP) + 1000 = 1042. loopback_xmit then runs
    // eth_type_trans (pulls the 14 bytes) before netif_rx, so netif_receive_skb sees 1028.
    // The receiver's port is open: no ICMP port-unreachable goes back.
    assert.deepEqual(rowsOf(doc, 'tx bytes by device').filter((r) => r[0] === 'lo'), [['lo', String(9 * 1042)]], JSON.stringify(doc.tables));
    assert.deepEqual(rowsOf(doc, 'rx bytes by device').filter((r) => r[0] === 'lo'), [['lo', String(9 * 1028)]], JSON.stringify(doc.tables));
    // The pod's eth0 may carry a little background IPv6 (ND/MLD, < 200 bytes); nothing else of
    // 1024–2047 bytes: the neighbour's 1000-byte datagrams are in its own netns.
    assert.equal(bucketCount(histOf(doc, 'tx size'), 1042), 9, JSON.stringify(doc.histograms));
    assert.equal(bucketCount(histOf(doc, 'rx size'), 1028), 9, JSON.stringify(doc.histograms));
    const txDevBytes = rowsOf(doc, 'tx bytes by device').reduce((s, r) => s + Number(r[1]), 0);
    assert.equal(doc.counters['txBytes'], txDevBytes);
    assert.ok(Number(doc.counters['txPackets']) >= 9 && Number(doc.counters['rxPackets']) >= 9, JSON.stringify(doc.counters));
  });

  test('tcpSendSizes: 5 writes of 1, 100, 1000, 4000, 9000 bytes (TCP_NODELAY, each awaited) → exactly those 5 sends', async () => {
    const sizes = [1, 100, 1000, 4000, 9000];
    const { tj, doc } = await traceWorkload('sender', ['node', '/workloads/net-ops.js', 'send', sizes.join(','), '7102'], { type: 'tcpSendSizes', params: { eventMinBytes: 1 } });
    // No kprobes here: sock:sock_send_length after write(2) → sock_sendmsg on the TCP socket,
    // ret = bytes accepted = bytes asked (the send queue is empty before each write).
    const events = doc.events.filter((e) => e['kind'] === 'send');
    assert.deepEqual(events.map((e) => e['bytes']), sizes, JSON.stringify(doc.events));
    assert.ok(events.every((e) => e['comm'] === 'node' && hostPIDs(tj).includes(Number(e['pid']))), JSON.stringify(events[0]));
    const h = histOf(doc, 'send size');
    assert.equal(h?.count ?? h?.total, 5, JSON.stringify(h));
    for (const s of sizes) assert.equal(bucketCount(h, s), 1, `bucket of ${s}: ${JSON.stringify(h?.buckets)}`);
    assert.equal(h?.buckets.reduce((s, b) => s + b.count, 0), 5);
    const total = sizes.reduce((a, b) => a + b, 0);
    const byProcess = rowsOf(doc, 'by process');
    assert.equal(byProcess.length, 1, JSON.stringify(byProcess));
    assert.deepEqual(byProcess[0]?.slice(1), ['node', '5', String(Math.floor(total / 5)), String(total)]);
    assert.ok(doc.notes.some((n) => /sock:sock_send_length/.test(n)), JSON.stringify(doc.notes));
    assert.equal(tj.status?.summary?.headline, 'sends=5');
  });

  test('trafficByProcess: node sends 200000 TCP bytes and 5 × 1200 UDP bytes to itself → exactly 206000 sent and received by node', async () => {
    const { tj, doc } = await traceWorkload('talker', ['node', '/workloads/net-ops.js', 'traffic', '200000', '5', '1200'], { type: 'trafficByProcess' });
    const total = 200_000 + 5 * 1200;
    assertOnlyTrigger(doc);
    assert.deepEqual(rowsOf(doc, 'sent by process').map((r) => r.slice(1)), [['node', String(total)]], JSON.stringify(doc.tables));
    assert.deepEqual(rowsOf(doc, 'received by process').filter(notTrigger).map((r) => r.slice(1)), [['node', String(total)]], JSON.stringify(doc.tables));
    for (const table of ['sent by process', 'received by process']) {
      const pid = rowsOf(doc, table).find(notTrigger)?.[0];
      assert.ok(hostPIDs(tj).includes(Number(pid)), `${table}: pid ${pid} not a target pid ${hostPIDs(tj)}`);
    }
    const byProto = [['inet', 'tcp', '200000'], ['inet', 'udp', '6000']];
    assert.deepEqual(rowsOf(doc, 'sent by protocol'), byProto);
    assert.deepEqual(rowsOf(doc, 'received by protocol').filter((r) => r[0] !== 'unix'), byProto);
    assert.equal(doc.counters['txBytes'], total, JSON.stringify(doc.counters));
  });

  test('trafficByProcess: a python3 receiver that peeks (MSG_PEEK) before each read → 6 × 1500 bytes received once, not twice', async () => {
    // sock:sock_recv_length fires for peeks too, with ret = bytes peeked; the data stays in the
    // socket and the next read returns it again (the tracepoint's own format prints length 0
    // for MSG_PEEK). The probe counted them until this test: python3 received 2 × 9000.
    const { tj, doc } = await traceWorkload('peeker', ['python3', '/workloads/net-peek.py', '6', '1500'], { type: 'trafficByProcess' });
    const total = 6 * 1500;
    assertOnlyTrigger(doc);
    for (const table of ['sent by process', 'received by process']) {
      const rows = rowsOf(doc, table).filter(notTrigger);
      assert.deepEqual(rows.map((r) => r.slice(1)), [['python3', String(total)]], `${table}: ${JSON.stringify(doc.tables)}`);
      assert.ok(hostPIDs(tj).includes(Number(rows[0]?.[0])), `${table}: pid ${rows[0]?.[0]} not a target pid`);
    }
    assert.deepEqual(rowsOf(doc, 'received by protocol').filter((r) => r[0] !== 'unix'), [['inet', 'tcp', String(total)]]);
    assert.equal(doc.counters['txBytes'], total, JSON.stringify(doc.counters));
  });

  test('interrupts: a namespaced user may not trace a node (PolicyDenied) and the probe refuses a pod target (Invalid)', async () => {
    const node = k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    const denied = createTraceJob(ns, 'irq-denied', { target: { node: { name: node } }, probe: { type: 'interrupts' }, duration: '5s' });
    const pod = createTraceJob(ns, 'irq-pod', { target: { pod: { name: 'noisy' } }, probe: { type: 'interrupts' }, duration: '5s' });
    let tj = await waitForPhase(ns, 'irq-denied', ['Succeeded', 'Failed'], 30_000);
    assert.equal(tj.status?.phase, 'Failed');
    assert.equal(condition(tj, 'Failed')?.reason, 'PolicyDenied', JSON.stringify(tj.status?.conditions));
    assert.equal(condition(tj, 'Failed')?.message, `node targets are not allowed for namespace ${ns}: a cluster admin must add it to policy.nodeTargetNamespaces`);
    assert.equal(nodeJobsOf(denied.metadata.uid).length, 0);
    tj = await waitForPhase(ns, 'irq-pod', ['Succeeded', 'Failed'], 30_000);
    assert.equal(tj.status?.phase, 'Failed');
    assert.equal(condition(tj, 'Accepted')?.reason, 'Invalid', JSON.stringify(tj.status?.conditions));
    assert.match(tj.status?.message ?? '', /node target/);
    assert.equal(nodeJobsOf(pod.metadata.uid).length, 0);
  });

  test('interrupts: node-wide in the privileged namespace → per-IRQ and per-softirq counts between /proc deltas of an inner and an outer window; the quiet hwrng IRQ exact', async (t) => {
    // This machine is the node. The trace counts from its attach (≤ status.timing.attached:
    // BEGIN, which prints the agent's attach marker, runs after every probe is attached) to
    // its exit (≥ attached + duration: the agent sends SIGINT then). So for every IRQ and
    // softirq vector: delta(inner) ≤ traced ≤ delta(outer), where the outer window opens
    // before the TraceJob exists and closes after it succeeded, and the inner one opens after
    // Attached was seen and closes 1.5 s before the earliest possible stop. kstat_irqs is
    // incremented in the flow handler right before handle_irq_event → irq_handler_entry
    // (one action per IRQ here), kstat softirqs right before softirq_entry; busy devices
    // (disk, network, another suite running) differ between the windows by their rate times
    // the ~2-4 s of slack. The virtio-rng IRQ is quiet unless read: a burst of reads inside
    // the inner window makes inner delta = outer delta, and the trace must count that burst.
    // Tolerance, on the lower side only: MISSES(n) = max(2, 5% of n). A classic tracepoint BPF
    // program is skipped (a "recursion miss") when it fires while any other tracepoint/kprobe
    // BPF program runs on that CPU (the per-CPU bpf_prog_active guard): an interrupt landing
    // during this probe's own softirq_entry program (softirqs run with interrupts enabled) or
    // during another suite's syscall probes is counted by /proc/interrupts but not traced.
    // Observed: 770 of 771 virtio-net interrupts, all inside the inner window. The probe now
    // uses raw tracepoints on bpftrace ≥ 0.23 (the agent's), which are not subject to that
    // guard; the tolerance stays for nodes whose bpftrace still gets classic tracepoints.
    // The upper bound is exact (a trace never counts an interrupt that /proc did not).
    const admin = PRIVILEGED_NS;
    const created = await ensureNamespace(admin);
    const node = k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    const name = uniqueName('net-irq');
    const durationS = 7;
    const rng = hwrngIrqs();
    try {
      const irq0 = procCounts('/proc/interrupts');
      const soft0 = procCounts('/proc/softirqs');
      createTraceJob(admin, name, { target: { node: { name: node } }, probe: { type: 'interrupts' }, duration: `${durationS}s`, output: { topN: 1000 } });
      const attachedTj = await waitForCondition(admin, name, 'Attached');
      const irq1 = procCounts('/proc/interrupts');
      const soft1 = procCounts('/proc/softirqs');
      const innerStart = Date.now();
      const attachedAt = Date.parse(attachedTj.status?.timing?.['attached'] ?? '');
      assert.ok(Number.isFinite(attachedAt), JSON.stringify(attachedTj.status?.timing));
      const innerEnd = attachedAt + durationS * 1000 - 1500;
      assert.ok(Date.now() < innerEnd - 1000, `Attached seen too late (${Date.now() - attachedAt} ms after attach) for an inner window`);
      // 16 reads of 64 bytes: virtio-rng completes one 64-byte request per interrupt.
      if (rng) execFileSync('dd', ['if=/dev/hwrng', 'of=/dev/null', 'bs=64', 'count=16'], { timeout: 5000, stdio: 'ignore' });
      await sleep(Math.max(0, innerEnd - Date.now()));
      const irq2 = procCounts('/proc/interrupts');
      const soft2 = procCounts('/proc/softirqs');
      assert.ok(Date.now() < attachedAt + durationS * 1000 - 500, 'inner window closed too late');
      const tj = await waitForPhase(admin, name, ['Succeeded', 'Failed']);
      const irq3 = procCounts('/proc/interrupts');
      const soft3 = procCounts('/proc/softirqs');
      assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
      const { doc } = readResult(admin, tj);

      const rows = rowsOf(doc, 'interrupts by device');
      assert.ok(rows.length > 0, JSON.stringify(doc.tables));
      const traced = new Map(rows.map((r) => [r[0] ?? '', Number(r[2])]));
      for (const r of rows) {
        assert.ok(irq3.has(r[0] ?? ''), `traced irq ${r[0]} is not a numbered IRQ of /proc/interrupts`);
        assert.equal(r[1], irq3.get(r[0] ?? '')?.name, `device name of irq ${r[0]}`);
      }
      for (const irq of new Set([...traced.keys(), ...irq3.keys()])) {
        const inner = delta(irq1, irq2, irq);
        const outer = delta(irq0, irq3, irq);
        const got = traced.get(irq) ?? 0;
        assert.ok(inner - MISSES(inner) <= got && got <= outer, `irq ${irq} (${irq3.get(irq)?.name}): traced ${got}, /proc/interrupts inner ${inner}, outer ${outer}`);
      }
      assert.equal(doc.counters['interrupts'], [...traced.values()].reduce((a, b) => a + b, 0));
      const handlerRows = rowsOf(doc, 'handler time by irq');
      assert.deepEqual(handlerRows.map((r) => r[0]).sort(), [...traced.keys()].sort(), 'every interrupt that entered its handler also left it');

      const softRows = new Map(rowsOf(doc, 'softirqs').map((r) => [r[0] ?? '', Number(r[1])]));
      assert.ok((softRows.get('TIMER') ?? 0) > 0, JSON.stringify([...softRows]));
      for (const vec of soft3.keys()) {
        const inner = delta(soft1, soft2, vec);
        const outer = delta(soft0, soft3, vec);
        const got = softRows.get(vec) ?? 0;
        assert.ok(inner - MISSES(inner) <= got && got <= outer, `softirq ${vec}: traced ${got}, /proc/softirqs inner ${inner}, outer ${outer}`);
      }

      t.diagnostic(`inner window ${innerStart - attachedAt}..${innerEnd - attachedAt} ms after attach; ${traced.size} IRQs, ${softRows.size} softirq vectors bracketed; interrupts=${doc.counters['interrupts']}`);
      if (rng) {
        const burst = delta(irq1, irq2, rng);
        t.diagnostic(`hwrng irq ${rng} (${irq3.get(rng)?.name}): burst ${burst}, outer ${delta(irq0, irq3, rng)}, traced ${traced.get(rng)}`);
        assert.ok(burst >= 8, `the hwrng burst raised only ${burst} interrupts on irq ${rng}`);
        assert.equal(delta(irq0, irq3, rng), burst, 'someone else used the hwrng during the trace');
        const got = traced.get(rng) ?? 0;
        assert.ok(burst - MISSES(burst) <= got && got <= burst, `irq ${rng} (${irq3.get(rng)?.name}): traced ${got} of a burst of ${burst}`);
      }
      assert.match(tj.status?.summary?.headline ?? '', /^interrupts=\d+ top=\S+/);
    } finally {
      kubectl(['-n', admin, 'delete', 'tracejob', name, '--ignore-not-found', '--wait=false']);
      if (created) deleteNamespace(admin);
    }
  });
});


/** The /proc/interrupts line of the virtio-rng request queue ("virtioN-input"), when this machine has one. */
function hwrngIrqs(): string | undefined {
  const dir = '/sys/bus/virtio/drivers/virtio_rng';
  if (!existsSync('/dev/hwrng') || !existsSync(dir)) return undefined;
  const dev = readdirSync(dir).find((d) => /^virtio\d+$/.test(d));
  if (!dev) return undefined;
  const irqs = [...procCounts('/proc/interrupts')].filter(([, v]) => v.name === `${dev}-input`);
  return irqs.length === 1 ? irqs[0]?.[0] : undefined;
}
