/**
 * The CLI's HTTP client for a running platform: `FAAS_URL` (default http://127.0.0.1:$FAAS_PORT)
 * and `FAAS_API_TOKEN`. Errors say what to do.
 */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  static fromEnv(env: Record<string, string | undefined>): ApiClient {
    const base = env.FAAS_URL ?? `http://127.0.0.1:${env.FAAS_PORT ?? '8080'}`;
    return new ApiClient(base.replace(/\/$/, ''), env.FAAS_API_TOKEN);
  }

  async request(method: string, path: string, body?: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body });
    } catch {
      throw new Error(`no platform answers at ${this.base}: start it with \`faas up\` (or set FAAS_URL)`);
    }
    if (res.status === 401) throw new Error('the platform wants a token: set FAAS_API_TOKEN');
    return res;
  }

  async json<T>(method: string, path: string, body?: string): Promise<T> {
    const res = await this.request(method, path, body);
    const data = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
    if (!res.ok && res.status !== 502 && res.status !== 504) {
      throw new Error(data.error?.message ?? `${method} ${path} answered ${res.status}`);
    }
    return data;
  }
}

/** Runs a command's body, printing its error (not a stack) and setting the exit code. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.error(`faas: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
