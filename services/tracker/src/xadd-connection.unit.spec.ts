import { describe, expect, it } from 'vitest';
import { handshake, readReplies, respCommand } from './xadd-connection.ts';

describe('RESP for the XADD connection', () => {
  it('writes a command as an array of bulk strings, lengths in bytes', () => {
    expect(respCommand(['XADD', 's', '*', 'e', 'ü'])).toBe('*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\ne\r\n$2\r\nü\r\n');
  });

  it('opens with AUTH when the URL has a password (with the user when it has one), its name, and SELECT for a database other than 0', () => {
    const setName = ['CLIENT', 'SETNAME', 'tracker/a/xadd'];
    expect(handshake(new URL('redis://127.0.0.1:6379'), 'tracker/a/xadd')).toEqual([setName]);
    expect(handshake(new URL('redis://:s%40cret@h/0'), 'tracker/a/xadd')).toEqual([['AUTH', 's@cret'], setName]);
    expect(handshake(new URL('rediss://tracker:pw@h:6380/3'), 'tracker/a/xadd')).toEqual([['AUTH', 'tracker', 'pw'], setName, ['SELECT', '3']]);
  });

  it('reads complete replies in order — bulk, null bulk, simple, integer, error — and keeps a partial one for later', () => {
    const { replies, rest } = readReplies('$15\r\n1764000000000-0\r\n$-1\r\n+OK\r\n:3\r\n-WRONGTYPE Operation against a key\r\n$15\r\n17640');
    expect(replies).toEqual([null, null, null, null, 'WRONGTYPE Operation against a key']);
    expect(rest).toBe('$15\r\n17640');
    expect(readReplies(`${rest}00000000-1\r\n`)).toEqual({ replies: [null], rest: '' });
  });

  it('refuses what an XADD never answers (an array)', () => {
    expect(() => readReplies('*2\r\n')).toThrow(/unexpected reply/);
  });
});
