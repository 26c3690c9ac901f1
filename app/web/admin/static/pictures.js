// Pictures in the Support page's thread: both sides' pictures shown in their bubbles, and
// the agent's upload (docs/admin-api.md). An <img> cannot carry the admin's token, so each
// picture is fetched with it once and shown from a blob URL, laid out at its proportions
// (width and height from the message) before it arrives.

import { api, authorisedFetch } from './api.js';
import { h, replace, uuid } from './ui.js';

const loaded = new Map(); // attachment id → Promise of its blob URL

export function pictureOf(message) {
  const picture = message && message.meta && message.meta.attachment;
  return picture && typeof picture === 'object' && picture.id ? picture : null;
}

function blobUrl(id) {
  if (!loaded.has(id)) {
    const url = authorisedFetch('GET', `/admin/api/attachments/${encodeURIComponent(id)}`)
      .then((response) => response.blob())
      .then((blob) => URL.createObjectURL(blob));
    url.catch(() => loaded.delete(id)); // tried again the next time the thread draws it
    loaded.set(id, url);
  }
  return loaded.get(id);
}

/** The picture of a message, opening full size in a new tab. */
export function pictureNode(picture) {
  const img = h('img', { class: 'thread-picture', alt: 'Picture', width: picture.width, height: picture.height });
  const link = h('a', { class: 'picture-link', target: '_blank', rel: 'noopener', title: 'Open the picture' }, img);
  blobUrl(picture.id).then(
    (url) => {
      img.src = url;
      link.href = url;
    },
    () => replace(link, h('span', { class: 'picture-missing' }, 'The picture could not be loaded.')),
  );
  return link;
}

/**
 * The attach button's file input: each picture chosen goes up at once as a message of the
 * conversation; until it is stored it shows from the file, and a refusal says why there.
 * `placed(message)` puts the stored message in the thread.
 */
export function wirePictureUpload({ input, thread, path, placed, toBottom }) {
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    input.value = '';
    if (file) upload(file);
  });

  async function upload(file) {
    const local = URL.createObjectURL(file);
    const status = h('span', { class: 'sending' }, 'Uploading…');
    const node = h(
      'li',
      { class: 'msg from-agent pending' },
      h('div', { class: 'bubble picture' }, h('img', { class: 'thread-picture', alt: 'Picture', src: local })),
      h('div', { class: 'msg-meta' }, h('span', {}, 'You'), status),
    );
    thread.append(node);
    toBottom();
    try {
      const data = await api('POST', `${path}?client_id=${encodeURIComponent(uuid())}`, file);
      node.remove();
      placed(data.message);
    } catch (error) {
      // Refused (not a picture, too large) or not sent: the reason where the picture was.
      node.classList.replace('pending', 'failed');
      replace(node.querySelector('.bubble'), file.name || 'Picture');
      node.querySelector('.bubble').classList.remove('picture');
      replace(
        status,
        h('span', { class: 'field-error-text', role: 'alert' }, error.message),
        ' ',
        h('button', { type: 'button', class: 'button plain small', onclick: () => node.remove() }, 'Dismiss'),
      );
      toBottom();
    } finally {
      URL.revokeObjectURL(local);
    }
  }
}
