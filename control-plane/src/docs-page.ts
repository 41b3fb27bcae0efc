/**
 * A self-contained reference page rendered from /openapi.json in the browser. It needs no CDN
 * (the control plane may run where only it is reachable) and shows each operation's method,
 * path, scope, parameters and responses.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera control plane API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}
.op{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22}
code,pre{font:12px ui-monospace,monospace;background:#f6f6f6;padding:.1rem .3rem;border-radius:3px}
pre{padding:.5rem;overflow:auto;white-space:pre-wrap}
details summary{cursor:pointer;color:#555}
</style></head><body>
<h1>Tessera control plane API</h1>
<p>Machine-readable spec: <a href="/openapi.json">/openapi.json</a>. Send keys as <code>Authorization: Bearer tsk_…</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(spec => {
  const byTag = {};
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    (byTag[(op.tags || ['other'])[0]] ||= []).push({ path, method, op });
  }
  const esc = s => String(s).replace(/[&<>]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c]));
  const out = [];
  for (const [tag, ops] of Object.entries(byTag)) {
    out.push('<h2>' + esc(tag) + '</h2>');
    for (const { path, method, op } of ops) {
      const params = (op.parameters || []).map(p => '<code>' + esc(p.in + ':' + p.name) + '</code>').join(' ');
      const body = op.requestBody ? '<details><summary>request body</summary><pre>' + esc(JSON.stringify(op.requestBody.content, null, 1)) + '</pre></details>' : '';
      const codes = Object.keys(op.responses || {}).join(', ');
      out.push('<div class="op"><span class="m ' + method + '">' + method + '</span><code>' + esc(path) + '</code> — ' + esc(op.summary || '') +
        '<div>' + esc(op.description || '').replace(/\\n/g, '<br>') + '</div>' + (params ? '<div>params: ' + params + '</div>' : '') + body +
        '<div>responses: ' + esc(codes) + '</div></div>');
    }
  }
  document.getElementById('ops').innerHTML = out.join('');
});
</script></body></html>`;
