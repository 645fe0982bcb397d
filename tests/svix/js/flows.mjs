// The npm svix SDK (2.x) driving Hookline's Svix-compatible API, as a Svix user's Node.js code
// would. `node flows.mjs FLOW` runs one flow against SVIX_SERVER_URL with SVIX_TOKEN (an admin
// token) and prints one JSON line: {flow, ok, error, exchanges}; `node flows.mjs --list` prints
// the flows' names. tests/svix/test_js_sdk.py runs each flow against a fresh service.
//
// Deliveries go to a receiver this script runs on 127.0.0.1, which checks every request with the
// package's own `Webhook.verify`. `exchanges` holds the last HTTP requests the SDK made and their
// answers, so a failure names the request the API got wrong.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { ApiException, MessageAttemptTriggerType, MessageStatus, Svix, Webhook } from "svix";

const SERVER = process.env.SVIX_SERVER_URL;
const TOKEN = process.env.SVIX_TOKEN;
const SHOWN_EXCHANGES = 12;
const SHOWN_BODY_CHARS = 600;
const WAIT_MS = 10_000;

const exchanges = [];
const cut = (text) =>
  text.length <= SHOWN_BODY_CHARS ? text : `${text.slice(0, SHOWN_BODY_CHARS)} …`;

/** `fetch` that keeps each request and its answer, for the report of a failed flow. */
async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  const answer = await response.clone().text();
  const target = new URL(url);
  exchanges.push({
    request: `${init.method} ${target.pathname}${target.search}`,
    sent: init.body ? cut(String(init.body)) : null,
    status: response.status,
    answer: cut(answer),
  });
  return response;
}

/** The SDK's client: no retries, so a 5xx fails at once. */
let svix;

/** A real HTTP endpoint on 127.0.0.1 that records what arrives and answers `status`. */
function startReceiver() {
  const receiver = { requests: [], status: 200, url: "" };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      receiver.requests.push({ path: req.url, headers: req.headers, body });
      res.writeHead(receiver.status, { "content-type": "text/plain" }).end("ok");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      receiver.url = `http://127.0.0.1:${server.address().port}`;
      receiver.close = () => new Promise((done) => server.close(done));
      resolve(receiver);
    });
  });
}

async function eventually(fetchValue, done, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await fetchValue();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${WAIT_MS} ms; last value: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const arrivals = (receiver, path, count) =>
  eventually(
    async () => receiver.requests.filter((r) => r.path === path),
    (got) => got.length >= count,
    `${count} requests at ${path}`,
  );

const attemptsUntil = (appId, endpointId, count, status) =>
  eventually(
    async () => (await svix.messageAttempt.listByEndpoint(appId, endpointId)).data,
    (found) => found.filter((a) => a.status === status).length >= count,
    `${count} attempts with status ${status} on ${endpointId}`,
  );

/** The HTTP status of the ApiException that `call` must throw. */
async function refusal(call) {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
  throw new Error("the call succeeded, a refusal was expected");
}

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
const verify = (secret, received) => new Webhook(secret).verify(received.body, received.headers);
const payload = { id: "inv_1", amount: 100, note: "café" };

/** One attempt per message for the endpoint at `url` (through Hookline's own API: the Svix API
 * has no retry settings), so a failed delivery is final at once. */
async function failFast(appId, url) {
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const listed = await fetch(`${SERVER}/v1/workspaces/${appId}/webhooks?limit=500`, { headers });
  const hooks = await listed.text();
  assert.equal(listed.status, 200, `listing the application's webhooks: ${hooks}`);
  const [hook] = JSON.parse(hooks).data.filter((h) => h.url === url);
  const patched = await fetch(`${SERVER}/v1/workspaces/${appId}/webhooks/${hook.id}`, {
    method: "PATCH",
    headers,
    body: JSON.stringify({ max_attempts: 1 }),
  });
  const answer = await patched.text();
  assert.equal(patched.status, 200, `setting max_attempts: ${answer}`);
}

const flows = {
  async applications() {
    const wanted = { name: "Acme", uid: "acme", metadata: { plan: "pro" } };
    const first = await svix.application.getOrCreate(wanted);
    const again = await svix.application.getOrCreate({ name: "Other name", uid: "acme" });
    assert.equal(again.id, first.id);
    assert.deepEqual([again.name, again.uid, again.metadata], ["Acme", "acme", { plan: "pro" }]);
    assert.equal((await svix.application.get("acme")).id, first.id);
    assert.equal((await svix.application.get(first.id)).uid, "acme");
    assert.equal(await refusal(svix.application.create({ name: "Dup", uid: "acme" })), 409);
    assert.equal(await refusal(svix.application.get("no-such-app")), 404);
  },

  async paging() {
    const made = new Set();
    for (let n = 0; n < 300; n += 10) {
      const names = Array.from({ length: 10 }, (_, i) => `app ${n + i}`);
      const batch = names.map((name) => svix.application.create({ name }));
      for (const app of await Promise.all(batch)) made.add(app.id);
    }
    const seen = [];
    let iterator;
    for (let pages = 1; ; pages++) {
      const page = await svix.application.list({ limit: 120, iterator });
      assert.ok(page.data.length <= 120, `a page of ${page.data.length} for limit 120`);
      seen.push(...page.data.map((a) => a.id));
      if (page.done) break;
      assert.ok(page.iterator, "a page that is not the last gives an iterator");
      assert.ok(pages < 10, `still not done after 10 pages, ${seen.length} seen`);
      iterator = page.iterator;
    }
    assert.equal(seen.length, 300);
    assert.deepEqual(new Set(seen), made);
  },

  async eventTypes() {
    const properties = { id: { type: "string" } };
    const schemas = { 1: { type: "object", properties, examples: [{ id: "x" }] } };
    const paid = { name: "invoice.paid", description: "Paid", schemas };
    const created = await svix.eventType.create(paid);
    assert.deepEqual([created.name, created.schemas], ["invoice.paid", schemas]);
    assert.deepEqual((await svix.eventType.get("invoice.paid")).schemas, schemas);
    const duplicate = { name: "invoice.paid", description: "again" };
    assert.equal(await refusal(svix.eventType.create(duplicate)), 409);
  },

  async endpoints() {
    const app = await svix.application.create({ name: "Acme" });
    const secret = newSecret();
    const created = await svix.endpoint.create(app.id, {
      url: "https://example.com/billing",
      uid: "billing-hook",
      description: "Billing",
      channels: ["project.1"],
      metadata: { team: "billing" },
      secret,
    });
    assert.deepEqual(
      [created.url, created.uid, created.description, created.channels, created.metadata],
      [
        "https://example.com/billing",
        "billing-hook",
        "Billing",
        ["project.1"],
        { team: "billing" },
      ],
    );
    assert.equal((await svix.endpoint.getSecret(app.id, created.id)).key, secret);
    const patch = { description: "v2", channels: ["project.2"] };
    const patched = await svix.endpoint.patch(app.id, created.id, patch);
    assert.deepEqual(
      [patched.description, patched.channels, patched.url],
      ["v2", ["project.2"], created.url],
    );
    assert.equal((await svix.endpoint.get(app.id, "billing-hook")).description, "v2");
    await svix.endpoint.setHeaders(app.id, created.id, { headers: { "X-Team": "billing" } });
    await svix.endpoint.patchHeaders(app.id, created.id, { headers: { "X-Extra": "1" } });
    const headers = await svix.endpoint.getHeaders(app.id, created.id);
    assert.deepEqual(headers.headers, { "X-Team": "billing", "X-Extra": "1" });
    await svix.endpoint.delete(app.id, created.id);
    assert.equal(await refusal(svix.endpoint.get(app.id, created.id)), 404);
  },

  async delivery(receiver) {
    const app = await svix.application.getOrCreate({ name: "Acme", uid: "acme" });
    const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/hook` });
    const msg = await svix.message.create("acme", { eventType: "invoice.paid", payload });
    const [received] = await arrivals(receiver, "/hook", 1);
    assert.equal(received.headers["svix-id"], msg.id, "svix-id is the message id");
    assert.deepEqual(JSON.parse(received.body), payload);
    verify((await svix.endpoint.getSecret(app.id, endpoint.id)).key, received);
    assert.throws(() => verify(newSecret(), received));
    const [attempt] = await attemptsUntil(app.id, endpoint.id, 1, MessageStatus.Success);
    assert.deepEqual(
      [attempt.msgId, attempt.endpointId, attempt.responseStatusCode, attempt.triggerType],
      [msg.id, endpoint.id, 200, MessageAttemptTriggerType.Scheduled],
    );
    const byMsg = await svix.messageAttempt.listByMsg(app.id, msg.id);
    assert.deepEqual(
      byMsg.data.map((a) => a.id),
      [attempt.id],
    );
    const stats = await svix.endpoint.getStats(app.id, endpoint.id);
    assert.deepEqual([stats.success, stats.fail], [1, 0]);
  },

  async channels(receiver) {
    const app = await svix.application.create({ name: "Acme" });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/every` });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/a`, channels: ["a"] });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/b`, channels: ["b"] });
    const forA = await svix.message.create(app.id, { eventType: "x.y", payload, channels: ["a"] });
    const forB = await svix.message.create(app.id, { eventType: "x.y", payload, channels: ["b"] });
    assert.equal((await arrivals(receiver, "/a", 1))[0].headers["svix-id"], forA.id);
    assert.equal((await arrivals(receiver, "/b", 1))[0].headers["svix-id"], forB.id);
    const every = (await arrivals(receiver, "/every", 2)).map((r) => r.headers["svix-id"]);
    assert.deepEqual(new Set(every), new Set([forA.id, forB.id]));
    const atA = receiver.requests.filter((r) => r.path === "/a").map((r) => r.headers["svix-id"]);
    assert.deepEqual(atA, [forA.id], "the channel-b message reached channel a");
  },

  async rotation(receiver) {
    const app = await svix.application.create({ name: "Acme" });
    const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/hook` });
    const old = (await svix.endpoint.getSecret(app.id, endpoint.id)).key;
    await svix.endpoint.rotateSecret(app.id, endpoint.id, {});
    const rotated = (await svix.endpoint.getSecret(app.id, endpoint.id)).key;
    assert.notEqual(rotated, old);
    await svix.message.create(app.id, { eventType: "x.y", payload });
    const [received] = await arrivals(receiver, "/hook", 1);
    verify(rotated, received);
    verify(old, received); // still valid during the grace period
  },

  async recover(receiver) {
    const app = await svix.application.create({ name: "Acme" });
    const url = `${receiver.url}/flaky`;
    const endpoint = await svix.endpoint.create(app.id, { url });
    await failFast(app.id, url);
    const since = new Date(Date.now() - 2000);
    receiver.status = 500;
    const lost = await svix.message.create(app.id, { eventType: "x.y", payload });
    const [failed] = await attemptsUntil(app.id, endpoint.id, 1, MessageStatus.Fail);
    assert.deepEqual([failed.msgId, failed.responseStatusCode], [lost.id, 500]);
    receiver.status = 200;
    const task = await svix.endpoint.recover(app.id, endpoint.id, { since });
    assert.equal(task.task, "endpoint.recover");
    const [recovered] = await attemptsUntil(app.id, endpoint.id, 1, MessageStatus.Success);
    assert.equal(recovered.msgId, lost.id);
    const received = await arrivals(receiver, "/flaky", 2);
    verify((await svix.endpoint.getSecret(app.id, endpoint.id)).key, received[1]);
  },

  async resend(receiver) {
    const app = await svix.application.create({ name: "Acme" });
    const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/hook` });
    const msg = await svix.message.create(app.id, { eventType: "x.y", payload });
    await attemptsUntil(app.id, endpoint.id, 1, MessageStatus.Success);
    await svix.messageAttempt.resend(app.id, msg.id, endpoint.id);
    const attempts = await attemptsUntil(app.id, endpoint.id, 2, MessageStatus.Success);
    const triggers = attempts.map((a) => a.triggerType).sort();
    const { Scheduled, Manual } = MessageAttemptTriggerType;
    assert.deepEqual(triggers, [Scheduled, Manual]);
    const received = await arrivals(receiver, "/hook", 2);
    assert.deepEqual(
      received.map((r) => r.headers["svix-id"]),
      [msg.id, msg.id],
    );
  },

  async idempotency(receiver) {
    const app = await svix.application.create({ name: "Acme" });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/hook` });
    const once = { idempotencyKey: "k1" };
    const first = await svix.message.create(app.id, { eventType: "x.y", payload }, once);
    const again = await svix.message.create(app.id, { eventType: "x.y", payload }, once);
    assert.equal(again.id, first.id);
    const fence = await svix.message.create(app.id, { eventType: "x.y", payload: { fence: 1 } });
    const ids = (await arrivals(receiver, "/hook", 2)).map((r) => r.headers["svix-id"]);
    assert.deepEqual(ids.sort(), [first.id, fence.id].sort());
  },

  async portal() {
    const app = await svix.application.create({ name: "Acme", uid: "acme-portal" });
    const access = await svix.authentication.appPortalAccess("acme-portal", { expiry: 3600 });
    assert.ok(access.token.startsWith("hlp_"), access.token);
    assert.equal(access.url, `${SERVER}/portal/#${access.token}`);
    const shell = await fetch(access.url); // a browser sends no fragment
    assert.equal(shell.status, 200);
    assert.match(await shell.text(), /\/static\/portal\.js/);
    const opened = await openPortal(access.url);
    assert.equal(opened.status, 200, opened.page.slice(0, 300));
    assert.match(opened.page, /X-Portal-Session/);
    assert.match(opened.page, /data-read-only="false"/);
    const looking = await svix.authentication.appPortalAccess(app.id, { readOnly: true });
    assert.match((await openPortal(looking.url)).page, /data-read-only="true"/);
    assert.equal(await refusal(svix.authentication.appPortalAccess(app.id, { expiry: 30 })), 422);
  },
};

/** What the portal's page script does with a link: its token, from the URL's fragment, sent
 * once in a header to sign in. */
async function openPortal(url) {
  const token = new URL(url).hash.slice(1);
  const response = await fetch(new URL("/portal/sign-in", url), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "hx-request": "true" },
  });
  return { status: response.status, page: await response.text() };
}

async function main() {
  const name = process.argv[2];
  if (name === "--list") {
    console.log(JSON.stringify(Object.keys(flows)));
    return;
  }
  if (!(name in flows)) throw new Error(`no flow ${name}; flows: ${Object.keys(flows).join(", ")}`);
  svix = new Svix(TOKEN, { serverUrl: SERVER, retryScheduleInMs: [], fetch: recordingFetch });
  const receiver = await startReceiver();
  const result = { flow: name, ok: true, error: null, exchanges: [] };
  try {
    await flows[name](receiver);
  } catch (error) {
    result.ok = false;
    result.error =
      error instanceof ApiException
        ? `the SDK got HTTP ${error.code}: ${JSON.stringify(error.body)}`
        : String(error.stack ?? error);
  } finally {
    await receiver.close();
  }
  result.exchanges = exchanges.slice(-SHOWN_EXCHANGES);
  console.log(JSON.stringify(result));
}

await main();
