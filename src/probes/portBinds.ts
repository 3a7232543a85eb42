// portBinds — who binds which port (the article's inet_csk_get_port /
// walk_bhash.stp cases), from syscalls:sys_enter_bind/sys_exit_bind: the
// sockaddr is read from user memory at entry (IPv4 and IPv6 keep the port at
// the same offset), the result at exit. Port 0 means "kernel picks".
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import type { EventSpec } from './shape.js';

export const BIND_EVENT: EventSpec = {
  kind: 'bind',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'port', type: 'n' },
    { name: 'family', type: 'n' },
    { name: 'ret', type: 'n' },
    { name: 'comm', type: 's' },
  ],
};

export const portBinds = defineProbe({
  name: 'portBinds',
  summary: 'bind() calls on IPv4/IPv6 sockets: port, family, result and process; failures (e.g. EADDRINUSE) by port.',
  covers: 'inet_csk_get_port / walk_bhash.stp (who holds which port)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:syscalls:sys_enter_bind', 'tracepoint:syscalls:sys_exit_bind'],
  unsupported: (caps) => tracepointsMissing(caps, ['syscalls:sys_enter_bind', 'syscalls:sys_exit_bind']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    return [
      block('tracepoint:syscalls:sys_enter_bind', k.target, [
        `  $sa = (struct sockaddr_in *)${a('umyaddr')};`,
        '  $family = $sa->sin_family;',
        '  if ($family == 2 || $family == 10) {',
        '    @bind_port[tid] = (($sa->sin_port & 0xff) << 8) | ($sa->sin_port >> 8);',
        '    @bind_family[tid] = $family;',
        '    @pending[tid] = 1;',
        '  }',
      ]),
      block('tracepoint:syscalls:sys_exit_bind', '@pending[tid]', [
        '  $port = @bind_port[tid];',
        `  $ret = ${a('ret')};`,
        '  @count = count();',
        '  if ($ret == 0) { @by_port[$port, @bind_family[tid], comm] = count(); }',
        '  else { @failed[$port, -$ret] = count(); }',
        ...k.emit(BIND_EVENT, ['pid', '$port', '@bind_family[tid]', '$ret', 'comm']),
        '  delete(@bind_port[tid]);',
        '  delete(@bind_family[tid]);',
        '  delete(@pending[tid]);',
      ]),
      endBlock(['@bind_port', '@bind_family', '@pending']),
    ];
  },
  shape: {
    counters: [{ map: '@count', name: 'binds' }],
    tables: [
      {
        map: '@by_port',
        name: 'bound ports',
        keyColumns: ['port', 'family', 'comm'],
        value: { kind: 'count', column: 'binds' },
        formatKey: ([p, f, c]) => [Number(p), f === '10' ? 'inet6' : 'inet', c ?? ''],
      },
      { map: '@failed', name: 'failed binds', keyColumns: ['port', 'errno'], value: { kind: 'count', column: 'failures' } },
    ],
    events: [BIND_EVENT],
    headline: (r) => `binds=${r.counters['binds'] ?? 0}`,
  },
  notes: () => ['port 0 means the kernel picks an ephemeral port (resolved in inet_csk_get_port, which needs kprobes)'],
});
