/**
 * The engine's answers, checked before use: a field of the wrong type (an engine of another
 * make, a proxy in between, a broken answer) is an error, never a crash elsewhere. Objects are
 * built afresh (Object.fromEntries), so a label named `__proto__` stays a label.
 */

/** What the pool reads of a container's state. */
export interface ContainerState {
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
}

export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
}

export interface ImageSummary {
  /** Seconds since the epoch. */
  created: number;
  labels: Record<string, string>;
  repoTags: string[];
}

/** JSON from the engine; a malformed answer is an error that names the request. */
export function parseJson(raw: Buffer, request: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new Error(`the Docker engine's answer to ${request} is not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(what: string): Error {
  return new Error(`the Docker engine's answer is malformed: ${what}`);
}

/** String labels only; null (no labels) is none. */
function labelsOf(value: unknown, what: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (!isObject(value)) throw malformed(`${what} labels are not an object`);
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

export function parseContainerState(value: unknown): ContainerState {
  const state = isObject(value) ? value.State : undefined;
  if (!isObject(state)) throw malformed('a container without State');
  const { Running, ExitCode, OOMKilled } = state;
  if (typeof Running !== 'boolean' || typeof ExitCode !== 'number' || typeof OOMKilled !== 'boolean') {
    throw malformed('a container State without Running, ExitCode or OOMKilled');
  }
  return { running: Running, exitCode: ExitCode, oomKilled: OOMKilled };
}

export function parseContainerList(value: unknown): ContainerSummary[] {
  if (!Array.isArray(value)) throw malformed('the container list is not a list');
  return value.map((c: unknown) => {
    if (!isObject(c) || typeof c.Id !== 'string') throw malformed('a listed container without Id');
    return { id: c.Id, labels: labelsOf(c.Labels, 'a container') };
  });
}

export function parseImageList(value: unknown): ImageSummary[] {
  if (!Array.isArray(value)) throw malformed('the image list is not a list');
  return value.map((i: unknown) => {
    if (!isObject(i) || typeof i.Created !== 'number') throw malformed('a listed image without Created');
    const tags = Array.isArray(i.RepoTags)
      ? i.RepoTags.filter((t): t is string => typeof t === 'string')
      : [];
    return { created: i.Created, labels: labelsOf(i.Labels, 'an image'), repoTags: tags };
  });
}
