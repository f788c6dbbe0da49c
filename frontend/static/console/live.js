// One EventSource for the whole console. The browser reconnects by itself after a dropped stream (the
// server's retry hint); when it gives up (the stream answered with an error) we open a new one with
// backoff. Events missed while away are caught up by refetching what is on screen.
const KINDS = [
  "ticket.created",
  "ticket.updated",
  "message.created",
  "message.updated",
  "orders.changed",
  "customers.changed",
  "stock.changed",
];
const MAX_BACKOFF_MS = 30000;

export function connectLive(url, { onEvent, onState, onReconnected, onRefused }) {
  let source = null;
  let failures = 0;
  let connectedBefore = false;

  function open() {
    source = new EventSource(url);
    source.addEventListener("open", () => {
      failures = 0;
      onState("live");
      if (connectedBefore) onReconnected();
      connectedBefore = true;
    });
    source.addEventListener("error", () => {
      onState("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // the server answered with an error (an ended session, say), not a dropped connection
        source.close();
        failures += 1;
        onRefused();
        setTimeout(open, Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 5)));
      }
    });
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        onEvent(kind, data || {});
      });
    }
  }

  open();
  return () => source && source.close();
}

export function ids(list) {
  return new Set((Array.isArray(list) ? list : []).map(String));
}
