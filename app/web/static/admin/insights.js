// Insights: what chat earns. The figures come from /admin/api/insights; until that
// exists (404) the page says so rather than showing numbers nobody measured.

import { ApiError, api, wireNavigation } from './api.js';
import { h, replace } from './ui.js';

const card = document.getElementById('insights');

function label(key) {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function figures(data) {
  // Whatever the API reports, shown as it reports it: scalar figures as tiles,
  // nested groups as their own rows of tiles.
  const tiles = [];
  const groups = [];
  for (const [key, value] of Object.entries(data)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) groups.push([key, value]);
    else if (!Array.isArray(value)) tiles.push(h('div', { class: 'figure' }, h('span', { class: 'subdued' }, label(key)), h('strong', {}, value === null ? '—' : String(value))));
  }
  return [
    tiles.length ? h('div', { class: 'figures' }, tiles) : null,
    groups.map(([key, value]) => h('section', {}, h('h2', {}, label(key)), figures(value))),
  ];
}

wireNavigation();
card.setAttribute('aria-busy', 'true');
try {
  const data = await api('GET', '/admin/api/insights');
  replace(card, figures(data.insights || data));
} catch (error) {
  if (error instanceof ApiError && error.status === 404) {
    replace(
      card,
      h('h2', {}, 'Insights are being prepared'),
      h('p', { class: 'subdued' }, 'First-response time, conversations, and the orders and revenue that followed a chat will appear here.'),
    );
  } else {
    replace(card, h('p', { class: 'notice notice-warning' }, error.message));
  }
} finally {
  card.setAttribute('aria-busy', 'false');
}
