/** The closed set of ways a function is triggered (its own module: telemetry and the function model both need it). */
export const triggerKinds = ['http', 'topic', 'job', 'binding'] as const;
export type TriggerKind = (typeof triggerKinds)[number];
