// Cursor parsing, formatting and merging (src/client/src/cursor.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseId, compareSeq, parseCursor, formatCursor, mergeCursor, advanceCursor, cursorCovers,
} from '../../src/client/src/cursor.js';

test('parseId splits at the last dash (epochs are base64url and may contain "-")', () => {
  assert.deepEqual(parseId('q3Zx0aB1-42'), { epoch: 'q3Zx0aB1', seq: '42' });
  assert.deepEqual(parseId('a-b_c-7'), { epoch: 'a-b_c', seq: '7' });
  assert.deepEqual(parseId('E-007'), { epoch: 'E', seq: '7' });
  assert.deepEqual(parseId('E-0'), { epoch: 'E', seq: '0' });
  for (const bad of ['', '42', '-42', 'E-', 'E-x', 'E!-1', 'E-1.5', null, 5]) {
    assert.equal(parseId(bad), null, String(bad));
  }
});

test('compareSeq is numeric and exact beyond 2^53', () => {
  assert.equal(compareSeq('9', '10'), -1);
  assert.equal(compareSeq('10', '9'), 1);
  assert.equal(compareSeq('010', '10'), 0);
  assert.equal(compareSeq('18446744073709551615', '18446744073709551614'), 1);
  assert.equal(compareSeq('9007199254740993', '9007199254740992'), 1);
});

test('parseCursor reads every entry in order; formatCursor writes them back', () => {
  const text = 'room1:q3Zx0aB1-42,room2:Lk9p2Hc0-7,a.b~c@d:x-y-0';
  const c = parseCursor(text);
  assert.deepEqual([...c.keys()], ['room1', 'room2', 'a.b~c@d']);
  assert.deepEqual(c.get('room2'), { epoch: 'Lk9p2Hc0', seq: '7' });
  assert.deepEqual(c.get('a.b~c@d'), { epoch: 'x-y', seq: '0' });
  assert.equal(formatCursor(c), text);
  assert.equal(parseCursor('').size, 0);
  assert.equal(parseCursor(undefined).size, 0);
});

test('formatCursor puts the given channel order first, then the rest', () => {
  const c = parseCursor('b:E-1,c:F-2,a:G-3');
  assert.equal(formatCursor(c, ['a', 'b']), 'a:G-3,b:E-1,c:F-2');
  assert.equal(formatCursor(c, ['zz', 'c']), 'c:F-2,b:E-1,a:G-3');
  assert.equal(formatCursor('x:E-5'), 'x:E-5');
});

test('parseCursor rejects malformed entries and names them', () => {
  assert.throws(() => parseCursor('room1'), /entry 1/);
  assert.throws(() => parseCursor('room1:E-1,room2:E'), /entry 2 "room2:E"/);
  assert.throws(() => parseCursor('bad channel:E-1'), TypeError);
  assert.throws(() => parseCursor('r:E-1,,r2:E-2'), /entry 2/);
});

test('mergeCursor: server cursors replace per channel (even backwards), others kept', () => {
  const base = parseCursor('a:E-10,b:F-3');
  const merged = mergeCursor(base, 'a:E-4,c:G-1');
  assert.equal(formatCursor(merged), 'a:E-4,b:F-3,c:G-1');
  assert.equal(formatCursor(base), 'a:E-10,b:F-3', 'inputs are not modified');
});

test('mergeCursor monotonic: same epoch keeps the higher sequence; new epoch replaces', () => {
  const base = parseCursor('a:E-10,b:F-3');
  const merged = mergeCursor(base, 'a:E-4,b:F-9', { monotonic: true });
  assert.equal(formatCursor(merged), 'a:E-10,b:F-9');
  const reset = mergeCursor(base, 'a:NEW-1', { monotonic: true });
  assert.equal(formatCursor(reset), 'a:NEW-1,b:F-3');
});

test('advanceCursor moves one channel to a message id, never backwards', () => {
  let c = parseCursor('a:E-0,b:F-5');
  c = advanceCursor(c, 'a', 'E-1');
  c = advanceCursor(c, 'a', 'E-2');
  assert.equal(formatCursor(c), 'a:E-2,b:F-5');
  c = advanceCursor(c, 'a', 'E-1');
  assert.equal(formatCursor(c), 'a:E-2,b:F-5', 'an older id (a resend) does not rewind');
  c = advanceCursor(c, 'new', 'Z-9');
  assert.equal(formatCursor(c), 'a:E-2,b:F-5,new:Z-9');
  c = advanceCursor(c, 'a', 'garbage');
  assert.equal(formatCursor(c), 'a:E-2,b:F-5,new:Z-9');
});

test('cursorCovers tells whether every channel has a position', () => {
  const c = parseCursor('a:E-1');
  assert.equal(cursorCovers(c, ['a']), true);
  assert.equal(cursorCovers(c, ['a', 'b']), false);
});
