// The vmscale web console: a client of the broker like every other component. It logs in with a broker
// account over STOMP on WebSocket, reads every live topic (vmscale.*) through one non-durable subscription,
// and sends admin.command envelopes to vmscale.admin with a reply address of its own, as `./vmscale ops` does.
// The broker decides who may do what: a viewer's command is refused by the broker, and the page says so.
'use strict';

const COMMAND_TIMEOUT_MS = 5000;
/** Over this many replicas the chart draws the fleet (mean, max, min each second), not a line per replica. */
const MANY_LINES = 12;
/** The replicas table's row height, as measured on a drawn row: only the rows in view are built. */
let rowPx = 24;
const BALANCER_COMMANDS = new Set(['load', 'add', 'remove', 'clear', 'refresh']);
const $ = (id) => document.getElementById(id);

let settings;
let client;
let statusPoll; // the periodic status request, once per page
let user;
let connectedOnce = false;
let readOnly = false;
let replyTo;
let seq = 0;
const pending = new Map(); // requestId -> {command, expected, answers, output, timer}
const receipts = new Map(); // receipt id -> requestId

// ---- what the page knows, built from events ----

const replicas = new Map(); // domain -> {domain, host, state, cpu, endpoint, since}
let replicaOrder = null; // the domains sorted, until one comes or goes
const rowCache = new Map(); // domain -> its <tr> while in view
/** What rendering costs in this page (the scale test reads it): each render's milliseconds, the last 300. */
const figures = {renders: [], events: 0, handlingMs: 0, lagMs: 0};
const decisions = [];
const ejected = new Set();

// ---- groups: the page shows and commands one at a time ----

/** The group shown and commanded, by name; '' until the list is known: the first (the configuration's top level). */
let group = '';
/** The groups as the scaler listed them last, the first first: [{name, ready, replicas, ...}]. */
let groups = [];
/** The group's replicas are its domains: PREFIX-NNNN. */
const domainOf = (name) => new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '-\\d+$');
let groupDomains = null; // null: every domain (the groups not known yet)

/** Whether the event is the shown group's: its domains, its decisions, its traffic's stats; the rest is everyone's. */
function shownGroup(envelope) {
  const b = envelope.body;
  const first = groups.length ? groups[0].name : '';
  const shown = group || first;
  switch (envelope.type) {
    case 'cpu.sample':
    case 'vm.lifecycle':
      return !groupDomains || groupDomains.test(b.domain);
    case 'scale.decision':
    case 'lb.stats':
      return !first || (b.group || first) === shown; // an older release names none: the first's
    default:
      return true;
  }
}

/** The chart's series, with the semantics of io.vmscale.cli.chart.ChartModel (the PNG and the window). */
const chart = {
  cpu: new Map(), // domain -> [[t, value]]
  fleet: new Map(), // whole second -> {n, sum, min, max}: the CPU of every replica sampled in it
  replicas: [], // [t, ready count]
  ready: new Set(),
  migrating: new Set(), // being live-migrated: the monitor's "migrated" events are not departures
  readyOn: new Map(), // domain -> the host it serves from: a departure heard from another host (a migration's source) is not one
  pooled: new Set(),
  throughput: [],
  p99: [],
  markers: [], // {t, kind, label}
  calibrating: new Map(), // endpoint -> since when the balancer's stats mark it calibrating (kept saturated: not load)
  calibrations: [], // {from, to, label}: the measurements over
  newest: 0,
  dirty: false,

  accept(envelope) {
    const t = Date.parse(envelope.ts) / 1000;
    const b = envelope.body;
    switch (envelope.type) {
      case 'cpu.sample':
        if (this.pooled.has(b.domain)) return; // a warm pool's replica booting or being warmed: not load
        if (!this.cpu.has(b.domain)) this.cpu.set(b.domain, []);
        this.cpu.get(b.domain).push([t, b.cpuPercent]);
        this.addToFleet(Math.floor(t), b.cpuPercent);
        break;
      case 'vm.lifecycle': {
        if (b.state === 'MIGRATING') this.migrating.add(b.domain);
        else if (envelope.source.startsWith('scaler@')) this.migrating.delete(b.domain);
        const elsewhere = (this.readyOn.has(b.domain) && this.readyOn.get(b.domain) !== b.host)
          || this.migrating.has(b.domain);
        if (b.state === 'READY') this.readyOn.set(b.domain, b.host);
        const changed = b.state === 'READY' ? !this.ready.has(b.domain) && this.ready.add(b.domain)
          : !['STARTING', 'RUNNING', 'DEFINED', 'MIGRATING'].includes(b.state) && !elsewhere && this.ready.delete(b.domain);
        if (changed || this.replicas.length === 0) this.replicas.push([t, this.ready.size]);
        const inPool = b.state === 'WARMING' || b.state === 'POOLED';
        if (inPool) this.pooled.add(b.domain);
        else if (envelope.source.startsWith('scaler@')) this.pooled.delete(b.domain);
        if (b.state === 'FAILED') this.markers.push({t, kind: 'FAILED', label: `${b.domain} failed: ${b.reason}`});
        break;
      }
      case 'scale.decision':
        if (b.action === 'HOLD') return;
        this.markers.push({t, kind: b.action, label: b.action === 'MIGRATE' ? `MIGRATE ${b.domain} ${b.reasonCode}`
          : `${b.action} ${b.fromReplicas}\u2192${b.toReplicas} ${b.reasonCode}`});
        break;
      case 'lb.stats': {
        this.throughput.push([t, b.throughput]);
        this.p99.push([t, b.p99Ms]);
        const marked = (s) => s && s.calibrating && !s.removed;
        for (const [endpoint, server] of Object.entries(b.servers || {})) {
          if (marked(server) && !this.calibrating.has(endpoint)) this.calibrating.set(endpoint, t);
        }
        for (const [endpoint, since] of [...this.calibrating]) {
          if (marked((b.servers || {})[endpoint])) continue;
          this.calibrations.push({from: since, to: t, label: `calibrating ${endpoint}`});
          this.calibrating.delete(endpoint);
        }
        break;
      }
      default:
        return;
    }
    this.newest = Math.max(this.newest, t);
    this.dirty = true;
  },

  addToFleet(second, value) {
    const bucket = this.fleet.get(second);
    if (!bucket) {
      this.fleet.set(second, {n: 1, sum: value, min: value, max: value});
      return;
    }
    bucket.n++;
    bucket.sum += value;
    bucket.min = Math.min(bucket.min, value);
    bucket.max = Math.max(bucket.max, value);
  },

  /** Drops what left the window: once per drawing, not per event (1,000 samples a second at 1,000 replicas). */
  trim() {
    const oldest = this.newest - settings.windowSeconds;
    for (const [domain, points] of this.cpu) {
      let gone = 0;
      while (gone < points.length && points[gone][0] < oldest) gone++;
      if (gone === points.length) this.cpu.delete(domain);
      else if (gone) points.splice(0, gone);
    }
    for (const second of this.fleet.keys()) {
      if (second < Math.floor(oldest)) this.fleet.delete(second);
    }
    // the last replica count before the window still holds at its left edge
    while (this.replicas.length > 1 && this.replicas[1][0] < oldest) this.replicas.shift();
    for (const list of [this.throughput, this.p99]) {
      while (list.length && list[0][0] < oldest) list.shift();
    }
    while (this.markers.length && this.markers[0].t < oldest) this.markers.shift();
    while (this.calibrations.length && this.calibrations[0].to < oldest) this.calibrations.shift();
  },

  /** The measurements over and those still going (up to now), as ChartModel's snapshot has them. */
  spans() {
    return this.calibrations.concat([...this.calibrating].map(([endpoint, since]) =>
      ({from: since, to: this.newest, label: `calibrating ${endpoint}`})));
  },
};

// ---- login and the broker connection ----

async function start() {
  settings = await (await fetch('/settings.json')).json();
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    login($('user').value, $('password').value);
  });
  $('logout').addEventListener('click', logout);
  $('replica-filter').addEventListener('input', renderTable);
  let scrolled = false;
  $('replicas-box').addEventListener('scroll', () => {
    if (scrolled) return;
    scrolled = true;
    requestAnimationFrame(() => {
      scrolled = false;
      renderTable();
    });
  });
  for (const button of document.querySelectorAll('#controls button')) {
    button.addEventListener('click', () => control(button));
  }
  $('group').addEventListener('change', () => {
    showGroup($('group').value, false);
    showGroups(groups);
  });
  $('group-create').addEventListener('click', createGroup);
  $('group-delete').addEventListener('click', deleteGroup);
  $('group-change').addEventListener('click', changeGroup);
  setInterval(render, 1000);
}

function login(name, password) {
  user = name;
  connectedOnce = false;
  readOnly = false;
  $('login-error').textContent = 'connecting to ' + settings.brokerUrl + ' ...';
  $('login-button').disabled = true;
  client = new StompJs.Client({
    brokerURL: settings.brokerUrl,
    connectHeaders: {login: name, passcode: password},
    reconnectDelay: 1000,
    heartbeatIncoming: 10000,
    heartbeatOutgoing: 10000,
  });
  client.onConnect = onConnect;
  client.onStompError = onError;
  client.onWebSocketClose = () => {
    if (!connectedOnce) {
      refuseLogin($('login-error').dataset.refused || 'cannot reach the broker at ' + settings.brokerUrl
        + ': is it running (./vmscale up)?');
    } else {
      $('session').textContent = `${user} @ ${settings.brokerUrl}: connection lost, reconnecting ...`;
      for (const requestId of [...pending.keys()]) finish(requestId, 'connection to the broker lost before the answer');
    }
  };
  $('login-error').dataset.refused = '';
  client.activate();
}

function refuseLogin(message) {
  client.deactivate();
  $('login-error').textContent = message;
  $('login-button').disabled = false;
  $('console').hidden = true;
  $('login').hidden = false;
}

function logout() {
  client.deactivate();
  connectedOnce = false;
  $('console').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-button').disabled = false;
  $('login-error').textContent = '';
  $('session').textContent = '';
  $('password').value = '';
}

function onConnect() {
  connectedOnce = true;
  $('login').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  $('login-error').textContent = '';
  $('session').textContent = `${user} @ ${settings.brokerUrl}${readOnly ? ' (read only)' : ''}`;
  // one subscription to every live topic, in the broker's routing order; non-durable: it ends with the page
  client.subscribe('vmscale.*', (message) => {
    const began = performance.now();
    const envelope = JSON.parse(message.body);
    onEvent(envelope);
    figures.handlingMs += performance.now() - began;
    figures.events++;
    figures.lagMs = Math.max(figures.lagMs, Date.now() - Date.parse(envelope.ts));
  }, {'subscription-type': 'MULTICAST'});
  replyTo = 'vmscale.reply.console-' + crypto.randomUUID();
  client.subscribe(replyTo, (message) => onAnswer(JSON.parse(message.body).body), {'subscription-type': 'MULTICAST'});
  if (!readOnly) {
    send('status', [], null); // what is there already: replicas, decisions, the scaler's settings
    send('groups', [], null); // the groups: the first is shown until another is chosen
    // the replicas' last health checks between events
    statusPoll = statusPoll || setInterval(() => {
      if (!readOnly && client.connected) {
        send('status', [], null);
        send('groups', [], null);
      }
    }, 10000);
  }
}

function onError(frame) {
  const message = frame.headers.message || 'error';
  if (!connectedOnce) {
    // the broker says "Security Error occurred: User name [x] or password is invalid"
    const refused = /password is invalid|Security/i.test(message)
      ? `login refused: wrong user name or password for '${user}'` : 'the broker refused the login: ' + message;
    $('login-error').dataset.refused = refused;
    refuseLogin(refused);
    return;
  }
  const requestId = receipts.get(frame.headers['receipt-id']);
  if (requestId) {
    const p = pending.get(requestId);
    if (p && (p.command === 'status' || p.command === 'groups')) {
      readOnly = true; // the account may not send commands: a viewer
    }
    finish(requestId, `refused by the broker: user '${user}' may not send commands to vmscale.admin`, true);
  } else {
    toast('broker: ' + message, 'alert-bad');
  }
}

// ---- admin commands ----

function control(button) {
  const command = button.dataset.command;
  const args = button.dataset.args ? [button.dataset.args] : [];
  if (button.dataset.input) args.push(String($(button.dataset.input).value));
  if (button.dataset.then) args.push(button.dataset.then);
  const output = [...document.querySelectorAll('#controls output')]
    .find((o) => o.dataset.for.split(' ').includes(command));
  send(command, args, output);
}

function send(command, args, output, said) {
  const requestId = crypto.randomUUID();
  const target = command === 'status' ? 'all' : BALANCER_COMMANDS.has(command) ? 'balancer' : 'scaler';
  const expected = command === 'status' ? ['scaler', 'balancer'] : [target];
  const receipt = 'cmd-' + requestId;
  const shown = said || [command, ...args].join(' ');
  if (!client.connected) { // between a lost connection and the next: nothing would carry it, say so at once
    if (output) {
      output.className = 'refused';
      output.textContent = shown + ': not sent: the connection to the broker is being re-established, try again';
    }
    return;
  }
  if (output) {
    output.className = '';
    output.textContent = shown + ': sent ...';
  }
  pending.set(requestId, {
    command, shown, expected, answers: [], output,
    timer: setTimeout(() => finish(requestId, null), COMMAND_TIMEOUT_MS),
  });
  receipts.set(receipt, requestId);
  const envelope = {
    type: 'admin.command', v: 1, ts: new Date().toISOString(), source: 'console@' + user, seq: ++seq,
    body: {requestId, replyTo, target, command, args, group},
  };
  // no content-length: the broker then makes it a text message, as the components read them
  client.publish({
    destination: 'vmscale.admin', body: JSON.stringify(envelope), skipContentLengthHeader: true,
    headers: {type: 'admin.command', persistent: 'true', receipt},
  });
}

function onAnswer(result) {
  const p = pending.get(result.requestId);
  if (!p) return;
  p.answers.push(result);
  if (p.command === 'status') showStatus(result);
  if (p.command === 'groups' && result.ok) showGroups(result.data.groups || []);
  if (p.expected.every((name) => p.answers.some((a) => a.responder.startsWith(name + '@')))) {
    finish(result.requestId, null);
  }
}

/** Shows what came back for a command: every answer, the components that did not answer, or the refusal. */
function finish(requestId, refusal, refused) {
  const p = pending.get(requestId);
  if (!p) return;
  pending.delete(requestId);
  clearTimeout(p.timer);
  const lines = refusal ? [refusal] : p.answers.map((a) => `${a.responder}: ${a.ok ? '' : 'error: '}${a.message}`);
  if (!refusal) {
    for (const name of p.expected) {
      if (!p.answers.some((a) => a.responder.startsWith(name + '@'))) {
        lines.push(`${name}: no answer within ${COMMAND_TIMEOUT_MS / 1000} s: is it running (./vmscale up)?`);
      }
    }
  }
  const failed = refused || !!refusal || lines.length > p.answers.length || p.answers.some((a) => !a.ok);
  if (p.output) {
    p.output.className = failed ? 'refused' : '';
    p.output.textContent = `${p.shown}: ${lines.join('; ')}`;
  }
  if (refused && (p.command === 'status' || p.command === 'groups')) {
    $('session').textContent = `${user} @ ${settings.brokerUrl} (read only)`;
  }
}

function showStatus(result) {
  const data = result.data || {};
  if (result.responder.startsWith('scaler@')) {
    const t = Date.now() / 1000;
    for (const r of data.replicas || []) {
      if (!replicas.has(r.domain)) replicaOrder = null;
      const known = replicas.get(r.domain) || {domain: r.domain, host: r.host || '-', since: Date.parse(r.since)};
      replicas.set(r.domain, {...known, host: known.host === '-' && r.host ? r.host : known.host, state: r.state,
        cpu: r.cpu, endpoint: r.endpoint, check: r.check || known.check});
      // the chart's replica count starts from what serves already, not from zero
      if (r.state === 'READY' && !chart.ready.has(r.domain)) {
        chart.ready.add(r.domain);
        if (r.host) chart.readyOn.set(r.domain, r.host);
        chart.replicas.push([t, chart.ready.size]);
      }
    }
    for (const d of data.decisions || []) decisions.push({...d, at: Date.parse(d.at)});
    decisions.sort((a, b) => a.at - b.at);
    if (data.scaler) scalerSummary(data.scaler);
  }
}

/** The groups' table and the chooser; the shown group stays unless it is gone (then the first). */
function showGroups(list) {
  groups = list;
  if (!groups.length) return;
  const names = groups.map((g) => g.name);
  if (!group || !names.includes(group)) showGroup(names[0], !group);
  const select = $('group');
  select.replaceChildren(...names.map((name) => {
    const option = document.createElement('option');
    option.value = option.textContent = name;
    return option;
  }));
  select.value = group;
  $('groups').tBodies[0].replaceChildren(...groups.map((g) => {
    const tr = document.createElement('tr');
    tr.id = 'group-' + g.name;
    const cells = [g.name, String(g.ready), String(g.replicas), `${g.minReplicas}..${g.maxReplicas}`, g.policy,
      g.image || 'the built-in guest', g.deleting ? 'BEING DELETED' + (g.deletionWaits ? ` (waits: ${g.deletionWaits})` : '') : g.changing ? 'BEING CHANGED'
        : g.paused ? 'PAUSED' : ''];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    if (g.name === group) tr.className = 'shown';
    return tr;
  }));
  $('group-delete').disabled = names[0] === group;
  $('group-change').disabled = names[0] === group; // the first group's spec is the file's
}

/** Shows another group: what the page knew is the old group's, so it starts again from the new one's status. */
function showGroup(name, keep) {
  if (name === group) return;
  group = name;
  groupDomains = domainOf(name);
  if (!keep) {
    replicas.clear();
    replicaOrder = null;
    rowCache.clear();
    decisions.length = 0;
    for (const key of ['cpu', 'fleet', 'migrating', 'readyOn', 'pooled', 'calibrating']) chart[key].clear();
    chart.ready.clear();
    for (const key of ['replicas', 'throughput', 'p99', 'markers', 'calibrations']) chart[key].length = 0;
    chart.dirty = true;
    $('rollout-progress').textContent = '';
    $('lb-figures').textContent = '';
    send('status', [], null);
  } else {
    for (const domain of [...replicas.keys()]) {
      if (!groupDomains.test(domain)) replicas.delete(domain);
    }
    replicaOrder = null;
  }
  $('shown-group').textContent = name;
}

/** The spec of the group to create: the JSON keys given, with the fields over them. */
function newGroupSpec() {
  const text = $('new-spec').value.trim();
  let spec;
  try {
    spec = text ? JSON.parse(text) : {};
  } catch (e) {
    throw new Error('more keys: not valid JSON: ' + e.message);
  }
  if (typeof spec !== 'object' || Array.isArray(spec) || spec === null) throw new Error('more keys: expected a JSON object');
  spec.scaler = {...(spec.scaler || {}), minReplicas: Number($('new-min').value), maxReplicas: Number($('new-max').value),
    policy: $('new-policy').value};
  const image = $('new-image').value.trim();
  if (image) spec.application = {...(spec.application || {}), image};
  return JSON.stringify(spec);
}

function createGroup() {
  const output = $('group-create-out');
  const name = $('new-name').value.trim();
  if (!name) {
    output.className = 'refused';
    output.textContent = 'group create: give the group a name (its domains are NAME-NNNN)';
    return;
  }
  let spec;
  try {
    spec = newGroupSpec();
  } catch (e) {
    output.className = 'refused';
    output.textContent = 'group create ' + name + ': ' + e.message;
    return;
  }
  send('group', ['create', name, spec], output, `group create ${name}`);
}

function changeGroup() {
  const output = $('group-change-out');
  const name = group;
  const text = $('change-spec').value.trim();
  let patch;
  try {
    patch = JSON.parse(text);
  } catch (e) {
    output.className = 'refused';
    output.textContent = `group change ${name}: not valid JSON: ${e.message}`;
    return;
  }
  if (typeof patch !== 'object' || Array.isArray(patch) || patch === null) {
    output.className = 'refused';
    output.textContent = `group change ${name}: expected a JSON object (the keys to change)`;
    return;
  }
  send('group', ['change', name, JSON.stringify(patch)], output, `group change ${name}`);
}

function deleteGroup() {
  const output = $('group-delete-out');
  const name = group;
  if (!window.confirm(`Delete the group ${name}? Its replicas are drained and stopped, its domains and volumes removed.`)) {
    output.className = '';
    output.textContent = `group delete ${name}: not confirmed, nothing done`;
    return;
  }
  send('group', ['delete', name], output, `group delete ${name}`);
}

function scalerSummary(s) {
  const r = s.rollout || {};
  if (typeof s.high === 'number' && typeof s.low === 'number' && (s.high !== settings.high || s.low !== settings.low)) {
    settings.high = s.high; // the shown group's thresholds: the chart's HIGH and LOW lines
    settings.low = s.low;
    chart.dirty = true;
  }
  $('scaler-summary').textContent = `scaler: ${s.policy}, replicas ${s.minReplicas}..${s.maxReplicas}`
    + (s.paused ? ', PAUSED' : '') + (s.dryRun ? ', DRY RUN' : '') + (s.desired != null ? `, scaling to ${s.desired}` : '')
    + (r.image ? `, image ${r.image}` : '');
  if (r.to) {
    $('rollout-progress').textContent = `${r.rollback ? 'rollback' : 'rolling update'} to ${r.to}: `
      + `${r.replaced} of ${r.total} replaced, ${r.doing}`;
  }
  // the base images the group's storage pool holds: what the image control offers
  $('image-list').replaceChildren(...(r.images || []).map((name) => {
    const option = document.createElement('option');
    option.value = name;
    return option;
  }));
}

// ---- events ----

function onEvent(envelope) {
  if (envelope.type === 'group.change') {
    const b = envelope.body;
    raiseAlert(`group ${b.group} ${b.change}${b.reason ? ': ' + b.reason : ''}`,
      b.change === 'deleted' ? 'alert-bad' : 'alert-scale');
    if (!readOnly) send('groups', [], null);
    return;
  }
  if (!shownGroup(envelope)) return;
  chart.accept(envelope);
  const b = envelope.body;
  const now = Date.parse(envelope.ts);
  switch (envelope.type) {
    case 'cpu.sample': {
      const r = replicas.get(b.domain);
      if (r) r.cpu = b.cpuPercent;
      break;
    }
    case 'vm.lifecycle': {
      const known = replicas.get(b.domain) || {domain: b.domain, since: now};
      if (!envelope.source.startsWith('scaler@') && (chart.migrating.has(b.domain)
          || (known.host && known.host !== b.host))) {
        break; // the old host's word on a replica that moved (suspended, stopped: migrated)
      }
      const endpoint = b.endpoint ? `${b.endpoint.ip}:${b.endpoint.port}` : known.endpoint;
      if (b.state === 'UNDEFINED' || (b.state === 'STOPPED' && envelope.source.startsWith('scaler@'))) {
        if (replicas.delete(b.domain)) replicaOrder = null;
      } else {
        if (!replicas.has(b.domain)) replicaOrder = null;
        // the last health check as far as events tell it: READY passed one, FAILED says why; the status refines it
        const check = b.state === 'FAILED' ? b.reason : b.state === 'READY' ? 'passed' : known.check;
        replicas.set(b.domain, {...known, host: b.host, state: b.state, endpoint, check});
      }
      if (b.state === 'FAILED') raiseAlert(`${b.domain} FAILED: ${b.reason}`, 'alert-bad');
      break;
    }
    case 'scale.decision':
      if (b.policy === 'rollout') {
        $('rollout-progress').textContent = `${b.action} ${b.reasonCode}: ${b.reason}`;
        if (b.reasonCode === 'RollbackStarted' || b.reasonCode === 'RolloutFailed') {
          raiseAlert(`${b.reasonCode}: ${b.reason}`, 'alert-bad');
        } else if (b.reasonCode.endsWith('Completed') || b.reasonCode === 'RolloutStarted'
            || b.reasonCode === 'RolloutCheckpoint') {
          raiseAlert(`${b.reasonCode}: ${b.reason}`, 'alert-scale');
        }
      }
      if (b.action !== 'HOLD' || b.reasonCode !== (decisions[decisions.length - 1] || {}).reasonCode) {
        decisions.push({...b, at: now});
        if (decisions.length > 50) decisions.shift();
      }
      if (b.action === 'REPLACE' || b.reasonCode === 'ActionFailed') {
        raiseAlert(`${b.action} ${b.reasonCode}: ${b.reason}`, 'alert-bad');
      } else if (b.action === 'UP' || b.action === 'DOWN' || b.action === 'MIGRATE') {
        raiseAlert(`${b.action} ${b.fromReplicas}\u2192${b.toReplicas} ${b.reasonCode}: ${b.reason}`, 'alert-scale');
      } else if (b.reasonCode === 'NoCapacity' || b.reasonCode === 'HostUnreachable' || b.reasonCode === 'DeletionWaits') {
        raiseAlert(`${b.action} ${b.reasonCode}: ${b.reason}`, 'alert-bad');
      }
      break;
    case 'lb.stats':
      for (const [endpoint, s] of Object.entries(b.servers)) {
        if (s.ejected && !ejected.has(endpoint)) raiseAlert(`balancer ejected ${endpoint} (timeouts in a row)`, 'alert-bad');
        if (s.ejected) ejected.add(endpoint); else ejected.delete(endpoint);
      }
      $('lb-figures').textContent = `load ${b.mode}: ${b.throughput.toFixed(0)} answers/s, p99 ${b.p99Ms.toFixed(2)} ms; `
        + `sent ${b.sent}, answered ${b.answered}, wrong ${b.wrong}, timed out ${b.timedOut}`;
      break;
    case 'host.status':
      if (!b.connected) raiseAlert(`host ${b.host} went away: ${b.reason}`, 'alert-bad');
      break;
    default:
  }
}

/** An alert: a toast for a few seconds, and a line in the list that stays. */
function raiseAlert(text, kind) {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = `${time(Date.now())} ${text}`;
  $('alerts').prepend(li);
  toast(text, kind);
}

function toast(text, kind) {
  const div = document.createElement('div');
  div.className = 'toast ' + kind;
  div.textContent = text;
  $('toasts').append(div);
  setTimeout(() => div.remove(), 8000);
}

// ---- drawing ----

function time(ms) {
  return new Date(ms).toTimeString().slice(0, 8);
}

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

function render() {
  if ($('console').hidden) return;
  const began = performance.now();
  renderTable();
  $('decisions').replaceChildren(...decisions.slice(-15).reverse().map((d) => {
    const li = document.createElement('li');
    li.className = 'action-' + d.action;
    li.textContent = `${time(d.at)} ${d.action} ${d.fromReplicas}\u2192${d.toReplicas} ${d.policy} ${d.reasonCode}: ${d.reason}`;
    return li;
  }));
  if (chart.dirty) {
    chart.dirty = false;
    chart.trim();
    drawCpu();
    drawLb();
  }
  figures.renders.push(performance.now() - began);
  if (figures.renders.length > 300) figures.renders.shift();
}

/** The replicas that match the filter, in domain order. */
function shownReplicas() {
  if (!replicaOrder) replicaOrder = [...replicas.keys()].sort();
  const filter = $('replica-filter').value.trim().toLowerCase();
  const all = replicaOrder.map((domain) => replicas.get(domain));
  return filter ? all.filter((r) => [r.domain, r.host, r.state, r.endpoint].some((v) => v && v.toLowerCase().includes(filter)))
    : all;
}

/**
 * The replicas table, virtualised: a spacer row stands for the rows above the box's view and one for those
 * below, so a fleet of 1,000 costs the 20-odd rows in view; a row seen again is reused and only its changed
 * cells written.
 */
function renderTable() {
  const shown = shownReplicas();
  const states = new Map();
  for (const r of replicas.values()) states.set(r.state, (states.get(r.state) || 0) + 1);
  $('replica-count').textContent = `${replicas.size} replicas` + (states.size ? ': ' : '')
    + [...states].sort((a, b) => b[1] - a[1]).map(([state, n]) => `${n} ${state}`).join(', ')
    + (shown.length !== replicas.size ? ` (${shown.length} match the filter)` : '');
  const box = $('replicas-box');
  const inView = Math.ceil((box.clientHeight || 600) / rowPx) + 10;
  const first = Math.max(0, Math.min(Math.floor(box.scrollTop / rowPx) - 5, shown.length - inView));
  const visible = shown.slice(first, first + inView);
  const keep = new Set(visible.map((r) => r.domain));
  for (const domain of rowCache.keys()) {
    if (!keep.has(domain)) rowCache.delete(domain);
  }
  const rows = visible.map((r) => {
    let tr = rowCache.get(r.domain);
    if (!tr) {
      tr = document.createElement('tr');
      tr.id = 'replica-' + r.domain;
      for (const name of ['domain', 'host', 'state', 'number cpu', 'endpoint', 'number age', 'check']) {
        const td = document.createElement('td');
        td.className = name;
        tr.append(td);
      }
      rowCache.set(r.domain, tr);
    }
    const pool = r.state === 'POOLED' || r.state === 'WARMING';
    const cells = [r.domain, r.host || '-', r.state, r.cpu == null || pool ? '-' : r.cpu.toFixed(1), r.endpoint || '-',
      age(r.since), r.check || '-'];
    const className = 'state-' + r.state;
    if (tr.className !== className) tr.className = className;
    cells.forEach((text, i) => {
      const td = tr.cells[i];
      if (td.textContent !== text) {
        td.textContent = text;
        td.title = text;
      }
    });
    return tr;
  });
  const spacer = (n) => {
    const tr = document.createElement('tr');
    tr.className = 'spacer';
    const td = document.createElement('td');
    td.colSpan = 7;
    td.style.height = `${n * rowPx}px`;
    tr.append(td);
    return tr;
  };
  const above = first;
  const below = shown.length - first - visible.length;
  $('replicas').tBodies[0].replaceChildren(...(above ? [spacer(above)] : []), ...rows, ...(below ? [spacer(below)] : []));
  const drawn = rows.length ? rows[0].getBoundingClientRect().height : 0;
  if (drawn > 0) rowPx = drawn;
}

let cpuPlot;
let cpuDomains = ''; // the replicas drawn, one line each, or 'fleet'
let lbPlot;

/** uPlot wants one x array: the union of every series' times, each series null where it has no point. */
function aligned(seriesList, stepped) {
  const xs = [...new Set(seriesList.flatMap((points) => points.map((p) => p[0])))].sort((a, b) => a - b);
  const columns = seriesList.map((points, i) => {
    const at = new Map(points.map((p) => [p[0], p[1]]));
    let last = null;
    return xs.map((x) => {
      if (at.has(x)) last = at.get(x);
      return stepped[i] ? last : at.has(x) ? at.get(x) : null;
    });
  });
  return [xs, ...columns];
}

function size(id, height) {
  return {width: Math.max(300, $(id).clientWidth || 600), height};
}

function drawCpu() {
  const replicaLine = chart.replicas.length ? [...chart.replicas, [chart.newest, chart.replicas.at(-1)[1]]] : [];
  const domains = [...chart.cpu.keys()];
  const many = domains.length > MANY_LINES;
  let lines;
  let data;
  if (many) {
    // the whole fleet each second: a line per replica would be hundreds nobody can tell apart
    const seconds = [...chart.fleet.keys()].sort((a, b) => a - b);
    const stat = (f) => seconds.map((s) => [s, f(chart.fleet.get(s))]);
    lines = [{label: 'max CPU %', stroke: '#d62728'}, {label: 'mean CPU %', stroke: '#1f77b4', width: 2},
      {label: 'min CPU %', stroke: '#2ca02c'}];
    data = aligned([stat((b) => b.max), stat((b) => b.sum / b.n), stat((b) => b.min), replicaLine],
      [false, false, false, true]);
  } else {
    const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
    lines = domains.map((d, i) => ({label: d, stroke: colours[i % colours.length]}));
    data = aligned([...domains.map((d) => chart.cpu.get(d)), replicaLine], [...domains.map(() => false), true]);
  }
  const drawn = many ? 'fleet' : domains.join();
  if (!cpuPlot || cpuDomains !== drawn) {
    cpuPlot?.destroy();
    cpuDomains = drawn;
    cpuPlot = new uPlot({
      ...size('cpu-chart', 300),
      scales: {x: {time: true, range: atLeastAMinute}, '%': {range: [0, 110]},
        n: {range: (u, min, max) => [0, Math.max(4, max + 1)]}},
      axes: [{}, {scale: '%', label: 'CPU %'}, {scale: 'n', side: 1, label: 'replicas', grid: {show: false}}],
      series: [{}, ...lines.map((line) => ({scale: '%', spanGaps: true, points: {show: false}, ...line})),
        {label: 'replicas', scale: 'n', stroke: '#000', width: 2.5, paths: uPlot.paths.stepped({align: 1}),
          points: {show: false}}],
      // the band between the fleet's max and min
      bands: many ? [{series: [1, 3], fill: 'rgba(31, 119, 180, 0.10)'}] : [],
      hooks: {draw: [drawThresholdsAndMarkers]},
    }, data, $('cpu-chart'));
  } else {
    cpuPlot.setData(data);
  }
}

function drawThresholdsAndMarkers(u) {
  const ctx = u.ctx;
  const {left, top, width, height} = u.bbox;
  ctx.save();
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.lineWidth = devicePixelRatio;
  for (const [value, colour, name] of [[settings.high, '#b00020', 'HIGH'], [settings.low, '#0a7d32', 'LOW']]) {
    const y = u.valToPos(value, '%', true);
    ctx.strokeStyle = colour;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.font = `${11 * devicePixelRatio}px sans-serif`;
    ctx.fillText(`${name} ${value}`, left + 4, y - 3);
  }
  ctx.setLineDash([]);
  // a replica the balancer kept saturated to measure it: its CPU there is the measurement's, not load
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  for (const span of chart.spans()) {
    const from = Math.max(left, u.valToPos(span.from, 'x', true));
    const to = Math.min(left + width, u.valToPos(span.to, 'x', true));
    if (to <= from) continue;
    ctx.fillStyle = 'rgba(120, 120, 120, 0.16)';
    ctx.fillRect(from, top, to - from, height);
    ctx.fillStyle = '#555';
    ctx.textAlign = 'left';
    ctx.fillText(span.label, from + 3, top + height / 2);
  }
  const colours = {UP: '#23395d', DOWN: '#23395d', REPLACE: '#b00020', FAILED: '#b00020', MIGRATE: '#006ea0'};
  chart.markers.forEach((m, i) => {
    const x = u.valToPos(m.t, 'x', true);
    if (x < left || x > left + width) return;
    ctx.strokeStyle = ctx.fillStyle = colours[m.kind] || '#555';
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    // labels right of their line, or left of it near the right edge
    const leftOf = x > left + width * 0.7;
    ctx.textAlign = leftOf ? 'right' : 'left';
    ctx.fillText(m.label, leftOf ? x - 3 : x + 3, top + (12 + (i % 4) * 13) * devicePixelRatio);
  });
  ctx.restore();
}

/** The time axis spans a minute at least: points a few milliseconds apart are not spread over the whole width. */
function atLeastAMinute(u, min, max) {
  if (min == null || max == null) return [min, max];
  return max - min < 60 ? [max - 60, max] : [min, max];
}

function drawLb() {
  const data = aligned([chart.throughput, chart.p99], [false, false]);
  // a single point would span 86,400,000 s (uPlot widens one x value by a day of milliseconds): two, a minute apart
  if (data[0].length < 2) {
    const last = data[0].length ? data[0][0] : Date.now() / 1000;
    data[0].unshift(last - 60);
    data[1].unshift(null);
    data[2].unshift(null);
    if (data[0].length < 2) data.forEach((column, i) => column.push(i === 0 ? last : null));
  }
  if (!lbPlot) {
    lbPlot = new uPlot({
      ...size('lb-chart', 160),
      scales: {x: {time: true, range: atLeastAMinute}, rate: {range: (u, min, max) => [0, Math.max(10, max * 1.1)]}, ms: {range: (u, min, max) => [0, Math.max(1, max * 1.1)]}},
      axes: [{}, {scale: 'rate', label: 'answers/s'}, {scale: 'ms', side: 1, label: 'p99 ms', grid: {show: false}}],
      series: [{}, {label: 'answers/s', scale: 'rate', stroke: '#1f77b4', points: {show: false}},
        {label: 'p99 ms', scale: 'ms', stroke: '#d62728', points: {show: false}}],
    }, data, $('lb-chart'));
  } else {
    lbPlot.setData(data);
  }
}

document.addEventListener('DOMContentLoaded', start);
