// Event time for the runtime: watermarks and timers.
export { TimerService, type Timer } from './timers.ts';
export { WatermarkTracker, WatermarkCombiner, combineWatermarks, boundedOutOfOrdernessWatermark } from './watermarks.ts';
