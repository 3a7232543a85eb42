// Probe catalog ground truth on the real local cluster: each probe traces one
// pod running a deterministic workload (e2e/workloads/) that does a known
// amount of work only after the trigger, and the result document must hold
// exactly that number. A noisy neighbour pod on the same node does the same
// kinds of work all the time (noisy-ops.js); none of it may show up.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, deleteNamespace, k, waitForAsync } from '../lib/kube.js';
import {
  createTraceJob,
  namespaceWithNeighbour,
  readResult,
  type ResultDoc,
  tableRows,
  traceTriggered,
  traceWorkloadPod,
  trigger,
  waitForCondition,
  waitForPhase,
  waitPodReady,
  workloadPod,
} from '../lib/tracejob.js';

const reachable = clusterReachable();

type Hist = ResultDoc['histograms'][number] & { key?: string };

describe('probe catalog ground truth on the cluster', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    ns = namespaceWithNeighbour('tj-catalog', ['node', '/workloads/noisy-ops.js']);
  });
  after(() => deleteNamespace(ns));

  const traceWorkload = (name: string, command: string[], probe: Record<string, unknown>) => traceWorkloadPod(ns, name, command, probe);

  const rowsByKey = (doc: ResultDoc, table: string) => new Map(tableRows(doc, table).map((r) => [String(r[0]), r]));

  test('the noisy neighbour really does the same work (so the exact counts below prove isolation)', async () => {
    createTraceJob(ns, 'neighbour', { target: { pod: { name: 'noisy' } }, probe: { type: 'portBinds' }, duration: '3s' });
    const tj = await waitForPhase(ns, 'neighbour', ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const binds = tableRows(readResult(ns, tj).doc, 'bound ports').find((r) => r[0] === 7000);
    assert.ok(Number(binds?.[3]) >= 5, JSON.stringify(binds));
  });

  test('syscallLatency: 9 fsyncs in the target → fsync count 9, histogram of 9, no fdatasync', async () => {
    const { doc } = await traceWorkload('fsyncer', ['node', '/workloads/ops-n.js', 'fsync', '9'], { type: 'syscallLatency', params: { syscalls: ['fsync', 'fdatasync'] } });
    const rows = rowsByKey(doc, 'syscalls');
    assert.equal(rows.get('fsync')?.[1], 9, JSON.stringify(doc.tables));
    assert.equal(rows.get('fdatasync'), undefined);
    const h = (doc.histograms as Hist[]).find((x) => x.key === 'fsync');
    assert.equal(h?.count, 9, JSON.stringify(doc.histograms));
    assert.equal(h?.buckets.reduce((s, b) => s + b.count, 0), 9);
    assert.equal(doc.counters['calls'], 9);
  });

  test('fileOpens: /etc/os-release opened 11 times in the target → 11, none failed', async () => {
    const { doc } = await traceWorkload('opener', ['node', '/workloads/ops-n.js', 'open', '11', '/etc/os-release'], { type: 'fileOpens' });
    const byPath = rowsByKey(doc, 'opens by path');
    assert.equal(byPath.get('/etc/os-release')?.[1], 11, JSON.stringify(doc.tables));
    // After the trigger node opens nothing else (the other rows are the exec of the trigger).
    assert.equal(rowsByKey(doc, 'opens by command').get('node')?.[1], 11);
    assert.equal(tableRows(doc, 'failed opens by path').find((r) => r[0] === '/etc/os-release'), undefined);
    const opens = doc.events.filter((e) => e['path'] === '/etc/os-release');
    assert.equal(opens.length, 11);
    assert.ok(opens.every((e) => e['comm'] === 'node' && Number(e['ret']) >= 0), JSON.stringify(opens[0]));
  });

  test('packetDrops: 8 UDP datagrams to a closed port on 127.0.0.1 in the pod → 8 × NO_SOCKET', async () => {
    const { doc } = await traceWorkload('dropper', ['node', '/workloads/ops-n.js', 'udp', '8', '9'], { type: 'packetDrops' });
    // The pod's eth0 also sees background IPv6 multicast (NOT_SPECIFIED drops in
    // ip6_mc_input); the UDP drops are exactly ours, none of the neighbour's.
    assert.equal(rowsByKey(doc, 'by reason').get('NO_SOCKET')?.[1], 8, JSON.stringify(doc.tables));
    assert.equal(rowsByKey(doc, 'by location').get('__udp4_lib_rcv')?.[1], 8, JSON.stringify(doc.tables));
    const udp = doc.events.filter((e) => e['reasonName'] === 'NO_SOCKET');
    assert.equal(udp.length, 8);
    assert.ok(udp.every((e) => e['location'] === '__udp4_lib_rcv' && e['protocol'] === 2048), JSON.stringify(udp[0]));
  });

  test('oomKills: python3 over a 48Mi memory limit → exactly one OOM kill, named python3', async () => {
    const name = 'oom-hog';
    workloadPod(ns, name, ['python3', '/workloads/oom-hog.py'], {}, 'Never', { resources: { limits: { memory: '48Mi' }, requests: { memory: '48Mi' } } });
    waitPodReady(ns, name);
    createTraceJob(ns, name, { target: { pod: { name } }, probe: { type: 'oomKills' }, duration: '20s' });
    await waitForCondition(ns, name, 'Attached');
    trigger(ns, name);
    const tj = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const { doc } = readResult(ns, tj);
    assert.equal(doc.counters['oomKills'], 1, JSON.stringify(doc));
    assert.deepEqual(tableRows(doc, 'victims by command'), [['python3', 1]]);
    assert.equal(doc.events.length, 1);
    assert.equal(doc.events[0]?.['comm'], 'python3');
    assert.ok((tj.status?.targets?.[0]?.['hostPIDs'] as number[]).includes(Number(doc.events[0]?.['pid'])), JSON.stringify([doc.events[0], tj.status?.targets]));
    assert.match(tj.status?.summary?.headline ?? '', /^oomKills=1 victim=python3\(\d+\)$/);
    // The kubelet saw the same kill.
    const reason = k(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}']);
    assert.equal(reason, 'OOMKilled');
    k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  });

  test('dnsLatency: 6 dns.lookup("localhost") (libc getaddrinfo in the threadpool) → 6 lookups of localhost', async () => {
    const { doc } = await traceWorkload('resolver', ['node', '/workloads/ops-n.js', 'dns', '6', 'localhost'], { type: 'dnsLatency' });
    assert.equal(doc.counters['lookups'], 6, JSON.stringify(doc));
    assert.deepEqual(tableRows(doc, 'by host').map((r) => r.slice(0, 2)), [['localhost', 6]]);
    assert.equal(doc.counters['failed'] ?? 0, 0);
    assert.equal(doc.histograms.find((h) => h.name === 'dns latency')?.count, 6);
    // dns.lookup runs getaddrinfo on a libuv threadpool thread of the node process.
    assert.equal(doc.events.length, 6);
    assert.ok(doc.events.every((e) => e['fn'] === 'getaddrinfo' && e['host'] === 'localhost' && e['ret'] === 0), JSON.stringify(doc.events[0]));
  });

  test('futexContention: 4 threads × 10 acquisitions of one threading.Lock held 30 ms → 39 contended waits on top', async () => {
    // CPython 3.13's threading.Lock is a PyMutex: a contended acquirer parks on
    // its own per-thread semaphore (parking lot), so the lock shows up as one
    // futex word per waiting thread. Holds are long (> 1 ms), so every release
    // hands the lock off to a parked waiter: all acquisitions but the very first
    // are contended, exactly K×M−1 futex waits on those K addresses.
    const { tj, doc } = await traceWorkload('contender', ['python3', '/workloads/futex-contend.py', '4', '10', '30'], { type: 'futexContention' });
    const rows = tableRows(doc, 'contended locks');
    const pids = (tj.status?.targets?.[0]?.['hostPIDs'] as number[]) ?? [];
    const top = rows.slice(0, 4);
    assert.equal(top.length, 4, JSON.stringify(rows));
    assert.equal(new Set(top.map((r) => r[1])).size, 4, JSON.stringify(top));
    for (const r of top) {
      assert.ok(pids.includes(Number(r[0])), `top lock pid ${r[0]} not a target pid ${pids}`);
      assert.equal(r[2], 'python3');
      // Each wait lasts roughly one to three 30 ms holds of the other threads.
      assert.ok(Number(r[4]) >= 20_000, JSON.stringify(r));
    }
    assert.equal(top.reduce((s, r) => s + Number(r[3]), 0), 39, JSON.stringify(top));
    // Every other wait is short (GIL hand-offs, the exec of the trigger) and nothing is the neighbour's.
    for (const r of rows.slice(4)) assert.ok(Number(r[4]) < 20_000, JSON.stringify(r));
    assert.ok(rows.every((r) => !/node|libuv/.test(String(r[2]))), JSON.stringify(rows));
  });

  test('tcpLife: 10 loopback connections in the pod → 20 lifespans (both ends), 10 to the listener port', async () => {
    const name = 'lifer';
    workloadPod(ns, name, ['node', '/workloads/connect-n.js', '10']);
    waitPodReady(ns, name);
    const port = await waitForAsync('listener port in the log', 30_000, () => /127\.0\.0\.1:(\d+)/.exec(k(['-n', ns, 'logs', name]))?.[1]);
    createTraceJob(ns, name, { target: { pod: { name } }, probe: { type: 'tcpLife' }, duration: '6s' });
    await waitForCondition(ns, name, 'Attached');
    trigger(ns, name);
    const tj = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const { doc } = readResult(ns, tj);
    assert.equal(doc.counters['connections'], 20, JSON.stringify(doc));
    assert.equal(doc.histograms.find((h) => h.name === 'connection duration')?.count, 20);
    assert.equal(doc.events.filter((e) => String(e['rport']) === port).length, 10);
    assert.equal(doc.events.filter((e) => String(e['lport']) === port).length, 10);
    assert.ok(doc.events.every((e) => e['laddr'] === '127.0.0.1' && e['raddr'] === '127.0.0.1'), JSON.stringify(doc.events[0]));
    k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  });

  test('portBinds: 3 binds of port 7000 in the target → port 7000 listed 3 times (the neighbour binds it too)', async () => {
    const { doc } = await traceWorkload('binder', ['node', '/workloads/ops-n.js', 'bind', '3', '7000'], { type: 'portBinds' });
    assert.deepEqual(tableRows(doc, 'bound ports'), [[7000, 'inet', 'node', 3]], JSON.stringify(doc.tables));
    assert.equal(doc.counters['binds'], 3);
    assert.deepEqual(tableRows(doc, 'failed binds'), []);
  });

  test('slowFileOps: 3 pipe reads blocking 300 ms, threshold 100 ms → exactly those 3 slow reads', async () => {
    const { doc } = await traceWorkload('slowreader', ['python3', '/workloads/slow-read.py', '3', '300'], { type: 'slowFileOps', params: { thresholdMs: 100 } });
    const slow = tableRows(doc, 'slow operations');
    assert.deepEqual(slow.map((r) => r.slice(0, 2)), [['read', 3]], JSON.stringify(doc.tables));
    assert.equal(doc.counters['slow'], 3);
    assert.equal(doc.events.length, 3);
    for (const e of doc.events) {
      assert.equal(e['op'], 'read');
      assert.ok(Number(e['latencyUs']) >= 290_000 && Number(e['latencyUs']) < 2_000_000, JSON.stringify(e));
      assert.equal(Number(e['ret']), 1);
    }
  });

  test('blockIOLatency: 16 O_DIRECT 4 KiB overwrites of an allocated file → 16 write I/Os on the root disk', async () => {
    const { doc } = await traceWorkload('directio', ['node', '/workloads/ops-n.js', 'direct', '16'], { type: 'blockIOLatency' });
    // O_DIRECT overwrites are issued in the writer's own context (journal and
    // writeback I/O from kernel threads is not the target's): one request each.
    const writes = tableRows(doc, 'by disk').filter((r) => r[1] === 'write');
    assert.equal(writes.reduce((s, r) => s + Number(r[2]), 0), 16, JSON.stringify(doc.tables));
    const hists = doc.histograms.filter((h) => / write$/.test((h as Hist).key ?? ''));
    assert.equal(hists.reduce((s, h) => s + h.count, 0), 16, JSON.stringify(doc.histograms));
    assert.equal(doc.counters['errors'] ?? 0, 0);
  });

  test('tcpRetransmits: a byte on an established connection lost to an nft rule in the pod → its retransmits on the right 4-tuple, as many as the kernel counted', async () => {
    const name = 'retrans';
    // nft in the pod's own network namespace only.
    workloadPod(ns, name, ['python3', '/workloads/retrans-drop.py', '1.5'], {}, 'Always', { securityContext: { capabilities: { add: ['NET_ADMIN'] } } });
    waitPodReady(ns, name);
    const ports = await waitForAsync('connection in the log', 30_000, () => /client 127\.0\.0\.1:(\d+) -> server 127\.0\.0\.1:(\d+)/.exec(k(['-n', ns, 'logs', name])) ?? undefined);
    const [, cport = '', sport = ''] = ports;
    const { doc } = await traceTriggered(ns, name, name, { target: { pod: { name } }, probe: { type: 'tcpRetransmits' }, duration: '6s' });
    const truth = Number(await waitForAsync('kernel retransmit count in the log', 20_000, () => new RegExp(`client port ${cport} total_retrans (\\d+)`).exec(k(['-n', ns, 'logs', name]))?.[1]));
    // TLP plus RTOs at ~0.2, 0.6, 1.4 s while the rule is in place: a handful, never none.
    assert.ok(truth >= 2, `the kernel counted ${truth} retransmits`);
    assert.equal(doc.counters['retransmits'], truth, JSON.stringify(doc));
    assert.deepEqual(tableRows(doc, 'by flow'), [['127.0.0.1', cport, '127.0.0.1', sport, truth]]);
    assert.deepEqual(tableRows(doc, 'by state').filter((r) => Number(r[1]) > 0), [['ESTABLISHED', truth]]);
    assert.equal(doc.events.length, truth);
    assert.ok(doc.events.every((e) => Number(e['sport']) === Number(cport) && Number(e['dport']) === Number(sport)), JSON.stringify(doc.events));
    k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  });

  test('tcpRetransmits: a SYN dropped by a full accept queue in the pod → its SYN retransmits on the right 4-tuple', async () => {
    const name = 'syndrop';
    workloadPod(ns, name, ['python3', '/workloads/syn-drop.py', '2.5']);
    waitPodReady(ns, name);
    const port = await waitForAsync('listener port in the log', 30_000, () => /127\.0\.0\.1:(\d+)/.exec(k(['-n', ns, 'logs', name]))?.[1]);
    // SYN retransmits come at 1 s, 2 s, 3 s… with linear SYN timeouts, else 1 s, 3 s…: 2.5 s gives 2 or 1.
    const linear = Number(k(['-n', ns, 'exec', name, '--', 'cat', '/proc/sys/net/ipv4/tcp_syn_linear_timeouts']).trim() || 0);
    const expected = linear >= 2 ? 2 : 1;
    createTraceJob(ns, name, { target: { pod: { name } }, probe: { type: 'tcpRetransmits' }, duration: '8s' });
    await waitForCondition(ns, name, 'Attached');
    trigger(ns, name);
    const tj = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const { doc } = readResult(ns, tj);
    const sport = await waitForAsync('client port in the log', 10_000, () => /from port (\d+) gave up/.exec(k(['-n', ns, 'logs', name]))?.[1]);
    assert.equal(doc.counters['retransmits'], expected, JSON.stringify(doc));
    assert.deepEqual(tableRows(doc, 'by flow'), [['127.0.0.1', sport, '127.0.0.1', port, expected]]);
    assert.deepEqual(tableRows(doc, 'by state').filter((r) => Number(r[1]) > 0), [['SYN_SENT', expected]]);
    assert.ok(doc.events.every((e) => e['stateName'] === 'SYN_SENT' && Number(e['rtoJiffies']) > 0), JSON.stringify(doc.events));
    k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  });
});
