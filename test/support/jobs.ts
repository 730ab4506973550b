// Parts of job definitions that runtime tests write by hand, as generated code would.
import type { SourceDefinition } from '../../runtime/api.ts';

/** Source `orders`: the generator's orders (10 % up to 1 s out of order) with their `ts` as event time, 2 s of out-of-orderness allowed. */
export function generatedOrders(seed: number, count: number, decode: SourceDefinition['decode']): SourceDefinition {
  return {
    id: 'orders',
    connector: 'generator',
    options: { dataset: 'orders', seed, count, out_of_order: 0.1, max_lateness: 1000 },
    decode,
    eventTime: { extract: (order: { ts: number }) => order.ts, maxOutOfOrdernessMs: 2000, idleTimeoutMs: 0 },
  };
}
