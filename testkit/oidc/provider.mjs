#!/usr/bin/env node
// Local OpenID Connect provider for the imi-http integration tests.
//
// Built on `oidc-provider` (panva, certified OpenID provider). It issues
// RFC 9068 JWT access tokens (`typ: at+jwt`, RS256) through the
// `client_credentials` grant. See README.md next to this file.
//
// Usage:
//   node provider.mjs --port PORT --keys DIR [--issuer-path /x]
//                     [--rotate | --rotate-drop-old] [--ttl SECONDS]
//                     [--users lars,julie] [--exit-on-stdin-close]
//                     [--code-client ID --redirect-uri URL]
//
// With --code-client, a confidential client ID (secret `imi-secret`) may also use
// the authorization code flow (PKCE required) back to URL: a person signs in on
// the provider's development login page with any login and password; the login
// becomes `sub` and the identity token's `imi_user` claim, and consent is given
// at once (a first-party client).
//
// stdout carries exactly one line, `READY <issuer>`, once the server listens;
// everything else (oidc-provider notices, logs, errors) goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info (stdout). Keep stdout
// reserved for the READY line so a test can read it reliably.
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => console.error(...args);
}

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------- arguments

function usage(message) {
  if (message) console.error(`provider.mjs: ${message}`);
  console.error('usage: node provider.mjs --port PORT --keys DIR [--issuer-path /x] '
    + '[--rotate | --rotate-drop-old] [--ttl SECONDS] [--users a,b] [--exit-on-stdin-close]');
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      keys: { type: 'string' },
      'issuer-path': { type: 'string', default: '' },
      rotate: { type: 'boolean', default: false },
      'rotate-drop-old': { type: 'boolean', default: false },
      ttl: { type: 'string', default: '300' },
      users: { type: 'string', default: 'lars,julie' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      'code-client': { type: 'string' },
      'redirect-uri': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}
if (args.help) usage();

const PORT = Number.parseInt(args.port ?? '', 10);
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) usage('--port PORT is required (1-65535)');
if (!args.keys) usage('--keys DIR is required');
const KEYS_DIR = path.resolve(args.keys);
const JWKS_FILE = path.join(KEYS_DIR, 'jwks.json');

let ISSUER_PATH = args['issuer-path'];
if (ISSUER_PATH === '/') ISSUER_PATH = '';
if (ISSUER_PATH && (!ISSUER_PATH.startsWith('/') || ISSUER_PATH.endsWith('/') || /[?#\s]/.test(ISSUER_PATH))) {
  usage('--issuer-path must look like /x (leading slash, no trailing slash)');
}
const ORIGIN = `http://127.0.0.1:${PORT}`;
const ISSUER = `${ORIGIN}${ISSUER_PATH}`;

const DEFAULT_TTL = Number.parseInt(args.ttl, 10);
if (!Number.isInteger(DEFAULT_TTL) || DEFAULT_TTL < 1) usage('--ttl must be a positive integer');

const CODE_CLIENT = args['code-client'];
const REDIRECT_URI = args['redirect-uri'];
if (!!CODE_CLIENT !== !!REDIRECT_URI) usage('--code-client and --redirect-uri go together');
if (REDIRECT_URI && !isAbsoluteHttpUrl(REDIRECT_URI)) usage('--redirect-uri must be an http(s) URL');

const USERS = args.users.split(',').map((u) => u.trim()).filter(Boolean);
const USER_RE = /^[A-Za-z0-9._@-]{1,128}$/;
for (const u of USERS) if (!USER_RE.test(u)) usage(`invalid user name in --users: ${u}`);

// ---------------------------------------------------------------- constants

const IMI_AUDIENCE = 'https://imi.test/api';
const IMI_SCOPE = 'imi';
const CLIENT_SECRET = 'imi-secret';
const SHORT_CLIENT = 'imi-short-client';
const SHORT_TTL = 2;
const USER_CLIENT_PREFIX = 'user-';

// ---------------------------------------------------------------- keys

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `imi-test-${new Date().toISOString().replace(/[-:.]/g, '')}-${crypto.randomBytes(4).toString('hex')}`;
  return { kid, use: 'sig', alg: 'RS256', ...jwk };
}

function readJwks() {
  let text;
  try {
    text = fs.readFileSync(JWKS_FILE, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
  const jwks = JSON.parse(text);
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new Error(`${JWKS_FILE}: expected a JWKS with a non-empty "keys" array`);
  }
  for (const k of jwks.keys) {
    if (k.kty !== 'RSA' || !k.d || !k.kid) {
      throw new Error(`${JWKS_FILE}: every key must be a private RSA JWK with a kid`);
    }
  }
  return jwks;
}

function writeJwks(jwks) {
  fs.mkdirSync(KEYS_DIR, { recursive: true });
  const tmp = `${JWKS_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, JWKS_FILE);
}

// New key goes FIRST (oidc-provider signs with the first matching key).
// dropOld: the previous keys are removed, so they are no longer published.
function rotate(jwks, { dropOld }) {
  const key = newSigningKey();
  return { keys: dropOld ? [key] : [key, ...jwks.keys] };
}

// ---------------------------------------------------------------- provider

const userOfClient = (clientId) => (
  clientId?.startsWith(USER_CLIENT_PREFIX) ? clientId.slice(USER_CLIENT_PREFIX.length) : undefined
);

const ccClient = (clientId) => ({
  client_id: clientId,
  client_secret: CLIENT_SECRET,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
});

function isAbsoluteHttpUrl(value) {
  const u = URL.parse(value);
  return !!u && (u.protocol === 'https:' || u.protocol === 'http:');
}

const codeClient = () => ({
  client_id: CODE_CLIENT,
  client_secret: CLIENT_SECRET,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'client_secret_basic',
});

function makeProvider(jwks) {
  const provider = new Provider(ISSUER, {
    clients: [
      ccClient('imi-api-client'),
      ccClient(SHORT_CLIENT),
      ...USERS.map((u) => ccClient(`${USER_CLIENT_PREFIX}${u}`)),
      ...(CODE_CLIENT ? [codeClient()] : []),
    ],
    // The development login page signs anyone in: the login is the account (sub), and
    // the imi user id the identity token names.
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, imi_user: sub }),
    }),
    claims: { openid: ['sub', 'imi_user'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // A first-party client: consent is given at once.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid');
      grant.addOIDCClaims(['sub', 'imi_user']);
      await grant.save();
      return grant;
    },
    jwks,
    cookies: { keys: ['imi-test-cookie-key-not-secret'] },
    scopes: ['openid', IMI_SCOPE],
    features: {
      devInteractions: { enabled: !!CODE_CLIENT },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // client_credentials without `resource` still gets a JWT for imi.
        // The sign-on client asks for no API access: only an identity token.
        defaultResource: async (ctx, client, oneOf) => oneOf
          ?? (client?.clientId === CODE_CLIENT ? undefined : IMI_AUDIENCE),
        // Any absolute http(s) URL is a valid resource, so a test can ask
        // for a token for the wrong audience (e.g. https://other.test/api).
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          if (!isAbsoluteHttpUrl(resourceIndicator)) throw new errors.InvalidTarget();
          return {
            scope: IMI_SCOPE,
            audience: resourceIndicator,
            accessTokenFormat: 'jwt',
            accessTokenTTL: client?.clientId === SHORT_CLIENT ? SHORT_TTL : DEFAULT_TTL,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      ClientCredentials: (ctx, token, client) => token.resourceServer?.accessTokenTTL
        ?? (client?.clientId === SHORT_CLIENT ? SHORT_TTL : DEFAULT_TTL),
    },
    // Claim `imi_user`: from the token request parameter `imi_user`, else
    // from the client id for `user-<name>` clients. Absent otherwise.
    extraTokenClaims: async (ctx, token) => {
      const requested = ctx?.oidc?.body?.imi_user;
      if (requested !== undefined) {
        if (typeof requested !== 'string' || !USER_RE.test(requested)) {
          throw new errors.InvalidRequest('imi_user must match [A-Za-z0-9._@-]{1,128}');
        }
        return { imi_user: requested };
      }
      const user = userOfClient(token.clientId);
      return user ? { imi_user: user } : undefined;
    },
    formats: {
      customizers: {
        // `user-<name>` clients get sub=<name> (client_id claim keeps the client).
        jwt: async (ctx, token, jwt) => {
          const user = userOfClient(token.clientId);
          if (user) jwt.payload.sub = user;
        },
      },
    },
  });

  provider.on('server_error', (ctx, err) => console.error('oidc server_error:', err));
  provider.on('grant.error', (ctx, err) => console.error('oidc grant.error:', err.message, err.error_description ?? ''));
  return provider;
}

// ---------------------------------------------------------------- startup

let jwks = readJwks();
if (!jwks) {
  jwks = { keys: [newSigningKey()] };
  writeJwks(jwks);
  console.error(`generated new signing key ${jwks.keys[0].kid} in ${JWKS_FILE}`);
} else if (args.rotate || args['rotate-drop-old']) {
  jwks = rotate(jwks, { dropOld: args['rotate-drop-old'] });
  writeJwks(jwks);
  console.error(`rotated keys at startup; now ${jwks.keys.map((k) => k.kid).join(', ')}`);
}

let provider = makeProvider(jwks);
let handler = provider.callback();

function keysSummary() {
  return { active_kid: jwks.keys[0].kid, kids: jwks.keys.map((k) => k.kid) };
}

function hotRotate(dropOld) {
  const next = rotate(jwks, { dropOld });
  const nextProvider = makeProvider(next); // throws before anything changes
  writeJwks(next);
  jwks = next;
  provider = nextProvider;
  handler = provider.callback();
  console.error(`rotated keys (drop_old=${dropOld}); now ${jwks.keys.map((k) => k.kid).join(', ')}`);
  return keysSummary();
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, ORIGIN);

  // Admin routes (test helpers, outside the issuer path).
  if (url.pathname === '/__rotate') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
    const dropOld = ['1', 'true', 'yes'].includes(url.searchParams.get('drop_old') ?? '');
    try {
      return sendJson(res, 200, hotRotate(dropOld));
    } catch (err) {
      console.error('rotation failed:', err);
      return sendJson(res, 500, { error: String(err?.message ?? err) });
    }
  }
  if (url.pathname === '/__keys') {
    return sendJson(res, 200, keysSummary());
  }

  if (ISSUER_PATH) {
    if (url.pathname !== ISSUER_PATH && !url.pathname.startsWith(`${ISSUER_PATH}/`)) {
      return sendJson(res, 404, { error: 'not_found' });
    }
    // Mount the provider under ISSUER_PATH (express-style: originalUrl + url).
    req.originalUrl = req.url;
    req.url = req.url.slice(ISSUER_PATH.length) || '/';
  }
  return handler(req, res);
});

server.on('error', (err) => {
  console.error(`provider.mjs: cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
});

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`READY ${ISSUER}\n`);
});

process.on('SIGHUP', () => {
  try {
    hotRotate(false);
  } catch (err) {
    console.error('rotation failed:', err);
  }
});

// Nothing to flush (jwks.json is written synchronously): exit right away.
function stop() {
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

if (args['exit-on-stdin-close']) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
