// Window operators of the runtime: tumbling, sliding, session and global windows, and what they share.
export type { WindowAggregation } from './aggregation.ts';
export { windowStart, greatestCommonDivisor } from './assigners.ts';
export { rejectLateRecord, type WindowOperatorOptions } from './lateness.ts';
export { TumblingWindowOperator, type TumblingWindowOptions } from './tumbling.ts';
export { SlidingWindowOperator, type SlidingWindowOptions } from './sliding.ts';
export { SessionWindowOperator, type SessionWindowOptions } from './session.ts';
export { GlobalWindowOperator, type GlobalWindowOptions, type GlobalTrigger, type GlobalEvictor } from './global.ts';
export { CountEvictor, TimeEvictor, KeptRecords, type Evictor } from './evictors.ts';
