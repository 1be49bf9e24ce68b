/**
 * After the whole suite: no container of the platform may be left on the engine. Every test
 * removes what it starts; this catches the ones that did not.
 */
import Docker from 'dockerode';

export async function teardown(): Promise<void> {
  const docker = new Docker();
  const left = await docker
    .listContainers({ all: true, filters: { label: ['faas.platform'] } })
    .catch(() => [] as Docker.ContainerInfo[]);
  if (left.length > 0) {
    const names = left.map((c) => `${c.Names[0]} (${c.State})`).join(', ');
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    throw new Error(`the test suite left ${left.length} platform container(s) behind: ${names}`);
  }
}
