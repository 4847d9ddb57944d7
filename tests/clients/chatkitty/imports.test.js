'use strict';
// Imports, jobs and analytics exports through the ChatKitty wrapper: ImportsApi uploads
// a File part exactly as the client builds it (multipart/form-data, part "file"),
// JobsApi lists and retrieves the jobs, AnalyticsApi starts exports.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const h = require('./harness');

const JOB_TYPES = ['CHANNEL_IMPORT', 'CHANNEL_MEMBERS_IMPORT', 'MESSAGE_IMPORT', 'USER_IMPORT',
  'MESSAGE_ANALYTICS_EXPORT', 'USER_ANALYTICS_EXPORT'];
const JOB_STATES = ['PENDING', 'RUNNING', 'FINISHED', 'FAILED'];

function jsonFile(items, name = 'import.json') {
  return new File([JSON.stringify(items)], name, { type: 'application/json' });
}

/** ApplicationJobResource, with hubbub's progress and errors. */
function assertJob(j, expect = {}, what = 'ApplicationJobResource') {
  h.assertPlainObject(j, what);
  h.assertId(j.id, `${what}.id`);
  assert.ok(JOB_TYPES.includes(j.type), `${what}.type: ${JSON.stringify(j)}`);
  assert.ok(JOB_STATES.includes(j.state), `${what}.state: ${JSON.stringify(j)}`);
  h.assertTime(j.created_time, `${what}.created_time`);
  if (j.ended_time !== null && j.ended_time !== undefined) h.assertTime(j.ended_time, `${what}.ended_time`);
  if (j.file !== null && j.file !== undefined) assert.equal(typeof j.file, 'string', `${what}.file`);
  assert.equal(j.createdTime, undefined, `${what}: no camelCase createdTime`);
  h.assertPlainObject(j.progress, `${what}.progress`);
  for (const k of ['processed', 'succeeded', 'failed', 'duplicates']) {
    assert.equal(typeof j.progress[k], 'number', `${what}.progress.${k}`);
  }
  assert.ok(Array.isArray(j.errors), `${what}.errors is an array`);
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(j[k], v, `${what}.${k}`);
}

/** Awaits a call that must answer 202 Accepted with a job; returns the job. */
async function accepted(promise, what) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    throw new Error(`${what}: unexpected failure: ${h.describeAxiosError(e)}`);
  }
  assert.equal(res.status, 202, `${what}: expected 202, got ${res.status}`);
  assertJob(res.data, {}, what);
  return res.data;
}

describe('imports, jobs and analytics', { timeout: 120_000 }, () => {
  let hb;
  let ck;
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
  });
  after(async () => { if (hb) await hb.stop(); });

  async function waitJob(id, what) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const job = await h.ok(ck.JobsApi.retrieveJob(id), `retrieveJob ${what}`);
      assertJob(job, { id }, `retrieveJob ${what}`);
      if (job.state === 'FINISHED' || job.state === 'FAILED') {
        h.assertTime(job.ended_time, `${what}: ended_time of an ended job`);
        return job;
      }
      assert.ok(Date.now() < deadline, `${what}: job ${id} did not end: ${JSON.stringify(job)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const names = {};
  before(() => {
    for (const k of ['ann', 'ben', 'cat']) names[k] = h.uniq(k);
  });

  it('importUsers: 202 with a USER_IMPORT job; the users exist with their fields', async () => {
    const items = [
      { name: names.ann, display_name: 'Ann', guest: false, properties: { team: 'red' }, idempotency_key: `${names.ann}-k` },
      { name: names.ben, display_name: 'Ben', guest: true, properties: {} },
      { name: names.cat, display_name: 'Cat', guest: false, properties: {},
        display_picture: { url: 'https://img.example/cat.png', name: 'cat.png', content_type: 'image/png', size: 3 } },
    ];
    const job = await accepted(ck.ImportsApi.importUsers(jsonFile(items, 'users.json')), 'importUsers');
    assert.equal(job.type, 'USER_IMPORT');
    assert.equal(job.progress.total, 3);
    const done = await waitJob(job.id, 'user import');
    assertJob(done, { type: 'USER_IMPORT', state: 'FINISHED', errors: [] });
    assert.equal(done.progress.succeeded, 3);
    assert.equal(done.progress.failed, 0);
    assert.equal(done.file ?? null, null, 'an import has no file');

    const ann = h.offsetPage(await h.ok(ck.UsersApi.listUsers(undefined, undefined, undefined, names.ann), 'listUsers'), 'users')[0];
    h.assertUser(ann, { name: names.ann, display_name: 'Ann', isGuest: false, properties: { team: 'red' } });
    const ben = h.offsetPage(await h.ok(ck.UsersApi.listUsers(undefined, undefined, undefined, names.ben), 'listUsers'), 'users')[0];
    h.assertUser(ben, { isGuest: true });
    const cat = h.offsetPage(await h.ok(ck.UsersApi.listUsers(undefined, undefined, undefined, names.cat), 'listUsers'), 'users')[0];
    h.assertUser(cat, { display_picture_url: 'https://img.example/cat.png' });

    // Retried with the same key: recognised; a duplicate name without key: an item failure.
    const again = await accepted(ck.ImportsApi.importUsers(jsonFile([items[0], items[1]])), 'importUsers again');
    const redone = await waitJob(again.id, 'user re-import');
    assert.equal(redone.state, 'FINISHED');
    assert.equal(redone.progress.duplicates, 1);
    assert.equal(redone.progress.failed, 1);
    assert.deepEqual(redone.errors, [{ index: 1, reason: `user name '${names.ben}' is already taken` }]);
  });

  let room;
  it('importChannels: PUBLIC / PRIVATE / DIRECT variants', async () => {
    const roomName = h.uniq('room');
    const job = await accepted(ck.ImportsApi.importChannels(jsonFile([
      { type: 'PUBLIC', name: roomName, display_name: 'Room', creator: names.ann, members: [names.ben], properties: { k: 1 } },
      { type: 'PRIVATE', name: h.uniq('secret'), members: [names.ann] },
      { type: 'DIRECT', members: [names.ann, names.cat] },
      { type: 'GROUP', members: [] },
    ])), 'importChannels');
    assert.equal(job.type, 'CHANNEL_IMPORT');
    const done = await waitJob(job.id, 'channel import');
    assert.equal(done.state, 'FINISHED');
    assert.equal(done.progress.succeeded, 3);
    assert.equal(done.progress.failed, 1);
    assert.equal(done.errors[0].index, 3);
    assert.match(done.errors[0].reason, /unknown channel type 'GROUP'/);

    const channels = h.offsetPage(await h.ok(ck.ChannelsApi.listChannels(0, 100), 'listChannels'), 'channels');
    room = channels.find((c) => c.name === roomName);
    h.assertChannel(room, { type: 'PUBLIC', display_name: 'Room', properties: { k: 1 } });
    assert.equal(room.creator.name, names.ann);
    const direct = channels.find((c) => c.type === 'DIRECT');
    h.assertChannel(direct);
    assert.deepEqual(direct.members.map((m) => m.name).sort(), [names.ann, names.cat].sort());
  });

  it('importChannelMembers: members of the channel in the path', async () => {
    const job = await accepted(ck.ImportsApi.importChannelMembers(room.id, jsonFile([
      { username: names.cat, idempotency_key: 'cat-in-room' }, { username: h.uniq('nobody') },
    ])), 'importChannelMembers');
    assert.equal(job.type, 'CHANNEL_MEMBERS_IMPORT');
    const done = await waitJob(job.id, 'members import');
    assert.equal(done.progress.succeeded, 1);
    assert.equal(done.progress.failed, 1);
    assert.match(done.errors[0].reason, /unknown user/);
    const members = h.offsetPage(await h.ok(ck.ChannelsApi.listChannelMembers(room.id), 'listChannelMembers'), 'users');
    assert.deepEqual(members.map((u) => u.name).sort(), [names.ann, names.ben, names.cat].sort());
    await h.expectApiError(ck.ImportsApi.importChannelMembers(987654321, jsonFile([])), 404, 'members of a missing channel');
  });

  it('importMessages: order and original timestamps kept', async () => {
    const items = [];
    for (let i = 0; i < 20; i += 1) {
      items.push(i === 7
        ? { type: 'SYSTEM_TEXT', channel_id: room.id, body: `m${i}`, created_time: `2020-05-05T10:00:${String(59 - i).padStart(2, '0')}Z` }
        : { type: 'TEXT', channel_id: room.id, user: i % 2 ? names.ann : names.ben, body: `m${i}`,
            idempotency_key: `k${i}`, created_time: `2020-05-05T10:00:${String(59 - i).padStart(2, '0')}Z` });
    }
    const job = await accepted(ck.ImportsApi.importMessages(jsonFile(items, 'messages.json')), 'importMessages');
    assert.equal(job.type, 'MESSAGE_IMPORT');
    const done = await waitJob(job.id, 'message import');
    assert.equal(done.progress.succeeded, 20);
    const page = h.cursorPage(await h.ok(ck.ChannelsApi.listChannelMessages(room.id, 50), 'listChannelMessages'));
    const oldestFirst = page.slice().reverse();
    assert.deepEqual(oldestFirst.map((m) => m.body), items.map((m) => m.body));
    oldestFirst.forEach((m, i) => {
      assert.equal(Date.parse(m.created_time), Date.parse(items[i].created_time), `created_time of ${m.body}`);
      h.assertMessage(m, { type: items[i].type });
    });
    assert.equal(oldestFirst[1].user.name, names.ann);

    const again = await accepted(ck.ImportsApi.importMessages(jsonFile(items.filter((m) => m.idempotency_key))), 'importMessages again');
    const redone = await waitJob(again.id, 'message re-import');
    assert.equal(redone.progress.duplicates, 19, 'keyed messages are not duplicated');
  });

  it('a malformed file is a 400 ApiError and creates no job', async () => {
    const before = await h.ok(ck.JobsApi.listJobs(0, 1), 'listJobs');
    const bad = new File(['[{"name": "x"'], 'bad.json', { type: 'application/json' });
    const e = await h.expectApiError(ck.ImportsApi.importUsers(bad), 400, 'malformed import');
    assert.match(e.response.data.message, /JSON array/);
    const after = await h.ok(ck.JobsApi.listJobs(0, 1), 'listJobs');
    assert.equal(after.page.total_elements, before.page.total_elements);
  });

  it('exportMessageAnalytics / exportUserAnalytics: jobs with a downloadable file', async () => {
    for (const [call, type, check] of [
      [() => ck.AnalyticsApi.exportMessageAnalytics(), 'MESSAGE_ANALYTICS_EXPORT', (rows) => assert.ok(rows.some((r) => r.body === 'm0'))],
      [() => ck.AnalyticsApi.exportUserAnalytics(), 'USER_ANALYTICS_EXPORT', (rows) => assert.ok(rows.some((r) => r.name === names.ann))],
    ]) {
      const job = await accepted(call(), type);
      assert.equal(job.type, type);
      const done = await waitJob(job.id, type);
      assertJob(done, { state: 'FINISHED', type });
      assert.equal(typeof done.file, 'string', `${type}: file URL`);
      const tok = await h.getToken(hb.tokenUrl, hb.app.client_id, hb.app.client_secret);
      const res = await axios.get(done.file, {
        headers: { Authorization: `Bearer ${tok.data.access_token}` }, responseType: 'text',
      });
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /application\/x-ndjson/);
      const rows = res.data.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, done.progress.succeeded);
      check(rows);
      const theirs = await h.getToken(hb.tokenUrl, hb.otherApp.client_id, hb.otherApp.client_secret);
      const denied = await axios.get(done.file, {
        headers: { Authorization: `Bearer ${theirs.data.access_token}` }, validateStatus: () => true,
      });
      assert.equal(denied.status, 404, 'another application cannot download it');
    }
  });

  it('listJobs (running filter, paging) and retrieveJob', async () => {
    const all = await h.ok(ck.JobsApi.listJobs(0, 100), 'listJobs');
    const jobs = h.offsetPage(all, 'jobs', 'listJobs');
    assert.equal(jobs.length, 8, `every job so far (2 user, 1 channel, 1 member, 2 message imports, 2 exports)`);
    jobs.forEach((j, i) => assertJob(j, {}, `listJobs[${i}]`));
    assert.deepEqual(jobs.map((j) => j.id), jobs.map((j) => j.id).slice().sort((a, b) => a - b), 'id order');

    const ended = h.offsetPage(await h.ok(ck.JobsApi.listJobs(0, 100, undefined, false), 'listJobs running=false'), 'jobs');
    assert.equal(ended.length, jobs.length, 'every job has ended');
    ended.forEach((j) => assert.ok(['FINISHED', 'FAILED'].includes(j.state)));
    const running = h.offsetPage(await h.ok(ck.JobsApi.listJobs(0, 100, undefined, true), 'listJobs running=true'), 'jobs');
    assert.equal(running.length, 0);

    const paged = await h.ok(ck.JobsApi.listJobs(1, 2, ['id,desc']), 'listJobs page 1');
    const second = h.offsetPage(paged, 'jobs');
    assert.equal(paged.page.number, 1);
    assert.deepEqual(second.map((j) => j.id), jobs.map((j) => j.id).reverse().slice(2, 4));

    const one = await h.ok(ck.JobsApi.retrieveJob(jobs[0].id), 'retrieveJob');
    assert.deepEqual(one, jobs[0]);
    await h.expectApiError(ck.JobsApi.retrieveJob(987654321), 404, 'retrieveJob missing');
    await h.expectApiError(hb.other.JobsApi.retrieveJob(jobs[0].id), 404, 'retrieveJob of another application');
  });
});
