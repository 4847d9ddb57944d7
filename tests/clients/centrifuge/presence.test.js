'use strict';
// Presence, presence stats and join/leave pushes.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHubbub, once, until, uniq } = require('./harness');

let h;
before(async () => { h = await startHubbub(); });
after(async () => { if (h) await h.stop(); });

test('presence lists the clients, presence_stats counts them, join/leave are pushed', async () => {
  const jane = uniq('jane');
  const john = uniq('john');
  await h.user(jane);
  await h.user(john);
  const name = uniq('lobby');
  await h.channel('PUBLIC', name);

  const a = h.client({ token: await h.token(jane) });
  a.connect();
  const subA = a.newSubscription(name, { joinLeave: true });
  const joins = [];
  const leaves = [];
  subA.on('join', (ctx) => joins.push(ctx));
  subA.on('leave', (ctx) => leaves.push(ctx));
  subA.subscribe();
  await subA.ready(10_000);

  const b = h.client({ token: await h.token(john) });
  b.connect();
  const subB = b.newSubscription(name);
  subB.subscribe();
  await subB.ready(10_000);
  await until(() => joins.length === 1, 'john\'s join');
  assert.equal(joins[0].info.user, john);
  assert.equal(typeof joins[0].info.client, 'string');

  const presence = await subA.presence();
  const users = Object.values(presence.clients).map((i) => i.user).sort();
  assert.deepEqual(users, [jane, john].sort());
  const stats = await subA.presenceStats();
  assert.deepEqual(stats, { numClients: 2, numUsers: 2 });

  const viewer = h.client({ token: await h.token('') });
  viewer.connect();
  const subV = viewer.newSubscription(name);
  subV.subscribe();
  await subV.ready(10_000);
  assert.deepEqual(await subA.presenceStats(), { numClients: 3, numUsers: 3 }, 'an anonymous viewer counts');
  viewer.disconnect();

  subB.unsubscribe();
  await until(() => leaves.some((l) => l.info.user === john), 'john\'s leave');
  const after = await subA.presenceStats();
  assert.equal(after.numClients, 1);
  a.disconnect();
  b.disconnect();
});
