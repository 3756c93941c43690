'use strict';
/*
 * Drive the official Baidu Node.js SDK (npm baidu-aip-sdk, AipContentCensorClient) against modsim.
 *
 * stdin: one JSON request
 *   {"base": "http://127.0.0.1:PORT", "method": "token" | "faceAudit" | "antiPornGif" | "antiSpam" | ...,
 *    "args": [...], "app_id": "...", "api_key": "...", "secret_key": "...", "timeout_ms": N}
 * stdout: one JSON line
 *   {"ok": true, "result": <what the SDK's promise resolved to>, "auth": {...}}
 *   {"ok": false, "error": <what the SDK's promise rejected with>, "auth": {...}}
 *
 * "token" resolves once the client's own token fetch (started by its constructor) has settled; its
 * result is the client's auth state. Every other method is called on the client with "args" as given.
 *
 * Repointing: the SDK hard-codes https://aip.baidubce.com (devAuth.js OPENAPI_TOKEN_URL, requestInfo.js
 * HOST_DEFAULT). Its documented hook HttpClient.setRequestInterceptor(fn) sees the options of every
 * request (token and API calls) before they go to the `request` library; the interceptor below only
 * swaps that origin for "base". Nothing else of the SDK is changed: the Host header it sets
 * (aip.baidubce.com), its query string, body encoding and auth logic go out as the SDK builds them.
 */

const aip = require('baidu-aip-sdk');

const VENDOR_ORIGIN = 'https://aip.baidubce.com';

const AUTH_TYPES = {0: 'init', 1: 'bce', 2: 'dev', 3: 'dev_or_bce'};
const STATUSES = {0: 'init', 1: 'requesting', 2: 'ready', '-1': 'error'};

function readStdin() {
    return new Promise(function (resolve, reject) {
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', function (chunk) {
            data += chunk;
        });
        process.stdin.on('end', function () {
            resolve(data);
        });
        process.stdin.on('error', reject);
    });
}

function authState(client) {
    const token = client.devAccessToken;
    return {
        auth_type: AUTH_TYPES[client.authType],
        status: STATUSES[String(client.status)],
        access_token: token ? token.token : null,
        expires_in: token ? token.expireTime : null,
        has_brain_all_scope: token ? token.hasScopeFlag : null
    };
}

function describeError(err) {
    if (err instanceof Error) {
        return {name: err.name, message: err.message, code: err.code === undefined ? null : err.code};
    }
    if (err !== null && typeof err === 'object') {
        // the SDK's own token failures: {errorType: 'ERRTYPE_...', error: <body or request error>}
        const out = {};
        for (const key of Object.keys(err)) {
            out[key] = err[key] instanceof Error ? describeError(err[key]) : err[key];
        }
        return out;
    }
    return err;
}

function print(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
    const req = JSON.parse(await readStdin());
    const base = String(req.base).replace(/\/+$/, '');

    aip.HttpClient.setRequestInterceptor(function (options) {
        if (typeof options.url === 'string' && options.url.indexOf(VENDOR_ORIGIN) === 0) {
            options.url = base + options.url.slice(VENDOR_ORIGIN.length);
        }
        if (req.timeout_ms !== undefined) {
            options.timeout = req.timeout_ms;
        }
        return options;
    });

    const client = new aip.contentCensor(
        req.app_id || '10000001',
        req.api_key || 'demo-baidu-api-key',
        req.secret_key || 'demo-baidu-secret-key'
    );

    try {
        let result;
        if (req.method === 'token') {
            await client.pms;
            result = authState(client);
        } else {
            const fn = client[req.method];
            if (typeof fn !== 'function') {
                throw new Error('AipContentCensorClient has no method ' + req.method);
            }
            result = await fn.apply(client, req.args || []);
        }
        print({ok: true, result: result, auth: authState(client)});
    } catch (err) {
        print({ok: false, error: describeError(err), auth: authState(client)});
    }
}

main().catch(function (err) {
    process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
    process.exit(2);
});
