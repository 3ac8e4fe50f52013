// One HTTP request over fetch, or XMLHttpRequest where fetch is missing; small response helpers.

/** Retry-After of a response (seconds), or null. */
export function retryAfterOf(headers) {
  const v = headers && headers.get && headers.get('Retry-After');
  const n = v ? parseInt(v, 10) : NaN;
  return isFinite(n) ? n : null;
}

/** JSON.parse that returns null instead of throwing. */
export function readJsonSafe(text) {
  try { return JSON.parse(text); } catch { return null; }
}

/** An AbortController, or a stand-in without a signal where there is none. */
export function makeAbort() {
  return typeof AbortController !== 'undefined' ? new AbortController() : { signal: undefined, abort() {} };
}

function xhrRequest(method, url, init) {
  return new Promise((resolve, reject) => {
    const xhr = new globalThis.XMLHttpRequest();
    xhr.open(method, url, true);
    if (init.credentials === 'include') xhr.withCredentials = true;
    for (const k of Object.keys(init.headers || {})) xhr.setRequestHeader(k, init.headers[k]);
    xhr.onload = () => {
      resolve({ status: xhr.status, text: xhr.responseText, headers: { get: (h) => xhr.getResponseHeader(h) } });
    };
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(new Error('aborted'));
    if (init.signal) init.signal.addEventListener('abort', () => xhr.abort());
    xhr.send(init.body == null ? null : init.body);
  });
}

/** One HTTP request (fetchImpl, or XHR when it is null) → Promise of {status, text,
 *  headers:{get}}. init: {headers, body, signal, credentials}. Rejects on network errors and
 *  on abort. */
export function httpRequest(fetchImpl, method, url, init) {
  init = init || {};
  if (!fetchImpl) return xhrRequest(method, url, init);
  return fetchImpl(url, {
    method, headers: init.headers, body: init.body, signal: init.signal,
    credentials: init.credentials || 'same-origin', cache: 'no-store'
  }).then((res) => res.text().then((text) => ({ status: res.status, text, headers: res.headers })));
}
