'use strict';
// Mentions in messages and user notifications (UsersApi.listUserNotifications).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

function notificationsOf(body, what) {
  h.assertPlainObject(body, what);
  h.assertPlainObject(body.page, `${what}.page`);
  assert.equal(typeof body.page.size, 'number');
  assert.equal(typeof body.page.total, 'number');
  h.assertPlainObject(body._links.self, `${what}._links.self`);
  const items = (body._embedded && body._embedded.notifications) || [];
  for (const [i, n] of items.entries()) {
    const w = `${what} item ${i}`;
    h.assertId(n.id, `${w}.id`);
    assert.equal(typeof n.title, 'string', `${w}.title`);
    assert.equal(typeof n.body, 'string', `${w}.body`);
    h.assertTime(n.created_time, `${w}.created_time`);
    assert.equal(typeof n.muted, 'boolean', `${w}.muted`);
    h.assertPlainObject(n.data, `${w}.data`);
    assert.equal(typeof n.data.type, 'string', `${w}.data.type`);
    h.assertId(n.data.channel_id, `${w}.data.channel_id`);
    if (n.channel) h.assertChannel(n.channel, { id: n.data.channel_id }, `${w}.channel`);
  }
  return items;
}

describe('notifications and mentions', { timeout: 60_000 }, () => {
  let hb;
  let ck;
  let jane;
  let bob;
  let room;
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
    const mk = (n) => h.ok(ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    jane = await mk('jane');
    bob = await mk('bob');
    room = await h.ok(ck.ChannelsApi.createChannel({
      type: 'PUBLIC', name: h.uniq('room'), members: [{ username: jane.name }, { username: bob.name }],
    }), 'createChannel');
  });
  after(async () => { if (hb) await hb.stop(); });

  it('mentions: @username and #channel are parsed into mentions on the message', async () => {
    const body = `hey @${jane.name}, see #${room.name}!`;
    const m = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body, user: { username: bob.name } }), 'send');
    assert.equal(m.mentions.length, 2, JSON.stringify(m.mentions));
    const [user, channel] = m.mentions;
    assert.equal(user.type, 'USER');
    assert.equal(user.tag, `@${jane.name}`);
    assert.equal(user.start_position, 4);
    assert.equal(user.end_position, 4 + jane.name.length + 1);
    assert.equal(body.slice(user.start_position, user.end_position), user.tag);
    h.assertUser(user.user, { id: jane.id, name: jane.name });
    assert.equal(channel.type, 'CHANNEL');
    assert.equal(body.slice(channel.start_position, channel.end_position), `#${room.name}`);
    assert.equal(channel.channel.id, room.id);
    const got = await h.ok(ck.MessagesApi.retrieveMessage(m.id), 'retrieveMessage');
    assert.deepEqual(got.mentions, m.mentions, 'stored with the message');
  });

  it('listUserNotifications: a mention notifies the mentioned user', async () => {
    const page = await h.ok(ck.UsersApi.listUserNotifications(jane.id), 'listUserNotifications');
    const items = notificationsOf(page, 'jane');
    assert.equal(items.length, 1);
    const n = items[0];
    assert.equal(n.data.type, 'chat_user:mentioned:chat_user');
    assert.equal(n.title, 'bob mentioned you');
    assert.equal(n.muted, false);
    h.assertUser(n.data.mentioned_user, { id: jane.id });
    h.assertMessage(n.data.message, { type: 'TEXT' });
    assert.equal(n.data.message.user.id, bob.id);
    assert.equal(notificationsOf(await h.ok(ck.UsersApi.listUserNotifications(bob.id), 'bob'), 'bob').length, 0,
      'authors are not notified of their own messages');
  });

  it('listUserNotifications: replies notify the author replied to; system messages notify members', async () => {
    const hers = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'lunch?', user: { username: jane.name } }), 'hers');
    const reply = await h.ok(ck.ThreadsApi.sendThreadMessage(hers.id, { type: 'TEXT', body: 'yes', user: { username: bob.name } }), 'reply');
    const system = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'Room closes at 6' }), 'system');
    const items = notificationsOf(await h.ok(ck.UsersApi.listUserNotifications(jane.id, 10), 'jane'), 'jane');
    assert.deepEqual(items.map((n) => n.data.type),
      ['application:sent:system_message', 'chat_user:replied_to:chat_user_message', 'chat_user:mentioned:chat_user'], 'newest first');
    const [sys, rep] = items;
    assert.equal(sys.data.message.id, system.id);
    assert.equal(sys.data.message.type, 'SYSTEM_TEXT');
    assert.equal(rep.data.message.id, reply.id);
    assert.equal(rep.data.parent.id, hers.id);
    assert.equal(rep.title, 'bob replied to your message');
    assert.equal(rep.body, 'yes');
    const bobs = notificationsOf(await h.ok(ck.UsersApi.listUserNotifications(bob.id), 'bob'), 'bob');
    assert.deepEqual(bobs.map((n) => n.data.message.id), [system.id]);
  });

  it('listUserNotifications: cursor pages follow _links.next without overlap', async () => {
    const first = await h.ok(ck.UsersApi.listUserNotifications(jane.id, 2), 'first page');
    const a = notificationsOf(first, 'first');
    assert.equal(a.length, 2);
    assert.equal(first.page.total, 3);
    const next = h.nextHref(first);
    assert.ok(next, 'a next link');
    const b = notificationsOf((await h.rawGet(hb, hb.app, next)).data, 'next');
    assert.equal(b.length, 1);
    assert.ok(b[0].id < a[1].id, 'older');
    const viaClient = notificationsOf(await h.ok(ck.UsersApi.listUserNotifications(jane.id, 2, a[0].id, a[1].id, 'NEXT'), 'NEXT'), 'NEXT');
    assert.deepEqual(viaClient.map((n) => n.id), b.map((n) => n.id));
  });

  it('bad input: unknown or foreign users are 404, bad cursors 400', async () => {
    await h.expectApiError(ck.UsersApi.listUserNotifications(987654321), 404, 'unknown user');
    await h.expectApiError(hb.other.UsersApi.listUserNotifications(jane.id), 404, 'another app');
    await h.expectApiError(ck.UsersApi.listUserNotifications(jane.id, 0), 400, 'size 0');
  });
});
