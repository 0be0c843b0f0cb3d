export { OUTBOX_SWEEP_BINDING, outboxSweep } from './outboxSweep.ts';
