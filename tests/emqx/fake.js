// A stand-in for EMQX 5.8's REST API (EMQX is not installable here), answering as its
// documentation says: Basic auth with an API key and secret (401 BAD_API_KEY_OR_SECRET; a
// viewer key gets 403 on changes), GET /api/v5/clients?username=&page=&limit= with its
// `meta` (page, limit, hasnext, count), GET /api/v5/clients/{clientid} (404
// CLIENTID_NOT_FOUND), DELETE /api/v5/clients/{clientid} (204, or 404 when gone), 503 while
// "a node restarts", and the configuration resources emqx_configure touches.
//
// Node's HTTP server, so that a benchmark measures the relay and not the stand-in. Its state:
// the clients of the JSON file given (less every kick its log holds, so a restart resumes
// where a killed process stopped) and a JSON-lines log of every request with its answer.
// Started by tests/emqx_fake.py: `node fake.js <port> <state.json>`; prints "listening".
import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import http from 'node:http';

const [port, statePath] = [Number(process.argv[2]), process.argv[3]];
const logPath = statePath.replace(/\.json$/, '.log');
const KEY = 'cloudsignal-relay';
const SECRET = 'fake-emqx-secret-0123456789';
const VIEWER = 'viewer';

const state = JSON.parse(readFileSync(statePath, 'utf8'));
const clients = new Map(Object.entries(state.clients || {}));
const unavailable = Boolean(state.unavailable);
if (existsSync(logPath)) {
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line) continue;
    const entry = JSON.parse(line);
    for (const id of entry.kicked || []) clients.delete(id);
  }
}
const byUsername = new Map();
for (const [id, info] of clients) {
  if (!byUsername.has(info.username)) byUsername.set(info.username, new Set());
  byUsername.get(info.username).add(id);
}
const config = new Map();
const sources = [];

// Each line is written before its answer is sent: a kill never loses a kick it answered.
const log = openSync(logPath, 'a');
function record(entry) {
  writeSync(log, `${JSON.stringify(entry)}\n`);
}

function role(header) {
  if (!header || !header.startsWith('Basic ')) return null;
  const [key, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  if (secret !== SECRET) return null;
  if (key === KEY) return 'administrator';
  if (key === VIEWER) return 'viewer';
  return null;
}

const err = (status, code, message) => [status, { code, message }];

function drop(id) {
  byUsername.get(clients.get(id).username)?.delete(id);
  clients.delete(id);
}

function route(method, path, query, body, who) {
  if (who === null) return err(401, 'BAD_API_KEY_OR_SECRET', 'Check api_key/api_secret');
  if (unavailable) return err(503, 'SERVICE_UNAVAILABLE', 'Node is restarting');
  if (method !== 'GET' && who === 'viewer') return err(403, 'FORBIDDEN', 'Viewer may not change anything');
  if (path === '/api/v5/clients' && method === 'GET') {
    const usernames = query.getAll('username');
    const page = Number(query.get('page') || 1);
    const limit = Number(query.get('limit') || 100);
    const ids = usernames.length
      ? usernames.flatMap((u) => [...(byUsername.get(u) || [])]).sort()
      : [...clients.keys()].sort();
    const data = ids.slice((page - 1) * limit, page * limit).map((id) => ({ clientid: id, ...clients.get(id) }));
    return [200, { data, meta: { page, limit, hasnext: page * limit < ids.length, count: ids.length } }];
  }
  if (path === '/api/v5/clients/kickout/bulk' && method === 'POST') {
    if (!Array.isArray(body)) return err(400, 'BAD_REQUEST', 'a list of client ids');
    const kicked = body.filter((id) => clients.has(id));
    for (const id of kicked) drop(id);
    return [204, null, kicked];
  }
  if (path.startsWith('/api/v5/clients/')) {
    const id = decodeURIComponent(path.slice('/api/v5/clients/'.length));
    if (!clients.has(id)) return err(404, 'CLIENTID_NOT_FOUND', 'Client ID not found');
    if (method === 'GET') return [200, { clientid: id, ...clients.get(id) }];
    if (method === 'DELETE') {
      drop(id);
      return [204, null, [id]];
    }
  }
  return configuration(method, path.slice('/api/v5'.length), body || {});
}

const KEYS = {
  '/authentication': (b) => `${b.mechanism}:${b.backend}`,
  '/connectors': (b) => `${b.type}:${b.name}`,
  '/actions': (b) => `${b.type}:${b.name}`,
  '/rules': (b) => b.id,
};

// Authenticators, authorization sources and settings, connectors, actions and rules, kept
// as sent (EMQX adds defaults of its own, which the stand-in leaves out).
function configuration(method, path, body) {
  if (KEYS[path] && method === 'POST') {
    const key = KEYS[path](body);
    if (config.has(`${path}/${key}`)) return err(400, 'ALREADY_EXISTS', `${key} already exists`);
    config.set(`${path}/${key}`, body);
    return [path === '/authentication' ? 200 : 201, { ...body, id: key }];
  }
  if (path === '/authentication' && method === 'GET') {
    return [200, [...config].filter(([k]) => k.startsWith('/authentication/')).map(([, v]) => v)];
  }
  if (path === '/authorization/sources') {
    if (method === 'GET') return [200, { sources }];
    if (method === 'POST') {
      if (sources.some((s) => s.type === body.type)) return err(409, 'ALREADY_EXISTS', 'source exists');
      sources.push(body);
      return [204, null];
    }
  }
  if (path.startsWith('/authorization/sources/')) {
    const [type, verb] = path.slice('/authorization/sources/'.length).split('/');
    const at = sources.findIndex((s) => s.type === type);
    if (at < 0) return err(404, 'NOT_FOUND', `source ${type}`);
    if (verb === 'move' && method === 'POST') {
      const [moved] = sources.splice(at, 1);
      if (body.position === 'front') sources.unshift(moved);
      else sources.push(moved);
      return [204, null];
    }
    if (method === 'GET') return [200, sources[at]];
    if (method === 'PUT') {
      sources[at] = body;
      return [204, null];
    }
  }
  if (path === '/authorization/settings') {
    if (method === 'GET') {
      return [200, config.get(path) || { no_match: 'allow', deny_action: 'ignore', cache: { enable: true } }];
    }
    if (method === 'PUT') {
      config.set(path, body);
      return [200, body];
    }
  }
  if (Object.keys(KEYS).some((c) => path.startsWith(`${c}/`))) {
    if (!config.has(path)) return err(404, 'NOT_FOUND', path);
    if (method === 'GET') return [200, config.get(path)];
    if (method === 'PUT') {
      config.set(path, { ...config.get(path), ...body });
      return [200, config.get(path)];
    }
  }
  return err(404, 'NOT_FOUND', `${method} ${path}`);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://fake');
    const raw = Buffer.concat(chunks).toString();
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const [status, answer, kicked] = route(
      req.method, url.pathname, url.searchParams, body, role(req.headers.authorization),
    );
    record({
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      body,
      status,
      auth: req.headers.authorization || '',
      kicked: kicked || [],
      at: Date.now() / 1000,
    });
    const out = answer === null ? '' : JSON.stringify(answer);
    res.writeHead(status, answer === null ? {} : { 'content-type': 'application/json' });
    res.end(out);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
