// The Klyph API as the page calls it: the same routes and bodies as curl, with the key in the
// Authorization header (never in a URL), relative to where the page is served (/api/app).

const BASE = new URL('./', window.location.href);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async call(method, path, { query, body } = {}) {
    const url = new URL(path, BASE);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
    }
    const headers = { Authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.message) || `HTTP ${response.status}`);
    }
    return { status: response.status, data };
  }

  async get(path, query) { return (await this.call('GET', path, { query })).data; }

  async post(path, body) { return (await this.call('POST', path, { body })).data; }

  account() { return this.get('dev/get-account'); }

  projects(accountId, cursor) { return this.get('dev/list-projects', { accountId, cursor }); }

  createProject(accountId, name) { return this.post('dev/create-project', { accountId, name }); }

  deleteProject(projectId) { return this.post('dev/delete-project', { projectId }); }

  videos(projectId, cursor) { return this.get('dev/list-videos', { projectId, cursor }); }

  deleteVideo(videoId) { return this.post('dev/delete-video', { videoId }); }

  summary(videoId) { return this.get('dev/video-summary', { videoId }); }

  submit(options) { return this.post('dev/process-video-submit', options); }

  // 202 while running (stage, progress), 200 once finished: both are answers, not errors.
  result(callId) { return this.call('GET', 'dev/process-video-result', { query: { callId } }); }

  clips(videoId) { return this.get('dev/list-clips', { videoId }); }

  updateClip(body) { return this.post('dev/update-clip', body); }

  clipTranscript(clipId) { return this.get('dev/clip-transcript', { clipId }); }

  updateTranscript(clipId, words) { return this.post('dev/update-transcript', { clipId, words }); }

  // export-clip answers the file itself (with the key in a header, so not a plain link):
  // { blob, filename } from its Content-Disposition.
  async exportClip(clipId, format) {
    const url = new URL('dev/export-clip', BASE);
    url.searchParams.set('clipId', clipId);
    url.searchParams.set('format', format);
    const response = await fetch(url, { headers: { Authorization: `Bearer ${this.key}` }, cache: 'no-store' });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).message || message; } catch { /* not JSON */ }
      throw new ApiError(response.status, message);
    }
    const named = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '');
    return { blob: await response.blob(), filename: named ? named[1] : `${clipId}.${format}` };
  }

  webhooks(accountId) { return this.get('dev/list-webhooks', { accountId }); }

  createWebhook(body) { return this.post('dev/create-webhook', body); }

  deleteWebhook(id) { return this.post('dev/delete-webhook', { id }); }

  deliveries(webhookId, cursor) { return this.get('dev/list-webhook-deliveries', { webhookId, cursor, limit: 20 }); }

  // create-upload, then the bytes straight to the presigned URL it hands out (S3, not the API:
  // no 10 MB gateway limit). XMLHttpRequest rather than fetch: it reports upload progress.
  async upload(accountId, projectId, file, onProgress) {
    const ticket = await this.post('dev/create-upload', {
      accountId, projectId, filename: file.name, sizeBytes: file.size,
    });
    await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(ticket.method, ticket.uploadUrl);
      for (const [name, value] of Object.entries(ticket.headers || {})) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new ApiError(xhr.status, `the upload was refused (HTTP ${xhr.status})`));
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload did not reach storage (network or CORS)')));
      xhr.send(file);
    });
    onProgress(1);
    return ticket;
  }
}

// The OpenAPI document the API serves: the Generate form is built from its SubmitJob schema.
export async function openapi() {
  const response = await fetch(new URL('openapi.json', BASE));
  if (!response.ok) throw new ApiError(response.status, 'the API description did not load');
  return response.json();
}
