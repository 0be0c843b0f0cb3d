import { describe, expect, it } from 'vitest';
import { kedaReplicas } from './kafka-lag.ts';

const scaling = {
  minReplicaCount: 0,
  maxReplicaCount: 6,
  lagThreshold: 100,
  activationLagThreshold: 10,
  allowIdleConsumers: false,
};

describe('kedaReplicas (the replica count KEDA derives from Kafka lag)', () => {
  it.each([
    [0, 0],
    [10, 0],
    [11, 1],
    [100, 1],
    [101, 2],
    [550, 6],
    [20_000, 6],
  ])('lag %i over 6 partitions → %i replicas', (lag, replicas) => {
    expect(kedaReplicas(lag, 6, scaling)).toBe(replicas);
  });

  it('caps at the partition count unless idle consumers are allowed, and at maxReplicaCount always', () => {
    expect(kedaReplicas(20_000, 3, scaling)).toBe(3);
    expect(kedaReplicas(20_000, 3, { ...scaling, allowIdleConsumers: true })).toBe(6);
    expect(kedaReplicas(20_000, 60, { ...scaling, allowIdleConsumers: true, maxReplicaCount: 10 })).toBe(10);
  });

  it('keeps minReplicaCount when it is above zero', () => {
    expect(kedaReplicas(0, 6, { ...scaling, minReplicaCount: 1 })).toBe(1);
  });
});
