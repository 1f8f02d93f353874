// The Klyph dashboard: sign in with an API key, projects and their videos, browser upload,
// Generate (a form built from the OpenAPI schema), live progress, the clips, and webhooks.
import { Api, ApiError, openapi } from './api.js';
import { bytes, copyText, el, replace, seconds, when } from './dom.js';
import { enumOf, schemaForm } from './form.js';

// sessionStorage: the key lives as long as the tab, never in a URL, a cookie or localStorage.
const KEY_NAME = 'klyph.apiKey';
const POLL_MS = 1000;

const state = {
  api: null, account: null, doc: null, project: null, video: null, timers: new Set(),
};

const $ = (id) => document.getElementById(id);

function message(text, kind = 'error') {
  const box = $('message');
  box.textContent = text || '';
  box.className = `message ${kind}`;
  box.hidden = !text;
}

function failure(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut('That API key was not accepted: sign in again.');
    return;
  }
  message(err.message || String(err));
}

// Run an action from a button: errors become the page's message, the button is busy meanwhile.
function action(fn) {
  return async (event) => {
    event.preventDefault();
    const button = event.submitter || event.currentTarget;
    if (button && 'disabled' in button) button.disabled = true;
    message('');
    try { await fn(event); } catch (err) { failure(err); } finally {
      if (button && 'disabled' in button) button.disabled = false;
    }
  };
}

function stopTimers() {
  for (const t of state.timers) clearTimeout(t);
  state.timers.clear();
}

function later(fn, ms) {
  const t = setTimeout(() => { state.timers.delete(t); fn(); }, ms);
  state.timers.add(t);
}

// --- sign in ------------------------------------------------------------------------------

function signInView(note) {
  $('nav').hidden = true;
  $('account').hidden = true;
  const input = el('input', {
    id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'klyph_sk_…', required: true,
  });
  const form = el('form', { id: 'sign-in', class: 'card narrow', onsubmit: action(async () => signIn(input.value.trim())) },
    el('h1', { text: 'Sign in' }),
    el('p', { class: 'muted', text: 'Paste an API key (make api-key prints one). It stays in this tab only.' }),
    input,
    el('button', { type: 'submit', text: 'Sign in' }));
  replace($('main'), form);
  if (note) message(note, 'info');
  input.focus();
}

async function signIn(key) {
  if (!key) return;
  const api = new Api(key);
  const account = await api.account();
  sessionStorage.setItem(KEY_NAME, key);
  state.api = api;
  state.account = account;
  $('account-id').textContent = account.accountId;
  $('account').hidden = false;
  $('nav').hidden = false;
  message('');
  route();
}

function signOut(note) {
  stopTimers();
  sessionStorage.removeItem(KEY_NAME);
  state.api = null;
  state.account = null;
  window.location.hash = '';
  signInView(note);
}

// --- routing: #p=<project>&v=<video> or #settings ----------------------------------------

function route() {
  if (!state.api) return;
  stopTimers();
  const hash = window.location.hash.replace(/^#/, '');
  if (hash === 'settings') {
    settingsView().catch(failure);
    return;
  }
  const params = new URLSearchParams(hash);
  projectsView(params.get('p'), params.get('v')).catch(failure);
}

function go(projectId, videoId) {
  const params = new URLSearchParams();
  if (projectId) params.set('p', projectId);
  if (videoId) params.set('v', videoId);
  const next = `#${params}`;
  if (window.location.hash === next) route();
  else window.location.hash = next;
}

// --- projects and videos ------------------------------------------------------------------

async function allPages(fetchPage, field) {
  const items = [];
  let cursor;
  do {
    const page = await fetchPage(cursor);
    items.push(...page[field]);
    cursor = page.cursor;
  } while (cursor && items.length < 1000);
  return items;
}

async function projectsView(projectId, videoId) {
  const projects = await allPages((c) => state.api.projects(state.account.accountId, c), 'projects');
  const name = el('input', { id: 'project-name', placeholder: 'New project name', maxlength: 200, required: true });
  const list = el('ul', { id: 'projects', class: 'list' },
    projects.map((p) => el('li', { class: p.id === projectId ? 'selected' : '' },
      el('a', { href: `#p=${encodeURIComponent(p.id)}`, class: 'project-link', text: p.name }))));
  if (!projects.length) list.append(el('li', { class: 'muted', text: 'No projects yet.' }));
  const aside = el('aside', { class: 'panel' },
    el('h2', { text: 'Projects' }),
    el('form', {
      id: 'create-project', class: 'inline',
      onsubmit: action(async () => {
        const created = await state.api.createProject(state.account.accountId, name.value.trim());
        go(created.id);
      }),
    }, name, el('button', { type: 'submit', text: 'Create' })),
    list);
  const content = el('section', { class: 'content', id: 'content' });
  replace($('main'), el('div', { class: 'layout' }, aside, content));
  const project = projects.find((p) => p.id === projectId);
  state.project = project || null;
  if (!project) {
    replace(content, el('div', { class: 'card empty' },
      el('h2', { text: projects.length ? 'Choose a project' : 'Create your first project' }),
      el('p', { class: 'muted', text: 'Projects hold videos; each video gives clips.' })));
    return;
  }
  await projectDetail(content, project, videoId);
}

async function projectDetail(content, project, videoId) {
  const videos = await allPages((c) => state.api.videos(project.id, c), 'videos');
  const file = el('input', { id: 'video-file', type: 'file', accept: 'video/*,.mp4,.mov,.mkv,.webm', required: true });
  const bar = el('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true });
  const status = el('span', { id: 'upload-status', class: 'muted' });
  const upload = el('form', {
    id: 'upload', class: 'inline',
    onsubmit: action(async () => {
      const chosen = file.files[0];
      if (!chosen) return;
      bar.hidden = false;
      const ticket = await state.api.upload(state.account.accountId, project.id, chosen, (share) => {
        bar.value = share;
        status.textContent = `Uploading ${chosen.name}: ${Math.round(share * 100)}%`;
      });
      status.textContent = 'Uploaded; checking the video…';
      go(project.id, ticket.videoId);
    }),
  }, file, el('button', { type: 'submit', text: 'Upload' }), bar, status);

  const rows = videos.map((v) => el('tr', { class: v.id === videoId ? 'selected' : '', 'data-video': v.id },
    el('td', {}, el('a', { href: `#p=${encodeURIComponent(project.id)}&v=${encodeURIComponent(v.id)}`, text: v.title })),
    el('td', {}, el('span', { class: `status ${v.status}`, text: v.status })),
    el('td', { text: seconds(v.durationSeconds) }),
    el('td', { text: bytes(v.sizeBytes) }),
    el('td', { class: 'muted', text: when(v.createdAt) }),
    el('td', {}, el('button', {
      type: 'button', class: 'small ghost', text: 'Delete',
      onclick: action(async () => {
        if (!window.confirm(`Delete the video “${v.title}” and its clips?`)) return;
        await state.api.deleteVideo(v.id);
        go(project.id);
      }),
    }))));
  const table = videos.length
    ? el('table', { id: 'videos', class: 'table' },
      el('thead', {}, el('tr', {}, ['Video', 'Status', 'Length', 'Size', 'Added', ''].map((h) => el('th', { text: h })))),
      el('tbody', {}, rows))
    : el('p', { class: 'muted', text: 'No videos yet: upload one.' });

  const detail = el('div', { id: 'video-detail' });
  replace(content,
    el('div', { class: 'card' },
      el('div', { class: 'title-row' },
        el('h2', { id: 'project-title', text: project.name }),
        el('button', {
          type: 'button', class: 'small ghost', text: 'Delete project',
          onclick: action(async () => {
            if (!window.confirm(`Delete the project “${project.name}”?`)) return;
            await state.api.deleteProject(project.id);
            go();
          }),
        })),
      el('p', { class: 'muted' }, 'Project id ', el('code', { text: project.id })),
      upload, table),
    detail);
  const listed = videos.find((v) => v.id === videoId);
  if (listed) await videoDetail(detail, listed);
}

// --- one video: the probe's verdict, Generate, progress, clips -------------------------------

async function videoDetail(box, video) {
  state.video = video;
  const verdict = el('p', { id: 'verdict' });
  const generate = el('div', { id: 'generate' });
  const progress = el('div', { id: 'progress' });
  const clips = el('div', { id: 'clips' });
  replace(box, el('div', { class: 'card' },
    el('h3', { id: 'video-title', text: video.title }), verdict, generate, progress), clips);

  if (video.status === 'uploading') {
    // The upload trigger probes the file; poll the summary, then redraw with its verdict.
    verdict.textContent = 'Checking the upload…';
    const poll = async () => {
      const { video: now } = await state.api.summary(video.id);
      if (now.status === 'uploading') later(() => poll().catch(failure), POLL_MS);
      else route();
    };
    later(() => poll().catch(failure), POLL_MS);
    return;
  }
  const callId = video.currentCallId;
  if (video.status === 'failed' && !callId) {
    verdict.className = 'verdict failed';
    verdict.textContent = `This video cannot be used: ${video.error ? video.error.message : 'the probe refused it'}`;
    return;
  }
  verdict.className = 'verdict ok';
  verdict.textContent = video.durationSeconds
    ? `Ready to submit: ${seconds(video.durationSeconds)}, ${video.width}×${video.height}${video.hasAudio ? '' : ', no audio'}.`
    : 'Ready to submit.';
  await generateForm(generate, progress, clips, video);
  if (callId) await followJob(progress, clips, video.id, callId);
  else await showClips(clips, video.id);
}

async function generateForm(box, progress, clips, video) {
  if (!state.doc) state.doc = await openapi();
  const { fields, read } = schemaForm(state.doc, 'SubmitJob', ['videoId']);
  const form = el('form', {
    id: 'generate-form', class: 'grid-form',
    onsubmit: action(async () => {
      const submitted = await state.api.submit({ videoId: video.id, ...read(form) });
      await followJob(progress, clips, video.id, submitted.callId);
    }),
  }, fields, el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'generate-button', text: 'Generate clips' })));
  replace(box, el('details', { open: true }, el('summary', { text: 'Generate' }), form));
}

async function followJob(box, clips, videoId, callId, watched = false) {
  stopTimers();
  const { status, data } = await state.api.result(callId);
  if (status !== 202 && watched) {
    route(); // finished while watched: redraw, so the video's row shows its new status too
    return;
  }
  if (status === 202) {
    const done = data.progress ? data.progress.clipsDone : 0;
    const total = data.progress ? data.progress.clipsTotal : 0;
    replace(box, el('div', { class: 'job running', id: 'job-running' },
      el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      el('strong', { text: `Working: ${data.stage}` }),
      total ? el('span', { text: ` · ${done} of ${total} clips` }) : null,
      total ? el('progress', { max: total, value: done }) : null));
    later(() => followJob(box, clips, videoId, callId, true).catch(failure), POLL_MS);
    return;
  }
  const parts = [];
  if (data.status === 'failed') {
    parts.push(el('p', { class: 'verdict failed', id: 'job-error', text: `The job failed: ${data.error.message}` }));
  } else {
    parts.push(el('p', { class: 'verdict ok', id: 'job-done', text: `Done: ${data.clips.length} clip${data.clips.length === 1 ? '' : 's'}.` }));
  }
  if (data.notes && data.notes.length) {
    parts.push(el('ul', { class: 'notes', id: 'job-notes' }, data.notes.map((n) => el('li', { text: n }))));
  }
  // The verdict and the clips appear together: a "Done" line never shows above an empty grid.
  const grid = await clipGrid(videoId);
  replace(box, parts);
  replace(clips, grid);
}

async function showClips(box, videoId) {
  replace(box, await clipGrid(videoId));
}

async function clipGrid(videoId) {
  const { clips } = await state.api.clips(videoId);
  if (!clips.length) return [];
  return [el('h3', { text: 'Clips' }), el('div', { class: 'clip-grid' }, clips.map((c) => clipCard(c, videoId)))];
}

// --- editing a clip: new boundaries or title (update-clip), misheard words (update-transcript) --

// An edit renders the clip again as a new version: follow its call, then redraw the clips.
async function afterEdit(videoId, callId, note) {
  note.textContent = 'Rendering the new version…';
  for (;;) {
    const { status, data } = await state.api.result(callId);
    if (status !== 202) {
      if (data.status === 'failed') throw new Error(`The new version failed: ${data.error.message}`);
      break;
    }
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
  }
  replace($('clips'), await clipGrid(videoId));
}

function editPanel(clip, videoId) {
  const note = el('p', { class: 'muted edit-note' });
  const start = el('input', { type: 'number', name: 'startSeconds', step: '0.01', min: 0, value: clip.start_seconds });
  const end = el('input', { type: 'number', name: 'endSeconds', step: '0.01', min: 0, value: clip.end_seconds });
  const title = el('input', { type: 'text', name: 'title', maxlength: 200, value: clip.title || '' });
  const bounds = el('form', {
    class: 'edit-clip grid-form',
    onsubmit: action(async () => {
      const body = { clipId: clip.id };
      if (Number(start.value) !== clip.start_seconds) body.startSeconds = Number(start.value);
      if (Number(end.value) !== clip.end_seconds) body.endSeconds = Number(end.value);
      if (title.value.trim() && title.value.trim() !== clip.title) body.title = title.value.trim();
      if (Object.keys(body).length === 1) { note.textContent = 'Nothing changed.'; return; }
      const { callId } = await state.api.updateClip(body);
      await afterEdit(videoId, callId, note);
    }),
  },
  el('label', { class: 'field' }, el('span', { class: 'field-name', text: 'Start (s)' }), start),
  el('label', { class: 'field' }, el('span', { class: 'field-name', text: 'End (s)' }), end),
  el('label', { class: 'field wide' }, el('span', { class: 'field-name', text: 'Title' }), title),
  el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'small', text: 'Save as a new version' })));
  const words = el('div', { class: 'words' });
  const fix = el('button', {
    type: 'button', class: 'small ghost fix-words', text: 'Fix words',
    onclick: action(async () => {
      const transcript = await state.api.clipTranscript(clip.id);
      const inputs = transcript.words.map((w) => el('input', {
        type: 'text', value: w.text, 'data-index': w.index, 'data-text': w.text, size: Math.max(3, w.text.length),
        class: w.confidence < 0.5 ? 'word unsure' : 'word', title: `${w.start.toFixed(2)} s, confidence ${w.confidence.toFixed(2)}`,
      }));
      replace(words, el('form', {
        class: 'fix-words-form',
        onsubmit: action(async () => {
          const changed = inputs.filter((i) => i.value.trim() && i.value.trim() !== i.dataset.text)
            .map((i) => ({ index: Number(i.dataset.index), text: i.value.trim() }));
          if (!changed.length) { note.textContent = 'No word changed.'; return; }
          const { callId } = await state.api.updateTranscript(clip.id, changed);
          await afterEdit(videoId, callId, note);
        }),
      }, el('p', { class: 'muted', text: 'Words the transcriber was unsure of are marked; timings stay as they are.' }),
      el('div', { class: 'word-list' }, inputs),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'small', text: 'Save the words' }))));
    }),
  });
  return el('div', { class: 'edit-panel', hidden: true }, bounds, fix, words, note);
}

function clipCard(clip, videoId) {
  const card = baseCard(clip);
  if (clip.status !== 'ready') return card;
  const panel = editPanel(clip, videoId);
  card.querySelector('.links').append(el('button', {
    type: 'button', class: 'small ghost edit', text: 'Edit', onclick: () => { panel.hidden = !panel.hidden; },
  }));
  card.append(panel);
  return card;
}

// Take the clip into an editor: a timeline (Final Cut's FCPXML, OpenTimelineIO, a CMX 3600 EDL)
// that points at the source by its file name, downloaded through the API.
const EXPORT_FORMATS = [['fcpxml', 'Final Cut (FCPXML)'], ['otio', 'OpenTimelineIO'], ['edl', 'EDL (CMX 3600)']];

function exportControl(clip) {
  const format = el('select', { class: 'export-format', 'aria-label': 'Timeline format' },
    EXPORT_FORMATS.map(([value, text]) => el('option', { value, text })));
  const button = el('button', {
    type: 'button', class: 'small ghost export', text: 'Export',
    onclick: async () => {
      button.disabled = true;
      try {
        const { blob, filename } = await state.api.exportClip(clip.id, format.value);
        const link = el('a', { href: URL.createObjectURL(blob), download: filename });
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      } catch (error) {
        button.title = error.message;
      } finally {
        button.disabled = false;
      }
    },
  });
  return el('span', { class: 'export-control' }, format, button);
}

function baseCard(clip) {
  const frame = el('div', { class: `frame ratio-${clip.aspect_ratio.replace(':', 'x')}` });
  const play = () => {
    const video = el('video', {
      controls: true, autoplay: true, playsinline: true, crossorigin: 'anonymous', src: clip.preview_url,
      poster: clip.thumbnail_url || undefined, class: 'player',
    });
    if (clip.captions_vtt_url) {
      video.append(el('track', {
        kind: 'subtitles', src: clip.captions_vtt_url, srclang: clip.language || 'und',
        // Off at first: clips rendered with captions already show them burned into the frame.
        label: clip.language ? `Captions (${clip.language})` : 'Captions',
      }));
    }
    replace(frame, video);
  };
  if (clip.status === 'ready' && clip.thumbnail_url) {
    frame.append(el('img', { src: clip.thumbnail_url, alt: '', loading: 'lazy' }),
      el('button', { type: 'button', class: 'play', 'aria-label': `Play ${clip.title}`, text: '▶', onclick: play }));
  } else if (clip.status === 'ready') {
    frame.append(el('button', { type: 'button', class: 'play', text: '▶', onclick: play }));
  } else {
    frame.append(el('span', { class: 'muted', text: clip.status === 'failed' ? 'Not rendered' : 'Rendering…' }));
  }
  const meta = el('p', { class: 'meta' },
    el('span', { text: seconds(clip.duration_seconds ?? clip.end_seconds - clip.start_seconds) }),
    clip.score !== null && clip.score !== undefined ? el('span', { text: `score ${Number(clip.score.toFixed(1))}` }) : null,
    el('span', { text: clip.aspect_ratio }),
    clip.version > 1 ? el('span', { class: 'version', text: `version ${clip.version}` }) : null,
    clip.pending_version ? el('span', { class: 'muted', text: `version ${clip.pending_version} rendering` }) : null,
    el('span', { class: `status ${clip.status}`, text: clip.status }));
  const links = clip.status === 'ready' ? el('p', { class: 'links' },
    el('a', { href: clip.preview_url, download: '', class: 'download-mp4', target: '_blank', rel: 'noopener', text: 'MP4' }),
    clip.captions_srt_url ? el('a', { href: clip.captions_srt_url, download: '', target: '_blank', rel: 'noopener', text: 'SRT' }) : null,
    clip.captions_vtt_url ? el('a', { href: clip.captions_vtt_url, download: '', target: '_blank', rel: 'noopener', text: 'VTT' }) : null,
    el('button', { type: 'button', class: 'small ghost', text: 'Copy title', onclick: (e) => copyText(clip.title, e.currentTarget) }),
    clip.description ? el('button', {
      type: 'button', class: 'small ghost', text: 'Copy description',
      onclick: (e) => copyText([clip.description, (clip.hashtags || []).join(' ')].filter(Boolean).join('\n\n'), e.currentTarget),
    }) : null,
    exportControl(clip)) : null;
  return el('article', { class: 'clip', 'data-clip': clip.id, 'data-duration': clip.duration_seconds ?? '' },
    frame,
    el('h4', { class: 'clip-title', text: clip.title }),
    meta,
    clip.reason ? el('p', { class: 'reason', text: clip.reason }) : null,
    clip.error ? el('p', { class: 'verdict failed', text: clip.error.message }) : null,
    links);
}

// --- settings: the account id and webhooks -------------------------------------------------

async function settingsView() {
  if (!state.doc) state.doc = await openapi();
  const { webhooks } = await state.api.webhooks(state.account.accountId);
  const url = el('input', { id: 'webhook-url', type: 'url', placeholder: 'https://example.com/klyph', required: true });
  const events = enumOf(state.doc, 'CreateWebhook', 'events').map((name) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', name: 'events', value: name, checked: true }), ` ${name}`));
  const created = el('div', { id: 'webhook-created' });
  const form = el('form', {
    id: 'create-webhook', class: 'inline',
    onsubmit: action(async () => {
      const chosen = [...form.querySelectorAll('input[name=events]:checked')].map((i) => i.value);
      const hook = await state.api.createWebhook({ accountId: state.account.accountId, url: url.value.trim(), events: chosen });
      await settingsView();
      const secret = el('code', { id: 'webhook-secret', text: hook.secret });
      replace($('webhook-created'), el('div', { class: 'secret' },
        el('p', {}, el('strong', { text: 'Signing secret, shown this once: ' }), secret,
          el('button', { type: 'button', class: 'small', text: 'Copy', onclick: (e) => copyText(hook.secret, e.currentTarget) })),
        el('p', { class: 'muted', text: 'Keep it with the receiver: Klyph never shows it again.' })));
    }),
  }, url, events, el('button', { type: 'submit', text: 'Add webhook' }));
  const deliveries = el('div', { id: 'deliveries' });
  const rows = webhooks.map((h) => el('tr', {},
    el('td', {}, el('code', { text: h.url })),
    el('td', { text: h.events.join(', ') }),
    el('td', { class: 'muted', text: when(h.createdAt) }),
    el('td', {},
      el('button', { type: 'button', class: 'small', text: 'Deliveries', onclick: action(() => showDeliveries(deliveries, h)) }),
      ' ',
      el('button', {
        type: 'button', class: 'small ghost', text: 'Delete',
        onclick: action(async () => {
          if (!window.confirm(`Delete the webhook to ${h.url}?`)) return;
          await state.api.deleteWebhook(h.id);
          await settingsView();
        }),
      }))));
  const accountCopy = el('button', {
    type: 'button', class: 'small', text: 'Copy', onclick: (e) => copyText(state.account.accountId, e.currentTarget),
  });
  replace($('main'), el('div', { class: 'stack' },
    el('div', { class: 'card' },
      el('h2', { text: 'Workspace' }),
      el('p', {}, el('span', { class: 'muted', text: 'Name ' }), el('span', { text: state.account.name })),
      el('p', {}, el('span', { class: 'muted', text: 'Account id ' }), el('code', { id: 'settings-account-id', text: state.account.accountId }), ' ', accountCopy),
      el('p', { class: 'muted', text: 'Requests name this id (accountId, account_id).' })),
    el('div', { class: 'card' },
      el('h2', { text: 'Webhooks' }),
      form, created,
      webhooks.length
        ? el('table', { class: 'table', id: 'webhooks' },
          el('thead', {}, el('tr', {}, ['URL', 'Events', 'Added', ''].map((t) => el('th', { text: t })))),
          el('tbody', {}, rows))
        : el('p', { class: 'muted', text: 'No webhooks yet.' })),
    deliveries));
}

async function showDeliveries(box, hook) {
  const { deliveries } = await state.api.deliveries(hook.id);
  const rows = deliveries.map((d) => {
    const last = d.attempts[d.attempts.length - 1];
    const answer = last ? (last.statusCode ? `HTTP ${last.statusCode}` : last.error || '') : '';
    return el('tr', {},
      el('td', { class: 'muted', text: when(d.createdAt) }),
      el('td', { text: d.type }),
      el('td', {}, el('span', { class: `status ${d.status}`, text: d.status })),
      el('td', { text: String(d.attempts.length) }),
      el('td', { text: answer }),
      el('td', { class: 'muted', text: d.nextAttemptAt ? `next ${when(d.nextAttemptAt)}` : '' }));
  });
  replace(box, el('div', { class: 'card' },
    el('h2', {}, 'Recent deliveries to ', el('code', { text: hook.url })),
    deliveries.length
      ? el('table', { class: 'table' },
        el('thead', {}, el('tr', {}, ['Created', 'Event', 'Status', 'Attempts', 'Last answer', ''].map((t) => el('th', { text: t })))),
        el('tbody', {}, rows))
      : el('p', { class: 'muted', text: 'Nothing sent yet.' })));
}

// --- start ---------------------------------------------------------------------------------

function start() {
  $('copy-account').addEventListener('click', (e) => copyText(state.account.accountId, e.currentTarget));
  $('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', route);
  const key = sessionStorage.getItem(KEY_NAME);
  if (key) signIn(key).catch(() => signOut('Sign in again.'));
  else signInView();
}

start();
