'use strict';
// Reply threads (ThreadsApi) through the ChatKitty wrapper: a channel's MAIN thread
// (id = -channel id) and each message's MESSAGE thread (id = the message id), their
// messages, replies and keystrokes, and the thread DELETE /messages/{id} answers.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

function assertThread(t, expect, what = 'ReplyThreadResource') {
  h.assertPlainObject(t, what);
  assert.ok(['MAIN', 'STANDALONE', 'MESSAGE'].includes(t.type), `${what}.type, got ${t.type}`);
  assert.equal(typeof t.id, 'number', `${what}.id is a number`);
  assert.ok(Number.isSafeInteger(t.id) && t.id !== 0, `${what}.id is a non-zero integer`);
  h.assertTime(t.created_time, `${what}.created_time`);
  h.assertPlainObject(t.properties, `${what}.properties`);
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(t[k], v, `${what}.${k}`);
}

describe('threads', { timeout: 60_000 }, () => {
  let hb;
  let ck;
  let alice;
  let bob;
  let room;
  let parent;
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
    const mk = (n) => h.ok(ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    alice = await mk('alice');
    bob = await mk('bob');
    room = await h.ok(ck.ChannelsApi.createChannel({
      type: 'PUBLIC', name: h.uniq('room'), members: [{ username: alice.name }, { username: bob.name }],
    }), 'createChannel');
    parent = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, {
      type: 'TEXT', body: 'Who is coming tonight?', user: { username: alice.name },
    }), 'send parent');
  });
  after(async () => { if (hb) await hb.stop(); });

  it('retrieveThread: the MAIN thread of a channel and the MESSAGE thread of a message', async () => {
    const main = await h.ok(ck.ThreadsApi.retrieveThread(-room.id), 'retrieveThread main');
    assertThread(main, { type: 'MAIN', id: -room.id, created_time: room.created_time, properties: {} });
    const replies = await h.ok(ck.ThreadsApi.retrieveThread(parent.id), 'retrieveThread message');
    assertThread(replies, { type: 'MESSAGE', id: parent.id, created_time: parent.created_time });
    assert.ok(replies._links.self.href.endsWith(`/threads/${parent.id}`), JSON.stringify(replies._links));
    assert.ok(parent._links.replies.href.endsWith(`/threads/${parent.id}`), 'messages link their reply thread');
  });

  it('sendThreadMessage: a reply is one level deeper, counts on its parent, and honours Idempotency-Key', async () => {
    const opts = { headers: { 'Idempotency-Key': `reply-${h.RUN}` } };
    const reply = await h.ok(ck.ThreadsApi.sendThreadMessage(parent.id, {
      type: 'TEXT', body: 'Me!', user: { username: bob.name },
    }, opts), 'sendThreadMessage');
    h.assertMessage(reply, { type: 'TEXT', channel_id: room.id, body: 'Me!', nested_level: 1 });
    assert.equal(reply.user.name, bob.name);
    const retry = await h.ok(ck.ThreadsApi.sendThreadMessage(parent.id, {
      type: 'TEXT', body: 'Me!', user: { username: bob.name },
    }, opts), 'sendThreadMessage retry');
    assert.equal(retry.id, reply.id, 'a retry returns the original reply');
    const system = await h.ok(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: 'Doors open at 8' }), 'system reply');
    h.assertMessage(system, { type: 'SYSTEM_TEXT', nested_level: 1 });
    const fresh = await h.ok(ck.MessagesApi.retrieveMessage(parent.id), 'retrieveMessage parent');
    h.assertMessage(fresh, { id: parent.id, replies_count: 2 });
    // A top-level message through the main thread.
    const top = await h.ok(ck.ThreadsApi.sendThreadMessage(-room.id, {
      type: 'TEXT', body: 'New topic', user: { id: alice.id },
    }), 'send to main thread');
    h.assertMessage(top, { type: 'TEXT', nested_level: 0, replies_count: 0 });
  });

  it('listThreadMessages: the replies, newest first, paged by cursor links', async () => {
    for (let i = 0; i < 3; i++) {
      await h.ok(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: `more ${i}`, user: { id: alice.id } }), `reply ${i}`);
    }
    const first = await h.ok(ck.ThreadsApi.listThreadMessages(parent.id, 2), 'listThreadMessages');
    const items = h.cursorPage(first, 'listThreadMessages', { nested_level: 1 });
    assert.equal(items.length, 2);
    assert.equal(first.page.total, 5);
    assert.deepEqual(items.map((m) => m.body), ['more 2', 'more 1']);
    const next = h.nextHref(first);
    assert.ok(next, 'a next link');
    const rest = h.cursorPage((await h.rawGet(hb, hb.app, next)).data, 'next page', { nested_level: 1 });
    assert.deepEqual(rest.map((m) => m.body), ['more 0', 'Doors open at 8']);
    const main = h.cursorPage(await h.ok(ck.ThreadsApi.listThreadMessages(-room.id, 50), 'main thread'), 'main thread');
    assert.deepEqual(main.map((m) => m.body), ['New topic', 'Who is coming tonight?'], 'top-level messages only');
  });

  it('sendThreadKeystrokes: answers what was typed, by whom; too fast is a 429', async () => {
    const typed = await h.ok(ck.ThreadsApi.sendThreadKeystrokes(parent.id, { keys: 'I can br', user: { username: bob.name } }), 'sendThreadKeystrokes');
    assert.equal(typed.keys, 'I can br');
    assert.equal(typed.username, bob.name);
    const e = await h.expectApiError(ck.ThreadsApi.sendThreadKeystrokes(parent.id, { keys: 'I can bri', user: { username: bob.name } }), 429, 'too fast');
    assert.ok(e.response.headers['retry-after'], 'Retry-After');
    const main = await h.ok(ck.ThreadsApi.sendThreadKeystrokes(-room.id, { keys: 'x', user: { id: alice.id } }), 'main thread keystrokes');
    assert.equal(main.username, alice.name);
  });

  it('deleteMessage: answers the thread the message was in', async () => {
    const reply = await h.ok(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: 'oops' }), 'reply to delete');
    const parentBefore = await h.ok(ck.MessagesApi.retrieveMessage(parent.id), 'parent before');
    const thread = await h.ok(ck.MessagesApi.deleteMessage(reply.id), 'deleteMessage reply');
    assertThread(thread, { type: 'MESSAGE', id: parent.id, created_time: parent.created_time });
    const parentAfter = await h.ok(ck.MessagesApi.retrieveMessage(parent.id), 'parent after');
    assert.equal(parentAfter.replies_count, parentBefore.replies_count - 1);
    const lone = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'bye' }), 'top-level');
    const main = await h.ok(ck.MessagesApi.deleteMessage(lone.id), 'deleteMessage top-level');
    assertThread(main, { type: 'MAIN', id: -room.id });
  });

  it('bad input: unknown or foreign threads are 404, bad bodies 400', async () => {
    await h.expectApiError(ck.ThreadsApi.retrieveThread(0), 404, 'thread 0');
    await h.expectApiError(ck.ThreadsApi.retrieveThread(987654321), 404, 'unknown thread');
    await h.expectApiError(ck.ThreadsApi.listThreadMessages(-987654321), 404, 'unknown channel thread');
    await h.expectApiError(hb.other.ThreadsApi.retrieveThread(parent.id), 404, 'another app');
    await h.expectApiError(hb.other.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: 'x' }), 404, 'another app send');
    await h.expectApiError(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT' }), 400, 'no body');
    await h.expectApiError(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: 'x', user: { username: 'nobody-at-all' } }), 400, 'unknown user');
    await h.expectApiError(ck.ThreadsApi.sendThreadKeystrokes(parent.id, { keys: 'x' }), 400, 'keystrokes without user');
    await h.expectApiError(ck.ThreadsApi.sendThreadKeystrokes(987654321, { keys: 'x', user: { id: alice.id } }), 404, 'keystrokes in an unknown thread');
  });
});
