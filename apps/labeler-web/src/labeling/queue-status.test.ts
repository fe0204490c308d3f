import { describe, expect, it } from 'vitest';
import { emptyQueueText } from './queue-status';

describe('emptyQueueText', () => {
  it('says the project is empty when nothing waits in it', () => {
    expect(emptyQueueText(0)).toMatch(/^Nothing waits in this project\./);
  });

  it('says why samples that wait in the project are not for this labeler (issue #20: "In the queue: 6" beside "empty for you")', () => {
    expect(emptyQueueText(6)).toMatch(/^Nothing left for you here\. 6 samples wait for other labelers: ones you answered or skipped, or that someone else is answering now\./);
    expect(emptyQueueText(1)).toContain('1 sample waits for other labelers');
  });
});
