'use strict';
// Channels API (channels, members, memberships, moderators, events) through the ChatKitty wrapper.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('channels', { timeout: 60_000 }, () => {
  let hb;
  let ch;
  let alice;
  let bob;
  let carol;
  before(async () => {
    hb = await h.startHubbub();
    ch = hb.ck.ChannelsApi;
    const mk = (n) => h.ok(hb.ck.UsersApi.createUser({ name: h.uniq(n), display_name: n.toUpperCase(), is_guest: false }), `createUser ${n}`);
    alice = await mk('alice');
    bob = await mk('bob');
    carol = await mk('carol');
  });
  after(async () => { if (hb) await hb.stop(); });

  const ids = (items) => items.map((x) => x.id).sort((a, b) => a - b);
  const members = async (id) => h.offsetPage(await h.ok(ch.listChannelMembers(id, 0, 100), `listChannelMembers ${id}`),
    'users', 'listChannelMembers');

  for (const type of ['PUBLIC', 'PRIVATE']) {
    it(`createChannel ${type} with name, display_name, creator, members, properties; retrieveChannel`, async () => {
      const name = h.uniq(type.toLowerCase());
      const properties = { topic: 'launch', tags: ['a', 'b'], n: 1 };
      const c = await h.ok(ch.createChannel({
        type, name, display_name: `${type} room`, creator: { username: alice.name },
        members: [{ username: bob.name }], properties,
      }), `createChannel ${type}`);
      h.assertChannel(c, { type, name, display_name: `${type} room`, properties });
      assert.ok(c.creator, `${type} channel has a creator: ${JSON.stringify(c)}`);
      assert.equal(c.creator.name, alice.name, 'creator.name');
      assert.equal(c.creator.id, alice.id, 'creator.id');
      assert.ok(!('members' in c) || Array.isArray(c.members), 'members, if present, is an array');

      const got = await h.ok(ch.retrieveChannel(c.id), 'retrieveChannel');
      h.assertChannel(got, { id: c.id, type, name, display_name: `${type} room`, properties, created_time: c.created_time });
      assert.equal(got.creator.name, alice.name);

      const mem = await members(c.id);
      assert.ok(mem.some((u) => u.id === bob.id), 'listed member present');
      mem.forEach((u, i) => h.assertUser(u, {}, `member ${i}`));
    });
  }

  it('createChannel PUBLIC with display_name omitted defaults it to the name', async () => {
    const name = h.uniq('bare');
    const c = await h.ok(ch.createChannel({ type: 'PUBLIC', name }), 'createChannel bare');
    h.assertChannel(c, { type: 'PUBLIC', name, display_name: name, properties: {} });
    const anon = await h.ok(ch.createChannel({ type: 'PUBLIC' }), 'createChannel without name');
    h.assertChannel(anon, { type: 'PUBLIC' });
    assert.notEqual(anon.id, c.id);
  });

  it('createChannel DIRECT by {username} and {id}; repeating it returns the same channel', async () => {
    const c = await h.ok(ch.createChannel({ type: 'DIRECT', members: [{ username: alice.name }, { id: bob.id }] }), 'createChannel DIRECT');
    h.assertChannel(c, { type: 'DIRECT' });
    assert.deepEqual(ids(c.members), ids([alice, bob]), 'DIRECT members');
    const byName = Object.fromEntries(c.members.map((m) => [m.name, m]));
    assert.equal(byName[alice.name].display_name, alice.display_name);

    const again = await h.ok(ch.createChannel({ type: 'DIRECT', members: [{ username: alice.name }, { id: bob.id }] }), 'createChannel DIRECT again');
    assert.equal(again.id, c.id, 'same DIRECT channel');
    const swapped = await h.ok(ch.createChannel({ type: 'DIRECT', members: [{ id: bob.id }, { username: alice.name }] }), 'createChannel DIRECT swapped');
    assert.equal(swapped.id, c.id, 'same DIRECT channel regardless of member order');
    const third = await h.ok(ch.createChannel({ type: 'DIRECT', members: [{ username: alice.name }, { username: carol.name }] }), 'createChannel other DIRECT');
    assert.notEqual(third.id, c.id, 'different members -> different DIRECT channel');

    const got = await h.ok(ch.retrieveChannel(c.id), 'retrieveChannel DIRECT');
    h.assertChannel(got, { id: c.id, type: 'DIRECT' });
    assert.deepEqual(ids(got.members), ids([alice, bob]));
  });

  it('listChannels: paging and filters type, members, startTime/endTime, properties', async () => {
    const tag = `flt-${h.RUN}`;
    const t0 = new Date(Date.now() - 2000);
    const pub = await h.ok(ch.createChannel({ type: 'PUBLIC', name: h.uniq('lpub'), members: [{ username: carol.name }], properties: { tag, kind: 'pub' } }), 'create lpub');
    const priv = await h.ok(ch.createChannel({ type: 'PRIVATE', name: h.uniq('lpriv'), members: [{ username: bob.name }], properties: { tag, kind: 'priv' } }), 'create lpriv');
    const t1 = new Date(Date.now() + 2000);

    const all = await h.ok(ch.listChannels(0, 100), 'listChannels');
    const allItems = h.offsetPage(all, 'channels', 'listChannels');
    allItems.forEach((c, i) => h.assertChannel(c, {}, `listChannels[${i}]`));
    assert.ok(allItems.some((c) => c.id === pub.id) && allItems.some((c) => c.id === priv.id));
    assert.equal(all.page.total_elements, allItems.length);

    const p0 = await h.ok(ch.listChannels(0, 1), 'listChannels size=1');
    assert.equal(h.offsetPage(p0, 'channels', 'listChannels size=1').length, 1);
    assert.equal(p0.page.total_elements, allItems.length);
    assert.equal(p0.page.total_pages, allItems.length);

    const privOnly = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, 'PRIVATE'), 'listChannels type=PRIVATE'), 'channels', 'type=PRIVATE');
    assert.ok(privOnly.length >= 1);
    assert.ok(privOnly.every((c) => c.type === 'PRIVATE'), 'type filter');
    assert.ok(privOnly.some((c) => c.id === priv.id));

    const withCarol = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, new Set([carol.name])), 'listChannels members=carol'),
      'channels', 'members=');
    assert.ok(withCarol.some((c) => c.id === pub.id), 'members filter includes a channel carol is in');
    assert.ok(!withCarol.some((c) => c.id === priv.id), 'members filter excludes a channel carol is not in');

    const byProps = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, undefined, undefined, undefined,
      JSON.stringify({ tag })), 'listChannels properties'), 'channels', 'properties=');
    assert.deepEqual(ids(byProps), ids([pub, priv]), 'properties filter');
    const byProps2 = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, undefined, undefined, undefined,
      JSON.stringify({ tag, kind: 'priv' })), 'listChannels properties 2 keys'), 'channels', 'properties= 2 keys');
    assert.deepEqual(ids(byProps2), [priv.id]);

    const inWindow = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, undefined, t0.toISOString(), t1.toISOString(),
      JSON.stringify({ tag })), 'listChannels startTime/endTime around'), 'channels', 'time window');
    assert.deepEqual(ids(inWindow), ids([pub, priv]), 'channels created inside [startTime, endTime]');
    const before = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, undefined,
      new Date(t0.getTime() - 3_600_000).toISOString(), new Date(t0.getTime() - 1_800_000).toISOString()), 'listChannels window in the past'),
    'channels', 'past window');
    assert.ok(!before.some((c) => c.id === pub.id || c.id === priv.id), 'endTime excludes later channels');
    const after = h.offsetPage(await h.ok(ch.listChannels(0, 100, undefined, undefined, undefined, t1.toISOString()), 'listChannels startTime future'),
      'channels', 'future startTime');
    assert.ok(!after.some((c) => c.id === pub.id || c.id === priv.id), 'startTime excludes earlier channels');
  });

  it('updateChannel: merge-patch display_name and properties', async () => {
    const c = await h.ok(ch.createChannel({ type: 'PUBLIC', name: h.uniq('upd'), display_name: 'Old', properties: { a: 1, b: 2, keep: 'k' } }), 'create upd');
    const p = await h.ok(ch.updateChannel(c.id, { display_name: 'New', properties: { a: null, b: 3, c: { d: true } } }), 'updateChannel');
    h.assertChannel(p, { id: c.id, type: 'PUBLIC', name: c.name, display_name: 'New', properties: { b: 3, keep: 'k', c: { d: true } } });
    const got = await h.ok(ch.retrieveChannel(c.id), 'retrieve after update');
    assert.equal(got.display_name, 'New');
    assert.deepEqual(got.properties, { b: 3, keep: 'k', c: { d: true } });
    assert.equal(got.created_time, c.created_time, 'created_time unchanged');

    // Read-only fields in a merge-patch are rejected or ignored, never applied.
    let res;
    try {
      res = await ch.updateChannel(c.id, { id: c.id + 1000, created_time: '2000-01-01T00:00:00Z', display_name: 'Newer' });
    } catch (e) {
      assert.ok(e.response && e.response.status >= 400 && e.response.status < 500, `read-only patch: ${h.describeAxiosError(e)}`);
      h.assertApiError(e.response.data, 'read-only patch');
    }
    const after = await h.ok(ch.retrieveChannel(c.id), 'retrieve after read-only patch');
    assert.equal(after.id, c.id);
    assert.equal(after.created_time, c.created_time, 'created_time not applied');
    if (res) assert.equal(res.data.id, c.id, 'id not applied');
  });

  it('deleteChannel returns the ApplicationResource; the channel is gone', async () => {
    const c = await h.ok(ch.createChannel({ type: 'PUBLIC', name: h.uniq('del') }), 'create del');
    const app = await h.ok(ch.deleteChannel(c.id), 'deleteChannel');
    h.assertApplication(app, 'deleteChannel -> ApplicationResource');
    assert.equal(String(app.id), String(hb.app.id));
    await h.expectApiError(ch.retrieveChannel(c.id), 404, 'retrieveChannel after delete');
    await h.expectApiError(ch.listChannelMessages(c.id), 404, 'listChannelMessages after delete');
    const list = h.offsetPage(await h.ok(ch.listChannels(0, 100), 'listChannels after delete'), 'channels', 'after delete');
    assert.ok(!list.some((x) => x.id === c.id));
  });

  it('members: listChannelMembers, addChannelMember ({username} / {id}), removeChannelMember, listChannelMemberships', async () => {
    const c = await h.ok(ch.createChannel({ type: 'PRIVATE', name: h.uniq('mem'), members: [{ username: alice.name }] }), 'create mem');
    const m0 = await members(c.id);
    assert.ok(m0.some((u) => u.id === alice.id));
    assert.ok(!m0.some((u) => u.id === bob.id || u.id === carol.id));

    const r1 = await h.ok(ch.addChannelMember(c.id, { username: bob.name }), 'addChannelMember {username}');
    h.assertChannel(r1, { id: c.id, type: 'PRIVATE', name: c.name });
    const r2 = await h.ok(ch.addChannelMember(c.id, { id: carol.id }), 'addChannelMember {id}');
    h.assertChannel(r2, { id: c.id });
    const m1 = await members(c.id);
    for (const u of [alice, bob, carol]) assert.ok(m1.some((x) => x.id === u.id), `${u.name} is a member`);
    const bobRow = m1.find((x) => x.id === bob.id);
    h.assertUser(bobRow, { name: bob.name, display_name: bob.display_name });

    // adding an existing member is harmless
    await h.ok(ch.addChannelMember(c.id, { username: bob.name }), 'addChannelMember twice');
    const m1b = await members(c.id);
    assert.equal(m1b.filter((x) => x.id === bob.id).length, 1, 'no duplicate membership');

    const ms = await h.ok(ch.listChannelMemberships(c.id, 0, 100), 'listChannelMemberships');
    const msItems = h.offsetPage(ms, 'memberships', 'listChannelMemberships');
    assert.equal(msItems.length, m1b.length, 'one membership per member');
    msItems.forEach((x, i) => h.assertTime(x.created_time, `memberships[${i}].created_time`));

    const pMembers = await h.ok(ch.listChannelMembers(c.id, 0, 1), 'listChannelMembers size=1');
    assert.equal(h.offsetPage(pMembers, 'users', 'members size=1').length, 1);
    assert.equal(pMembers.page.total_elements, m1b.length);

    const r3 = await h.ok(ch.removeChannelMember(c.id, bob.id), 'removeChannelMember');
    h.assertChannel(r3, { id: c.id, type: 'PRIVATE' });
    const m2 = await members(c.id);
    assert.ok(!m2.some((x) => x.id === bob.id), 'bob removed');
    assert.ok(m2.some((x) => x.id === carol.id), 'carol still there');

    await h.expectApiError(ch.addChannelMember(c.id, { username: h.uniq('ghost') }), [400, 404], 'addChannelMember unknown user');
    await h.expectApiError(ch.listChannelMembers(987654321), 404, 'listChannelMembers unknown channel');
  });

  it('moderators: listChannelModerators, addChannelModerator, removeChannelModerator', async () => {
    const c = await h.ok(ch.createChannel({ type: 'PUBLIC', name: h.uniq('mod'), members: [{ username: alice.name }, { username: bob.name }] }), 'create mod');
    const mods = async () => h.offsetPage(await h.ok(ch.listChannelModerators(c.id, 0, 100), 'listChannelModerators'), 'users', 'listChannelModerators');
    assert.ok(!(await mods()).some((u) => u.id === bob.id));

    const added = await h.ok(ch.addChannelModerator(c.id, { username: bob.name }), 'addChannelModerator');
    h.assertUser(added, { id: bob.id, name: bob.name });
    const byId = await h.ok(ch.addChannelModerator(c.id, { id: alice.id }), 'addChannelModerator {id}');
    h.assertUser(byId, { id: alice.id, name: alice.name });
    const list = await mods();
    list.forEach((u, i) => h.assertUser(u, {}, `moderators[${i}]`));
    assert.ok(list.some((u) => u.id === bob.id) && list.some((u) => u.id === alice.id));

    const removed = await h.ok(ch.removeChannelModerator(c.id, bob.id), 'removeChannelModerator');
    h.assertChannel(removed, { id: c.id, type: 'PUBLIC', name: c.name });
    const after = await mods();
    assert.ok(!after.some((u) => u.id === bob.id), 'bob no longer a moderator');
    assert.ok(after.some((u) => u.id === alice.id), 'alice still a moderator');
  });

  it('sendChannelEvent returns a ChannelGenericEventResource', async () => {
    const c = await h.ok(ch.createChannel({ type: 'PUBLIC', name: h.uniq('evt') }), 'create evt');
    const properties = { score: 42, who: 'x', nested: { ok: true } };
    const ev = await h.ok(ch.sendChannelEvent(c.id, { type: 'game.score', properties }), 'sendChannelEvent');
    h.assertPlainObject(ev, 'ChannelGenericEventResource');
    assert.equal(ev.type, 'game.score');
    assert.deepEqual(ev.properties, properties);
    await h.expectApiError(ch.sendChannelEvent(987654321, { type: 'x', properties: {} }), 404, 'sendChannelEvent unknown channel');
  });
});
