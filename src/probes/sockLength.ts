// Shared by tcpSendSizes and trafficByProcess: sock:sock_send_length /
// sock:sock_recv_length (Linux ≥ 6.3) run in the sending/receiving task's
// context with the bytes actually transferred.
import type { NodeCapabilities } from './types.js';
import { tracepointsMissing } from './define.js';

export function sockLengthMissing(caps: NodeCapabilities, tps: string[]): string | undefined {
  const m = tracepointsMissing(caps, tps);
  return m ? `${m} (Linux >= 6.3)` : undefined;
}

/** IPPROTO numbers → names for the protocol column. */
export const IPPROTO: Record<string, string> = { '0': 'ip', '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6', '132': 'sctp', '262': 'mptcp' };
export const AF: Record<string, string> = { '1': 'unix', '2': 'inet', '10': 'inet6', '16': 'netlink', '17': 'packet' };
