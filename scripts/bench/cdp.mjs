// A minimal Chrome DevTools Protocol client for the gateway's Worker isolate, through the
// inspector port of `wrangler dev` (startGateway with the inspector on), and a profile summary.
import WebSocket from 'ws';

export async function cdp(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const t = targets.find((x) => x.webSocketDebuggerUrl) ?? targets[0];
  const ws = new WebSocket(t.webSocketDebuggerUrl);
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  let id = 0;
  const waiting = new Map();
  ws.on('message', (m) => {
    const msg = JSON.parse(m);
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((r) => {
      const i = ++id;
      waiting.set(i, r);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  return { send, close: () => ws.close(), title: t.title };
}

/** The functions with the most self time in a CPU profile: { totalMs, rows: [name, ms, %] }. */
export function top(profile, n = 15) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').slice(-2).join('/') : ''}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return {
    totalMs: total / 1000,
    rows: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, +(v / 1000).toFixed(1), +((100 * v) / total).toFixed(1)]),
  };
}
