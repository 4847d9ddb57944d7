'use strict';
// Token refresh: a short-lived connection token is renewed through getToken and the
// connection carries on.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHubbub, once, until, uniq } = require('./harness');

let h;
before(async () => { h = await startHubbub(); });
after(async () => { if (h) await h.stop(); });

test('a short-lived token is refreshed with getToken without reconnecting', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const name = uniq('lobby');
  const channel = await h.channel('PUBLIC', name);
  let calls = 0;
  const c = h.client({
    getToken: async () => {
      calls += 1;
      return h.token(jane, 2);
    },
  });
  let connects = 0;
  c.on('connected', () => { connects += 1; });
  c.connect();
  const sub = c.newSubscription(name);
  const pubs = [];
  sub.on('publication', (p) => pubs.push(p));
  sub.subscribe();
  await sub.ready(10_000);
  assert.equal(calls, 1);
  await until(() => calls >= 3, 'two refreshes', 15_000);
  assert.equal(connects, 1, 'refresh happens on the open connection');
  assert.equal(c.state, 'connected');
  await h.send(channel.id, jane, 'still here');
  await until(() => pubs.length === 1, 'a message after the refreshes');
  c.disconnect();
});

test('an expired token without getToken cannot connect', async () => {
  const jane = uniq('jane');
  await h.user(jane);
  const token = await h.token(jane, 1);
  await new Promise((r) => setTimeout(r, 2100));
  const c = h.client({ token });
  const errored = once(c, 'error');
  c.connect();
  const err = await errored;
  assert.ok(err.error, `an error is reported: ${JSON.stringify(err)}`);
  c.disconnect();
});
