import { describe, expect, it } from 'vitest';
import { allows, homeScreen, parseRoute, routeHref, screensFor, whoMayOpen } from './routes';

const ID = '0b7e4c8a-9d2f-4c1e-8a3b-5f6d7e8c9a0b';

describe('routes', () => {
  it("reads a screen and the project or rollout it shows from the address, and back", () => {
    expect(routeHref('label', ID)).toBe(`#/label/${ID}`);
    expect(parseRoute(routeHref('label', ID))).toEqual({ screen: 'label', id: ID });
    expect(parseRoute(routeHref('rollouts', ID))).toEqual({ screen: 'rollouts', id: ID });
    expect(parseRoute(routeHref('training', ID))).toEqual({ screen: 'training', id: ID });
    expect(parseRoute('#/review')).toEqual({ screen: 'review', id: null });
    expect(parseRoute('#/rollouts/')).toEqual({ screen: 'rollouts', id: null });
  });

  it('names no route for an empty or unknown address', () => {
    for (const hash of ['', '#', '#/', '#/nowhere', '#/label-x', 'label', '#/LABEL']) expect(parseRoute(hash)).toBeNull();
  });

  it('keeps an id with characters an address escapes in one piece', () => {
    expect(parseRoute(routeHref('rollouts', 'a/b c'))).toEqual({ screen: 'rollouts', id: 'a/b c' });
    expect(parseRoute('#/rollouts/50%')).toEqual({ screen: 'rollouts', id: '50%' });
  });

  it('links each role to the screens the cloud serves it, and nothing that would answer 403', () => {
    expect(screensFor('labeler')).toEqual(['label', 'projects', 'models', 'training']);
    expect(screensFor('reviewer')).toEqual(['label', 'review', 'projects', 'models', 'training']);
    expect(screensFor('engineer')).toEqual(['projects', 'models', 'training', 'fleet', 'rollouts']);
    expect(screensFor('admin')).toEqual(['projects', 'models', 'training', 'fleet', 'rollouts']);
    expect(allows('review', 'labeler')).toBe(false);
  });

  it("opens each role's own work first and says who may open a screen", () => {
    expect([homeScreen('labeler'), homeScreen('reviewer'), homeScreen('engineer'), homeScreen('admin')]).toEqual(['label', 'review', 'projects', 'projects']);
    expect(whoMayOpen('review')).toBe('reviewers');
    expect(whoMayOpen('label')).toBe('labelers and reviewers');
    expect(whoMayOpen('fleet')).toBe('engineers and admins');
  });
});
