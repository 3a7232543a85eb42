// The probe type names the CRD accepts. The catalog in src/probes registers one
// module per name; a test fails if the two lists drift. Kept here (not derived
// from the catalog) so the API package has no dependency on probe internals.
export const CATALOG_PROBES = [
  'execs',
  'fileOpens',
  'syscallCounts',
  'syscallLatency',
  'slowFileOps',
  'fsLatency',
  'blockIOLatency',
  'blockIOTop',
  'pageCache',
  'tcpRetransmits',
  'tcpConnectLatency',
  'tcpAccepts',
  'synBacklog',
  'tcpLife',
  'packetSizes',
  'tcpSendSizes',
  'trafficByProcess',
  'packetDrops',
  'portBinds',
  'dnsLatency',
  'funcLatency',
  'cpuProfile',
  'threadTimes',
  'offCpu',
  'runqLatency',
  'futexContention',
  'oomKills',
  'interrupts',
] as const;

/** Probe types whose program comes from the user rather than the catalog. */
export const CUSTOM_PROBES = ['bpftrace', 'systemtap'] as const;

export const PROBE_TYPES = [...CATALOG_PROBES, ...CUSTOM_PROBES] as const;

export type CatalogProbeName = (typeof CATALOG_PROBES)[number];
export type CustomProbeName = (typeof CUSTOM_PROBES)[number];
export type ProbeType = (typeof PROBE_TYPES)[number];

export function isCustomProbe(type: string): type is CustomProbeName {
  return (CUSTOM_PROBES as readonly string[]).includes(type);
}
