'use strict';
// Connect with a token, subscribe, receive REST messages live, publish, history, and a
// refused subscribe to a private channel — all through the official centrifuge client.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHubbub, once, until, uniq } = require('./harness');

let h;
before(async () => { h = await startHubbub(); });
after(async () => { if (h) await h.stop(); });

test('connects with a CLI-minted token, subscribes and receives a message posted over REST', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const name = uniq('lobby');
  const channel = await h.channel('PUBLIC', name);
  const c = h.client({ token: await h.cliToken(jane) });
  const connected = once(c, 'connected');
  c.connect();
  const ctx = await connected;
  assert.equal(typeof ctx.client, 'string');
  assert.ok(ctx.client.length > 0);

  const sub = c.newSubscription(name);
  const pubs = [];
  sub.on('publication', (p) => pubs.push(p));
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  const sctx = await subscribed;
  assert.equal(sctx.recoverable, true);
  assert.equal(sctx.positioned, true);
  assert.deepEqual(sctx.streamPosition, { offset: 0, epoch: channel.epoch });

  await h.send(channel.id, jane, 'hello from REST');
  await until(() => pubs.length === 1, 'the REST message');
  assert.equal(pubs[0].data.type, 'message.created');
  assert.equal(pubs[0].data.message.body, 'hello from REST');
  assert.equal(pubs[0].data.message.user.name, jane);
  assert.equal(pubs[0].offset, 1);
  c.disconnect();
});

test('publish sends a message through the engine; history pages it', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const name = uniq('lobby');
  const channel = await h.channel('PUBLIC', name);
  const c = h.client({ token: await h.token(jane) });
  c.connect();
  const sub = c.newSubscription(name);
  const pubs = [];
  sub.on('publication', (p) => pubs.push(p));
  sub.subscribe();
  await sub.ready(10_000);

  for (const body of ['one', 'two', 'three']) {
    await sub.publish({ body });
  }
  await until(() => pubs.length === 3, 'three publications');
  assert.deepEqual(pubs.map((p) => p.data.message.body), ['one', 'two', 'three']);
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3]);

  const stored = await h.rest('GET', `/v1/channels/${channel.id}/messages`);
  assert.equal(stored.page.total, 3, 'published messages are stored');

  const all = await sub.history({ limit: 10 });
  assert.deepEqual(all.publications.map((p) => p.data.message.body), ['one', 'two', 'three']);
  assert.equal(all.offset, 3);
  assert.equal(all.epoch, channel.epoch);
  const newest = await sub.history({ limit: 2, reverse: true });
  assert.deepEqual(newest.publications.map((p) => p.offset), [3, 2]);
  const since = await sub.history({ limit: 10, since: { offset: 1, epoch: channel.epoch } });
  assert.deepEqual(since.publications.map((p) => p.offset), [2, 3]);

  await assert.rejects(sub.publish({ body: '' }), (e) => e.code === 107, 'an empty body is a bad request');
  c.disconnect();
});

test('a subscribe to a private channel the user is not a member of is refused (103)', async () => {
  const eve = uniq('eve');
  const owner = uniq('owner');
  await h.user(eve);
  await h.user(owner);
  const name = uniq('secret');
  await h.channel('PRIVATE', name, [owner]);
  const c = h.client({ token: await h.token(eve) });
  c.connect();
  const sub = c.newSubscription(name);
  const unsubscribed = once(sub, 'unsubscribed');
  sub.subscribe();
  // A permanent error ends the subscription with the error's code.
  const ctx = await unsubscribed;
  assert.equal(ctx.code, 103, JSON.stringify(ctx));
  assert.equal(sub.state, 'unsubscribed');

  const member = h.client({ token: await h.token(owner) });
  member.connect();
  const ok = member.newSubscription(name);
  ok.subscribe();
  await ok.ready(10_000);
  c.disconnect();
  member.disconnect();
});

test('rpc: typing reaches subscribers as a keystrokes event', async () => {
  const jane = uniq('jane');
  const john = uniq('john');
  await h.user(jane);
  await h.user(john);
  const name = uniq('lobby');
  await h.channel('PUBLIC', name);
  const a = h.client({ token: await h.token(jane) });
  const b = h.client({ token: await h.token(john) });
  a.connect();
  b.connect();
  const sub = a.newSubscription(name);
  const pubs = [];
  sub.on('publication', (p) => pubs.push(p));
  sub.subscribe();
  await sub.ready(10_000);
  await b.ready(10_000);
  const res = await b.rpc('typing', { channel: name });
  assert.deepEqual(res.data, {});
  await until(() => pubs.length === 1, 'the typing event');
  assert.equal(pubs[0].data.type, 'keystrokes');
  assert.equal(pubs[0].data.user.name, john);
  await assert.rejects(b.rpc('no_such_method', {}), (e) => e.code === 104);
  a.disconnect();
  b.disconnect();
});
