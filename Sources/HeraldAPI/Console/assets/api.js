// The management API, as the logged-in token sees it. The console keeps
// the token in sessionStorage (gone with the tab) and sends it as a bearer
// token; it holds no other state and applies no rule the API does not.

const TOKEN = 'herald.token';
const TEAM = 'herald.team';

export class APIError extends Error {
  constructor(status, field, message) {
    // The API starts a message with its field's path ("config.url: ..."); the console shows where instead.
    super(field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
    this.status = status;
    this.field = field;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  /** Whom the token acts for: {admin, team}; filled by `login`. */
  caller: null,
  /** The teams an admin may pick from. */
  teams: [],
  /** The team whose objects the pages show. */
  get team() { return this.caller?.admin ? sessionStorage.getItem(TEAM) : this.caller?.team; },
  set team(name) { sessionStorage.setItem(TEAM, name); },
};

export async function login(token) {
  sessionStorage.setItem(TOKEN, token);
  try {
    await restore();
  } catch (error) {
    logout();
    throw error;
  }
}

/** Reads who the stored token acts for; throws when there is none. */
export async function restore() {
  session.caller = await api('GET', '/api/v1/whoami');
  if (session.caller.admin) {
    session.teams = (await api('GET', '/api/v1/teams')).map((team) => team.name);
    if (!session.teams.includes(session.team) && session.teams.length > 0) session.team = session.teams[0];
  }
}

export function logout() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(TEAM);
  session.caller = null;
}

/** A path with `?team=` added for an admin, so lists show one team's objects (the picked team's, or `team`). */
export function scoped(path, team = session.team) {
  if (!session.caller?.admin || !team) return path;
  return `${path}${path.includes('?') ? '&' : '?'}team=${encodeURIComponent(team)}`;
}

/** A body with the team an admin acts for: the picked one, or the edited item's (a team's token implies its own). */
export function withTeam(body, team = session.team) {
  return session.caller?.admin ? { ...body, team } : body;
}

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${session.token ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new APIError(response.status, error.field ?? null, error.message ?? `HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  return data;
}

/** Fetches a file with the token and hands it to the browser as a download. */
export async function download(path, filename) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${session.token ?? ''}` } });
  if (!response.ok) throw new APIError(response.status, null, `download failed: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

let channels;
/** The loaded plugins (name, version, description, schema), read once per page load. */
export async function loadChannels() {
  channels ??= await api('GET', '/api/v1/channels');
  return channels;
}

export const levels = ['Critical', 'Error', 'Warning', 'Info', 'Recovery'];
