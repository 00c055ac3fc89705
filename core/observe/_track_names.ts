/**
 * The metadata events of a Chrome JSON trace (`"ph":"M"`) that name a run's processes and tracks,
 * for the host and the datacenter recordings alike.
 *
 * @module
 */

/** The names of one run's processes and tracks, as metadata events. */
export class TrackNames {
  /** The events so far, one JSON object each. */
  readonly events: string[] = [];
  readonly #prefix: string;

  /** @param label The run's label among several in one file (prefixes its process names). */
  constructor(label: string | undefined) {
    this.#prefix = label === undefined ? "" : `${label}: `;
  }

  /** Names process `pid`, prefixed by the run's label, and sorts it by its pid. */
  process(pid: number, name: string): void {
    this.events.push(
      `{"ph":"M","pid":${pid},"name":"process_name","args":{"name":${
        JSON.stringify(this.#prefix + name)
      }}}`,
      `{"ph":"M","pid":${pid},"name":"process_sort_index","args":{"sort_index":${pid}}}`,
    );
  }

  /** Names track `tid` of process `pid`. */
  thread(pid: number, tid: number, name: string): void {
    this.events.push(
      `{"ph":"M","pid":${pid},"tid":${tid},"name":"thread_name","args":{"name":${
        JSON.stringify(name)
      }}}`,
    );
  }
}
