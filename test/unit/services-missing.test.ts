import { describe, expect, it } from 'vitest';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

// Real connection attempts to ports and sockets where nothing listens: the error must name the fix.
describe('a missing service', () => {
  it('Redis: fails with the command that starts it', async () => {
    await expect(requireRedis('redis://127.0.0.1:1')).rejects.toThrow(
      /Redis is not reachable.*npm run services:up/,
    );
  });
  it('MinIO: fails with the command that starts it', async () => {
    await expect(requireMinio('http://127.0.0.1:1')).rejects.toThrow(
      /MinIO is not reachable.*npm run services:up/,
    );
  });
  it('Docker: fails with the command that starts it', async () => {
    await expect(requireDocker('/nonexistent/docker.sock')).rejects.toThrow(
      /Docker engine is not reachable.*npm run services:up/,
    );
  });
});
