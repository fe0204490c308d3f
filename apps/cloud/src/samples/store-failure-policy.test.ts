import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { StoreFailurePolicy } from './store-failure-policy';

const nul = Object.assign(new pg.DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', 0, 'error'), { code: '22021' });
const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const puzzling = new TypeError('something no one foresaw');

describe('StoreFailurePolicy', () => {
  it('refuses a sample whose content storage refused, at once', () => {
    expect(new StoreFailurePolicy(3).decide('a', nul)).toEqual({ kind: 'refuse', reason: 'invalid', detail: 'refused by storage: invalid byte sequence for encoding "UTF8": 0x00' });
  });

  it("never refuses a sample for the cloud's own outage, however often it fails", () => {
    const policy = new StoreFailurePolicy(3);
    for (let i = 0; i < 10; i++) {
      policy.noteStored(`other-${i}`);
      expect(policy.decide('a', unreachable)).toEqual({ kind: 'retry', failure: 'infrastructure', failures: 0 });
    }
  });

  it('refuses as unstorable a sample that fails in an unknown way again and again while others are stored', () => {
    const policy = new StoreFailurePolicy(3);
    expect(policy.decide('A', puzzling)).toEqual({ kind: 'retry', failure: 'unknown', failures: 1 });
    policy.noteStored('other');
    expect(policy.decide('a', puzzling)).toEqual({ kind: 'retry', failure: 'unknown', failures: 2 });
    expect(policy.decide('a', puzzling)).toEqual({ kind: 'refuse', reason: 'unstorable', detail: 'failed 3 times while other samples were stored: something no one foresaw' });
  });

  it('keeps retrying an unknown failure while nothing stores at all, which is the cloud failing and not the sample', () => {
    const policy = new StoreFailurePolicy(3);
    const decisions = Array.from({ length: 6 }, () => policy.decide('a', puzzling).kind);
    expect(decisions).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'retry']);
  });

  it('starts a sample afresh once it stored, and forgets the longest-tallied beyond its capacity', () => {
    const policy = new StoreFailurePolicy(2, 2);
    policy.decide('a', puzzling);
    policy.noteStored('a');
    policy.noteStored('b');
    expect(policy.decide('a', puzzling)).toMatchObject({ kind: 'retry', failures: 1 });
    policy.decide('b', puzzling);
    policy.decide('c', puzzling);
    policy.noteStored('d');
    // 'a' was forgotten when 'c' came, so this is its first failure again.
    expect(policy.decide('a', puzzling)).toMatchObject({ kind: 'retry', failures: 1 });
    expect(policy.decide('c', puzzling)).toMatchObject({ kind: 'refuse', reason: 'unstorable' });
  });
});
