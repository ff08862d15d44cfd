import { InvalidTransportUrlError } from '@syncopate/messaging';
import { describe, expect, it } from 'vitest';
import { parseSqliteUrl } from '../src/index.js';

describe('sqlite transport URL', () => {
  it('reads the file and the options, with their defaults', () => {
    expect(parseSqliteUrl('sqlite:./data/q.db')).toEqual({ filename: './data/q.db', synchronous: 'full', pollMs: 25 });
    expect(parseSqliteUrl('sqlite:///tmp/q.db?synchronous=normal&poll=5')).toEqual({
      filename: '/tmp/q.db',
      synchronous: 'normal',
      pollMs: 5,
    });
  });

  it('explains a bad one', () => {
    expect(() => parseSqliteUrl('sqlite:')).toThrow(InvalidTransportUrlError);
    expect(() => parseSqliteUrl('sqlite:')).toThrow(/give a file path/);
    expect(() => parseSqliteUrl('sqlite:./x.db?synchronous=sometimes')).toThrow(/synchronous/);
    expect(() => parseSqliteUrl('sqlite:./x.db?poll=0')).toThrow(/poll must be an integer/);
  });
});
