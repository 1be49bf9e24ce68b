/** Collects one value per repetition for each figure, and turns them into medians and details. */
import { summarize } from './stats.mjs';

export class Recorder {
  /** @type {Record<string, Record<string, number[]>>} */
  values = {};

  /**
   * @param {string} scenario
   * @param {string} key
   * @param {number} value one repetition's value
   */
  add(scenario, key, value) {
    ((this.values[scenario] ??= {})[key] ??= []).push(value);
  }

  /**
   * @param {string} scenario
   * @param {string} key
   * @param {number[]} values
   */
  addAll(scenario, key, values) {
    for (const v of values) this.add(scenario, key, v);
  }

  /**
   * The medians by scenario, and `{ median, min, max, n }` of each in `detail`.
   * @returns {{ medians: Record<string, Record<string, number>>,
   *   detail: Record<string, Record<string, ReturnType<typeof summarize>>> }}
   */
  summary() {
    /** @type {Record<string, Record<string, number>>} */
    const medians = {};
    /** @type {Record<string, Record<string, ReturnType<typeof summarize>>>} */
    const detail = {};
    for (const [scenario, keys] of Object.entries(this.values)) {
      for (const [key, values] of Object.entries(keys)) {
        const s = summarize(values);
        (medians[scenario] ??= {})[key] = s.median;
        (detail[scenario] ??= {})[key] = s;
      }
    }
    return { medians, detail };
  }
}
