'use strict';
// The SSE feed: text/event-stream with id = seq, resumable with Last-Event-ID.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHubbub, uniq } = require('./harness');

let h;
before(async () => { h = await startHubbub(); });
after(async () => { if (h) await h.stop(); });

/** Reads `count` data events from an SSE response; returns [{id, data}]. */
async function readEvents(res, count) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events = [];
  const deadline = Date.now() + 10_000;
  while (events.length < count) {
    assert.ok(Date.now() < deadline, `got ${events.length} of ${count} events in time`);
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream stays open');
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = null;
      let data = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
      }
      if (data) events.push({ id, seq: id === null ? null : Number(id.split(':')[0]), data });
    }
  }
  await reader.cancel();
  return events;
}

test('an SSE stream resumes with Last-Event-ID: each missed event once, then live', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const name = uniq('stage');
  const channel = await h.channel('PUBLIC', name);
  const token = await h.token('', 600);
  const url = `${h.url}/connection/sse?channel=${encodeURIComponent(name)}&token=${token}`;
  const first = await fetch(url);
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type'), /^text\/event-stream/);
  for (let i = 1; i <= 3; i += 1) await h.send(channel.id, jane, `m${i}`);
  const seen = await readEvents(first, 3);
  assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3]);
  assert.ok(seen.every((e) => /^\d+:.+$/.test(e.id)), 'ids are <seq>:<epoch>');
  assert.equal(seen[0].data.message.body, 'm1');

  for (let i = 4; i <= 6; i += 1) await h.send(channel.id, jane, `m${i}`);
  const resumed = await fetch(url, { headers: { 'Last-Event-ID': String(seen.at(-1).id) } });
  assert.equal(resumed.status, 200);
  await h.send(channel.id, jane, 'm7');
  const rest = await readEvents(resumed, 4);
  assert.deepEqual(rest.map((e) => e.seq), [4, 5, 6, 7]);
  assert.deepEqual(rest.map((e) => e.data.message.body), ['m4', 'm5', 'm6', 'm7']);
});
