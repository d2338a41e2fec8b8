// Status page: reads /api/health through the BFF (relative URL: the API base has a path prefix).
const rows = document.getElementById('health-rows');
const summary = document.getElementById('health-summary');

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

async function refresh() {
  summary.textContent = 'Checking…';
  try {
    const res = await fetch('./api/health', { headers: { accept: 'application/json' } });
    const body = await res.json();
    rows.replaceChildren();
    for (const [name, svc] of Object.entries(body.services || {})) {
      const tr = document.createElement('tr');
      const deps = Object.entries((svc.report && svc.report.dependencies) || {})
        .map(([dep, r]) => `${dep}: ${r.status}`).join(', ');
      tr.append(cell(name), cell(svc.status, svc.status), cell(deps || svc.error || ''));
      rows.append(tr);
    }
    summary.textContent = body.status === 'up' ? 'All services are up.' : 'Some services are down.';
  } catch (err) {
    summary.textContent = `Health check failed: ${err.message}`;
  }
}

document.getElementById('refresh').addEventListener('click', refresh);
refresh();
