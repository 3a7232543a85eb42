// The leader elector's LeaseClient over coordination.k8s.io/v1 Leases.
// Times are written as V1MicroTime: the API server parses renewTime and
// acquireTime as RFC 3339 with exactly six fractional digits, and a plain
// Date serialises with three.

import { type CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { LeaseClient, LeaseRecord } from '../runtime/leader.js';
import { AlreadyExistsError, ConflictError, NotFoundError, parseApiError } from './errors.js';

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const date = (d: Date | string | undefined): Date | undefined => (d === undefined ? undefined : new Date(d));
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: date(spec.acquireTime),
    renewTime: date(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

function toLease(name: string, namespace: string, r: LeaseRecord): V1Lease {
  const micro = (d: Date | undefined): V1MicroTime | undefined => (d === undefined ? undefined : new V1MicroTime(d.getTime()));
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, resourceVersion: r.resourceVersion },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: micro(r.acquireTime),
      renewTime: micro(r.renewTime),
      leaseTransitions: r.leaseTransitions,
    },
  };
}

/** The operator's leader-election Lease; the chart's Role may read and renew only this name. */
export const OPERATOR_LEASE = 'tracejob-operator';

/** LeaseClient for the Lease `namespace/name`. */
export function leaseClient(api: CoordinationV1Api, namespace: string, name: string): LeaseClient {
  return {
    async get() {
      try {
        return toRecord(await api.readNamespacedLease({ name, namespace }));
      } catch (e) {
        const err = parseApiError(e);
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    async create(record) {
      try {
        return toRecord(await api.createNamespacedLease({ namespace, body: toLease(name, namespace, { ...record, resourceVersion: undefined }) }));
      } catch (e) {
        const err = parseApiError(e);
        if (err instanceof AlreadyExistsError || err instanceof ConflictError) return null;
        throw err;
      }
    },
    async update(record) {
      try {
        return toRecord(await api.replaceNamespacedLease({ name, namespace, body: toLease(name, namespace, record) }));
      } catch (e) {
        const err = parseApiError(e);
        if (err instanceof ConflictError || err instanceof NotFoundError) return null;
        throw err;
      }
    },
  };
}
