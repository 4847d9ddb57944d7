'use strict';
// Recovery after a forced disconnect: the messages posted while the client was away are
// received once each, in order, then live delivery continues.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHubbub, once, until, uniq } = require('./harness');

let h;
before(async () => { h = await startHubbub(); });
after(async () => { if (h) await h.stop(); });

test('missed messages are recovered exactly once, in order, after the socket is cut', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const name = uniq('lobby');
  const channel = await h.channel('PUBLIC', name);
  // A slow first reconnect leaves time to post while the client is away.
  const c = h.client({ token: await h.token(jane), minReconnectDelay: 1500, maxReconnectDelay: 2000 });
  c.connect();
  const sub = c.newSubscription(name);
  const pubs = [];
  const subscribed = [];
  sub.on('publication', (p) => pubs.push(p));
  sub.on('subscribed', (ctx) => subscribed.push(ctx));
  sub.subscribe();
  await sub.ready(10_000);
  await h.send(channel.id, jane, 'before');
  await until(() => pubs.length === 1, 'the first message');

  const disconnected = once(c, 'connecting');
  c.sockets.at(-1).terminate(); // the transport dies without a close frame
  await disconnected;
  for (let i = 1; i <= 5; i += 1) {
    await h.send(channel.id, jane, `missed ${i}`);
  }
  await until(() => subscribed.length === 2, 'the resubscribe');
  assert.equal(subscribed[1].wasRecovering, true);
  assert.equal(subscribed[1].recovered, true);
  await h.send(channel.id, jane, 'after');
  await until(() => pubs.length === 7, 'all seven messages');
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(pubs.map((p) => p.data.message.body),
    ['before', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'after']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(pubs.length, 7, 'nothing arrives twice');
  c.disconnect();
});
