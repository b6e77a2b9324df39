// SPDX-License-Identifier: LGPL-2.1-or-later
// farceur web: the list's filter box, and new messages shown as they arrive
// (server-sent events from /events; the rows come rendered, and escaped,
// by the server from /rows).  Pages work without it, only less alive.
'use strict';

(function () {
  const filter = document.getElementById('filter');
  const rows = document.getElementById('rows');
  const count = document.getElementById('count');

  function applyFilter() {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of rows.rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((word) => text.includes(word));
    }
  }

  async function refresh(event) {
    const response = await fetch('/rows', { cache: 'no-store' });
    if (!response.ok) {
      return;
    }
    rows.innerHTML = await response.text();
    count.textContent = JSON.parse(event.data).count;
    applyFilter();
  }

  if (filter && rows) {
    filter.addEventListener('input', applyFilter);
  }
  if (rows && count && window.EventSource) {
    const events = new EventSource('/events');
    events.addEventListener('messages', refresh);
  }
})();
