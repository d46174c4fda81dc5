// ExecStartPost of eventcast-command-api.service: waits until the URL given answers 2xx (the app's /ready), so
// systemd reports the unit started only when it can serve, and units ordered After= it start then.
// Exit code 1 after 120 s (systemd then stops the unit and Restart= tries again).
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: wait-ready.mjs URL\n');
  process.exit(2);
}
const deadline = Date.now() + 120_000;
while (Date.now() < deadline) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    if (res.ok) process.exit(0);
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 500));
}
process.stderr.write(`${url} did not answer 2xx within 120 s\n`);
process.exit(1);
