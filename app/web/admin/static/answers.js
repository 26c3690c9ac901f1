// Answers: the shop's own answers per language, what the assistant would reply to a typed
// question and why, the store import with its report, and when the assistant answers.
// Everything comes from /admin/api/answers*, /admin/api/assistant; text stays text.

import { ApiError, api, boot, wireNavigation } from './api.js';
import { h, languageName, replace, textDirection, toast } from './ui.js';

const $ = (id) => document.getElementById(id);
// The widget's six languages first; any other a shop has answers in follows.
const LANGUAGES = ['en', 'et', 'pl', 'ru', 'he', 'ar'];
const SOURCES = {
  manual: 'Written here',
  shopify_policy: 'Shopify policy',
  shopify_page: 'Shopify page',
  saleor_page: 'Saleor page',
};
const MODE_HELP = {
  off: 'The assistant stays silent: every question goes straight to your team.',
  after_hours: 'The assistant answers only outside your business hours; the question still reaches your team.',
  always: 'The assistant answers whenever it is sure, and hands over when it is not.',
};
const REASONS = {
  answered: 'It would answer.',
  'not sure': 'It is not sure enough, so it would hand over to your team.',
  'asked for a person': 'The shopper asks for a person: it hands over.',
  'a complaint': 'This reads as a complaint: it hands over to your team.',
  'order-specific': 'This is about an order: it answers from the order itself once the shopper proves it is theirs.',
  'no answers': 'There are no answers in this language yet: the question goes to your team.',
  'nothing to answer': 'There is nothing to answer (a greeting or thanks).',
};

let answers = [];
let shown = boot.answersLanguage || 'en';
let editing = null; // the answer being edited, or null for a new one

function languageOptions(select, chosen) {
  const known = new Set([...LANGUAGES, ...answers.map((a) => a.language)]);
  replace(select, [...known].map((code) => h('option', { value: code, selected: code === chosen }, `${languageName(code)} (${code})`)));
}

function fillSelects() {
  for (const select of document.querySelectorAll('.language-select')) languageOptions(select, select.value || shown);
}

function renderTabs() {
  const counts = {};
  for (const a of answers) counts[a.language] = (counts[a.language] || 0) + 1;
  const codes = [...new Set([...LANGUAGES, ...Object.keys(counts)])];
  replace(
    $('language-tabs'),
    codes.map((code) =>
      h(
        'button',
        {
          type: 'button',
          class: 'language-tab',
          'aria-pressed': code === shown ? 'true' : 'false',
          onclick: () => {
            shown = code;
            render();
          },
        },
        languageName(code),
        h('span', { class: 'count' }, String(counts[code] || 0)),
      ),
    ),
  );
}

function answerCard(answer) {
  const toggle = h('input', {
    type: 'checkbox',
    checked: answer.enabled,
    'aria-label': `The assistant may give “${answer.question}”`,
    onchange: async (event) => {
      try {
        await save(answer.id, { enabled: event.target.checked });
        toast(event.target.checked ? 'Answer switched on' : 'Answer switched off');
      } catch (error) {
        event.target.checked = !event.target.checked;
        toast(error.message, { error: true });
      }
    },
  });
  return h(
    'li',
    { class: `answer${answer.enabled ? '' : ' answer-off'}`, dataset: { id: answer.id }, dir: textDirection(answer.question) },
    h(
      'div',
      { class: 'answer-head' },
      h('h3', { class: 'answer-question', dir: 'auto' }, answer.question),
      h('span', { class: `badge${answer.source === 'manual' ? '' : ' badge-info'}` }, SOURCES[answer.source] || answer.source),
    ),
    answer.alternatives.length
      ? h('ul', { class: 'alternatives', 'aria-label': 'Other ways to ask' }, answer.alternatives.map((alt) => h('li', { dir: 'auto' }, alt)))
      : null,
    h('p', { class: 'answer-text', dir: 'auto' }, answer.answer),
    h(
      'div',
      { class: 'answer-actions' },
      h('label', { class: 'check' }, toggle, ' On'),
      h('button', { type: 'button', class: 'button small', onclick: () => openEditor(answer) }, 'Edit'),
      h('button', { type: 'button', class: 'button small critical', onclick: (event) => remove(answer, event.currentTarget) }, 'Delete'),
    ),
  );
}

function render() {
  renderTabs();
  const list = $('answers');
  list.removeAttribute('aria-busy');
  const mine = answers.filter((a) => a.language === shown);
  if (!mine.length) {
    replace(list, h('p', { class: 'empty' }, `No answers in ${languageName(shown)} yet. Add one, or import what your store already has.`));
    return;
  }
  replace(list, h('ul', { class: 'answer-list' }, mine.map(answerCard)));
}

async function load() {
  try {
    const data = await api('GET', '/admin/api/answers');
    answers = data.answers;
    for (const input of document.querySelectorAll('input[name="mode"]')) input.checked = input.value === data.mode;
    $('mode-help').textContent = MODE_HELP[data.mode] || '';
    fillSelects();
    render();
  } catch (error) {
    $('answers').removeAttribute('aria-busy');
    replace($('answers'), h('p', { class: 'notice notice-warning', role: 'alert' }, error.message));
  }
}

async function save(id, change) {
  const data = await api('PUT', `/admin/api/answers/${id}`, change);
  answers = answers.map((a) => (a.id === id ? data.answer : a));
  render();
  return data.answer;
}

// Deleting asks twice on the button itself: the Saleor Dashboard's iframe may not allow
// window.confirm, and a dialog for one word is more than it needs.
async function remove(answer, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = 'Delete for good?';
    setTimeout(() => {
      if (!button.isConnected) return;
      delete button.dataset.confirm;
      button.textContent = 'Delete';
    }, 5000);
    return;
  }
  try {
    await api('DELETE', `/admin/api/answers/${answer.id}`);
    answers = answers.filter((a) => a.id !== answer.id);
    render();
    toast('Answer deleted');
  } catch (error) {
    toast(error.message, { error: true });
  }
}

// -- the editor ------------------------------------------------------------------------------

function clearErrors() {
  for (const el of $('editor-form').querySelectorAll('[data-error-for]')) {
    el.hidden = true;
    el.textContent = '';
  }
}

function showError(error) {
  const form = $('editor-form');
  const target = form.querySelector(`[data-error-for="${error.field || ''}"]`) || form.querySelector('[data-error-for=""]');
  target.textContent = error.message;
  target.hidden = false;
}

function openEditor(answer) {
  editing = answer;
  clearErrors();
  $('editor-title').textContent = answer ? 'Edit the answer' : 'Add an answer';
  languageOptions($('edit-language'), answer ? answer.language : shown);
  $('edit-question').value = answer ? answer.question : '';
  $('edit-alternatives').value = answer ? answer.alternatives.join('\n') : '';
  $('edit-answer').value = answer ? answer.answer : '';
  $('edit-enabled').checked = answer ? answer.enabled : true;
  $('editor').showModal();
  $('edit-question').focus();
}

$('editor-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const body = {
    language: $('edit-language').value,
    question: $('edit-question').value,
    alternatives: $('edit-alternatives').value.split('\n').map((line) => line.trim()).filter(Boolean),
    answer: $('edit-answer').value,
    enabled: $('edit-enabled').checked,
  };
  const button = $('edit-save');
  button.disabled = true;
  try {
    if (editing) {
      await save(editing.id, body);
    } else {
      const data = await api('POST', '/admin/api/answers', body);
      answers = [...answers, data.answer];
    }
    shown = body.language;
    $('editor').close();
    render();
    toast(editing ? 'Answer saved' : 'Answer added');
  } catch (error) {
    showError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)));
  } finally {
    button.disabled = false;
  }
});
$('edit-cancel').addEventListener('click', () => $('editor').close());
$('add-answer').addEventListener('click', () => openEditor(null));

// -- the mode ----------------------------------------------------------------------------------

$('mode').addEventListener('change', async (event) => {
  const mode = event.target.value;
  try {
    await api('PUT', '/admin/api/assistant', { mode });
    $('mode-help').textContent = MODE_HELP[mode];
    toast('Saved');
  } catch (error) {
    toast(error.message, { error: true });
  }
});

// -- the preview ---------------------------------------------------------------------------------

$('preview-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('preview-error');
  error.hidden = true;
  const result = $('preview-result');
  try {
    const decision = await api('POST', '/admin/api/answers/preview', {
      question: $('preview-question').value,
      language: $('preview-language').value,
    });
    const matched = answers.find((a) => a.id === decision.answer_id);
    replace(
      result,
      h(
        'div',
        { class: `preview preview-${decision.action}` },
        h('p', { class: 'preview-verdict' }, REASONS[decision.reason] || decision.reason),
        decision.text ? h('blockquote', { class: 'preview-reply', dir: 'auto' }, decision.text) : null,
        matched ? h('p', { class: 'subdued' }, 'Closest answer: ', h('span', { dir: 'auto' }, `“${matched.question}”`)) : null,
        decision.confidence !== null ? h('p', { class: 'subdued' }, `Confidence ${Math.round(decision.confidence * 100)} % (it answers from 75 %)`) : null,
        decision.why ? h('p', { class: 'subdued preview-why', dir: 'auto' }, decision.why) : null,
      ),
    );
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    replace(result);
  }
});

// -- the import ------------------------------------------------------------------------------------

function reportList(label, titles) {
  if (!titles.length) return null;
  return h('div', { class: 'report-group' }, h('h3', {}, `${label} (${titles.length})`), h('ul', {}, titles.map((t) => h('li', { dir: 'auto' }, t))));
}

$('import').addEventListener('click', async () => {
  const button = $('import');
  const out = $('import-report');
  button.disabled = true;
  replace(out, h('p', { class: 'subdued' }, 'Importing…'));
  try {
    const report = await api('POST', '/admin/api/answers/import', { language: $('import-language').value });
    const changed = report.added.length + report.updated.length + report.removed.length;
    replace(
      out,
      h('p', { class: 'notice notice-info' }, changed ? `Imported into ${languageName(report.language)}.` : 'Nothing changed since the last import.'),
      reportList('Added', report.added),
      reportList('Updated', report.updated),
      reportList('Removed (gone from the store)', report.removed),
      reportList('Unchanged', report.unchanged),
      reportList('Shortened to fit', report.shortened),
      reportList('Skipped', report.skipped.map((s) => `${s.title}: ${s.reason}`)),
    );
    shown = report.language;
    await load();
  } catch (error) {
    replace(out, h('p', { class: 'notice notice-warning', role: 'alert' }, error.message));
  } finally {
    button.disabled = false;
  }
});

wireNavigation();
load();
