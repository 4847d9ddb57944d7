'use strict';
// Users API through the ChatKitty wrapper.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('users', { timeout: 60_000 }, () => {
  let hb;
  let users;
  before(async () => {
    hb = await h.startHubbub();
    users = hb.ck.UsersApi;
  });
  after(async () => { if (hb) await hb.stop(); });

  const create = (name, extra = {}) => h.ok(users.createUser({
    name, display_name: extra.display_name ?? `Display ${name}`, is_guest: false, ...extra,
  }), `createUser ${name}`);

  it('createUser returns a full ChatUserResource; retrieveUser returns the same', async () => {
    const name = h.uniq('jane');
    const props = { team: 'red', level: 3, nested: { a: [1, 'two'] } };
    const u = await h.ok(users.createUser({ name, display_name: 'Jane Doe', is_guest: false, properties: props }), 'createUser');
    h.assertUser(u, { type: 'PERSON', name, display_name: 'Jane Doe', isGuest: false, properties: props });
    assert.equal(u.presence.online, false, 'a new user is offline');
    assert.ok(u.presence.status.length > 0, 'presence.status non-empty');

    const got = await h.ok(users.retrieveUser(u.id), 'retrieveUser');
    h.assertUser(got, {
      id: u.id, type: 'PERSON', name, display_name: 'Jane Doe', isGuest: false, properties: props,
      display_picture_url: u.display_picture_url,
    });

    const guest = await h.ok(users.createUser({ name: h.uniq('guest'), display_name: 'Guest', is_guest: true }), 'createUser guest');
    h.assertUser(guest, { isGuest: true, properties: {} });
    assert.notEqual(guest.id, u.id);
  });

  it('checkUserExists: HEAD /users?name= -> 200 when present, 404 when absent', async () => {
    const name = h.uniq('exists');
    await create(name);
    const res = await users.checkUserExists(name);
    assert.equal(res.status, 200, `HEAD existing user: ${res.status}`);
    const e = await h.fails(users.checkUserExists(h.uniq('nobody')), 'HEAD missing user');
    assert.equal(e.response.status, 404, h.describeAxiosError(e));
  });

  it('listUsers: name and properties filters', async () => {
    const team = `red-${h.RUN}`;
    const red1 = await create(h.uniq('red'), { properties: { team, level: 1 } });
    const red2 = await create(h.uniq('red'), { properties: { team, level: 2, extra: { x: true } } });
    const blue = await create(h.uniq('blue'), { properties: { team: `blue-${h.RUN}`, level: 1 } });

    const byName = h.offsetPage(await h.ok(users.listUsers(undefined, undefined, undefined, red2.name), 'listUsers name='),
      'users', 'listUsers name=');
    assert.deepEqual(byName.map((u) => u.id), [red2.id], 'name filter matches exactly one user');
    h.assertUser(byName[0], { name: red2.name, display_name: red2.display_name, properties: red2.properties });

    const none = await h.ok(users.listUsers(undefined, undefined, undefined, h.uniq('nobody')), 'listUsers unknown name');
    assert.deepEqual(h.offsetPage(none, 'users', 'listUsers unknown name'), []);
    assert.equal(none.page.total_elements, 0);

    const redPage = await h.ok(users.listUsers(0, 100, undefined, undefined, undefined, JSON.stringify({ team })),
      'listUsers properties={"team":...}');
    const reds = h.offsetPage(redPage, 'users', 'listUsers properties');
    assert.deepEqual(reds.map((u) => u.id).sort((a, b) => a - b), [red1.id, red2.id].sort((a, b) => a - b),
      'properties filter is a subset match');
    assert.equal(redPage.page.total_elements, 2);

    const lvl1 = h.offsetPage(await h.ok(users.listUsers(0, 100, undefined, undefined, undefined,
      JSON.stringify({ level: 1, team })), 'listUsers properties two keys'), 'users', 'listUsers properties two keys');
    assert.deepEqual(lvl1.map((u) => u.id), [red1.id], 'all keys of the filter must match');

    const nested = h.offsetPage(await h.ok(users.listUsers(0, 100, undefined, undefined, undefined,
      JSON.stringify({ extra: { x: true } })), 'listUsers nested properties'), 'users', 'listUsers nested properties');
    assert.ok(nested.some((u) => u.id === red2.id), 'nested object filter matches');
    assert.ok(!nested.some((u) => u.id === blue.id || u.id === red1.id), 'nested filter excludes non-matching users');
  });

  it('listUsers: page / size / sort', async () => {
    for (let i = 0; i < 3; i++) await create(h.uniq('pager'));
    const all = await h.ok(users.listUsers(0, 100, ['name,desc']), 'listUsers sort=name,desc');
    const items = h.offsetPage(all, 'users', 'listUsers sorted');
    assert.ok(items.length >= 3);
    assert.equal(all.page.number, 0);
    assert.equal(all.page.size, 100);
    assert.equal(all.page.total_elements, items.length);
    assert.equal(all.page.total_pages, 1);
    const names = items.map((u) => u.name);
    for (let i = 1; i < names.length; i++) {
      assert.ok(names[i - 1] > names[i], `sorted by name desc: ${names[i - 1]} before ${names[i]}`);
    }
    const asc = h.offsetPage(await h.ok(users.listUsers(0, 100, ['name,asc']), 'listUsers sort=name,asc'), 'users', 'asc');
    assert.deepEqual(asc.map((u) => u.name), [...names].reverse(), 'name,asc is the reverse of name,desc');

    const total = all.page.total_elements;
    const p0 = await h.ok(users.listUsers(0, 2, ['name,desc']), 'listUsers page=0 size=2');
    const p1 = await h.ok(users.listUsers(1, 2, ['name,desc']), 'listUsers page=1 size=2');
    const i0 = h.offsetPage(p0, 'users', 'page 0');
    const i1 = h.offsetPage(p1, 'users', 'page 1');
    assert.deepEqual(p0.page, { number: 0, size: 2, total_elements: total, total_pages: Math.ceil(total / 2) });
    assert.deepEqual(p1.page, { number: 1, size: 2, total_elements: total, total_pages: Math.ceil(total / 2) });
    assert.deepEqual(i0.map((u) => u.name), names.slice(0, 2));
    assert.deepEqual(i1.map((u) => u.name), names.slice(2, 4));
    const beyond = await h.ok(users.listUsers(50, 2), 'listUsers page beyond the end');
    assert.deepEqual(h.offsetPage(beyond, 'users', 'beyond'), []);
    assert.equal(beyond.page.number, 50);
  });

  it('updateUser: JSON merge-patch of display_name and properties (null removes a key)', async () => {
    const u = await create(h.uniq('patchme'), { display_name: 'Before', properties: { a: 1, b: 'x', keep: true, obj: { p: 1, q: 2 } } });
    const patched = await h.ok(users.updateUser(u.id, {
      display_name: 'After',
      properties: { a: null, b: 'y', c: [1, 2], obj: { q: null, r: 3 } },
    }), 'updateUser merge-patch');
    h.assertUser(patched, {
      id: u.id, name: u.name, display_name: 'After', isGuest: false,
      properties: { b: 'y', keep: true, c: [1, 2], obj: { p: 1, r: 3 } },
    });
    const got = await h.ok(users.retrieveUser(u.id), 'retrieveUser after patch');
    assert.equal(got.display_name, 'After');
    assert.deepEqual(got.properties, { b: 'y', keep: true, c: [1, 2], obj: { p: 1, r: 3 } });

    const p2 = await h.ok(users.updateUser(u.id, { properties: { keep: null } }), 'updateUser properties only');
    assert.equal(p2.display_name, 'After', 'absent fields are left alone');
    assert.deepEqual(p2.properties, { b: 'y', c: [1, 2], obj: { p: 1, r: 3 } });
  });

  it('deleteUser returns the ApplicationResource; the user is gone', async () => {
    const u = await create(h.uniq('doomed'));
    const app = await h.ok(users.deleteUser(u.id), 'deleteUser');
    h.assertApplication(app, 'deleteUser -> ApplicationResource');
    assert.equal(String(app.id), String(hb.app.id));
    await h.expectApiError(users.retrieveUser(u.id), 404, 'retrieveUser after delete');
    const e = await h.fails(users.checkUserExists(u.name), 'HEAD deleted user');
    assert.equal(e.response.status, 404);
    const list = await h.ok(users.listUsers(undefined, undefined, undefined, u.name), 'listUsers deleted name');
    assert.deepEqual(h.offsetPage(list, 'users', 'deleted'), []);
    await h.expectApiError(users.deleteUser(u.id), 404, 'deleteUser twice');
  });

  it('updateUserDisplayPicture with an external file', async () => {
    const u = await create(h.uniq('pic'));
    const url = `https://cdn.example.com/avatars/${h.RUN}.png`;
    const res = await h.ok(users.updateUserDisplayPicture(u.id, {
      url, name: 'avatar.png', content_type: 'image/png', size: 12345,
    }), 'updateUserDisplayPicture');
    h.assertUser(res, { id: u.id, name: u.name, display_picture_url: url });
    const got = await h.ok(users.retrieveUser(u.id), 'retrieveUser after picture');
    assert.equal(got.display_picture_url, url);
  });

  it('user secrets: set / retrieve / remove', async () => {
    const u = await create(h.uniq('secretive'));
    const value = `s3cr3t-${h.RUN}-canary`;
    const set = await h.ok(users.setUserSecret(u.id, 'api-token', { secret: value }), 'setUserSecret');
    h.assertUser(set, { id: u.id, name: u.name });
    assert.ok(!JSON.stringify(set).includes(value), `setUserSecret response leaks the secret: ${JSON.stringify(set)}`);

    const got = await h.ok(users.retrieveUserSecret(u.id, 'api-token'), 'retrieveUserSecret');
    assert.deepEqual(Object.keys(got).filter((k) => k !== '_links'), ['secret']);
    assert.equal(got.secret, value);

    const value2 = `${value}-v2`;
    await h.ok(users.setUserSecret(u.id, 'api-token', { secret: value2 }), 'setUserSecret overwrite');
    assert.equal((await h.ok(users.retrieveUserSecret(u.id, 'api-token'), 'retrieve overwritten')).secret, value2);

    const plain = await h.ok(users.retrieveUser(u.id), 'retrieveUser with secret');
    assert.ok(!JSON.stringify(plain).includes(value2), 'retrieveUser does not leak secrets');
    const listed = await h.ok(users.listUsers(undefined, undefined, undefined, u.name), 'listUsers with secret');
    assert.ok(!JSON.stringify(listed).includes(value2), 'listUsers does not leak secrets');

    await h.expectApiError(users.retrieveUserSecret(u.id, 'never-set'), 404, 'retrieveUserSecret unknown name');

    const removed = await h.ok(users.removeUserSecret(u.id, 'api-token'), 'removeUserSecret');
    h.assertUser(removed, { id: u.id, name: u.name });
    await h.expectApiError(users.retrieveUserSecret(u.id, 'api-token'), 404, 'retrieveUserSecret after remove');
  });

  it('listUserChannels, listUserMessages (+unread), countUserUnreadMessages', async () => {
    const me = await create(h.uniq('member'));
    const friend = await create(h.uniq('friend'));
    const stranger = await create(h.uniq('stranger'));
    const channels = hb.ck.ChannelsApi;

    const fresh = await h.ok(users.countUserUnreadMessages(me.id), 'countUserUnreadMessages (no channels)');
    assert.deepEqual(Object.keys(fresh).filter((k) => k !== '_links'), ['count']);
    assert.equal(fresh.count, 0, 'a user without channels has no unread messages');

    const pub = await h.ok(channels.createChannel({
      type: 'PUBLIC', name: h.uniq('room'), display_name: 'Room', creator: { username: friend.name },
      members: [{ username: me.name }, { username: friend.name }],
    }), 'createChannel PUBLIC');
    const dm = await h.ok(channels.createChannel({
      type: 'DIRECT', members: [{ username: me.name }, { username: friend.name }],
    }), 'createChannel DIRECT');
    const elsewhere = await h.ok(channels.createChannel({
      type: 'PUBLIC', name: h.uniq('elsewhere'), display_name: 'Elsewhere', members: [{ username: stranger.name }],
    }), 'createChannel PUBLIC without me');

    const uc = await h.ok(users.listUserChannels(me.id, 0, 100), 'listUserChannels');
    const ucItems = h.offsetPage(uc, 'channels', 'listUserChannels');
    ucItems.forEach((c, i) => h.assertChannel(c, {}, `listUserChannels[${i}]`));
    const ids = ucItems.map((c) => c.id);
    assert.ok(ids.includes(pub.id), 'public channel listed');
    assert.ok(ids.includes(dm.id), 'direct channel listed');
    assert.ok(!ids.includes(elsewhere.id), 'channel the user is not in is not listed');
    assert.equal(uc.page.total_elements, ucItems.length);

    const mine = await h.ok(channels.sendChannelMessage(pub.id, { type: 'TEXT', body: 'from me', user: { username: me.name } }), 'send as me');
    const fromFriend = await h.ok(channels.sendChannelMessage(dm.id, { type: 'TEXT', body: 'from friend', user: { username: friend.name } }), 'send as friend');
    const foreign = await h.ok(channels.sendChannelMessage(elsewhere.id, { type: 'TEXT', body: 'not for me', user: { username: stranger.name } }), 'send elsewhere');

    const um = await h.ok(users.listUserMessages(me.id, 25), 'listUserMessages');
    const umItems = h.cursorPage(um, 'listUserMessages');
    const umIds = umItems.map((m) => m.id);
    assert.ok(umIds.includes(mine.id), 'messages the user sent in their channels are listed');
    assert.ok(umIds.includes(fromFriend.id), 'messages others sent in the user\'s channels are listed');
    assert.ok(!umIds.includes(foreign.id), 'messages in other channels are not listed');
    for (const m of umItems) assert.ok([pub.id, dm.id].includes(m.channel_id), `message ${m.id} belongs to one of the user's channels`);
    for (let i = 1; i < umItems.length; i++) assert.ok(umItems[i - 1].id > umItems[i].id, 'newest first');

    const unread = await h.ok(users.listUserMessages(me.id, 25, undefined, undefined, undefined, true), 'listUserMessages unread=true');
    const unreadItems = h.cursorPage(unread, 'listUserMessages unread');
    assert.ok(!unreadItems.some((m) => m.id === foreign.id), 'unread: no messages from other channels');
    assert.ok(unreadItems.some((m) => m.id === fromFriend.id), 'unread: a message from someone else is unread');
    assert.ok(!unreadItems.some((m) => m.id === mine.id), 'unread: the user\'s own message is never unread');
    assert.equal(unread.page.total, unreadItems.length);

    const count = await h.ok(users.countUserUnreadMessages(me.id), 'countUserUnreadMessages');
    assert.equal(count.count, 1, 'one unread message (from friend); own messages do not count');
    assert.equal(count.count, unread.page.total, 'count agrees with listUserMessages unread=true');
    const friendCount = await h.ok(users.countUserUnreadMessages(friend.id), 'countUserUnreadMessages friend');
    assert.equal(friendCount.count, 1, 'friend has one unread message (mine)');

    await h.expectApiError(users.listUserChannels(987654321), 404, 'listUserChannels unknown user');
    await h.expectApiError(users.countUserUnreadMessages(987654321), 404, 'countUserUnreadMessages unknown user');
  });
});
