'use strict';
// Sending and reading messages (Channels + Messages APIs) through the ChatKitty wrapper.
// Tests in this file run in order; the last one deletes every message of the application.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('messages', { timeout: 60_000 }, () => {
  let hb;
  let ch;
  let msgs;
  let alice;
  let bob;
  let room;
  before(async () => {
    hb = await h.startHubbub();
    ch = hb.ck.ChannelsApi;
    msgs = hb.ck.MessagesApi;
    const mk = (n) => h.ok(hb.ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    alice = await mk('alice');
    bob = await mk('bob');
    room = await h.ok(ch.createChannel({
      type: 'PUBLIC', name: h.uniq('room'), display_name: 'Room', creator: { username: alice.name },
      members: [{ username: alice.name }, { username: bob.name }],
    }), 'createChannel');
  });
  after(async () => { if (hb) await hb.stop(); });

  const newChannel = (n) => h.ok(ch.createChannel({
    type: 'PUBLIC', name: h.uniq(n), members: [{ username: alice.name }, { username: bob.name }],
  }), `createChannel ${n}`);
  const listAll = async (channelId, ...filters) => h.cursorPage(
    await h.ok(ch.listChannelMessages(channelId, 100, undefined, undefined, undefined, ...filters), 'listChannelMessages'),
    'listChannelMessages');

  it('sendChannelMessage: TEXT without user is a SYSTEM_TEXT message', async () => {
    const m = await h.ok(ch.sendChannelMessage(room.id, { type: 'TEXT', body: 'System says hi' }), 'send system text');
    h.assertMessage(m, { type: 'SYSTEM_TEXT', channel_id: room.id, body: 'System says hi', nested_level: 0, properties: {} });
    assert.ok(!('user' in m), 'system message has no user');
  });

  it('sendChannelMessage: TEXT on behalf of a user, with group_tag and properties', async () => {
    const properties = { lang: 'en', score: 7, nested: { a: [1] } };
    const m = await h.ok(ch.sendChannelMessage(room.id, {
      type: 'TEXT', body: 'Hello from Alice', user: { username: alice.name }, group_tag: 'gallery-1', properties,
    }), 'send text as alice');
    h.assertMessage(m, { type: 'TEXT', channel_id: room.id, body: 'Hello from Alice', group_tag: 'gallery-1', properties });
    h.assertUser(m.user, { id: alice.id, name: alice.name, display_name: alice.display_name });
    assert.ok(m.last_edited_time === undefined || m.last_edited_time === null, 'not edited yet');

    const byId = await h.ok(ch.sendChannelMessage(room.id, { type: 'TEXT', body: 'by id', user: { id: bob.id } }), 'send text user {id}');
    h.assertMessage(byId, { type: 'TEXT', body: 'by id' });
    assert.equal(byId.user.name, bob.name);
    assert.ok(byId.id > m.id, 'ids increase');

    const got = await h.ok(msgs.retrieveMessage(m.id), 'retrieveMessage');
    h.assertMessage(got, {
      id: m.id, type: 'TEXT', channel_id: room.id, body: 'Hello from Alice', group_tag: 'gallery-1', properties,
      created_time: m.created_time,
    });
    assert.equal(got.user.name, alice.name);
  });

  it('sendChannelMessage: FILE with an external file', async () => {
    const file = { url: `https://files.example.com/${h.RUN}/cat.jpg`, name: 'cat.jpg', content_type: 'image/jpeg', size: 31337 };
    const m = await h.ok(ch.sendChannelMessage(room.id, {
      type: 'FILE', file, user: { username: bob.name }, group_tag: 'gallery-1', properties: { alt: 'a cat' },
    }), 'send file as bob');
    h.assertMessage(m, { type: 'FILE', channel_id: room.id, group_tag: 'gallery-1', properties: { alt: 'a cat' } });
    assert.deepEqual(m.file, { type: 'EXTERNAL', ...file });
    assert.equal(m.user.name, bob.name);
    assert.ok(!('body' in m) || m.body === null, 'file message has no body');

    const sys = await h.ok(ch.sendChannelMessage(room.id, { type: 'FILE', file }), 'send system file');
    h.assertMessage(sys, { type: 'SYSTEM_FILE', channel_id: room.id });
    assert.deepEqual(sys.file, { type: 'EXTERNAL', ...file });

    const got = await h.ok(msgs.retrieveMessage(m.id), 'retrieveMessage FILE');
    assert.deepEqual(got.file, { type: 'EXTERNAL', ...file });
  });

  it('listChannelMessages: cursor paging newest-first, 3 pages of 2, follows _links.next', async () => {
    const c = await newChannel('paging');
    const sent = [];
    for (let i = 1; i <= 6; i++) {
      sent.push(await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: `m${i}`, user: { username: alice.name } }), `send m${i}`));
    }
    const expected = sent.map((m) => m.id).reverse();

    // Page 1 through the client.
    const p1 = await h.ok(ch.listChannelMessages(c.id, 2), 'listChannelMessages size=2');
    const i1 = h.cursorPage(p1, 'page 1');
    assert.equal(p1.page.size, 2, 'page.size');
    assert.equal(p1.page.total, 6, 'page.total counts the whole channel');
    assert.deepEqual(i1.map((m) => m.body), ['m6', 'm5']);
    const href1 = h.nextHref(p1);
    assert.ok(href1, `page 1 has a next link: ${JSON.stringify(p1._links)}`);

    // Page 2: parse start/next/relation out of the href and hand them back to the client.
    const q = new URL(href1, hb.url + '/').searchParams;
    // (passed through as the strings found in the href; the client only copies them into the query)
    const param = (k) => (q.has(k) ? q.get(k) : undefined);
    const p2 = await h.ok(ch.listChannelMessages(c.id, param('size') ?? 2, param('start'), param('next'),
      param('relation')), `listChannelMessages from ${href1}`);
    const i2 = h.cursorPage(p2, 'page 2');
    assert.deepEqual(i2.map((m) => m.body), ['m4', 'm3']);
    const href2 = h.nextHref(p2);
    assert.ok(href2, `page 2 has a next link: ${JSON.stringify(p2._links)}`);

    // Page 3: follow the href verbatim with a raw GET.
    const p3 = (await h.rawGet(hb, hb.app, href2)).data;
    const i3 = h.cursorPage(p3, 'page 3');
    assert.deepEqual(i3.map((m) => m.body), ['m2', 'm1']);
    assert.equal(h.nextHref(p3), null, `last page has no next link: ${JSON.stringify(p3._links)}`);

    const seen = [...i1, ...i2, ...i3].map((m) => m.id);
    assert.deepEqual(seen, expected, 'every message exactly once, newest first');

    // The same walk following hrefs only.
    const walked = [];
    let body = p1;
    for (let guard = 0; body && guard < 10; guard++) {
      walked.push(...h.cursorPage(body, 'walk').map((m) => m.id));
      const nx = h.nextHref(body);
      body = nx ? (await h.rawGet(hb, hb.app, nx)).data : null;
    }
    assert.deepEqual(walked, expected);

    const whole = await listAll(c.id);
    assert.deepEqual(whole.map((m) => m.id), expected);
  });

  it('listChannelMessages: username and query filters', async () => {
    const c = await newChannel('filters');
    const a1 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'alpha banana', user: { username: alice.name } }), 'a1');
    const b1 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'bravo banana split', user: { username: bob.name } }), 'b1');
    const a2 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'alpha cherry', user: { username: alice.name } }), 'a2');
    await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'system banana' }), 's1');

    const byAlice = await listAll(c.id, alice.name);
    assert.deepEqual(byAlice.map((m) => m.id), [a2.id, a1.id], 'username filter');
    assert.ok(byAlice.every((m) => m.user && m.user.name === alice.name));

    const banana = await listAll(c.id, undefined, 'banana');
    assert.ok(banana.every((m) => m.body.includes('banana')), 'query filter: every body contains the query');
    assert.equal(banana.length, 3);
    assert.ok(banana.some((m) => m.id === b1.id));

    const both = await listAll(c.id, bob.name, 'banana');
    assert.deepEqual(both.map((m) => m.id), [b1.id], 'username + query');

    const none = await h.ok(ch.listChannelMessages(c.id, 10, undefined, undefined, undefined, undefined, `zz-${h.RUN}`), 'no match');
    assert.deepEqual(h.cursorPage(none, 'no match'), []);
    assert.equal(h.nextHref(none), null);
  });

  it('listMessages (application-wide): cursor page with username and query filters', async () => {
    const c = await newChannel('global');
    const token = `needle${h.RUN}`;
    const m1 = await h.ok(ch.sendChannelMessage(room.id, { type: 'TEXT', body: `find ${token} one`, user: { username: bob.name } }), 'g1');
    const m2 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: `find ${token} two`, user: { username: alice.name } }), 'g2');

    const all = await h.ok(msgs.listMessages(100), 'listMessages');
    const items = h.cursorPage(all, 'listMessages');
    assert.ok(items.some((m) => m.id === m1.id) && items.some((m) => m.id === m2.id), 'messages from all channels');
    for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].id > items[i].id, 'newest first');
    assert.equal(all.page.total, items.length);

    const q = h.cursorPage(await h.ok(msgs.listMessages(100, undefined, undefined, undefined, undefined, token), 'listMessages query'), 'query');
    assert.deepEqual(q.map((m) => m.id), [m2.id, m1.id]);

    const u = h.cursorPage(await h.ok(msgs.listMessages(100, undefined, undefined, undefined, bob.name, token), 'listMessages username+query'), 'username');
    assert.deepEqual(u.map((m) => m.id), [m1.id]);
    const ub = h.cursorPage(await h.ok(msgs.listMessages(100, undefined, undefined, undefined, bob.name), 'listMessages username'), 'username');
    assert.ok(ub.length >= 1 && ub.every((m) => m.user && m.user.name === bob.name));

    const small = await h.ok(msgs.listMessages(1), 'listMessages size=1');
    assert.equal(h.cursorPage(small, 'size=1').length, 1);
    assert.ok(h.nextHref(small), 'more than one message -> next link');
  });

  it('updateMessage: merge-patch body and properties; last_edited_time set', async () => {
    const m = await h.ok(ch.sendChannelMessage(room.id, {
      type: 'TEXT', body: 'typo', user: { username: alice.name }, properties: { a: 1, b: 2 },
    }), 'send to edit');
    const e1 = await h.ok(msgs.updateMessage(m.id, { body: 'fixed' }), 'updateMessage body');
    h.assertMessage(e1, { id: m.id, type: 'TEXT', body: 'fixed', channel_id: room.id, properties: { a: 1, b: 2 }, created_time: m.created_time });
    h.assertTime(e1.last_edited_time, 'last_edited_time after a body edit');
    assert.ok(Date.parse(e1.last_edited_time) >= Date.parse(m.created_time), 'edited after created');

    const e2 = await h.ok(msgs.updateMessage(m.id, { properties: { a: null, c: 'x' } }), 'updateMessage properties');
    h.assertMessage(e2, { id: m.id, body: 'fixed', properties: { b: 2, c: 'x' } });

    const got = await h.ok(msgs.retrieveMessage(m.id), 'retrieve after edits');
    h.assertMessage(got, { id: m.id, body: 'fixed', properties: { b: 2, c: 'x' } });
    h.assertTime(got.last_edited_time, 'retrieved last_edited_time');
    const listed = (await listAll(room.id)).find((x) => x.id === m.id);
    assert.equal(listed.body, 'fixed', 'edit visible in channel history');

    await h.expectApiError(msgs.updateMessage(987654321, { body: 'x' }), 404, 'updateMessage unknown id');
  });

  it('deleteMessage removes one message', async () => {
    const c = await newChannel('delone');
    const keep = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'keep', user: { username: alice.name } }), 'keep');
    const gone = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'gone', user: { username: alice.name } }), 'gone');
    const res = await h.ok(msgs.deleteMessage(gone.id), 'deleteMessage');
    h.assertPlainObject(res, 'deleteMessage response');
    await h.expectApiError(msgs.retrieveMessage(gone.id), 404, 'retrieveMessage after delete');
    const left = await listAll(c.id);
    assert.deepEqual(left.map((m) => m.id), [keep.id]);
    await h.expectApiError(msgs.deleteMessage(gone.id), 404, 'deleteMessage twice');
  });

  it('Idempotency-Key: the same send twice yields one message', async () => {
    const c = await newChannel('idem');
    const key = `idem-${h.RUN}`;
    const body = { type: 'TEXT', body: 'exactly once', user: { username: alice.name } };
    const opts = { headers: { 'Idempotency-Key': key } };
    const first = await h.ok(ch.sendChannelMessage(c.id, body, opts), 'send with key');
    const second = await h.ok(ch.sendChannelMessage(c.id, body, opts), 'send with same key');
    assert.equal(second.id, first.id, 'retry returns the original message');
    h.assertMessage(second, { id: first.id, body: 'exactly once', created_time: first.created_time });

    const sys1 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'sys once' }, { headers: { 'Idempotency-Key': `${key}-sys` } }), 'system with key');
    const sys2 = await h.ok(ch.sendChannelMessage(c.id, { type: 'TEXT', body: 'sys once' }, { headers: { 'Idempotency-Key': `${key}-sys` } }), 'system retry');
    assert.equal(sys2.id, sys1.id);

    const other = await h.ok(ch.sendChannelMessage(c.id, body, { headers: { 'Idempotency-Key': `${key}-2` } }), 'send with another key');
    assert.notEqual(other.id, first.id, 'a different key is a different message');

    const listed = await listAll(c.id);
    assert.equal(listed.filter((m) => m.id === first.id).length, 1, 'held once');
    assert.equal(listed.length, 3, 'two keyed sends + one other');
  });

  it('sendChannelMessage to an unknown channel -> 404', async () => {
    await h.expectApiError(ch.sendChannelMessage(987654321, { type: 'TEXT', body: 'x' }), 404, 'send to unknown channel');
    await h.expectApiError(ch.listChannelMessages(987654321), 404, 'list unknown channel');
    await h.expectApiError(msgs.retrieveMessage(987654321), 404, 'retrieve unknown message');
  });

  it('deleteMessages deletes every message of the application (runs last)', async () => {
    const before = h.cursorPage(await h.ok(msgs.listMessages(5), 'listMessages before'), 'before');
    assert.ok(before.length > 0);
    const app = await h.ok(msgs.deleteMessages(), 'deleteMessages');
    h.assertApplication(app, 'deleteMessages -> ApplicationResource');
    assert.equal(String(app.id), String(hb.app.id));
    const afterAll = await h.ok(msgs.listMessages(25), 'listMessages after deleteMessages');
    assert.deepEqual(h.cursorPage(afterAll, 'after'), []);
    assert.equal(afterAll.page.total, 0);
    assert.equal(h.nextHref(afterAll), null);
    assert.deepEqual(await listAll(room.id), [], 'channel history empty too');
    await h.expectApiError(msgs.retrieveMessage(before[0].id), 404, 'retrieveMessage after deleteMessages');
    // the channel itself survives
    await h.ok(ch.retrieveChannel(room.id), 'channel survives deleteMessages');
  });
});
