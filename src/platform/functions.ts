import { EventEmitter } from 'node:events';
import { specOfVersion } from '../deploy/spec.js';
import type { DeployChange, DeployState } from '../deploy/state.js';
import type { FunctionSpec } from '../manifest/types.js';

/** What a deploy changed, as the roles see it: specs with their versions. */
export interface FunctionsChange {
  added: FunctionSpec[];
  changed: Array<{ from: FunctionSpec; to: FunctionSpec }>;
  removed: FunctionSpec[];
}

/**
 * The functions this process serves, each at its current version, read from the deploy state:
 * the one thing every role asks for a function's settings. It changes as a whole when a deploy,
 * rollback or removal lands, and tells its listeners what changed.
 * @example live.on('change', ({ added }) => added.forEach(startWorker)); live.get('resize');
 */
export class LiveFunctions extends EventEmitter<{ change: [FunctionsChange] }> {
  private byName: Record<string, FunctionSpec> = {};
  private list: FunctionSpec[] = [];

  constructor(state: DeployState) {
    super();
    this.set([...state.versions().values()].map(specOfVersion));
    state.on('change', (c) => this.apply(c));
  }

  get(name: string): FunctionSpec | undefined {
    return Object.hasOwn(this.byName, name) ? this.byName[name] : undefined;
  }

  /** Every function, by name (a new object after each change; never mutated). */
  record(): Readonly<Record<string, FunctionSpec>> {
    return this.byName;
  }

  all(): readonly FunctionSpec[] {
    return this.list;
  }

  private set(specs: FunctionSpec[]): void {
    specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.list = specs;
    this.byName = Object.fromEntries(specs.map((s) => [s.name, s]));
  }

  private apply(c: DeployChange): void {
    const change: FunctionsChange = {
      added: c.added.map(specOfVersion),
      changed: c.changed.map(({ from, to }) => ({ from: specOfVersion(from), to: specOfVersion(to) })),
      removed: c.removed.map((r) => this.get((r.spec as FunctionSpec).name) ?? specOfVersion(r)),
    };
    const next = new Map(this.list.map((s) => [s.name, s]));
    for (const s of change.added) next.set(s.name, s);
    for (const { to } of change.changed) next.set(to.name, to);
    for (const s of change.removed) next.delete(s.name);
    this.set([...next.values()]);
    this.emit('change', change);
  }
}
