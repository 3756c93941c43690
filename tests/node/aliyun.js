'use strict';
// Drive Alibaba Cloud Green 2018-05-09 through the official Node.js clients, pointed at modsim.
//
// stdin: one JSON request
//   {"base": "http://127.0.0.1:PORT",
//    "client": "pop-core" | "tea",
//    "signature": "v3" (Tea default: ACS3-HMAC-SHA256) | "v2" (Tea: ROA HMAC-SHA1),
//    "action": "ImageSyncScan", "pathname": "/green/image/scan", "body": {...} or [...],
//    optional: "accessKeyId", "accessKeySecret", "query": {...}, "headers": {...} (pop-core: the
//    request headers; default {"content-type": "application/json"}), "rawBody": "..." (pop-core: sent
//    as is instead of JSON.stringify(body); Tea: passed as the body string), "readTimeout" (ms)}
// stdout: one JSON line, {"ok": true, "result": ..., "sent": ...} or {"ok": false, "error": {...},
// "sent": ...}; "sent" is the request as the SDK handed it to httpx (method, url, headers, body), read
// by wrapping httpx.request (both clients send through the one httpx module); nothing is changed.
//
// pop-core: ROAClient({endpoint: base, apiVersion}) and client.request('POST', pathname, query,
// body, headers) -- the README's ROA usage. The result is what request() resolves to.
// tea: @alicloud/openapi-client with Config({endpoint: host:port, protocol: 'http', regionId}) and
// callApi(Params, OpenApiRequest, RuntimeOptions) with the Params the generated
// @alicloud/green20180509 client passes (style ROA, reqBodyType json, bodyType json, POST, AK); the
// result is {statusCode, headers, body}.

const httpx = require('httpx');

const sent = [];
const originalRequest = httpx.request;
httpx.request = function (url, opts) {
  const o = opts || {};
  let body = o.data;
  if (body && !Buffer.isBuffer(body) && typeof body !== 'string') {
    body = body.value; // the Tea client's BytesReadable keeps its bytes in .value
  }
  sent.push({
    method: o.method,
    url: String(url),
    headers: Object.assign({}, o.headers),
    body: body === undefined || body === null ? null : Buffer.from(body).toString('utf8'),
  });
  return originalRequest.apply(this, arguments);
};

const AK = 'demo-aliyun-ak';
const SECRET = 'demo-aliyun-secret';
const VERSION = '2018-05-09';

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function plain(value) {
  // JSON-safe copy (json-bigint BigNumbers become numbers or strings through their toJSON)
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

async function popCore(req) {
  const ROAClient = require('@alicloud/pop-core').ROAClient;
  const client = new ROAClient({
    accessKeyId: req.accessKeyId || AK,
    accessKeySecret: req.accessKeySecret || SECRET,
    endpoint: req.base,
    apiVersion: VERSION,
  });
  const body = req.rawBody !== undefined ? req.rawBody : JSON.stringify(req.body);
  const headers = req.headers || { 'content-type': 'application/json' };
  const opts = req.readTimeout ? { timeout: req.readTimeout } : {};
  return client.request('POST', req.pathname, req.query || {}, body, headers, opts);
}

async function tea(req) {
  const OpenApi = require('@alicloud/openapi-client');
  const Util = require('@alicloud/tea-util');
  const url = new URL(req.base);
  const config = new OpenApi.Config({
    accessKeyId: req.accessKeyId || AK,
    accessKeySecret: req.accessKeySecret || SECRET,
    regionId: 'cn-shanghai',
    endpoint: url.host,
    protocol: url.protocol.replace(':', ''),
  });
  if (req.signature === 'v2') {
    config.signatureAlgorithm = 'v2';
  }
  const client = new OpenApi.default(config);
  const params = new OpenApi.Params({
    action: req.action,
    version: VERSION,
    protocol: 'HTTPS',
    pathname: req.pathname,
    method: 'POST',
    authType: 'AK',
    style: 'ROA',
    reqBodyType: 'json',
    bodyType: 'json',
  });
  const request = new OpenApi.OpenApiRequest({
    headers: req.headers || {},
    query: req.query || {},
    body: req.rawBody !== undefined ? req.rawBody : req.body,
  });
  const runtime = new Util.RuntimeOptions(req.readTimeout ? { readTimeout: req.readTimeout } : {});
  const out = await client.callApi(params, request, runtime);
  return { statusCode: out.statusCode, headers: out.headers, body: out.body };
}

function describe(err) {
  const e = {
    name: err.name,
    code: err.code === undefined ? null : err.code,
    message: err.message,
    statusCode: err.statusCode === undefined ? null : err.statusCode,
  };
  if (err.data !== undefined) e.data = plain(err.data);
  if (err.result !== undefined) e.result = plain(err.result);
  if (err.body !== undefined) e.body = err.body;
  if (err.description !== undefined) e.description = err.description;
  return e;
}

async function main() {
  const req = JSON.parse(await readStdin());
  let line;
  try {
    const result = req.client === 'pop-core' ? await popCore(req) : await tea(req);
    line = { ok: true, result: plain(result), sent: sent };
  } catch (err) {
    line = { ok: false, error: describe(err), sent: sent };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(2);
});
